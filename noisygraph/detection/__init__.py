"""Graph-aware label-issue detection (cleanlab-style, with graph evidence): which labels of
the training nodes are likely wrong. See ``docs/detection.md``."""
from noisygraph.detection.core import (COUNTS, EVIDENCE, RANKINGS, LabelIssues,
                                       confident_joint, detect_label_issues,
                                       find_label_issues, fit_weights, label_quality_scores)
from noisygraph.detection.graphcleaner import (GraphCleanerStyleResult,
                                               graphcleaner_style_detector)
from noisygraph.detection.oos import OutOfSamplePredictions, out_of_sample_predictions

__all__ = ["COUNTS", "EVIDENCE", "RANKINGS", "GraphCleanerStyleResult", "LabelIssues",
           "OutOfSamplePredictions", "confident_joint", "detect_label_issues",
           "find_label_issues", "fit_weights", "graphcleaner_style_detector",
           "label_quality_scores", "out_of_sample_predictions"]
