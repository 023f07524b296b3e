"""noisygraph: learning on graphs whose node labels are noisy, scarce or LLM-produced."""
from noisygraph._ops import backend

__version__ = "0.1.0"

__all__ = ["backend", "__version__"]
