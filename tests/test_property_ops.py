"""Property-based tests of the public sparse and coding-rate wrappers against dense
references (and of the baselines' GCN propagation matrix against PyG's): random graphs with
empty rows, isolated nodes, duplicate edges and self-loops, int32 and int64 indices, float32
and float64, every input format (edge_index, EdgeIndex with random sort-order claims, COO
coalesced / uncoalesced / transposed-and-marked-coalesced, CSR with sorted or reversed
columns, Adjacency), the compiled and the reference backend, forward values and gradients
(w.r.t. the dense input and the edge weights).

The input formats are built here from the edge list without going through noisygraph, so
the dense reference never shares code with what it checks."""
from __future__ import annotations

import tempfile
import warnings
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import noisygraph
from noisygraph import _ops
from noisygraph.nn import APPNP, CodingRateReductionLoss
from noisygraph.ops import coding_rate, diffuse, spmm
from noisygraph.sparse import Adjacency, to_adjacency

# hypothesis keeps a cache (.hypothesis/) in the working directory: keep it out of the checkout
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="noisygraph-hypothesis-"))
NO_KERNELS = lambda op, device: False  # noqa: E731  (every op on its reference)
COMPILED = noisygraph.backend() != "reference"
BACKENDS = ["compiled", "reference"] if COMPILED else ["reference"]
FORMATS = ["edge_index", "EdgeIndex", "coo", "coo_uncoalesced", "coo_transposed_lie", "csr",
           "csr_reversed", "adjacency"]
WEIGHT_FORMATS = ("edge_index", "EdgeIndex", "adjacency", "coo", "coo_uncoalesced", "csr")


def weights_get_gradients(case, weight) -> bool:
    """Whether to compare gradients w.r.t. the edge weights. Not for a CSR tensor holding a
    duplicate entry: torch's own CSR constructor cannot backpropagate to its values then
    ("SparseCompressedTensorBackward0 returned an invalid gradient"), with or without us."""
    if weight is None or case["fmt"] not in WEIGHT_FORMATS:
        return False
    if case["fmt"] == "csr":
        pairs = case["edge_index"].t().tolist()
        return len({tuple(p) for p in pairs}) == len(pairs)
    return True
TOL = {torch.float32: dict(atol=2e-4, rtol=2e-4), torch.float64: dict(atol=1e-9, rtol=1e-9)}
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------- graphs
@st.composite
def graphs(draw):
    """``(num_nodes, edge_index [2, E] int64, weighted)``: some nodes never touched
    (isolated, empty rows), duplicates and self-loops likely."""
    num_nodes = draw(st.integers(1, 9))
    active = draw(st.integers(1, num_nodes))
    num_edges = draw(st.integers(0, 24))
    pairs = draw(st.lists(st.tuples(st.integers(0, active - 1), st.integers(0, active - 1)),
                          min_size=num_edges, max_size=num_edges))
    if pairs and draw(st.booleans()):
        pairs = pairs + pairs[: draw(st.integers(1, len(pairs)))]  # duplicates
    if draw(st.booleans()):
        loop = draw(st.integers(0, active - 1))
        pairs = pairs + [(loop, loop), (loop, loop)]  # a doubled self-loop
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return num_nodes, edge_index


