"""PyG's :class:`~torch_geometric.nn.conv.GATConv` forward with the aggregation fused: the
attention weights of the edges (self-loops included) are computed as GATConv computes them,
then one :func:`noisygraph.ops.diffusion.spmm_edge_values` per head sums the weighted source
features, so the ``[E, heads, C]`` per-edge message tensor (and its gradient) is never built.
Same parameters, same result up to the order of floating-point sums."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv
from torch_geometric.utils import add_self_loops, remove_self_loops, softmax

from noisygraph import _ops
from noisygraph.ops.diffusion import spmm_edge_values
from noisygraph.sparse import Adjacency, as_adjacency


def fusable(conv: torch.nn.Module, x: Tensor) -> bool:
    """Whether :func:`fused_gat` computes exactly what ``conv(x, edge_index)`` does: a
    GATConv with one shared projection, self-loops added, heads concatenated, no edge
    features or residual, not being explained, on a device with the spmm kernel."""
    return (type(conv) is GATConv and isinstance(x, Tensor) and conv.lin is not None
            and getattr(conv, "res", None) is None and conv.lin_edge is None
            and conv.add_self_loops and conv.concat and not conv.explain
            and not torch.compiler.is_compiling() and _ops.has_kernel("spmm", x.device))


def gat_graph(edge_index: Tensor, num_nodes: int) -> Tuple[Adjacency, Tensor]:
    """The graph GATConv aggregates over (self-loops replaced by one per node) as an
    :class:`Adjacency` (rows are targets) and the target of each of its nonzeros."""
    edge_index, _ = remove_self_loops(edge_index)
    edge_index, _ = add_self_loops(edge_index, num_nodes=num_nodes)
    adj = as_adjacency(edge_index, num_nodes=num_nodes)
    rows = torch.repeat_interleave(torch.arange(num_nodes, device=edge_index.device),
                                   adj.rowptr.diff())
    return adj, rows


def fused_gat(conv: GATConv, x: Tensor, adj: Adjacency, rows: Tensor) -> Tensor:
    """``conv(x, edge_index)`` for ``(adj, rows) = gat_graph(edge_index, N)`` (see
    :func:`fusable`)."""
    heads, channels = conv.heads, conv.out_channels
    h = conv.lin(x).view(-1, heads, channels)
    score_src = (h * conv.att_src).sum(dim=-1)
    score_dst = (h * conv.att_dst).sum(dim=-1)
    alpha = score_src[adj.col] + score_dst[rows]
    alpha = F.leaky_relu(alpha, conv.negative_slope)
    alpha = softmax(alpha, rows, num_nodes=x.size(0))
    alpha = F.dropout(alpha, p=conv.dropout, training=conv.training)
    if heads == 1:
        out = spmm_edge_values(adj, alpha.view(-1), h.view(-1, channels))
    else:
        out = torch.cat([spmm_edge_values(adj, alpha[:, k].contiguous(),
                                          h[:, k].contiguous()) for k in range(heads)], dim=1)
    if conv.bias is not None:
        out = out + conv.bias
    return out
