r"""Decoupled label propagation of ERASE: structural pre-correction of noisy training labels
and the per-epoch semantic labels.

Both steps run the *lazy* propagation of the official release,

.. math::
    \mathbf{Y} \leftarrow (1-\alpha)\,\hat{\mathbf{A}}\mathbf{Y} + \alpha\,\mathbf{Y},

i.e. the restart goes to the *current* :math:`\mathbf{Y}` (not to :math:`\mathbf{Y}_0`), with
the column-normalised :math:`\hat{\mathbf{A}} = \mathbf{A}\mathbf{D}^{-1}` and no self-loops.
:math:`T` such steps equal :math:`T` steps of the plain diffusion over the operator
:math:`\mathbf{M} = (1-\alpha)\hat{\mathbf{A}} + \alpha\mathbf{I}`, which is what runs here
(one fused sparse :func:`noisygraph.ops.diffuse` call, never a dense :math:`N \times N` matrix).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from noisygraph.ops import diffuse
from noisygraph.sparse import Adjacency, GraphLike, to_adjacency


def _check_unit_interval(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


def _check_steps(num_steps: int) -> None:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"num_steps must be an int, got {type(num_steps).__name__}")
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0, got {num_steps}")


def _check_mask(mask: Tensor, num_nodes: int, name: str) -> None:
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a boolean tensor")
    if mask.shape != (num_nodes,):
        raise ValueError(f"{name} must have shape [{num_nodes}], got {tuple(mask.shape)}")


def lazy_propagation_operator(adj: Adjacency, alpha: float) -> Adjacency:
    r"""The sparse operator :math:`(1-\alpha)\hat{\mathbf{A}} + \alpha\mathbf{I}` of one lazy
    propagation step over an already-normalised :math:`\hat{\mathbf{A}}`.

    Args:
        adj (Adjacency): the normalised adjacency :math:`\hat{\mathbf{A}}`.
        alpha (float): weight :math:`\alpha \in [0, 1]` of the current labels.
    """
    _check_unit_interval("alpha", alpha)
    scaled = Adjacency(adj.rowptr, adj.col, (1.0 - alpha) * adj.weights(), adj.num_cols)
    return scaled.with_self_loops(fill_value=float(alpha))


def lazy_propagate(operator: Adjacency, y: Tensor, num_steps: int) -> Tensor:
    r"""Applies :math:`\mathbf{M}^T\mathbf{Y}` for the operator of
    :func:`lazy_propagation_operator` (one fused diffusion with no restart)."""
    return diffuse(operator, y, num_steps, alpha=0.0)


def train_subgraph(graph: GraphLike, train_mask: Tensor,
                   num_nodes: Optional[int] = None) -> Adjacency:
    """The adjacency restricted to edges whose two endpoints are training nodes (all
    ``num_nodes`` rows kept; the other rows and columns are empty)."""
    adj = to_adjacency(graph, num_nodes=num_nodes)
    keep = train_mask[adj.row()] & train_mask[adj.col]
    edge_index = torch.stack([adj.col[keep], adj.row()[keep]])
    weight = None if adj.value is None else adj.value[keep]
    return Adjacency.from_edge_index(edge_index, weight, num_nodes=adj.num_rows)


PRECORRECTIONS = ("train-subgraph", "label-propagation")


def precorrect_labels(y_noisy: Tensor, graph: GraphLike, train_mask: Tensor, num_classes: int,
                      alpha: float = 0.6, num_steps: int = 5,
                      method: str = "train-subgraph") -> Tensor:
    r"""Structural pre-correction of the noisy training labels (done once, before training).

    ``method="train-subgraph"`` (the release for Cora, CiteSeer, PubMed, CoraFull):

    .. math::
        \mathbf{Y}^{(0)} = \text{one-hot}(\tilde{y}) \odot \mathbb{1}_{\text{train}}, \qquad
        \mathbf{Y}^{(t+1)} = (1-\alpha)\,\mathbf{A}_{tr}\mathbf{D}_{tr}^{-1}\mathbf{Y}^{(t)}
        + \alpha\,\mathbf{Y}^{(t)},

    over the train–train subgraph :math:`\mathbf{A}_{tr}` (column-normalised, no self-loops).
    Rows of non-training nodes stay zero. A training node without training neighbours keeps
    its label (its row shrinks by :math:`\alpha` per step).

    ``method="label-propagation"`` (the release for ogbn-arxiv): label propagation with
    restart to :math:`\mathbf{Y}^{(0)}` over the full graph, symmetrically normalised, as PyG's
    ``LabelPropagation(num_layers=T, alpha=1 - alpha)`` with the training mask,

    .. math::
        \mathbf{Y}^{(t+1)} = \mathrm{clamp}_{[0, 1]}\big((1-\alpha)\,\mathbf{D}^{-1/2}
        \mathbf{A}\mathbf{D}^{-1/2}\mathbf{Y}^{(t)} + \alpha\,\mathbf{Y}^{(0)}\big),

    so non-training rows are filled too (they enter the semantic labels through :math:`\beta`).

    The denoised label of a training node is ``argmax`` of its row.

    Args:
        y_noisy (torch.Tensor): ``[N]`` noisy labels (only the training entries are read).
        graph: the graph (``edge_index``, :class:`~noisygraph.sparse.Adjacency`, ...).
        train_mask (torch.Tensor): ``[N]`` bool, the labelled training nodes.
        num_classes (int): :math:`K`.
        alpha (float, optional): :math:`\alpha`, the weight of the labels kept each step.
            (default: ``0.6``)
        num_steps (int, optional): :math:`T`. (default: ``5``)
        method (str, optional): ``"train-subgraph"`` or ``"label-propagation"``.
            (default: ``"train-subgraph"``)

    Returns:
        torch.Tensor: ``[N, K]`` soft pre-corrected labels (float32).
    """
    if method not in PRECORRECTIONS:
        raise ValueError(f"method must be one of {PRECORRECTIONS}, got {method!r}")
    if not isinstance(y_noisy, Tensor) or y_noisy.dim() != 1:
        raise ValueError("y_noisy must be a 1-D tensor of class indices")
    num_nodes = y_noisy.numel()
    _check_mask(train_mask, num_nodes, "train_mask")
    _check_unit_interval("alpha", alpha)
    _check_steps(num_steps)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    train_labels = y_noisy[train_mask]
    if train_labels.numel() == 0:
        raise ValueError("train_mask selects no node")
    if int(train_labels.min()) < 0 or int(train_labels.max()) >= num_classes:
        raise ValueError(f"y_noisy holds training labels outside [0, {num_classes})")
    y0 = torch.zeros(num_nodes, num_classes, device=y_noisy.device)
    y0[train_mask] = F.one_hot(train_labels, num_classes).float()
    if method == "label-propagation":
        from noisygraph.nn.propagation import LabelPropagation
        adj = to_adjacency(graph, num_nodes=num_nodes).normalize("sym")
        return LabelPropagation(num_steps, 1.0 - alpha)(y0, adj, mask=train_mask)
    sub = train_subgraph(graph, train_mask, num_nodes).normalize("col")
    return lazy_propagate(lazy_propagation_operator(sub, alpha), y0, num_steps)


def class_prototypes(z: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    r"""Mean embedding of each class, :math:`\mathbf{c}_k = \frac{1}{n_k}\sum_{i: l_i = k}
    \mathbf{z}_i`; a class without members gets a zero prototype (its similarity to every
    node is then zero, where the official release crashes).

    Args:
        z (torch.Tensor): ``[n, p]`` embeddings.
        labels (torch.Tensor): ``[n]`` classes in ``[0, K)``.
        num_classes (int): :math:`K`.
    """
    sums = torch.zeros(num_classes, z.size(1), dtype=z.dtype, device=z.device)
    sums.index_add_(0, labels, z)
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(z.dtype)
    return sums / counts.unsqueeze(1)


def semantic_labels(z: Tensor, y_pre: Tensor, operator: Adjacency, train_mask: Tensor,
                    beta: float = 0.6, num_steps: int = 5,
                    denoised: Optional[Tensor] = None) -> Tensor:
    r"""The per-epoch labels of ERASE (semantic + structural):

    .. math::
        \mathbf{c}_k &= \mathrm{mean}\{\mathbf{z}_i : i \in \text{train},
            \arg\max \mathbf{Y}_{\text{pre}, i} = k\}, \qquad
        S_{ik} = |\cos(\mathbf{z}_i, \mathbf{c}_k)|, \\
        \hat{\mathbf{Y}} &= \mathrm{softmax}_{\text{row}}\big(\beta\,\mathbf{Y}_{\text{pre}}
            + (1-\beta)\,\mathbf{S}\big), \qquad
        \hat{\mathbf{Y}} \leftarrow \mathbf{M}^T \hat{\mathbf{Y}},

    with the lazy operator :math:`\mathbf{M}` of the full graph. Pseudo-labels are
    ``argmax`` of the rows. Runs without gradient (the embeddings are detached).

    Args:
        z (torch.Tensor): ``[N, p]`` embeddings of all nodes.
        y_pre (torch.Tensor): ``[N, K]`` pre-corrected labels (:func:`precorrect_labels`).
        operator (Adjacency): :func:`lazy_propagation_operator` of the full graph.
        train_mask (torch.Tensor): ``[N]`` bool.
        beta (float, optional): :math:`\beta`. (default: ``0.6``)
        num_steps (int, optional): :math:`T`. (default: ``5``)
        denoised (torch.Tensor, optional): ``[n_train]`` precomputed
            ``y_pre[train_mask].argmax(1)``. (default: :obj:`None`)

    Returns:
        torch.Tensor: ``[N, K]`` propagated label distributions.
    """
    _check_unit_interval("beta", beta)
    _check_steps(num_steps)
    if z.dim() != 2 or y_pre.dim() != 2 or z.size(0) != y_pre.size(0):
        raise ValueError(f"z [N, p] and y_pre [N, K] must have the same number of rows, got "
                         f"{tuple(z.shape)} and {tuple(y_pre.shape)}")
    _check_mask(train_mask, z.size(0), "train_mask")
    z = z.detach()
    num_classes = y_pre.size(1)
    if denoised is None:
        denoised = y_pre[train_mask].argmax(dim=1)
    prototypes = class_prototypes(z[train_mask], denoised, num_classes)
    similarity = (F.normalize(z, dim=1) @ F.normalize(prototypes, dim=1).t()).abs()
    mixed = torch.softmax(beta * y_pre.to(z.dtype) + (1.0 - beta) * similarity, dim=1)
    return lazy_propagate(operator, mixed, num_steps)
