"""The compiled max-flow (``torch.ops.noisygraph.local_max_flow``, Dinic) against the
pure-Python reference and SciPy's Dinic on random networks (hypothesis), integer and float
capacities; its work limit; and the compiled MQI / FlowImprove against their Python paths."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_flow

from noisygraph import _ops
from noisygraph.cluster import LocalGraph
from noisygraph.cluster.refine import (_flow_improve_python, _mqi_python, conductance,
                                       flow_improve, mqi, refine)
from noisygraph.ops._reference.max_flow import max_flow_reference
from noisygraph.ops.max_flow import has_refine_kernels, max_flow

compiled = pytest.mark.skipif(not _ops.has_kernel("local_max_flow", "cpu"),
                              reason="no compiled library")


@st.composite
def networks(draw, integer):
    """A random directed network in CSR form: 2-14 nodes, arcs (parallel arcs and self-loops
    allowed) with integer or float capacities, zeros included."""
    n = draw(st.integers(2, 14))
    m = draw(st.integers(0, 4 * n))
    tails = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    heads = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    if integer:
        caps = draw(st.lists(st.integers(0, 1000), min_size=m, max_size=m))
    else:
        caps = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)), min_size=m,
                             max_size=m))
    order = sorted(range(m), key=lambda a: tails[a])
    rowptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(rowptr, np.asarray(tails, dtype=np.int64) + 1, 1)
    rowptr = np.cumsum(rowptr)
    col = np.asarray([heads[a] for a in order], dtype=np.int64)
    cap = np.asarray([caps[a] for a in order], dtype=np.float64)
    source = draw(st.integers(0, n - 1))
    sink = draw(st.integers(0, n - 2))
    sink += sink >= source
    return torch.tensor(rowptr), torch.tensor(col), torch.tensor(cap), source, sink


def cut_capacity(rowptr, col, cap, side):
    inside = set(side)
    total = 0.0
    for u in range(rowptr.numel() - 1):
        for e in range(int(rowptr[u]), int(rowptr[u + 1])):
            if u in inside and int(col[e]) not in inside:
                total += float(cap[e])
    return total


@compiled
@settings(max_examples=150, deadline=None)
@given(networks(integer=True))
def test_integer_capacities_match_scipy_and_the_reference(net):
    rowptr, col, cap, s, t = net
    out = max_flow(rowptr, col, cap, s, t)
    assert not out.stopped and out.arcs >= 0
    value, side, _ = max_flow_reference(rowptr.tolist(), col.tolist(), cap.tolist(), s, t, 0.0)
    assert out.value == value  # exact: integers
    assert out.source_side.tolist() == side  # the minimal min cut is unique
    n = rowptr.numel() - 1
    keep = [(u, int(col[e]), int(cap[e])) for u in range(n)
            for e in range(int(rowptr[u]), int(rowptr[u + 1])) if int(col[e]) != u]
    rows = [a for a, _, _ in keep]
    cols = [b for _, b, _ in keep]
    matrix = sp.csr_matrix(([c for _, _, c in keep], (rows, cols)), shape=(n, n),
                           dtype=np.int32)
    matrix.sum_duplicates()
    assert out.value == maximum_flow(matrix, s, t, method="dinic").flow_value
    assert cut_capacity(rowptr, col, cap, out.source_side.tolist()) == out.value
    assert s in out.source_side.tolist() and t not in out.source_side.tolist()


@compiled
@settings(max_examples=150, deadline=None)
@given(networks(integer=False))
def test_float_capacities_match_the_reference(net):
    rowptr, col, cap, s, t = net
    tol = 1e-12 * max(float(cap.max()) if cap.numel() else 0.0, 1.0)
    out = max_flow(rowptr, col, cap, s, t, tolerance=tol)
    value, side, _ = max_flow_reference(rowptr.tolist(), col.tolist(), cap.tolist(), s, t, tol)
    assert out.value == pytest.approx(value, rel=1e-9, abs=1e-9)
    # the returned side is a minimum cut: its capacity is the flow value
    assert cut_capacity(rowptr, col, cap, out.source_side.tolist()) == pytest.approx(
        out.value, rel=1e-9, abs=1e-9)
    assert s in out.source_side.tolist() and t not in out.source_side.tolist()


@compiled
def test_work_limit_is_reported():
    # a 200-node path of unit arcs, then a limit below the arc visits it needs
    n = 200
    rowptr = torch.cat([torch.arange(n), torch.tensor([n - 1])])
    col = torch.arange(1, n)
    cap = torch.ones(n - 1, dtype=torch.float64)
    full = max_flow(rowptr, col, cap, 0, n - 1)
    assert full.value == 1.0 and not full.stopped
    cut = max_flow(rowptr, col, cap, 0, n - 1, max_work=50)
    assert cut.stopped and cut.source_side.numel() == 0 and cut.arcs <= 50 + 2


# ---------------------------------------------------------------- compiled MQI / FlowImprove
def random_graph(n, p, rng, weights):
    edges = sorted({(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p} |
                   {(i, i + 1) for i in range(n - 1) if rng.random() < 0.6})
    ei = torch.tensor(edges + [(j, i) for i, j in edges], dtype=torch.long).t()
    w = None
    if weights is not None:
        half = torch.tensor(rng.choice(weights, len(edges)), dtype=torch.float64)
        w = torch.cat([half, half])
    return LocalGraph.from_graph(ei, edge_weight=w, num_nodes=n)


def reference_sets(count, weights, seed):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(20, 80))
        g = random_graph(n, float(rng.uniform(0.03, 0.15)), rng, weights)
        ref = [v for v in range(n) if g.degree[v] > 0 and rng.random() < 0.3]
        if ref and 0 < float(g.degree[ref].sum()) <= g.total_volume / 2:
            out.append((g, ref))
    return out


@pytest.mark.skipif(not has_refine_kernels(), reason="no compiled library")
@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 5.0], [0.05, 0.5, 1.0, 2.5]])
def test_compiled_refinements_equal_the_python_paths(weights):
    """Same sets and conductance as the Python paths (SciPy's exact integer Dinic for MQI on
    integer weights, the pure-Python Dinic otherwise) on 40 random sets per weighting."""
    improved = 0
    for g, ref in reference_sets(40, weights, seed=len(weights or [])):
        ids = torch.tensor(ref)
        for method in ("mqi", "flowimprove"):
            new = refine(g, ref, method=method)
            old = (_mqi_python(g, ids, 50, 0.0) if method == "mqi" else
                   _flow_improve_python(g, ids, 0.3, 50, 0.0))
            assert new.conductance == pytest.approx(old.conductance, rel=1e-12, abs=1e-12)
            assert torch.equal(new.nodes, old.nodes), method
            assert new.input_conductance == pytest.approx(old.input_conductance, rel=1e-12)
            assert new.work["stopped_at_limit"] == 0
            improved += new.conductance < new.input_conductance - 1e-9
    assert improved >= 20


@pytest.mark.skipif(not has_refine_kernels(), reason="no compiled library")
@pytest.mark.parametrize("method", ["mqi", "flowimprove"])
def test_refinement_work_limit_keeps_the_best_set_so_far(method):
    g, ref = next((g, r) for g, r in reference_sets(40, None, seed=7)
                  if refine(g, r, method=method).iterations >= 2)
    call = mqi if method == "mqi" else flow_improve
    full = call(g, ref)
    limited = call(g, ref, max_work=1)
    assert limited.work["stopped_at_limit"] == 1 and full.work["stopped_at_limit"] == 0
    assert limited.conductance <= limited.input_conductance
    assert limited.conductance >= full.conductance
    assert limited.conductance == pytest.approx(conductance(g, limited.nodes))
    assert not math.isnan(limited.conductance)
