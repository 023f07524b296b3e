"""Flow-based cut improvement, ours and LocalGraphClustering's, side by side on the same input
sets: conductance after MQI and after FlowImprove / SimpleLocal, and milliseconds.

    python benchmarks/bench_refine.py --datasets coauthor_cs --seeds 20 --repeats 3

Input sets, from ``--seeds`` random seed nodes (drawn with ``--generator-seed``):
``sweep``: the sweep cut (restricted to vol(S) <= vol(V)/2) of our ACL push (alpha 0.05,
rho 1e-4); ``ball``: the seed and its neighbours' neighbours (a user's set, not a cut).
Ours: :func:`noisygraph.cluster.mqi`, :func:`noisygraph.cluster.flow_improve` (delta 0.3);
LocalGraphClustering: ``flow_clustering(G, R, method="mqi")`` and ``method="sl"``
(SimpleLocal, delta 0.3, its default). Conductance of every output is recomputed with our
:func:`noisygraph.cluster.conductance` on the same graph. Time: each side's public call, the
sides alternated, median of ``--repeats`` per set, then the median over sets; one thread.

If ``localgraphclustering`` is not importable, only our side runs (see
``benchmarks/results/cluster.md`` for how it was built here).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch

from noisygraph.cluster import LocalGraph, conductance, flow_improve, mqi
from noisygraph.datasets import load_dataset
from noisygraph.ops.local_push import ppr_push, sweep_cut

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_json  # noqa: E402

HEADER = ("| data set | input | sets | input φ | MQI ours φ | MQI LGC φ | MQI ours ms | "
          "MQI LGC ms | FlowImprove ours φ | SimpleLocal LGC φ | FI ours ms | SL LGC ms |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def timed(call, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        times.append((time.perf_counter() - start) * 1e3)
    return out, statistics.median(times)


def input_sets(graph: LocalGraph, seeds):
    sets = {"sweep": [], "ball": []}
    half = graph.total_volume / 2
    for s in seeds:
        push = ppr_push(graph, [s], alpha=0.05, eps=1e-4)
        cut = sweep_cut(graph, push.ptr, push.nodes, push.primal, normalize=True,
                        max_volume=half)
        if cut.nodes.numel():
            sets["sweep"].append(sorted(cut.nodes.tolist()))
        first = graph.neighbors(s)
        ball = torch.unique(torch.cat([first] + [graph.neighbors(int(v)) for v in first] +
                                      [torch.tensor([s])]))
        if float(graph.degree[ball].sum()) <= half:
            sets["ball"].append(sorted(ball.tolist()))
    return sets


def compare(name, lgc, num_seeds, repeats, generator_seed):
    data = load_dataset(name)
    graph = LocalGraph.from_graph(data)
    candidates = torch.nonzero(graph.degree > 0).flatten()
    pick = torch.randperm(candidates.numel(),
                          generator=torch.Generator().manual_seed(generator_seed))[:num_seeds]
    seeds = candidates[pick].tolist()
    G = None
    if lgc is not None:
        row, col = graph.edges()
        adjacency = sp.csr_matrix((graph.weights().numpy(), (row.numpy(), col.numpy())),
                                  shape=(graph.num_nodes, graph.num_nodes))
        G = lgc.GraphLocal.from_sparse_adjacency(adjacency)
    rows = []
    for kind, sets in input_sets(graph, seeds).items():
        rec = {k: [] for k in ("input", "mqi", "mqi_lgc", "mqi_ms", "mqi_lgc_ms", "fi",
                               "sl_lgc", "fi_ms", "sl_lgc_ms", "fi_explored")}
        for ref in sets:
            rec["input"].append(conductance(graph, ref))
            out, ms = timed(lambda: mqi(graph, ref), repeats)
            rec["mqi"].append(out.conductance)
            rec["mqi_ms"].append(ms)
            out, ms = timed(lambda: flow_improve(graph, ref, delta=0.3), repeats)
            rec["fi"].append(out.conductance)
            rec["fi_ms"].append(ms)
            rec["fi_explored"].append(out.work["explored"])
            if G is not None:
                out, ms = timed(lambda: lgc.flow_clustering(G, ref, method="mqi"), repeats)
                rec["mqi_lgc"].append(conductance(graph, torch.as_tensor(
                    np.asarray(out[0], dtype=np.int64))))
                rec["mqi_lgc_ms"].append(ms)
                out, ms = timed(lambda: lgc.flow_clustering(G, ref, method="sl", delta=0.3),
                                repeats)
                rec["sl_lgc"].append(conductance(graph, torch.as_tensor(
                    np.asarray(out[0], dtype=np.int64))))
                rec["sl_lgc_ms"].append(ms)

        def med(key, fmt="{:.4f}"):
            return fmt.format(statistics.median(rec[key])) if rec[key] else "—"
        print(f"| {name} | {kind} | {len(sets)} | {med('input')} | {med('mqi')} | "
              f"{med('mqi_lgc')} | {med('mqi_ms', '{:.1f}')} | {med('mqi_lgc_ms', '{:.1f}')} | "
              f"{med('fi')} | {med('sl_lgc')} | {med('fi_ms', '{:.1f}')} | "
              f"{med('sl_lgc_ms', '{:.1f}')} |", flush=True)
        if rec["mqi_lgc"]:
            worse = sum(a > b + 1e-9 for a, b in zip(rec["mqi"], rec["mqi_lgc"]))
            print(f"  MQI: ours above LGC on {worse} of {len(sets)} sets; FlowImprove: ours "
                  f"above SimpleLocal on "
                  f"{sum(a > b + 1e-9 for a, b in zip(rec['fi'], rec['sl_lgc']))}; median "
                  f"explored nodes {statistics.median(rec['fi_explored'])}", flush=True)
        rows.append({"dataset": name, "input": kind, **rec})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["coauthor_cs"])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generator-seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    try:
        import localgraphclustering as lgc
    except Exception as error:
        print(f"bench_refine: localgraphclustering is not importable ({error}): ours only",
              file=sys.stderr)
        lgc = None
    torch.set_num_threads(1)
    print(HEADER)
    rows = []
    for name in args.datasets:
        rows += compare(name, lgc, args.seeds, args.repeats, args.generator_seed)
    write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
