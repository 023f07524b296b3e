"""Baselines the methods are compared with, on one shared GCN trainer."""
from noisygraph.baselines.gcn import GCN, GCNResult, GCNTrainer, TIE_BREAKS, cross_entropy

__all__ = ["GCN", "GCNResult", "GCNTrainer", "TIE_BREAKS", "cross_entropy"]
