"""p-norm flow diffusion: the compiled op against its Python reference (random graphs,
hypothesis), p = 2 against the l2 diffusion, the optimality conditions of the dual, locality,
warm-started levels, the push limit and local_cluster(p=...)."""
from __future__ import annotations

import math
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import noisygraph
from noisygraph.cluster import LocalGraph, local_cluster
from noisygraph.ops.local_push import (flow_cluster, flow_diffusion, pnorm_cluster,
                                       pnorm_diffusion)
from noisygraph.ops._reference.local_push import pnorm_diffusion_reference

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="noisygraph-hypothesis-"))
COMPILED = noisygraph.backend() != "reference"
compiled = pytest.mark.skipif(not COMPILED, reason="compiled ops not built")
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def random_graph(n=30, density=0.15, seed=0, weighted=True, offset=0):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < density, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True  # a path keeps it connected
    row, col = np.nonzero(upper)
    w = rng.uniform(0.1, 2.0, row.size) if weighted else np.ones(row.size)
    edge_index = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]) + offset)
    return edge_index, torch.tensor(np.r_[w, w])


def make_graph(n=30, density=0.15, seed=0, weighted=True):
    edge_index, weight = random_graph(n, density, seed, weighted)
    return LocalGraph.from_graph(edge_index, weight if weighted else None, num_nodes=n)


def dense(out, q, n):
    sl = slice(int(out.ptr[q]), int(out.ptr[q + 1]))
    x = torch.zeros(n, dtype=torch.float64)
    m = torch.zeros(n, dtype=torch.float64)
    x[out.nodes[sl]] = out.primal[sl]
    m[out.nodes[sl]] = out.residual[sl]
    return x, m


def mass_from_potentials(graph, x, sources, p):
    """m = Delta - sum_j w_ij sign(x_i - x_j) |x_i - x_j|^(q-1), from the edge list."""
    row, col = graph.edges()
    w = graph.weights()
    d = x[row] - x[col]
    flow = w * torch.sign(d) * d.abs() ** (1.0 / (p - 1.0))
    m = torch.zeros(graph.num_nodes, dtype=torch.float64)
    for v, a in sources.items():
        m[v] += a
    return m.index_add_(0, row, -flow)


def dual_objective(graph, x, sources, sink, p):
    q = p / (p - 1.0)
    row, col = graph.edges()
    delta = torch.zeros(graph.num_nodes, dtype=torch.float64)
    for v, a in sources.items():
        delta[v] += a
    # every undirected edge is stored twice
    return float(0.5 * (graph.weights() * (x[row] - x[col]).abs() ** q).sum() / q
                 + x @ (sink - delta))


def check_kkt(graph, x, m, sources, p, eps):
    sink = graph.edge_count
    assert bool((x >= 0).all())
    # the reported masses are the masses of the potentials (flow conservation)
    torch.testing.assert_close(m, mass_from_potentials(graph, x, sources, p), atol=1e-6 * max(
        1.0, sum(sources.values())), rtol=1e-6)
    assert float(m.sum()) == pytest.approx(sum(sources.values()), rel=1e-9)
    excess = m - sink
    assert bool((excess <= eps * (1 + 1e-9)).all())  # primal feasibility (up to eps)
    support = x > 0
    assert bool((excess[support].abs() <= eps * (1 + 1e-9)).all())  # complementary slackness


