"""PyG-style propagation layers running on noisygraph's fused diffusion kernel.

Both are drop-in equivalents of their PyG namesakes: same constructor, same ``forward``
arguments, numerically equal output; PyG's own tests of both pass against them
(``tests/pyg/``). The graph is converted once, at the top of ``forward``, by
:func:`~noisygraph.sparse.as_adjacency` (any format it accepts), and an
:class:`~noisygraph.sparse.Adjacency` is handed down to the kernels.

float16 and bfloat16 inputs are upcast to float32 inside the layer (the kernels accumulate in
float32) and the result is cast back to the input dtype. Under :func:`torch.compile` and
:func:`torch.export` the finiteness check of the dense input is skipped (it would be a host
synchronisation); every other check is a metadata check that costs nothing in a compiled graph.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing

from noisygraph._validation import (check_bool, check_bool_mask, check_finite, check_float_matrix,
                                    check_real, check_steps, check_tensor)
from noisygraph.ops.diffusion import diffuse_adjacency, spmm_adjacency
from noisygraph.sparse import Adjacency, GraphLike, _sort_permutation, as_adjacency

_HALF_DTYPES = (torch.float16, torch.bfloat16)
_LAYER_DTYPES = _HALF_DTYPES + (torch.float32, torch.float64)


def _graph(graph: GraphLike, edge_weight: Optional[Tensor], num_rows: int) -> Adjacency:
    """The layer's graph through :func:`~noisygraph.sparse.as_adjacency`; ``num_rows`` (of the
    dense input) is the node count of a bare ``edge_index`` only: every other format has its
    own size, which :func:`_check_graph_size` compares with the dense input, naming it."""
    bare = isinstance(graph, Tensor) and graph.layout == torch.strided
    return as_adjacency(graph, num_nodes=num_rows if bare else None, edge_weight=edge_weight)


def _check_graph_size(adj: Adjacency, name: str, num_rows: int) -> None:
    if not adj.num_rows == adj.num_cols == num_rows:
        raise ValueError(f"{name} has {num_rows} rows but the graph is "
                         f"{adj.num_rows} x {adj.num_cols}")


def _dense_input(name: str, x: Tensor, adj: Adjacency) -> Tensor:
    """``x`` checked against ``adj`` (finiteness only outside a compiled graph), in the dtype
    the kernels compute in: float16/bfloat16 upcast to float32."""
    if x.dtype not in _LAYER_DTYPES:
        raise TypeError(f"{name} must be float16, bfloat16, float32 or float64, got {x.dtype}")
    if x.dtype in _HALF_DTYPES:
        x = x.float()
    check_float_matrix(name, x, adj.num_rows, adj.device)
    if not torch.compiler.is_compiling():
        check_finite(name, x)
    return x


class LabelPropagation(torch.nn.Module):
    r"""Label propagation (Zhu and Ghahramani, 2002; "Learning from Labeled and Unlabeled
    Data with Label Propagation"), a drop-in replacement of
    :class:`torch_geometric.nn.models.LabelPropagation`:

    .. math::
        \mathbf{Y}^{\prime} = \alpha \cdot \mathbf{D}^{-1/2} \mathbf{A}
        \mathbf{D}^{-1/2} \mathbf{Y} + (1 - \alpha) \mathbf{Y},

    repeated ``num_layers`` times, each step clamped to :math:`[0, 1]` (or followed by
    ``post_step``). All steps run in one fused kernel call unless a custom ``post_step`` is
    given. Note PyG's :math:`\alpha` weighs the propagated term; in
    :func:`noisygraph.ops.diffuse` it is the restart weight (``alpha = 1 - self.alpha``).

    float16/bfloat16 soft labels propagate in float32 and come back in their dtype. Compiled
    with ``torch.compile(fullgraph=True)`` or exported, the forward needs an
    :class:`~noisygraph.sparse.Adjacency` that carries its weights (such as
    ``as_adjacency(edge_index).normalize("sym")``) and was used once eagerly (which caches the
    kernel's CSR on it), and float soft labels: integer labels are one-hot encoded with the class count read from the data
    (a host synchronisation, as in PyG).

    Args:
        num_layers (int): number of propagation steps (:math:`\geq 0`).
        alpha (float): weight of the propagated term, :math:`\alpha \in [0, 1]`.
    """

    def __init__(self, num_layers: int, alpha: float):
        super().__init__()
        self.num_layers = check_steps("num_layers", num_layers)
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters, no cache); here so that code resetting every
        module works as with PyG's ``LabelPropagation`` (a ``MessagePassing`` layer)."""

    @torch.no_grad()
    def forward(self, y: Tensor, edge_index: GraphLike, mask: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                post_step: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
        r"""
        Args:
            y (torch.Tensor): labels ``[N]`` (non-negative ints, one-hot encoded here) or
                finite float soft labels ``[N, C]`` (float16, bfloat16, float32 or float64).
            edge_index: the graph, in any format :func:`~noisygraph.sparse.as_adjacency`
                accepts (``edge_index``, ``EdgeIndex``, PyG ``Data``, ``torch.sparse``,
                ``scipy.sparse``, ``networkx``, :class:`~noisygraph.sparse.Adjacency`).
            mask (torch.Tensor, optional): bool mask or index tensor of the nodes whose labels
                seed the propagation. (default: :obj:`None`, all nodes)
            edge_weight (torch.Tensor, optional): edge weights, used as given (no
                normalization), as in PyG; an :class:`~noisygraph.sparse.Adjacency` with
                values is used as given too. (default: :obj:`None`: symmetric normalization)
            post_step (callable, optional): applied after every step instead of the clamp to
                :math:`[0, 1]`; it sees (and must return) a float32/float64 tensor (float16 and
                bfloat16 labels accumulate in float32). (default: :obj:`None`)
        """
        y, squeeze = _label_matrix(y)
        num_nodes = y.size(0)
        bool_mask = None if mask is None else _node_mask(mask, num_nodes, y.device)
        if post_step is not None and not callable(post_step):
            raise TypeError(f"post_step must be callable, got {type(post_step).__name__}")
        adj = _graph(edge_index, edge_weight, num_nodes)
        _check_graph_size(adj, "y", num_nodes)
        dtype = y.dtype
        y = _dense_input("y", y, adj)
        if edge_weight is None and not (isinstance(edge_index, Adjacency) and
                                        edge_index.value is not None):
            adj = adj.normalize("sym")
        restart = 1.0 - self.alpha
        if bool_mask is not None:
            y = y * bool_mask.to(y.dtype).unsqueeze(-1)
        if post_step is None:
            out = diffuse_adjacency(adj, y, self.num_layers, restart, clip=True)
        else:
            out = y
            for _ in range(self.num_layers):
                out = post_step(self.alpha * spmm_adjacency(adj, out) + restart * y)
                if not isinstance(out, Tensor) or out.shape != y.shape or \
                        out.dtype not in (torch.float32, torch.float64) or out.device != y.device:
                    raise TypeError("post_step must return a float32/float64 tensor of shape "
                                    f"{tuple(y.shape)} on {y.device}, got "
                                    f"{getattr(out, 'dtype', type(out).__name__)} of shape "
                                    f"{tuple(getattr(out, 'shape', ()))}")
        out = out.to(dtype)
        return out.squeeze(-1) if squeeze else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_layers={self.num_layers}, alpha={self.alpha})"


def _label_matrix(y) -> tuple[Tensor, bool]:
    """Integer labels ``[N]`` (or ``[N, 1]``) one-hot encoded, soft labels ``[N, C]`` as given
    (``[N]`` as ``[N, 1]``), and whether to squeeze the result back to ``[N]``."""
    check_tensor("y", y)
    if y.dim() == 0:
        raise ValueError("y must be labels [N] or soft labels [N, C], got a scalar")
    if y.dtype == torch.bool or y.is_complex():
        raise TypeError(f"y must hold integer labels or float soft labels, got {y.dtype}")
    if y.is_floating_point():
        return (y.unsqueeze(-1), True) if y.dim() == 1 else (y, False)
    if y.numel() != y.size(0):
        raise ValueError(f"integer labels y must have shape [N] or [N, 1], got "
                         f"{tuple(y.shape)}")
    labels = y.view(-1).long()
    if labels.numel() == 0:
        raise ValueError("integer labels y must hold at least one label (the number of "
                         "classes is read from them)")
    if int(labels.min()) < 0:
        raise ValueError(f"y holds a negative label ({int(labels.min())})")
    return F.one_hot(labels).to(torch.get_default_dtype()), False


def _node_mask(mask, num_nodes: int, device: torch.device) -> Tensor:
    """A bool mask ``[N]`` or a 1-D index tensor (ids in ``[-N, N)``) as a bool mask."""
    check_tensor("mask", mask)
    if mask.dtype == torch.bool:
        return check_bool_mask("mask", mask, num_nodes, device)
    if mask.is_floating_point() or mask.is_complex() or mask.dim() != 1:
        raise TypeError("mask must be a bool mask or a 1-D integer index tensor, got "
                        f"{mask.dtype} of shape {tuple(mask.shape)}")
    if mask.device != device:
        raise ValueError(f"mask is on {mask.device} but y on {device}")
    index = mask.long()
    if index.numel() > 0:
        low, high = torch.stack(torch.aminmax(index)).tolist()
        if low < -num_nodes or high >= num_nodes:
            raise ValueError(f"mask holds node ids in [{low}, {high}], outside "
                             f"[-{num_nodes}, {num_nodes})")
    out = torch.zeros(num_nodes, dtype=torch.bool, device=device)
    out[index] = True
    return out


class APPNP(MessagePassing):
    r"""The approximate personalized PageRank propagation of `"Predict then Propagate"
    <https://arxiv.org/abs/1810.05997>`_, a drop-in replacement of
    :class:`torch_geometric.nn.conv.APPNP`:

    .. math::
        \mathbf{X}^{(0)} = \mathbf{X},\quad
        \mathbf{X}^{(k)} = (1 - \alpha) \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2} \mathbf{X}^{(k-1)} + \alpha \mathbf{X}^{(0)},

    with :math:`\hat{\mathbf{A}} = \mathbf{A} + \mathbf{I}` (remaining self-loops, as PyG's
    ``gcn_norm``). The :math:`K` steps run in one fused kernel call (forward and backward)
    unless edge dropout is active.

    A :class:`~torch_geometric.nn.conv.MessagePassing` subclass (it does not call
    ``propagate``) so that PyG's explainers find it: with an edge mask set by
    :class:`torch_geometric.explain.Explainer`, every message is scaled by its edge's mask
    (sigmoid-ed when the explainer asks for it) after the normalization, and the added
    self-loops by 1, as in PyG's ``MessagePassing.explain_message``.

    With ``cached=True`` the first call's normalized adjacency is kept and every later call
    runs just the kernel: that path has no graph break under :func:`torch.compile` (so
    ``fullgraph=True`` works) and exports with :func:`torch.export.export`. float16/bfloat16
    features propagate in float32 and come back in their dtype.

    Args:
        K (int): number of iterations :math:`K \geq 0`.
        alpha (float): teleport probability :math:`\alpha \in [0, 1]`.
        dropout (float, optional): dropout probability of edges during training, in
            :math:`[0, 1]` (``1`` drops every edge: the output is :math:`\alpha\mathbf{X}`).
            (default: :obj:`0`)
        cached (bool, optional): cache the normalized adjacency of the first call (for
            transductive learning on one graph). (default: :obj:`False`)
        add_self_loops (bool, optional): add self-loops before normalizing.
            (default: :obj:`True`)
        normalize (bool, optional): apply the symmetric normalization; otherwise the edge
            weights (or ones) are used as given. (default: :obj:`True`)
    """

    def __init__(self, K: int, alpha: float, dropout: float = 0.0, cached: bool = False,
                 add_self_loops: bool = True, normalize: bool = True):
        super().__init__(aggr="add")
        self.K = check_steps("K", K)
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)
        self.dropout = check_real("dropout", dropout, low=0.0, high=1.0)
        self.cached = check_bool("cached", cached)
        self.add_self_loops = check_bool("add_self_loops", add_self_loops)
        self.normalize = check_bool("normalize", normalize)
        self._cached_adjacency: Optional[Adjacency] = None

    @property
    def _cached_edge_index(self) -> Optional[Adjacency]:
        """PyG's name for the cache: one cache serves every graph format here."""
        return self._cached_adjacency

    @property
    def _cached_adj_t(self) -> Optional[Adjacency]:
        """PyG's name for the cache of sparse inputs: the same one cache."""
        return self._cached_adjacency

    def reset_parameters(self) -> None:
        """Drops the cached normalized adjacency (APPNP has no trainable parameters)."""
        super().reset_parameters()
        self._cached_adjacency = None

    def _adjacency(self, edge_index: GraphLike, edge_weight: Optional[Tensor],
                   num_nodes: int) -> Adjacency:
        if self._cached_adjacency is not None:
            return self._cached_adjacency
        adj = _graph(edge_index, edge_weight, num_nodes)
        if self.normalize:
            adj = adj.normalize("sym", add_self_loops=self.add_self_loops)
        if self.cached:
            self._cached_adjacency = adj
        return adj

    def _explained(self, adj: Adjacency, edge_index: GraphLike) -> Adjacency:
        """``adj`` with every nonzero scaled by the explainer's mask of its edge (1 for the
        self-loops the normalization added)."""
        if not (isinstance(edge_index, Tensor) and edge_index.layout == torch.strided):
            raise ValueError("APPNP can apply an explainer's edge mask only to an edge_index "
                             f"graph, got {type(edge_index).__name__}")
        edge_index = edge_index.as_tensor() if hasattr(edge_index, "as_tensor") else edge_index
        mask = self._edge_mask
        if mask is None:
            raise ValueError("APPNP.explain is set but no edge mask was given (set it with "
                             "torch_geometric.explain.algorithm.utils.set_masks)")
        if mask.shape != (edge_index.size(1),):
            raise ValueError(f"the explainer's edge mask has shape {tuple(mask.shape)}, but "
                             f"edge_index has {edge_index.size(1)} edges")
        if self._apply_sigmoid:
            mask = mask.sigmoid()
        source, target = edge_index[0], edge_index[1]
        if self.normalize and self.add_self_loops:  # the layout Adjacency.with_self_loops builds
            keep = source != target
            loops = torch.arange(adj.num_rows, device=source.device)
            source = torch.cat([source[keep], loops])
            target = torch.cat([target[keep], loops])
            mask = torch.cat([mask[keep], mask.new_ones(adj.num_rows)])
        # the nonzeros of adj are the edges sorted stably by (target, source)
        mask = mask[_sort_permutation(target, source, adj.num_rows, adj.num_cols)]
        return adj._with_trusted_values(adj.weights(mask.dtype) * mask)

    def forward(self, x: Tensor, edge_index: GraphLike,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            x (torch.Tensor): node features ``[N, F]``, finite, float16, bfloat16, float32 or
                float64.
            edge_index: the graph, in any format :func:`~noisygraph.sparse.as_adjacency`
                accepts (``edge_index``, ``EdgeIndex``, PyG ``Data``, ``torch.sparse``,
                ``scipy.sparse``, ``networkx``, :class:`~noisygraph.sparse.Adjacency`).
            edge_weight (torch.Tensor, optional): edge weights. (default: :obj:`None`)
        """
        check_tensor("x", x)
        if x.dim() != 2:
            raise ValueError(f"x must be 2-D [num_nodes, F], got shape {tuple(x.shape)}")
        adj = self._adjacency(edge_index, edge_weight, x.size(0))
        _check_graph_size(adj, "x", x.size(0))
        dtype = x.dtype
        x = _dense_input("x", x, adj)
        if self.explain:
            adj = self._explained(adj, edge_index)
        if not (self.dropout > 0 and self.training):
            return diffuse_adjacency(adj, x, self.K, self.alpha).to(dtype)
        h = x
        weights = adj.values_as(x.dtype) if adj.value is not None else adj.weights(x.dtype)
        for _ in range(self.K):
            # dropped-out validated weights stay finite and >= 0: no per-step re-check
            dropped = adj._with_trusted_values(F.dropout(weights, p=self.dropout))
            x = (1.0 - self.alpha) * spmm_adjacency(dropped, x) + self.alpha * h
        return x.to(dtype)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(K={self.K}, alpha={self.alpha})"
