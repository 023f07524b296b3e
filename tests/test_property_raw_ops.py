"""Property-based tests of every raw ``torch.ops.noisygraph.*`` op against its pure-PyTorch or
pure-Python reference, on random inputs drawn by hypothesis: graphs with empty rows, isolated
nodes, duplicate edges and self-loops, int32 and int64 indices, float32 and float64 values,
signed edge values for the linear ops, tiny push limits for the local ones.

Deterministic (``derandomize=True``, no example database) and small (``max_examples`` per test)
so the file runs in well under a minute in CI.
"""
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import noisygraph
from noisygraph import _ops
from noisygraph.ops import local_push
from noisygraph.ops.local_push import LocalGraph
from noisygraph.ops._reference.local_push import (conductance_reference, flow_diffusion_reference,
                                          ppr_push_reference, sweep_cut_reference)
from noisygraph.ops._reference.coding_rate import (coding_rate_hard_reference,
                                                  coding_rate_soft_reference)
from noisygraph.ops._reference.diffusion import (diffuse_adjoint_reference, diffuse_reference,
                                      sddmm_reference, spmm_reference)

pytestmark = pytest.mark.skipif(noisygraph.backend() == "reference",
                                reason="compiled ops not built")

ops = torch.ops.noisygraph
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}
FLOATS = st.sampled_from([torch.float32, torch.float64])
INDICES = st.sampled_from([torch.int32, torch.int64])


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@st.composite
def csr_matrices(draw, square: bool = False, max_nodes: int = 9, max_edges: int = 30):
    """``(rowptr, col, value, num_rows, num_cols)``: random edges (duplicates and self-loops
    come with the draw, one of each is added when there is an edge) sorted into CSR rows, so
    rows without edges are empty and nodes without edges isolated. ``value`` is signed or
    absent."""
    num_rows = draw(st.integers(0 if not square else 1, max_nodes))
    num_cols = num_rows if square else draw(st.integers(1, max_nodes))
    nnz = draw(st.integers(0, max_edges)) if num_rows > 0 else 0
    rows = draw(st.lists(st.integers(0, num_rows - 1), min_size=nnz, max_size=nnz)) if nnz else []
    cols = draw(st.lists(st.integers(0, num_cols - 1), min_size=nnz, max_size=nnz)) if nnz else []
    if nnz:
        rows, cols = rows + [rows[0]], cols + [cols[0]]  # a duplicate
        if rows[0] < num_cols:
            rows, cols = rows + [rows[0]], cols + [rows[0]]  # a self-loop
    index = draw(INDICES)
    dtype = draw(FLOATS)
    row = torch.tensor(rows, dtype=torch.long)
    order = torch.argsort(row, stable=True)
    col = torch.tensor(cols, dtype=torch.long)[order].to(index)
    counts = torch.bincount(row, minlength=num_rows)
    rowptr = torch.zeros(num_rows + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(counts, 0)
    value = None
    if draw(st.booleans()):
        value = (torch.rand(len(rows), generator=generator(draw(st.integers(0, 2**16))),
                            dtype=torch.float64) * 4 - 2).to(dtype)
    return rowptr.to(index), col, value, num_rows, num_cols, dtype


def dense(rows: int, features: int, dtype, seed: int) -> torch.Tensor:
    return torch.randn(rows, features, generator=generator(seed), dtype=torch.float64).to(dtype)


SEEDS = st.integers(0, 2**16)
FEATURES = st.integers(0, 5)


@PROPERTY
@given(csr_matrices(), FEATURES, SEEDS)
def test_spmm_matches_reference(matrix, features, seed):
    rowptr, col, value, num_rows, num_cols, dtype = matrix
    x = dense(num_cols, features, dtype, seed)
    torch.testing.assert_close(ops.spmm(rowptr, col, value, x),
                               spmm_reference(rowptr, col, value, x), **TOL[dtype])


@PROPERTY
@given(csr_matrices(), FEATURES, SEEDS)
def test_sddmm_matches_reference(matrix, features, seed):
    rowptr, col, _, num_rows, num_cols, dtype = matrix
    a = dense(num_rows, features, dtype, seed)
    b = dense(num_cols, features, dtype, seed + 1)
    torch.testing.assert_close(ops.sddmm(rowptr, col, a, b),
                               sddmm_reference(rowptr, col, a, b), **TOL[dtype])


def clamp_mask(draw_mask: bool, num_rows: int, seed: int):
    if not draw_mask:
        return None
    return torch.rand(num_rows, generator=generator(seed)) < 0.4


@PROPERTY
@given(csr_matrices(square=True), FEATURES, st.integers(0, 4), st.floats(0.0, 1.0),
       st.booleans(), st.booleans(), SEEDS)
def test_diffuse_matches_reference(matrix, features, steps, alpha, masked, clip, seed):
    rowptr, col, value, num_rows, _, dtype = matrix
    y0 = dense(num_rows, features, dtype, seed)
    mask = clamp_mask(masked, num_rows, seed)
    torch.testing.assert_close(ops.diffuse(rowptr, col, value, y0, steps, alpha, mask, clip),
                               diffuse_reference(rowptr, col, value, y0, steps, alpha, mask, clip),
                               **TOL[dtype])


@PROPERTY
@given(csr_matrices(square=True), FEATURES, st.integers(0, 4), st.floats(0.0, 1.0),
       st.booleans(), SEEDS)
def test_diffuse_adjoint_matches_reference(matrix, features, steps, alpha, masked, seed):
    rowptr, col, value, num_rows, _, dtype = matrix
    grad = dense(num_rows, features, dtype, seed)
    mask = clamp_mask(masked, num_rows, seed)
    torch.testing.assert_close(
        ops.diffuse_adjoint(rowptr, col, value, grad, steps, alpha, mask),
        diffuse_adjoint_reference(rowptr, col, value, grad, steps, alpha, mask), **TOL[dtype])


# ------------------------------------------------------------------ coding rates
@st.composite
def coding_rate_inputs(draw):
    """z [N, p] (float64, or float32 with looser tolerances), hard labels that may leave
    classes empty or soft memberships with zeros, scales in [0, 2]."""
    num_nodes, dim, num_classes = draw(st.integers(1, 12)), draw(st.integers(1, 6)), \
        draw(st.integers(1, 4))
    dtype = draw(FLOATS)
    seed = draw(SEEDS)
    z = (dense(num_nodes, dim, torch.float64, seed) / dim ** 0.5).to(dtype)
    if draw(st.booleans()):
        labels = torch.tensor(draw(st.lists(st.integers(0, num_classes - 1), min_size=num_nodes,
                                            max_size=num_nodes)))
        membership = None
    else:
        labels = None
        m = torch.rand(num_classes, num_nodes, generator=generator(seed + 1), dtype=torch.float64)
        m[torch.rand(num_classes, num_nodes, generator=generator(seed + 2)) < 0.4] = 0.0
        membership = m.to(dtype)
    total_scale = draw(st.floats(0.0, 2.0))
    class_scale = torch.tensor(draw(st.lists(st.floats(0.0, 2.0), min_size=num_classes,
                                             max_size=num_classes)), dtype=dtype)
    return z, labels, membership, num_classes, total_scale, class_scale


def reference_rates(z, labels, membership, num_classes, total_scale, class_scale):
    if labels is not None:
        return coding_rate_hard_reference(z, labels, num_classes, total_scale, class_scale)
    return coding_rate_soft_reference(z, membership, total_scale, class_scale)


@PROPERTY
@given(coding_rate_inputs(), SEEDS)
def test_coding_rate_and_backward_match_reference(inputs, seed):
    z, labels, membership, num_classes, total_scale, class_scale = inputs
    dtype = z.dtype
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-3, atol=1e-3)
    total, per_class, inverses, scale_grad = ops.coding_rate(
        z, labels, membership, num_classes, total_scale, class_scale, True, True)
    # the reference in float64 (float32 logdets of nearly singular Grams are too rough)
    z_ref = z.double().requires_grad_()
    m_ref = None if membership is None else membership.double().requires_grad_()
    b_ref = class_scale.double().requires_grad_()
    ref_total, ref_per_class = reference_rates(z_ref, labels, m_ref, num_classes, total_scale,
                                               b_ref)
    torch.testing.assert_close(total.double(), ref_total.detach(), **tol)
    torch.testing.assert_close(per_class.double(), ref_per_class.detach(), **tol)
    g = generator(seed)
    grad_total = torch.randn((), generator=g, dtype=torch.float64)
    grad_per_class = torch.randn(num_classes, generator=g, dtype=torch.float64)
    wanted = [z_ref, b_ref] + ([m_ref] if m_ref is not None else [])
    ref_grads = torch.autograd.grad(grad_total * ref_total + (grad_per_class * ref_per_class).sum(),
                                    wanted, allow_unused=True)
    grad_z, grad_membership = ops.coding_rate_backward(
        grad_total.to(dtype), grad_per_class.to(dtype), z, labels, membership, num_classes,
        total_scale, class_scale, inverses, membership is not None)
    torch.testing.assert_close(grad_z.double(), ref_grads[0], **tol)
    torch.testing.assert_close((scale_grad.double() * grad_per_class), ref_grads[1], **tol)
    if membership is not None:
        torch.testing.assert_close(grad_membership.double(), ref_grads[2], **tol)


