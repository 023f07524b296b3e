"""The accelerated flow-diffusion solver (pushes + conjugate-gradient rounds on the support):
same optimum as the push reference (KKT conditions), compiled == reference step by step, CG
edge scans counted in ``work``, locality, and the push limit still reported."""
from __future__ import annotations

from unittest import mock

import pytest
import torch

from noisygraph import _ops
from noisygraph.cluster import LocalGraph, local_cluster
from noisygraph.ops import local_push
from noisygraph.ops._reference import local_push as reference
from noisygraph.ops.local_push import flow_cluster, flow_diffusion

COMPILED = _ops.has_kernel("local_flow_diffusion", "cpu")


def random_graph(n: int, p: float, seed: int, weighted: bool = True, offset: int = 0):
    g = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.rand(n, n, generator=g) < p, diagonal=1)
    upper |= torch.diag(torch.ones(n - 1, dtype=torch.bool), 1)  # a path: connected
    row, col = upper.nonzero().t()
    weight = (torch.rand(row.numel(), generator=g, dtype=torch.float64) * 2 + 0.05
              if weighted else torch.ones(row.numel(), dtype=torch.float64))
    edge_index = torch.stack([torch.cat([row, col]), torch.cat([col, row])]) + offset
    return edge_index, torch.cat([weight, weight])


