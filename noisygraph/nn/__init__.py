"""PyG-style layers and losses of noisygraph."""
from noisygraph.nn.mcr2 import CodingRateReductionLoss, CodingRateReductionOutput
from noisygraph.nn.propagation import APPNP, LabelPropagation
from noisygraph.nn.erase import ERASE
from noisygraph.nn.label_denoise import (label_propagation_semantic_labels, precorrect_labels,
                                         semantic_labels)
from noisygraph.nn.logistic_regression import LogisticRegression

__all__ = ["LabelPropagation", "APPNP", "CodingRateReductionLoss", "CodingRateReductionOutput",
           "ERASE", "LogisticRegression", "precorrect_labels",
           "semantic_labels", "label_propagation_semantic_labels"]