# ------------------------------------------------------------------ local diffusions
@st.composite
def local_graphs(draw, max_nodes: int = 9, max_edges: int = 20):
    """An undirected LocalGraph (both directions stored; duplicates, self-loops and isolated
    nodes allowed), weighted or not."""
    n = draw(st.integers(1, max_nodes))
    count = draw(st.integers(0, max_edges))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          min_size=count, max_size=count))
    weighted = draw(st.booleans())
    weights = draw(st.lists(st.floats(0.1, 3.0), min_size=count, max_size=count))
    rows = [u for u, v in pairs] + [v for u, v in pairs]
    cols = [v for u, v in pairs] + [u for u, v in pairs]
    row = torch.tensor(rows, dtype=torch.long)
    order = torch.argsort(row, stable=True)
    col = torch.tensor(cols, dtype=torch.long)[order]
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=n), 0)
    value = torch.tensor(weights + weights, dtype=torch.float64)[order] if weighted else None
    return LocalGraph(rowptr, col, value, check_symmetric=False)


@st.composite
def seed_batches(draw, graph: LocalGraph):
    """1-3 queries, each a set of distinct seed nodes (isolated ones included)."""
    queries = draw(st.lists(st.sets(st.integers(0, graph.num_nodes - 1), min_size=1, max_size=3),
                            min_size=1, max_size=3))
    return [sorted(q) for q in queries]