@pytest.mark.parametrize("p", [2.0, 3.0, 4.0, 8.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_solution_meets_the_optimality_conditions(p, weighted):
    g = make_graph(n=40, seed=3, weighted=weighted)
    sources = {0: 60.0}
    out = pnorm_diffusion(g, 0, 60.0, p=p, eps=1e-6)
    x, m = dense(out, 0, g.num_nodes)
    check_kkt(g, x, m, sources, p, 1e-6)
    assert not bool(out.hit_push_limit[0])
    # optimality: no feasible perturbation lowers the dual objective
    f = dual_objective(g, x, sources, g.edge_count, p)
    rng = np.random.default_rng(0)
    for _ in range(20):
        step = torch.tensor(rng.normal(size=g.num_nodes)) * 1e-3 * (1 + x)
        assert dual_objective(g, (x + step).clamp_min(0), sources, g.edge_count, p) >= f - 1e-6


def test_grows_sharper_with_p():
    """The potentials at p = 8 jump at the cut; the objective value differs from p = 2 (the
    problems are different), and the solve touches no more nodes than the mass allows."""
    g = make_graph(n=40, seed=1)
    a = pnorm_diffusion(g, 0, 40.0, p=2.0, eps=1e-6)
    b = pnorm_diffusion(g, 0, 40.0, p=8.0, eps=1e-6)
    xa, _ = dense(a, 0, g.num_nodes)
    xb, _ = dense(b, 0, g.num_nodes)
    assert not torch.allclose(xa, xb)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_p2_equals_the_l2_diffusion(weighted, seed):
    g = make_graph(n=40, seed=seed, weighted=weighted)
    for omega in (1.0, 1.5):
        l2 = flow_diffusion(g, [0, 9], [50.0, 30.0], eps=1e-8, omega=omega)
        pn = pnorm_diffusion(g, [0, 9], [50.0, 30.0], p=2.0, eps=1e-8)
        for q in range(2):
            x1, m1 = dense(l2, q, g.num_nodes)
            x2, m2 = dense(pn, q, g.num_nodes)
            torch.testing.assert_close(x2, x1, atol=1e-6, rtol=1e-6)
            torch.testing.assert_close(m2, m1, atol=1e-6, rtol=1e-6)
    # before the first lift (one round of 16 + 2 * touched pushes), the p = 2 push with
    # omega = 1 is the l2 push: same pushes in the same order
    l2 = flow_diffusion(g, 0, 50.0, eps=1e-3, omega=1.0, max_pushes=16)
    pn = pnorm_diffusion(g, 0, 50.0, p=2.0, eps=1e-3, max_pushes=16)
    assert int(pn.work[0, 0]) == int(l2.work[0, 0])
    assert torch.equal(pn.nodes, l2.nodes)
    torch.testing.assert_close(pn.primal, l2.primal, atol=1e-9, rtol=1e-9)


@st.composite
def pnorm_cases(draw):
    n = draw(st.integers(2, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          min_size=1, max_size=30))
    # zero weights included; tiny positive ones would need potentials beyond float64
    weight = st.one_of(st.just(0.0), st.floats(1e-3, 3.0))
    weights = draw(st.lists(weight, min_size=len(pairs), max_size=len(pairs)))
    p = draw(st.sampled_from([2.0, 2.5, 3.0, 4.0, 8.0]))
    mass = draw(st.floats(0.5, 60.0))
    eps = draw(st.sampled_from([1e-6, 1e-3, 0.5]))
    return n, pairs, weights, p, mass, eps


def case_graph(n, pairs, weights):
    """Undirected: each pair once per direction (a repeated pair keeps its last weight)."""
    edges = {}
    for (a, b), w in zip(pairs, weights):
        edges[(min(a, b), max(a, b))] = w
    row = [a for a, b in edges] + [b for a, b in edges if a != b]
    col = [b for a, b in edges] + [a for a, b in edges if a != b]
    w = list(edges.values()) + [w for (a, b), w in edges.items() if a != b]
    return LocalGraph.from_graph(torch.tensor([row, col]), torch.tensor(w, dtype=torch.float64),
                                 num_nodes=n)


@compiled
@SETTINGS
@given(pnorm_cases())
def test_compiled_matches_reference(case):
    """Random small graphs with self-loops, duplicate and zero-weight edges: the op follows
    the reference step by step (same pushes and edge counts, same touched nodes, values to
    rounding)."""
    n, pairs, weights, p, mass, eps = case
    g = case_graph(n, pairs, weights)
    seed = next((v for v in range(n) if g.degree[v] > 0), None)
    if seed is None:
        return
    out = pnorm_diffusion(g, seed, mass, p=p, eps=eps, max_pushes=5000)
    x_ref, m_ref, work_ref = pnorm_diffusion_reference(g, {seed: mass}, g.edge_count.tolist(),
                                                       p, eps, 5000)
    if work_ref[2]:  # no convergence (e.g. more mass than sink capacity): both flag it;
        # rounding (the kernel's FMA contractions) then changes the diverging steps
        assert bool(out.hit_push_limit[0])
        return
    assert tuple(out.work[0].tolist()) == work_ref
    assert out.nodes.tolist() == list(x_ref)
    # the kernel's floating-point contractions (FMA) round differently from Python's
    x_ref = torch.tensor([x_ref[v] for v in x_ref], dtype=torch.float64)
    torch.testing.assert_close(out.primal, x_ref, atol=0.0, rtol=1e-7)
    m_ref = torch.tensor([m_ref[v] for v in m_ref], dtype=torch.float64)
    torch.testing.assert_close(out.residual, m_ref, atol=1e-7 * mass, rtol=1e-7)


@compiled
@pytest.mark.parametrize("p", [2.0, 4.0])
def test_cluster_matches_the_reference_backend(p, monkeypatch):
    g = make_graph(n=40, seed=5)
    out = pnorm_cluster(g, [0, 7], [20.0, 15.0], [1.5, 2.0, 3.0], p=p, eps=1e-4)
    monkeypatch.setattr(noisygraph._ops, "has_kernel", lambda op, device: False)
    ref = pnorm_cluster(g, [0, 7], [20.0, 15.0], [1.5, 2.0, 3.0], p=p, eps=1e-4)
    for a, b in zip(out, ref):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9, equal_nan=True)
        else:
            assert torch.equal(a, b)


@pytest.mark.parametrize("p", [2.0, 4.0])
def test_levels_warm_start_to_the_cold_solution(p):
    """The fused op's last level (warm-started) solves the same problem as one cold solve."""
    g = make_graph(n=40, seed=2)
    grid = [1.0, 2.0, 3.0]
    fused = pnorm_cluster(g, 0, 10.0, grid, p=p, eps=1e-7)
    cold = pnorm_diffusion(g, 0, 30.0, p=p, eps=1e-7)
    x, _ = dense(cold, 0, g.num_nodes)
    if int(fused.best_level[0]) == len(grid) - 1:
        xf = torch.zeros(g.num_nodes, dtype=torch.float64)
        xf[fused.score_nodes] = fused.scores
        torch.testing.assert_close(xf, x, atol=1e-4 * float(x.max()), rtol=1e-4)
    check_kkt(g, x, dense(cold, 0, g.num_nodes)[1], {0: 30.0}, p, 1e-7)


@pytest.mark.parametrize("p", [2.0, 4.0, 8.0])
def test_work_is_unchanged_by_unrelated_components(p):
    """Locality: a far larger graph added as other components changes neither the output nor
    the work (node updates and edge visits)."""
    edge_index, weight = random_graph(40, 0.1, seed=7)
    small = LocalGraph.from_graph(edge_index, weight, num_nodes=40)
    big_edges, big_weight = random_graph(3000, 0.002, seed=8, offset=40)
    both = LocalGraph.from_graph(torch.cat([edge_index, big_edges], 1),
                                 torch.cat([weight, big_weight]), num_nodes=3040)
    a = pnorm_diffusion(small, [3, 11], 30.0, p=p)
    b = pnorm_diffusion(both, [3, 11], 30.0, p=p)
    assert torch.equal(a.work, b.work) and torch.equal(a.nodes, b.nodes)
    torch.testing.assert_close(a.primal, b.primal, rtol=0, atol=0)
    a = pnorm_cluster(small, [3], 20.0, [1.5, 3.0], p=p)
    b = pnorm_cluster(both, [3], 20.0, [1.5, 3.0], p=p)
    assert torch.equal(a.work, b.work)


def test_work_does_not_grow_with_the_graph():
    """On rings of 10^3 and 10^5 nodes the same source mass makes the same work."""
    def ring(n):
        i = torch.arange(n)
        edge_index = torch.stack([torch.cat([i, (i + 1) % n]), torch.cat([(i + 1) % n, i])])
        return LocalGraph.from_graph(edge_index, num_nodes=n)
    small, big = ring(1_000), ring(100_000)
    for p in (2.0, 4.0):
        a = pnorm_diffusion(small, 0, 50.0, p=p)
        b = pnorm_diffusion(big, 0, 50.0, p=p)
        assert torch.equal(a.work, b.work)
        assert int(a.work[0, 1]) < 50_000


def test_reports_the_push_limit():
    g = make_graph(n=40, seed=4)
    limited = pnorm_diffusion(g, 0, 80.0, p=4.0, eps=1e-9, max_pushes=5)
    assert bool(limited.hit_push_limit[0]) and int(limited.work[0, 0]) == 5
    free = pnorm_diffusion(g, 0, 80.0, p=4.0, eps=1e-9)
    assert not bool(free.hit_push_limit[0])
    batch = pnorm_cluster(g, 0, 20.0, [1.0, 2.0], p=4.0, eps=1e-9, max_pushes=5)
    assert bool(batch.hit_push_limit[0])


def test_work_counts_every_root_finder_evaluation():
    """Each push visits its row at least three times (scan, one evaluation, mass update),
    the lifts add the support's rows; the counts are the reference's."""
    g = make_graph(n=40, seed=6, weighted=False)  # no self-loops: every row entry counts
    for p in (2.0, 4.0):
        out = pnorm_diffusion(g, 0, 60.0, p=p, eps=1e-6)
        _, _, work = pnorm_diffusion_reference(g, {0: 60.0}, g.edge_count.tolist(), p, 1e-6)
        pushes, edges = int(out.work[0, 0]), int(out.work[0, 1])
        assert (pushes, edges) == work[:2]
        assert edges >= 3 * pushes * float(g.edge_count.min())


def test_lift_makes_weakly_linked_regions_converge():
    """A saturated block behind weak (label-weighted) edges: at p = 4 the coordinate steps
    alone stop at a 300,000-push limit far from converged (measured when the lift was
    added); with the lift the solve converges in a few thousand."""
    g, labels, _ = planted()
    from noisygraph.cluster.weights import label_weighted_graph
    wg = label_weighted_graph(g, labels, weighting="target", cross_weight=0.05, vote_rounds=1)
    out = pnorm_diffusion(wg, 0, 440.0, p=4.0, max_pushes=20_000)
    assert not bool(out.hit_push_limit[0])
    x, m = dense(out, 0, g.num_nodes)
    check_kkt(wg, x, m, {0: 440.0}, 4.0, 0.5)


def test_overflowing_potentials_are_an_error_naming_p():
    g = make_graph(n=20, seed=0)
    with pytest.raises(ValueError, match="p ="):
        pnorm_diffusion(g, 0, 1e6, p=400.0)


# ------------------------------------------------------------------ local_cluster(p=...)
def planted(seed=0):
    """Two dense blocks of 30 nodes joined by a few edges; labels = the first block with 20 %
    flipped."""
    rng = np.random.default_rng(seed)
    n = 60
    block = np.arange(n) < 30
    prob = np.where(block[:, None] == block[None, :], 0.3, 0.02)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    row, col = np.nonzero(upper)
    edge_index = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]))
    labels = torch.tensor(block ^ (rng.random(n) < 0.2))
    return LocalGraph.from_graph(edge_index, num_nodes=n), labels, torch.tensor(block)