@st.composite
def cases(draw):
    num_nodes, edge_index = draw(graphs())
    return dict(
        num_nodes=num_nodes, edge_index=edge_index,
        weighted=draw(st.booleans()), zero_weights=draw(st.booleans()),
        fmt=draw(st.sampled_from(FORMATS)),
        index_dtype=draw(st.sampled_from([torch.int32, torch.int64])),
        dtype=draw(st.sampled_from([torch.float32, torch.float64])),
        backend=draw(st.sampled_from(BACKENDS)),
        claim=draw(st.sampled_from([None, "row", "col"])),
        features=draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


def edge_weights(case, generator) -> torch.Tensor:
    num_edges = case["edge_index"].size(1)
    w = torch.rand(num_edges, generator=generator, dtype=torch.float64)
    if case["zero_weights"] and num_edges:
        w[::3] = 0.0
    return w.to(case["dtype"])


def dense_matrix(num_nodes, edge_index, weight) -> torch.Tensor:
    """A[target, source] summed over duplicates, float64, differentiable in ``weight``."""
    w = weight.double() if weight is not None else torch.ones(edge_index.size(1),
                                                             dtype=torch.float64)
    return torch.zeros(num_nodes, num_nodes, dtype=torch.float64).index_put(
        (edge_index[1], edge_index[0]), w, accumulate=True)


def csr_order(num_nodes, edge_index, reverse=False) -> tuple[torch.Tensor, torch.Tensor]:
    """The CSR (rows = targets) permutation of the edges and its row pointer, in plain
    Python (columns ascending, or descending with ``reverse``)."""
    target, source = edge_index[1].tolist(), edge_index[0].tolist()
    sign = -1 if reverse else 1
    order = sorted(range(len(target)), key=lambda e: (target[e], sign * source[e], e))
    counts = [0] * (num_nodes + 1)
    for t in target:
        counts[t + 1] += 1
    for i in range(num_nodes):
        counts[i + 1] += counts[i]
    return torch.tensor(order, dtype=torch.long), torch.tensor(counts, dtype=torch.long)


def build(case, weight):
    """The graph in ``case["fmt"]`` and the ``edge_weight`` to pass with it."""
    n, edge_index, fmt = case["num_nodes"], case["edge_index"], case["fmt"]
    values = weight if weight is not None else torch.ones(edge_index.size(1),
                                                          dtype=case["dtype"])
    idx = case["index_dtype"]
    if fmt == "edge_index":
        return edge_index.to(idx), weight
    if fmt == "EdgeIndex":
        from torch_geometric import EdgeIndex
        return EdgeIndex(edge_index.to(idx), sparse_size=(n, n), sort_order=case["claim"]), weight
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if fmt in ("coo", "coo_uncoalesced"):
            matrix = torch.sparse_coo_tensor(torch.stack([edge_index[1], edge_index[0]]),
                                             values, (n, n))
            return (matrix.coalesce() if fmt == "coo" else matrix), None
        if fmt == "coo_transposed_lie":
            # the transpose of a coalesced COO is column-major; then claim it is coalesced,
            # as torch_geometric.utils.to_edge_index does in place
            lie = torch.sparse_coo_tensor(edge_index, values, (n, n)).coalesce().t()
            return lie._coalesced_(True), None
        order, rowptr = csr_order(n, edge_index, reverse=fmt == "csr_reversed")
        col = edge_index[0][order]
        if fmt in ("csr", "csr_reversed"):
            return torch.sparse_csr_tensor(rowptr.to(idx), col.to(idx), values[order],
                                           (n, n)), None
        return Adjacency(rowptr.to(idx), col.to(idx), values[order] if weight is not None
                         else None, num_cols=n), None


def backend(case):
    if case["backend"] == "reference":
        return mock.patch.object(_ops, "has_kernel", lambda op, device: False)
    return mock.patch.object(_ops, "has_kernel", _ops.has_kernel)


def dense_diffuse(a, y0, num_steps, alpha, clamp_mask=None, clip=False):
    y = y0
    for _ in range(num_steps):
        y = (1 - alpha) * a @ y + alpha * y0
        if clip:
            y = y.clamp(0.0, 1.0)
        if clamp_mask is not None:
            y = torch.where(clamp_mask[:, None], y0, y)
    return y


def dense_normalize(a, kind):
    def inv(d, p):
        return torch.where(d > 0, d.clamp(min=1e-300).pow(-p), torch.zeros_like(d))

    rows, cols = a.sum(1), a.sum(0)
    if kind == "sym":
        return inv(rows, 0.5)[:, None] * a * inv(rows, 0.5)[None, :]
    if kind == "row":
        return inv(rows, 1.0)[:, None] * a
    return a * inv(cols, 1.0)[None, :]


# ---------------------------------------------------------------------------- spmm
@SETTINGS
@given(case=cases())
def test_spmm_forward_and_gradients_match_dense(case):
    gen = torch.Generator().manual_seed(case["seed"])
    n, dtype = case["num_nodes"], case["dtype"]
    weight = edge_weights(case, gen) if case["weighted"] else None
    grad_weight = weights_get_gradients(case, weight)
    if grad_weight:
        weight.requires_grad_()
    x = (torch.rand(n, case["features"], generator=gen, dtype=torch.float64) * 4 - 2).to(dtype)
    x.requires_grad_()
    upstream = torch.randn(n, case["features"], generator=gen, dtype=torch.float64).to(dtype)
    graph, edge_weight = build(case, weight)
    with backend(case):
        out = spmm(graph, x, edge_weight=edge_weight)
    inputs = [x] + ([weight] if grad_weight else [])
    grads = torch.autograd.grad(out, inputs, upstream)

    x64 = x.detach().double().requires_grad_()
    w64 = None if weight is None else weight.detach().double().requires_grad_(grad_weight)
    expected = dense_matrix(n, case["edge_index"], w64) @ x64
    want = torch.autograd.grad(expected, [x64] + ([w64] if grad_weight else []),
                               upstream.double())
    assert out.dtype == dtype and out.shape == (n, case["features"])
    torch.testing.assert_close(out.double(), expected, **TOL[dtype])
    for got, ref in zip(grads, want):
        torch.testing.assert_close(got.double(), ref, **TOL[dtype])


# ---------------------------------------------------------------------------- diffuse
@SETTINGS
@given(case=cases(), num_steps=st.integers(0, 5), alpha=st.floats(0.0, 1.0),
       mask_mode=st.sampled_from([None, "zero", "clamp"]), clip=st.booleans(),
       kind=st.sampled_from([None, "sym", "row", "col"]))
def test_diffuse_forward_and_gradients_match_dense(case, num_steps, alpha, mask_mode, clip,
                                                   kind):
    gen = torch.Generator().manual_seed(case["seed"])
    n, dtype = case["num_nodes"], case["dtype"]
    weight = edge_weights(case, gen) if case["weighted"] else None
    # gradients through the clamp are compared away from its kinks only (clip=False)
    grad_weight = weights_get_gradients(case, weight) and not clip
    if grad_weight:
        weight.requires_grad_()
    y0 = (torch.rand(n, case["features"], generator=gen, dtype=torch.float64) * 1.4 - 0.2)
    y0 = y0.to(dtype).requires_grad_(not clip)
    mask = None if mask_mode is None else torch.rand(n, generator=gen) < 0.4
    graph, edge_weight = build(case, weight)
    if kind is not None:  # every format, normalized by noisygraph (checked densely below)
        graph = to_adjacency(graph, edge_weight, num_nodes=n).normalize(kind)
        edge_weight = None
    with backend(case):
        out = diffuse(graph, y0, num_steps, alpha, mask=mask, mask_mode=mask_mode or "zero",
                      edge_weight=edge_weight, clip=clip)

    y64 = y0.detach().double().requires_grad_(not clip)
    w64 = None if weight is None else weight.detach().double().requires_grad_(grad_weight)
    a = dense_matrix(n, case["edge_index"], w64)
    if kind is not None:
        a = dense_normalize(a, kind)
    start = y64 * mask[:, None] if mask_mode == "zero" else y64
    expected = dense_diffuse(a, start, num_steps, alpha,
                             mask if mask_mode == "clamp" else None, clip)
    assert out.dtype == dtype and out.shape == y0.shape
    if kind is None:  # unnormalized weights: values grow with the degree
        tol = {key: value * 50 for key, value in TOL[dtype].items()}
    elif weight is None:  # an unweighted graph is normalized in float32 (documented)
        tol = TOL[torch.float32]
    else:
        tol = TOL[dtype]
    torch.testing.assert_close(out.double(), expected, **tol)
    if clip:
        return
    upstream = torch.randn(n, case["features"], generator=gen, dtype=torch.float64)
    inputs = [y0] + ([weight] if grad_weight else [])
    grads = torch.autograd.grad(out, inputs, upstream.to(dtype), allow_unused=True)
    want = torch.autograd.grad(expected, [y64] + ([w64] if grad_weight else []), upstream,
                               allow_unused=True)
    for got, ref in zip(grads, want):
        if got is None or ref is None:  # no step ran: the output does not depend on it
            assert num_steps == 0 and (got is None or not got.any())
            continue
        torch.testing.assert_close(got.double(), ref, **tol)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(case=cases(), num_steps=st.integers(0, 4), alpha=st.floats(0.05, 1.0))
def test_appnp_without_self_loops_matches_dense(case, num_steps, alpha):
    gen = torch.Generator().manual_seed(case["seed"])
    n = case["num_nodes"]
    case = dict(case, fmt="edge_index")
    weight = edge_weights(case, gen) if case["weighted"] else None
    x = (torch.rand(n, case["features"], generator=gen, dtype=torch.float64) - 0.5).to(
        case["dtype"])
    graph, edge_weight = build(case, weight)
    with backend(case):
        out = APPNP(K=num_steps, alpha=alpha, add_self_loops=False)(x, graph, edge_weight)
    a = dense_normalize(dense_matrix(n, case["edge_index"], weight), "sym")
    # an unweighted graph is normalized in float32 (documented)
    tol = TOL[case["dtype"] if weight is not None else torch.float32]
    torch.testing.assert_close(out.double(), dense_diffuse(a, x.double(), num_steps, alpha),
                               **tol)


# ---------------------------------------------------------------------------- coding rate
@st.composite
def coding_cases(draw):
    return dict(
        num_nodes=draw(st.integers(1, 12)), dim=draw(st.integers(1, 6)),
        num_classes=draw(st.integers(1, 4)), hard=draw(st.booleans()),
        label_dtype=draw(st.sampled_from([torch.int32, torch.int64])),
        dtype=draw(st.sampled_from([torch.float32, torch.float64])),
        compiled=draw(st.booleans()) and COMPILED, seed=draw(st.integers(0, 2**31 - 1)),
        total_scale=draw(st.floats(0.0, 3.0)), class_scale=draw(st.floats(0.0, 3.0)),
    )


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(case=coding_cases())
def test_coding_rate_matches_dense_logdet(case):
    gen = torch.Generator().manual_seed(case["seed"])
    n, p, k, dtype = case["num_nodes"], case["dim"], case["num_classes"], case["dtype"]
    z = (torch.randn(n, p, generator=gen, dtype=torch.float64) / p ** 0.5).to(dtype)
    z.requires_grad_()
    if case["hard"]:
        labels = torch.randint(0, k, (n,), generator=gen)  # some classes may be empty
        assignment = labels.to(case["label_dtype"])
        membership = torch.nn.functional.one_hot(labels, k).t().double()
    else:
        membership = torch.rand(k, n, generator=gen, dtype=torch.float64)
        assignment = membership.to(dtype)
    with mock.patch.object(_ops, "has_kernel", _ops.has_kernel if case["compiled"] else NO_KERNELS):
        total, per_class = coding_rate(z, assignment, k, case["total_scale"],
                                       case["class_scale"])
    z64 = z.detach().double().requires_grad_()
    eye = torch.eye(p, dtype=torch.float64)
    want_total = 0.5 * torch.logdet(eye + case["total_scale"] * z64.t() @ z64)
    want_per_class = torch.stack([
        0.5 * torch.logdet(eye + case["class_scale"] * (z64 * membership[j][:, None]).t() @ z64)
        for j in range(k)])
    tol = TOL[dtype] if dtype == torch.float64 else dict(atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(total.double(), want_total, **tol)
    torch.testing.assert_close(per_class.double(), want_per_class, **tol)
    weights = torch.linspace(0.5, 1.5, k, dtype=torch.float64)
    (grad,) = torch.autograd.grad(total + (per_class * weights.to(dtype)).sum(), z)
    (want,) = torch.autograd.grad(want_total + (want_per_class * weights).sum(), z64)
    torch.testing.assert_close(grad.double(), want, **tol)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(case=coding_cases(), eps=st.floats(0.01, 1.0))
def test_coding_rate_loss_is_finite_and_int32_labels_agree(case, eps):
    gen = torch.Generator().manual_seed(case["seed"])
    z = torch.randn(case["num_nodes"], case["dim"], generator=gen, dtype=torch.float64)
    labels = torch.randint(0, case["num_classes"], (case["num_nodes"],), generator=gen)
    loss_fn = CodingRateReductionLoss(eps=eps)
    wide = loss_fn.parts(z, labels, case["num_classes"])
    narrow = loss_fn.parts(z, labels.int(), case["num_classes"])
    assert torch.isfinite(wide.loss)
    torch.testing.assert_close(wide.loss, narrow.loss)
    torch.testing.assert_close(wide.per_class.sum(), wide.compress)


@pytest.mark.skipif(not COMPILED, reason="compiled library not built")
def test_backends_list_covers_the_compiled_path():
    assert BACKENDS == ["compiled", "reference"]


@SETTINGS
@given(graph=graphs(), weighted=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_gcn_adjacency_matches_pyg_gcn_norm(graph, weighted, seed):
    """The baselines' GCN propagation matrix (``gcn_adjacency``, a torch CSR) against PyG's
    ``gcn_norm`` (remaining self-loops added, symmetric normalisation) made dense: on random
    multigraphs, repeated edges summed as GCNConv sums their messages. (Weighted graphs keep
    one copy of each self-loop: for several, which weight GCNConv keeps is torch's
    unspecified order of a scatter with repeated indices.)"""
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    from noisygraph.baselines.gcn import gcn_adjacency

    num_nodes, edge_index = graph
    weight = None
    if weighted:
        pairs, seen_loops = [], set()
        for source, target in edge_index.t().tolist():
            if source == target and source in seen_loops:
                continue
            seen_loops.update([source] if source == target else [])
            pairs.append((source, target))
        edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
        generator = torch.Generator().manual_seed(seed)
        weight = torch.rand(edge_index.size(1), generator=generator) + 0.1
    norm_index, norm_weight = gcn_norm(edge_index, weight, num_nodes=num_nodes,
                                       add_self_loops=True)
    expected = torch.zeros(num_nodes, num_nodes).index_put(
        (norm_index[1], norm_index[0]), norm_weight, accumulate=True)
    adj = to_adjacency(edge_index, edge_weight=weight, num_nodes=num_nodes)
    summed = adj.summed_duplicates()  # each (row, column) once, the same matrix
    pairs = list(zip(summed.row().tolist(), summed.col.tolist()))
    assert pairs == sorted(set(pairs))
    torch.testing.assert_close(summed.to_dense(torch.float64), adj.to_dense(torch.float64))
    ours = gcn_adjacency(adj)
    assert ours.layout == torch.sparse_csr
    torch.testing.assert_close(ours.to_dense(), expected, atol=1e-6, rtol=1e-5)