def weakly_linked_blocks(blocks: int = 4, size: int = 30, cross: float = 0.02, seed: int = 0):
    """Dense blocks joined by weak edges: where plain pushes need many passes."""
    g = torch.Generator().manual_seed(seed)
    n = blocks * size
    same = (torch.arange(n)[:, None] // size) == (torch.arange(n)[None, :] // size)
    upper = torch.triu(torch.rand(n, n, generator=g) < torch.where(same, 0.3, 0.02), 1)
    upper |= torch.diag(torch.ones(n - 1, dtype=torch.bool), 1)
    row, col = upper.nonzero().t()
    weight = torch.where(same[row, col], 1.0, cross).to(torch.float64)
    edge_index = torch.stack([torch.cat([row, col]), torch.cat([col, row])])
    return LocalGraph.from_graph(edge_index, torch.cat([weight, weight]), num_nodes=n)


def kkt_violation(graph: LocalGraph, out, sources: dict, sink: torch.Tensor) -> float:
    """Largest violation of the optimality conditions of min 1/2 x'Lx + x'(T - Delta), x >= 0,
    recomputed from x alone: m = Delta - L x; x >= 0, m - T <= 0, (m - T) = 0 where x > 0."""
    n = graph.num_nodes
    x = torch.zeros(n, dtype=torch.float64)
    x[out.nodes] = out.primal
    row, col = graph.edges()
    lx = graph.degree * x - torch.zeros(n, dtype=torch.float64).index_add_(
        0, row, graph.weights() * x[col])
    delta = torch.zeros(n, dtype=torch.float64)
    for v, mass in sources.items():
        delta[v] += mass
    excess = delta - lx - sink
    violation = torch.clamp(excess, min=0)  # m - T <= 0 everywhere
    violation = torch.maximum(violation, torch.where(x > 0, excess.abs(), 0.0))
    return max(float(violation.max()), float(torch.clamp(-x, min=0).max()))


def run_both(fn, monkeypatch):
    compiled = fn()
    with monkeypatch.context() as m:
        m.setattr(_ops, "has_kernel", lambda op, device: False)
        ref = fn()
    return compiled, ref


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("omega", [1.0, 1.5])
def test_cg_solver_reaches_the_push_optimum(seed, omega):
    """Both solvers satisfy the KKT conditions to eps and agree on x (strong convexity on the
    touched region: one optimum); the CG rounds run (more edges per push)."""
    graph = weakly_linked_blocks(seed=seed) if seed % 2 else LocalGraph.from_graph(
        *random_graph(50, 0.08, seed), num_nodes=50)
    sink = graph.edge_count
    eps = 1e-7
    mass = 0.3 * float(sink.sum())  # settles: below the total sink capacity
    push = flow_diffusion(graph, seed, mass, eps=eps, omega=omega, cg_iters=0)
    cg = flow_diffusion(graph, seed, mass, eps=eps, omega=omega, cg_iters=20)
    for out in (push, cg):
        assert not bool(out.hit_push_limit[0])
        assert kkt_violation(graph, out, {seed: mass}, sink) <= 2 * eps
        torch.testing.assert_close(out.residual.sum(), torch.tensor(mass, dtype=torch.float64))
    x_push = torch.zeros(graph.num_nodes, dtype=torch.float64)
    x_push[push.nodes] = push.primal
    x_cg = torch.zeros(graph.num_nodes, dtype=torch.float64)
    x_cg[cg.nodes] = cg.primal
    # |x - x*| <= (excess bound) / lambda_min; on these graphs 1e-3 is far above that
    torch.testing.assert_close(x_cg, x_push, atol=1e-3, rtol=0)
    assert int(cg.work[0, 0]) < int(push.work[0, 0])  # fewer pushes


@pytest.mark.skipif(not COMPILED, reason="needs the compiled kernels")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_pushes", [3, 40, 10**6])
def test_compiled_cg_solver_matches_the_reference(seed, max_pushes, monkeypatch):
    """Same floating-point steps: x, m and work (pushes, edges, limit flag) identical."""
    graph = weakly_linked_blocks(blocks=3, size=12, seed=seed)
    sources = [seed, [1, 20]]

    def run():
        return flow_diffusion(graph, sources, [40.0, 70.0], eps=1e-5, omega=1.3,
                              max_pushes=max_pushes, cg_iters=7)

    compiled, ref = run_both(run, monkeypatch)
    assert torch.equal(compiled.ptr, ref.ptr) and torch.equal(compiled.nodes, ref.nodes)
    torch.testing.assert_close(compiled.primal, ref.primal, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(compiled.residual, ref.residual, rtol=1e-12, atol=1e-12)
    assert torch.equal(compiled.work, ref.work)

    def fused():
        return flow_cluster(graph, sources, 30.0, [1.0, 2.0, 4.0], eps=1e-5, omega=1.3,
                            max_pushes=max_pushes, cg_iters=7)

    compiled, ref = run_both(fused, monkeypatch)
    assert torch.equal(compiled.work, ref.work)
    torch.testing.assert_close(compiled.conductance, ref.conductance, equal_nan=True)


def test_work_counts_the_cg_edge_scans():
    """On a cycle every push scans 2 edges; the reported edges are the pushes' plus exactly
    the CG rounds' (products and mass updates), which are > 0 here."""
    n = 400
    src = torch.arange(n)
    dst = (src + 1) % n
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    graph = LocalGraph.from_graph(edge_index, num_nodes=n)
    cg_edges = []
    real_round = reference._flow_cg_round

    def counting_round(*args):
        edges = real_round(*args)
        cg_edges.append(edges)
        return edges

    with mock.patch.object(reference, "_flow_cg_round", counting_round), \
            mock.patch.object(_ops, "has_kernel", lambda op, device: False):
        ref = flow_diffusion(graph, 0, 300.0, eps=1e-6, omega=1.0, cg_iters=10)
    assert sum(cg_edges) > 0
    pushes, edges = int(ref.work[0, 0]), int(ref.work[0, 1])
    assert edges == 2 * pushes + sum(cg_edges)
    if COMPILED:  # the compiled op counts the same way: more than its pushes' edges
        compiled = flow_diffusion(graph, 0, 300.0, eps=1e-6, omega=1.0, cg_iters=10)
        assert int(compiled.work[0, 1]) > 2 * int(compiled.work[0, 0])
        assert int(compiled.work[0, 1]) == pytest.approx(edges, rel=1e-3)


def test_cg_solver_work_is_unchanged_by_unrelated_components():
    """Locality: a far larger graph added as other components changes neither the output nor
    the work of the CG solver (it runs on the touched support only)."""
    edge_index, weight = random_graph(40, 0.1, seed=7)
    small = LocalGraph.from_graph(edge_index, weight, num_nodes=40)
    big_edges, big_weight = random_graph(3000, 0.002, seed=8, offset=40)
    both = LocalGraph.from_graph(torch.cat([edge_index, big_edges], 1),
                                 torch.cat([weight, big_weight]), num_nodes=3040)
    a = flow_diffusion(small, [3, 11], 60.0, eps=1e-6, cg_iters=10)
    b = flow_diffusion(both, [3, 11], 60.0, eps=1e-6, cg_iters=10)
    assert torch.equal(a.work, b.work) and torch.equal(a.nodes, b.nodes)
    torch.testing.assert_close(a.primal, b.primal, rtol=0, atol=0)
    a = flow_cluster(small, [3], 20.0, [1.5, 3.0], eps=1e-6, cg_iters=10)
    b = flow_cluster(both, [3], 20.0, [1.5, 3.0], eps=1e-6, cg_iters=10)
    assert torch.equal(a.work, b.work)


def test_cg_solver_reports_the_push_limit():
    graph = weakly_linked_blocks(seed=3)
    limited = flow_cluster(graph, [0], 200.0, [1.0, 2.0], eps=1e-9, max_pushes=50, cg_iters=5)
    assert bool(limited.hit_push_limit[0]) and int(limited.work[0, 0]) <= 100
    free = flow_cluster(graph, [0], 200.0, [1.0, 2.0], eps=1e-9, cg_iters=5)
    assert not bool(free.hit_push_limit[0])


def test_local_cluster_solvers_agree_on_the_cluster():
    """The CG solver and the push-only solver (the default) find the same cluster on planted
    blocks."""
    graph = weakly_linked_blocks(blocks=4, size=40, cross=0.05, seed=5)
    labels = torch.arange(graph.num_nodes) < 40
    new = local_cluster(graph, seed_node=2, labels=labels, cg_iters=50)
    old = local_cluster(graph, seed_node=2, labels=labels)
    assert torch.equal(new.nodes, old.nodes)
    assert new.conductance == pytest.approx(old.conductance, rel=1e-3)


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_cg_iters_is_checked(bad, error):
    graph = weakly_linked_blocks(blocks=2, size=5)
    for call in (lambda: flow_diffusion(graph, 0, 10.0, cg_iters=bad),
                 lambda: flow_cluster(graph, 0, 10.0, [1.0], cg_iters=bad),
                 lambda: local_cluster(graph, seed_node=0, cg_iters=bad)):
        with pytest.raises(error, match="cg_iters"):
            call()
    if COMPILED and bad == -1:
        with pytest.raises(ValueError, match="cg_iters must be >= 0"):
            torch.ops.noisygraph.local_flow_diffusion(
                graph.rowptr, graph.col, graph.value, graph.degree, graph.edge_count,
                torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([1.0], dtype=torch.float64),
                0.1, 1.0, 10, -1)
