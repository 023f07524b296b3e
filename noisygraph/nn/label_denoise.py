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
The release's ogbn-arxiv script pre-corrects and propagates the semantic labels differently
(PyG's label propagation with restart, see :func:`precorrect_labels`,
``method="label-propagation"``, and :func:`label_propagation_semantic_labels`).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from noisygraph._validation import (check_bool_mask, check_choice, check_int, check_real,
                                    check_tensor)
from noisygraph.ops import diffuse
from noisygraph.sparse import Adjacency, GraphLike, as_adjacency
from noisygraph_cli.choices import PRECORRECTIONS  # defined once, torch-free

#: How the per-epoch semantic labels propagate: the lazy propagation of the release for
#: Cora/PubMed/CoraFull (:func:`semantic_labels`) or the label propagation with restart of its
#: ogbn-arxiv script (:func:`label_propagation_semantic_labels`).
SEMANTIC_PROPAGATIONS = ("lazy", "label-propagation")


def _check_unit_interval(name: str, value: float) -> float:
    return check_real(name, value, low=0.0, high=1.0)


def _check_steps(num_steps: int) -> int:
    return check_int("num_steps", num_steps, low=0)


def _check_mask(mask: Tensor, num_nodes: int, name: str) -> None:
    check_bool_mask(name, mask, num_nodes)


def _check_operator(name: str, operator, num_nodes: int) -> None:
    if not isinstance(operator, Adjacency):
        raise TypeError(f"{name} must be a noisygraph.sparse.Adjacency, got "
                        f"{type(operator).__name__}")
    if operator.num_rows != num_nodes or operator.num_cols != num_nodes:
        raise ValueError(f"{name} must be [{num_nodes}, {num_nodes}], got "
                         f"[{operator.num_rows}, {operator.num_cols}]")


def _check_soft_labels(name: str, value, num_nodes: Optional[int] = None) -> None:
    if not isinstance(value, Tensor) or not value.is_floating_point() or value.dim() != 2:
        raise ValueError(f"{name} must be a floating-point [N, K] tensor, got "
                         f"{getattr(value, 'dtype', type(value).__name__)} of shape "
                         f"{tuple(getattr(value, 'shape', ()))}")
    if num_nodes is not None and value.size(0) != num_nodes:
        raise ValueError(f"{name} must have {num_nodes} rows, got {value.size(0)}")


def _check_num_classes(num_classes) -> int:
    return check_int("num_classes", num_classes, low=1)


def _check_classes(name: str, labels, length: int, num_classes: int) -> None:
    """Integer ``[length]`` classes in ``[0, num_classes)`` (one host sync)."""
    if (not isinstance(labels, Tensor) or labels.is_floating_point() or labels.is_complex()
            or labels.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor of classes, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    if labels.shape != (length,):
        raise ValueError(f"{name} must have shape [{length}], got {tuple(labels.shape)}")
    if length and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"{name} holds classes outside [0, {num_classes})")


def lazy_propagation_operator(adj: Adjacency, alpha: float) -> Adjacency:
    r"""The sparse operator :math:`(1-\alpha)\hat{\mathbf{A}} + \alpha\mathbf{I}` of one lazy
    propagation step over an already-normalised :math:`\hat{\mathbf{A}}`.

    Args:
        adj (Adjacency): the normalised adjacency :math:`\hat{\mathbf{A}}` (square).
        alpha (float): weight :math:`\alpha \in [0, 1]` of the current labels.
    """
    if not isinstance(adj, Adjacency):
        raise TypeError(f"adj must be a noisygraph.sparse.Adjacency, got {type(adj).__name__}")
    if adj.num_rows != adj.num_cols:
        raise ValueError(f"adj must be square, got [{adj.num_rows}, {adj.num_cols}]")
    alpha = _check_unit_interval("alpha", alpha)
    adj.check_unchanged()
    # values computed from adj's validated ones: no second validation (and no host sync)
    scaled = adj._with_trusted_values((1.0 - alpha) * adj.weights())
    return scaled.with_self_loops(fill_value=alpha)


