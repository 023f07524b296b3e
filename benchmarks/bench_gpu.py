"""GPU benchmarks of issue 15: the fused K-step diffusion and the coding-rate loss.

Diffusion (``Y_{t+1} = (1-alpha) A Y_t + alpha Y_0``, K = 10 steps, F = 40 columns, float32,
``sym``-normalized CSBM graphs, all on one device):

* ``noisygraph diffuse`` — :func:`noisygraph.ops.diffuse`, one fused kernel call for K steps
  (and one adjoint call for the backward);
* ``torch.sparse.mm loop (CSR)`` — K calls of ``torch.sparse.mm`` on a CSR tensor
  (cuSPARSE on CUDA), autograd for the backward;
* ``PyG APPNP`` — ``torch_geometric.nn.APPNP(K, alpha, normalize=False)`` over
  ``edge_index`` with the same normalized edge weights.

Each is timed forward and forward+backward (w.r.t. ``Y_0``). Achieved bandwidth counts the
bytes one step must move (row pointers and columns as int32, edge values, one gathered row
per edge, ``Y_0`` and the written row per node; the backward runs the same recurrence over
``A^T``, so forward+backward counts twice that) against a measured device-to-device copy.

Coding-rate loss (MCR², hard labels): :class:`noisygraph.nn.CodingRateReductionLoss` forward +
backward against the per-class ``torch.logdet`` loop in plain PyTorch on the same device.

Timing: CUDA events on a GPU (``time.perf_counter`` on the CPU), median of ``--repeats``
after ``--warmup`` untimed runs. The JSON (``--out``) is rewritten after every case, so a run
stopped by a timeout still leaves what it measured.

    python benchmarks/bench_gpu.py --out gpu_bench.json            # arxiv size + 2M / 20M
    python benchmarks/bench_gpu.py --device cpu --small --out x.json  # a smoke run on a CPU
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import warnings
from typing import Callable, Optional

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_diffusion import csbm_edges, step_bytes  # noqa: E402  (same graphs, same bytes)

import noisygraph  # noqa: E402
from noisygraph.nn import CodingRateReductionLoss  # noqa: E402
from noisygraph.ops import diffuse  # noqa: E402
from noisygraph.sparse import as_adjacency  # noqa: E402

GRAPHS = {  # name: (nodes, directed edges = 2 x undirected, planted communities)
    "arxiv": (169_343, 2_315_598, 40),
    "2m": (2_000_000, 40_000_000, 200),
}
SMALL_GRAPHS = {"small": (5_000, 50_000, 5)}
MCR2 = {"arxiv": (169_343, 128, 40)}  # name: (N, d, K)
SMALL_MCR2 = {"small": (3_000, 32, 5)}
GAMMA1, GAMMA2, EPS = 1.0, 2.0, 0.05
TARGETS = {"diffusion_speedup": 2.0, "diffusion_copy_fraction": 0.6, "mcr2_speedup": 5.0}


# ------------------------------------------------------------------ timing
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], object], device: torch.device, repeats: int,
              warmup: int) -> tuple[float, list[float]]:
    """Median milliseconds of ``fn`` after ``warmup`` untimed calls (CUDA events on a GPU)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            start_s = time.perf_counter()
            fn()
            times.append(1e3 * (time.perf_counter() - start_s))
    return statistics.median(times), times


