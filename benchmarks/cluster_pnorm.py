"""F1, work and time of the label-weighted flow diffusion at p = 2 (the l2 diffusion) and
p-norm flow diffusion at larger p, on one data set, side by side in one run.

Protocol (as benchmarks/cluster_f1.py): every class is a target in turn; seeds are up to
``--seeds`` random non-isolated nodes of the class (``class_seeds``, seeded); binary labels
"in target" are flipped independently with probability ``--rate`` on every node
(``add_label_noise(kind="uniform", num_classes=2)``, seed ``seed * 100 + class``); the
label-weighted graph (target weighting, cross weight 0.05, one vote round); the six-level
mass grid; target volume = the true class volume ("true") or the ground-truth-free estimate
("estimate"). Every seed runs once per p, the p values alternating seed by seed, one seed per
call, so the ms per seed is that seed's diffusion and sweeps alone.

    python benchmarks/cluster_pnorm.py --dataset coauthor_cs --rate 0.2 --seeds 10 --threads 1
"""
from __future__ import annotations

import argparse
import json
import statistics

import torch

from noisygraph.cluster import LocalGraph, local_cluster
from noisygraph.datasets import load_dataset
from noisygraph.noise import add_label_noise

from cluster_f1 import class_seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="coauthor_cs")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per class (at most)")
    parser.add_argument("--p", nargs="+", type=float, default=[2.0, 4.0, 8.0])
    parser.add_argument("--volume", nargs="+", choices=("true", "estimate"),
                        default=["true", "estimate"])
    parser.add_argument("--max-pushes", type=int, default=10_000_000,
                        help="push limit per seed and level (the same for every p)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset(args.dataset)
    graph = LocalGraph.from_graph(data)
    y = data.y
    rows = {(v, p): [] for v in args.volume for p in args.p}
    flipped = []
    for c in range(int(y.max()) + 1):
        true = y == c
        noisy = add_label_noise(true.long(), "uniform", args.rate, seed=args.seed * 100 + c,
                                num_classes=2).y_noisy.bool()
        flipped.append(float((noisy != true).float().mean()))
        for node in class_seeds(graph, y, c, args.seeds, args.seed):
            for volume in args.volume:
                for p in args.p:
                    res = local_cluster(graph, seed_node=node, labels=noisy, p=p,
                                        target_volume=true if volume == "true" else None,
                                        max_pushes=args.max_pushes)
                    rows[(volume, p)].append(dict(
                        f1=res.f1(true), ms=res.ms, pushes=res.work["pushes"],
                        edges=res.work["edges"], limit=res.hit_push_limit, cls=c))
        print(f"class {c} done", flush=True)
    print(f"{args.dataset}, flip rate {args.rate:.0%} (realised {statistics.fmean(flipped):.3f}),"
          f" {len(rows[(args.volume[0], args.p[0])])} seeds, max_pushes {args.max_pushes:,} per"
          f" level, {torch.get_num_threads()} thread(s)")
    print("| volume | p | mean F1 (± std over classes) | median pushes | median edge visits | "
          "median ms | seeds at the push limit |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for (volume, p), recs in rows.items():
        classes = sorted({r["cls"] for r in recs})
        per_class = [statistics.fmean(r["f1"] for r in recs if r["cls"] == c) for c in classes]
        entry = dict(f1_mean=statistics.fmean(per_class), f1_std=statistics.pstdev(per_class),
                     pushes=statistics.median(r["pushes"] for r in recs),
                     edges=statistics.median(r["edges"] for r in recs),
                     ms=statistics.median(r["ms"] for r in recs),
                     limit=sum(r["limit"] for r in recs), seeds=len(recs))
        summary[f"{volume}/p={p:g}"] = entry
        print(f"| {volume} | {p:g} | {entry['f1_mean']:.3f} ± {entry['f1_std']:.3f} | "
              f"{entry['pushes']:,.0f} | {entry['edges']:,.0f} | {entry['ms']:.1f} | "
              f"{entry['limit']} / {entry['seeds']} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"summary": summary,
                       "seeds": {f"{v}/p={p:g}": r for (v, p), r in rows.items()}}, handle)


if __name__ == "__main__":
    main()
