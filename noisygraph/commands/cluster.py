"""``noisygraph cluster``: a local cluster around seed nodes, with noisy labels.

The target of a seed is its true class; the noisy labels are the binary "in target" labels
with each flipped independently with probability ``--noise``
(``add_label_noise(kind="uniform", num_classes=2)``), the papers' protocol. F1 is measured
against the seed's true class.

    noisygraph cluster --dataset coauthor_cs --seed 0 --noise 0.2
    noisygraph cluster --dataset amazon_photo --seed random:20 --method ppr --json out.json
"""
from __future__ import annotations

import argparse
import json
import statistics

import torch

DEFAULT_NOISE_SEED = 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True,
                        help="data set name (e.g. coauthor_cs, amazon_photo, cora)")
    parser.add_argument("--seed", action="append", required=True,
                        help="seed node id; repeat it for several, or random:N for N random seeds")
    parser.add_argument("--noise", type=float, default=0.0,
                        help="flip rate of the binary target labels, in [0, 0.5) (default 0)")
    parser.add_argument("--method", choices=("flow", "ppr"), default="flow",
                        help="flow: l2 flow diffusion (default); ppr: ACL PageRank push")
    parser.add_argument("--weighting", choices=("labels", "none"), default="labels",
                        help="labels: diffuse on the label-weighted graph (default); none: unweighted")
    parser.add_argument("--cross-weight", type=float, default=0.05,
                        help="weight of edges not inside the labelled target (default 0.05)")
    parser.add_argument("--vote-rounds", type=int, default=1,
                        help="rounds of neighbourhood majority vote on the labels before "
                             "weighting; 0 weights by the raw labels as the paper (default 1)")
    parser.add_argument("--volume", choices=("estimate", "true"), default="estimate",
                        help="target volume: estimated from the noisy labels alone (default; "
                             "the flip rate is estimated too) or the true class volume (the "
                             "papers' protocol)")
    parser.add_argument("--noise-seed", type=int, default=DEFAULT_NOISE_SEED,
                        help="random seed of the label noise and of random:N seeds")
    parser.add_argument("--json", default=None, help="write the results to this JSON file")


def _parse_seeds(values: list[str], num_nodes: int, degree: torch.Tensor, seed: int) -> list[int]:
    seeds: list[int] = []
    for value in values:
        if value.startswith("random:"):
            try:
                count = int(value.split(":", 1)[1])
            except ValueError:
                raise SystemExit(f"--seed random:N needs an integer N, got {value!r}")
            candidates = (degree > 0).nonzero().flatten()
            generator = torch.Generator().manual_seed(seed)
            pick = torch.randperm(candidates.numel(), generator=generator)[:count]
            seeds.extend(candidates[pick].tolist())
        else:
            try:
                seeds.append(int(value))
            except ValueError:
                raise SystemExit(f"--seed must be a node id or random:N, got {value!r}")
    for node in seeds:
        if not 0 <= node < num_nodes:
            raise SystemExit(f"--seed {node} is outside the graph's nodes [0, {num_nodes})")
    return seeds


def run(args: argparse.Namespace) -> int:
    from noisygraph.cluster import LocalGraph, local_cluster_batch
    from noisygraph.datasets import load_dataset
    from noisygraph.noise import add_label_noise

    if not 0 <= args.noise < 0.5:
        raise SystemExit(f"--noise must be in [0, 0.5), got {args.noise}")
    if args.vote_rounds < 0:
        raise SystemExit(f"--vote-rounds must be >= 0, got {args.vote_rounds}")
    data = load_dataset(args.dataset)
    graph = LocalGraph.from_graph(data)
    seeds = _parse_seeds(args.seed, graph.num_nodes, graph.degree, args.noise_seed)
    y = data.y
    records = []
    by_class: dict[int, list[int]] = {}
    for node in seeds:
        by_class.setdefault(int(y[node]), []).append(node)
    for target, class_seeds in by_class.items():
        true = y == target
        noisy = add_label_noise(true.long(), "uniform", args.noise, seed=args.noise_seed * 1000 + target,
                                num_classes=2).y_noisy.bool()
        results = local_cluster_batch(
            graph, class_seeds, labels=noisy if args.weighting == "labels" else None,
            method=args.method, cross_weight=args.cross_weight, vote_rounds=args.vote_rounds,
            target_volume=true if args.volume == "true" else None)
        for result in results:
            record = result.to_dict()
            record.update(f1=result.f1(true), target_class=target, true_size=int(true.sum()))
            records.append(record)
    order = {node: i for i, node in enumerate(seeds)}
    records.sort(key=lambda r: order[r["seed"]])
    print(f"{args.dataset}: {graph.num_nodes} nodes, method={args.method}, "
          f"weighting={args.weighting}, noise={args.noise:.0%}, volume={args.volume}")
    print(f"{'seed':>8} {'class':>5} {'size':>6} {'true':>6} {'conductance':>11} {'F1':>6} "
          f"{'ms':>8} {'pushes':>9}")
    for r in records:
        print(f"{r['seed']:>8} {r['target_class']:>5} {r['size']:>6} {r['true_size']:>6} "
              f"{r['conductance']:>11.4f} {r['f1']:>6.3f} {r['ms']:>8.1f} {r['work']['pushes']:>9}")
    f1_mean = statistics.fmean(r["f1"] for r in records)
    ms_median = statistics.median(r["ms"] for r in records)
    if len(records) > 1:
        print(f"mean F1 {f1_mean:.3f}, median ms per seed {ms_median:.1f}")
    if args.json:
        payload = dict(records[0]) if len(records) == 1 else {
            "results": records, "f1_mean": f1_mean, "ms_median": ms_median}
        payload.update(dataset=args.dataset, noise=args.noise, method=args.method,
                       weighting=args.weighting, volume=args.volume)
        with open(args.json, "w") as handle:
            json.dump(payload, handle, indent=1)
    return 0
