"""The per-class cap on removed labels (``max_flag_fraction``) checked on contextual SBM
graphs in Cora's shape, never on a benchmark graph: each capped cleaner with the cap (0.5)
and without it (1.0), and ``ce`` on the same noisy labels.

Graphs: 2,708 nodes, 7 classes in Cora's class counts, average degree 3.9, homophily 0.8,
64 features at signal 0.5, 20 training labels per class, 500 validation and 1,000 test nodes;
uniform and pair noise at 20 % and 40 % on the training labels; graph, noise and training
seed 60-65; protocol ``paper`` (clean validation labels). One JSON line per graph.

    python benchmarks/csbm_flag_cap.py --methods detect-gcn \\
        --out benchmarks/results/csbm_flag_cap.jsonl
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics

import torch

CORA_CLASS_SIZES = (351, 217, 418, 818, 426, 298, 180)
CAPS = (1.0, 0.5)


def run(methods: list[str], seeds: list[int], out: pathlib.Path) -> list[dict]:
    from noisygraph.bench.methods import build_method
    from noisygraph.datasets import csbm
    from noisygraph.noise import AddLabelNoise
    from noisygraph.random import seed_everything
    rows = []
    runs = [("ce", "ce", {})] + [(f"{m}@{cap}", m, {"max_flag_fraction": cap})
                                 for m in methods for cap in CAPS]
    for seed in seeds:
        data = csbm(2708, num_classes=7, avg_degree=3.9, homophily=0.8, num_features=64,
                    feature_signal=0.5, class_sizes=CORA_CLASS_SIZES, seed=seed,
                    train_per_class=20, num_val=500, num_test=1000, verbose=False)
        for noise in ("uniform", "pair"):
            for rate in (0.2, 0.4):
                noisy = AddLabelNoise(noise, rate, seed=seed)(data)
                row = {"seed": seed, "noise": noise, "rate": rate, "realised": float(
                    noisy.noise_flipped[noisy.train_mask].float().mean())}
                for name, method, options in runs:
                    seed_everything(seed)
                    model = build_method(method, protocol="paper", seed=seed, **options)
                    row[name] = 100 * float(model.fit(noisy, y_noisy=noisy.y_noisy,
                                                      noise_mask=noisy.noise_mask).test_acc)
                    if method != "ce":
                        row[name + ":removed"] = int(model.cleaning.flagged.sum())
                print(json.dumps(row), flush=True)
                with open(out, "a") as handle:
                    handle.write(json.dumps(row) + "\n")
                rows.append(row)
    return rows


def summary(rows: list[dict], methods: list[str]) -> None:
    print(f"{len(rows)} graphs; mean test accuracy (%): ce "
          f"{statistics.mean(r['ce'] for r in rows):.2f}")
    for m in methods:
        capped, free = [r[f"{m}@0.5"] for r in rows], [r[f"{m}@1.0"] for r in rows]
        higher = sum(a > b for a, b in zip(capped, free))
        lower = sum(a < b for a, b in zip(capped, free))
        print(f"{m}: cap 0.5 {statistics.mean(capped):.2f}, no cap {statistics.mean(free):.2f}"
              f" (cap higher on {higher} graphs, lower on {lower})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=["detect-gcn"])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(60, 66)))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path("benchmarks/results/csbm_flag_cap.jsonl"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    summary(run(args.methods, args.seeds, args.out), args.methods)


if __name__ == "__main__":
    main()
