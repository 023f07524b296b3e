"""PyG-style propagation layers running on noisygraph's fused diffusion kernel.

Both are drop-in equivalents of their PyG namesakes: same constructor, same ``forward``
arguments, numerically equal output (tested against PyG).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from noisygraph._validation import (check_bool, check_bool_mask, check_finite, check_float_matrix,
                                    check_real, check_steps, check_tensor)
from noisygraph.ops.diffusion import diffuse_adjacency, spmm_adjacency
from noisygraph.sparse import Adjacency, GraphLike, as_adjacency


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

    Args:
        num_layers (int): number of propagation steps (:math:`\geq 0`).
        alpha (float): weight of the propagated term, :math:`\alpha \in [0, 1]`.
    """

    def __init__(self, num_layers: int, alpha: float):
        super().__init__()
        self.num_layers = check_steps("num_layers", num_layers)
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)

    @torch.no_grad()
    def forward(self, y: Tensor, edge_index: GraphLike, mask: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                post_step: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
        r"""
        Args:
            y (torch.Tensor): labels ``[N]`` (non-negative ints, one-hot encoded here) or
                finite float32/64 soft labels ``[N, C]``.
            edge_index: the graph (``edge_index``, ``EdgeIndex``, ``torch.sparse`` or
                :class:`~noisygraph.sparse.Adjacency`).
            mask (torch.Tensor, optional): bool mask or index tensor of the nodes whose labels
                seed the propagation. (default: :obj:`None`, all nodes)
            edge_weight (torch.Tensor, optional): edge weights, used as given (no
                normalization), as in PyG. (default: :obj:`None`: symmetric normalization)
            post_step (callable, optional): applied after every step instead of the clamp to
                :math:`[0, 1]`. (default: :obj:`None`)
        """
        y, squeeze = _label_matrix(y)
        num_nodes = y.size(0)
        bool_mask = None if mask is None else _node_mask(mask, num_nodes, y.device)
        if post_step is not None and not callable(post_step):
            raise TypeError(f"post_step must be callable, got {type(post_step).__name__}")
        adj = _graph(edge_index, edge_weight, num_nodes)
        _check_graph_size(adj, "y", num_nodes)
        check_float_matrix("y", y, num_nodes, adj.device)
        check_finite("y", y)
        if edge_weight is None and not (isinstance(edge_index, Adjacency) and
                                        edge_index.value is not None):
            adj = adj.normalize("sym")
        restart = 1.0 - self.alpha
        if bool_mask is not None:
            y = y * bool_mask.to(y.dtype).unsqueeze(-1)
        if post_step is None:
            out = diffuse_adjacency(adj, y, self.num_layers, restart, clip=True)
            return out.squeeze(-1) if squeeze else out
        out = y
        for _ in range(self.num_layers):
            out = post_step(self.alpha * spmm_adjacency(adj, out) + restart * y)
            if not isinstance(out, Tensor) or out.shape != y.shape or \
                    out.dtype not in (torch.float32, torch.float64) or out.device != y.device:
                raise TypeError("post_step must return a float32/float64 tensor of shape "
                                f"{tuple(y.shape)} on {y.device}, got "
                                f"{getattr(out, 'dtype', type(out).__name__)} of shape "
                                f"{tuple(getattr(out, 'shape', ()))}")
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


class APPNP(torch.nn.Module):
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

    Args:
        K (int): number of iterations :math:`K \geq 0`.
        alpha (float): teleport probability :math:`\alpha \in [0, 1]`.
        dropout (float, optional): dropout probability of edges during training, in
            :math:`[0, 1)`. (default: :obj:`0`)
        cached (bool, optional): cache the normalized adjacency of the first call (for
            transductive learning on one graph). (default: :obj:`False`)
        add_self_loops (bool, optional): add self-loops before normalizing.
            (default: :obj:`True`)
        normalize (bool, optional): apply the symmetric normalization; otherwise the edge
            weights (or ones) are used as given. (default: :obj:`True`)
    """

    def __init__(self, K: int, alpha: float, dropout: float = 0.0, cached: bool = False,
                 add_self_loops: bool = True, normalize: bool = True):
        super().__init__()
        self.K = check_steps("K", K)
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)
        self.dropout = check_real("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.cached = check_bool("cached", cached)
        self.add_self_loops = check_bool("add_self_loops", add_self_loops)
        self.normalize = check_bool("normalize", normalize)
        self._cached_adjacency: Optional[Adjacency] = None

    def reset_parameters(self) -> None:
        """Drops the cached normalized adjacency (APPNP has no trainable parameters)."""
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

    def forward(self, x: Tensor, edge_index: GraphLike,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            x (torch.Tensor): node features ``[N, F]``, float32/64, finite.
            edge_index: the graph (``edge_index``, ``EdgeIndex``, ``torch.sparse`` or
                :class:`~noisygraph.sparse.Adjacency`).
            edge_weight (torch.Tensor, optional): edge weights. (default: :obj:`None`)
        """
        check_tensor("x", x)
        if x.dim() != 2:
            raise ValueError(f"x must be 2-D [num_nodes, F], got shape {tuple(x.shape)}")
        adj = self._adjacency(edge_index, edge_weight, x.size(0))
        _check_graph_size(adj, "x", x.size(0))
        check_float_matrix("x", x, adj.num_rows, adj.device)
        check_finite("x", x)
        if not (self.dropout > 0 and self.training):
            return diffuse_adjacency(adj, x, self.K, self.alpha)
        h = x
        weights = adj.values_as(x.dtype) if adj.value is not None else adj.weights(x.dtype)
        for _ in range(self.K):
            # dropped-out validated weights stay finite and >= 0: no per-step re-check
            dropped = adj._with_trusted_values(F.dropout(weights, p=self.dropout))
            x = (1.0 - self.alpha) * spmm_adjacency(dropped, x) + self.alpha * h
        return x

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(K={self.K}, alpha={self.alpha})"