def test_local_cluster_p2_is_todays_path():
    g, labels, _ = planted()
    a = local_cluster(g, seed_node=0, labels=labels)
    b = local_cluster(g, seed_node=0, labels=labels, p=2.0)
    assert torch.equal(a.nodes, b.nodes) and a.work == b.work and a.conductance == b.conductance
    assert b.to_dict()["p"] == 2.0


@pytest.mark.parametrize("p", [4.0, 8.0])
def test_local_cluster_runs_the_pnorm_diffusion(p):
    g, labels, truth = planted()
    res = local_cluster(g, seed_node=0, labels=labels, p=p)
    assert res.to_dict()["p"] == p and res.p == p
    assert not res.hit_push_limit and res.work["pushes"] > 0
    assert res.f1(truth) > 0.8
    # the same diffusion as the op on the label-weighted graph
    from noisygraph.cluster.weights import label_weighted_graph
    from noisygraph.cluster.api import _feasible_multiples
    wg = label_weighted_graph(g, labels, weighting="target", cross_weight=0.05, vote_rounds=1)
    levels = _feasible_multiples(g, None, [res.target_volume], [1.5, 2.0, 2.5, 3.0, 4.0, 5.0])
    batch = pnorm_cluster(wg, [[0]], [res.target_volume], levels, p=p)
    assert sorted(batch.cluster_nodes.tolist()) == res.nodes.tolist()


@pytest.mark.parametrize("bad,error", [(1.5, ValueError), (math.inf, ValueError),
                                       (math.nan, ValueError), ("4", TypeError),
                                       (True, TypeError)])
def test_local_cluster_checks_p(bad, error):
    g, labels, _ = planted()
    with pytest.raises(error, match="p"):
        local_cluster(g, seed_node=0, labels=labels, p=bad)
