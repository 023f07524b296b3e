r"""Co-teaching, after Han et al., "Co-teaching: Robust Training of Deep Neural Networks with
Extremely Noisy Labels" (NeurIPS 2018, https://arxiv.org/abs/1804.06872): two GCNs, each
trained on the nodes its peer finds small-loss."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_int, check_real
from noisygraph.baselines.base import Baseline, Callback
from noisygraph.baselines.forward import estimate_transition, noise_rate, noisy_posterior
from noisygraph.baselines.gcn import GCNResult


def keep_rate(epoch: int, forget_rate: float, warmup: int) -> float:
    r"""Han et al.'s schedule :math:`R(t) = 1 - \tau \min(t / T_k, 1)`: the fraction of
    training nodes kept at epoch :math:`t` (1-based)."""
    return 1.0 - forget_rate * min(epoch / warmup, 1.0)


def small_loss_nodes(losses: Tensor, labels: Tensor, keep: float, per_class: bool) -> Tensor:
    r"""The :math:`\lceil R n \rceil` nodes of smallest loss (``per_class``: the
    :math:`\lceil R n_c \rceil` smallest of each noisy class :math:`c`), as a bool mask."""
    chosen = torch.zeros_like(labels, dtype=torch.bool)
    groups = [labels == c for c in labels.unique()] if per_class else [
        torch.ones_like(chosen)]
    for group in groups:
        ids = group.nonzero().flatten()
        count = max(1, math.ceil(keep * ids.numel()))
        chosen[ids[losses[ids].argsort()[:count]]] = True
    return chosen


def coteaching_loss(logits: Tensor, labels: Tensor, keep: float, *,
                    per_class: bool = True) -> Tensor:
    r"""One co-teaching step for two networks' logits ``[2, n, C]``: each network picks its
    small-loss nodes :math:`\mathcal S` (:func:`small_loss_nodes`) and its peer is trained on
    them, :math:`\ell = \overline{\mathrm{CE}_2}[\mathcal{S}_1] +
    \overline{\mathrm{CE}_1}[\mathcal{S}_2]`."""
    if logits.dim() != 3 or logits.size(0) != 2:
        raise ValueError(f"logits must be [2, n, C] (two networks), got {tuple(logits.shape)}")
    losses = torch.stack([F.cross_entropy(z, labels, reduction="none") for z in logits])
    first, second = (small_loss_nodes(loss.detach(), labels, keep, per_class)
                     for loss in losses)
    return losses[1][first].mean() + losses[0][second].mean()


class CoTeaching(Baseline):
    r"""Co-teaching (Han et al., NeurIPS 2018): two independently initialised GCNs; each step
    each keeps the :math:`R(t)` fraction of training nodes with its smallest cross-entropy
    and its peer updates on them (:func:`coteaching_loss`), with
    :math:`R(t) = 1 - \tau\min(t/T_k, 1)` (:func:`keep_rate`). Selection and predictions use
    the mean of the two networks' softmax outputs (Han et al. report each network; the mean
    is our choice, one prediction per method). Han et al. select the small-loss samples over
    the whole mini-batch; with ``per_class=True`` (our adaptation) each noisy class keeps its
    own :math:`R(t)` fraction, because with a few labelled nodes per class a global
    selection can drop a whole harder class and the networks then never learn it.

    The forget rate :math:`\tau` is the noise rate, which Han et al. assume known or
    "inferred" with a transition-matrix estimator; with ``forget_rate=None`` it is estimated
    from the data, never from the true rate: a first GCN (cross-entropy on the noisy labels,
    all epochs, :func:`~noisygraph.baselines.forward.noisy_posterior`) gives
    :math:`\hat p(\tilde y \mid x)`, Patrini et al.'s anchor estimator
    (:func:`~noisygraph.baselines.forward.estimate_transition`) gives :math:`\hat T`, and
    :math:`\hat\tau = \sum_i \hat\pi_i (1 - \hat T_{ii})` with :math:`\hat\pi` the noisy
    training labels' class frequencies (:func:`~noisygraph.baselines.forward.noise_rate`),
    clipped to ``[0, max_forget_rate]``. After fit, :attr:`forget_rate_` holds :math:`\tau`.

    Args:
        forget_rate (float, optional): :math:`\tau` in ``[0, 1)``; :obj:`None` estimates it.
            (default: :obj:`None`)
        warmup (int, optional): :math:`T_k`, epochs to reach :math:`\tau`. (default: ``10``,
            the paper's)
        max_forget_rate (float, optional): cap of the estimate, in ``[0, 1)``. (default:
            ``0.5``: Han et al. study noise rates up to 50 % (symmetric-50, pair-45), beyond
            which pair noise is not identifiable)
        quantile (float, optional): the anchor quantile of the estimate. (default: ``0.97``)
        per_class (bool, optional): select the small-loss nodes within each noisy class.
            (default: :obj:`True`)
        **options: :class:`~noisygraph.baselines.Baseline`'s.
    """

    mini_batch = False

    def __init__(self, *, forget_rate: Optional[float] = None, warmup: int = 10,
                 max_forget_rate: float = 0.5, quantile: float = 0.97, per_class: bool = True,
                 **options):
        super().__init__(**options)
        self.forget_rate = None if forget_rate is None else check_real(
            "forget_rate", forget_rate, low=0.0, high=1.0, high_open=True)
        self.warmup = check_int("warmup", warmup, low=1)
        self.max_forget_rate = check_real("max_forget_rate", max_forget_rate, low=0.0,
                                          high=1.0, high_open=True)
        self.quantile = check_real("quantile", quantile, low=0.0, high=1.0, low_open=True)
        self.per_class = check_bool("per_class", per_class)
        self.forget_rate_: Optional[float] = None

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        tau = self.forget_rate
        if tau is None:
            transition = estimate_transition(
                noisy_posterior(self.gcn_trainer(), data, y_noisy, num_classes),
                quantile=self.quantile)
            prior = torch.bincount(y_noisy[data.train_mask], minlength=num_classes).float()
            tau = min(max(noise_rate(transition, prior / prior.sum()), 0.0),
                      self.max_forget_rate)
        self.forget_rate_ = tau
        trainer = self.gcn_trainer(networks=2, step_loss=lambda epoch, logits, labels:
                                   coteaching_loss(logits, labels,
                                                   keep_rate(epoch, tau, self.warmup),
                                                   per_class=self.per_class))
        return self.fit_gcn(data, y_noisy, val_target, num_classes, trainer=trainer,
                            callback=callback)
