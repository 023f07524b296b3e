"""``noisygraph locle``: label-free node classification of a text graph with an annotator."""
from __future__ import annotations

import argparse
import json
import pathlib
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="dblp",
                        help="a text-graph name under <data root>/tag/ or a folder in that layout "
                             "(nodes.tsv, edges.tsv, classes.tsv) (default: dblp)")
    parser.add_argument("--budget", type=int, default=320, help="annotator questions at most")
    parser.add_argument("--annotator", choices=("embedding", "openai", "recorded", "simulated"),
                        default="embedding")
    parser.add_argument("--method", choices=("locle", "annotator", "random", "llm-gnn"),
                        default="locle",
                        help="locle (default), or a baseline: the annotator on every node, "
                             "random selection + GCN, LLM-GNN (density + filtering + GCN)")
    parser.add_argument("--rounds", type=int, default=5, help="Locle GCN rounds (default: 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    http = parser.add_argument_group("openai annotator (any OpenAI-compatible server)")
    http.add_argument("--base-url", default="https://api.openai.com/v1",
                      help="server root with the API prefix, e.g. http://127.0.0.1:8000/v1")
    http.add_argument("--model", default="gpt-3.5-turbo")
    http.add_argument("--api-key-env", default="OPENAI_API_KEY",
                      help="NAME of the environment variable holding the API key (the key itself "
                           "is never printed or stored)")
    http.add_argument("--max-workers", type=int, default=4, help="concurrent requests")
    http.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    http.add_argument("--prompt-price", type=float, default=0.5,
                      help="dollars per 1M prompt tokens (default: 0.5, gpt-3.5-turbo)")
    http.add_argument("--completion-price", type=float, default=1.5,
                      help="dollars per 1M completion tokens (default: 1.5)")
    http.add_argument("--cache-dir", help="answer cache folder (default: <cache>/locle/answers)")
    parser.add_argument("--answers", metavar="FILE",
                        help="recorded annotator: JSON/JSONL answers file; with another "
                             "annotator: save its answers here for later replay")
    parser.add_argument("--sim-accuracy", type=float, default=0.8,
                        help="simulated annotator: probability of a correct answer (a "
                             "SIMULATION that reads the ground truth)")


def _load(dataset: str):
    """A text graph: a folder in the ``tag/`` layout, or a name under ``<data root>/tag/``."""
    from torch_geometric.data import Data

    from noisygraph.datasets import load_text_graph
    from noisygraph.datasets.text_graph import parse_text_graph

    folder = pathlib.Path(dataset)
    if not folder.is_dir():
        return load_text_graph(dataset)
    parsed = parse_text_graph(folder)
    data = Data(edge_index=parsed["edge_index"], y=parsed["y"], num_nodes=parsed["y"].numel())
    data.text = parsed["text"]
    data.class_names = parsed["class_names"]
    data.class_descriptions = parsed["class_descriptions"]
    data.num_classes = len(parsed["class_names"])
    return data


def _annotator(args, data, texts, x):
    from noisygraph import locle
    if args.annotator == "embedding":
        return locle.EmbeddingAnnotator(corpus=texts, corpus_embeddings=x, verbose=not args.quiet)
    if args.annotator == "recorded":
        if not args.answers:
            raise SystemExit("--annotator recorded needs --answers FILE")
        return locle.RecordedAnnotator(args.answers)
    if args.annotator == "simulated":
        return locle.SimulatedAnnotator(data.y, args.sim_accuracy, data.num_classes, args.seed)
    return locle.OpenAIAnnotator(
        args.base_url, args.model, api_key_env=args.api_key_env, max_queries=None
        if args.method == "annotator" else args.budget, max_workers=args.max_workers,
        timeout=args.timeout, prompt_price_per_1m=args.prompt_price,
        completion_price_per_1m=args.completion_price, cache_dir=args.cache_dir)


def _format_table(rows: list[dict]) -> str:
    columns = ["round", "queries", "llm_labels", "pseudo_labels", "heldout_agreement",
               "replaced", "accuracy"]
    lines = [" | ".join(f"{c:>17}" for c in columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            cells.append(f"{value:>17.4f}" if isinstance(value, float) else f"{value!s:>17}")
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def run(args) -> int:
    from noisygraph import locle
    from noisygraph.locle.text import embed_texts

    if args.budget < 1:
        raise SystemExit(f"--budget must be >= 1, got {args.budget}")
    verbose = not args.quiet
    data = _load(args.dataset)
    texts = list(data.text)
    classes = [locle.ClassInfo(name, description)
               for name, description in zip(data.class_names, data.class_descriptions)]
    x = embed_texts(texts, verbose=verbose)
    annotator = _annotator(args, data, texts, x)

    if args.method == "locle":
        result = locle.Locle(args.budget, num_rounds=args.rounds, seed=args.seed,
                             verbose=verbose).fit(data, texts, classes, annotator, x=x)
        report = result.score(data.y)
        predictions, annotations, rounds = result.predictions, result.annotations, report["rounds"]
        queries, tokens, cost = result.queries, result.tokens, result.cost_usd
    else:
        if args.method == "annotator":
            baseline = locle.annotate_all(texts, classes, annotator, verbose=verbose)
        elif args.method == "random":
            baseline = locle.random_gcn(data, texts, classes, annotator, args.budget, x,
                                        seed=args.seed, verbose=verbose)
        else:
            baseline = locle.llm_gnn(data, texts, classes, annotator, args.budget, x,
                                     seed=args.seed, verbose=verbose)
        predictions, annotations, rounds = baseline.predictions, baseline.annotations, []
        queries, tokens, cost = baseline.queries, baseline.tokens, baseline.cost_usd

    y = data.y.long()
    accuracy = float((predictions == y).float().mean())
    answered = [a for a in annotations if a.ok]
    annotation_accuracy = (sum(a.label == int(y[a.node]) for a in answered) / len(answered)
                           if answered else float("nan"))
    failures = sum(not a.ok for a in annotations)
    if args.answers and args.annotator != "recorded":
        locle.save_annotations(args.answers, annotations, classes)

    print(f"dataset {args.dataset}: {data.num_nodes} nodes, {len(classes)} classes; "
          f"method {args.method}, annotator {args.annotator}"
          + (f" (SIMULATED, accuracy {args.sim_accuracy})" if args.annotator == "simulated" else ""))
    if rounds:
        print(_format_table(rounds))
    print(f"accuracy (all nodes)   {accuracy:.4f}")
    print(f"annotation accuracy    {annotation_accuracy:.4f} over {len(answered)} usable answers"
          f" ({failures} unusable)")
    print(f"queries                {queries}" + (f" of budget {args.budget}"
                                                  if args.method != "annotator" else ""))
    print(f"tokens                 {tokens}")
    print(f"cost                   ${cost:.6f}")
    if args.json:
        payload = {"dataset": args.dataset, "method": args.method, "annotator": args.annotator,
                   "budget": args.budget, "seed": args.seed, "accuracy": accuracy,
                   "annotation_accuracy": annotation_accuracy, "queries": queries,
                   "unusable_answers": failures, "tokens": tokens, "cost_usd": cost,
                   "rounds": rounds}
        if args.annotator == "simulated":
            payload["sim_accuracy"] = args.sim_accuracy
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    sys.stdout.flush()
    return 0
