r"""Edge weights from (noisy) node labels, and labels from a few labelled nodes.

A diffusion on a graph whose edges across label boundaries are weak leaks less mass out of
the target cluster. With binary labels :math:`\ell_i \in \{0, 1\}` (1: "in the target")
and a cross weight :math:`c \in (0, 1]`:

.. math::
    \text{target}: w_{ij} = \begin{cases} 1 & \ell_i = \ell_j = 1 \\ c & \text{else}\end{cases}
    \qquad
    \text{agree}: w_{ij} = \begin{cases} 1 & \ell_i = \ell_j \\ c & \text{else}\end{cases}

"target" is the better scheme once labels are noisy (see docs/cluster.md).

Before weighting, the binary labels can be cleaned by rounds of a neighbourhood majority vote
(:func:`vote_labels`): on a homophilous graph a flipped label is usually outvoted by its
neighbours', so fewer edges are weighted wrongly. This needs no ground truth and no noise rate.
"""
from __future__ import annotations

import numbers
from typing import Optional, Union

import torch
from torch import Tensor

from noisygraph._validation import INT64_MAX, check_bool_mask, check_int, check_real
from noisygraph.ops.local_push import LocalGraph, require_graph

WEIGHTINGS = ("target", "agree")


def check_weighting(weighting: str, cross_weight: float) -> float:
    """Validates a weighting scheme name and its cross weight (finite, in ``(0, 1]``: a zero
    weight would cut the graph apart along the labels)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    return check_real("cross_weight", cross_weight, low=0.0, high=1.0, low_open=True)


def check_labels(labels: Tensor, num_nodes: int) -> Tensor:
    """Validates node labels: a ``[N]`` tensor, bool ("in target") or integer classes.
    Returns them on CPU."""
    if not isinstance(labels, Tensor):
        raise TypeError(f"labels must be a tensor, got {type(labels).__name__}")
    if labels.is_floating_point() or labels.is_complex():
        raise TypeError(f"labels must be bool or integer classes, got {labels.dtype}")
    if labels.shape != (num_nodes,):
        raise ValueError(f"labels must have shape [{num_nodes}] (one per node), got "
                         f"{tuple(labels.shape)}")
    return labels.detach().cpu()


def check_target(labels: Tensor, target: Optional[int]) -> Optional[int]:
    """Validates the target class of (checked) labels: :obj:`None`, or an int class that
    occurs in integer ``labels`` (bool labels already say which nodes are in the target)."""
    if target is None:
        return None
    if labels.dtype == torch.bool:
        raise ValueError("target applies to integer class labels only: bool labels already "
                         "mark the nodes in the target")
    if isinstance(target, Tensor) and target.numel() == 1 and not target.is_floating_point():
        target = target.item()
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(f"target must be an int class, got {type(target).__name__}")
    target = int(target)
    if not bool((labels == target).any()):
        raise ValueError(f"target class {target} does not occur in labels")
    return target


def target_labels(labels: Tensor, num_nodes: int, target: Optional[int] = None,
                  seed: Optional[int] = None) -> Tensor:
    """Binary "in target" labels ``[N]`` (bool) from binary or multi-class labels.

    Args:
        labels (torch.Tensor): ``[N]`` bool (in target or not) or int class labels.
        num_nodes (int): expected length.
        target (int, optional): the target class of multi-class labels; it must occur in
            ``labels``.
        seed (int, optional): when ``target`` is not given, the target is ``labels[seed]``.
    """
    labels = check_labels(labels, num_nodes)
    target = check_target(labels, target)
    if labels.dtype == torch.bool:
        return labels
    if target is None:
        if seed is None:
            raise ValueError("multi-class labels need target (a class) or a seed whose label "
                             "is the target")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int node id, got {type(seed).__name__}")
        if not 0 <= seed < num_nodes:
            raise ValueError(f"seed = {seed} is outside the graph's nodes [0, {num_nodes})")
        target = int(labels[seed])
    return labels == target


def vote_labels(graph: LocalGraph, inside: Tensor, rounds: int = 1) -> Tensor:
    r"""Binary labels after ``rounds`` of a weighted neighbourhood majority vote in which each
    node also votes for itself with its mean incident edge weight :math:`m_i`:

    .. math::
        s_i = \frac{m_i \ell_i + \sum_{j} w_{ij} \ell_j}{m_i + \sum_j w_{ij}}, \qquad
        \ell_i \leftarrow \begin{cases} 1 & s_i > \tfrac12 \\ 0 & s_i < \tfrac12 \\
        \ell_i & s_i = \tfrac12 \end{cases}

    Isolated nodes keep their label.

    Args:
        graph (LocalGraph): the graph (its weights weigh the votes).
        inside (torch.Tensor): ``[N]`` bool labels ("in target").
        rounds (int): vote rounds; 0 returns ``inside`` unchanged. (default: ``1``)
    """
    graph = require_graph(graph)
    inside = check_bool_mask("inside", inside, graph.num_nodes).cpu()
    rounds = check_int("vote_rounds", rounds, low=0, high=INT64_MAX)
    if rounds == 0:
        return inside
    row, col = graph.edges()
    weight = graph.weights().to(torch.float64)
    degree = graph.degree
    self_weight = degree / graph.edge_count.clamp(min=1)
    labels = inside
    for _ in range(rounds):
        votes = torch.zeros_like(degree).index_add_(0, row, weight * labels[col])
        share = (votes + self_weight * labels) / (degree + self_weight).clamp(min=1e-300)
        labels = torch.where(share == 0.5, labels, share > 0.5)
        labels = torch.where(graph.edge_count > 0, labels, inside)
    return labels


def label_edge_weights(graph: LocalGraph, labels: Tensor, target: Optional[int] = None,
                       seed: Optional[int] = None, weighting: str = "target",
                       cross_weight: float = 0.05, vote_rounds: int = 1) -> Tensor:
    """Edge weights ``[nnz]`` in ``graph``'s CSR order from labels (see the module doc).

    Args:
        graph (LocalGraph): the graph.
        labels (torch.Tensor): ``[N]`` bool or int class labels (possibly noisy).
        target (int, optional): target class of multi-class labels (default: the seed's).
        seed (int, optional): the seed node, whose label is the target when ``target`` is None.
        weighting (str): ``"target"`` or ``"agree"``. (default: ``"target"``)
        cross_weight (float): weight of the other edges, in ``(0, 1]``. (default: ``0.05``)
        vote_rounds (int): rounds of :func:`vote_labels` on the binary labels before
            weighting; 0 weights by the raw labels, as the paper does. (default: ``1``)
    """
    graph = require_graph(graph)
    check_weighting(weighting, cross_weight)
    inside = vote_labels(graph, target_labels(labels, graph.num_nodes, target, seed),
                         vote_rounds)
    row, col = graph.edges()
    if weighting == "target":
        strong = inside[row] & inside[col]
    else:
        strong = inside[row] == inside[col]
    base = graph.weights()
    return torch.where(strong, base, base * cross_weight)


def label_weighted_graph(graph: LocalGraph, labels: Tensor, target: Optional[int] = None,
                         seed: Optional[int] = None, weighting: str = "target",
                         cross_weight: float = 0.05, vote_rounds: int = 1) -> LocalGraph:
    """``graph`` with :func:`label_edge_weights` as its weights (same structure, shared)."""
    return graph.with_weights(label_edge_weights(graph, labels, target, seed, weighting,
                                                 cross_weight, vote_rounds))


def few_sample_labels(x: Tensor, y: Tensor, per_class: int, seed: int = 0,
                      epochs: int = 200, lr: float = 0.05, weight_decay: float = 5e-4,
                      return_train: bool = False) -> Union[Tensor, tuple[Tensor, Tensor]]:
    """Labels predicted by a logistic regression trained on ``per_class`` labelled nodes per
    class (the "labels from few samples" setting); the labelled nodes keep their given label.

    Args:
        x (torch.Tensor): node features ``[N, F]``.
        y (torch.Tensor): class labels ``[N]``; only those of the sampled nodes are read.
        per_class (int): labelled nodes per class (``>= 1``).
        seed (int): sampling and initialisation seed. (default: ``0``)
        epochs (int): full-batch Adam steps. (default: ``200``)
        lr (float): learning rate. (default: ``0.05``)
        weight_decay (float): L2 penalty. (default: ``5e-4``)
        return_train (bool): also return the indices of the labelled nodes.

    Returns:
        ``[N]`` int64 predicted classes (and the labelled node ids when ``return_train``).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a [N, F] feature tensor, got {type(x).__name__}")
    if x.is_complex() or x.dtype == torch.bool:
        raise TypeError(f"x must hold real features, got {x.dtype}")
    if x.dim() != 2 or x.size(0) < 1:
        raise ValueError(f"x must be a [N, F] feature tensor with N >= 1, got shape "
                         f"{tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x must be finite (it holds NaN or inf)")
    if not isinstance(y, Tensor):
        raise TypeError(f"y must be a tensor of class labels, got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"y must hold integer classes, got {y.dtype}")
    if y.shape != (x.size(0),):
        raise ValueError(f"y must have shape [{x.size(0)}], got {tuple(y.shape)}")
    if int(y.min()) < 0:
        raise ValueError(f"y must hold classes >= 0, got {int(y.min())}")
    per_class = check_int("per_class", per_class, low=1, high=INT64_MAX)
    seed = check_int("seed", seed, low=0, high=INT64_MAX)
    epochs = check_int("epochs", epochs, low=0, high=INT64_MAX)
    lr = check_real("lr", lr, low=0.0, low_open=True)
    weight_decay = check_real("weight_decay", weight_decay, low=0.0)
    x, y = x.detach().cpu(), y.detach().cpu().to(torch.long)
    generator = torch.Generator().manual_seed(seed)
    num_classes = int(y.max()) + 1
    chosen = []
    for c in range(num_classes):
        members = (y == c).nonzero().flatten()
        if members.numel() == 0:
            continue
        pick = torch.randperm(members.numel(), generator=generator)[:per_class]
        chosen.append(members[pick])
    train = torch.cat(chosen)
    x = x.to(torch.float32)
    with torch.random.fork_rng():  # seeded initialisation without touching the global RNG
        torch.manual_seed(seed)
        model = torch.nn.Linear(x.size(1), num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[train]), y[train])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    predicted[train] = y[train]
    return (predicted, train) if return_train else predicted
