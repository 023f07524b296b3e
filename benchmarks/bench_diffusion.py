"""Benchmark of the fused K-step diffusion against the public alternatives.

Compares ``noisygraph.ops.diffuse`` (compiled kernel, natural node order and with the
cached reverse Cuthill--McKee and METIS-partition relabellings, ``Adjacency.reorder``; the
METIS row needs the optional ``pymetis``) with a ``torch.sparse.mm`` loop, a SciPy CSR loop,
PyG's ``APPNP`` and PyG's ``LabelPropagation`` (over ``edge_index`` with precomputed
symmetric-normalized weights), forward and forward+backward, on CSBM-like graphs with planted
communities and on uniformly random graphs. Reports the median of repeats, the ratio of each
alternative's time to ours, and the bandwidth our kernel achieves against a measured copy
bandwidth.

Bytes per diffusion step (what the kernel reads and writes): row pointers and column indices
(int32), edge values, one gathered row of ``F`` floats per edge, the restart row ``Y_0`` and
the written row, per node.

Each relabelling is built once per graph (timed: the order, the relabelled CSR and its
transpose) and cached; its row in the table gives that one-time cost and the break-even: the
number of calls after which the time saved per call against the natural order has paid for
it (forward, and forward + backward).

Usage::

    python benchmarks/bench_diffusion.py                       # both sizes, both graph kinds
    python benchmarks/bench_diffusion.py --sizes arxiv --graphs csbm --repeats 5
    python benchmarks/bench_diffusion.py --sizes 2m --graphs csbm --warmup 0 \
        --skip "natural order" --forward-only "torch.sparse"   # the 2M run, trimmed
    python benchmarks/bench_diffusion.py --validation-baseline OLD/_C.so   # validation cost

``--validation-baseline`` compares this build of the extension with another one (first
used to measure what the raw ops' input validation costs; any older build works, e.g. main's
``_C*.so`` copied aside before a kernel change): the raw ``spmm``, ``diffuse`` and
``diffuse_adjoint`` (the backward's op, over the transpose) of each build, each loaded alone
into its own child process (no Python wrappers), the two run back to back in each of
``--ab-rounds`` rounds (A B, B A, ...), on the graph in each node order of ``--ab-orders``
(``natural``, ``metis``, ``rcm``; ``--order-cache DIR`` keeps a computed order on disk so
that the slow METIS build runs once per graph). It reports the medians over all repeats and
the median over rounds of the per-round ratio (which cancels slow drifts of a shared
machine's load), for wall-clock and CPU time, and the effective bandwidth of the K-step ops
as a percentage of the copy bandwidth measured in the same run and thread count.

What "% of copy bandwidth" means: ``step_bytes`` counts, per diffusion step, the row
pointers, the column indices (int32) and values once, one gathered row of ``F`` values per
nonzero (as if no gathered row were reused from a cache) and the restart row ``Y_0`` read and
the result row written per node; the kernel's seconds per step turn that into GB/s, divided
by the GB/s of a large ``dst.copy_(src)`` (bytes read + bytes written) at the same thread
count. It is an effective bandwidth (bytes the loads and stores name), not a count of DRAM
traffic: gathers served from a cache count in full, and a 160-byte row straddling three
64-byte lines counts 160 bytes. ``compulsory_bytes`` is the lower bound (every array once).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Optional

import numpy as np
import scipy.sparse
import torch

import noisygraph
from noisygraph.ops import diffuse
from noisygraph.sparse import Adjacency

SIZES = {  # name: (num_nodes, directed edges, planted communities)
    "arxiv": (169_343, 2_315_598, 40),
    "2m": (2_000_000, 20_000_000, 200),
    "tiny": (20_000, 200_000, 10),
}


# ------------------------------------------------------------------ graphs
def csbm_edges(num_nodes: int, num_edges: int, num_blocks: int, homophily: float,
               seed: int) -> torch.Tensor:
    """Undirected CSBM-like graph (``num_edges`` directed edges, both directions): each
    node gets a random community; a fraction ``homophily`` of the edges join two nodes of
    one community, the rest two uniformly random nodes. Node ids are in random order, as in
    real data sets (communities are not contiguous id ranges)."""
    g = torch.Generator().manual_seed(seed)
    block = torch.randint(0, num_blocks, (num_nodes,), generator=g)
    members = torch.argsort(block)
    sizes = torch.bincount(block, minlength=num_blocks)
    starts = torch.cumsum(sizes, 0) - sizes
    half = num_edges // 2
    source = torch.randint(0, num_nodes, (half,), generator=g)
    src_block = block[source]
    offset = (torch.rand(half, generator=g) * sizes[src_block]).long()
    same = members[starts[src_block] + offset]
    anywhere = torch.randint(0, num_nodes, (half,), generator=g)
    target = torch.where(torch.rand(half, generator=g) < homophily, same, anywhere)
    return torch.cat([torch.stack([source, target]), torch.stack([target, source])], dim=1)


def uniform_edges(num_nodes: int, num_edges: int, seed: int) -> torch.Tensor:
    """Undirected uniformly random graph with ``num_edges`` directed edges."""
    g = torch.Generator().manual_seed(seed)
    half = torch.randint(0, num_nodes, (2, num_edges // 2), generator=g)
    return torch.cat([half, half.flip(0)], dim=1)


# ------------------------------------------------------------------ timing
def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(nbytes: int = 512 * 2**20, repeats: int = 7) -> float:
    """GB/s of ``dst.copy_(src)`` on float32 tensors (bytes read + bytes written)."""
    src = torch.rand(nbytes // 4)
    dst = torch.empty_like(src)
    seconds = median_time(lambda: dst.copy_(src), repeats)
    return 2 * nbytes / seconds / 1e9


def step_bytes(adj: Adjacency, num_features: int, itemsize: int = 4) -> int:
    """Bytes one diffusion step names (module docstring): CSR arrays once, one gathered row per
    nonzero, ``Y_0`` read and the result written per node."""
    n, nnz = adj.num_rows, adj.nnz
    return 4 * (n + 1) + 4 * nnz + itemsize * nnz + itemsize * num_features * (nnz + 2 * n)


def compulsory_bytes(adj: Adjacency, num_features: int, itemsize: int = 4) -> int:
    """The least one step can move: CSR arrays, the source, ``Y_0`` and the result once each."""
    n, nnz = adj.num_rows, adj.nnz
    return 4 * (n + 1) + 4 * nnz + itemsize * nnz + 3 * itemsize * num_features * n


# ------------------------------------------------------------------ the contenders
def make_cases(adj: Adjacency, y0: torch.Tensor, steps: int, alpha: float, with_pyg: bool,
               pyg_steps: int, orders: list[str]
               ) -> list[tuple[str, Optional[Callable], Optional[Callable], int]]:
    """``(name, forward, forward+backward, steps run)`` for every contender."""
    upstream = torch.randn_like(y0)
    row = adj.row()
    weight = adj.value.float()
    sparse = torch.sparse_csr_tensor(adj.rowptr, adj.col, weight, size=(adj.num_rows,) * 2)
    a_scipy = scipy.sparse.csr_matrix((weight.numpy(), adj.col.numpy(), adj.rowptr.numpy()),
                                      shape=(adj.num_rows,) * 2)
    a_scipy_t = a_scipy.T.tocsr()
    y0_np = y0.numpy()
    up_np = upstream.numpy()

    def backward_of(forward):
        def run():
            x = y0.clone().requires_grad_()
            out = forward(x)
            out.backward(upstream)
            return x.grad
        return run

    def ours(reorder):
        return lambda x: diffuse(adj, x, steps, alpha, reorder=reorder)

    def torch_sparse(x):
        y = x
        for _ in range(steps):
            y = (1 - alpha) * torch.sparse.mm(sparse, y) + alpha * x
        return y

    def scipy_loop(matrix, start):
        y = start
        for _ in range(steps):
            y = (1 - alpha) * (matrix @ y) + alpha * start
        return y

    cases = [
        ("noisygraph diffuse (natural order)", lambda: ours(False)(y0),
         backward_of(ours(False)), steps),
        ("noisygraph diffuse (reorder='rcm', cached)", lambda: ours("rcm")(y0),
         backward_of(ours("rcm")), steps),
    ]
    cases += [(f"noisygraph diffuse (reorder={method!r}, cached)", lambda m=method: ours(m)(y0),
               backward_of(ours(method)), steps) for method in orders]
    cases += [
        ("torch.sparse.mm loop (CSR)", lambda: torch_sparse(y0), backward_of(torch_sparse),
         steps),
        # SciPy has no autograd: its backward is the adjoint loop over A^T (same recurrence).
        ("scipy CSR loop", lambda: scipy_loop(a_scipy, y0_np),
         lambda: (scipy_loop(a_scipy, y0_np), scipy_loop(a_scipy_t, up_np)), steps),
    ]
    if with_pyg:
        from torch_geometric.nn import APPNP
        from torch_geometric.nn.models import LabelPropagation

        edge_index = torch.stack([adj.col, row])
        appnp = APPNP(K=pyg_steps, alpha=alpha, normalize=False)
        label_prop = LabelPropagation(num_layers=pyg_steps, alpha=1 - alpha)
        appnp_forward = lambda x: appnp(x, edge_index, weight)  # noqa: E731
        cases += [
            ("PyG APPNP (edge_index)", lambda: appnp_forward(y0),
             backward_of(appnp_forward) if pyg_steps == steps else None, pyg_steps),
            ("PyG LabelPropagation (edge_index)", lambda: label_prop(y0, edge_index, None, weight),
             None, pyg_steps),
        ]
    cases.append(("noisygraph diffuse clip (= LabelPropagation)",
                  lambda: diffuse(adj, y0, steps, alpha, clip=True, reorder="rcm"), None, steps))
    return cases


def run_size(name: str, graph: str, steps: int, num_features: int, alpha: float, repeats: int,
             warmup: int, with_pyg: bool, pyg_steps: int, bandwidth: float,
             skip: list[str], forward_only: list[str]) -> list[str]:
    num_nodes, num_edges, blocks = SIZES[name]
    start = time.perf_counter()
    if graph == "csbm":
        edge_index = csbm_edges(num_nodes, num_edges, blocks, homophily=0.8, seed=0)
    else:
        edge_index = uniform_edges(num_nodes, num_edges, seed=0)
    adj = Adjacency.from_edge_index(edge_index, num_nodes=num_nodes).normalize("sym")
    del edge_index
    build = time.perf_counter() - start
    order_seconds = {}
    for method in ["rcm"] + extra_orders():
        start = time.perf_counter()
        adj.reorder(method).adjacency.transpose()
        order_seconds[method] = time.perf_counter() - start
    adj.transpose()
    y0 = torch.rand(num_nodes, num_features)
    print(f"[{name}/{graph}] {num_nodes:,} nodes, {adj.nnz:,} nnz; build {build:.1f}s, "
          "one-time (cached) reorder + transpose: " +
          ", ".join(f"{m} {t:.1f}s" for m, t in order_seconds.items()), flush=True)
    results = []
    for case, forward, both, ran in make_cases(adj, y0, steps, alpha, with_pyg, pyg_steps,
                                               extra_orders()):
        if any(word in case for word in skip):
            continue
        if any(word in case for word in forward_only):
            both = None
        scale = steps / ran  # PyG at 2M runs fewer steps; its time is scaled to K steps
        fwd = median_time(forward, repeats, warmup) * scale
        fb = median_time(both, repeats, warmup) * scale if both is not None else None
        results.append((case, fwd, fb, ran))
        print(f"  {case:48s} fwd {fwd:8.3f}s  fwd+bwd "
              f"{'-' if fb is None else f'{fb:.3f}s'}" + ("" if ran == steps else
                                                          f"  (ran {ran} step(s), x{scale:g})"),
              flush=True)
    ours_fwd = {r[0]: r[1] for r in results}
    ours_fb = {r[0]: r[2] for r in results}
    reference_fwd = ours_fwd["noisygraph diffuse (reorder='rcm', cached)"]
    reference_fb = ours_fb["noisygraph diffuse (reorder='rcm', cached)"]
    bytes_per_step = step_bytes(adj, num_features)
    rows = []
    for case, fwd, fb, ran in results:
        gbs = bytes_per_step * steps / fwd / 1e9
        note = "" if ran == steps else f" ({ran} step, ×{steps // ran})"
        ratio_fwd = fwd / reference_fwd
        ratio_fb = "–" if fb is None else f"{fb / reference_fb:.2f}×"
        rows.append(f"| {name} / {graph} | {case}{note} | {fwd:.3f} | "
                    f"{'–' if fb is None else f'{fb:.3f}'} | {ratio_fwd:.2f}× | {ratio_fb} | "
                    f"{gbs:.1f} ({100 * gbs / bandwidth:.0f}%) |")
    natural = "noisygraph diffuse (natural order)"
    for method, seconds in order_seconds.items():
        case = f"noisygraph diffuse (reorder={method!r}, cached)"
        even = ""
        if natural in ours_fwd and case in ours_fwd:
            even = "; break-even: " + ", ".join(
                f"{label} {break_even(seconds, times[natural], times[case])}"
                for label, times in (("fwd", ours_fwd), ("fwd+bwd", ours_fb)))
        rows.append(f"| {name} / {graph} | one-time {method} reorder + transposes{even} | "
                    f"{seconds:.2f} | | | | |")
    return rows


def break_even(build_seconds: float, natural: Optional[float], ordered: Optional[float]) -> str:
    """Calls after which an order's one-time cost is paid back by its saving per call."""
    if natural is None or ordered is None:
        return "–"
    if ordered >= natural:
        return "never (no saving)"
    return f"{build_seconds / (natural - ordered):.0f} calls"


