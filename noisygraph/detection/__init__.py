"""Graph-aware label-issue detection (cleanlab-style, with graph evidence): which labels of
the training nodes are likely wrong. See ``docs/detection.md``."""
from noisygraph.detection.core import (EVIDENCE, RANKINGS, LabelIssues, confident_joint,
                                       detect_label_issues, find_label_issues,
                                       label_quality_scores)
from noisygraph.detection.graphcleaner import (GraphCleanerStyleResult,
                                               graphcleaner_style_detector)
from noisygraph.detection.oos import OutOfSamplePredictions, out_of_sample_predictions

__all__ = ["EVIDENCE", "RANKINGS", "GraphCleanerStyleResult", "LabelIssues",
           "OutOfSamplePredictions", "confident_joint", "detect_label_issues",
           "find_label_issues", "graphcleaner_style_detector", "label_quality_scores",
           "out_of_sample_predictions"]
