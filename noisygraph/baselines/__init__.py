"""Baselines the methods are compared with, on one shared GCN trainer: plain cross-entropy,
the robust-training strategies and the cleaning baselines (:mod:`noisygraph.baselines.cleaning`),
all of one class, :class:`~noisygraph.baselines.Baseline` (``RobustBaseline`` and
``CleaningMethod`` are its other names), under the interface :class:`~noisygraph.baselines.Method`
every benchmarked method follows; :data:`METHODS` maps their command-line names to the classes."""
from noisygraph.baselines.gcn import (GCN, GCNEnsemble, GCNResult, GCNTrainer, TIE_BREAKS,
                                      cross_entropy)
from noisygraph.baselines.base import (Baseline, CleaningMethod, CleaningOutcome, Method,
                                      RobustBaseline)
from noisygraph.baselines.ce import GCNBaseline
from noisygraph.baselines.cleaning import CLEANERS
from noisygraph.baselines.coteaching import CoTeaching, coteaching_loss, keep_rate
from noisygraph.baselines.elr import ELR, ELRLoss
from noisygraph.baselines.forward import (ForwardCorrection, estimate_transition,
                                          forward_corrected_loss, noise_rate, noisy_posterior)
from noisygraph.baselines.nrgnn import NRGNNLite, propagated_features, similar_labelled_edges
from noisygraph.baselines.sce import SymmetricCrossEntropy, symmetric_cross_entropy

#: command-line name -> baseline class (each a :class:`Baseline`: ``cls(**options).fit(data) -> History``)
METHODS: dict[str, type] = {
    "ce": GCNBaseline,
    "gcn": GCNBaseline,
    "forward": ForwardCorrection,
    "sce": SymmetricCrossEntropy,
    "coteaching": CoTeaching,
    "elr": ELR,
    "nrgnn-lite": NRGNNLite,
    **CLEANERS,
}

__all__ = ["Baseline", "CLEANERS", "CleaningMethod", "CleaningOutcome", "Method", "CoTeaching", "ELR", "ELRLoss", "ForwardCorrection", "GCN", "GCNBaseline",
           "GCNEnsemble", "GCNResult", "GCNTrainer", "METHODS", "NRGNNLite", "RobustBaseline",
           "SymmetricCrossEntropy", "TIE_BREAKS", "coteaching_loss", "cross_entropy",
           "estimate_transition", "forward_corrected_loss", "keep_rate", "noise_rate",
           "noisy_posterior", "propagated_features",
           "similar_labelled_edges", "symmetric_cross_entropy"]
