import numpy as np
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


@pytest.mark.parametrize("kind", ["sym", "row", "col"])
def test_zero_weight_edges_of_a_zero_degree_node_get_finite_gradients(kind):
    """Node 0's only edge has weight 0: its degree is 0. The old masked_fill after pow gave
    that weight a NaN gradient (0 * inf), which poisons a whole training step."""
    edge_index = torch.tensor([[0, 1, 2], [0, 2, 1]])
    weight = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=3).normalize(kind)
    (grad,) = torch.autograd.grad(adj.to_dense(torch.float64).sum(), weight)
    assert torch.isfinite(grad).all()
    assert grad[0] == 0.0


def test_self_loops_match_pyg():
    from torch_geometric.utils import add_remaining_self_loops

    edge_index = random_graph()
    weight = random_weights(edge_index)
    ours = Adjacency.from_edge_index(edge_index, weight, num_nodes=N).with_self_loops()
    ei, w = add_remaining_self_loops(edge_index, weight, 1.0, N)
    # the random graph has no node with two different loops, so the result is unambiguous
    torch.testing.assert_close(ours.to_dense(torch.float64), dense_of(ei, w))


def test_duplicate_self_loops_keep_the_last_and_its_gradient():
    """Two loops on one node: the last is kept, and the gradient reaches it alone (the old
    index_put gave every duplicate a gradient although only one was used)."""
    edge_index = torch.tensor([[0, 1, 1, 2, 1], [1, 1, 2, 0, 1]])
    weight = torch.tensor([0.5, 0.2, 0.3, 0.4, 0.7], dtype=torch.float64, requires_grad=True)

    def dense(w):
        return Adjacency.from_edge_index(edge_index, w, num_nodes=3).with_self_loops(
            2.0).to_dense(torch.float64)

    out = dense(weight)
    torch.testing.assert_close(out.diagonal(), torch.tensor([2.0, 0.7, 2.0],
                                                            dtype=torch.float64))
    assert torch.autograd.gradcheck(dense, (weight,))
    (grad,) = torch.autograd.grad(out[1, 1], weight)
    assert grad.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


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
        Adjacency.from_edge_index(edge_index, num_nodes=N).reorder("nested-dissection")


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
    with pytest.raises(ValueError, match="edge_weight must be finite"):
        Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    with pytest.raises(TypeError, match="graph"):
        to_adjacency([[0, 1], [1, 0]])


# ------------------------------------------------------------------ nothing claimed is trusted
def dense_reference(edge_index, weight=None, num_nodes=N):
    return dense_of(edge_index, weight, num_nodes)


def test_transposed_coo_marked_coalesced_by_pyg_gives_the_right_answer():
    """PyG's to_edge_index marks a COO tensor coalesced in place without sorting it; a
    transposed COO is then column-major but claims to be coalesced. The old code trusted the
    flag and built a wrong CSR (spmm off by ~9, APPNP by ~67 on this graph)."""
    from torch_geometric.utils import to_edge_index

    from noisygraph.nn import APPNP
    from noisygraph.ops import spmm

    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=torch.float64)
    a = dense_of(edge_index, weight)
    transposed = a.to_sparse_coo().t()
    to_edge_index(transposed)
    assert transposed.is_coalesced()  # the lie
    assert not torch.equal(transposed._indices()[0].sort().values, transposed._indices()[0])
    x = torch.randn(N, 3, dtype=torch.float64)
    torch.testing.assert_close(spmm(transposed, x), a.t() @ x)
    honest = a.t().contiguous().to_sparse_coo()
    layer = APPNP(K=3, alpha=0.1, normalize=False)
    torch.testing.assert_close(layer(x, transposed), layer(x, honest))
    torch.testing.assert_close(to_adjacency(transposed).to_dense(torch.float64), a.t())


def test_uncoalesced_coo_and_unsorted_csr_sum_duplicates():
    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=torch.float64)
    expected = dense_of(edge_index, weight)
    coo = torch.sparse_coo_tensor(torch.stack([edge_index[1], edge_index[0]]), weight, (N, N))
    assert not coo.is_coalesced()
    torch.testing.assert_close(to_adjacency(coo).to_dense(torch.float64), expected)
    # a CSR whose columns run backwards inside every row (valid, but not canonical)
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    row = adj.row()
    order = torch.argsort(row * N - adj.col, stable=True)
    csr = torch.sparse_csr_tensor(adj.rowptr, adj.col[order], adj.value[order], (N, N))
    rebuilt = to_adjacency(csr)
    torch.testing.assert_close(rebuilt.to_dense(torch.float64), expected)
    assert torch.equal(rebuilt.col, adj.col)  # sorted again by column inside each row


