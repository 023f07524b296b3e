r"""Out-of-sample predictions of the labelled nodes: :math:`K`-fold cross-validation over the
training nodes with the shared :class:`~noisygraph.baselines.GCNTrainer` (the K-fold loop,
``noisygraph.baselines._kfold``, is the one confident-learning cleaning uses too).

The training nodes are split into ``folds`` random folds (a seeded permutation, independent
of the labels). For fold :math:`k` a GCN trains on the labels of the other folds only (no
validation labels: the model after the last epoch) and scores the nodes of fold :math:`k`:
no model ever scores a node whose label it trained on. The GCN still reads the whole graph
and every node's features (transductive, as in training), never a held-out label.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor

from noisygraph._validation import check_int, check_node_ids, check_num_nodes
from noisygraph.baselines import GCNTrainer
from noisygraph.baselines._kfold import assign_folds, kfold_probs, neighbour_mean
from noisygraph.sparse import as_adjacency

__all__ = ["OutOfSamplePredictions", "neighbour_mean", "out_of_sample_predictions",
           "random_folds", "training_nodes_and_labels"]


@dataclass
class OutOfSamplePredictions:
    """Outcome of :func:`out_of_sample_predictions`.

    Attributes:
        nodes (torch.Tensor): ``[n]`` ids of the training nodes, ascending.
        labels (torch.Tensor): ``[n]`` their given labels.
        probs (torch.Tensor): ``[n, C]`` out-of-sample class probabilities (row ``i`` from
            the model that did not train on ``labels[i]``): what cleanlab calls ``pred_probs``.
        neighbour_probs (torch.Tensor): ``[n, C]`` mean of that same model's probabilities
            over the node's neighbours (uniform for an isolated node).
        all_probs (torch.Tensor): ``[N, C]`` every node's probabilities: ``probs`` on the
            training nodes, the mean of the :math:`K` models elsewhere.
        folds (torch.Tensor): ``[n]`` the fold of each training node.
    """

    nodes: Tensor
    labels: Tensor
    probs: Tensor
    neighbour_probs: Tensor
    all_probs: Tensor
    folds: Tensor

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes.tolist(), "labels": self.labels.tolist(),
                "probs": self.probs.tolist(), "folds": self.folds.tolist()}


def training_nodes_and_labels(data: Any, labels: Optional[Tensor],
                              train_nodes: Optional[Tensor]) -> tuple[int, Tensor, Tensor, int]:
    """``(N, training node ids ascending, their given labels, C)`` from ``data`` and the
    overrides (labels: ``data.y_noisy``, else ``data.y``; nodes: ``data.train_mask``)."""
    num_nodes = check_num_nodes(data)
    if labels is None:
        labels = getattr(data, "y_noisy", None)
        labels = getattr(data, "y", None) if labels is None else labels
        if labels is None:
            raise ValueError("labels is required (data has neither y_noisy nor y)")
    if not isinstance(labels, Tensor) or labels.dtype in (torch.bool,) \
            or labels.is_floating_point() or labels.is_complex() or labels.dim() != 1:
        raise TypeError("labels must be a 1-D integer tensor of classes, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    if labels.numel() != num_nodes:
        raise ValueError(f"labels must have one entry per node ({num_nodes}), "
                         f"got {labels.numel()}")
    train_nodes = getattr(data, "train_mask", None) if train_nodes is None else train_nodes
    if train_nodes is None:
        raise ValueError("train_nodes is required (data has no train_mask)")
    nodes = torch.unique(check_node_ids("train_nodes", train_nodes, num_nodes).cpu())
    if nodes.numel() < 2:
        raise ValueError(f"train_nodes must hold at least 2 nodes, got {nodes.numel()}")
    given = labels.cpu().long()[nodes]
    if int(given.min()) < 0:
        raise ValueError("labels must be >= 0 on the training nodes")
    num_classes = getattr(data, "num_classes", None)
    if not isinstance(num_classes, int) or num_classes <= int(given.max()):
        num_classes = int(labels.max()) + 1
    if num_classes < 2:
        raise ValueError("labels must hold at least 2 classes")
    return num_nodes, nodes, given, num_classes


def random_folds(num: int, folds: int, seed: int) -> Tensor:
    """``[num]`` fold of each item: a permutation seeded by ``seed`` dealt round-robin into
    ``folds`` near-equal parts (independent of any label)."""
    return assign_folds(num, folds, torch.Generator().manual_seed(seed))


def out_of_sample_predictions(data: Any, *, labels: Optional[Tensor] = None,
                              train_nodes: Optional[Tensor] = None, folds: int = 5,
                              seed: int = 0,
                              trainer: Optional[dict[str, Any]] = None) -> OutOfSamplePredictions:
    r"""Out-of-sample class probabilities of the training nodes by :math:`K`-fold
    cross-validation with :class:`~noisygraph.baselines.GCNTrainer` (see the module
    docstring).

    Args:
        data (torch_geometric.data.Data): the graph, with ``x``.
        labels (torch.Tensor, optional): ``[N]`` given labels. (default: ``data.y_noisy``,
            else ``data.y``)
        train_nodes (torch.Tensor, optional): mask or ids of the labelled nodes.
            (default: ``data.train_mask``)
        folds (int, optional): :math:`K \ge 2`, at most the number of training nodes.
            (default: ``5``, cleanlab's ``cv_n_folds``)
        seed (int, optional): seeds the folds and fold :math:`k`'s model (``seed + k``).
            (default: ``0``)
        trainer (dict, optional): keyword options of :class:`~noisygraph.baselines.GCNTrainer`
            (not ``seed``). (default: :obj:`None`, its defaults)
    """
    num_nodes, nodes, given, num_classes = training_nodes_and_labels(data, labels, train_nodes)
    folds = check_int("folds", folds, low=2, high=nodes.numel())
    seed = check_int("seed", seed, low=0)
    options = _trainer_options(trainer)
    fold_of = random_folds(nodes.numel(), folds, seed)
    full_labels = torch.zeros(num_nodes, dtype=torch.long)
    full_labels[nodes] = given
    empty = torch.zeros(0, dtype=torch.long)

    def fit(k: int, held: Tensor) -> Tensor:
        return GCNTrainer(seed=seed + k, **options).fit(
            data, train_nodes=nodes[~held], train_labels=full_labels, val_nodes=empty,
            num_classes=num_classes).probs

    probs, neighbour, all_probs = kfold_probs(
        fit, nodes, fold_of, num_classes, adj=as_adjacency(data, num_nodes=num_nodes),
        average=True, device=torch.device("cpu"))
    return OutOfSamplePredictions(nodes, given, probs, neighbour, all_probs, fold_of)


def _trainer_options(trainer: Optional[dict[str, Any]]) -> dict[str, Any]:
    if trainer is None:
        return {}
    if not isinstance(trainer, dict):
        raise TypeError(f"trainer must be a dict of GCNTrainer options, got "
                        f"{type(trainer).__name__}")
    if "seed" in trainer:
        raise ValueError("trainer must not set seed (the folds' models are seeded by seed)")
    GCNTrainer(**trainer)  # checks the options, naming the bad one
    return dict(trainer)
