"""Push diffusions and sweep cut: compiled ops against the Python reference, a dense solver,
conservation, locality, brute-force sweeps."""
import math

import numpy as np
import pytest
import torch

import noisygraph
from noisygraph import _ops
from noisygraph.cluster import LocalGraph, local_cluster
from noisygraph.ops.local_push import (DEFAULT_CG_ITERS, flow_cluster, flow_diffusion, ppr_cluster,
                                       ppr_push, sweep_cut)
from noisygraph.ops._reference.local_push import (conductance_reference, flow_diffusion_reference,
                                                  ppr_push_reference, sweep_cut_reference)

compiled = pytest.mark.skipif(noisygraph.backend() == "reference", reason="compiled ops not built")


def random_graph(n=30, p=0.15, seed=0, weighted=True, offset=0, total=None):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < p, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True  # a path keeps it connected
    row, col = np.nonzero(upper)
    w = rng.uniform(0.1, 2.0, row.size) if weighted else np.ones(row.size)
    edge_index = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]) + offset)
    weight = torch.tensor(np.r_[w, w])
    return edge_index, weight


def make_graph(n=30, p=0.15, seed=0, weighted=True):
    edge_index, weight = random_graph(n, p, seed, weighted)
    return LocalGraph.from_graph(edge_index, weight if weighted else None, num_nodes=n)


def as_dict(nodes, values):
    return dict(zip(nodes.tolist(), values.tolist()))


