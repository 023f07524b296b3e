"""A graph preprocessed once for many local-clustering queries."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from noisygraph.sparse import Adjacency, to_adjacency


class LocalGraph:
    r"""An undirected graph in CSR form (int64) with its degrees, reused by every query.

    Strongly-local diffusions read only the rows they explore, so building this object once
    (:math:`O(|E| \log |E|)`) and reusing it makes each query cost only its explored volume.

    Args:
        rowptr (torch.Tensor): CSR row pointer ``[N + 1]``.
        col (torch.Tensor): neighbour of each nonzero ``[nnz]``.
        value (torch.Tensor, optional): non-negative edge weights ``[nnz]`` (float64), or
            :obj:`None` for an unweighted graph. (default: :obj:`None`)
        check_symmetric (bool): verify that the graph is undirected (every edge stored in
            both directions with equal weight). (default: :obj:`True`)
    """

    def __init__(self, rowptr: Tensor, col: Tensor, value: Optional[Tensor] = None,
                 check_symmetric: bool = True):
        if not isinstance(rowptr, Tensor) or rowptr.dim() != 1 or rowptr.numel() < 1:
            raise ValueError("rowptr must be a 1-D tensor with at least one entry")
        if not isinstance(col, Tensor) or col.dim() != 1:
            raise ValueError("col must be a 1-D tensor")
        if rowptr.is_cuda or col.is_cuda or (value is not None and value.is_cuda):
            raise ValueError("local clustering runs on CPU: pass CPU tensors "
                             "(e.g. edge_index.cpu())")
        self.rowptr = rowptr.to(torch.long).contiguous()
        self.col = col.to(torch.long).contiguous()
        self.num_nodes = self.rowptr.numel() - 1
        if int(self.rowptr[-1]) != self.col.numel():
            raise ValueError(f"rowptr[-1] = {int(self.rowptr[-1])} but col has "
                             f"{self.col.numel()} entries")
        if self.col.numel() and (int(self.col.min()) < 0 or int(self.col.max()) >= self.num_nodes):
            raise ValueError(f"col holds node ids outside [0, {self.num_nodes})")
        if value is not None:
            value = torch.as_tensor(value)
            if value.shape != self.col.shape:
                raise ValueError(f"edge_weight must have shape {tuple(self.col.shape)}, got "
                                 f"{tuple(value.shape)}")
            value = value.to(torch.float64).contiguous()
            if torch.isnan(value).any() or (value < 0).any():
                raise ValueError("edge_weight must be non-negative and not NaN")
        self.value = value
        row = self.row()
        self.edge_count = torch.bincount(row, minlength=self.num_nodes).to(torch.float64)
        if value is None:
            self.degree = self.edge_count
        else:
            self.degree = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(0, row, value)
        self.total_volume = float(self.degree.sum())
        if check_symmetric:
            self._check_symmetric(row)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_graph(cls, graph: Any, edge_weight: Optional[Tensor] = None,
                   num_nodes: Optional[int] = None) -> "LocalGraph":
        """Builds from a PyG ``Data`` (``edge_index``, optional ``edge_weight``/``num_nodes``),
        an :class:`~noisygraph.sparse.Adjacency`, an ``edge_index``/``EdgeIndex`` tensor or a
        ``torch.sparse`` matrix. A :class:`LocalGraph` is returned as is.

        Args:
            graph: the graph; it must be undirected (both directions stored).
            edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
            num_nodes (int, optional): number of nodes (default: from the graph).
        """
        if isinstance(graph, LocalGraph):
            return graph
        if hasattr(graph, "edge_index") and not isinstance(graph, Tensor):  # PyG Data
            if edge_weight is None:
                edge_weight = getattr(graph, "edge_weight", None)
            if num_nodes is None:
                num_nodes = graph.num_nodes
            graph = graph.edge_index
        if isinstance(graph, Tensor) and graph.is_cuda:
            raise ValueError("local clustering runs on CPU: pass graph.cpu()")
        adj = to_adjacency(graph, edge_weight, num_nodes)
        return cls(adj.rowptr, adj.col, adj.value)

    def with_weights(self, edge_weight: Optional[Tensor]) -> "LocalGraph":
        """The same structure with new weights ``[nnz]`` in CSR order (see :meth:`edges`)."""
        out = LocalGraph.__new__(LocalGraph)
        out.rowptr, out.col, out.num_nodes = self.rowptr, self.col, self.num_nodes
        out.edge_count = self.edge_count
        if edge_weight is None:
            out.value, out.degree = None, self.edge_count
        else:
            if not isinstance(edge_weight, Tensor) or edge_weight.shape != self.col.shape:
                raise ValueError(f"edge_weight must be a tensor of shape {tuple(self.col.shape)}")
            value = edge_weight.to(torch.float64).contiguous()
            if torch.isnan(value).any() or (value < 0).any():
                raise ValueError("edge_weight must be non-negative and not NaN")
            out.value = value
            out.degree = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
                0, self.row(), value)
        out.total_volume = float(out.degree.sum())
        return out

    # ------------------------------------------------------------------ views
    def row(self) -> Tensor:
        """The row (first endpoint) of every nonzero, in CSR order."""
        counts = self.rowptr[1:] - self.rowptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_nodes), counts)

    def edges(self) -> tuple[Tensor, Tensor]:
        """Both endpoints ``(row, col)`` of every nonzero, in CSR order."""
        return self.row(), self.col

    def weights(self) -> Tensor:
        """Edge weights in CSR order (ones when unweighted), float64."""
        return torch.ones(self.col.numel(), dtype=torch.float64) if self.value is None else self.value

    def neighbors(self, node: int) -> Tensor:
        return self.col[self.rowptr[node]:self.rowptr[node + 1]]

    def to_adjacency(self) -> Adjacency:
        return Adjacency(self.rowptr, self.col, self.value)

    def check_node(self, node: int, name: str = "seed") -> int:
        """Validates one node id and returns it as an ``int``."""
        if isinstance(node, Tensor):
            if node.numel() != 1:
                raise ValueError(f"{name} must be a single node id, got shape {tuple(node.shape)}")
            node = node.item()
        if isinstance(node, bool) or not isinstance(node, int):
            raise TypeError(f"{name} must be an int node id, got {type(node).__name__}")
        if not 0 <= node < self.num_nodes:
            raise ValueError(f"{name} = {node} is outside the graph's nodes [0, {self.num_nodes})")
        if self.degree[node] <= 0:
            raise ValueError(f"{name} = {node} is an isolated node (weighted degree 0): a local "
                             "diffusion from it cannot move")
        return node

    def __repr__(self) -> str:
        kind = "unweighted" if self.value is None else "weighted"
        return f"LocalGraph(num_nodes={self.num_nodes}, nnz={self.col.numel()}, {kind})"

    def _check_symmetric(self, row: Tensor) -> None:
        n = max(self.num_nodes, 1)
        forward = row * n + self.col
        backward = self.col * n + row
        order_f = torch.argsort(forward)
        order_b = torch.argsort(backward)
        if not torch.equal(forward[order_f], backward[order_b]):
            raise ValueError("graph must be undirected: store every edge in both directions "
                             "(e.g. torch_geometric.utils.to_undirected)")
        if self.value is not None and not torch.allclose(self.value[order_f], self.value[order_b]):
            raise ValueError("edge_weight must be symmetric: w(i, j) == w(j, i)")