def lazy_propagate(operator: Adjacency, y: Tensor, num_steps: int) -> Tensor:
    r"""Applies :math:`\mathbf{M}^T\mathbf{Y}` for the operator of
    :func:`lazy_propagation_operator` (one fused diffusion with no restart).

    Args:
        operator (Adjacency): :math:`\mathbf{M}`, ``[N, N]``.
        y (torch.Tensor): ``[N, K]`` floating-point labels.
        num_steps (int): :math:`T \ge 0`.
    """
    if not isinstance(operator, Adjacency):
        raise TypeError(f"operator must be a noisygraph.sparse.Adjacency, got "
                        f"{type(operator).__name__}")
    _check_soft_labels("y", y)
    _check_operator("operator", operator, y.size(0))
    return diffuse(operator, y, _check_steps(num_steps), alpha=0.0)


def train_subgraph(graph: GraphLike, train_mask: Tensor,
                   num_nodes: Optional[int] = None) -> Adjacency:
    """The adjacency restricted to edges whose two endpoints are training nodes (all
    ``num_nodes`` rows kept; the other rows and columns are empty).

    Args:
        graph: the graph (``edge_index``, :class:`~noisygraph.sparse.Adjacency`, ...).
        train_mask (torch.Tensor): ``[N]`` bool.
        num_nodes (int, optional): :math:`N`. (default: :obj:`None`, ``train_mask.numel()``)
    """
    check_tensor("train_mask", train_mask)
    num_nodes = train_mask.numel() if num_nodes is None else check_int("num_nodes", num_nodes,
                                                                         low=0)
    _check_mask(train_mask, num_nodes, "train_mask")
    adj = as_adjacency(graph, num_nodes=num_nodes)
    _check_operator("graph", adj, num_nodes)
    return adj.induced(train_mask.to(adj.device))


def precorrect_labels(y_noisy: Tensor, graph: GraphLike, train_mask: Tensor, num_classes: int,
                      alpha: float = 0.6, num_steps: int = 5,
                      method: str = "train-subgraph") -> Tensor:
    r"""Structural pre-correction of the noisy training labels (done once, before training).

    ``method="train-subgraph"`` (the release for Cora, CiteSeer, PubMed, CoraFull):

    .. math::
        \mathbf{Y}^{(0)} = \text{one-hot}(\tilde{y}) \odot \mathbb{1}_{\text{train}}, \qquad
        \mathbf{Y}^{(t+1)} = (1-\alpha)\,\mathbf{A}_{tr}\mathbf{D}_{tr}^{-1}\mathbf{Y}^{(t)}
        + \alpha\,\mathbf{Y}^{(t)},

    over the train–train subgraph :math:`\mathbf{A}_{tr}` (column-normalised, no self-loops):
    :math:`\alpha` weighs the labels *kept*. Rows of non-training nodes stay zero. A training
    node without training neighbours keeps its label (its row shrinks by :math:`\alpha` per
    step).

    ``method="label-propagation"`` (the release for ogbn-arxiv, which calls PyG's
    ``LabelPropagation(num_layers=T, alpha=alpha)`` with the training mask): label
    propagation with restart to :math:`\mathbf{Y}^{(0)}` over the full graph, symmetrically
    normalised, with PyG's meaning of :math:`\alpha`, the weight of the *propagated* term,

    .. math::
        \mathbf{Y}^{(t+1)} = \mathrm{clamp}_{[0, 1]}\big(\alpha\,\mathbf{D}^{-1/2}
        \mathbf{A}\mathbf{D}^{-1/2}\mathbf{Y}^{(t)} + (1-\alpha)\,\mathbf{Y}^{(0)}\big),

    so non-training rows are filled too (they enter the semantic labels through :math:`\beta`).
    The same ``alpha`` thus means opposite things in the two methods, exactly as in the
    release (the two agree only at :math:`\alpha = 0.5`).

    The denoised label of a training node is ``argmax`` of its row.

    Args:
        y_noisy (torch.Tensor): ``[N]`` integer noisy labels (only the training entries are
            read; they must lie in ``[0, num_classes)``).
        graph: the graph (``edge_index``, :class:`~noisygraph.sparse.Adjacency`, ...).
        train_mask (torch.Tensor): ``[N]`` bool, the labelled training nodes (at least one).
        num_classes (int): :math:`K \ge 1`.
        alpha (float, optional): :math:`\alpha \in [0, 1]`, see above. (default: ``0.6``)
        num_steps (int, optional): :math:`T \ge 0`. (default: ``5``)
        method (str, optional): ``"train-subgraph"`` or ``"label-propagation"``.
            (default: ``"train-subgraph"``)

    Returns:
        torch.Tensor: ``[N, K]`` soft pre-corrected labels (float32).
    """
    method = check_choice("method", method, PRECORRECTIONS)
    if (not isinstance(y_noisy, Tensor) or y_noisy.dim() != 1 or y_noisy.is_floating_point()
            or y_noisy.is_complex() or y_noisy.dtype == torch.bool):
        raise TypeError("y_noisy must be a 1-D integer tensor of class indices, got "
                        f"{getattr(y_noisy, 'dtype', type(y_noisy).__name__)} of shape "
                        f"{tuple(getattr(y_noisy, 'shape', ()))}")
    num_nodes = y_noisy.numel()
    _check_mask(train_mask, num_nodes, "train_mask")
    alpha = _check_unit_interval("alpha", alpha)
    num_steps = _check_steps(num_steps)
    num_classes = _check_num_classes(num_classes)
    train_labels = y_noisy[train_mask]
    if train_labels.numel() == 0:
        raise ValueError("train_mask selects no node")
    _check_classes("y_noisy[train_mask]", train_labels, train_labels.numel(), num_classes)
    adj = as_adjacency(graph, num_nodes=num_nodes)  # an Adjacency passes through (O(1))
    _check_operator("graph", adj, num_nodes)
    y0 = torch.zeros(num_nodes, num_classes, device=y_noisy.device)
    y0[train_mask] = F.one_hot(train_labels.long(), num_classes).float()
    if method == "label-propagation":
        from noisygraph.nn.propagation import LabelPropagation
        return LabelPropagation(num_steps, alpha)(y0, adj.normalize("sym"), mask=train_mask)
    sub = adj.induced(train_mask).normalize("col")  # the train-train subgraph, not re-checked
    return lazy_propagate(lazy_propagation_operator(sub, alpha), y0, num_steps)