def test_edge_index_sort_order_claims_are_ignored():
    from torch_geometric import EdgeIndex

    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=torch.float64)
    lying = EdgeIndex(edge_index, sparse_size=(N, N), sort_order="col")  # it is not sorted
    assert lying.is_sorted
    torch.testing.assert_close(to_adjacency(lying, weight).to_dense(torch.float64),
                               dense_of(edge_index, weight))


def test_int32_and_int64_indices_give_the_same_adjacency():
    edge_index = random_graph()
    weight = random_weights(edge_index)
    wide = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    narrow = Adjacency.from_edge_index(edge_index.int(), weight, num_nodes=N)
    assert torch.equal(wide.rowptr, narrow.rowptr) and torch.equal(wide.col, narrow.col)
    direct = Adjacency(wide.rowptr.int(), wide.col.int(), wide.value)
    assert direct.rowptr.dtype == torch.long and torch.equal(direct.col, wide.col)


def test_gradients_reach_the_values_of_a_sparse_coo_input():
    from noisygraph.ops import spmm

    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=torch.float64).requires_grad_()
    coo = torch.sparse_coo_tensor(torch.stack([edge_index[1], edge_index[0]]), weight, (N, N))
    x = torch.randn(N, 2, dtype=torch.float64)
    spmm(coo, x).sum().backward()
    expected = x[edge_index[0]].sum(-1)  # d sum(A x) / d w_e = sum_f x[source_e, f]
    torch.testing.assert_close(weight.grad, expected)


# ------------------------------------------------------------------ validated once, then trusted
def test_structure_is_validated_once_not_per_call(monkeypatch):
    import noisygraph.sparse as sparse
    from noisygraph.ops import diffuse, spmm

    edge_index = random_graph()
    adj = Adjacency.from_edge_index(edge_index, random_weights(edge_index),
                                    num_nodes=N).normalize("sym")
    calls = []
    for name in ("_check_csr", "edge_weights_ok"):
        original = getattr(sparse, name)
        monkeypatch.setattr(sparse, name,
                            lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    x = torch.rand(N, 3)
    for _ in range(3):
        spmm(adj, x)
        diffuse(adj, x, 4, 0.1)
    assert calls == []
    Adjacency(adj.rowptr, adj.col, adj.value)  # a new one is validated
    assert calls == ["_check_csr", "edge_weights_ok"]


def test_in_place_changes_are_detected():
    from noisygraph.ops import spmm

    edge_index = random_graph()
    weight = random_weights(edge_index)
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    x = torch.rand(N, 2)
    spmm(adj, x)
    adj.col[0] = 10**9
    with pytest.raises(ValueError, match="modified in place"):
        spmm(adj, x)
    # a learned weight updated in place is re-validated and the caches follow it
    value = random_weights(edge_index).requires_grad_()
    live = Adjacency.from_edge_index(edge_index, num_nodes=N)
    live = Adjacency(live.rowptr, live.col, value)
    before = live.normalize("row").to_dense()
    with torch.no_grad():
        value.mul_(torch.linspace(0.5, 2.0, value.numel()))
    after = live.normalize("row").to_dense()
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, Adjacency(live.rowptr, live.col, value.detach())
                               .normalize("row").to_dense())
    with torch.no_grad():
        value[3] = -1.0
    with pytest.raises(ValueError, match="value must be finite and >= 0"):
        spmm(live, x)
    with pytest.raises(AttributeError):
        live.col = torch.zeros(3, dtype=torch.long)


