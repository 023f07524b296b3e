r"""Out-of-sample class probabilities by :math:`K`-fold cross-validation over the labelled
nodes (internal): the one implementation behind confident-learning cleaning
(:func:`noisygraph.baselines.confident.out_of_sample_probs`) and label-issue detection
(:func:`noisygraph.detection.out_of_sample_predictions`).

The labelled nodes are dealt into :math:`K` folds in a random order (:func:`assign_folds`,
optionally per class, i.e. stratified). For every non-empty fold :math:`k` a model trains on
the labels of the other folds only and scores the nodes of fold :math:`k`, so no model ever
scores a node whose label it trained on.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

from noisygraph.sparse import Adjacency


def assign_folds(num: int, num_folds: int, generator: Optional[torch.Generator] = None, *,
                 labels: Optional[Tensor] = None,
                 device: Optional[torch.device] = None) -> Tensor:
    """``[num]`` int64 fold of each item: a random permutation (drawn from ``generator``,
    else the global RNG) dealt round-robin into ``num_folds`` folds; with ``labels``, each
    class's items are dealt separately in that order (stratified folds). Independent of the
    labels' values otherwise."""
    order = torch.randperm(num, generator=generator, device=device)
    if labels is None:
        fold = torch.empty(num, dtype=torch.long, device=order.device)
        fold[order] = torch.arange(num, device=order.device) % num_folds
        return fold
    fold = torch.empty_like(labels)
    for k in range(int(labels.max()) + 1 if labels.numel() else 0):
        members = order[labels[order] == k]
        fold[members] = torch.arange(members.numel(), device=labels.device) % num_folds
    return fold


def neighbour_mean(adj: Adjacency, values: Tensor) -> Tensor:
    """Mean of ``values`` over each node's neighbours (self-loops excluded; uniform rows for a
    node without neighbours)."""
    row, col = adj.row().to(values.device), adj.col.to(values.device)
    keep = row != col
    row, col = row[keep], col[keep]
    sums = torch.zeros_like(values).index_add_(0, row, values[col])
    degree = torch.bincount(row, minlength=values.size(0)).unsqueeze(1).to(values.dtype)
    uniform = torch.full_like(values, 1.0 / values.size(1))
    return torch.where(degree > 0, sums / degree.clamp_min(1), uniform)


def kfold_probs(fit: Callable[[int, Tensor], Tensor], nodes: Tensor, fold_of: Tensor,
                num_classes: int, *, adj: Optional[Adjacency] = None, average: bool = False,
                device: Optional[torch.device] = None
                ) -> tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
    r"""Cross-validated probabilities of ``nodes``.

    Args:
        fit (callable): ``fit(k, held) -> [N, num_classes]``: trains a model on the nodes
            ``nodes[~held]`` only and returns every node's class probabilities; called once
            per non-empty fold :math:`k`, in ascending order.
        nodes (torch.Tensor): ``[n]`` ids of the labelled nodes.
        fold_of (torch.Tensor): ``[n]`` the fold of each (:func:`assign_folds`).
        num_classes (int): :math:`C`.
        adj (Adjacency, optional): when given, also the mean of fold :math:`k`'s
            probabilities over each held-out node's neighbours (:func:`neighbour_mean`).
        average (bool, optional): also every node's mean probability over the fold models,
            with the out-of-sample rows on ``nodes``. (default: :obj:`False`)
        device (torch.device, optional): where the results live. (default: ``nodes.device``)

    Returns:
        ``(probs [n, C], neighbour_probs [n, C] or None, all_probs [N, C] or None)``, float32;
        rows of ``probs`` of a node in no fitted fold stay 0.
    """
    device = nodes.device if device is None else device
    present = [k for k in range(int(fold_of.max()) + 1 if fold_of.numel() else 0)
               if bool((fold_of == k).any())]
    probs = torch.zeros(nodes.numel(), num_classes, device=device)
    neighbour = None if adj is None else torch.zeros(nodes.numel(), num_classes, device=device)
    all_probs = None
    for k in present:
        held = fold_of == k
        fold_probs = fit(k, held).detach().to(device).float()
        probs[held] = fold_probs[nodes[held]]
        if neighbour is not None:
            neighbour[held] = neighbour_mean(adj, fold_probs)[nodes[held]]
        if average:
            all_probs = torch.zeros_like(fold_probs) if all_probs is None else all_probs
            all_probs += fold_probs / len(present)
    if all_probs is not None:
        all_probs[nodes] = probs
    return probs, neighbour, all_probs
