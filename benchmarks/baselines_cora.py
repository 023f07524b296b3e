"""The robust-training baselines of noisygraph.baselines on the ERASE paper's Cora grid
(uniform and pair noise, 10-50 %, the release's seeded noisy draw, clean validation labels).

Runs are appended to a JSON-lines log as they finish, interleaved over the cells (run 0 of
every cell and method, then run 1, ...), so an interrupted log still gives every cell the
same runs; ``--report`` turns the log into a markdown table.

    python benchmarks/baselines_cora.py --log benchmarks/results/baselines_runs.jsonl \
        --runs 5 --threads 1
    python benchmarks/baselines_cora.py --log benchmarks/results/baselines_runs.jsonl --report

Protocol: Cora's public Planetoid split (140 / 500 / 1000); noise on the training nodes only,
drawn once per cell with the ERASE release's sampler (``--sampler paper``, noise seed 123: the
same noisy labels as ``benchmarks/repro_erase.py --grid paper-draw`` and ERASE's table in
BENCHMARKS.md); run ``r`` seeds the GCNs with ``r``; model selection on the clean validation
labels (protocol ``paper``); every method with its documented defaults.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import append_run, read_log, run_or_report  # noqa: E402
from repro_erase import NOISES, RATES, cell_args  # noqa: E402  (the same grid and draw)

from noisygraph_cli import erase as command  # noqa: E402

NOISE_SEED = 123  # repro_erase.py's default, so the cells carry ERASE's noisy labels
METHODS = ("ce", "forward", "sce", "coteaching", "elr", "nrgnn-lite")
# the cells in the order they run: the 20 % and 40 % cells first (the ones issue 12 reports),
# so a log cut short by the time box still covers them
CELLS = [(noise, rate) for rate in (0.2, 0.4) for noise in NOISES] + [
    (noise, rate) for noise in NOISES for rate in RATES if rate not in (0.2, 0.4)]


def run_grid(args) -> None:
    from noisygraph.baselines import METHODS as registry

    data = command.load(cell_args("gcn", "paper", "paper", "uniform", 0.1, NOISE_SEED))
    done = {(r["method"], r["noise"], r["rate"], r["run"]) for r in read_log(args.log)}
    for run in range(args.runs):
        for noise, rate in CELLS:
            corruption = command.corrupt(
                data, cell_args("gcn", "paper", "paper", noise, rate, NOISE_SEED), NOISE_SEED)
            for method in args.methods:
                if (method, noise, rate, run) in done:
                    continue
                start = time.time()
                history = registry[method](seed=run).fit(data, y_noisy=corruption.y_noisy)
                record = dict(method=method, noise=noise, rate=rate, run=run, seed=run,
                              noise_seed=NOISE_SEED, sampler="paper", protocol="paper",
                              realised_rate=corruption.train_rate,
                              accuracy=100 * history.test_acc, best_epoch=history.best_epoch,
                              wall_seconds=time.time() - start)
                append_run(args.log, record)


def report(args) -> str:
    records = read_log(args.log)
    cells = defaultdict(list)
    for r in records:
        cells[(r["method"], r["noise"], r["rate"])].append(r)
    methods = [m for m in METHODS if any(k[0] == m for k in cells)]
    lines = ["| noise | rate | realised | " + " | ".join(methods) + " |",
             "| --- | --- | --- |" + " --- |" * len(methods)]
    common = []  # the cells every method has a run in: the only fair average
    for noise, rate in sorted(CELLS, key=lambda cell: (NOISES.index(cell[0]), cell[1])):
        row = [noise, f"{rate:.0%}"]
        first = next((cells[(m, noise, rate)][0] for m in methods
                      if cells.get((m, noise, rate))), None)
        if first is None:
            continue
        row.append(f"{first['realised_rate']:.1%}")
        means = {}
        for m in methods:
            acc = np.array([r["accuracy"] for r in cells.get((m, noise, rate), [])])
            if acc.size:
                means[m] = acc.mean()
            row.append(f"{acc.mean():.2f} ± {acc.std():.2f} ({acc.size})" if acc.size
                       else "—")
        if len(means) == len(methods):
            common.append(means)
        lines.append("| " + " | ".join(row) + " |")
    if common:
        lines.append(f"| average of the {len(common)} cells every method has | | | "
                     + " | ".join(
            f"{np.mean([c[m] for c in common]):.2f}" for m in methods) + " |")
    seconds = " | ".join(
        f"{np.median([r['wall_seconds'] for r in records if r['method'] == m]):.1f}"
        for m in methods)
    lines.append(f"| median seconds per run | | | {seconds} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True, help="JSON-lines file of finished runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    return run_or_report(args, run_grid, report)


if __name__ == "__main__":
    sys.exit(main())
