"""The CPU gathers' scheduling over many row blocks (blocks of about equal edges + rows,
claimed by the threads from a shared counter) and the cached METIS node order."""
from __future__ import annotations

import pytest
import torch

import noisygraph
from noisygraph.ops import diffuse, spmm
from noisygraph.ops._reference.diffusion import (diffuse_adjoint_reference, diffuse_reference,
                                                 spmm_reference)
from noisygraph.sparse import Adjacency

needs_kernels = pytest.mark.skipif(noisygraph.backend() == "reference",
                                   reason="compiled library not built")
TOL = dict(atol=1e-5, rtol=1e-4)


def skewed_graph(seed: int = 0) -> Adjacency:
    """3,000 nodes, ~70,000 edges: a few hub rows with thousands of edges each, many rows with
    a handful and some empty, so the gathers split into several unequal row blocks (the block
    cost is 2^15 edges + rows)."""
    g = torch.Generator().manual_seed(seed)
    n = 3000
    hubs = torch.tensor([5, 1700, 2999])
    hub_edges = torch.stack([torch.randint(0, n, (3 * 15000,), generator=g),
                             hubs.repeat_interleave(15000)])
    rest = torch.randint(0, n - 100, (2, 25000), generator=g)
    edge_index = torch.cat([hub_edges, rest], dim=1)
    weight = torch.rand(edge_index.size(1), generator=g) + 0.1
    return Adjacency.from_edge_index(edge_index, weight, num_nodes=n).normalize("row")


@needs_kernels
@pytest.mark.parametrize("num_cols", [1, 40, 77])
def test_many_blocks_match_the_reference(threads, num_cols):
    adj = skewed_graph()
    assert adj.nnz + adj.num_rows > 2 * 2**15  # several blocks
    x = torch.rand(adj.num_rows, num_cols, generator=torch.Generator().manual_seed(3))
    mask = torch.rand(adj.num_rows, generator=torch.Generator().manual_seed(4)) < 0.3
    torch.testing.assert_close(spmm(adj, x), spmm_reference(adj.rowptr, adj.col, adj.value, x),
                               **TOL)
    rowptr, col = adj.kernel_indices()
    for clamp in (None, mask):
        for clip in (False, True):
            torch.testing.assert_close(
                torch.ops.noisygraph.diffuse(rowptr, col, adj.value, x, 5, 0.2, clamp, clip),
                diffuse_reference(adj.rowptr, adj.col, adj.value, x, 5, 0.2, clamp, clip), **TOL)
        transposed, _ = adj.transpose()
        t_rowptr, t_col = transposed.kernel_indices()
        torch.testing.assert_close(
            torch.ops.noisygraph.diffuse_adjoint(t_rowptr, t_col, transposed.value, x, 5, 0.2,
                                                 clamp),
            diffuse_adjoint_reference(transposed.rowptr, transposed.col, transposed.value, x, 5,
                                      0.2, clamp), **TOL)


@needs_kernels
def test_many_blocks_gradients_match_the_reference(threads):
    adj = skewed_graph(seed=1)
    x = torch.rand(adj.num_rows, 8, dtype=torch.float64, requires_grad=True)
    upstream = torch.rand(adj.num_rows, 8, dtype=torch.float64)
    value = adj.value.double()
    (grad,) = torch.autograd.grad(diffuse(Adjacency(adj.rowptr, adj.col, value), x, 4, 0.1),
                                  x, upstream)
    (expected,) = torch.autograd.grad(diffuse_reference(adj.rowptr, adj.col, value, x, 4, 0.1),
                                      x, upstream)
    torch.testing.assert_close(grad, expected)


def planted_graph(num_nodes: int = 2000, blocks: int = 20, seed: int = 0):
    """Undirected graph, 90 % of the edges inside one of `blocks` planted communities, node
    ids in random order; returns the edge_index and each node's community."""
    g = torch.Generator().manual_seed(seed)
    block = torch.randint(0, blocks, (num_nodes,), generator=g)
    members = torch.argsort(block)
    sizes = torch.bincount(block, minlength=blocks)
    starts = torch.cumsum(sizes, 0) - sizes
    source = torch.randint(0, num_nodes, (8 * num_nodes,), generator=g)
    offset = (torch.rand(source.numel(), generator=g) * sizes[block[source]]).long()
    same = members[starts[block[source]] + offset]
    target = torch.where(torch.rand(source.numel(), generator=g) < 0.9, same,
                         torch.randint(0, num_nodes, (source.numel(),), generator=g))
    edge_index = torch.cat([torch.stack([source, target]), torch.stack([target, source])], 1)
    return edge_index, block


@pytest.fixture
def small_parts(monkeypatch):
    pytest.importorskip("pymetis")
    monkeypatch.setattr("noisygraph.sparse.METIS_PART_SIZE", 100)


def test_metis_order_groups_neighbours(small_parts):
    edge_index, _ = planted_graph()
    adj = Adjacency.from_edge_index(edge_index, num_nodes=2000).normalize("sym")
    reordering = adj.reorder("metis")
    assert torch.equal(torch.sort(reordering.perm).values, torch.arange(2000))
    assert adj.reorder("metis") is reordering  # cached

    def near(a: Adjacency) -> float:  # edges whose endpoints' ids are within one part
        return ((a.row() - a.col).abs() < 100).double().mean().item()

    # natural (random) ids: ~10 % of the edges are that close; the partition order keeps the
    # planted communities (100 nodes each) together
    assert near(adj) < 0.15
    assert near(reordering.adjacency) > 0.6


def test_metis_diffusion_and_gradients_in_the_original_order(small_parts):
    edge_index, _ = planted_graph(seed=1)
    adj = Adjacency.from_edge_index(edge_index, num_nodes=2000).normalize("sym")
    y0 = torch.rand(2000, 5, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(2000) < 0.3
    upstream = torch.rand(2000, 5, dtype=torch.float64)
    for mode in ("zero", "clamp"):
        out = diffuse(adj, y0, 6, 0.2, mask=mask, mask_mode=mode, reorder="metis")
        expected = diffuse(adj, y0, 6, 0.2, mask=mask, mask_mode=mode)
        torch.testing.assert_close(out, expected)
        (grad,) = torch.autograd.grad(out, y0, upstream)
        (expected_grad,) = torch.autograd.grad(expected, y0, upstream)
        torch.testing.assert_close(grad, expected_grad)


def test_metis_order_of_a_graph_smaller_than_a_part_is_the_identity():
    pytest.importorskip("pymetis")
    edge_index, _ = planted_graph(num_nodes=300, blocks=3)
    reordering = Adjacency.from_edge_index(edge_index, num_nodes=300).reorder("metis")
    assert torch.equal(reordering.perm, torch.arange(300))


def test_metis_without_pymetis_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pymetis", None)  # import pymetis raises ImportError
    monkeypatch.setattr("noisygraph.sparse.METIS_PART_SIZE", 10)
    edge_index, _ = planted_graph(num_nodes=100, blocks=2)
    with pytest.raises(ImportError, match=r"noisygraph\[metis\]"):
        Adjacency.from_edge_index(edge_index, num_nodes=100).reorder("metis")