def source_tensors(queries, masses):
    ptr = torch.tensor([0] + [len(q) for q in queries]).cumsum(0)
    nodes = torch.tensor([v for q in queries for v in q], dtype=torch.long)
    mass = torch.tensor([m / len(q) for q, m in zip(queries, masses) for _ in q],
                        dtype=torch.float64)
    return ptr, nodes, mass


def block(out_ptr, nodes, values, q):
    sl = slice(int(out_ptr[q]), int(out_ptr[q + 1]))
    return dict(zip(nodes[sl].tolist(), values[sl].tolist()))


def assert_same_dict(got, want):
    assert set(got) == set(want)
    for v in want:
        assert got[v] == pytest.approx(want[v], rel=1e-9, abs=1e-12)


PUSHES = st.integers(0, 60)


@PROPERTY
@given(st.data())
def test_flow_diffusion_matches_reference(data):
    graph = data.draw(local_graphs())
    queries = data.draw(seed_batches(graph))
    masses = data.draw(st.lists(st.floats(0.5, 30.0), min_size=len(queries), max_size=len(queries)))
    eps, omega = data.draw(st.floats(1e-6, 1.0)), data.draw(st.floats(1.0, 1.9))
    max_pushes = data.draw(PUSHES)
    sink = graph.edge_count
    ptr, nodes, mass = source_tensors(queries, masses)
    out = ops.local_flow_diffusion(graph.rowptr, graph.col, graph.value, graph.degree, sink, ptr,
                                   nodes, mass, eps, omega, max_pushes)
    for q, query in enumerate(queries):
        sources = {v: float(mass[int(ptr[q]) + k]) for k, v in enumerate(query)}
        x, m, work = flow_diffusion_reference(graph, sources, sink.tolist(), eps, max_pushes, omega)
        assert_same_dict(block(out[0], out[1], out[2], q), x)
        assert_same_dict(block(out[0], out[1], out[3], q), m)
        assert tuple(out[4][q].tolist()) == work


