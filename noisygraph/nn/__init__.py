"""PyG-style layers and losses."""
from noisygraph.nn.mcr2 import CodingRateReductionLoss, CodingRateReductionOutput
from noisygraph.nn.erase import ERASE, ERASETrainer
from noisygraph.nn.label_denoise import precorrect_labels, semantic_labels
from noisygraph.nn.logistic_regression import LogisticRegression

__all__ = ["CodingRateReductionLoss", "CodingRateReductionOutput", "ERASE", "ERASETrainer",
           "LogisticRegression", "precorrect_labels", "semantic_labels"]
