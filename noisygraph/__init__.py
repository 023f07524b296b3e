"""noisygraph: learning on graphs whose node labels are noisy, scarce or LLM-produced."""
from noisygraph._ops import backend, has_kernel
from noisygraph import ops  # noqa: F401  (registers every op's autograd and fake kernel)

__version__ = "0.1.0"

__all__ = ["backend", "has_kernel", "ops", "__version__"]
