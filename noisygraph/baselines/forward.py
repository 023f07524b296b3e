r"""Forward loss correction with an estimated noise transition matrix, after Patrini et al.,
"Making Deep Neural Networks Robust to Label Noise: a Loss Correction Approach" (CVPR 2017,
https://arxiv.org/abs/1609.03683), adapted to node classification on the shared GCN."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_real
from noisygraph.baselines.base import Baseline, Callback
from noisygraph.baselines.gcn import GCNResult, GCNTrainer


def estimate_transition(probs: Tensor, *, quantile: float = 0.97) -> Tensor:
    r"""Patrini et al.'s anchor-point estimate of the transition matrix
    :math:`T_{ij} = P(\tilde y = j \mid y = i)` from a model's noisy-class probabilities
    :math:`\hat p(\tilde y \mid x)` ``[N, C]``: for each class :math:`i` the anchor
    :math:`\bar x_i` is the node with the largest :math:`\hat p(\tilde y = i \mid x)` among
    those below its ``quantile``-quantile (``quantile=1``: the plain argmax), and
    :math:`T_{i\cdot} = \hat p(\tilde y \mid \bar x_i)`.

    Args:
        probs (torch.Tensor): ``[N, C]`` rows of probabilities.
        quantile (float, optional): in ``(0, 1]``. (default: ``0.97``: Patrini et al. use
            the argmax on most data sets and the 97th percentile where the argmax is an
            outlier (CIFAR-100); a GCN fitted to noisy labels has near one-hot outliers
            among its most confident nodes, whose rows would estimate :math:`T \approx I`)

    Returns:
        torch.Tensor: ``[C, C]``, rows summing to 1.
    """
    if not isinstance(probs, Tensor) or not probs.is_floating_point() or probs.dim() != 2:
        raise TypeError("probs must be a floating [N, C] tensor")
    quantile = check_real("quantile", quantile, low=0.0, high=1.0, low_open=True)
    rows = []
    for i in range(probs.size(1)):
        column = probs[:, i]
        below = column <= torch.quantile(column.double(), quantile).to(column.dtype)
        anchor = torch.where(below, column, column.new_tensor(-1.0)).argmax()
        rows.append(probs[anchor])
    return torch.stack(rows)


def noisy_posterior(trainer: GCNTrainer, data: Data, y_noisy: Tensor,
                    num_classes: int) -> Tensor:
    r""":math:`\hat p(\tilde y \mid x)` ``[N, C]``: the softmax of a GCN trained by ``trainer``
    on the training nodes' noisy labels for all its epochs, without validation nodes (an
    estimate of the noisy posterior, not a model selected on any labels)."""
    return trainer.fit(data, train_nodes=data.train_mask, train_labels=y_noisy,
                       val_nodes=torch.zeros_like(data.train_mask),
                       num_classes=num_classes).probs


def noise_rate(transition: Tensor, prior: Tensor) -> float:
    r"""The noise rate a transition matrix implies, :math:`\sum_i \pi_i (1 - T_{ii})`
    (:math:`\pi`: class prior, e.g. the noisy labels' frequencies)."""
    return float((prior * (1.0 - transition.diagonal())).sum())


def forward_corrected_loss(logits: Tensor, labels: Tensor, transition: Tensor) -> Tensor:
    r"""Per-node forward-corrected cross-entropy
    :math:`-\log\,(\mathrm{softmax}(z)^\top T)_{\tilde y}`: the model's clean-class
    probabilities pushed through the noise before the loss."""
    noisy = torch.softmax(logits, dim=-1) @ transition
    return F.nll_loss(noisy.clamp_min(1e-12).log(), labels, reduction="none")


class ForwardCorrection(Baseline):
    r"""Forward loss correction (Patrini et al., CVPR 2017): a first GCN trained with
    cross-entropy on the noisy labels for all ``epochs`` (no selection on validation labels:
    it estimates the noisy posterior, as Patrini et al.'s first network) gives
    :math:`\hat p(\tilde y \mid x)` for every node (the unlabelled ones out-of-sample),
    :func:`noisy_posterior`; :func:`estimate_transition` turns those
    probabilities into :math:`\hat T` (anchor points: high-confidence nodes per class), and a
    second GCN minimises :func:`forward_corrected_loss`
    :math:`\frac1n\sum_i -\log\,(\mathrm{softmax}(f(x)_i)^\top \hat T)_{\tilde y_i}`; its
    uncorrected :math:`\mathrm{softmax}(f(x))` gives the predictions and the model selection.
    The second GCN selects its epoch under the protocol. After fit, :attr:`transition` holds
    :math:`\hat T`.

    Args:
        quantile (float, optional): anchor quantile of :func:`estimate_transition`.
            (default: ``0.97``, Patrini et al.'s robust choice)
        **options: :class:`~noisygraph.baselines.Baseline`'s (``epochs``, ``lr``, ...,
            ``protocol``, ``seed``, ``device``, ``verbose``).
    """

    def __init__(self, *, quantile: float = 0.97, **options):
        super().__init__(**options)
        self.quantile = check_real("quantile", quantile, low=0.0, high=1.0, low_open=True)
        self.transition: Optional[Tensor] = None

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        transition = estimate_transition(noisy_posterior(self.gcn_trainer(), data, y_noisy,
                                                         num_classes), quantile=self.quantile)
        self.transition = transition.detach()
        trainer = self.gcn_trainer(
            loss=lambda logits, labels: forward_corrected_loss(logits, labels, transition))
        return self.fit_gcn(data, y_noisy, val_target, num_classes, trainer=trainer,
                            callback=callback)
