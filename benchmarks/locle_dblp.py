"""Locle on DBLP: the annotator alone, random + GCN, LLM-GNN, and Locle, over budgets and
seeds, with the offline embedding annotator.

Two steps, each resumable (finished runs / trials are appended to a JSON Lines file and a
rerun skips them)::

    # 1. choose every searched default without ground truth (writes results/locle_defaults.json)
    python benchmarks/locle_dblp.py --choose-defaults --threads 1
    # 2. report every method with those defaults on seeds never used for choosing
    python benchmarks/locle_dblp.py --threads 1 --budgets 320 640 80 160 --seeds 1 2 3
    python benchmarks/locle_dblp.py --report

Protocol: label-free; no split — every node is unlabelled, the methods see only the graph,
the node texts (embedded with all-MiniLM-L6-v2) and the annotator's answers; accuracy is
over all 14,376 nodes against the ground truth, which no method reads. Choosing the defaults
reads only the annotator's answers on 1,000 random held-out nodes (the search runs on a copy
of the graph without ``y``); see :mod:`noisygraph.locle.tuning`.
"""
from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import pathlib
import platform
import statistics
import time

import torch
from torch_geometric.data import Data

from noisygraph import locle
from noisygraph.datasets import load_text_graph
from noisygraph.locle import tuning
from noisygraph.locle.text import embed_texts

HERE = pathlib.Path(__file__).resolve().parent
RUNS = HERE / "results" / "locle_runs.jsonl"
TRIALS = HERE / "results" / "locle_search_trials.jsonl"
DEFAULTS = HERE / "results" / "locle_defaults.json"
REPORT = HERE / "results" / "locle.md"

# ---- the default search (label-free); its seeds are never reported
CHOICE_SEEDS = [100, 101]
CHOICE_BUDGETS = [80, 320]
HELDOUT_SIZE = 1000
HELDOUT_SEED = 2024
#: starting points = the defaults before the search; the search tries each option in order
SEARCH = {
    "random": {"start": {"val_fraction": 0.2},
               "grid": {"val_fraction": [0.1, 0.2, 0.3]}},
    "llm-gnn": {"start": {"filter_fraction": 0.3, "val_fraction": 0.2},
                "grid": {"filter_fraction": [0.0, 0.1, 0.2, 0.3, 0.4],
                         "val_fraction": [0.1, 0.2, 0.3]}},
    # (initial_fraction, val_fraction and refine stay at 0.5 / 0.2 / on: a Locle fit takes
    #  minutes on the shared CPU, so only these four options were searched; 0.1 and then 0.01
    #  (~ the last round alone) were added to ensemble_decay after the search chose the
    #  smallest value then in its grid, 0.25 and then 0.1)
    "locle": {"start": {"filter_fraction": 0.3, "pseudo_ratio": 3.0, "confidence_weighting": True,
                        "ensemble_decay": 0.5},
              "grid": {"filter_fraction": [0.0, 0.1, 0.2, 0.3, 0.4],
                       "pseudo_ratio": [0.0, 1.0, 3.0, 5.0],
                       "confidence_weighting": [True, False],
                       "ensemble_decay": [0.01, 0.1, 0.25, 0.5, 1.0]}},
}
#: the pre-search Locle defaults (chosen on test accuracy of DBLP seed 0), run for comparison
OLD_LOCLE = SEARCH["locle"]["start"]

METHODS = {"a": "(a) annotator on every node", "b": "(b) random + GCN",
           "c": "(c) LLM-GNN: density + filter + GCN", "d": "(d) Locle (ours)",
           "d-old": "Locle, pre-search defaults"}
