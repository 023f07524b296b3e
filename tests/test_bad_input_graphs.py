"""Bad-input table of :func:`noisygraph.sparse.as_adjacency`, the one graph conversion at the
public boundary, for every graph format it accepts (edge_index, EdgeIndex, PyG Data,
torch.sparse, scipy.sparse, networkx, Adjacency) and through the layers' ``forward``. Every
case must raise ValueError or TypeError with a message that names the argument
(tests/bad_input.py)."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse
import torch
from torch_geometric import EdgeIndex
from torch_geometric.data import Data, HeteroData

from bad_input import BadInput, assert_rejects, case_id

from noisygraph.nn import APPNP, LabelPropagation
from noisygraph.sparse import Adjacency, as_adjacency

EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])
WEIGHT = torch.tensor([0.5, 1.0, 2.0, 1.5, 1.0])
ADJ = Adjacency.from_edge_index(EDGE_INDEX, WEIGHT, num_nodes=4)
X = torch.rand(4, 3)


def data(**kwargs) -> Data:
    fields = {"edge_index": EDGE_INDEX, "num_nodes": 4}
    fields.update(kwargs)
    return Data(**{k: v for k, v in fields.items() if v is not None})


def scipy_with(values, dtype=None) -> scipy.sparse.coo_matrix:
    values = np.asarray(values, dtype=dtype)
    return scipy.sparse.coo_matrix((values, (EDGE_INDEX[0].numpy(), EDGE_INDEX[1].numpy())),
                                   shape=(4, 4))


def nx_with(weight) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(4))
    graph.add_edge(0, 1, weight=1.0)
    graph.add_edge(1, 2, weight=weight)
    return graph


def hetero() -> HeteroData:
    out = HeteroData()
    out["paper"].num_nodes = 4
    out["paper", "cites", "paper"].edge_index = EDGE_INDEX
    return out


NAN = float("nan")
CASES = [
    # ------------------------------------------------------------ unsupported types
    BadInput("list", lambda: as_adjacency([[0, 1], [1, 0]]), TypeError, "graph"),
    BadInput("string", lambda: as_adjacency("cora"), TypeError, "graph"),
    BadInput("numpy-array", lambda: as_adjacency(EDGE_INDEX.numpy()), TypeError, "graph"),
    BadInput("none", lambda: as_adjacency(None), TypeError, "graph"),
    BadInput("hetero-data", lambda: as_adjacency(hetero()), TypeError, "graph"),
    BadInput("sparse-bsr", lambda: as_adjacency(ADJ.to_dense().to_sparse_bsr((2, 2))), TypeError,
             "graph"),
    # ------------------------------------------------------------ num_nodes
    BadInput("num-nodes-bool", lambda: as_adjacency(EDGE_INDEX, num_nodes=True), TypeError,
             "num_nodes"),
    BadInput("num-nodes-negative", lambda: as_adjacency(EDGE_INDEX, num_nodes=-1), ValueError,
             "num_nodes"),
    BadInput("num-nodes-float", lambda: as_adjacency(EDGE_INDEX, num_nodes=4.0), TypeError,
             "num_nodes"),
    BadInput("edge-index-beyond-num-nodes", lambda: as_adjacency(EDGE_INDEX, num_nodes=3),
             ValueError, "edge_index"),
    BadInput("edgeindex-size-conflict",
             lambda: as_adjacency(EdgeIndex(EDGE_INDEX, sparse_size=(4, 4)), num_nodes=5),
             ValueError, "num_nodes"),
    BadInput("adjacency-size-conflict", lambda: as_adjacency(ADJ, num_nodes=5), ValueError,
             "num_nodes"),
    BadInput("sparse-size-conflict", lambda: as_adjacency(ADJ.to_dense().to_sparse(), num_nodes=5),
             ValueError, "num_nodes"),
    BadInput("data-size-conflict", lambda: as_adjacency(data(), num_nodes=5), ValueError,
             "num_nodes"),
    BadInput("scipy-size-conflict", lambda: as_adjacency(scipy_with(WEIGHT.numpy()), num_nodes=5),
             ValueError, "num_nodes"),
    BadInput("networkx-size-conflict", lambda: as_adjacency(nx_with(1.0), num_nodes=5),
             ValueError, "num_nodes"),
    # ------------------------------------------------------------ edge_weight where none fits
    BadInput("adjacency-with-edge-weight", lambda: as_adjacency(ADJ, edge_weight=WEIGHT),
             ValueError, "edge_weight"),
    BadInput("sparse-with-edge-weight",
             lambda: as_adjacency(ADJ.to_dense().to_sparse(), edge_weight=WEIGHT), ValueError,
             "edge_weight"),
    BadInput("scipy-with-edge-weight",
             lambda: as_adjacency(scipy_with(WEIGHT.numpy()), edge_weight=WEIGHT), ValueError,
             "edge_weight"),
    BadInput("networkx-with-edge-weight", lambda: as_adjacency(nx_with(1.0), edge_weight=WEIGHT),
             ValueError, "edge_weight"),
    # ------------------------------------------------------------ PyG Data
    BadInput("data-without-edges", lambda: as_adjacency(Data(x=X)), ValueError, "edge_index"),
    BadInput("data-ids-beyond-num-nodes", lambda: as_adjacency(data(num_nodes=3)), ValueError,
             "graph.edge_index"),
    BadInput("data-float-edge-index", lambda: as_adjacency(data(edge_index=EDGE_INDEX.float())),
             TypeError, "graph.edge_index"),
    BadInput("data-edge-index-1d", lambda: as_adjacency(data(edge_index=EDGE_INDEX[0])),
             ValueError, "graph.edge_index"),
    BadInput("data-nan-edge-weight",
             lambda: as_adjacency(data(edge_weight=torch.tensor([NAN, 1, 1, 1, 1.0])))
             , ValueError, "edge_weight"),
    BadInput("data-negative-edge-weight",
             lambda: as_adjacency(data(edge_weight=-WEIGHT)), ValueError, "edge_weight"),
    BadInput("data-short-edge-weight", lambda: as_adjacency(data(edge_weight=WEIGHT[:2])),
             ValueError, "edge_weight"),
    BadInput("data-nan-edge-attr",
             lambda: as_adjacency(data(edge_attr=torch.tensor([NAN, 1, 1, 1, 1.0]))),
             ValueError, "edge_weight"),
    BadInput("data-bad-explicit-edge-weight",
             lambda: as_adjacency(data(), edge_weight=torch.full((5,), -1.0)), ValueError,
             "edge_weight"),
    BadInput("data-edgeindex-size-conflict",
             lambda: as_adjacency(data(edge_index=EdgeIndex(EDGE_INDEX, sparse_size=(5, 5)))),
             ValueError, "num_nodes"),
    # ------------------------------------------------------------ scipy.sparse
    BadInput("scipy-nan", lambda: as_adjacency(scipy_with([NAN, 1, 1, 1, 1])), ValueError,
             "scipy"),
    BadInput("scipy-negative", lambda: as_adjacency(scipy_with([-1.0, 1, 1, 1, 1])), ValueError,
             "scipy"),
    BadInput("scipy-infinite", lambda: as_adjacency(scipy_with([np.inf, 1, 1, 1, 1])),
             ValueError, "scipy"),
    BadInput("scipy-complex", lambda: as_adjacency(scipy_with([1j, 1, 1, 1, 1])), TypeError,
             "scipy"),
    # ------------------------------------------------------------ networkx
    BadInput("networkx-string-weight", lambda: as_adjacency(nx_with("heavy")), ValueError,
             "networkx"),
    BadInput("networkx-negative-weight", lambda: as_adjacency(nx_with(-2.0)), ValueError,
             "networkx"),
    BadInput("networkx-nan-weight", lambda: as_adjacency(nx_with(NAN)), ValueError, "networkx"),
    # ------------------------------------------------------------ torch.sparse
    BadInput("csr-negative", lambda: as_adjacency((-ADJ.to_dense()).to_sparse_csr()), ValueError,
             "values"),
    BadInput("coo-nan", lambda: as_adjacency((ADJ.to_dense() * NAN).to_sparse()), ValueError,
             "values"),
    # ------------------------------------------------------------ through the layers
    BadInput("appnp-string-graph", lambda: APPNP(K=2, alpha=0.1)(X, "cora"), TypeError, "graph"),
    BadInput("appnp-data-rows", lambda: APPNP(K=2, alpha=0.1)(X[:3], data()), ValueError, "x"),
    BadInput("appnp-scipy-rows",
             lambda: APPNP(K=2, alpha=0.1)(X[:3], scipy_with(WEIGHT.numpy())), ValueError, "x"),
    BadInput("appnp-networkx-negative", lambda: APPNP(K=2, alpha=0.1)(X, nx_with(-1.0)),
             ValueError, "networkx"),
    BadInput("label-prop-list-graph",
             lambda: LabelPropagation(2, 0.5)(torch.tensor([0, 1, 0, 1]), [[0, 1], [1, 0]]),
             TypeError, "graph"),
    BadInput("label-prop-networkx-rows",
             lambda: LabelPropagation(2, 0.5)(torch.tensor([0, 1, 0]), nx_with(1.0)), ValueError,
             r"\by\b"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
