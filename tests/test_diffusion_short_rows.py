"""The CPU gathers (csrc/ops/common/csr_rows.h: register blocks of up to 64 columns, the
sources of the next row prefetched, row blocks of 2^15 edges + rows) on graphs whose rows are
empty, shorter than a prefetch burst, or end at the last nonzero, for feature widths that do
and do not fill the register blocks, in the natural and the reordered node order: values and
gradients match the reference. (Kept as the guard of any change to the gathers' prefetching
or traversal, see benchmarks/results/diffusion.md.)"""
from __future__ import annotations

import pytest
import torch

import noisygraph
from noisygraph.ops import diffuse, spmm
from noisygraph.ops._reference.diffusion import (diffuse_adjoint_reference, diffuse_reference,
                                                 spmm_reference)
from noisygraph.sparse import Adjacency

pytestmark = pytest.mark.skipif(noisygraph.backend() == "reference",
                                reason="compiled library not built")
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-4), torch.float64: dict(atol=1e-12, rtol=1e-10)}
WIDTHS = [1, 3, 17, 40, 65]


def short_rows_graph(seed: int = 0) -> Adjacency:
    """40,000 nodes (several row blocks of 2^15 edges + rows): the first 20 rows and a run of
    rows in the middle empty, most rows with 1-3 edges (far fewer than the prefetch distance),
    a few with 40, and the last row holding the last nonzeros (the prefetch window runs past
    nnz there)."""
    g = torch.Generator().manual_seed(seed)
    n = 40_000
    degree = torch.randint(1, 4, (n,), generator=g)
    degree[:20] = 0
    degree[17_000:17_050] = 0
    degree[torch.randint(0, n, (200,), generator=g)] = 40
    degree[-1] = 5
    row = torch.repeat_interleave(torch.arange(n), degree)
    col = torch.randint(0, n, (row.numel(),), generator=g)
    weight = torch.rand(row.numel(), generator=g) + 0.1
    return Adjacency.from_edge_index(torch.stack([row, col]), weight,
                                     num_nodes=n).normalize("row")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("num_cols", WIDTHS)
def test_gathers_match_the_reference(threads, num_cols, dtype):
    adj = short_rows_graph()
    assert adj.nnz + adj.num_rows > 2 * 2**15  # several blocks
    x = torch.rand(adj.num_rows, num_cols, dtype=dtype,
                   generator=torch.Generator().manual_seed(3))
    mask = torch.rand(adj.num_rows, generator=torch.Generator().manual_seed(4)) < 0.3
    value = adj.values_as(dtype)
    tol = TOL[dtype]
    torch.testing.assert_close(spmm(adj, x), spmm_reference(adj.rowptr, adj.col, value, x), **tol)
    rowptr, col = adj.kernel_indices()
    transposed, _ = adj.transpose()
    t_rowptr, t_col = transposed.kernel_indices()
    for clamp in (None, mask):
        torch.testing.assert_close(
            torch.ops.noisygraph.diffuse(rowptr, col, value, x, 4, 0.2, clamp, False),
            diffuse_reference(adj.rowptr, adj.col, value, x, 4, 0.2, clamp, False), **tol)
        torch.testing.assert_close(
            torch.ops.noisygraph.diffuse_adjoint(t_rowptr, t_col, transposed.values_as(dtype),
                                                 x, 4, 0.2, clamp),
            diffuse_adjoint_reference(transposed.rowptr, transposed.col,
                                      transposed.values_as(dtype), x, 4, 0.2, clamp), **tol)


@pytest.mark.parametrize("reorder", [False, "rcm", "metis"])
@pytest.mark.parametrize("num_cols", WIDTHS)
def test_values_and_gradients_in_the_original_order(num_cols, reorder, monkeypatch):
    if reorder == "metis":
        pytest.importorskip("pymetis")
        monkeypatch.setattr("noisygraph.sparse.METIS_PART_SIZE", 500)
    g = torch.Generator().manual_seed(5)
    n = 3000
    edge_index = torch.randint(0, n, (2, 12_000), generator=g)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    adj = Adjacency.from_edge_index(edge_index, num_nodes=n).normalize("sym")
    y0 = torch.rand(n, num_cols, dtype=torch.float64, generator=g, requires_grad=True)
    upstream = torch.rand(n, num_cols, dtype=torch.float64, generator=g)
    mask = torch.rand(n, generator=g) < 0.2
    for kwargs in ({}, {"mask": mask, "mask_mode": "clamp"}):
        out = diffuse(adj, y0, 5, 0.1, reorder=reorder, **kwargs)
        clamp = kwargs.get("mask")
        expected = diffuse_reference(adj.rowptr, adj.col, adj.values_as(torch.float64), y0, 5,
                                     0.1, clamp, False)
        torch.testing.assert_close(out, expected, **TOL[torch.float64])
        (grad,) = torch.autograd.grad(out, y0, upstream)
        (expected_grad,) = torch.autograd.grad(expected, y0, upstream)
        torch.testing.assert_close(grad, expected_grad, **TOL[torch.float64])
