r"""Early-learning regularisation, after Liu et al., "Early-Learning Regularization Prevents
Memorization of Noisy Labels" (NeurIPS 2020, https://arxiv.org/abs/2007.00151), on the shared
GCN (full batch: one target update per epoch)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_int, check_real
from noisygraph.baselines.base import Baseline, Callback
from noisygraph.baselines.gcn import GCNResult

#: the clamp of the probabilities in the regulariser and the targets (Liu et al.'s release)
EPS = 1e-4


class ELRLoss:
    r"""The per-node ELR loss of one fixed set of training nodes:
    :math:`\mathrm{CE}(p_i, \tilde y_i) + \lambda \log(1 - \langle p_i, t_i\rangle)`, where
    before each step the targets become the running average
    :math:`t_i \leftarrow \beta t_i + (1 - \beta)\,\bar p_i` of the (detached) predictions
    (:math:`\bar p`: :math:`p` clamped to :math:`[10^{-4}, 1 - 10^{-4}]` and renormalised;
    :math:`t = 0` before the first step, as Liu et al.). Each call is one step; the
    regulariser is off (:math:`\lambda = 0`) during the first ``warmup`` steps.

    Args:
        num_nodes (int): training nodes (the rows of every call).
        num_classes (int): classes.
        beta (float, optional): momentum of the targets. (default: ``0.7``)
        lam (float, optional): :math:`\lambda`. (default: ``3.0``)
        warmup (int, optional): steps of plain cross-entropy. (default: ``0``)
    """

    def __init__(self, num_nodes: int, num_classes: int, *, beta: float = 0.7,
                 lam: float = 3.0, warmup: int = 0):
        self.beta, self.lam, self.warmup = beta, lam, warmup
        self.targets = torch.zeros(num_nodes, num_classes)
        self.steps = 0

    def __call__(self, logits: Tensor, labels: Tensor) -> Tensor:
        if self.targets.shape != logits.shape:
            raise ValueError(f"logits must be {tuple(self.targets.shape)} (one row per "
                             f"training node), got {tuple(logits.shape)}")
        probs = torch.softmax(logits, dim=-1).clamp(EPS, 1.0 - EPS)
        probs = probs / probs.sum(dim=-1, keepdim=True)
        self.targets = self.targets.to(logits.device)
        self.targets = self.beta * self.targets + (1.0 - self.beta) * probs.detach()
        self.steps += 1
        ce = F.cross_entropy(logits, labels, reduction="none")
        if self.steps <= self.warmup:
            return ce
        return ce + self.lam * torch.log1p(-(self.targets * probs).sum(dim=-1))


class ELR(Baseline):
    r"""Early-learning regularisation (Liu et al., NeurIPS 2020): the GCN minimises
    :math:`\frac1n\sum_i \mathrm{CE}(p_i, \tilde y_i) + \lambda\log(1 - \langle p_i,
    t_i\rangle)` with running-average targets :math:`t` (:class:`ELRLoss`): the regulariser
    pulls the predictions towards what the model learned early, before it memorises the
    wrong labels.

    Adaptation to full-batch training: Liu et al. update each target once per epoch of
    mini-batch SGD, so by the first update the network has taken hundreds of steps and
    learned the easy, mostly clean patterns; here an epoch is one step, and targets that
    track the randomly initialised model from step 1 lock its random predictions in (the
    regulariser rewards any confident class). So the regulariser starts after a warm-up of
    plain cross-entropy that ends where early learning ends: with ``warmup=None`` the epoch
    a cross-entropy GCN selects under the protocol (validation accuracy peaks where the
    network starts to memorise the wrong labels, the premise of ELR); the targets average
    the predictions from the first step. After fit, :attr:`warmup_` holds it.

    Args:
        beta (float, optional): target momentum in ``[0, 1)``. (default: ``0.7``, the paper's
            CIFAR-10 setting, the 10-class benchmark closest to our graphs)
        lam (float, optional): :math:`\lambda`, ``>= 0``. (default: ``3.0``, the same)
        warmup (int, optional): steps of plain cross-entropy before the regulariser;
            :obj:`None` takes a cross-entropy GCN's selected epoch. (default: :obj:`None`)
        **options: :class:`~noisygraph.baselines.Baseline`'s.
    """

    mini_batch = False

    def __init__(self, *, beta: float = 0.7, lam: float = 3.0, warmup: Optional[int] = None,
                 **options):
        super().__init__(**options)
        self.beta = check_real("beta", beta, low=0.0, high=1.0, high_open=True)
        self.lam = check_real("lam", lam, low=0.0)
        self.warmup = check_int("warmup", warmup, low=0, optional=True)
        self.warmup_: Optional[int] = None

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        warmup = self.warmup
        if warmup is None:
            warmup = self.fit_gcn(data, y_noisy, val_target, num_classes).epoch
        self.warmup_ = warmup
        loss = ELRLoss(int(data.train_mask.sum()), num_classes, beta=self.beta, lam=self.lam,
                       warmup=warmup)
        return self.fit_gcn(data, y_noisy, val_target, num_classes,
                            trainer=self.gcn_trainer(loss=loss), callback=callback)
