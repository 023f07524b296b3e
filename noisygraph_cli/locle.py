"""``noisygraph locle``: label-free node classification of a text graph with an annotator."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
from typing import Optional

from noisygraph_cli._common import (UsageError, add_device, add_json, add_plot, add_quiet, add_root,
                                    add_seed, add_threads, check_device, check_number,
                                    check_output, check_root, check_seed, check_threads,
                                    round_floats, set_threads)
from noisygraph_cli.choices import LOCLE_ANNOTATORS, LOCLE_METHODS

TEXT_GRAPH_FILES = ("nodes.tsv", "edges.tsv", "classes.tsv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="dblp",
                        help="a text-graph name under <data root>/tag/ or a folder in that layout "
                             "(nodes.tsv, edges.tsv, classes.tsv) (default: dblp)")
    add_root(parser)
    parser.add_argument("--budget", type=int, default=320,
                        help="annotator questions at most (default: 320)")
    parser.add_argument("--annotator", choices=LOCLE_ANNOTATORS, default="embedding",
                        help="embedding: offline, nearest class description in a sentence "
                             "embedding; openai: an OpenAI-compatible server; recorded: replay "
                             "--answers; simulated: a SIMULATION reading the ground truth "
                             "(default: embedding)")
    parser.add_argument("--method", choices=LOCLE_METHODS,
                        default="locle",
                        help="locle (default), or a baseline: the annotator on every node, "
                             "random selection + GCN, LLM-GNN (density + filtering + GCN)")
    parser.add_argument("--rounds", type=int, default=5, help="Locle GCN rounds (default: 5)")
    add_seed(parser, default=0, seeds="node selection, the GCNs and the simulated annotator")
    add_threads(parser)
    add_device(parser, help="where the GCNs train (the annotator, the text embedding and node "
                            "selection run on the CPU)")
    add_json(parser)
    add_plot(parser, help="plot the confusion matrix of the predictions against the data set's "
                          "labels (all nodes)")
    add_quiet(parser)
    http = parser.add_argument_group("openai annotator (any OpenAI-compatible server)")
    http.add_argument("--base-url", default="https://api.openai.com/v1",
                      help="server root with the API prefix, e.g. http://127.0.0.1:8000/v1 "
                           "(default: https://api.openai.com/v1)")
    http.add_argument("--model", default="gpt-3.5-turbo", help="model name (default: "
                                                                 "gpt-3.5-turbo)")
    http.add_argument("--api-key-env", default="OPENAI_API_KEY",
                      help="NAME of the environment variable holding the API key (the key itself "
                           "is never printed or stored) (default: OPENAI_API_KEY)")
    http.add_argument("--max-workers", type=int, default=4, help="concurrent requests (default: 4)")
    http.add_argument("--timeout", type=float, default=60.0,
                      help="seconds for each whole request (connect, send, every read) "
                           "(default: 60)")
    http.add_argument("--max-response-bytes", type=int, default=1_000_000,
                      help="longest server response accepted (default: 1000000)")
    http.add_argument("--prompt-price", type=float, default=0.5,
                      help="dollars per 1M prompt tokens (default: 0.5, gpt-3.5-turbo)")
    http.add_argument("--completion-price", type=float, default=1.5,
                      help="dollars per 1M completion tokens (default: 1.5)")
    http.add_argument("--cache-dir", help="answer cache folder (default: <cache>/locle/answers); "
                                          "the budget ledgers live in its ledgers/ folder")
    http.add_argument("--budget-scope", metavar="NAME",
                      help="the name the budget is kept under in the ledger (default: derived "
                           "from --dataset, --method, --budget, --rounds and --seed, so that "
                           "rerunning the same command resumes the same budget)")
    http.add_argument("--skip-server-check", action="store_true",
                      help="do not check first that the server answers GET <base-url>/models")
    parser.add_argument("--answers", metavar="FILE",
                        help="recorded annotator: JSON/JSONL answers file; with another "
                             "annotator: save its answers here for later replay")
    parser.add_argument("--sim-accuracy", type=float, default=0.8,
                        help="simulated annotator: probability of a correct answer (a "
                             "SIMULATION that reads the ground truth) (default: 0.8)")


def _dataset_folder(dataset: str, root: Optional[str]) -> pathlib.Path:
    """The folder ``--dataset`` names (an existing folder, else ``<data root>/tag/<name>``)."""
    from noisygraph.datasets import data_root

    folder = pathlib.Path(dataset)
    if folder.is_dir():
        return folder
    return (pathlib.Path(root).expanduser() if root else data_root()) / "tag" / dataset


def _check_dataset(dataset: str, root: Optional[str]) -> None:
    """The files exist and the class names can be told apart (classes.tsv only is read)."""
    from noisygraph.locle.annotation import as_class_infos

    if not dataset or "\0" in dataset:
        raise UsageError("--dataset", f"not a data set name or folder: {dataset!r}")
    folder = _dataset_folder(dataset, root)
    missing = [name for name in TEXT_GRAPH_FILES if not (folder / name).is_file()]
    if missing:
        where = (f"folder {folder}" if pathlib.Path(dataset).is_dir() else
                 f"{folder} (a name is looked up under the data root's tag/ folder; set "
                 "NOISYGRAPH_DATA, or pass a folder)")
        raise UsageError("--dataset", f"{', '.join(missing)} not found in {where}")
    classes_file = folder / "classes.tsv"
    try:
        lines = classes_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError("--dataset", f"cannot read {classes_file}: {error}") from None
    names = [line.split("\t")[1] for line in lines[1:] if line.count("\t") >= 1]
    try:
        as_class_infos(names)
    except (TypeError, ValueError) as error:
        raise UsageError("--dataset", f"{classes_file}: {error}") from None


def _budget_scope(args) -> str:
    if args.budget_scope is not None:
        return args.budget_scope
    folder = pathlib.Path(args.dataset)
    dataset = str(folder.resolve()) if folder.is_dir() else args.dataset
    return (f"noisygraph locle --dataset {dataset} --method {args.method} --budget {args.budget} "
            f"--rounds {args.rounds} --seed {args.seed}")


def _openai_annotator(args):
    from noisygraph.locle import OpenAIAnnotator
    return OpenAIAnnotator(
        args.base_url, args.model, api_key_env=args.api_key_env, max_queries=None
        if args.method == "annotator" else args.budget, max_workers=args.max_workers,
        timeout=args.timeout, prompt_price_per_1m=args.prompt_price,
        completion_price_per_1m=args.completion_price, cache_dir=args.cache_dir,
        max_response_bytes=args.max_response_bytes, budget_scope=_budget_scope(args))


def validate(args) -> None:
    """Every flag, before any data is loaded or text embedded; with ``--annotator openai``
    also a free request to the server (``GET <base-url>/models``) unless
    ``--skip-server-check``. The library is imported only after the checks that need none."""
    if args.budget < 1:
        raise UsageError("--budget", f"must be >= 1, got {args.budget}")
    if args.rounds < 1:
        raise UsageError("--rounds", f"must be >= 1, got {args.rounds}")
    if args.max_workers < 1:
        raise UsageError("--max-workers", f"must be >= 1, got {args.max_workers}")
    if args.max_response_bytes < 1:
        raise UsageError("--max-response-bytes", f"must be >= 1, got {args.max_response_bytes}")
    check_number(args.timeout, "--timeout", low=0.0, low_open=True)
    check_number(args.prompt_price, "--prompt-price", low=0.0)
    check_number(args.completion_price, "--completion-price", low=0.0)
    check_number(args.sim_accuracy, "--sim-accuracy", low=0.0, high=1.0)
    check_seed(args.seed)
    check_root(args.root)
    check_threads(args.threads)
    check_output("--json", args.json)
    check_output("--plot", args.plot)
    check_device(args.device)
    from noisygraph.locle.openai_annotator import check_base_url, check_env_name

    try:
        check_base_url(args.base_url)
    except (TypeError, ValueError) as error:
        raise UsageError("--base-url", str(error).replace("base_url ", "")) from None
    try:
        check_env_name(args.api_key_env)
    except (TypeError, ValueError) as error:  # the message never echoes the value
        raise UsageError("--api-key-env", str(error).replace("api_key_env ", "")) from None
    if not args.model.strip():
        raise UsageError("--model", "must not be empty")
    if args.budget_scope is not None and not args.budget_scope.strip():
        raise UsageError("--budget-scope", "must not be empty")
    if args.annotator == "recorded":
        if not args.answers:
            raise UsageError("--answers", "--annotator recorded needs --answers FILE")
        if not os.path.isfile(args.answers):
            raise UsageError("--answers", f"answers file {args.answers} does not exist")
        from noisygraph.locle import RecordedAnnotator
        try:
            RecordedAnnotator(args.answers)
        except (TypeError, ValueError) as error:
            raise UsageError("--answers", " ".join(str(error).split())) from None
    elif args.answers and os.path.isdir(args.answers):
        raise UsageError("--answers", f"{args.answers} is a folder, not a file to write")
    if args.cache_dir and os.path.exists(args.cache_dir) and not os.path.isdir(args.cache_dir):
        raise UsageError("--cache-dir", f"{args.cache_dir} exists and is not a folder")
    _check_dataset(args.dataset, args.root)
    if args.annotator == "openai" and not args.skip_server_check:
        _check_server(args)


def _check_server(args) -> None:
    from noisygraph.locle import AnnotatorError

    try:
        _openai_annotator(args).check_server(timeout=min(args.timeout, 10.0))
    except AnnotatorError as error:
        if error.status in (401, 403):
            raise UsageError("--api-key-env", f"{error}; check --api-key-env "
                                              f"{args.api_key_env}") from None
        hint = " (or pass --skip-server-check)" if error.status is not None else ""
        raise UsageError("--base-url", f"{error}{hint}") from None


def _load(dataset: str, root: Optional[str] = None):
    """A text graph: a folder in the ``tag/`` layout, or a name under ``<data root>/tag/``."""
    from torch_geometric.data import Data

    from noisygraph.datasets import load_text_graph
    from noisygraph.datasets.text_graph import parse_text_graph

    folder = pathlib.Path(dataset)
    if not folder.is_dir():
        return load_text_graph(dataset, root=root)
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
        return locle.RecordedAnnotator(args.answers)
    if args.annotator == "simulated":
        return locle.SimulatedAnnotator(data.y, args.sim_accuracy, data.num_classes, args.seed)
    return _openai_annotator(args)


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


def _fit(args, data, texts, classes, annotator, x):
    """``(predictions, annotations, rounds, queries, tokens, cost)`` of the chosen method."""
    from noisygraph import locle

    verbose = not args.quiet
    if args.method == "locle":
        result = locle.Locle(budget=args.budget, num_rounds=args.rounds, seed=args.seed,
                             verbose=verbose, device=args.device).fit(data, annotator=annotator, texts=texts,
                                                  classes=classes, x=x)
        rounds = result.score(data.y)["rounds"]
        return (result.predictions, result.annotations, rounds, result.queries, result.tokens,
                result.cost_usd)
    if args.method == "annotator":
        baseline = locle.annotate_all(data, annotator=annotator, texts=texts, classes=classes,
                                      verbose=verbose)
    elif args.method == "random":
        baseline = locle.random_gcn(data, annotator=annotator, budget=args.budget, x=x,
                                    texts=texts, classes=classes, seed=args.seed,
                                    verbose=verbose, device=args.device)
    else:
        baseline = locle.llm_gnn(data, annotator=annotator, budget=args.budget, x=x,
                                 texts=texts, classes=classes, seed=args.seed, verbose=verbose,
                                 device=args.device)
    return (baseline.predictions, baseline.annotations, [], baseline.queries, baseline.tokens,
            baseline.cost_usd)


def run(args) -> int:
    from noisygraph import locle
    from noisygraph.locle.text import embed_texts

    set_threads(args.threads)
    data = _load(args.dataset, args.root)
    texts = list(data.text)
    classes = [locle.ClassInfo(name, description)
               for name, description in zip(data.class_names, data.class_descriptions)]
    x = embed_texts(texts, verbose=not args.quiet)
    annotator = _annotator(args, data, texts, x)
    try:
        predictions, annotations, rounds, queries, tokens, cost = _fit(args, data, texts,
                                                                       classes, annotator, x)
    except locle.AnnotatorError as error:  # e.g. a key revoked in the middle of the run
        print(f"noisygraph locle: error: {error}", file=sys.stderr)
        return 1

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
    if isinstance(annotator, locle.OpenAIAnnotator):
        left = annotator.queries_left
        print(f"billable requests      {annotator.usage.requests} in this run"
              + (f", {left} left in the budget" if left is not None else "")
              + f" (ledger {annotator.ledger.path})")
    if args.json:
        payload = {"dataset": args.dataset, "method": args.method, "annotator": args.annotator,
                   "budget": args.budget, "seed": args.seed, "accuracy": accuracy,
                   "annotation_accuracy": annotation_accuracy, "queries": queries,
                   "unusable_answers": failures, "tokens": tokens, "cost_usd": cost,
                   "rounds": rounds}
        if args.annotator == "simulated":
            payload["sim_accuracy"] = args.sim_accuracy
        if isinstance(annotator, locle.OpenAIAnnotator):
            payload["billable_requests"] = annotator.usage.requests
        path = pathlib.Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(round_floats(payload), indent=2) + "\n", encoding="utf-8")
    if args.plot:
        from noisygraph.plotting import plot_confusion

        plot_confusion(predictions, y, list(data.class_names), args.plot,
                       title=f"{args.method} on {args.dataset}: accuracy {accuracy:.1%}")
    sys.stdout.flush()
    return 0