def test_the_old_silent_failures_now_raise():
    edge_index = random_graph()
    adj = Adjacency.from_edge_index(edge_index, num_nodes=N)
    with pytest.raises(TypeError, match="rowptr must hold integers"):
        Adjacency(adj.rowptr.float() + 0.5, adj.col)  # was truncated silently
    weight = random_weights(edge_index)
    weight[5] = -0.3
    with pytest.raises(ValueError, match="edge_weight must be finite and >= 0"):
        Adjacency.from_edge_index(edge_index, weight, num_nodes=N)  # was all-NaN outputs
    with pytest.raises(ValueError, match="col holds ids"):
        Adjacency(torch.tensor([0, 1, 2]), torch.tensor([50_000_000, 0]))  # was a segfault


# ------------------------------------------------------------------ as_adjacency: every format
def _without_duplicates(edge_index):
    """A directed graph without parallel edges (networkx cannot hold them), loops kept."""
    key = torch.unique(edge_index[0] * N + edge_index[1])
    return torch.stack([key // N, key % N])


def test_every_accepted_format_gives_the_same_adjacency():
    import networkx as nx
    from torch_geometric import EdgeIndex
    from torch_geometric.data import Data
    from torch_geometric.utils import to_networkx, to_scipy_sparse_matrix, to_torch_coo_tensor

    from noisygraph.sparse import as_adjacency

    edge_index = _without_duplicates(random_graph())
    assert (edge_index[0] == edge_index[1]).any()  # self-loops are part of the round trip
    weight = random_weights(edge_index)
    expected = as_adjacency(edge_index, edge_weight=weight, num_nodes=N)
    adj_t = to_torch_coo_tensor(edge_index.flip(0), weight, size=(N, N))  # rows are targets
    graph = to_networkx(Data(edge_index=edge_index, weight=weight, num_nodes=N),
                        edge_attrs=["weight"])
    assert isinstance(graph, nx.DiGraph)
    formats = {
        "EdgeIndex": as_adjacency(EdgeIndex(edge_index, sparse_size=(N, N)), edge_weight=weight),
        "Data.edge_weight": as_adjacency(Data(edge_index=edge_index, edge_weight=weight,
                                              num_nodes=N)),
        "Data.edge_attr": as_adjacency(Data(edge_index=edge_index, edge_attr=weight,
                                            num_nodes=N)),
        "Data.adj_t": as_adjacency(Data(adj_t=adj_t, num_nodes=N)),
        "sparse_coo": as_adjacency(adj_t),
        "sparse_csr": as_adjacency(adj_t.to_sparse_csr()),
        "scipy_coo": as_adjacency(to_scipy_sparse_matrix(edge_index, weight, N)),
        "scipy_csr": as_adjacency(to_scipy_sparse_matrix(edge_index, weight, N).tocsr()),
        "networkx": as_adjacency(graph),
        "to_adjacency": to_adjacency(edge_index, weight, N),
    }
    for name, adj in formats.items():
        assert (adj.num_rows, adj.num_cols) == (N, N), name
        assert torch.equal(adj.rowptr, expected.rowptr), name
        assert torch.equal(adj.col, expected.col), name
        torch.testing.assert_close(adj.value.double(), expected.value.double(), msg=name)
    assert as_adjacency(expected) is expected  # no copy


def test_as_adjacency_unweighted_formats_and_the_undirected_networkx_graph():
    import networkx as nx
    import scipy.sparse

    from noisygraph.sparse import as_adjacency

    edge_index = _without_duplicates(random_graph())
    expected = as_adjacency(edge_index, num_nodes=N)
    pattern = scipy.sparse.coo_matrix(
        (np.ones(edge_index.size(1), dtype=bool), edge_index.numpy()), shape=(N, N))
    from_bool = as_adjacency(pattern)  # a bool pattern becomes unit float weights
    assert from_bool.value.dtype == torch.get_default_dtype()
    assert torch.equal(from_bool.col, expected.col)
    assert torch.equal(from_bool.value, torch.ones(expected.nnz))
    undirected = nx.Graph([(0, 1), (1, 2)])
    undirected.add_node(3)
    dense = as_adjacency(undirected).to_dense()
    torch.testing.assert_close(dense, torch.tensor([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0],
                                                    [0, 0, 0, 0.0]]))
    with_features = as_adjacency(_data_with_edge_features(edge_index))
    assert with_features.value is None  # a [E, F] edge_attr holds features, not weights


def _data_with_edge_features(edge_index):
    from torch_geometric.data import Data

    return Data(edge_index=edge_index, edge_attr=torch.rand(edge_index.size(1), 3), num_nodes=N)
