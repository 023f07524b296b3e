"""TEMPORARY stand-in for ``noisygraph.sparse.as_adjacency`` (p-layers adds the real one;
this module is deleted when it lands): any graph a user has, as a validated Adjacency."""
from __future__ import annotations

from typing import Any, Optional

from torch import Tensor

from noisygraph.sparse import Adjacency, to_adjacency


def as_adjacency(graph: Any, *, num_nodes: Optional[int] = None,
                 edge_weight: Optional[Tensor] = None) -> Adjacency:
    """A PyG ``Data`` (its ``edge_index``, ``edge_weight`` and ``num_nodes``), an
    ``edge_index``/``EdgeIndex``, a torch sparse matrix, a ``scipy.sparse`` matrix, a
    ``networkx`` graph or an :class:`Adjacency`, as a validated :class:`Adjacency`."""
    if isinstance(graph, (Adjacency, Tensor)):
        return to_adjacency(graph, edge_weight=edge_weight, num_nodes=num_nodes)
    if hasattr(graph, "tocoo"):  # scipy.sparse
        from torch_geometric.utils import from_scipy_sparse_matrix
        edge_index, weight = from_scipy_sparse_matrix(graph)
        return to_adjacency(edge_index, edge_weight=weight.float() if edge_weight is None
                            else edge_weight, num_nodes=num_nodes or graph.shape[0])
    if hasattr(graph, "nodes") and hasattr(graph, "edges") and not hasattr(graph, "edge_index"):
        from torch_geometric.utils import from_networkx
        data = from_networkx(graph)
        return to_adjacency(data.edge_index, edge_weight=edge_weight,
                            num_nodes=num_nodes or data.num_nodes)
    edge_index = getattr(graph, "edge_index", None)
    if edge_index is None:
        adj = getattr(graph, "adj_t", None)
        if adj is None:
            raise TypeError("graph must be a Data with an edge_index, an edge_index/EdgeIndex, a "
                            "torch/scipy sparse matrix, a networkx graph or an Adjacency, got "
                            f"{type(graph).__name__}")
        return to_adjacency(adj, num_nodes=num_nodes)
    if edge_weight is None:
        edge_weight = getattr(graph, "edge_weight", None)
    return to_adjacency(edge_index, edge_weight=edge_weight,
                        num_nodes=num_nodes if num_nodes is not None else graph.num_nodes)