COMMANDS = [
    "export NOISYGRAPH_DATA=../shared/data NOISYGRAPH_CACHE=/tmp/h-locle-cache OMP_NUM_THREADS=1",
    "python benchmarks/locle_dblp.py --choose-defaults --threads 1",
    "python benchmarks/locle_dblp.py --threads 1 --budgets 320 640 80 160 --seeds 1 2 3",
    "python benchmarks/locle_dblp.py --threads 1 --budgets 320 640 80 160 --seeds 1 2 3 --methods d-old",
    "python benchmarks/locle_dblp.py --report",
]
FINDINGS = [
    "## Findings (read off the tables above; written by hand)", "",
    "- **Locle with the label-free defaults, seeds 1–3:** the best method at budget 80 "
    "(73.1 ± 1.3 % vs random + GCN 69.1 ± 3.8 %, LLM-GNN 68.5 ± 2.9 %) and 320 (74.5 ± 0.4 % vs "
    "LLM-GNN 72.5 ± 1.0 %); a tie with LLM-GNN at 160 (71.5 ± 0.6 vs 71.8 ± 2.5 %); **short of "
    "LLM-GNN at 640** (73.6 ± 0.4 vs 74.6 ± 0.1 %). Every GCN method beats the annotator alone "
    "(64.3 %) at every budget.",
    "- **The label-free search did not find better defaults than the earlier, test-chosen "
    "ones at the larger budgets.** Run for comparison only on the same seeds, the pre-search "
    "defaults (30 % filter, 3× pseudo-labels, γ = 0.5) score 76.1 ± 1.7 % at 320 and "
    "77.5 ± 0.4 % at 640 (1.7 and 3.9 points above the chosen ones), 72.8 ± 2.3 % at 160 "
    "(+1.2, within the spread) and 68.2 ± 3.0 % at 80 (5.0 points below). On the choosing seeds "
    "the criterion had put the chosen configuration 3.5 points above the start (76.8 vs 73.3), "
    "so agreement with the annotator on held-out nodes is only a rough proxy for accuracy "
    "here. A likely reason, not tested: the criterion also rewards agreeing with the "
    "annotator's mistakes, and the refinement round — which γ = 0.01 makes practically the "
    "whole prediction — links every node to its most similar labelled nodes in the same "
    "embedding space the zero-shot annotator reads (its agreement with held-out annotations is "
    "89–93 % while its accuracy is 74 %). This comparison came after the choice and changed no "
    "default (that would be choosing on ground truth again). It also shows that the former "
    "headline (76.1 % at 320) is reproduced by defaults that had seen seed-0 test labels.",
    "- Locle's critical-node questions collect worse answers than density selection: 61–63 % "
    "of Locle's annotations are correct, 72–74 % of LLM-GNN's, 61–66 % of random ones (the "
    "uncertain nodes are the ones the zero-shot annotator gets wrong).",
    "- The search is noisy: one configuration's four budget/seed runs spread over 1–4 points, "
    "and several choices are ties in effect, settled by the strict-improvement rule (filter 0.0 "
    "vs 0.2: 73.56 vs 73.40; confidence weighting on vs off: 74.51 vs 74.43; γ 0.01 vs 0.1: "
    "76.80 vs 76.59). γ landed on the smallest value of its grid twice (0.25, then 0.1); the "
    "grid was extended to 0.01, practically the last round alone.",
    "- Not done (CPU time on the shared 2-core machine): searching Locle's other options "
    "(initial share, held-out share, refinement, rewiring, feature α, SVD size), a second pass "
    "of the search, more choosing seeds, simulated annotators of known accuracy, other graphs.",
    "",
]


def load():
    data = load_text_graph("dblp")
    classes = [locle.ClassInfo(n, d) for n, d in zip(data.class_names, data.class_descriptions)]
    x = embed_texts(data.text, verbose=False)
    return data, list(data.text), classes, x


