import pytest
import torch

from noisygraph.ops import diffuse
from noisygraph.sparse import Adjacency, csr_transpose, to_adjacency

from diffusion_graphs import random_graph, random_weights

N = 30


def dense_of(edge_index, weight=None, num_nodes=N):
    """Dense A with A[target, source] summed over duplicate edges."""
    dense = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    w = torch.ones(edge_index.size(1), dtype=torch.float64) if weight is None else weight.double()
    dense.index_put_((edge_index[1], edge_index[0]), w, accumulate=True)
    return dense


@pytest.mark.parametrize("weighted", [False, True])
def test_from_edge_index_matches_dense(weighted):
    edge_index = random_graph()
    weight = random_weights(edge_index) if weighted else None
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    assert adj.num_rows == N and adj.nnz == edge_index.size(1)
    torch.testing.assert_close(adj.to_dense(torch.float64), dense_of(edge_index, weight))


def test_input_formats_give_the_same_matrix():
    from torch_geometric import EdgeIndex

    edge_index = random_graph()
    weight = random_weights(edge_index)
    expected = dense_of(edge_index, weight)
    dense = expected.float()
    formats = {
        "edge_index": to_adjacency(edge_index, weight, num_nodes=N),
        "EdgeIndex": to_adjacency(EdgeIndex(edge_index, sparse_size=(N, N)), weight),
        "sparse_coo": to_adjacency(dense.to_sparse_coo()),
        "sparse_csr": to_adjacency(dense.to_sparse_csr()),
    }
    for name, adj in formats.items():
        assert adj.num_rows == N, name
        torch.testing.assert_close(adj.to_dense(torch.float64), expected, msg=name)


@pytest.mark.parametrize("add_self_loops", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_normalizations_match_dense_formulas(weighted, add_self_loops):
    edge_index = random_graph()
    weight = random_weights(edge_index) if weighted else None
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    a = dense_of(edge_index, weight)
    if add_self_loops:  # PyG's add_remaining_self_loops: existing loops keep their weight
        diag = a.diagonal().clone()
        a.fill_diagonal_(0.0)
        a += torch.diag(torch.where(diag > 0, diag, torch.ones_like(diag)))

    def inv(d, p):
        return torch.where(d > 0, d.pow(-p), torch.zeros_like(d))

    row_deg, col_deg = a.sum(1), a.sum(0)
    expected = {
        "sym": inv(row_deg, 0.5)[:, None] * a * inv(row_deg, 0.5)[None, :],
        "row": inv(row_deg, 1.0)[:, None] * a,
        "col": a * inv(col_deg, 1.0)[None, :],
    }
    for kind, target in expected.items():
        got = adj.normalize(kind, add_self_loops=add_self_loops).to_dense(torch.float64)
        torch.testing.assert_close(got, target, atol=1e-6, rtol=1e-5, msg=kind)
        assert adj.normalize(kind, add_self_loops) is adj.normalize(kind, add_self_loops)


def test_isolated_nodes_get_zero_rows_in_every_normalization():
    adj = Adjacency.from_edge_index(random_graph(isolated=4), num_nodes=N)
    for kind in ("sym", "row", "col"):
        dense = adj.normalize(kind).to_dense()
        assert torch.isfinite(dense).all()
        assert dense[-4:].abs().sum() == 0 and dense[:, -4:].abs().sum() == 0


def test_self_loops_match_pyg():
    from torch_geometric.utils import add_remaining_self_loops

    edge_index = random_graph()
    weight = random_weights(edge_index)
    ours = Adjacency.from_edge_index(edge_index, weight, num_nodes=N).with_self_loops()
    ei, w = add_remaining_self_loops(edge_index, weight, 1.0, N)
    # the random graph has no node with two different loops, so the result is unambiguous
    torch.testing.assert_close(ours.to_dense(torch.float64), dense_of(ei, w))


def test_transpose_is_the_transposed_matrix_and_cached():
    edge_index = random_graph()
    adj = Adjacency.from_edge_index(edge_index, random_weights(edge_index), num_nodes=N)
    transposed, perm = adj.transpose()
    torch.testing.assert_close(transposed.to_dense(), adj.to_dense().t())
    torch.testing.assert_close(transposed.value, adj.value[perm])
    assert adj.transpose()[0] is transposed
    t_rowptr, t_col, t_perm = csr_transpose(adj.rowptr, adj.col, N)
    assert torch.equal(t_rowptr, transposed.rowptr) and torch.equal(t_perm, perm)


def test_kernel_indices_are_int32_when_they_fit():
    adj = Adjacency.from_edge_index(random_graph(), num_nodes=N)
    rowptr, col = adj.kernel_indices()
    assert rowptr.dtype == torch.int32 and col.dtype == torch.int32
    assert torch.equal(col.long(), adj.col) and torch.equal(rowptr.long(), adj.rowptr)


@pytest.mark.parametrize("method", ["rcm", "degree"])
def test_reorder_is_a_relabelling_and_diffusion_is_unchanged(method):
    edge_index = random_graph()
    adj = Adjacency.from_edge_index(edge_index, random_weights(edge_index),
                                    num_nodes=N).normalize("sym")
    reordering = adj.reorder(method)
    assert torch.equal(torch.sort(reordering.perm).values, torch.arange(N))
    assert torch.equal(reordering.perm[reordering.inverse], torch.arange(N))
    p = reordering.perm
    torch.testing.assert_close(reordering.adjacency.to_dense(), adj.to_dense()[p][:, p])
    assert adj.reorder(method) is reordering
    y0 = torch.rand(N, 4, dtype=torch.float64)
    mask = torch.rand(N) < 0.3
    for mode in ("zero", "clamp"):
        torch.testing.assert_close(
            diffuse(adj, y0, 6, 0.2, mask=mask, mask_mode=mode, reorder=method),
            diffuse(adj, y0, 6, 0.2, mask=mask, mask_mode=mode))


def test_reorder_rejects_values_that_require_grad():
    edge_index = random_graph()
    adj = Adjacency.from_edge_index(edge_index, random_weights(edge_index).requires_grad_(),
                                    num_nodes=N)
    with pytest.raises(ValueError, match="require grad"):
        adj.reorder()
    with pytest.raises(ValueError, match="method"):
        Adjacency.from_edge_index(edge_index, num_nodes=N).reorder("metis")


@pytest.mark.parametrize("bad, match, error", [
    (torch.tensor([[0, 1], [2, 40]]), "outside", ValueError),
    (torch.tensor([[0, -1], [2, 3]]), "outside", ValueError),
    (torch.tensor([0, 1, 2]), "edge_index", ValueError),
    (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "integers", TypeError),
])
def test_bad_edge_index_raises(bad, match, error):
    with pytest.raises(error, match=match):
        Adjacency.from_edge_index(bad, num_nodes=N)


def test_bad_edge_weight_raises():
    edge_index = random_graph()
    with pytest.raises(ValueError, match="edge_weight"):
        Adjacency.from_edge_index(edge_index, torch.ones(3), num_nodes=N)
    weight = random_weights(edge_index)
    weight[0] = float("nan")
    with pytest.raises(ValueError, match="edge_weight contains NaN"):
        Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    with pytest.raises(TypeError, match="graph"):
        to_adjacency([[0, 1], [1, 0]])
