"""One edge_index check (``noisygraph._validation.check_edge_index``) behind every entry point
that takes an ``edge_index``: the graph conversion, the neighbour sampler and loader, and
Locle's ``data.edge_index``. Each bad edge_index gets the same exception type everywhere
(``TypeError`` for a wrong type / layout / dtype, ``ValueError`` for a wrong shape or an id
out of range) and a message naming the argument."""
from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects
from noisygraph._validation import check_data_edge_index
from noisygraph.loader import UniformNeighborSampler, neighbor_loader
from noisygraph.sparse import as_adjacency

N = 3
GOOD = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
BAD = {  # edge_index -> the exception every entry point raises
    "float": (GOOD.float(), TypeError),
    "bool": (GOOD > 0, TypeError),
    "sparse": (GOOD.to_sparse(), TypeError),
    "list": (GOOD.tolist(), TypeError),
    "1d": (GOOD[0], ValueError),
    "3-rows": (torch.zeros(3, 2, dtype=torch.long), ValueError),
    "negative-id": (torch.tensor([[0, -1], [1, 0]]), ValueError),
    "id-too-large": (torch.tensor([[0, 7], [1, 0]]), ValueError),
}
ENTRY_POINTS = {
    "as_adjacency": lambda ei: as_adjacency(ei, num_nodes=N),
    "sampler": lambda ei: UniformNeighborSampler(ei, N, [2]),
    "check_data_edge_index": lambda ei: check_data_edge_index(Data(edge_index=ei, num_nodes=N), N),
    "neighbor_loader": lambda ei: neighbor_loader(Data(edge_index=ei, num_nodes=N), [2], 2),
}
CASES = [BadInput(f"{entry}-{kind}", lambda call=call, ei=ei: call(ei), error, "edge_index")
         for entry, call in ENTRY_POINTS.items() for kind, (ei, error) in BAD.items()
         # a sparse matrix is a graph format of its own for as_adjacency (and a Data's adj_t)
         if not (kind == "sparse" and entry in ("as_adjacency", "neighbor_loader"))]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_rejects(case):
    assert_rejects(case)


def test_good_edge_index_passes_everywhere():
    assert as_adjacency(GOOD, num_nodes=N).nnz == 4
    assert UniformNeighborSampler(GOOD.int(), N, [2]).rowptr.tolist() == [0, 1, 3, 4]
    assert check_data_edge_index(Data(edge_index=GOOD.int(), num_nodes=N), N).dtype == torch.long