def run_method(method, data, texts, classes, x, annotator, budget, seed):
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    if method == "a":
        out = locle.annotate_all(data, annotator=annotator, texts=texts, classes=classes,
                                 verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    elif method == "b":
        out = locle.random_gcn(data, annotator=annotator, budget=budget, x=x, texts=texts,
                               classes=classes, seed=seed, verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    elif method == "c":
        out = locle.llm_gnn(data, annotator=annotator, budget=budget, x=x, texts=texts,
                            classes=classes, seed=seed, verbose=False)
        predictions, queries, rounds = out.predictions, out.queries, []
    else:
        options = OLD_LOCLE if method == "d-old" else {}
        out = locle.Locle(budget=budget, seed=seed, verbose=False, **options).fit(
            data, annotator=annotator, texts=texts, classes=classes, x=x)
        rounds = out.score(data.y)["rounds"]
        predictions, queries = out.predictions, out.queries
    seconds = time.perf_counter() - start
    y = data.y
    answered = [a for a in out.annotations if a.ok]
    return {"accuracy": float((predictions == y).float().mean()),
            "annotation_accuracy": sum(a.label == int(y[a.node]) for a in answered) / max(len(answered), 1),
            "queries": queries, "seconds": round(seconds, 1),
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)], "rounds": rounds}


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


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def append_jsonl(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as out:
        out.write(json.dumps(record) + "\n")


def check_library_defaults():
    """The report runs the library's defaults: they must be the ones the search chose."""
    if not DEFAULTS.exists():
        raise SystemExit(f"{DEFAULTS} is missing: run --choose-defaults first")
    functions = {"locle": locle.Locle.__init__, "llm-gnn": locle.llm_gnn,
                 "random": locle.random_gcn}
    chosen = json.loads(DEFAULTS.read_text())["methods"]
    for method, result in chosen.items():
        parameters = inspect.signature(functions[method]).parameters
        stale = {k: (parameters[k].default, v) for k, v in result["chosen"].items()
                 if parameters[k].default != v}
        if stale:
            raise SystemExit(f"{method}: library defaults differ from {DEFAULTS.name} "
                             f"(library, chosen): {stale}")


def experiments(args):
    if any(m != "d-old" for m in args.methods):
        check_library_defaults()
    data, texts, classes, x = load()
    annotator = locle.EmbeddingAnnotator(corpus=texts, corpus_embeddings=x, verbose=False)
    done = {(r["method"], r["budget"], r["seed"]) for r in read_jsonl(args.out)}
    plan = [] if ("a", 0, 0) in done else [("a", 0, 0)]
    plan += [(m, b, s) for b in args.budgets for s in args.seeds for m in args.methods]
    for key in plan:
        if key in done:
            continue
        method, budget, seed = key
        record = {"annotator": "embedding", "method": method, "budget": budget, "seed": seed,
                  **run_method(method, data, texts, classes, x, annotator, budget, seed)}
        if method == "a":
            full = annotator.annotate(texts, list(range(len(texts))), classes, verbose=False)
            record["ece"], record["reliability"] = calibration(full, data.y)
            record["temperature"] = annotator.temperature
        append_jsonl(args.out, record)
        print(f"{method:5s} budget {budget:4d} seed {seed}: accuracy {record['accuracy']:.4f} "
              f"({record['seconds']} s, load {record['load']})", flush=True)


def choose_defaults(args):
    """Label-free default search for each method; writes ``locle_defaults.json``."""
    data, texts, classes, x = load()
    unlabelled = Data(edge_index=data.edge_index, num_nodes=data.num_nodes)  # no y at all
    annotator = locle.EmbeddingAnnotator(corpus=texts, corpus_embeddings=x, verbose=False)
    previous = read_jsonl(TRIALS)
    results = {}
    for method in args.choose:
        known = {json.dumps(r["config"], sort_keys=True): r for r in previous
                 if r["method"] == method}

        def evaluate(config, known=known):
            record = known.get(json.dumps(config, sort_keys=True))
            return None if record is None else tuning.Trial(
                record["config"], record["score"], record["scores"], record["unweighted"])

        def save(trial, method=method):
            append_jsonl(TRIALS, {"method": method, "config": trial.config, "score": trial.score,
                                  "scores": trial.scores, "unweighted": trial.unweighted,
                                  "load": round(os.getloadavg()[0], 2),
                                  "time": datetime.datetime.now().isoformat(timespec="seconds")})
            print(f"{method:8s} {trial.config}: {trial.score:.4f} {trial.scores}", flush=True)

        search, answers = tuning.label_free_search(
            method, unlabelled, texts, classes, annotator, x, start=SEARCH[method]["start"],
            grid=SEARCH[method]["grid"], budgets=CHOICE_BUDGETS, seeds=CHOICE_SEEDS,
            heldout_size=HELDOUT_SIZE, heldout_seed=HELDOUT_SEED, on_trial=save,
            evaluate=evaluate)
        results[method] = {"start": SEARCH[method]["start"], "grid": SEARCH[method]["grid"],
                           **search.to_dict()}
    payload = {
        "criterion": "confidence-weighted agreement of the predictions with the offline "
                     "embedding annotator's answers on held-out nodes (noisygraph.locle.tuning."
                     "heldout_agreement), mean over budgets x seeds; no ground truth read",
        "search": "one pass of coordinate ascent in the grid's order, strict improvement "
                  "(noisygraph.locle.tuning.coordinate_search)",
        "heldout": {"size": HELDOUT_SIZE, "seed": HELDOUT_SEED,
                    "usable_answers": sum(a.ok for a in answers),
                    "note": "uniformly random nodes, excluded from every method's selection; "
                            "their answers are outside every budget"},
        "budgets": CHOICE_BUDGETS, "seeds": CHOICE_SEEDS, "dataset": "dblp",
        "annotator": "embedding (all-MiniLM-L6-v2 zero-shot)",
        "date": datetime.date.today().isoformat(), "methods": results}
    if set(args.choose) != set(SEARCH) and DEFAULTS.exists():
        old = json.loads(DEFAULTS.read_text())
        payload["methods"] = {**old.get("methods", {}), **results}
    DEFAULTS.write_text(json.dumps(payload, indent=1) + "\n")
    print(json.dumps({m: r["chosen"] for m, r in payload["methods"].items()}, indent=1))


def mean_std(values):
    values = [100 * v for v in values]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.pstdev(values):.2f}"


