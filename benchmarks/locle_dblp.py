"""Locle on DBLP: the annotator alone, random + GCN, LLM-GNN, and Locle, over budgets and
seeds, with the offline embedding annotator and with simulated annotators of known accuracy.

Runs are appended to a JSON Lines file as they finish (a rerun skips the runs already there),
and ``--report`` turns that file into ``benchmarks/results/locle.md``::

    OMP_NUM_THREADS=1 python benchmarks/locle_dblp.py --seeds 0 1 2 --budgets 80 160 320 640
    python benchmarks/locle_dblp.py --report

Protocol: label-free; no split — every node is unlabelled, the methods see only the graph,
the node texts (embedded with all-MiniLM-L6-v2) and the annotator's answers; accuracy is
over all 14,376 nodes against the ground truth, which no method reads (the simulated
annotator reads it, by construction). Model selection uses held-out *annotated* nodes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import platform
import statistics
import time

import torch

from noisygraph import locle
from noisygraph.datasets import load_text_graph
from noisygraph.locle.text import embed_texts

HERE = pathlib.Path(__file__).resolve().parent
RUNS = HERE / "results" / "locle_runs.jsonl"
REPORT = HERE / "results" / "locle.md"
COMMANDS = [
    "export NOISYGRAPH_DATA=../shared/data OMP_NUM_THREADS=1",
    "python benchmarks/locle_dblp.py --budgets 320 --seeds 0 1 2 --sim-accuracies",
    "python benchmarks/locle_dblp.py --budgets 80 160 640 --seeds 0 --sim-accuracies"
    "   # (d) at 640 interrupted for time",
    "python benchmarks/locle_dblp.py --budgets --seeds 0 --methods d --sim-accuracies 0.7 0.9 0.8",
    "python benchmarks/locle_dblp.py --report",
]
FINDINGS = [
    "## Findings (read off the tables above; written by hand)", "",
    "- **Budget 320 (the paper's DBLP budget), 3 seeds: Locle 76.1 ± 0.7 % beats LLM-GNN "
    "73.1 ± 0.7 %, random + GCN 71.7 ± 2.8 % and the annotator alone 64.3 %** — the issue's "
    "target. Of Locle's gain, the rounds (critical-node queries + pseudo-labels) add about 1.6 "
    "points over round 0 and the refinement another 1.6 (per-round table).",
    "- **Smaller budgets (80, 160; one seed): Locle does not beat LLM-GNN** (70.2 vs 70.5 % at 80, "
    "68.9 vs 73.6 % at 160). Its defaults (30 % filter, 3 pseudo-labels per question) were set at "
    "budget 320, seed 0; with 40–80 initial questions the filter leaves few labels, and the "
    "critical nodes it queries are those the zero-shot annotator gets wrong most often: the "
    "answers Locle collects are 61–62 % correct, LLM-GNN's density-selected ones 71–74 %, random "
    "ones 63–68 % (column annotation_accuracy of locle_runs.jsonl). Budget 640: Locle not run "
    "(time); LLM-GNN 74.7 %, random 72.2 %.",
    "- **Simulated annotators (one seed): Locle's accuracy does not follow annotator quality here** "
    "— 75.3 / 73.4 / 76.0 % at 70 / 80 / 90 % annotator accuracy, non-monotone and within the "
    "seed-to-seed spread. With 320 questions the GCN on title embeddings + co-author graph, not "
    "the labels, seems to be the ceiling near 76 %, and the 30 % filter discards mostly-correct "
    "answers when the annotator is good. More seeds and a budget sweep would be needed to "
    "separate the effect; not done (time). Baselines (b), (c) were not run with the simulated "
    "annotators.",
    "- The zero-shot annotator reproduces the issue's calibration figure (64.33 % vs 64.3 %), and "
    "its label-free temperature gives well-calibrated confidences (ECE 0.06).",
    "- Seeds: 3 at budget 320, 1 elsewhere — CPU-limited (a Locle fit took 3–7 minutes on one "
    "thread of the shared 2-core machine).", "",
]
METHODS = {"a": "(a) annotator on every node", "b": "(b) random + GCN",
           "c": "(c) LLM-GNN: density + filter + GCN", "d": "(d) Locle (ours)"}


def load():
    data = load_text_graph("dblp")
    classes = [locle.ClassInfo(n, d) for n, d in zip(data.class_names, data.class_descriptions)]
    x = embed_texts(data.text)
    return data, list(data.text), classes, x


def run_method(method, data, texts, classes, x, annotator, budget, seed):
    start = time.perf_counter()
    if method == "a":
        out = locle.annotate_all(texts, classes, annotator, verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    elif method == "b":
        out = locle.random_gcn(data, texts, classes, annotator, budget, x, seed=seed, verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    elif method == "c":
        out = locle.llm_gnn(data, texts, classes, annotator, budget, x, seed=seed, verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    else:
        out = locle.Locle(budget, seed=seed, verbose=False).fit(data, texts, classes, annotator, x=x)
        rounds = out.score(data.y)["rounds"]
        predictions, queries = out.predictions, out.queries
    seconds = time.perf_counter() - start
    y = data.y
    answered = [a for a in out.annotations if a.ok]
    return {"accuracy": float((predictions == y).float().mean()),
            "annotation_accuracy": sum(a.label == int(y[a.node]) for a in answered) / max(len(answered), 1),
            "queries": queries, "seconds": round(seconds, 1), "rounds": rounds}


def calibration(annotations, y, bins=10):
    """Expected calibration error and the accuracy per confidence decile (reporting only)."""
    conf = torch.tensor([a.confidence for a in annotations])
    correct = torch.tensor([float(a.label == int(y[a.node])) for a in annotations])
    edges = torch.quantile(conf, torch.linspace(0, 1, bins + 1))
    ece, rows = 0.0, []
    for b in range(bins):
        inside = (conf >= edges[b]) & ((conf < edges[b + 1]) if b < bins - 1 else (conf <= edges[b + 1]))
        if inside.any():
            ece += float(inside.float().mean()) * abs(float(conf[inside].mean() - correct[inside].mean()))
            rows.append((float(conf[inside].mean()), float(correct[inside].mean())))
    return ece, rows


def done_keys(path):
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        keys.add((record["annotator"], record["method"], record["budget"], record["seed"]))
    return keys


def experiments(args):
    data, texts, classes, x = load()
    torch.manual_seed(0)
    embedding = locle.EmbeddingAnnotator(corpus=texts, corpus_embeddings=x, verbose=False)
    done = done_keys(args.out)
    plan = []
    if ("embedding", "a", 0, 0) not in done:
        plan.append(("embedding", "a", 0, 0))
    for budget in args.budgets:
        for seed in args.seeds:
            for method in args.methods:
                plan.append(("embedding", method, budget, seed))
    for accuracy in args.sim_accuracies:
        for seed in args.seeds:
            for method in args.methods:
                plan.append((f"simulated-{accuracy}", method, args.sim_budget, seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for key in plan:
        if key in done:
            continue
        name, method, budget, seed = key
        annotator = embedding if name == "embedding" else locle.SimulatedAnnotator(
            data.y, float(name.split("-")[1]), data.num_classes, seed=seed)
        record = {"annotator": name, "method": method, "budget": budget, "seed": seed,
                  **run_method(method, data, texts, classes, x, annotator, budget, seed)}
        if name == "embedding" and method == "a":
            full = embedding.annotate(texts, list(range(len(texts))), classes, verbose=False)
            record["ece"], record["reliability"] = calibration(full, data.y)
            record["temperature"] = embedding.temperature
        with open(args.out, "a") as out:
            out.write(json.dumps(record) + "\n")
        print(f"{name:15s} {method} budget {budget:4d} seed {seed}: accuracy "
              f"{record['accuracy']:.4f} ({record['seconds']} s)", flush=True)


def mean_std(values):
    values = [100 * v for v in values]
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.pstdev(values):.2f}"


def report(args):
    records = [json.loads(line) for line in args.out.read_text().splitlines()]
    by = {}
    for r in records:
        by.setdefault((r["annotator"], r["method"], r["budget"]), []).append(r)
    lines = ["# Locle on DBLP (label-free node classification)", "",
             f"Machine: {platform.machine()} 2-core, AVX2, torch {torch.__version__} CPU, "
             f"one thread per run (OMP_NUM_THREADS=1, nice 10: the machine was shared by six "
             f"developers, so wall times are pessimistic); noisygraph backend `{__import__('noisygraph').backend()}`. "
             f"Date: {datetime.date.today().isoformat()}.", "",
             "Commands (each appends to `benchmarks/results/locle_runs.jsonl`, skipping runs "
             "already there):", "", "```", *COMMANDS, "```", "",
             "Protocol: DBLP text graph (14,376 paper titles, co-author edges, 4 classes). Label-free: "
             "no node label is visible to any method; features are all-MiniLM-L6-v2 title "
             "embeddings; the only labels come from the annotator, within the budget (number of "
             "questions). Model selection (GCN epoch) on 20 % held-out *annotated* nodes; Locle's "
             "rounds are combined by fixed geometric weights, nothing is selected on ground truth. "
             "Accuracy over all nodes against the ground truth; mean ± population std over seeds "
             "(seed = k-means / GCN / split / random-selection seed; the embedding annotator is "
             "deterministic).", ""]
    a = by.get(("embedding", "a", 0))
    if a:
        r = a[0]
        lines += ["## Offline embedding annotator (all-MiniLM-L6-v2 zero-shot)", "",
                  f"(a) alone on every node: **{100 * r['accuracy']:.2f} %** (calibration reference "
                  f"from the issue: 64.3 %), 14,376 queries, $0. Confidence = softmax of cosine / T with "
                  f"T = {r['temperature']:.4f} fitted without labels (spread of centred similarities); "
                  f"expected calibration error {r['ece']:.3f} (10 equal-mass bins; confidence → "
                  f"accuracy: " + ", ".join(f"{c:.2f}→{acc:.2f}" for c, acc in r["reliability"]) + ").",
                  ""]
    budgets = sorted({k[2] for k in by if k[0] == "embedding" and k[2] > 0})
    if budgets:
        lines += ["| budget | " + " | ".join(METHODS[m] for m in "bcd") + " | seeds |",
                  "| --- | --- | --- | --- | --- |"]
        for budget in budgets:
            cells = [mean_std([r["accuracy"] for r in by.get(("embedding", m, budget), [])])
                     if by.get(("embedding", m, budget)) else "–" for m in "bcd"]
            seeds = len(by.get(("embedding", "d", budget), []))
            lines.append(f"| {budget} | " + " | ".join(cells) + f" | {seeds} |")
        lines += ["", "Accuracy in % over all nodes. (a) uses 14,376 queries; (b)–(d) use the budget.", ""]
        d320 = by.get(("embedding", "d", 320))
        if d320:
            lines += ["Locle per round at budget 320 (mean accuracy % over seeds; the ensemble after "
                      "each round, last row after refinement):", "",
                      "| round | queries | LLM labels | pseudo-labels | held-out agreement | accuracy |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for i, row in enumerate(d320[0]["rounds"]):
                accs = [r["rounds"][i]["accuracy"] for r in d320]
                agree = [r["rounds"][i]["heldout_agreement"] for r in d320]
                lines.append(f"| {row['round']} | {row['queries']} | {row['llm_labels']} | "
                             f"{row['pseudo_labels']} | {100 * statistics.mean(agree):.1f} | "
                             f"{100 * statistics.mean(accs):.2f} |")
            lines.append("")
    sims = sorted({k[0] for k in by if k[0].startswith("simulated")})
    if sims:
        lines += [f"## Simulated annotator (a SIMULATION reading the ground truth), budget "
                  f"{args.sim_budget}", "",
                  "| annotator accuracy | " + " | ".join(METHODS[m] for m in "bcd") + " | seeds |",
                  "| --- | --- | --- | --- | --- |"]
        for name in sims:
            budget = next(k[2] for k in by if k[0] == name)
            cells = [mean_std([r["accuracy"] for r in by.get((name, m, budget), [])])
                     if by.get((name, m, budget)) else "–" for m in "bcd"]
            lines.append(f"| {name.split('-')[1]} | " + " | ".join(cells) +
                         f" | {len(by.get((name, 'd', budget), []))} |")
        lines.append("")
    seconds = [r["seconds"] for r in records if r["method"] == "d"]
    if seconds:
        lines += [f"Wall time of one Locle fit at these budgets: median {statistics.median(seconds):.0f} s "
                  f"(single thread, shared machine).", ""]
    lines += FINDINGS
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budgets", type=int, nargs="*", default=[320, 80, 160, 640])
    parser.add_argument("--methods", nargs="+", default=["b", "c", "d"], choices=["b", "c", "d"])
    parser.add_argument("--sim-accuracies", type=float, nargs="*", default=[0.7, 0.8, 0.9])
    parser.add_argument("--sim-budget", type=int, default=320)
    parser.add_argument("--out", type=pathlib.Path, default=RUNS)
    parser.add_argument("--report", action="store_true", help="only write the markdown report")
    args = parser.parse_args()
    if args.report:
        report(args)
    else:
        experiments(args)


if __name__ == "__main__":
    main()
