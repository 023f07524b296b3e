r"""A class-prototype cleaner after CPC (Huang, Chen, Feng & Wu, "Class Prototype-based
Cleaner for Label Noise Learning", arXiv 2022, https://arxiv.org/abs/2212.10766), adapted to
node classification.

1. A warm-up GCN trains on every noisy training label; :math:`\ell_i = -\log p_{i\tilde y_i}`
   is node :math:`i`'s loss and :math:`\mathbf{z}_i` its embedding (the hidden layer of the
   GCN aggregated once more over :math:`\hat{\mathbf{A}}`, unit norm).
2. *Class-aware loss modelling*: per noisy class :math:`k`, a two-component Gaussian mixture
   on the losses of the nodes labelled :math:`k` (EM); :math:`w_i` is the posterior of the
   low-mean component (CPC's point: one mixture per class, not one for all).
3. *Prototype consistency*: class prototypes
   :math:`\mathbf{c}_k \propto \sum_{i:\tilde y_i=k} w_i \mathbf{z}_i`; a node is clean when
   :math:`w_i \ge 1/2` and its nearest prototype (cosine) is its label's.
4. *Semi-supervised training*: the final GCN trains on the clean nodes, plus the flagged ones
   pseudo-labelled where the warm-up prediction and the nearest prototype agree (the others
   stay unlabelled).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_int
from noisygraph.baselines.base import Baseline, CleaningOutcome
from noisygraph.baselines.gcn import gcn_adjacency
from noisygraph.sparse import as_adjacency


def clean_posterior(losses: Tensor, num_iterations: int = 50) -> Tensor:
    r"""Posterior of the low-mean component of a two-component 1-D Gaussian mixture fitted
    to ``losses`` by EM (means started at the extremes, variances floored at
    :math:`10^{-4}`); all ones for fewer than 4 values or constant ones."""
    if not isinstance(losses, Tensor) or not losses.is_floating_point() or losses.dim() != 1:
        raise TypeError(f"losses must be a 1-D floating tensor, got "
                        f"{getattr(losses, 'dtype', type(losses).__name__)}")
    if not bool(torch.isfinite(losses).all()):
        raise ValueError("losses must be finite")
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    x = losses.double()
    if x.numel() < 4 or float(x.max() - x.min()) < 1e-8:
        return torch.ones_like(losses)
    mean = torch.stack([x.min(), x.max()])
    var = x.var().repeat(2).clamp(min=1e-4)
    weight = torch.full((2,), 0.5, dtype=x.dtype, device=x.device)
    for _ in range(num_iterations):
        log_p = (-0.5 * (x[:, None] - mean) ** 2 / var - 0.5 * var.log() + weight.log())
        resp = torch.softmax(log_p, dim=1)
        mass = resp.sum(dim=0).clamp(min=1e-8)
        weight = (mass / x.numel()).clamp(min=1e-6)
        mean = (resp * x[:, None]).sum(dim=0) / mass
        var = ((resp * (x[:, None] - mean) ** 2).sum(dim=0) / mass).clamp(min=1e-4)
    low = int(mean.argmin())
    return resp[:, low].to(losses.dtype)


class PrototypeCleaner(Baseline):
    r"""CPC-style cleaning (per-class loss mixtures + feature-space prototype consistency,
    see the module docstring), then semi-supervised GCN training.

    Args:
        pseudo_label (bool, optional): train on the flagged nodes whose warm-up prediction
            and nearest prototype agree, with that class; else leave every flagged node
            unlabelled. (default: :obj:`True`)
        em_iterations (int, optional): EM iterations of each mixture. (default: ``50``)
        **kwargs: the GCN options, ``protocol``, ``seed``, ``device``, ``verbose`` of
            :class:`~noisygraph.baselines.base.Baseline`.
    """

    seed_step = 1  # GCN i of a fit gets seed + i (the cleaners' recorded seeding)

    def __init__(self, *, pseudo_label: bool = True, em_iterations: int = 50, **kwargs):
        super().__init__(**kwargs)
        self.pseudo_label = check_bool("pseudo_label", pseudo_label)
        self.em_iterations = check_int("em_iterations", em_iterations, low=1)

    def clean(self, data: Data, y_noisy: Tensor, nodes: Tensor, val_labels: Tensor,
              num_classes: int) -> CleaningOutcome:
        labels = y_noisy[nodes]
        trainer = self.gcn_trainer()
        result = self.fit_gcn(data, labels, val_labels, num_classes, trainer=trainer,
                              train_nodes=nodes)
        probs = result.probs[nodes]
        losses = -probs[torch.arange(labels.numel()), labels].clamp(min=1e-12).log()
        w = torch.ones_like(losses)
        for k in range(num_classes):
            members = labels == k
            w[members] = clean_posterior(losses[members], self.em_iterations)
        adj = gcn_adjacency(as_adjacency(data, num_nodes=data.num_nodes).to(data.x.device))
        trainer.model.eval()
        with torch.no_grad():
            z = F.normalize(adj @ trainer.model.hidden(adj @ data.x.float()), dim=1)[nodes]
        prototypes = torch.zeros(num_classes, z.size(1), device=z.device)
        prototypes.index_add_(0, labels, w[:, None] * z)
        similarity = z @ F.normalize(prototypes, dim=1).t()
        nearest = similarity.argmax(dim=1)
        clean = (w >= 0.5) & (nearest == labels)
        flagged = ~clean
        scores = w * torch.softmax(similarity / 0.1, dim=1)[torch.arange(labels.numel()),
                                                             labels]
        if not self.pseudo_label:
            return CleaningOutcome(nodes, flagged, labels, clean, scores=scores)
        predicted = probs.argmax(dim=1)
        pseudo = flagged & (predicted == nearest)
        new = torch.where(pseudo, predicted, labels)
        return CleaningOutcome(nodes, flagged, new, clean | pseudo, scores=scores)
