"""Graph-aware label-issue detection (cleanlab-style, with graph evidence): which labels of
the training nodes are likely wrong, and methods that train on the labels it keeps
(:data:`METHODS`: ``"detect-gcn"``, ``"detect-erase"``). See ``docs/detection.md``."""
from noisygraph.detection.core import (COUNTS, EVIDENCE, RANKINGS, LabelIssues,
                                       confident_joint, detect_label_issues,
                                       find_label_issues, fit_weights, label_quality_scores)
from noisygraph.detection.embedding import embedding_evidence, erase_embeddings
from noisygraph.detection.graphcleaner import (GraphCleanerStyleResult,
                                               graphcleaner_style_detector)
from noisygraph.detection.oos import OutOfSamplePredictions, out_of_sample_predictions
from noisygraph.detection.training import METHODS, WEIGHTINGS, DetectionERASE, DetectionGCN

__all__ = ["COUNTS", "EVIDENCE", "METHODS", "RANKINGS", "WEIGHTINGS", "DetectionERASE",
           "DetectionGCN", "GraphCleanerStyleResult", "LabelIssues", "OutOfSamplePredictions",
           "confident_joint", "detect_label_issues", "embedding_evidence", "erase_embeddings",
           "find_label_issues", "fit_weights",
           "graphcleaner_style_detector", "label_quality_scores", "out_of_sample_predictions"]
