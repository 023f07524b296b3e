"""Flow-based cut improvement, ours and LocalGraphClustering's, side by side on the same input
sets: conductance after MQI and after FlowImprove / SimpleLocal, and milliseconds.

    python benchmarks/bench_refine.py --datasets coauthor_cs --seeds 20 --repeats 3

Input sets, from ``--seeds`` random seed nodes (drawn with ``--generator-seed``):
``sweep``: the sweep cut (restricted to vol(S) <= vol(V)/2) of our ACL push (alpha 0.05,
rho 1e-4); ``ball``: the seed and its neighbours' neighbours (a user's set, not a cut).
Ours: :func:`noisygraph.cluster.mqi`, :func:`noisygraph.cluster.flow_improve` (delta 0.3),
"new" (the compiled kernels) and "old" (the Python paths the library falls back to without
them: SciPy's Dinic per MQI step, the pure-Python Dinic for FlowImprove);
LocalGraphClustering: ``flow_clustering(G, R, method="mqi")`` and ``method="sl"``
(SimpleLocal, delta 0.3, its default). Conductance of every output is recomputed with our
:func:`noisygraph.cluster.conductance` on the same graph. Time: each public call (old: the
same validation plus the Python path), new / old / LGC alternated in every repeat, median of
``--repeats`` per set, then the median over sets; one thread.

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
from noisygraph.cluster.refine import (_check_common, _flow_improve_python,
                                       _mqi_python)
from noisygraph.datasets import load_dataset
from noisygraph.ops.local_push import ppr_push, sweep_cut

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_json  # noqa: E402

HEADER = ("| data set | input | sets | input φ | MQI new φ | MQI old φ | MQI LGC φ | "
          "MQI new ms | MQI old ms | MQI LGC ms | FI new φ | FI old φ | SL LGC φ | "
          "FI new ms | FI old ms | SL LGC ms |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def timed(calls, repeats):
    """Runs the calls alternated, ``repeats`` rounds: each call's last output and median ms."""
    times = [[] for _ in calls]
    outs = [None] * len(calls)
    for _ in range(repeats):
        for k, call in enumerate(calls):
            start = time.perf_counter()
            outs[k] = call()
            times[k].append((time.perf_counter() - start) * 1e3)
    return [(out, statistics.median(t)) for out, t in zip(outs, times)]


def old_path(python_path, graph, ref, *args):
    """The Python path of MQI (``_mqi_python``) or FlowImprove (``_flow_improve_python``), what
    ran before the compiled kernels, behind the same validation; ``args`` after the ids (e.g.
    FlowImprove's delta)."""
    start = time.perf_counter()
    graph, ids, iterations, _ = _check_common(graph, ref, 50, 1)
    return python_path(graph, ids, *args, iterations, start)


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
        rec = {k: [] for k in ("input", "mqi", "mqi_old", "mqi_lgc", "mqi_ms", "mqi_old_ms",
                               "mqi_lgc_ms", "fi", "fi_old", "sl_lgc", "fi_ms", "fi_old_ms",
                               "sl_lgc_ms", "fi_explored")}
        for ref in sets:
            rec["input"].append(conductance(graph, ref))
            # MQI: ours new / old, then LGC's MQI; FlowImprove: ours new / old, then SimpleLocal
            for keys, calls, lgc_method in (
                    (("mqi", "mqi_old", "mqi_lgc"),
                     [lambda: mqi(graph, ref), lambda: old_path(_mqi_python, graph, ref)],
                     dict(method="mqi")),
                    (("fi", "fi_old", "sl_lgc"),
                     [lambda: flow_improve(graph, ref, delta=0.3),
                      lambda: old_path(_flow_improve_python, graph, ref, 0.3)],
                     dict(method="sl", delta=0.3))):
                if G is not None:
                    calls.append(lambda: lgc.flow_clustering(G, ref, **lgc_method))
                results = timed(calls, repeats)
                for key, (out, ms) in zip(keys, results):
                    phi = (out.conductance if key != keys[2] else conductance(
                        graph, torch.as_tensor(np.asarray(out[0], dtype=np.int64))))
                    rec[key].append(phi)
                    rec[key + "_ms"].append(ms)
            rec["fi_explored"].append(results[0][0].work["explored"])

        def med(key, fmt="{:.4f}"):
            return fmt.format(statistics.median(rec[key])) if rec[key] else "—"
        print(f"| {name} | {kind} | {len(sets)} | {med('input')} | {med('mqi')} | "
              f"{med('mqi_old')} | {med('mqi_lgc')} | {med('mqi_ms', '{:.1f}')} | "
              f"{med('mqi_old_ms', '{:.1f}')} | {med('mqi_lgc_ms', '{:.1f}')} | {med('fi')} | "
              f"{med('fi_old')} | {med('sl_lgc')} | {med('fi_ms', '{:.1f}')} | "
              f"{med('fi_old_ms', '{:.1f}')} | {med('sl_lgc_ms', '{:.1f}')} |", flush=True)
        same = sum(abs(a - b) <= 1e-12 for a, b in zip(rec["mqi"], rec["mqi_old"]))
        same_fi = sum(abs(a - b) <= 1e-12 for a, b in zip(rec["fi"], rec["fi_old"]))
        print(f"  new = old conductance: MQI {same} of {len(sets)}, FlowImprove {same_fi} of "
              f"{len(sets)}; median ratios old/new: MQI "
              f"{statistics.median(o / n for o, n in zip(rec['mqi_old_ms'], rec['mqi_ms'])):.1f}, "
              f"FI {statistics.median(o / n for o, n in zip(rec['fi_old_ms'], rec['fi_ms'])):.1f}",
              flush=True)
        if rec["mqi_lgc"]:
            worse = sum(a > b + 1e-9 for a, b in zip(rec["mqi"], rec["mqi_lgc"]))
            print(f"  MQI: ours above LGC on {worse} of {len(sets)} sets; FlowImprove: ours "
                  f"above SimpleLocal on "
                  f"{sum(a > b + 1e-9 for a, b in zip(rec['fi'], rec['sl_lgc']))}; median "
                  f"explored nodes {statistics.median(rec['fi_explored'])}; median ratios "
                  f"LGC/new: MQI "
                  f"{statistics.median(o / n for o, n in zip(rec['mqi_lgc_ms'], rec['mqi_ms'])):.2f}"
                  f", FI/SL "
                  f"{statistics.median(o / n for o, n in zip(rec['sl_lgc_ms'], rec['fi_ms'])):.2f}",
                  flush=True)
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
