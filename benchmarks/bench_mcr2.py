"""MCR² loss, forward + backward: noisygraph's coding-rate kernel against plain PyTorch.

Methods (same z, same labels, same float32 loss value up to rounding):
  * ``ours-compiled``  — :class:`noisygraph.nn.CodingRateReductionLoss` on the C++ kernel;
  * ``ours-reference`` — the same loss on the pure-PyTorch reference path;
  * ``loop``           — a straightforward PyTorch formulation: per-class boolean mask,
    ``z[mask]``, ``torch.logdet`` of the p×p matrix, autograd;
  * ``official-dense`` — the official ERASE release's formulation: W = zᵀ, a dense K×N×N
    diagonal membership tensor Π, ``logdet(I + b·W Π_j Wᵀ)`` per class (skipped where
    K·N² floats do not fit in memory).

Each (size, method) runs in its own subprocess so that the peak resident memory
(``resource.getrusage`` maxrss) belongs to that method alone. Prints a markdown table.

    python benchmarks/bench_mcr2.py                      # Cora and ogbn-arxiv sizes
    python benchmarks/bench_mcr2.py --sizes cora --repeats 5

Wall time and process CPU time (all threads) are both reported: on a shared machine the
CPU time is the steadier measure of the work each method does.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_json  # noqa: E402

SIZES = {  # name: (N, p, K)
    "cora": (2708, 512, 7),
    "arxiv": (169343, 512, 40),
}
METHODS = ["ours-compiled", "ours-reference", "loop", "official-dense"]
GAMMA1, GAMMA2, EPS = 1.0, 2.0, 0.05
DENSE_LIMIT_BYTES = 8 * 2 ** 30  # the K×N×N membership tensor must stay below this


def make_inputs(num_nodes: int, dim: int, num_classes: int):
    import torch

    gen = torch.Generator().manual_seed(0)
    # ERASE's embeddings: row L1-normalised, then ReLU
    z = torch.nn.functional.normalize(torch.randn(num_nodes, dim, generator=gen), p=1, dim=1)
    z = z.relu()
    labels = torch.randint(0, num_classes, (num_nodes,), generator=gen)
    return z, labels


def loop_loss(z, labels, num_classes):
    import torch

    m, p = z.shape
    eye = torch.eye(p, dtype=z.dtype)
    total = 0.5 * torch.logdet(eye + GAMMA1 * p / (m * EPS) * z.t() @ z)
    compress = z.new_zeros(())
    for j in range(num_classes):
        mask = labels == j
        z_j = z[mask]
        n_j = mask.sum() + 1e-8
        compress = compress + n_j / m * 0.5 * torch.logdet(eye + p / (n_j * EPS) * z_j.t() @ z_j)
    return -GAMMA2 * total + GAMMA1 * compress


def official_dense_loss(z, labels, num_classes):
    import torch

    w = z.t()
    p, m = w.shape
    pi = torch.zeros(num_classes, m, m, dtype=z.dtype)
    pi[labels, torch.arange(m), torch.arange(m)] = 1.0
    eye = torch.eye(p, dtype=z.dtype)
    discrimn = torch.logdet(eye + GAMMA1 * p / (m * EPS) * w @ w.t()) / 2.0
    compress = z.new_zeros(())
    for j in range(num_classes):
        tr = torch.trace(pi[j]) + 1e-8
        compress = compress + torch.logdet(eye + p / (tr * EPS) * w @ pi[j] @ w.t()) * tr / m
    return -GAMMA2 * discrimn + GAMMA1 * compress / 2.0


def current_rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def run_one(size: str, method: str, repeats: int) -> dict:
    import torch

    if method == "ours-reference":
        os.environ["NOISYGRAPH_BACKEND"] = "reference"
    import noisygraph
    from noisygraph.nn import CodingRateReductionLoss

    num_nodes, dim, num_classes = SIZES[size]
    z0, labels = make_inputs(num_nodes, dim, num_classes)
    if method.startswith("ours"):
        loss_fn = CodingRateReductionLoss(GAMMA1, GAMMA2, EPS)
        fn = lambda z: loss_fn(z, labels, num_classes)  # noqa: E731
    elif method == "loop":
        fn = lambda z: loop_loss(z, labels, num_classes)  # noqa: E731
    else:
        fn = lambda z: official_dense_loss(z, labels, num_classes)  # noqa: E731
    rss_before = current_rss_kb()
    times, cpu_times, value, grad_norm = [], [], None, None
    for _ in range(repeats + 1):  # the first run warms up and is not timed
        z = z0.clone().requires_grad_()
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = fn(z)
        loss.backward()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        value, grad_norm = float(loss), float(z.grad.norm())
        z = loss = None  # free this run's tensors before the next one allocates
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(size=size, method=method, backend=noisygraph.backend(),
                median_s=statistics.median(times[1:]), times_s=times[1:],
                median_cpu_s=statistics.median(cpu_times[1:]), loss=value,
                grad_norm=grad_norm, peak_rss_mb=peak / 1024,
                extra_rss_mb=(peak - rss_before) / 1024, threads=torch.get_num_threads())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats per case (default: 5 at Cora size, 3 at arxiv size)")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--run-one", nargs=2, metavar=("SIZE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        print(json.dumps(run_one(*args.run_one, args.repeats)))
        return 0

    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; load before: {os.getloadavg()}", flush=True)
    results = []
    for size in args.sizes:
        num_nodes, dim, num_classes = SIZES[size]
        repeats = args.repeats or (5 if num_nodes < 10000 else 3)
        for method in args.methods:
            dense_bytes = num_classes * num_nodes ** 2 * 4
            if method == "official-dense" and dense_bytes > DENSE_LIMIT_BYTES:
                print(f"{size:6s} {method:15s} skipped: the K×N×N membership tensor needs "
                      f"{dense_bytes / 1e12:.2f} TB", flush=True)
                results.append(dict(size=size, method=method, skipped=True,
                                    dense_tb=dense_bytes / 1e12))
                continue
            cmd = [sys.executable, __file__, "--run-one", size, method, "--repeats", str(repeats)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{size:6s} {method:15s} {result['backend']:14s} median "
                  f"{result['median_s']:8.3f} s (CPU {result['median_cpu_s']:8.3f} s)  peak RSS {result['peak_rss_mb']:7.0f} MB "
                  f"(+{result['extra_rss_mb']:.0f})  loss {result['loss']:.6f}", flush=True)
    print(f"# load after: {os.getloadavg()}\n")
    print("| size (N, p, K) | method | path | median fwd+bwd wall (s) | vs loop | median CPU "
          "time (s) | vs loop | peak RSS (MB) | RSS above inputs (MB) | loss |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        loop = next((r for r in results if r["size"] == size and r["method"] == "loop"
                     and not r.get("skipped")), None)
        for r in (r for r in results if r["size"] == size):
            shape = ", ".join(f"{v:,}" for v in SIZES[size])
            if r.get("skipped"):
                print(f"| {size} ({shape}) | {r['method']} | — | does not fit: K·N² floats = "
                      f"{r['dense_tb']:.1f} TB | — | — | — | — | — | — |")
                continue
            ratio = f"{loop['median_s'] / r['median_s']:.1f}×" if loop else "—"
            cpu_ratio = f"{loop['median_cpu_s'] / r['median_cpu_s']:.1f}×" if loop else "—"
            print(f"| {size} ({shape}) | {r['method']} | {r['backend']} | {r['median_s']:.3f} | "
                  f"{ratio} | {r['median_cpu_s']:.3f} | {cpu_ratio} | {r['peak_rss_mb']:.0f} | "
                  f"{r['extra_rss_mb']:.0f} | {r['loss']:.5f} |")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
