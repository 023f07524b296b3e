"""The sweep profile (vectorised prefixes), the sweep restricted to vol(S) <= max_volume and
local_cluster(half_volume=True)."""
import numpy as np
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.cluster import LocalGraph, local_cluster, local_cluster_batch
from noisygraph.cluster.refine import conductance
from noisygraph.ops.local_push import flow_diffusion, ppr_push, sweep_cut
from noisygraph.ops.local_sweep import sweep_profile


def blocks(sizes, p_in, p_out, seed, weighted=False):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    n = y.size
    prob = np.where(y[:, None] == y[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True  # connected
    row, col = np.nonzero(upper)
    w = None
    if weighted:
        half = torch.tensor(rng.choice([0.05, 1.0, 2.0], size=row.size), dtype=torch.float64)
        w = torch.cat([half, half])
    ei = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]))
    return LocalGraph.from_graph(ei, edge_weight=w, num_nodes=n)


@pytest.mark.parametrize("weighted", [False, True])
def test_unrestricted_profile_matches_the_sweep_cut(weighted):
    g = blocks([30, 60, 90], 0.2, 0.01, seed=0, weighted=weighted)
    push = ppr_push(g, [0, 40, 100, 170], alpha=0.05, eps=1e-6)
    for normalize in (True, False):
        a = sweep_cut(g, push.ptr, push.nodes, push.primal, normalize=normalize)
        b = sweep_cut(g, push.ptr, push.nodes, push.primal, normalize=normalize,
                      max_volume=1e300)
        assert torch.equal(a.ptr, b.ptr) and torch.equal(a.nodes, b.nodes)
        assert torch.allclose(a.conductance, b.conductance, rtol=1e-12, atol=0)
        assert torch.equal(a.work, b.work)
    q0, q1 = int(push.ptr[0]), int(push.ptr[1])
    profile = sweep_profile(g, push.nodes[q0:q1], push.primal[q0:q1], normalize=True)
    for k in (0, 5, 29, profile.order.numel() - 2):
        prefix = profile.order[:k + 1]
        assert float(profile.conductance[k]) == pytest.approx(conductance(g, prefix), rel=1e-12)


def test_restricted_sweep_keeps_the_smaller_side():
    # the seed's block is a third of the graph; two thirds are linked more weakly to it
    g = blocks([60, 60, 60], 0.3, 0.004, seed=2)
    push = ppr_push(g, [0], alpha=0.01, eps=1e-9)
    full = sweep_cut(g, push.ptr, push.nodes, push.primal, normalize=True)
    half = sweep_cut(g, push.ptr, push.nodes, push.primal, normalize=True,
                     max_volume=g.total_volume / 2)
    vol_full = float(g.degree[full.nodes].sum())
    vol_half = float(g.degree[half.nodes].sum())
    assert vol_full > g.total_volume / 2  # without the restriction: the large side
    assert vol_half <= g.total_volume / 2
    assert 0 in half.nodes.tolist()


@pytest.mark.parametrize("method", ["flow", "ppr"])
def test_local_cluster_half_volume(method):
    g = blocks([60, 60, 60], 0.3, 0.004, seed=2)
    volume = 1e6 if method == "ppr" else g.total_volume / 4  # ppr: tolerances 1e-6 .. 2e-7
    kw = dict(method=method, target_volume=volume, multiples=(1.0, 2.0, 5.0), alpha=0.01)
    plain = local_cluster_batch(g, seed_nodes=[0, 70], **kw)
    half = local_cluster_batch(g, seed_nodes=[0, 70], half_volume=True, **kw)
    for p, h in zip(plain, half):
        assert float(g.degree[h.nodes].sum()) <= g.total_volume / 2
        assert h.conductance == pytest.approx(conductance(g, h.nodes), rel=1e-9)
        assert h.work["pushes"] > 0 and h.work["edges"] > 0
        assert h.score_nodes.numel() == h.scores.numel() > 0
    if method == "ppr":
        assert any(float(g.degree[p.nodes].sum()) > g.total_volume / 2 for p in plain)
    one = local_cluster(g, seed_node=0, half_volume=True, **kw)
    assert torch.equal(one.nodes, half[0].nodes)



def test_half_volume_passes_cg_iters_to_the_flow_solver(monkeypatch):
    """The half-volume path runs the flow solver the caller chose (cg_iters reaches it)."""
    import noisygraph.cluster.restricted as restricted

    seen = []
    original = restricted.flow_diffusion

    def spy(*args, **kwargs):
        seen.append(kwargs.get("cg_iters"))
        return original(*args, **kwargs)

    monkeypatch.setattr(restricted, "flow_diffusion", spy)
    g = blocks([60, 60, 60], 0.3, 0.004, seed=2)
    local_cluster(g, seed_node=0, method="flow", target_volume=g.total_volume / 4,
                  multiples=(1.0, 2.0), half_volume=True, cg_iters=7)
    assert seen and set(seen) == {7}


G = blocks([10, 10], 0.5, 0.05, seed=0)
P = ppr_push(G, [0], eps=1e-4)
CASES = [
    BadInput("sweep-max-volume-zero", lambda: sweep_cut(G, P.ptr, P.nodes, P.primal,
                                                        max_volume=0.0), ValueError,
             "max_volume"),
    BadInput("sweep-max-volume-nan", lambda: sweep_cut(G, P.ptr, P.nodes, P.primal,
                                                       max_volume=float("nan")), ValueError,
             "max_volume"),
    BadInput("sweep-max-volume-str", lambda: sweep_cut(G, P.ptr, P.nodes, P.primal,
                                                       max_volume="half"), TypeError,
             "max_volume"),
    BadInput("local-cluster-half-volume", lambda: local_cluster(G, seed_node=0,
                                                                half_volume=1), TypeError,
             "half_volume"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