def class_prototypes(z: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    r"""Mean embedding of each class, :math:`\mathbf{c}_k = \frac{1}{n_k}\sum_{i: l_i = k}
    \mathbf{z}_i`; a class without members gets a zero prototype (its similarity to every
    node is then zero, where the official release crashes).

    Args:
        z (torch.Tensor): ``[n, p]`` floating-point embeddings.
        labels (torch.Tensor): ``[n]`` integer classes in ``[0, K)``.
        num_classes (int): :math:`K \ge 1`.
    """
    _check_soft_labels("z", z)
    num_classes = _check_num_classes(num_classes)
    _check_classes("labels", labels, z.size(0), num_classes)
    return _class_prototypes(z, labels, num_classes)


def _class_prototypes(z: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    sums = torch.zeros(num_classes, z.size(1), dtype=z.dtype, device=z.device)
    sums.index_add_(0, labels, z)
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(z.dtype)
    return sums / counts.unsqueeze(1)


def _check_semantic_inputs(z, y_pre, train_mask, denoised) -> None:
    _check_soft_labels("z", z)
    _check_soft_labels("y_pre", y_pre, z.size(0))
    _check_mask(train_mask, z.size(0), "train_mask")
    if denoised is not None:
        _check_classes("denoised", denoised, int(train_mask.sum()), y_pre.size(1))


def _prototype_similarity(z: Tensor, y_pre: Tensor, train_mask: Tensor,
                          denoised: Optional[Tensor]) -> Tensor:
    r"""``[N, K]`` :math:`|\cos(\mathbf{z}_i, \mathbf{c}_k)|` to the prototypes of the
    training nodes' denoised classes."""
    if denoised is None:
        denoised = y_pre[train_mask].argmax(dim=1)
    prototypes = _class_prototypes(z[train_mask], denoised, y_pre.size(1))
    return (F.normalize(z, dim=1) @ F.normalize(prototypes, dim=1).t()).abs()


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
        operator (Adjacency): :func:`lazy_propagation_operator` of the full graph, ``[N, N]``.
        train_mask (torch.Tensor): ``[N]`` bool.
        beta (float, optional): :math:`\beta \in [0, 1]`. (default: ``0.6``)
        num_steps (int, optional): :math:`T \ge 0`. (default: ``5``)
        denoised (torch.Tensor, optional): ``[n_train]`` precomputed
            ``y_pre[train_mask].argmax(1)``. (default: :obj:`None`)

    Returns:
        torch.Tensor: ``[N, K]`` propagated label distributions.
    """
    beta = _check_unit_interval("beta", beta)
    num_steps = _check_steps(num_steps)
    _check_semantic_inputs(z, y_pre, train_mask, denoised)
    _check_operator("operator", operator, z.size(0))
    return _semantic_labels(z, y_pre, operator, train_mask, beta, num_steps, denoised)


def _semantic_labels(z: Tensor, y_pre: Tensor, operator: Adjacency, train_mask: Tensor,
                     beta: float, num_steps: int, denoised: Optional[Tensor] = None) -> Tensor:
    """:func:`semantic_labels` without the argument checks (the trainer checks once per fit
    and calls this every epoch, with no host synchronisation)."""
    z = z.detach()
    similarity = _prototype_similarity(z, y_pre, train_mask, denoised)
    mixed = torch.softmax(beta * y_pre.to(z.dtype) + (1.0 - beta) * similarity, dim=1)
    return diffuse(operator, mixed, num_steps, alpha=0.0)


def label_propagation_semantic_labels(z: Tensor, y_pre: Tensor, graph: GraphLike,
                                      train_mask: Tensor, alpha: float = 0.6,
                                      beta: float = 0.5, num_steps: int = 50,
                                      denoised: Optional[Tensor] = None) -> Tensor:
    r"""The per-epoch labels of the ERASE release's ogbn-arxiv script: the training nodes'
    pre-corrected labels mixed with the prototype similarities, then PyG's label propagation
    with restart from the training nodes (``LabelPropagation(num_layers=T, alpha=alpha)`` with
    the training mask; no softmax):

    .. math::
        \mathbf{Y}^{(0)}_i &= \big(\beta\,\mathbf{Y}_{\text{pre}, i}
            + (1-\beta)\,\mathbf{S}_i\big)\,\mathbb{1}[i \in \text{train}], \\
        \mathbf{Y}^{(t+1)} &= \mathrm{clamp}_{[0, 1]}\big(\alpha\,\mathbf{D}^{-1/2}
            \mathbf{A}\mathbf{D}^{-1/2}\mathbf{Y}^{(t)} + (1-\alpha)\,\mathbf{Y}^{(0)}\big),

    with :math:`S_{ik} = |\cos(\mathbf{z}_i, \mathbf{c}_k)|` and the prototypes
    :math:`\mathbf{c}_k` of :func:`semantic_labels`. Unlike the lazy propagation, the restart
    keeps the labels from washing out over many steps (the release runs :math:`T = 50`).
    Runs without gradient.

    Args:
        z (torch.Tensor): ``[N, p]`` embeddings of all nodes.
        y_pre (torch.Tensor): ``[N, K]`` pre-corrected labels (:func:`precorrect_labels`; only
            the training rows are read).
        graph: the graph (``edge_index``, :class:`~noisygraph.sparse.Adjacency`, ...).
        train_mask (torch.Tensor): ``[N]`` bool.
        alpha (float, optional): :math:`\alpha \in [0, 1]`, PyG's weight of the propagated
            term. (default: ``0.6``)
        beta (float, optional): :math:`\beta \in [0, 1]`. (default: ``0.5``)
        num_steps (int, optional): :math:`T \ge 0`. (default: ``50``)
        denoised (torch.Tensor, optional): ``[n_train]`` precomputed
            ``y_pre[train_mask].argmax(1)``. (default: :obj:`None`)

    Returns:
        torch.Tensor: ``[N, K]`` propagated label scores.
    """
    alpha = _check_unit_interval("alpha", alpha)
    beta = _check_unit_interval("beta", beta)
    num_steps = _check_steps(num_steps)
    _check_semantic_inputs(z, y_pre, train_mask, denoised)
    adj = as_adjacency(graph, num_nodes=z.size(0))
    _check_operator("graph", adj, z.size(0))
    return _label_propagation_semantic_labels(z, y_pre, adj.normalize("sym"), train_mask,
                                              alpha, beta, num_steps, denoised)


def _label_propagation_semantic_labels(z: Tensor, y_pre: Tensor, sym: Adjacency,
                                       train_mask: Tensor, alpha: float, beta: float,
                                       num_steps: int,
                                       denoised: Optional[Tensor] = None) -> Tensor:
    """:func:`label_propagation_semantic_labels` without the argument checks, on the
    symmetrically normalised adjacency ``sym``."""
    from noisygraph.nn.propagation import LabelPropagation
    z = z.detach()
    similarity = _prototype_similarity(z, y_pre, train_mask, denoised)
    mixed = beta * y_pre.to(z.dtype) + (1.0 - beta) * similarity
    return LabelPropagation(num_steps, alpha)(mixed, sym, mask=train_mask)
