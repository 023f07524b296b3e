"""Moved to :mod:`noisygraph.baselines.ce` (all baselines live in one package); re-exported
here so ``noisygraph.erase.baseline.GCNBaseline`` keeps working."""
from noisygraph.baselines.ce import GCNBaseline

__all__ = ["GCNBaseline"]
