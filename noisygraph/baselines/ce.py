r"""Plain cross-entropy training of the shared GCN under the evaluation protocols of learning
with noisy labels: the GCN baseline of every ERASE table (the interface and the shell every
baseline shares are :class:`~noisygraph.baselines.base.Baseline`'s)."""
from __future__ import annotations

from noisygraph.baselines.base import Baseline, Callback, RobustBaseline

__all__ = ["Callback", "GCNBaseline", "RobustBaseline"]


class GCNBaseline(Baseline):
    r"""A 2-layer GCN trained with cross-entropy on the noisy training labels,
    :math:`\min_\theta \frac{1}{n}\sum_{i \in \mathcal{L}} -\log p_\theta(\tilde y_i \mid
    \mathbf{X}, \mathbf{A})`, the epoch selected on the validation labels of the protocol
    (clean under ``"paper"``, noisy under ``"noisy-val"``, as
    :class:`~noisygraph.erase.ERASETrainer`); training stops after ``patience`` epochs without
    a better validation accuracy. Registered as ``"ce"`` (alias ``"gcn"``) in
    :data:`noisygraph.baselines.METHODS`; the options are
    :class:`~noisygraph.baselines.base.Baseline`'s.
    """
