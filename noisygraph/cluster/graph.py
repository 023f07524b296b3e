"""A graph preprocessed once for many local-clustering queries."""
from __future__ import annotations

import numbers
from typing import Any, Optional

import torch
from torch import Tensor

from noisygraph._validation import check_type
from noisygraph.sparse import Adjacency, as_adjacency, to_adjacency


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
        rowptr = _index_tensor(rowptr, "rowptr")
        col = _index_tensor(col, "col")
        if rowptr.numel() < 1:
            raise ValueError("rowptr must have at least one entry (N + 1 for N nodes)")
        if rowptr.is_cuda or col.is_cuda or (isinstance(value, Tensor) and value.is_cuda):
            raise ValueError("local clustering runs on CPU: pass CPU tensors "
                             "(e.g. edge_index.cpu())")
        self.rowptr = rowptr.to(torch.long).contiguous()
        self.col = col.to(torch.long).contiguous()
        self.num_nodes = self.rowptr.numel() - 1
        _check_csr(self.rowptr, self.col, self.num_nodes)
        self.value = None if value is None else _edge_weights(value, self.col.numel(), "value")
        row = self.row()
        self.edge_count = torch.bincount(row, minlength=self.num_nodes).to(torch.float64)
        if self.value is None:
            self.degree = self.edge_count
        else:
            self.degree = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
                0, row, self.value)
        self.total_volume = float(self.degree.sum())
        self.total_edges = float(self.col.numel())  # total sink capacity by default
        if not isinstance(check_symmetric, bool):
            raise TypeError(f"check_symmetric must be a bool, got {type(check_symmetric).__name__}")
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
        if num_nodes is not None and (isinstance(num_nodes, bool)
                                      or not isinstance(num_nodes, numbers.Integral)
                                      or num_nodes < 0):
            raise ValueError(f"num_nodes must be an int >= 0, got {num_nodes!r}")
        if isinstance(graph, Tensor) and graph.layout == torch.strided:
            _index_tensor(graph, "edge_index")  # integer ids: floats would be truncated
        if edge_weight is not None:
            _edge_weights(edge_weight, edge_weight.numel() if isinstance(edge_weight, Tensor)
                          and edge_weight.dim() == 1 else -1, "edge_weight")
        adj = as_adjacency(graph, num_nodes=num_nodes, edge_weight=edge_weight)
        if adj.num_rows != adj.num_cols:
            raise ValueError(f"graph must be square (an undirected graph), got "
                             f"{adj.num_rows} x {adj.num_cols}")
        return cls(adj.rowptr, adj.col, adj.value)

    def with_weights(self, edge_weight: Optional[Tensor]) -> "LocalGraph":
        """The same structure with new weights ``[nnz]`` in CSR order (see :meth:`edges`)."""
        out = LocalGraph.__new__(LocalGraph)
        out.rowptr, out.col, out.num_nodes = self.rowptr, self.col, self.num_nodes
        out.edge_count, out.total_edges = self.edge_count, self.total_edges
        if edge_weight is None:
            out.value, out.degree = None, self.edge_count
        else:
            value = _edge_weights(edge_weight, self.col.numel(), "edge_weight")
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
        """The neighbours of ``node`` (in CSR order, with multiplicity)."""
        node = self.check_node(node, "node", allow_isolated=True)
        return self.col[self.rowptr[node]:self.rowptr[node + 1]]

    def to_adjacency(self) -> Adjacency:
        return Adjacency(self.rowptr, self.col, self.value)

    def check_node(self, node: int, name: str = "seed", allow_isolated: bool = False) -> int:
        """Validates one node id (an integer in ``[0, N)``; unless ``allow_isolated``, of
        positive weighted degree) and returns it as an ``int``."""
        if isinstance(node, Tensor):
            if node.numel() != 1:
                raise ValueError(f"{name} must be a single node id, got shape {tuple(node.shape)}")
            if node.is_floating_point() or node.is_complex() or node.dtype == torch.bool:
                raise TypeError(f"{name} must be an int node id, got a {node.dtype} tensor")
            node = node.item()
        if isinstance(node, bool) or not isinstance(node, numbers.Integral):
            raise TypeError(f"{name} must be an int node id, got {type(node).__name__}")
        node = int(node)
        if not 0 <= node < self.num_nodes:
            raise ValueError(f"{name} = {node} is outside the graph's nodes [0, {self.num_nodes})")
        if not allow_isolated and self.degree[node] <= 0:
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


def _index_tensor(t: Any, name: str) -> Tensor:
    """A 1-D (``edge_index``: 2-D) tensor of integer ids, or a TypeError/ValueError naming it."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(t).__name__}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers (int64 or int32), got {t.dtype}")
    if t.layout != torch.strided:
        raise TypeError(f"{name} must be a dense tensor, got layout {t.layout}")
    if name != "edge_index" and t.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    return t


def _check_csr(rowptr: Tensor, col: Tensor, num_nodes: int) -> None:
    """rowptr starts at 0, never decreases and ends at nnz; every col is in ``[0, N)``."""
    nnz = col.numel()
    if int(rowptr[0]) != 0:
        raise ValueError(f"rowptr must start at 0, got rowptr[0] = {int(rowptr[0])}")
    if num_nodes and bool((rowptr[1:] < rowptr[:-1]).any()):
        where = int((rowptr[1:] < rowptr[:-1]).nonzero()[0, 0])
        raise ValueError(f"rowptr must be non-decreasing: rowptr[{where + 1}] = "
                         f"{int(rowptr[where + 1])} < rowptr[{where}] = {int(rowptr[where])}")
    if int(rowptr[-1]) != nnz:
        raise ValueError(f"rowptr must end at nnz: rowptr[-1] = {int(rowptr[-1])} but col has "
                         f"{nnz} entries")
    if nnz and (int(col.min()) < 0 or int(col.max()) >= num_nodes):
        raise ValueError(f"col holds node ids in [{int(col.min())}, {int(col.max())}], outside "
                         f"[0, {num_nodes})")


def _edge_weights(value: Any, nnz: int, name: str) -> Tensor:
    """Edge weights as a contiguous float64 ``[nnz]`` tensor, finite and non-negative
    (``nnz = -1``: any 1-D length)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(value).__name__}")
    if value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got {value.dtype}")
    if value.dim() != 1 or (nnz >= 0 and value.numel() != nnz):
        raise ValueError(f"{name} must have shape [{nnz if nnz >= 0 else 'num_edges'}] (one "
                         f"per edge), got {tuple(value.shape)}")
    value = value.detach().to(device="cpu", dtype=torch.float64).contiguous()
    if not bool(torch.isfinite(value).all()) or bool((value < 0).any()):
        raise ValueError(f"{name} must be finite and non-negative")
    return value


def require_graph(graph: Any, name: str = "graph") -> LocalGraph:
    """``graph`` itself when it is a :class:`LocalGraph` (build one with
    :meth:`LocalGraph.from_graph`), else a ``TypeError`` naming ``name``."""
    return check_type(name, graph, LocalGraph, hint="build it once with LocalGraph.from_graph")
