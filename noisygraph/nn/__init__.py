"""PyG-style layers and losses."""
from noisygraph.nn.mcr2 import CodingRateReductionLoss, CodingRateReductionOutput

__all__ = ["CodingRateReductionLoss", "CodingRateReductionOutput"]
