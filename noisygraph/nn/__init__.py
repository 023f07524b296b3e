"""PyG-style layers of noisygraph."""
from noisygraph.nn.propagation import APPNP, LabelPropagation

__all__ = ["LabelPropagation", "APPNP"]
