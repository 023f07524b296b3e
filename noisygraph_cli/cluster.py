"""``noisygraph cluster``: a local cluster around seed nodes, with noisy labels.

The target of a seed node is its true class; the noisy labels are the binary "in target"
labels corrupted by the noise model ``--noise`` at rate ``--rate``
(``add_label_noise(kind=--noise, num_classes=2)``): with two classes ``uniform`` (the
default, the papers' protocol), ``pair``, ``pair_cyclic`` and ``random`` all flip each label
independently with probability ``--rate``; ``instance`` flips a node with its own
probability, towards the class whose feature mean it resembles (it needs node features). F1 is measured
against the seed node's true class. ``--seed`` is the random seed (of the label noise and of
``--node random:K`` draws), as in every subcommand; the seed nodes are ``--node``.

    noisygraph cluster --dataset coauthor_cs --node 0 --rate 0.2
    noisygraph cluster --dataset amazon_photo --node random:20 --method ppr --json out.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import TYPE_CHECKING

from noisygraph_cli._common import (UsageError, add_json, add_noise, add_plot, add_quiet, add_rate,
                                    add_root, add_seed, add_threads, check_number, check_output,
                                    check_root, check_threads, load_dataset_flag, round_floats,
                                    set_threads)
from noisygraph_cli.choices import CLUSTER_METHODS

if TYPE_CHECKING:
    from torch import Tensor

DEFAULT_SEED = 0
DEFAULT_MAX_PUSHES = 10_000_000
MAX_SEED = 2**40  # the noise seed of a class is seed * 1000 + class


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True,
                        help="data set name (e.g. coauthor_cs, amazon_photo, cora)")
    add_root(parser)
    parser.add_argument("--node", action="append", required=True, metavar="N|random:K",
                        help="seed node id; repeat it for several, or random:K for K random "
                             "seed nodes among the nodes with edges")
    add_noise(parser, default="uniform", help="label-noise kind of the binary target labels "
              "(with two classes all but instance flip each label independently)")
    add_rate(parser, default=0.0, help="flip rate of the binary target labels, in [0, 0.5)")
    add_seed(parser, default=DEFAULT_SEED, seeds="the label noise and the random:K seed nodes",
             accepted="[0, 2**40]")
    parser.add_argument("--method", choices=CLUSTER_METHODS, default="flow",
                        help="flow: l2 flow diffusion (default); ppr: ACL PageRank push")
    parser.add_argument("--weighting", choices=("labels", "none"), default="labels",
                        help="labels: diffuse on the label-weighted graph (default); none: unweighted")
    parser.add_argument("--cross-weight", type=float, default=0.05,
                        help="weight of edges not inside the labelled target, in (0, 1] "
                             "(default 0.05)")
    parser.add_argument("--vote-rounds", type=int, default=1,
                        help="rounds of neighbourhood majority vote on the labels before "
                             "weighting; 0 weights by the raw labels as the paper (default 1)")
    parser.add_argument("--volume", choices=("estimate", "true"), default="estimate",
                        help="target volume: estimated from the noisy labels alone (default; "
                             "the flip rate is estimated too) or the true class volume (the "
                             "papers' protocol)")
    parser.add_argument("--p", type=float, default=2.0, metavar="P",
                        help="flow norm of method flow, finite and >= 2: 2 is the l2 flow "
                             "diffusion (default); larger p, the p-norm flow diffusion, is "
                             "closer to a min-cut")
    parser.add_argument("--max-pushes", type=int, default=DEFAULT_MAX_PUSHES,
                        help="push limit per seed and diffusion level; a seed that reaches it "
                             f"is reported with a warning (default {DEFAULT_MAX_PUSHES:,})")
    add_threads(parser)
    add_json(parser)
    add_plot(parser, help="plot each seed's sweep profile (conductance, and F1 against its true "
                          "class, of every sweep prefix; the returned cluster dotted)")
    add_quiet(parser)


def _seed_specs(values: list[str]) -> list[tuple[str, int]]:
    """``--node`` values as ``("node", id)`` or ``("random", count)``, checked for syntax and
    sign (the graph size is checked once it is loaded)."""
    specs = []
    for value in values:
        text = value.strip()
        kind = "random" if text.startswith("random:") else "node"
        number = text.split(":", 1)[1] if kind == "random" else text
        try:
            count = int(number)
        except ValueError:
            raise UsageError("--node", "must be a node id (an integer >= 0) or random:K (K an "
                                       f"integer >= 1), got {value!r}") from None
        if kind == "random" and count < 1:
            raise UsageError("--node", f"random:K needs K >= 1, got {value!r}")
        if kind == "node" and count < 0:
            raise UsageError("--node", f"a node id must be >= 0, got {value!r}")
        specs.append((kind, count))
    return specs


def validate(args: argparse.Namespace) -> None:
    """Checks every flag before any data is loaded."""
    if args.dataset.strip().lower() == "csbm":
        raise UsageError("--dataset", "csbm needs generator options; cluster runs on stored "
                                      "data sets (see `noisygraph data list`)")
    check_root(args.root)
    _seed_specs(args.node)
    check_number(args.rate, "--rate", low=0.0, high=0.5, high_open=True)
    check_number(args.cross_weight, "--cross-weight", low=0.0, high=1.0, low_open=True)
    check_number(args.p, "--p", low=2.0)
    if args.p != 2.0 and args.method != "flow":
        raise UsageError("--p", "applies to --method flow only")
    if args.vote_rounds < 0:
        raise UsageError("--vote-rounds", f"must be >= 0, got {args.vote_rounds}")
    if args.max_pushes < 1:
        raise UsageError("--max-pushes", f"must be >= 1, got {args.max_pushes}")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError("--seed", f"must be in [0, 2**40], got {args.seed}")
    check_threads(args.threads)
    check_output("--json", args.json)
    check_output("--plot", args.plot)


def _parse_seeds(values: list[str], num_nodes: int, degree: Tensor, seed: int) -> list[int]:
    """The seed nodes: explicit ids (in range, not isolated) and ``random:N`` draws among the
    nodes with edges."""
    import torch

    seeds: list[int] = []
    candidates = (degree > 0).nonzero().flatten()
    for kind, number in _seed_specs(values):
        if kind == "random":
            if number > candidates.numel():
                raise UsageError("--node", f"random:{number} asks for more seeds than "
                                           f"the {candidates.numel()} nodes with edges")
            generator = torch.Generator().manual_seed(seed)
            pick = torch.randperm(candidates.numel(), generator=generator)[:number]
            seeds.extend(candidates[pick].tolist())
            continue
        if number >= num_nodes:
            raise UsageError("--node", f"{number} is outside the graph's nodes [0, {num_nodes})")
        if degree[number] <= 0:
            raise UsageError("--node", f"{number} is an isolated node (no edges)")
        seeds.append(number)
    return seeds


def run(args: argparse.Namespace) -> int:
    from noisygraph.cluster import LocalGraph, local_cluster_batch
    from noisygraph.noise import add_label_noise
    from tqdm.auto import tqdm

    set_threads(args.threads)
    data = load_dataset_flag(args.dataset, args.root)
    graph = LocalGraph.from_graph(data)
    seeds = _parse_seeds(args.node, graph.num_nodes, graph.degree, args.seed)
    y = data.y
    records: list[dict] = []
    by_class: dict[int, list[int]] = {}
    for node in seeds:
        by_class.setdefault(int(y[node]), []).append(node)
    if args.noise == "instance" and getattr(data, "x", None) is None:
        raise UsageError("--noise", f"instance noise needs node features; {args.dataset} has none")
    classes = tqdm(by_class.items(), desc="target classes", unit="class", leave=False,
                   disable=args.quiet or len(by_class) < 2)
    results_of: list = []
    try:
        for target, class_seeds in classes:
            true = y == target
            noisy = add_label_noise(true.long(), args.noise, args.rate,
                                    seed=args.seed * 1000 + target, num_classes=2,
                                    x=data.x if args.noise == "instance" else None).y_noisy.bool()
            results = local_cluster_batch(
                graph, seed_nodes=class_seeds,
                labels=noisy if args.weighting == "labels" else None, method=args.method,
                cross_weight=args.cross_weight,
                vote_rounds=args.vote_rounds,
                target_volume=true if args.volume == "true" else None,
                max_pushes=args.max_pushes, p=args.p)
            for result in results:
                results_of.append((result, true))
                record = result.to_dict()
                record.update(f1=result.f1(true), target_class=target, true_size=int(true.sum()))
                records.append(record)
    except KeyboardInterrupt:
        if args.json and records:  # keep the target classes already finished
            _write_json(args, _in_seed_order(records, seeds), interrupted=True)
        raise
    records = _in_seed_order(records, seeds)
    norm = f" (p={args.p:g})" if args.method == "flow" else ""
    print(f"{args.dataset}: {graph.num_nodes} nodes, method={args.method}{norm}, "
          f"weighting={args.weighting}, noise={args.noise}, flip rate={args.rate:.0%}, "
          f"volume={args.volume}")
    print(f"{'seed':>8} {'class':>5} {'size':>6} {'true':>6} {'conductance':>11} {'F1':>6} "
          f"{'ms/seed*':>8} {'pushes':>9}")
    for r in records:
        print(f"{r['seed']:>8} {r['target_class']:>5} {r['size']:>6} {r['true_size']:>6} "
              f"{r['conductance']:>11.4f} {r['f1']:>6.3f} {r['ms']:>8.1f} {r['work']['pushes']:>9}")
    if len(records) > 1:
        print(f"mean F1 {statistics.fmean(r['f1'] for r in records):.3f}, median ms/seed* "
              f"{statistics.median(r['ms'] for r in records):.1f}")
    if any(len(class_seeds) > 1 for class_seeds in by_class.values()):
        print("* the seed nodes of one target class run as one batch; ms/seed is that batch's "
              "wall time divided by its seed nodes")
    else:
        print("* ms/seed: wall time of the seed node's query")
    for r in records:
        if r["hit_push_limit"]:
            print(f"noisygraph cluster: warning: seed {r['seed']} stopped at the push limit "
                  f"({r['work']['pushes']:,} pushes; --max-pushes {args.max_pushes:,} per "
                  "diffusion level): its diffusion did not converge, so its cluster may be "
                  "incomplete", file=sys.stderr)
    if args.json:
        _write_json(args, records)
    if args.plot:
        from noisygraph.plotting import plot_sweep_profiles

        order = {node: i for i, node in enumerate(seeds)}
        results_of.sort(key=lambda pair: order[pair[0].seed])
        plot_sweep_profiles(graph, [r for r, _ in results_of], args.plot,
                            truth=[t for _, t in results_of],
                            title=f"{args.method} on {args.dataset}, {args.noise} noise "
                                  f"{args.rate:.0%}")
    return 0


def _in_seed_order(records: list[dict], seeds: list[int]) -> list[dict]:
    order = {node: i for i, node in enumerate(seeds)}
    return sorted(records, key=lambda r: order[r["seed"]])


def _write_json(args: argparse.Namespace, records: list[dict], interrupted: bool = False) -> None:
    """One seed: its record; several: ``results``, ``f1_mean``, ``ms_median`` (and
    ``interrupted`` when Ctrl-C stopped the run after some target classes)."""
    if len(records) == 1 and not interrupted:
        payload = dict(records[0])
    else:
        payload = {"results": records, "f1_mean": statistics.fmean(r["f1"] for r in records),
                   "ms_median": statistics.median(r["ms"] for r in records)}
        if interrupted:
            payload["interrupted"] = True
    payload.update(dataset=args.dataset, noise=args.noise, rate=args.rate, seed=args.seed,
                   method=args.method, weighting=args.weighting, volume=args.volume,
                   max_pushes=args.max_pushes, p=args.p)
    with open(args.json, "w") as handle:
        json.dump(round_floats(payload), handle, indent=1)
