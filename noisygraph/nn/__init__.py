"""PyG-style layers and losses."""
from noisygraph.nn.erase import ERASE, ERASETrainer
from noisygraph.nn.label_denoise import precorrect_labels, semantic_labels
from noisygraph.nn.logistic_regression import LogisticRegression

__all__ = ["ERASE", "ERASETrainer", "LogisticRegression", "precorrect_labels",
           "semantic_labels"]
