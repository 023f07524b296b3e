"""The network community profile: the least conductance per size bin over sweep prefixes,
its result object, plot and CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.cluster import LocalGraph
from noisygraph.cluster.ncp import ncp
from noisygraph.cluster.refine import conductance
from noisygraph.ops.local_push import ppr_push
from noisygraph.ops.local_sweep import sweep_profile


def planted(sizes=(8, 16, 32, 64), p_in=0.5, p_out=0.003, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    n = y.size
    prob = np.where(y[:, None] == y[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True
    row, col = np.nonzero(upper)
    ei = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]))
    return LocalGraph.from_graph(ei, num_nodes=n), y


@pytest.fixture(scope="module")
def graph():
    return planted()


def test_profile_is_the_lower_envelope_of_the_sweeps(graph):
    g, y = graph
    seeds = [0, 10, 30, 70]
    res = ncp(g, seeds=seeds, methods=("acl",), alphas=(0.1,), tolerances=(1e-3,),
              bins_per_decade=5)
    # recompute by hand from the same diffusion: best prefix per bin
    push = ppr_push(g, [[s] for s in seeds], 0.1, 1e-3)
    expected = {}
    for q in range(len(seeds)):
        a, b = int(push.ptr[q]), int(push.ptr[q + 1])
        prof = sweep_profile(g, push.nodes[a:b], push.primal[a:b], True)
        for k in range(prof.order.numel()):
            if float(prof.volume[k]) > g.total_volume / 2 or np.isnan(float(prof.conductance[k])):
                continue
            bin_id = int(np.floor(np.log10(k + 1) * 5 + 1e-9))
            expected[bin_id] = min(expected.get(bin_id, np.inf), float(prof.conductance[k]))
    got = {p["bin"]: p["conductance"] for p in res.curves["acl"]}
    assert got.keys() == expected.keys()
    for b in got:
        assert got[b] == pytest.approx(expected[b], rel=1e-12)
    # each best set is what the entry says
    for entry, nodes in zip(res.curves["best"], res.sets):
        assert nodes.numel() == entry["size"]
        assert conductance(g, nodes) == pytest.approx(entry["conductance"], rel=1e-9)


def test_planted_blocks_show_as_dips(graph):
    g, y = graph
    res = ncp(g, seeds=20, seed=1)
    assert set(res.curves) == {"acl", "flow", "best"}
    best = {p["size"]: p["conductance"] for p in res.curves["best"]}
    # the planted blocks (8, 16, 32 nodes) are far better than a random set of that size
    for size in (8, 16, 32):
        near = [c for s, c in best.items() if 0.8 * size <= s <= 1.25 * size]
        assert near and min(near) < 0.2, size
    d = res.to_dict()
    assert d["num_diffusions"] == 20 * (2 * 3 + 7) and d["num_prefixes"] > 0
    assert d["work"]["pushes"] > 0 and json.dumps(d)
    sizes = res.sizes()
    assert sizes == sorted(sizes)
    for m in ("acl", "flow"):  # the best curve is the minimum of the methods'
        for p in res.curves[m]:
            assert best_of(res, p["bin"]) <= p["conductance"]


def best_of(res, bin_id):
    return next(p["conductance"] for p in res.curves["best"] if p["bin"] == bin_id)


def test_seed_draw_is_reproducible(graph):
    g, _ = graph
    a = ncp(g, seeds=5, seed=3, methods=("flow",))
    b = ncp(g, seeds=5, seed=3, methods=("flow",))
    assert a.to_dict()["curves"] == b.to_dict()["curves"]


def test_plot_writes_a_png(graph, tmp_path):
    g, _ = graph
    path = tmp_path / "ncp.png"
    ncp(g, seeds=4).plot(str(path), title="planted")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


G, _ = planted()
CASES = [
    BadInput("ncp-methods-str", lambda: ncp(G, methods="acl"), TypeError, "methods"),
    BadInput("ncp-methods-unknown", lambda: ncp(G, methods=("mqi",)), ValueError, "methods"),
    BadInput("ncp-seeds-zero", lambda: ncp(G, seeds=0), ValueError, "seeds"),
    BadInput("ncp-seeds-out", lambda: ncp(G, seeds=[999]), ValueError, "seeds"),
    BadInput("ncp-alpha", lambda: ncp(G, alphas=(1.5,)), ValueError, "alpha"),
    BadInput("ncp-tolerance", lambda: ncp(G, tolerances=(0.0,)), ValueError, "tolerances"),
    BadInput("ncp-mass", lambda: ncp(G, mass_fractions=(0.9,)), ValueError, "mass_fractions"),
    BadInput("ncp-bins", lambda: ncp(G, bins_per_decade=0), ValueError, "bins_per_decade"),
    BadInput("ncp-seed", lambda: ncp(G, seed=-1), ValueError, "seed"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def _cli(*args, tmp_path):
    import os
    env = dict(os.environ, NOISYGRAPH_CACHE=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "noisygraph_cli", "ncp", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_cli_writes_json_and_plot(tmp_path):
    out, png = tmp_path / "ncp.json", tmp_path / "ncp.png"
    proc = _cli("--dataset", "cora", "--seeds", "3", "--methods", "acl", "--threads", "1",
                "--json", str(out), "--plot", str(png), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.read_text())
    assert record["dataset"] == "cora" and record["seeds"] == 3
    assert set(record["curves"]) == {"acl", "best"} and record["curves"]["best"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "conductance" in proc.stdout


@pytest.mark.parametrize("flags, name", [
    (["--seeds", "0"], "--seeds"), (["--bins-per-decade", "0"], "--bins-per-decade"),
    (["--seed", "-1"], "--seed"), (["--threads", "0"], "--threads"),
    (["--plot", "/no/such/folder/x.png"], "--plot"), (["--root", "/no/such/root"], "--root"),
])
def test_cli_rejects_bad_flags_in_one_line(flags, name, tmp_path):
    proc = _cli("--dataset", "cora", *flags, tmp_path=tmp_path)
    assert proc.returncode == 2
    assert name in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