@compiled
@pytest.mark.parametrize("omega", [1.0, 1.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_flow_diffusion_matches_reference(omega, weighted):
    g = make_graph(weighted=weighted)
    sink = g.edge_count.tolist()
    out = flow_diffusion(g, [0, 7], [40.0, 25.0], eps=1e-6, omega=omega)
    for q, (seed, mass) in enumerate([(0, 40.0), (7, 25.0)]):
        x_ref, m_ref, work_ref = flow_diffusion_reference(g, {seed: mass}, sink, 1e-6, omega=omega,
                                                          cg_iters=DEFAULT_CG_ITERS)
        sl = slice(int(out.ptr[q]), int(out.ptr[q + 1]))
        x, m = as_dict(out.nodes[sl], out.primal[sl]), as_dict(out.nodes[sl], out.residual[sl])
        assert set(x) == set(x_ref)
        for v in x:
            assert x[v] == pytest.approx(x_ref[v], rel=1e-9, abs=1e-9)
            assert m[v] == pytest.approx(m_ref[v], rel=1e-9, abs=1e-9)
        assert tuple(out.work[q].tolist()) == work_ref


@pytest.mark.parametrize("omega", [1.0, 1.5])
def test_flow_diffusion_solves_the_l2_problem(omega):
    """Compare with a dense solve of min 1/2 x'Lx + x'(T - Delta), x >= 0 (projected
    Gauss-Seidel run to machine precision) and check the KKT conditions."""
    n = 25
    g = make_graph(n=n, seed=3)
    A = g.to_adjacency().to_dense(torch.float64).numpy()
    L = np.diag(A.sum(1)) - A
    T = g.edge_count.numpy()
    delta = np.zeros(n)
    delta[4] = 30.0
    c = T - delta
    x = np.zeros(n)
    for _ in range(20000):
        for i in range(n):
            x[i] = max(0.0, x[i] - (L[i] @ x + c[i]) / L[i, i])
    out = flow_diffusion(g, 4, 30.0, eps=1e-9, omega=omega)
    x_push = np.zeros(n)
    x_push[out.nodes.numpy()] = out.primal.numpy()
    np.testing.assert_allclose(x_push, x, atol=1e-6)
    mass = np.zeros(n)
    mass[out.nodes.numpy()] = out.residual.numpy()
    assert (x_push >= 0).all()
    assert (mass <= T + 1e-8).all()
    assert np.abs(mass - T)[x_push > 1e-9].max() < 1e-8


@pytest.mark.parametrize("omega", [1.0, 1.7])
def test_flow_diffusion_conserves_mass(omega):
    g = make_graph(seed=5)
    out = flow_diffusion(g, [[1, 2], 3], [50.0, 12.5], omega=omega)
    for q, total in enumerate([50.0, 12.5]):
        sl = slice(int(out.ptr[q]), int(out.ptr[q + 1]))
        assert float(out.residual[sl].sum()) == pytest.approx(total, rel=1e-12)
        assert (out.primal[sl] >= 0).all()


@compiled
@pytest.mark.parametrize("weighted", [False, True])
def test_ppr_push_matches_reference_and_conserves(weighted):
    g = make_graph(weighted=weighted, seed=2)
    out = ppr_push(g, [0, 9], alpha=0.1, eps=1e-5)
    for q, seed in enumerate([0, 9]):
        p_ref, r_ref, work_ref = ppr_push_reference(g, {seed: 1.0}, 0.1, 1e-5)
        sl = slice(int(out.ptr[q]), int(out.ptr[q + 1]))
        p, r = as_dict(out.nodes[sl], out.primal[sl]), as_dict(out.nodes[sl], out.residual[sl])
        assert set(p) == set(p_ref)
        for v in p:
            assert p[v] == pytest.approx(p_ref[v], abs=1e-12)
            assert r[v] == pytest.approx(r_ref[v], abs=1e-12)
        assert tuple(out.work[q].tolist()) == work_ref
        assert float(out.primal[sl].sum() + out.residual[sl].sum()) == pytest.approx(1.0)
        degree = g.degree[out.nodes[sl]]
        assert (out.residual[sl] <= 1e-5 * degree + 1e-15).all()


def test_ppr_push_approximates_pagerank():
    """With a tiny tolerance the push solution is the exact personalized PageRank."""
    g = make_graph(seed=4, weighted=True)
    n = g.num_nodes
    A = g.to_adjacency().to_dense(torch.float64)
    P = A / g.degree.unsqueeze(1)  # row-stochastic walk
    alpha = 0.2
    s = torch.zeros(n, dtype=torch.float64)
    s[6] = 1.0
    exact = alpha * torch.linalg.solve(torch.eye(n, dtype=torch.float64) - (1 - alpha) * P.T, s)
    out = ppr_push(g, 6, alpha=alpha, eps=1e-12)
    p = torch.zeros(n, dtype=torch.float64)
    p[out.nodes] = out.primal
    torch.testing.assert_close(p, exact, atol=1e-9, rtol=0)


def test_work_is_unchanged_by_unrelated_components():
    """Locality: adding a far larger graph as other components changes neither the output
    nor the work counters."""
    edge_index, weight = random_graph(40, 0.1, seed=7)
    small = LocalGraph.from_graph(edge_index, weight, num_nodes=40)
    big_edges, big_weight = random_graph(400, 0.05, seed=8, offset=40)
    both = LocalGraph.from_graph(torch.cat([edge_index, big_edges], 1),
                                 torch.cat([weight, big_weight]), num_nodes=440)
    for fn in (lambda g: flow_diffusion(g, [3, 11], 30.0), lambda g: ppr_push(g, [3, 11], eps=1e-4)):
        a, b = fn(small), fn(both)
        assert torch.equal(a.work, b.work)
        assert torch.equal(a.nodes, b.nodes)
        torch.testing.assert_close(a.primal, b.primal)
    # the fused op's sweep measures volumes against the whole graph, the work stays the same
    a = flow_cluster(small, [3], 20.0, [1.5, 3.0])
    b = flow_cluster(both, [3], 20.0, [1.5, 3.0])
    assert torch.equal(a.work, b.work)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sweep_cut_matches_brute_force(normalize, seed):
    g = make_graph(n=20, p=0.2, seed=seed)
    rng = np.random.default_rng(seed)
    nodes = torch.tensor(rng.choice(20, size=12, replace=False))
    scores = torch.tensor(rng.random(12))
    out = sweep_cut(g, torch.tensor([0, 12]), nodes, scores, normalize=normalize)
    members, phi = sweep_cut_reference(g, as_dict(nodes, scores), normalize)
    assert sorted(out.nodes.tolist()) == sorted(members)
    assert float(out.conductance[0]) == pytest.approx(phi, rel=1e-9)
    assert float(out.conductance[0]) == pytest.approx(conductance_reference(g, out.nodes.tolist()))
    # brute force over every prefix: none beats the returned one
    key = scores / g.degree[nodes] if normalize else scores
    order = nodes[torch.argsort(-key)]
    prefix_phis = [conductance_reference(g, order[:k].tolist()) for k in range(1, 13)]
    assert phi == pytest.approx(min(v for v in prefix_phis if not math.isnan(v)))


def test_sweep_cut_empty_scores_give_nan():
    g = make_graph()
    out = sweep_cut(g, torch.tensor([0, 0]), torch.empty(0, dtype=torch.long),
                    torch.empty(0, dtype=torch.float64))
    assert out.nodes.numel() == 0 and math.isnan(float(out.conductance[0]))


def test_flow_cluster_equals_levels_run_one_by_one():
    """The fused op (warm starts) agrees with separate diffusions + sweeps per level."""
    g = make_graph(n=40, p=0.1, seed=9)
    multiples = [1.5, 3.0, 5.0]
    fused = flow_cluster(g, [2], 10.0, multiples, eps=1e-8, omega=1.0)
    best = (math.inf, None)
    for a in multiples:
        d = flow_diffusion(g, 2, 10.0 * a, eps=1e-8, omega=1.0)
        s = sweep_cut(g, d.ptr, d.nodes, d.primal)
        if float(s.conductance[0]) < best[0]:
            best = (float(s.conductance[0]), sorted(s.nodes.tolist()))
    assert float(fused.conductance[0]) == pytest.approx(best[0], rel=1e-6)
    assert sorted(fused.cluster_nodes.tolist()) == best[1]


def test_reference_backend_matches_compiled(monkeypatch):
    g = make_graph(n=30, seed=11)
    compiled_out = flow_cluster(g, [0, 5], 15.0, [1.5, 2.5], eps=1e-6)
    compiled_ppr = ppr_cluster(g, [0, 5], [1e-3, 1e-4], alpha=0.1)
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    reference_out = flow_cluster(g, [0, 5], 15.0, [1.5, 2.5], eps=1e-6)
    reference_ppr = ppr_cluster(g, [0, 5], [1e-3, 1e-4], alpha=0.1)
    torch.testing.assert_close(compiled_out.conductance, reference_out.conductance)
    assert torch.equal(torch.sort(compiled_out.cluster_nodes[:int(compiled_out.cluster_ptr[1])]).values,
                       torch.sort(reference_out.cluster_nodes[:int(reference_out.cluster_ptr[1])]).values)
    torch.testing.assert_close(compiled_ppr.conductance, reference_ppr.conductance)


@compiled
def test_opcheck():
    g = make_graph(n=20, seed=1)
    ptr, nodes, mass = torch.tensor([0, 1, 2]), torch.tensor([0, 4]), torch.tensor([10.0, 8.0],
                                                                                dtype=torch.float64)
    ops = torch.ops.noisygraph
    common = (g.rowptr, g.col, g.value, g.degree)
    torch.library.opcheck(ops.local_flow_diffusion.default,
                          (*common, g.edge_count, ptr, nodes, mass, 1e-4, 1.5, 10000))
    torch.library.opcheck(ops.local_ppr_push.default, (*common, ptr, nodes, mass, 0.1, 1e-4, 10000))
    torch.library.opcheck(ops.local_sweep_cut.default,
                          (*common, ptr, nodes, mass, g.total_volume, True))
    torch.library.opcheck(ops.local_flow_cluster.default,
                          (*common, g.edge_count, ptr, nodes, mass,
                           torch.tensor([1.5, 3.0], dtype=torch.float64), 1e-4, 1.5, 10000,
                           g.total_volume))
    torch.library.opcheck(ops.local_ppr_cluster.default,
                          (*common, ptr, nodes, mass, torch.tensor([1e-3, 1e-4], dtype=torch.float64),
                           0.1, 10000, g.total_volume))


def test_max_pushes_limits_work():
    g = make_graph()
    out = flow_diffusion(g, 0, 100.0, eps=1e-9, max_pushes=5)
    assert int(out.work[0, 0]) == 5
    assert int(out.work[0, 2]) == 1  # stopped at the limit with nodes still active
    converged = flow_diffusion(g, 0, 100.0, eps=1e-9)
    assert int(converged.work[0, 2]) == 0
    assert int(flow_diffusion(g, 0, 100.0, max_pushes=0).work[0, 2]) == 1
    ppr = ppr_push(g, [0, 3], alpha=0.1, eps=1e-8, max_pushes=7)
    assert ppr.work[:, 0].tolist() == [7, 7] and ppr.work[:, 2].tolist() == [1, 1]
    assert ppr_push(g, 0, alpha=0.1, eps=1e-3).work[0, 2] == 0


@pytest.mark.parametrize("kind", ["flow", "ppr"])
def test_max_pushes_caps_each_level_like_the_fallback(kind, monkeypatch):
    """max_pushes bounds every mass / tolerance level (the documented meaning, and what the
    Python fallback does); the compiled ops used to share one budget over all levels, which
    stopped these queries after 15 pushes in total."""
    g = make_graph(n=40, p=0.1, seed=9)
    if kind == "flow":
        def run():
            return flow_cluster(g, [2, 7], 10.0, [1.5, 3.0, 5.0], eps=1e-8, omega=1.0,
                                   max_pushes=15)
    else:
        def run():
            return ppr_cluster(g, [2, 7], [1e-2, 1e-4, 1e-6], alpha=0.1,
                                                   max_pushes=15)
    compiled_out = run()
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    fallback_out = run()
    for out in (compiled_out, fallback_out):
        assert out.work[:, 2].tolist() == [1, 1]  # stopped at the limit
        assert (out.work[:, 0] > 15).all()  # more than one level's budget in total
    assert torch.equal(compiled_out.work[:, 0], fallback_out.work[:, 0])
    torch.testing.assert_close(compiled_out.conductance, fallback_out.conductance)
    torch.testing.assert_close(compiled_out.best_level, fallback_out.best_level)
    for q in range(2):
        a = compiled_out.cluster_nodes[int(compiled_out.cluster_ptr[q]):int(compiled_out.cluster_ptr[q + 1])]
        b = fallback_out.cluster_nodes[int(fallback_out.cluster_ptr[q]):int(fallback_out.cluster_ptr[q + 1])]
        assert sorted(a.tolist()) == sorted(b.tolist())




# ---------------------------------------------------------------------------- push limit
@pytest.fixture(params=["compiled", "reference"])
def backend(request, monkeypatch):
    """Runs a test on the compiled ops and on the Python fallback."""
    if request.param == "compiled":
        if not _ops.COMPILED:
            pytest.skip("compiled ops not built")
    else:
        monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    return request.param


def test_push_limit_is_reported(backend):
    g = make_graph()
    for limited, max_pushes in ((True, 5), (False, 10**7)):
        outs = [flow_diffusion(g, [0, 3], 100.0, eps=1e-9, max_pushes=max_pushes),
                ppr_push(g, [0, 3], alpha=0.1, eps=1e-9, max_pushes=max_pushes),
                flow_cluster(g, [0, 3], 100.0, [1.0], eps=1e-9, max_pushes=max_pushes),
                ppr_cluster(g, [0, 3], [1e-9], alpha=0.1,
                                                max_pushes=max_pushes)]
        for out in outs:
            assert out.work.shape == (2, 3)
            assert out.hit_push_limit.tolist() == [limited, limited]
            if limited:
                assert out.work[:, 0].tolist() == [5, 5]


def test_local_cluster_reports_the_push_limit(backend):
    g = make_graph()
    for method in ("flow", "ppr"):
        stopped = local_cluster(g, seed_node=0, method=method, target_volume=20.0, max_pushes=3)
        assert stopped.hit_push_limit and stopped.to_dict()["hit_push_limit"] is True
        free = local_cluster(g, seed_node=0, method=method, target_volume=20.0)
        assert not free.hit_push_limit and free.to_dict()["hit_push_limit"] is False


def test_reference_limits_each_level_and_flags_only_unfinished_work():
    g = make_graph()
    sink = g.edge_count.tolist()
    _, _, (needed, _, stopped) = flow_diffusion_reference(g, {0: 100.0}, sink, 1e-9, 10**9, 1.5)
    assert not stopped
    # the limit met exactly when the queue empties is not a stop
    assert flow_diffusion_reference(g, {0: 100.0}, sink, 1e-9, needed, 1.5)[2][2] == 0
    assert flow_diffusion_reference(g, {0: 100.0}, sink, 1e-9, needed - 1, 1.5)[2][2] == 1
    _, _, (ppr_needed, _, _) = ppr_push_reference(g, {0: 1.0}, 0.1, 1e-9, 10**9)
    assert ppr_push_reference(g, {0: 1.0}, 0.1, 1e-9, ppr_needed)[2][2] == 0
    assert ppr_push_reference(g, {0: 1.0}, 0.1, 1e-9, ppr_needed - 1)[2][2] == 1


def test_fallback_push_limit_is_per_level(monkeypatch):
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    g = make_graph()
    levels = [1.0, 2.0, 3.0]
    # the push-only solver: with CG rounds the limit also moves the rounds' schedule
    free = flow_cluster(g, 0, 30.0, levels, eps=1e-9, cg_iters=0)
    per_level = [flow_cluster(g, 0, 30.0, levels[:k + 1], eps=1e-9, cg_iters=0).work[0, 0]
                 for k in range(len(levels))]
    largest = max(int(per_level[0]), *(int(b - a) for a, b in zip(per_level, per_level[1:])))
    assert int(free.work[0, 0]) > largest  # the levels together need more than the limit...
    capped = flow_cluster(g, 0, 30.0, levels, eps=1e-9, max_pushes=largest, cg_iters=0)
    assert not bool(capped.hit_push_limit[0])  # ...but no single level does
    assert int(capped.work[0, 0]) == int(free.work[0, 0])


def test_fallback_continues_the_nodes_a_stopped_level_left_active(monkeypatch):
    """A level that stops at max_pushes leaves active nodes; the next, warm-started level goes
    on pushing them, in the compiled op and in the Python fallback alike (the fallback used to
    restart from the sources only: 4 pushes here where the compiled op made 8)."""
    if not _ops.has_kernel("local_flow_cluster", "cpu"):
        pytest.skip("compiled ops not built")
    edges = [(0, 2), (1, 2), (1, 4), (2, 3), (3, 4)]
    edge_index = torch.tensor(edges + [(b, a) for a, b in edges]).t()
    g = LocalGraph.from_graph(edge_index, num_nodes=5)
    args = (g, [0], 16.08835019457991, [2.0, 2.0])
    compiled = flow_cluster(*args, eps=1e-4, omega=1.0, max_pushes=4)
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    reference = flow_cluster(*args, eps=1e-4, omega=1.0, max_pushes=4)
    assert compiled.work.tolist() == reference.work.tolist() == [[8, 31, 1]]
    torch.testing.assert_close(compiled.conductance, reference.conductance, equal_nan=True)
