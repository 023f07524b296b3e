r"""ERASE: "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise Tolerance"
(Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852): its trainer, its evaluation
protocols, the per-epoch history and its GCN baseline (re-exported from their shared
modules), and ERASE on confident-learning-cleaned labels (:class:`ConfidentERASE`). The encoder is the layer
:class:`noisygraph.nn.ERASE`."""
from noisygraph.erase.baseline import GCNBaseline
from noisygraph.erase.cleaned import ConfidentERASE, ERASEOnKeptLabels
from noisygraph.erase.history import History
from noisygraph.erase.protocols import (PROTOCOLS, check_noisy_validation, noisy_labels,
                                        selection_labels)
from noisygraph.erase.trainer import ERASETrainer, sparse_features
from noisygraph.nn.erase import ERASE

__all__ = ["ConfidentERASE", "ERASE", "ERASEOnKeptLabels", "ERASETrainer", "GCNBaseline", "History", "PROTOCOLS",
           "check_noisy_validation", "noisy_labels", "selection_labels", "sparse_features"]