@PROPERTY
@given(st.data())
def test_ppr_push_matches_reference(data):
    graph = data.draw(local_graphs())
    queries = data.draw(seed_batches(graph))
    alpha, eps = data.draw(st.floats(0.01, 1.0)), data.draw(st.floats(1e-6, 0.5))
    max_pushes = data.draw(PUSHES)
    ptr, nodes, mass = source_tensors(queries, [1.0] * len(queries))
    out = ops.local_ppr_push(graph.rowptr, graph.col, graph.value, graph.degree, ptr, nodes,
                             mass, alpha, eps, max_pushes)
    for q, query in enumerate(queries):
        sources = {v: float(mass[int(ptr[q]) + k]) for k, v in enumerate(query)}
        p, r, work = ppr_push_reference(graph, sources, alpha, eps, max_pushes)
        assert_same_dict(block(out[0], out[1], out[2], q), p)
        assert_same_dict(block(out[0], out[1], out[3], q), r)
        assert tuple(out[4][q].tolist()) == work


@PROPERTY
@given(st.data())
def test_sweep_cut_matches_reference(data):
    graph = data.draw(local_graphs())
    queries = data.draw(seed_batches(graph))
    normalize = data.draw(st.booleans())
    scores = [data.draw(st.lists(st.floats(-1.0, 1.0), min_size=len(q), max_size=len(q)))
              for q in queries]
    ptr, nodes, _ = source_tensors(queries, [1.0] * len(queries))
    flat = torch.tensor([s for block_scores in scores for s in block_scores], dtype=torch.float64)
    cluster_ptr, cluster_nodes, phi, work = ops.local_sweep_cut(
        graph.rowptr, graph.col, graph.value, graph.degree, ptr, nodes, flat,
        graph.total_volume, normalize)
    assert work.shape == (len(queries), 2)
    for q, query in enumerate(queries):
        _, want = sweep_cut_reference(graph, dict(zip(query, scores[q])), normalize)
        members = cluster_nodes[int(cluster_ptr[q]):int(cluster_ptr[q + 1])].tolist()
        if want != want:  # NaN: no valid prefix
            assert phi[q].isnan() and not members
            continue
        assert float(phi[q]) == pytest.approx(want, rel=1e-9, abs=1e-12)
        assert conductance_reference(graph, members) == pytest.approx(want, rel=1e-9, abs=1e-12)


def fallback(fn, *args, **kwargs):
    """The Python fallback of a fused cluster op (the references, level by level)."""
    with mock.patch.object(_ops, "has_kernel", lambda op, device: False):
        return fn(*args, **kwargs)


def assert_cluster_batches_agree(compiled, reference):
    torch.testing.assert_close(compiled.conductance, reference.conductance, rtol=1e-9,
                               atol=1e-12, equal_nan=True)
    assert torch.equal(compiled.work[:, 0], reference.work[:, 0])  # pushes
    assert torch.equal(compiled.work[:, 2], reference.work[:, 2])  # stopped at max_pushes


def connected_seeds(graph, queries):
    """The Python wrappers reject isolated seeds; keep the queries' other seeds."""
    kept = [[v for v in q if graph.degree[v] > 0] for q in queries]
    return [q for q in kept if q]


@PROPERTY
@given(st.data())
def test_flow_cluster_matches_fallback(data):
    graph = data.draw(local_graphs())
    queries = connected_seeds(graph, data.draw(seed_batches(graph)))
    if not queries:
        return
    multiples = sorted(data.draw(st.lists(st.floats(0.5, 5.0), min_size=1, max_size=3)))
    mass = data.draw(st.floats(0.5, 20.0))
    eps, omega = data.draw(st.floats(1e-4, 1.0)), data.draw(st.floats(1.0, 1.9))
    max_pushes = data.draw(PUSHES)
    args = (graph, queries, mass, multiples)
    kwargs = dict(eps=eps, omega=omega, max_pushes=max_pushes)
    assert_cluster_batches_agree(local_push.flow_cluster(*args, **kwargs),
                                 fallback(local_push.flow_cluster, *args, **kwargs))


@PROPERTY
@given(st.data())
def test_ppr_cluster_matches_fallback(data):
    graph = data.draw(local_graphs())
    queries = connected_seeds(graph, data.draw(seed_batches(graph)))
    if not queries:
        return
    tolerances = sorted(data.draw(st.lists(st.floats(1e-5, 0.1), min_size=1, max_size=3)),
                        reverse=True)
    alpha = data.draw(st.floats(0.01, 1.0))
    max_pushes = data.draw(PUSHES)
    args = (graph, queries, tolerances)
    kwargs = dict(alpha=alpha, max_pushes=max_pushes)
    assert_cluster_batches_agree(local_push.ppr_cluster(*args, **kwargs),
                                 fallback(local_push.ppr_cluster, *args, **kwargs))