def defaults_section():
    if not DEFAULTS.exists():
        return []
    payload = json.loads(DEFAULTS.read_text())
    trial_loads = [r["load"] for r in read_jsonl(TRIALS)]
    lines = ["## How the defaults were chosen (label-free)", "",
             f"Criterion: {payload['criterion']}. Search: {payload['search']}. Held-out nodes: "
             f"{payload['heldout']['size']} drawn with seed {payload['heldout']['seed']} "
             f"({payload['heldout']['note']}). Budgets {payload['budgets']}, seeds "
             f"{payload['seeds']} (never reported). Written to "
             "`benchmarks/results/locle_defaults.json` (every trial, with the agreement per "
             "budget/seed — in the order " + ", ".join(f"{b}/{sd}" for b in payload["budgets"]
                                                      for sd in payload["seeds"]) +
             " — and the unweighted agreement, which was recorded but not used). The search "
             f"ran under a 1-minute load average of {min(trial_loads, default=float('nan')):.1f}–"
             f"{max(trial_loads, default=float('nan')):.1f} (one Locle trial = four fits, "
             "5–17 minutes).", ""]
    for method, result in payload["methods"].items():
        lines += [f"**{method}** — start {result['start']}, chosen **{result['chosen']}**", "",
                  "| configuration (changes from start) | criterion | per budget/seed | "
                  "unweighted agreement |",
                  "| --- | --- | --- | --- |"]
        for trial in result["trials"]:
            diff = {k: v for k, v in trial["config"].items() if result["start"].get(k) != v}
            each = ", ".join(f"{100 * v:.1f}" for v in trial["scores"].values())
            lines.append(f"| {diff or 'start'} | {100 * trial['score']:.2f} | {each} | "
                         f"{100 * trial['unweighted']:.2f} |")
        lines.append("")
    return lines


