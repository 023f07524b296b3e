"""F1 of local clustering with noisy labels: flow diffusion on the unweighted graph, the noisy
labels alone, flow diffusion on the label-weighted graph, ACL PageRank (both graphs).

Protocol (the papers'): every class is a target in turn; seeds are up to ``--seeds`` random
nodes of the class (non-isolated, seeded); binary labels "in target" are flipped
independently with probability r on every node (``add_label_noise(kind="uniform",
num_classes=2)``); source mass = a x vol(true class) for a in (1.5, 2, 2.5, 3, 4, 5) (masses
above half the graph's volume dropped), lowest conductance kept; the label-weighted graph
uses the "target" weighting (cross weight 0.05) after one round of neighbourhood majority
vote on the labels (the library's default; "c_flow_paper" weights by the raw labels, as the
paper); "c-est" replaces the true volume by the ground-truth-free estimate from the noisy
labels, with the flip rate estimated from them too (``estimate_flip_rate``). ACL: alpha 0.05,
tolerances 1/(a x vol). F1 per seed, mean over the seeds of a class, then mean (and std)
over classes.

    python benchmarks/cluster_f1.py --datasets coauthor_cs amazon_photo cora --seeds 10
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from tqdm import tqdm

from noisygraph.cluster import LocalGraph, few_sample_labels, local_cluster_batch
from noisygraph.datasets import load_dataset
from noisygraph.metrics import f1_score
from noisygraph.noise import add_label_noise

METHODS = ("a_flow", "b_labels", "c_flow_paper", "c_flow_weighted", "c_est_volume", "d_acl",
           "d_acl_weighted")


def class_seeds(graph: LocalGraph, y: torch.Tensor, c: int, count: int, seed: int) -> list[int]:
    members = (y == c).nonzero().flatten()
    members = members[graph.degree[members] > 0]
    generator = torch.Generator().manual_seed(seed * 1000 + c)
    return members[torch.randperm(members.numel(), generator=generator)[:count]].tolist()


def mean_f1(results, true: torch.Tensor) -> float:
    return statistics.fmean(r.f1(true) for r in results)


LABEL_FREE = {"a_flow": dict(labels=None), "d_acl": dict(labels=None, method="ppr")}


def label_free_f1(graph, seeds, true, timings) -> dict[str, float]:
    """The methods that read no labels (the same at every flip rate: run once per class)."""
    out = {}
    for name, kwargs in LABEL_FREE.items():
        start = time.perf_counter()
        results = local_cluster_batch(graph, seed_nodes=seeds, target_volume=true, **kwargs)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        out[name] = mean_f1(results, true)
    return out


def evaluate_target(graph, seeds, true, noisy, timings) -> dict[str, float]:
    """The label-reading methods for one target class and one labelling."""
    out = {"b_labels": f1_score(noisy, true)}
    runs = {
        "c_flow_paper": dict(labels=noisy, target_volume=true, vote_rounds=0),
        "c_flow_weighted": dict(labels=noisy, target_volume=true),
        "c_est_volume": dict(labels=noisy, target_volume=None),
        "d_acl_weighted": dict(labels=noisy, target_volume=true, method="ppr"),
    }
    for name, kwargs in runs.items():
        start = time.perf_counter()
        results = local_cluster_batch(graph, seed_nodes=seeds, **kwargs)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        out[name] = mean_f1(results, true)
    return out


def noise_experiment(name: str, rates, num_seeds: int, seed: int) -> dict:
    data = load_dataset(name)
    graph = LocalGraph.from_graph(data)
    y = data.y
    num_classes = int(y.max()) + 1
    table: dict = {}
    timings: dict = {}
    seeds = {c: class_seeds(graph, y, c, num_seeds, seed) for c in range(num_classes)}
    label_free = {c: label_free_f1(graph, seeds[c], y == c, timings) for c in range(num_classes)}
    label_free_queries = sum(map(len, seeds.values()))
    queries = 0
    for rate in rates:
        per_class = {m: [] for m in METHODS}
        for c in tqdm(range(num_classes), desc=f"{name} r={rate}", leave=False):
            true = y == c
            noisy = add_label_noise(true.long(), "uniform", rate, seed=seed * 100 + c,
                                    num_classes=2).y_noisy.bool()
            scores = dict(label_free[c])
            scores.update(evaluate_target(graph, seeds[c], true, noisy, timings))
            for m, v in scores.items():
                per_class[m].append(v)
            queries += len(seeds[c])
        table[rate] = {m: (statistics.fmean(v), statistics.pstdev(v)) for m, v in per_class.items()}
    ms = {m: 1e3 * t / (label_free_queries if m in LABEL_FREE else queries)
          for m, t in timings.items()}
    return {"table": table, "ms_per_seed": ms,
            "num_classes": num_classes, "seeds_per_class": num_seeds}


def few_sample_experiment(per_class_counts, num_seeds: int, seed: int) -> dict:
    """Labels predicted by a logistic regression on k labelled nodes per class. The
    "estimated volume" column estimates the flip rate from the labels too."""
    data = load_dataset("cora")
    graph = LocalGraph.from_graph(data)
    y = data.y
    num_classes = int(y.max()) + 1
    table = {}
    for k in per_class_counts:
        predicted = few_sample_labels(data.x, y, k, seed=seed)
        per_class = {m: [] for m in METHODS}
        error = float((predicted != y).float().mean())
        for c in range(num_classes):
            true = y == c
            seeds = class_seeds(graph, y, c, num_seeds, seed)
            labels = predicted == c
            scores = label_free_f1(graph, seeds, true, {})
            scores.update(evaluate_target(graph, seeds, true, labels, {}))
            for m, v in scores.items():
                per_class[m].append(v)
        table[k] = {"classifier_error": error,
                    **{m: (statistics.fmean(v), statistics.pstdev(v)) for m, v in per_class.items()}}
    return table


def markdown(results: dict, few: dict, args) -> str:
    lines = []
    header = ("| data set | flip rate | (a) flow unweighted | (b) labels alone | (c) flow, raw-label "
              "weights (paper) | (c) flow label-weighted (default: voted labels) | (c) with "
              "estimated volume | (d) ACL unweighted | (d) ACL label-weighted | (c) - max(a, b) "
              "| (c paper) - max(a, b) |")
    for name, res in results.items():
        lines.append(f"\n### {name} ({res['num_classes']} target classes, up to "
                     f"{res['seeds_per_class']} seeds per class)\n")
        lines.append(header)
        lines.append("|" + "---|" * 11)
        for rate, row in res["table"].items():
            cells = " | ".join(f"{row[m][0]:.3f} ± {row[m][1]:.3f}" for m in METHODS)
            best_baseline = max(row["a_flow"][0], row["b_labels"][0])
            gain = row["c_flow_weighted"][0] - best_baseline
            gain_paper = row["c_flow_paper"][0] - best_baseline
            lines.append(f"| {name} | {rate:.0%} | {cells} | {gain:+.3f} | {gain_paper:+.3f} |")
        ms = ", ".join(f"{m} {v:.1f} ms" for m, v in res["ms_per_seed"].items())
        lines.append(f"\nWall time per seed (all 6 levels + sweeps, batch of a class's seeds, "
                     f"{torch.get_num_threads()} threads): {ms}.")
    if few:
        lines.append("\n### Cora, labels from few samples (logistic regression on the features, "
                     "k labelled nodes per class; its predictions are the noisy labels)\n")
        lines.append("| k per class | classifier error | (a) flow unweighted | (b) labels alone | "
                     "(c) flow, raw-label weights (paper) | (c) flow label-weighted (voted) | "
                     "(c) with estimated volume | (d) ACL unweighted | (d) ACL label-weighted |")
        lines.append("|" + "---|" * 9)
        for k, row in few.items():
            cells = " | ".join(f"{row[m][0]:.3f} ± {row[m][1]:.3f}" for m in METHODS)
            lines.append(f"| {k} | {row['classifier_error']:.3f} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["coauthor_cs", "amazon_photo", "cora"])
    parser.add_argument("--rates", nargs="+", type=float, default=[0.0, 0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--seeds", type=int, default=100, help="seeds per class (at most)")
    parser.add_argument("--few", nargs="*", type=int, default=[5, 20],
                        help="labelled nodes per class for the few-samples setting on Cora")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch/OpenMP threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {}
    for name in args.datasets:
        results[name] = noise_experiment(name, args.rates, args.seeds, args.seed)
        print(markdown({name: results[name]}, {}, args), flush=True)
    few = few_sample_experiment(args.few, args.seeds, args.seed) if args.few else {}
    text = markdown(results, few, args)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(text)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"noise": {n: {"table": {str(r): v for r, v in res["table"].items()},
                                     "ms_per_seed": res["ms_per_seed"]}
                                 for n, res in results.items()},
                       "few": {str(k): v for k, v in few.items()}}, handle, indent=1)


if __name__ == "__main__":
    main()