def copy_bandwidth(device: torch.device, nbytes: int, repeats: int) -> float:
    """GB/s of ``dst.copy_(src)`` on ``device`` (bytes read + bytes written)."""
    src = torch.rand(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    ms, _ = median_ms(lambda: dst.copy_(src), device, repeats, warmup=2)
    return 2 * nbytes / (ms * 1e-3) / 1e9


# ------------------------------------------------------------------ diffusion
def diffusion_contenders(adj, y0: torch.Tensor, steps: int, alpha: float):
    """``{name: forward(x)}``: each maps ``Y_0`` to ``Y_K``."""
    from torch_geometric.nn import APPNP

    weight = adj.value.to(y0.dtype)
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    sparse = torch.sparse_csr_tensor(adj.rowptr, adj.col, weight, size=(adj.num_rows,) * 2)
    edge_index = torch.stack([adj.col, adj.row()])
    appnp = APPNP(K=steps, alpha=alpha, normalize=False, cached=False)

    def torch_sparse(x):
        y = x
        for _ in range(steps):
            y = (1 - alpha) * torch.sparse.mm(sparse, y) + alpha * x
        return y

    return {
        "noisygraph diffuse": lambda x: diffuse(adj, x, steps, alpha),
        "torch.sparse.mm loop (CSR)": torch_sparse,
        "PyG APPNP": lambda x: appnp(x, edge_index, weight),
    }


def bench_diffusion(name: str, size, args, device, bandwidth: float, record) -> None:
    num_nodes, num_edges, blocks = size
    start = time.perf_counter()
    edge_index = csbm_edges(num_nodes, num_edges, blocks, homophily=0.8, seed=0).to(device)
    adj = as_adjacency(edge_index, num_nodes=num_nodes).normalize("sym")
    del edge_index
    adj.transpose()  # cached: the backward's transposed CSR is built once, outside the timing
    synchronize(device)
    build_s = time.perf_counter() - start
    gen = torch.Generator(device=device).manual_seed(0)
    y0 = torch.rand(num_nodes, args.features, generator=gen, device=device)
    upstream = torch.randn(num_nodes, args.features, generator=gen, device=device)
    bytes_step = step_bytes(adj, args.features)
    print(f"[{name}] {num_nodes:,} nodes, {adj.nnz:,} nonzeros, built in {build_s:.1f}s",
          flush=True)
    contenders = diffusion_contenders(adj, y0, args.steps, args.alpha)
    with torch.no_grad():
        expected = contenders["noisygraph diffuse"](y0)
    rows = []
    for case, forward in contenders.items():
        row = dict(graph=name, nodes=num_nodes, nnz=adj.nnz, case=case, steps=args.steps,
                   features=args.features, build_s=build_s)
        try:
            with torch.no_grad():
                got = forward(y0)
                row["max_abs_diff_vs_ours"] = float((got - expected).abs().max())
                row["forward_ms"], row["forward_times_ms"] = median_ms(
                    lambda: forward(y0), device, args.repeats, args.warmup)

            def both():
                x = y0.clone().requires_grad_()
                forward(x).backward(upstream)
                return x.grad

            row["forward_backward_ms"], row["forward_backward_times_ms"] = median_ms(
                both, device, args.repeats, args.warmup)
        except (RuntimeError, NotImplementedError) as error:  # e.g. no backward, out of memory
            row["error"] = f"{type(error).__name__}: {error}"[:500]
        for key, factor in (("forward", 1), ("forward_backward", 2)):
            if f"{key}_ms" in row:
                gbs = factor * bytes_step * args.steps / (row[f"{key}_ms"] * 1e-3) / 1e9
                row[f"{key}_gb_per_s"] = gbs
                row[f"{key}_copy_fraction"] = gbs / bandwidth
        rows.append(row)
        print(f"  {case:28s} fwd {row.get('forward_ms', float('nan')):9.3f} ms  fwd+bwd "
              f"{row.get('forward_backward_ms', float('nan')):9.3f} ms"
              + (f"  {row['error']}" if "error" in row else ""), flush=True)
        record(row)
    ours = rows[0]
    for key in ("forward_ms", "forward_backward_ms"):
        others = [r[key] for r in rows[1:] if key in r]
        if key in ours and others:
            ours[f"{key.replace('_ms', '')}_speedup_vs_best_other"] = min(others) / ours[key]
    record(None)


# ------------------------------------------------------------------ coding rate
def loop_loss(z: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The per-class ``torch.logdet`` loop: ``z[labels == j]``, a p x p log-determinant."""
    m, p = z.shape
    eye = torch.eye(p, dtype=z.dtype, device=z.device)
    total = 0.5 * torch.logdet(eye + GAMMA1 * p / (m * EPS) * z.t() @ z)
    compress = z.new_zeros(())
    for j in range(num_classes):
        z_j = z[labels == j]
        n_j = z_j.size(0) + 1e-8
        compress = compress + n_j / m * 0.5 * torch.logdet(eye + p / (n_j * EPS) * z_j.t() @ z_j)
    return -GAMMA2 * total + GAMMA1 * compress


def bench_mcr2(name: str, size, args, device, record) -> None:
    num_nodes, dim, num_classes = size
    gen = torch.Generator(device=device).manual_seed(0)
    z0 = torch.randn(num_nodes, dim, generator=gen, device=device)
    z0 = torch.nn.functional.normalize(z0, p=1, dim=1).relu()  # ERASE's embeddings
    labels = torch.randint(0, num_classes, (num_nodes,), generator=gen, device=device)
    ours = CodingRateReductionLoss(GAMMA1, GAMMA2, EPS)
    cases = {"noisygraph CodingRateReductionLoss": lambda z: ours(z, labels, num_classes),
             "per-class torch.logdet loop": lambda z: loop_loss(z, labels, num_classes)}
    print(f"[mcr2 {name}] N={num_nodes:,} d={dim} K={num_classes}", flush=True)
    rows = []
    for case, fn in cases.items():
        row = dict(size=name, nodes=num_nodes, dim=dim, classes=num_classes, case=case)

        def both():
            z = z0.clone().requires_grad_()
            loss = fn(z)
            loss.backward()
            return loss.detach()

        try:
            row["loss"] = float(both())
            row["forward_backward_ms"], row["forward_backward_times_ms"] = median_ms(
                both, device, args.repeats, args.warmup)
        except (RuntimeError, NotImplementedError) as error:
            row["error"] = f"{type(error).__name__}: {error}"[:500]
        rows.append(row)
        print(f"  {case:36s} fwd+bwd {row.get('forward_backward_ms', float('nan')):9.3f} ms  "
              f"loss {row.get('loss', float('nan')):.6f}", flush=True)
        record(row)
    if all("forward_backward_ms" in r for r in rows):
        rows[0]["speedup_vs_loop"] = rows[1]["forward_backward_ms"] / rows[0]["forward_backward_ms"]
        rows[0]["loss_abs_diff_vs_loop"] = abs(rows[0]["loss"] - rows[1]["loss"])
    record(None)


# ------------------------------------------------------------------ main
def environment(device: torch.device) -> dict:
    env = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               python=platform.python_version(), torch=torch.__version__,
               torch_cuda=torch.version.cuda, backend=noisygraph.backend(), device=str(device),
               threads=torch.get_num_threads(), load=os.getloadavg())
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=props.name, multiprocessors=props.multi_processor_count,
                   memory_gib=props.total_memory / 2**30, capability=f"{props.major}.{props.minor}")
    return env


def summarize(results: dict) -> dict:
    """The issue's targets, checked on the largest graph measured."""
    checks = {}
    diffusion = [r for r in results["diffusion"] if r["case"] == "noisygraph diffuse"]
    if diffusion:
        largest = max(diffusion, key=lambda r: r["nnz"])
        for key in ("forward", "forward_backward"):
            speedup = largest.get(f"{key}_speedup_vs_best_other")
            fraction = largest.get(f"{key}_copy_fraction")
            checks[f"diffusion_{key}_{largest['graph']}"] = dict(
                speedup_vs_best_other=speedup, copy_fraction=fraction,
                meets_speedup=None if speedup is None else speedup >= TARGETS["diffusion_speedup"],
                meets_bandwidth=None if fraction is None else
                fraction >= TARGETS["diffusion_copy_fraction"])
    for r in results["mcr2"]:
        if "speedup_vs_loop" in r:
            checks[f"mcr2_{r['size']}"] = dict(speedup_vs_loop=r["speedup_vs_loop"],
                                               meets_speedup=r["speedup_vs_loop"] >=
                                               TARGETS["mcr2_speedup"])
    return checks


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--device", default="cuda", help="device to run on (default: cuda)")
    parser.add_argument("--small", action="store_true",
                        help="small sizes only (a smoke run, e.g. with --device cpu)")
    parser.add_argument("--graphs", nargs="+", default=None,
                        help=f"graph sizes (default: {list(GRAPHS)}; with --small: small)")
    parser.add_argument("--no-mcr2", action="store_true", help="skip the coding-rate loss")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device visible (use --device cpu --small)")
    graphs = SMALL_GRAPHS if args.small else GRAPHS
    names = args.graphs or list(graphs)
    unknown = [n for n in names if n not in graphs]
    if unknown:
        parser.error(f"--graphs: unknown {unknown}; choose from {list(graphs)}")
    copy_bytes = (16 if args.small else 1024) * 2**20
    results = dict(environment=environment(device), settings=vars(args), targets=TARGETS,
                   copy_gb_per_s=copy_bandwidth(device, copy_bytes, repeats=args.repeats),
                   diffusion=[], mcr2=[])
    print(f"# {results['environment']}\n# device-to-device copy: "
          f"{results['copy_gb_per_s']:.1f} GB/s", flush=True)

    def record(section: str):
        def write(row):
            if row is not None:
                results[section].append(row)
            results["checks"] = summarize(results)
            with open(args.out, "w") as f:
                json.dump(results, f, indent=1)
        return write

    for name in names:
        bench_diffusion(name, graphs[name], args, device, results["copy_gb_per_s"],
                        record("diffusion"))
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if not args.no_mcr2:
        for name, size in (SMALL_MCR2 if args.small else MCR2).items():
            bench_mcr2(name, size, args, device, record("mcr2"))
    print(json.dumps(results["checks"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
