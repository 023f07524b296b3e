"""PyG-style propagation layers running on noisygraph's fused diffusion kernel.

Both are drop-in equivalents of their PyG namesakes: same constructor, same ``forward``
arguments, numerically equal output (tested against PyG).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from noisygraph.ops import diffuse, spmm
from noisygraph.sparse import Adjacency, GraphLike, to_adjacency


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha must be a float, got {type(alpha).__name__}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    return float(alpha)


def _check_steps(name: str, steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"{name} must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"{name} must be >= 0, got {steps}")
    return steps


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
        num_layers (int): number of propagation steps.
        alpha (float): weight of the propagated term, :math:`\alpha \in [0, 1]`.
    """

    def __init__(self, num_layers: int, alpha: float):
        super().__init__()
        self.num_layers = _check_steps("num_layers", num_layers)
        self.alpha = _check_alpha(alpha)

    @torch.no_grad()
    def forward(self, y: Tensor, edge_index: GraphLike, mask: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                post_step: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
        r"""
        Args:
            y (torch.Tensor): labels ``[N]`` (int, one-hot encoded here) or soft labels
                ``[N, C]``.
            edge_index: the graph (``edge_index``, ``EdgeIndex``, ``torch.sparse`` or
                :class:`~noisygraph.sparse.Adjacency`).
            mask (torch.Tensor, optional): bool mask or index tensor of the nodes whose labels
                seed the propagation. (default: :obj:`None`, all nodes)
            edge_weight (torch.Tensor, optional): edge weights, used as given (no
                normalization), as in PyG. (default: :obj:`None`: symmetric normalization)
            post_step (callable, optional): applied after every step instead of the clamp to
                :math:`[0, 1]`. (default: :obj:`None`)
        """
        if not isinstance(y, Tensor):
            raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
        if not y.is_floating_point() and y.size(0) == y.numel():
            if y.numel() > 0 and int(y.min()) < 0:
                raise ValueError(f"y holds a negative label ({int(y.min())})")
            y = F.one_hot(y.view(-1).long()).to(torch.get_default_dtype())
        num_nodes = y.size(0)
        bool_mask = None
        if mask is not None:
            bool_mask = mask
            if mask.dtype != torch.bool:
                if mask.is_floating_point() or mask.dim() != 1:
                    raise TypeError("mask must be a bool mask or a 1-D index tensor, got "
                                    f"{mask.dtype} of shape {tuple(mask.shape)}")
                if mask.numel() > 0 and (int(mask.min()) < -num_nodes or
                                         int(mask.max()) >= num_nodes):
                    raise ValueError(f"mask holds node ids outside [0, {num_nodes})")
                bool_mask = torch.zeros(num_nodes, dtype=torch.bool, device=y.device)
                bool_mask[mask] = True
        adj = to_adjacency(edge_index, edge_weight, num_nodes=num_nodes)
        if edge_weight is None and not (isinstance(edge_index, Adjacency) and
                                        edge_index.value is not None):
            adj = adj.normalize("sym")
        restart = 1.0 - self.alpha
        if post_step is None:
            return diffuse(adj, y, self.num_layers, restart, mask=bool_mask, clip=True)
        out = diffuse(adj, y, 0, restart, mask=bool_mask)
        start = out
        for _ in range(self.num_layers):
            out = post_step(self.alpha * spmm(adj, out) + restart * start)
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(num_layers={self.num_layers}, alpha={self.alpha})"


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
        K (int): number of iterations :math:`K`.
        alpha (float): teleport probability :math:`\alpha`.
        dropout (float, optional): dropout probability of edges during training.
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
        super().__init__()
        self.K = _check_steps("K", K)
        self.alpha = _check_alpha(alpha)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must lie in [0, 1], got {dropout}")
        self.dropout = float(dropout)
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_adjacency: Optional[Adjacency] = None

    def reset_parameters(self) -> None:
        """Drops the cached normalized adjacency (APPNP has no trainable parameters)."""
        self._cached_adjacency = None

    def _adjacency(self, edge_index: GraphLike, edge_weight: Optional[Tensor],
                   num_nodes: int) -> Adjacency:
        if self._cached_adjacency is not None:
            return self._cached_adjacency
        adj = to_adjacency(edge_index, edge_weight, num_nodes=num_nodes)
        if self.normalize:
            adj = adj.normalize("sym", add_self_loops=self.add_self_loops)
        if self.cached:
            self._cached_adjacency = adj
        return adj

    def forward(self, x: Tensor, edge_index: GraphLike,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            x (torch.Tensor): node features ``[N, F]``.
            edge_index: the graph (``edge_index``, ``EdgeIndex``, ``torch.sparse`` or
                :class:`~noisygraph.sparse.Adjacency`).
            edge_weight (torch.Tensor, optional): edge weights. (default: :obj:`None`)
        """
        if not isinstance(x, Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        adj = self._adjacency(edge_index, edge_weight, x.size(0))
        if not (self.dropout > 0 and self.training):
            return diffuse(adj, x, self.K, self.alpha)
        h = x
        weights = adj.values_as(x.dtype) if adj.value is not None else adj.weights(x.dtype)
        for _ in range(self.K):
            dropped = Adjacency(adj.rowptr, adj.col, F.dropout(weights, p=self.dropout),
                                adj.num_cols)
            x = (1.0 - self.alpha) * spmm(dropped, x) + self.alpha * h
        return x

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(K={self.K}, alpha={self.alpha})"
