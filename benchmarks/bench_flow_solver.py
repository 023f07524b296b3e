"""Label-weighted flow diffusion: the push solver (``cg_iters=0``) against pushes interleaved
with conjugate-gradient rounds on the support (the default), side by side in one run.

Protocol (issue 13): every class is a target in turn; up to ``--seeds`` random nodes of the
class (non-isolated, seeded) are seeds; binary labels "in target" flipped independently with
probability ``--rate`` (``add_label_noise(kind="uniform", num_classes=2)``, seeded per class);
``local_cluster`` with the library defaults (label-weighted graph, six-level mass sweep,
eps, omega, max_pushes), once with the estimated target volume (the default) and once with the
true class volume. For every seed both solvers run ``--repeats`` times, alternately; the table
gives the median over seeds of the per-seed median wall time (``ClusterResult.ms``: the fused
C++ call, after the O(|E|) label weighting), pushes, edge scans (pushes, CG products and mass
updates, sweeps), the seeds stopped at ``max_pushes`` and mean F1.

    python benchmarks/bench_flow_solver.py --graphs coauthor_cs csbm_physics --seeds 10 --threads 1

``--batch N`` instead times ``local_cluster_batch`` on N seeds of one class of Coauthor CS
(20 % flipped labels, default options) against a loop of single ``local_cluster`` calls, with
``--threads`` threads (median of ``--repeats``), the issue's item 4:

    python benchmarks/bench_flow_solver.py --batch 20 --threads 2 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

from noisygraph.cluster import LocalGraph, local_cluster, local_cluster_batch
from noisygraph.datasets import csbm, load_dataset
from noisygraph.noise import add_label_noise

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_markdown  # noqa: E402
CG_ITERS = 50  # the CG solver measured here (opt-in: the default cg_iters is 0, push only)

PHYSICS_SIZES = (17000, 8000, 5000, 2500, 1500)  # Coauthor Physics-like: 34k nodes, 1.5k-17k


def physics_csbm():
    """A Coauthor-Physics-size CSBM: 34,000 nodes in five classes of 1.5k-17k nodes, average
    degree 14.6 (about 248k undirected edges), 93 % of the edges inside classes."""
    return csbm(sum(PHYSICS_SIZES), num_classes=5, avg_degree=14.6, homophily=0.93,
                num_features=0, class_sizes=PHYSICS_SIZES, seed=0)


def load(name):
    return physics_csbm() if name == "csbm_physics" else load_dataset(name)


def class_seeds(graph: LocalGraph, y, c: int, count: int) -> list[int]:
    members = (y == c).nonzero().flatten()
    members = members[graph.degree[members] > 0]
    generator = torch.Generator().manual_seed(1000 + c)
    return members[torch.randperm(members.numel(), generator=generator)[:count]].tolist()


SOLVERS = {"push (old)": 0, f"push + CG (new, cg_iters={CG_ITERS})": CG_ITERS}


def run_graph(name: str, num_seeds: int, rate: float, repeats: int):
    data = load(name)
    graph = LocalGraph.from_graph(data)
    y = data.y
    rows = {}
    for variant in ("estimated volume", "true volume"):
        stats = {k: {"ms": [], "pushes": [], "edges": [], "limit": 0, "f1": []} for k in SOLVERS}
        for c in range(int(y.max()) + 1):
            true = y == c
            noisy = add_label_noise(true.long(), "uniform", rate, seed=100 + c,
                                    num_classes=2).y_noisy.bool()
            volume = None if variant == "estimated volume" else true
            for s in class_seeds(graph, y, c, num_seeds):
                times = {k: [] for k in SOLVERS}
                for r in range(repeats):
                    for solver, iters in SOLVERS.items():
                        res = local_cluster(graph, seed_node=s, labels=noisy,
                                            target_volume=volume, cg_iters=iters)
                        times[solver].append(res.ms)
                        if r == 0:  # work and clusters are deterministic
                            st = stats[solver]
                            st["pushes"].append(res.work["pushes"])
                            st["edges"].append(res.work["edges"])
                            st["limit"] += int(res.hit_push_limit)
                            st["f1"].append(res.f1(true))
                for solver in SOLVERS:
                    stats[solver]["ms"].append(statistics.median(times[solver]))
        rows[variant] = stats
        print(name, variant, {k: (statistics.median(v["ms"]), statistics.median(v["edges"]),
                                  statistics.fmean(v["f1"])) for k, v in stats.items()},
              flush=True)
    return {"nodes": graph.num_nodes, "nnz": graph.col.numel(), "rows": rows}


def batch_speedup(num_seeds: int, repeats: int, rate: float) -> str:
    """One ``local_cluster_batch`` call on ``num_seeds`` seeds of Coauthor CS's largest class
    against a loop of ``local_cluster`` calls (same labels, same options), wall time."""
    data = load_dataset("coauthor_cs")
    graph = LocalGraph.from_graph(data)
    c = int(torch.bincount(data.y).argmax())
    true = data.y == c
    noisy = add_label_noise(true.long(), "uniform", rate, seed=100 + c,
                            num_classes=2).y_noisy.bool()
    seeds = class_seeds(graph, data.y, c, num_seeds)

    def timed(fn):
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def loop():
        return [local_cluster(graph, seed_node=s, labels=noisy) for s in seeds]

    def batch():
        return local_cluster_batch(graph, seed_nodes=seeds, labels=noisy)

    batch()  # warm-up: every worker thread allocates its workspace once
    assert [r.nodes.tolist() for r in loop()] == [r.nodes.tolist() for r in batch()]
    loops, batches = [], []
    for _ in range(repeats):
        loops.append(timed(loop))
        batches.append(timed(batch))
    a, b = statistics.median(loops), statistics.median(batches)
    return (f"\nBatch vs loop (Coauthor CS, class {c}, {len(seeds)} seeds, {rate:.0%} flipped "
            f"labels, default options, {torch.get_num_threads()} threads, median of {repeats}): "
            f"loop of single calls {1e3 * a / len(seeds):.1f} ms per seed, one batch call "
            f"{1e3 * b / len(seeds):.1f} ms per seed: **{a / b:.2f}x**\n")


def markdown(name, result, args) -> str:
    lines = [f"\n#### {name} ({result['nodes']} nodes, {result['nnz']} nonzeros; "
             f"{args.rate:.0%} flipped labels, up to {args.seeds} seeds per class, "
             f"median of {args.repeats} repeats per seed)\n",
             "| volume | solver | mean F1 | median pushes per seed | median edge scans per seed "
             "| max edge scans | seeds at push limit | median ms per seed | ms ratio old/new "
             "(median over seeds) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for variant, stats in result["rows"].items():
        old, new = (stats[k] for k in SOLVERS)
        ratio = statistics.median(a / b for a, b in zip(old["ms"], new["ms"]))
        for solver, st in stats.items():
            lines.append(
                f"| {variant} | {solver} | {statistics.fmean(st['f1']):.3f} | "
                f"{statistics.median(st['pushes']) / 1e6:.2f} M | "
                f"{statistics.median(st['edges']) / 1e6:.2f} M | {max(st['edges']) / 1e6:.1f} M | "
                f"{st['limit']} / {len(st['ms'])} | {statistics.median(st['ms']):.1f} | "
                f"{f'{ratio:.1f}x' if st is new else ''} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", nargs="+", default=["coauthor_cs", "csbm_physics"])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per class (at most)")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=0,
                        help="time a batch call of this many seeds against a loop instead")
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    text = f"`uptime` at the start: {uptime}; {torch.get_num_threads()} thread(s)\n"
    if args.batch:
        args.graphs = []
        text += batch_speedup(args.batch, args.repeats, args.rate)
    for name in args.graphs:
        result = run_graph(name, args.seeds, args.rate, args.repeats)
        text += markdown(name, result, args)
        print(text, flush=True)
    text += f"\n`uptime` at the end: " + subprocess.run(["uptime"], capture_output=True,
                                                         text=True).stdout.strip() + "\n"
    write_markdown(args.markdown, text)


if __name__ == "__main__":
    main()
