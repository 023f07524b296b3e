"""PyG-style layers and losses of noisygraph."""
from noisygraph.nn.mcr2 import CodingRateReductionLoss, CodingRateReductionOutput
from noisygraph.nn.propagation import APPNP, LabelPropagation

__all__ = ["LabelPropagation", "APPNP", "CodingRateReductionLoss", "CodingRateReductionOutput"]