def report(args):
    records = read_jsonl(args.out)
    by = {}
    for r in records:
        by.setdefault((r["method"], r["budget"]), []).append(r)
    loads = [value for r in records for value in r.get("load", [])]
    lines = ["# Locle on DBLP (label-free node classification)", "",
             f"Machine: {platform.machine()} 2-core, AVX2, torch {torch.__version__} CPU, "
             f"one thread per run (`--threads 1`), shared with other jobs: 1-minute load "
             f"average {min(loads, default=float('nan')):.1f}–{max(loads, default=float('nan')):.1f} "
             f"during the runs (so wall times are pessimistic); noisygraph backend "
             f"`{__import__('noisygraph').backend()}`. Date: {datetime.date.today().isoformat()}.", "",
             "Commands (each appends to a JSON Lines file in `benchmarks/results/`, skipping "
             "what is already there):", "", "```", *COMMANDS, "```", "",
             "Protocol: DBLP text graph (14,376 paper titles, co-author edges, 4 classes). Label-free: "
             "no node label is visible to any method; features are all-MiniLM-L6-v2 title "
             "embeddings; the only labels come from the offline embedding annotator, within the "
             "budget (number of questions). Model selection (GCN epoch) on held-out *annotated* "
             "nodes; Locle's rounds are combined by fixed geometric weights; the defaults were "
             "chosen by agreement with the annotator on held-out nodes (below), on seeds 100 and "
             "101; the reported seeds are 1, 2, 3. Accuracy over all nodes against the ground "
             "truth; mean ± population std over seeds (seed = k-means / GCN / split / "
             "random-selection seed; the embedding annotator is deterministic).", ""]
    a = by.get(("a", 0))
    if a:
        r = a[0]
        lines += ["## Offline embedding annotator (all-MiniLM-L6-v2 zero-shot)", "",
                  f"(a) alone on every node: **{100 * r['accuracy']:.2f} %**, 14,376 queries, $0. "
                  f"Confidence = softmax of cosine / T with T = {r['temperature']:.4f} fitted "
                  f"without labels; expected calibration error {r['ece']:.3f} (10 equal-mass bins; "
                  "confidence → accuracy: " + ", ".join(f"{c:.2f}→{acc:.2f}" for c, acc in r["reliability"])
                  + ").", ""]
    budgets = sorted({k[1] for k in by if k[1] > 0})
    shown = [m for m in ("b", "c", "d", "d-old") if any(k[0] == m for k in by)]
    if budgets:
        lines += ["## Accuracy by budget", "",
                  "| budget | (a) annotator alone | " + " | ".join(METHODS[m] for m in shown) + " | seeds |",
                  "| --- | --- | " + " | ".join("---" for _ in shown) + " | --- |"]
        for budget in budgets:
            cells = [mean_std([r["accuracy"] for r in by.get((m, budget), [])]) for m in shown]
            seeds = sorted({r["seed"] for m in shown for r in by.get((m, budget), [])})
            lines.append(f"| {budget} | {100 * a[0]['accuracy']:.2f} | " if a else f"| {budget} | – | ")
            lines[-1] += " | ".join(cells) + f" | {','.join(map(str, seeds))} |"
        lines += ["", "Accuracy in % over all nodes. (a) uses 14,376 queries; the others use the "
                  "budget. Share of the collected annotations that are correct (reporting only):", "",
                  "| budget | " + " | ".join(METHODS[m] for m in shown) + " |",
                  "| --- | " + " | ".join("---" for _ in shown) + " |"]
        for budget in budgets:
            cells = [mean_std([r["annotation_accuracy"] for r in by.get((m, budget), [])]) for m in shown]
            lines.append(f"| {budget} | " + " | ".join(cells) + " |")
        lines.append("")
        for budget in (320, 640):
            runs = by.get(("d", budget))
            if not runs:
                continue
            lines += [f"Locle per round at budget {budget} (mean over seeds; the ensemble after "
                      "each round, last row after refinement):", "",
                      "| round | queries | LLM labels | pseudo-labels | held-out agreement | accuracy |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for i, row in enumerate(runs[0]["rounds"]):
                accs = [r["rounds"][i]["accuracy"] for r in runs]
                agree = [r["rounds"][i]["heldout_agreement"] for r in runs]
                lines.append(f"| {row['round']} | {row['queries']} | {row['llm_labels']} | "
                             f"{row['pseudo_labels']} | {100 * statistics.mean(agree):.1f} | "
                             f"{100 * statistics.mean(accs):.2f} |")
            lines.append("")
        times = {m: statistics.median([r["seconds"] for k, rs in by.items() if k[0] == m for r in rs])
                 for m in shown}
        lines += ["Median wall time of one run (single thread, shared machine): " +
                  ", ".join(f"{METHODS[m]} {t:.0f} s" for m, t in times.items()) + ".", ""]
    lines += defaults_section()
    lines += FINDINGS
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--budgets", type=int, nargs="*", default=[320, 640, 80, 160])
    parser.add_argument("--methods", nargs="+", default=["b", "c", "d"],
                        choices=["b", "c", "d", "d-old"])
    parser.add_argument("--choose-defaults", action="store_true",
                        help="run the label-free default search instead of the report runs")
    parser.add_argument("--choose", nargs="+", default=list(SEARCH), choices=list(SEARCH),
                        help="with --choose-defaults: the methods to search")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--out", type=pathlib.Path, default=RUNS)
    parser.add_argument("--report", action="store_true", help="only write the markdown report")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if set(args.seeds) & set(CHOICE_SEEDS) and not args.choose_defaults:
        parser.error(f"--seeds must not reuse the seeds used for choosing {CHOICE_SEEDS}")
    torch.set_num_threads(args.threads)
    if args.report:
        report(args)
    elif args.choose_defaults:
        choose_defaults(args)
    else:
        experiments(args)


if __name__ == "__main__":
    main()