def extra_orders() -> list[str]:
    """The relabellings timed besides RCM: METIS when ``pymetis`` is installed."""
    try:
        import pymetis  # noqa: F401
    except ImportError:
        return []
    return ["metis"]


# ------------------------------------------------------------------ validation overhead
def ab_worker(library: str, graph_file: str, repeats: int, warmup: int, steps: int,
              alpha: float) -> None:
    """Child process: loads one build of the extension alone (the package runs with
    ``NOISYGRAPH_BACKEND=reference``, so only this library registers the ops), times the raw
    ``spmm`` and ``diffuse`` and prints one JSON line of seconds per call: wall-clock and the
    process's CPU time (with one thread the op runs on the calling thread, and CPU time does
    not count the time other processes hold the core, so it is the steadier of the two on a
    shared machine)."""
    torch.ops.load_library(library)
    rowptr, col, value, t_rowptr, t_col, t_value, x = torch.load(graph_file)
    ops = torch.ops.noisygraph
    cases = {"spmm": lambda: ops.spmm(rowptr, col, value, x),
             "diffuse": lambda: ops.diffuse(rowptr, col, value, x, steps, alpha),
             "diffuse_adjoint": lambda: ops.diffuse_adjoint(t_rowptr, t_col, t_value, x, steps,
                                                            alpha, None)}
    times = {}
    for name, fn in cases.items():
        for _ in range(warmup):
            fn()
        times[name], times[name + " cpu"] = [], []
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name + " cpu"].append(time.process_time() - start_cpu)
            times[name].append(time.perf_counter() - start)
    print(json.dumps(times))


