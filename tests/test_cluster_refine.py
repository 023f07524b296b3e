"""Flow-based cut improvement (MQI, strongly-local FlowImprove) against brute force on small
graphs, monotonicity, locality, and its option in local_cluster."""
import math
import random

import numpy as np
import pytest
import torch

from noisygraph.cluster import (LocalGraph, label_weighted_graph, local_cluster,
                                local_cluster_batch)
from noisygraph.cluster.refine import (conductance, flow_improve, mqi, refine,
                                       relative_quotient)


def random_graph(n, p, rng, weighted=False):
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    edges += [(i, i + 1) for i in range(n - 1) if rng.random() < 0.5]  # fewer isolated nodes
    edges = sorted(set(edges))
    ei = torch.tensor(edges + [(j, i) for i, j in edges], dtype=torch.long).t()
    w = None
    if weighted:
        choices = [1.0, 2.0, 3.0] if weighted == "integer" else [0.05, 0.5, 1.0, 2.0]
        half = torch.tensor([rng.choice(choices) for _ in edges], dtype=torch.float64)
        w = torch.cat([half, half])
    return LocalGraph.from_graph(ei, edge_weight=w, num_nodes=n)


def all_sets(g):
    """Every non-empty node subset as rows of a bool matrix, with its cut and volume
    (dense brute force, vectorised)."""
    n = g.num_nodes
    w = torch.zeros(n, n, dtype=torch.float64)
    w.index_put_((g.row(), g.col), g.weights(), accumulate=True)
    w, d = w.numpy(), g.degree.numpy()
    masks = ((np.arange(1, 2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    m = masks.astype(np.float64)
    cut = ((m @ w) * (1 - m)).sum(1)
    return masks, cut, m @ d, d


def brute_conductance(g, within):
    """Least conductance over the non-empty subsets of ``within`` of positive volume."""
    masks, cut, vol, _ = all_sets(g)
    inside = np.zeros(g.num_nodes, dtype=bool)
    inside[within] = True
    ok = ~(masks & ~inside).any(1) & (vol > 0)
    return float((cut[ok] / np.minimum(vol[ok], g.total_volume - vol[ok])).min())


def brute_quotient(g, ref, epsilon):
    """Least relative quotient Q_eps over every non-empty set (denominators within rounding
    of 0 excluded, as in the library)."""
    masks, cut, _, d = all_sets(g)
    inside = np.zeros(g.num_nodes, dtype=bool)
    inside[ref] = True
    a = (masks * (d * inside)).sum(1)
    b = (masks * (d * ~inside)).sum(1)
    den = a - epsilon * b
    ok = den > 1e-12 * a
    return float((cut[ok] / den[ok]).min())


def cases(count, weighted, seed):
    """Random graphs of 6-12 nodes and a reference set of volume <= vol(V)/2."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        n = rng.randint(6, 12)
        g = random_graph(n, rng.uniform(0.2, 0.5), rng, weighted)
        nz = [v for v in range(n) if g.degree[v] > 0]
        ref = [v for v in nz if rng.random() < 0.5]
        if ref and float(g.degree[ref].sum()) <= g.total_volume / 2:
            out.append((g, ref))
    return out


@pytest.mark.parametrize("weighted", [False, True, "integer"])  # SciPy integer / float Dinic
def test_mqi_returns_the_least_conductance_subset(weighted):
    improved = 0
    for g, ref in cases(25, weighted, seed=1 + bool(weighted)):
        res = mqi(g, ref)
        best = brute_conductance(g, ref)
        assert res.conductance == pytest.approx(best, abs=1e-9)
        assert set(res.nodes.tolist()) <= set(ref)
        assert res.conductance == pytest.approx(conductance(g, res.nodes), abs=1e-12)
        assert res.conductance <= res.input_conductance
        improved += res.conductance < res.input_conductance - 1e-9
    assert improved >= 5  # the cases are not all trivially optimal already


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("delta", [0.0, 0.3, 2.0])
def test_flow_improve_reaches_the_objective_optimum(weighted, delta):
    left = 0
    for g, ref in cases(25, weighted, seed=10 + bool(weighted)):
        res = flow_improve(g, ref, delta=delta)
        vol_r = float(g.degree[ref].sum())
        epsilon = vol_r / (g.total_volume - vol_r) + delta
        best = brute_quotient(g, ref, epsilon)
        assert relative_quotient(g, res.nodes, ref, epsilon) == pytest.approx(best, abs=1e-9)
        assert res.conductance <= res.input_conductance + 1e-12
        left += not set(res.nodes.tolist()) <= set(ref)
    if delta == 0.0:
        assert left >= 1  # FlowImprove may leave the reference set, unlike MQI


def four_blocks(block, p_in, p_out, seed):
    """Four planted blocks of ``block`` nodes; the graph and the block of each node."""
    rng = np.random.default_rng(seed)
    n = 4 * block
    y = np.repeat(np.arange(4), block)
    prob = np.where(y[:, None] == y[None, :], p_in, p_out)
    row, col = np.nonzero(np.triu(rng.random((n, n)) < prob, 1))
    g = LocalGraph.from_graph(torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]])),
                              num_nodes=n)
    return g, y


def test_never_worse_on_a_planted_graph_and_to_dict():
    block = 30
    g, _ = four_blocks(block, 0.3, 0.02, seed=0)
    true = set(range(block))
    # a noisy version of block 0: a third of it missing, 10 outsiders added
    noisy = sorted(set(range(10, block)) | set(range(40, 50)))
    for method in ("mqi", "flowimprove"):
        res = refine(g, noisy, method=method)
        assert res.conductance < res.input_conductance
        d = res.to_dict()
        assert d["method"] == method and d["size"] == res.size
        assert d["work"]["edges"] > 0 and d["work"]["arcs"] > 0
    # FlowImprove can add the missing members back; MQI only removes
    fi = set(flow_improve(g, noisy).nodes.tolist())
    assert len(fi & true) > len(set(noisy) & true)
    assert set(mqi(g, noisy).nodes.tolist()) <= set(noisy)


def _cluster_on_a_ring(ring):
    """A dense 20-node cluster (0..19) hanging off a ring of ``ring`` nodes (20..)."""
    rng = np.random.default_rng(3)
    k = 20
    upper = np.triu(rng.random((k, k)) < 0.4, 1)
    upper[np.arange(k - 1), np.arange(1, k)] = True
    r, c = np.nonzero(upper)
    ring_ids = np.arange(k, k + ring)
    r = np.r_[r, ring_ids, 0, 5]
    c = np.r_[c, np.roll(ring_ids, -1), k, k + 1]
    ei = torch.tensor(np.stack([np.r_[r, c], np.r_[c, r]]))
    return LocalGraph.from_graph(ei, num_nodes=k + ring)


def test_work_does_not_depend_on_the_graph_size():
    """The same set refined in a graph 100x larger: MQI reads the same nodes and does the same
    work. FlowImprove's epsilon = vol(R)/vol(R complement) + delta depends on vol(V) (by
    7e-4 -> 7e-6 here), which moves its region's edge on a ring by a few nodes: the same set,
    work within 10 %, and a region of a few hundred of the million nodes."""
    ref = list(range(3, 20)) + [20, 21, 22]  # part of the cluster and three ring nodes
    small, big = _cluster_on_a_ring(100), _cluster_on_a_ring(10_000)
    huge = _cluster_on_a_ring(1_000_000)
    a, b = mqi(small, ref), mqi(huge, ref)
    assert torch.equal(a.nodes, b.nodes)
    assert a.work == b.work and a.iterations == b.iterations
    assert b.conductance < b.input_conductance
    a, b = flow_improve(big, ref), flow_improve(huge, ref)
    assert torch.equal(a.nodes, b.nodes)
    for key in ("edges", "arcs", "explored"):
        assert b.work[key] <= 1.1 * a.work[key], key
    assert b.work["explored"] < 300
    assert b.conductance < b.input_conductance


def test_local_cluster_refine_option():
    g, y = four_blocks(40, 0.25, 0.03, seed=1)
    seeds = [0, 7, 45]
    plain = local_cluster_batch(g, seed_nodes=seeds, method="ppr", target_volume=200.0)
    for method in ("mqi", "flowimprove"):
        refined = local_cluster_batch(g, seed_nodes=seeds, method="ppr", target_volume=200.0,
                                      refine=method)
        for p, r in zip(plain, refined):
            assert r.conductance <= p.conductance + 1e-12
            assert r.refinement["method"] == method
            assert r.refinement["input_conductance"] == pytest.approx(p.conductance)
            assert r.refinement["input_size"] == p.size
            assert r.to_dict()["refinement"]["conductance"] == r.conductance
            assert r.conductance == pytest.approx(conductance(g, r.nodes), abs=1e-12)
    one = local_cluster(g, seed_node=0, method="ppr", target_volume=200.0, refine="mqi")
    assert one.refinement is not None and plain[0].refinement is None
    # with labels: refined in the graph as given, conductance kept in the weighted graph
    labels = torch.as_tensor(y == 0)
    weighted = label_weighted_graph(g, labels)
    lab = local_cluster(g, seed_node=0, labels=labels, target_volume=200.0,
                        refine="flowimprove")
    assert "skipped" not in lab.refinement
    assert lab.refinement["conductance"] <= lab.refinement["input_conductance"]
    assert lab.refinement["conductance"] == pytest.approx(conductance(g, lab.nodes), abs=1e-12)
    assert lab.conductance == pytest.approx(conductance(weighted, lab.nodes), abs=1e-12)