def load_average() -> str:
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


def ordered(adj: Adjacency, method: str, cache: Optional[str], key: str) -> Adjacency:
    """``adj`` relabelled by ``method`` (``"natural"``: itself); with ``cache``, the order's
    permutation is read from / written to ``<cache>/<key>-<method>.pt``."""
    if method == "natural":
        return adj
    if cache is None:
        return adj.reorder(method).adjacency
    path = pathlib.Path(cache) / f"{key}-{method}.pt"
    if path.exists():
        perm = torch.load(path)
        inverse = torch.empty_like(perm)
        inverse[perm] = torch.arange(perm.numel())
        edge_index = torch.stack([inverse[adj.row()], inverse[adj.col]])
        return Adjacency.from_edge_index(edge_index, adj.value, num_nodes=adj.num_rows)
    reordering = adj.reorder(method)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(reordering.perm, path)
    return reordering.adjacency


def validation_overhead(args) -> None:
    import noisygraph._C as compiled  # the build under test

    current = compiled.__file__
    size = args.sizes.split(",")[0]
    num_nodes, num_edges, blocks = SIZES[size]
    edge_index = csbm_edges(num_nodes, num_edges, blocks, homophily=0.8, seed=0)
    natural = Adjacency.from_edge_index(edge_index, num_nodes=num_nodes).normalize("sym")
    del edge_index
    x = torch.rand(num_nodes, args.features)
    bandwidth = copy_bandwidth()
    named = {"this build": current, "baseline": args.validation_baseline}
    load_before = load_average()
    print(f"copy bandwidth {bandwidth:.2f} GB/s ({args.threads} thread(s)); load {load_before}",
          flush=True)
    tables = []
    for method in args.ab_orders.split(","):
        start = time.perf_counter()
        adj = ordered(natural, method, args.order_cache, f"{size}-csbm")
        transposed, _ = adj.transpose()
        print(f"[{method} order] ready in {time.perf_counter() - start:.1f} s", flush=True)
        rounds = []  # per round: {variant: {op: [seconds]}}
        with tempfile.TemporaryDirectory() as folder:
            graph_file = os.path.join(folder, "graph.pt")
            rowptr, col = adj.kernel_indices()
            t_rowptr, t_col = transposed.kernel_indices()
            torch.save((rowptr, col, adj.value.float(), t_rowptr, t_col,
                        transposed.value.float(), x), graph_file)
            env = dict(os.environ, NOISYGRAPH_BACKEND="reference")
            for round_ in range(args.ab_rounds):
                order = list(named) if round_ % 2 == 0 else list(named)[::-1]
                rounds.append({})
                for name in order:
                    command = [sys.executable, __file__, "--ab-worker", named[name],
                               "--graph-file", graph_file, "--repeats", str(args.repeats),
                               "--warmup", str(args.warmup), "--steps", str(args.steps),
                               "--alpha", str(args.alpha), "--threads", str(args.threads)]
                    out = subprocess.run(command, env=env, check=True, capture_output=True,
                                         text=True)
                    rounds[-1][name] = json.loads(out.stdout.strip().splitlines()[-1])
                    print(f"  {method} round {round_} {name}: " + ", ".join(
                        f"{op} {statistics.median(v) * 1e3:.1f} ms"
                        for op, v in rounds[-1][name].items()), flush=True)
        tables.append(ab_table(method, adj, rounds, bandwidth, args))
        del adj, transposed
    print(f"\n{num_nodes:,} nodes, {natural.nnz:,} nnz, F={args.features}, K={args.steps}, "
          f"float32 values, int32 indices, {args.threads} thread(s); {args.ab_rounds} rounds x "
          f"{args.repeats} repeats per variant; copy bandwidth {bandwidth:.2f} GB/s; load "
          f"average before {load_before}, after {load_average()}; % of copy = step_bytes "
          "(module docstring) per second of the pooled median wall time; compulsory = the same "
          "with compulsory_bytes\n")
    print("| order | op | clock | this build (ms) | baseline (ms) | this / baseline − 1, pooled "
          "medians | median of per-round ratios (quartiles) | % of copy: this, baseline "
          "(compulsory) |")
    print("|---|---|---|---|---|---|---|---|")
    for rows in tables:
        print("\n".join(rows))


def ab_table(method: str, adj: Adjacency, rounds: list, bandwidth: float, args) -> list[str]:
    """The rows of one node order's A/B table (see validation_overhead)."""
    rows = []
    variants = ("this build", "baseline")
    for op in ("spmm", "diffuse", "diffuse_adjoint"):
        label = op if op == "spmm" else f"{op} (K={args.steps})"
        steps = 1 if op == "spmm" else args.steps
        for clock, key in (("wall", op), ("CPU", op + " cpu")):
            pooled = {name: statistics.median([t for r in rounds for t in r[name][key]])
                      for name in variants}
            ours, base = pooled["this build"], pooled["baseline"]
            # the two variants of one round ran back to back: their ratio cancels slow drifts
            # of the machine's load
            ratios = sorted(statistics.median(r["this build"][key]) /
                            statistics.median(r["baseline"][key]) - 1 for r in rounds)
            quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            share = ""
            if clock == "wall":
                def pct(nbytes: int, seconds: float) -> str:
                    return f"{100 * nbytes * steps / seconds / 1e9 / bandwidth:.0f} %"
                full, least = step_bytes(adj, args.features), compulsory_bytes(adj, args.features)
                share = (f"{pct(full, ours)}, {pct(full, base)} "
                         f"({pct(least, ours)}, {pct(least, base)})")
            rows.append(f"| {method} | {label} | {clock} | {ours * 1e3:.2f} | {base * 1e3:.2f} | "
                        f"{100 * (ours / base - 1):+.1f} % | {100 * statistics.median(ratios):+.1f}"
                        f" % ({100 * quartiles[0]:+.1f} … {100 * quartiles[2]:+.1f} %) | {share} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="arxiv,2m", help="comma list of " + ",".join(SIZES))
    parser.add_argument("--graphs", default="csbm,uniform", help="comma list of csbm,uniform")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before the repeats")
    parser.add_argument("--skip", default="", help="comma list: skip contenders whose name "
                                                   "contains one of these words")
    parser.add_argument("--forward-only", default="",
                        help="comma list: time only the forward of these contenders")
    parser.add_argument("--no-pyg", action="store_true", help="skip the PyG contenders")
    parser.add_argument("--pyg-steps-large", type=int, default=1,
                        help="steps PyG runs on graphs over 10M edges (scaled to --steps); "
                             "PyG's edge-wise messages need ~10 GB there")
    parser.add_argument("--validation-baseline", default=None, metavar="SO",
                        help="measure the raw ops' validation cost against this build of the "
                             "extension (see the module docstring) instead of the comparison")
    parser.add_argument("--ab-rounds", type=int, default=16)
    parser.add_argument("--ab-orders", default="natural",
                        help="with --validation-baseline: comma list of node orders "
                             "(natural, rcm, metis)")
    parser.add_argument("--order-cache", default=None, metavar="DIR",
                        help="with --validation-baseline: keep computed node orders here")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's)")
    parser.add_argument("--ab-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--graph-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    if args.ab_worker is not None:
        ab_worker(args.ab_worker, args.graph_file, args.repeats, args.warmup, args.steps,
                  args.alpha)
        return
    torch.manual_seed(0)
    if args.validation_baseline is not None:
        validation_overhead(args)
        return
    bandwidth = copy_bandwidth()
    print(f"backend {noisygraph.backend()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {platform.machine()}; "
          f"copy bandwidth {bandwidth:.1f} GB/s", flush=True)
    rows = ["| graph | contender | forward (s) | fwd+bwd (s) | ratio to ours (fwd) "
            "| ratio to ours (fwd+bwd) | forward GB/s (% of copy) |",
            "|---|---|---|---|---|---|---|"]
    for size in args.sizes.split(","):
        for graph in args.graphs.split(","):
            large = SIZES[size][1] > 10_000_000
            rows += run_size(size, graph, args.steps, args.features, args.alpha, args.repeats,
                             args.warmup, not args.no_pyg,
                             args.pyg_steps_large if large else args.steps, bandwidth,
                             [w for w in args.skip.split(",") if w],
                             [w for w in args.forward_only.split(",") if w])
    print(f"\nK={args.steps}, F={args.features}, alpha={args.alpha}, float32, median of "
          f"{args.repeats}; ratio = contender time / noisygraph (reorder='rcm') time; "
          f"copy bandwidth {bandwidth:.1f} GB/s\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
