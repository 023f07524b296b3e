"""``noisygraph erase``: node classification under label noise with ERASE (or a GCN baseline).

Loads a data set, corrupts its training labels (and, under ``--protocol noisy-val``, its
validation labels too, from the same noise model: same transition, fresh draws), trains
``--runs`` models (run ``r`` seeded with ``seed + 100 r``, as the paper) and prints the test
accuracy of each run and mean ± std (population std, as the paper), with the realised noise
rates. With ``--method erase`` every run also trains the GCN baseline on the same noisy labels
(same seed, protocol, epochs and patience; ``--no-baseline`` skips it) and prints it beside. Every flag is checked (:func:`validate`) before any data is loaded; ``--json`` is
rewritten after every run, so Ctrl-C keeps the finished runs (``"complete": false``).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple, Optional

from noisygraph_cli._common import (UsageError, add_device, add_json, add_noise, add_plot, add_quiet,
                                    add_rate, add_root, add_seed, add_threads, check_device,
                                    check_number, check_output, check_root, check_seed,
                                    check_threads, round_floats, set_threads)
from noisygraph_cli.choices import (ERASE_METHODS, NOISE_SAMPLERS, PER_NODE_NOISE_KINDS,
                                   PRECORRECTIONS, PROTOCOLS)

if TYPE_CHECKING:
    from torch import Tensor

SAMPLERS = ("exact",) + tuple(s for s in NOISE_SAMPLERS if s != "exact")  # exact: the default

# (gamma1, gamma2, eps, alpha, beta, T) of the official release's run.sh, per data set; other
# data sets use Cora's values (not tuned). For ogbn-arxiv the release disagrees with itself
# (run.sh: alpha 0.5, beta 0.6, T 50; train_main_arxiv.py's defaults: alpha 0.6, beta 0.5) and
# pre-corrects with PyG's LabelPropagation (`--precorrection label-propagation`, where alpha is
# PyG's weight of the propagated term); neither is a default here: it was never checked on the
# real ogbn-arxiv (no copy offline), and 50 lazy steps in our per-epoch labels would smooth a
# large graph's labels to one class (the release uses restart propagation there).
HYPERPARAMETERS = {
    "cora": (1.0, 2.0, 0.05, 0.6, 0.6, 5),
    "citeseer": (1.0, 2.0, 0.4, 0.6, 0.7, 4),
    "pubmed": (1.0, 3.0, 0.05, 0.6, 0.6, 3),
    "corafull": (1.0, 2.0, 0.01, 0.7, 0.7, 2),
}
DEFAULT_HYPERPARAMETERS = HYPERPARAMETERS["cora"]
# Graphs trained in mini-batches (the release: NeighborSampler [5, 5], batch 200, lr 0.01).
MINI_BATCH_DATASETS = ("ogbn-arxiv", "ogbn-products")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="Cora",
                        help="any noisygraph.datasets.load_dataset name (default: Cora)")
    add_root(parser)
    add_noise(parser, default="uniform", help="label-noise kind")
    add_rate(parser, default=0.4, help="nominal noise rate in [0, 1]")
    parser.add_argument("--sampler", default="exact", choices=SAMPLERS,
                        help="exact: exactly round(rate*n) flips (default: the rate you ask "
                             "for is the rate you get); independent: one coin per node; "
                             "paper: the official release's seeded draw (reproduces its "
                             "noisy labels, whose realised rate differs from the nominal one)")
    parser.add_argument("--runs", type=int, default=10, help="trainings (default: 10)")
    add_seed(parser, default=123, seeds="the noisy labels; run r trains with seed + 100 r")
    parser.add_argument("--resample-noise", action="store_true",
                        help="draw new noisy labels for every run (seed + 100 r) instead of "
                             "one draw shared by all runs (the paper)")
    parser.add_argument("--protocol", default="paper", choices=PROTOCOLS,
                        help="paper: noise on training labels, model selection on clean "
                             "validation labels; noisy-val: validation labels are corrupted "
                             "by the same noise model and selection reads them (default: paper)")
    parser.add_argument("--method", default="erase", choices=ERASE_METHODS,
                        help="erase, or gcn: a GCN trained with cross-entropy on the noisy "
                             "labels (default: erase)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="with --method erase, do not also train the GCN baseline on the "
                             "same noisy labels (it is trained, full batch, unless this is given "
                             "or the data set is trained in mini-batches)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs (default: 400; 5 on mini-batch data sets)")
    parser.add_argument("--patience", type=int, default=150,
                        help="stop after this many epochs without a better validation accuracy "
                             "(default: 150)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: ERASE 1e-3, 1e-2 in mini-batch; GCN 1e-2)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="train ERASE (or, with --method gcn, the GCN) in mini-batches of "
                             "sampled neighbourhoods (default: full batch; 200 on ogbn-*)")
    parser.add_argument("--num-neighbors", type=int, nargs="+", default=[5, 5],
                        help="neighbours sampled per layer in mini-batch training, -1 for all "
                             "(default: 5 5; the GCN has 2 layers, each > 0 or -1)")
    parser.add_argument("--max-batches", type=int, default=None,
                        help="mini-batches per epoch (default: all)")
    for name, index in (("gamma1", 0), ("gamma2", 1), ("eps", 2), ("alpha", 3), ("beta", 4)):
        parser.add_argument(f"--{name}", type=float, default=None,
                            help=f"ERASE {name} (default: the release's value for the data set)")
    parser.add_argument("--T", dest="num_steps", type=int, default=None,
                        help="label propagation steps (default: per data set)")
    parser.add_argument("--precorrection", choices=PRECORRECTIONS,
                        default="train-subgraph",
                        help="pre-correction of the training labels: lazy propagation on the "
                             "train-train subgraph (default, the release for Cora/PubMed) or "
                             "label propagation with restart on the full graph (the release "
                             "for ogbn-arxiv)")
    add_device(parser)
    add_threads(parser)
    add_json(parser, help="write the results as JSON here, rewritten after every run")
    add_plot(parser, help="plot accuracy and loss curves of the first run")
    add_quiet(parser)


@dataclass
class RunResult:
    seed: int
    accuracy: float
    best_epoch: int
    epochs: int
    seconds_per_epoch: float
    realised_rate: float
    val_rate: Optional[float]
    baseline_accuracy: Optional[float] = None


def _hyperparameters(args) -> tuple:
    defaults = HYPERPARAMETERS.get(args.dataset.lower(), DEFAULT_HYPERPARAMETERS)
    given = (args.gamma1, args.gamma2, args.eps, args.alpha, args.beta, args.num_steps)
    return tuple(d if g is None else g for g, d in zip(given, defaults))


class Corruption(NamedTuple):
    """The noisy labels of one run: ``y_noisy``, the nodes drawn from the noise model
    (``noise_mask``: train, plus val under ``noisy-val``), and the realised rates on the
    training and (``None`` unless ``noisy-val``) validation nodes."""

    y_noisy: Tensor
    noise_mask: Tensor
    train_rate: float
    val_rate: Optional[float]


def corrupt(data, args, seed: int) -> Corruption:
    """Noisy labels for one run from ONE noise model (:class:`~noisygraph.noise.LabelNoiseModel`
    seeded with ``seed``): its first sample corrupts the training nodes (the same labels under
    both protocols); under ``noisy-val`` its second sample corrupts the validation nodes
    (same transition, same pair partners, the random stream continued)."""
    from noisygraph.noise import FEATURE_NOISE_KINDS, LabelNoiseModel

    model = LabelNoiseModel(args.noise, args.rate, data.num_classes, seed=seed,
                            sampler=args.sampler,
                            x=data.x if args.noise in FEATURE_NOISE_KINDS else None)
    if args.protocol != "noisy-val":
        noise = model.sample(data.y, data.train_mask)
        return Corruption(noise.y_noisy, noise.mask, noise.realised_rate, None)
    noise = model.sample_each(data.y, [data.train_mask, data.val_mask & ~data.train_mask])
    rate = lambda mask: float(noise.flipped[mask].double().mean())  # noqa: E731
    return Corruption(noise.y_noisy, noise.mask, rate(data.train_mask), rate(data.val_mask))


def _is_mini_batch(args) -> bool:
    return args.batch_size is not None or args.dataset.lower() in MINI_BATCH_DATASETS


def _has_baseline(args) -> bool:
    """Whether each run also trains the (full-batch) GCN baseline beside ERASE."""
    return args.method == "erase" and not args.no_baseline and not _is_mini_batch(args)


def build_trainer(args, data, method: Optional[str] = None):
    """The trainer of ``method`` (default ``--method``) for ``data``, configured from the
    arguments; ``--lr`` applies to ``--method`` only (the baseline beside ERASE uses GCN's)."""
    from noisygraph.erase import GCNBaseline

    method = method or args.method
    verbose = not args.quiet
    mini_batch = _is_mini_batch(args)
    epochs = args.epochs if args.epochs is not None else (5 if mini_batch else 400)
    if method == "gcn":
        lr = args.lr if args.method == "gcn" and args.lr else 0.01
        gcn_batches = {}
        if mini_batch and method == args.method:  # the baseline beside ERASE: full batch
            gcn_batches = dict(batch_size=args.batch_size or 200,
                               num_neighbors=args.num_neighbors)
        return GCNBaseline(lr=lr, epochs=epochs, patience=args.patience,
                           protocol=args.protocol, device=args.device, verbose=verbose,
                           **gcn_batches)
    from noisygraph.erase import ERASE, ERASETrainer

    gamma1, gamma2, eps, alpha, beta, num_steps = _hyperparameters(args)
    model = ERASE(data.num_features)
    return ERASETrainer(model, gamma1=gamma1, gamma2=gamma2, eps=eps, alpha=alpha, beta=beta,
                        num_steps=num_steps, precorrection=args.precorrection,
                        lr=args.lr or (1e-2 if mini_batch else 1e-3),
                        epochs=epochs, patience=args.patience, protocol=args.protocol,
                        batch_size=(args.batch_size or 200) if mini_batch else None,
                        num_neighbors=args.num_neighbors,
                        max_batches_per_epoch=args.max_batches, device=args.device,
                        verbose=verbose)


def load(args):
    from noisygraph.datasets import load_dataset

    data = load_dataset(args.dataset, root=args.root)
    missing = [name for name in ("x", "train_mask", "val_mask", "test_mask")
               if getattr(data, name, None) is None]
    if missing:
        raise UsageError("--dataset", f"{args.dataset!r} has no {', '.join(missing)}: ERASE "
                                      "needs node features and a split")
    return data


def check_dataset(name: str, root: Optional[str], flag: str = "--dataset") -> None:
    """The name must be one :func:`~noisygraph.datasets.load_dataset` can load: a Planetoid or
    OGB name (downloadable), or a folder under the data root; no file is read."""
    from noisygraph.datasets import available_datasets
    from noisygraph.datasets.ogb import OGB_NAMES
    from noisygraph.datasets.planetoid import PLANETOID_NAMES

    check_root(root)
    key = name.strip().lower()
    if key in PLANETOID_NAMES or key.replace("_", "-") in OGB_NAMES:
        return
    if key == "csbm":
        raise UsageError(flag, "csbm needs generator sizes; use the Python API "
                               "(noisygraph.datasets.csbm) for synthetic graphs")
    local = [n for n in available_datasets(root) if n != "csbm"]
    if key not in {n.lower() for n in local} and key.replace("-", "_") not in {
            n.lower() for n in local}:
        known = sorted(set(PLANETOID_NAMES.values()) | set(OGB_NAMES) | set(local))
        raise UsageError(flag, f"unknown data set {name!r} (known: {', '.join(known)})")


def validate(args) -> None:
    """Checks every flag before any data is loaded (:class:`UsageError`: one line, exit 2)."""
    check_number(args.rate, "--rate", low=0.0, high=1.0)
    if args.noise in PER_NODE_NOISE_KINDS and args.sampler == "paper":
        raise UsageError("--sampler", "paper reproduces the release's class-conditional draw; "
                                      f"it has no {args.noise} noise")
    if args.noise == "annotator":
        raise UsageError("--noise", "annotator noise needs a text graph with features and a "
                                    "split; use noisygraph bench or the Python API "
                                    "(noisygraph.bench.annotator_probabilities)")
    if args.runs < 1:
        raise UsageError("--runs", f"must be >= 1, got {args.runs}")
    check_seed(args.seed, span=100 * (args.runs - 1))
    if args.epochs is not None and args.epochs < 1:
        raise UsageError("--epochs", f"must be >= 1, got {args.epochs}")
    if args.patience < 0:
        raise UsageError("--patience", f"must be >= 0, got {args.patience}")
    if args.lr is not None:
        check_number(args.lr, "--lr", low=0.0, low_open=True)
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError("--batch-size", f"must be >= 1, got {args.batch_size}")
    bad = [n for n in args.num_neighbors if n < -1]
    if bad:
        raise UsageError("--num-neighbors", f"each must be >= 0 or -1 (all), got {bad[0]}")
    if args.method == "gcn" and _is_mini_batch(args):
        if len(args.num_neighbors) != 2:
            raise UsageError("--num-neighbors", "the GCN has 2 layers: give 2 fan-outs, got "
                             f"{len(args.num_neighbors)}")
        if 0 in args.num_neighbors:
            raise UsageError("--num-neighbors", "each must be > 0 or -1 (all) for the GCN")
    if args.method == "gcn" and args.max_batches is not None:
        raise UsageError("--max-batches", "applies to ERASE only (the GCN's epoch is one "
                         "pass over the training nodes)")
    if args.max_batches is not None and args.max_batches < 1:
        raise UsageError("--max-batches", f"must be >= 1, got {args.max_batches}")
    for flag in ("gamma1", "gamma2", "eps"):
        if getattr(args, flag) is not None:
            check_number(getattr(args, flag), f"--{flag}", low=0.0, low_open=True)
    for flag in ("alpha", "beta"):
        if getattr(args, flag) is not None:
            check_number(getattr(args, flag), f"--{flag}", low=0.0, high=1.0)
    if args.num_steps is not None and args.num_steps < 0:
        raise UsageError("--T", f"must be >= 0, got {args.num_steps}")
    check_threads(args.threads)
    check_device(args.device)
    check_output("--json", args.json)
    check_output("--plot", args.plot)
    check_dataset(args.dataset, args.root)


def run_all(args, on_run: Optional[Callable[[dict], None]] = None) -> dict:
    """Runs ``args.runs`` trainings and returns the results dictionary (what ``--json``
    writes). ``on_run`` receives the summary of the runs finished so far after every run
    (``"complete": False`` until the last one)."""
    from noisygraph.random import seed_everything

    set_threads(args.threads)
    data = load(args)
    results, shared_noise, summary = [], None, {}
    for run in range(args.runs):
        seed = args.seed + 100 * run
        if args.resample_noise or shared_noise is None:
            shared_noise = corrupt(data, args, seed if args.resample_noise else args.seed)
        seed_everything(seed)
        trainer = build_trainer(args, data)
        history = trainer.fit(data, y_noisy=shared_noise.y_noisy,
                              noise_mask=shared_noise.noise_mask)
        if run == 0 and args.plot:
            history.plot(args.plot, title=f"{args.method} on {args.dataset}, {args.noise} "
                                          f"{args.rate:.0%} ({args.protocol})")
        baseline = None
        if _has_baseline(args):  # the same noisy labels, seed, protocol, epochs and patience
            seed_everything(seed)
            baseline = 100 * build_trainer(args, data, "gcn").fit(
                data, y_noisy=shared_noise.y_noisy, noise_mask=shared_noise.noise_mask).test_acc
        results.append(RunResult(seed, 100 * history.test_acc, history.best_epoch,
                                 len(history.metrics["epoch"]), history.seconds_per_epoch,
                                 shared_noise.train_rate, shared_noise.val_rate, baseline))
        if not args.quiet:
            print(format_run(args, run, results[-1]))
        summary = summarise(args, results)
        if on_run is not None:
            on_run(summary)
    return summary


def format_run(args, run: int, result: RunResult) -> str:
    """The lines printed for one finished run: its test accuracy, the GCN baseline's on the
    same noisy labels, and which epoch was selected and why."""
    name = "ERASE" if args.method == "erase" else "GCN"
    baseline = ("" if result.baseline_accuracy is None else
                f"   GCN baseline {result.baseline_accuracy:.2f} % (same noisy labels)")
    val = "" if result.val_rate is None else f", validation {result.val_rate:.1%}"
    labels = "clean" if args.protocol == "paper" else "noisy"
    return (f"run {run}: seed {result.seed}   {name} test {result.accuracy:.2f} %{baseline}\n"
            f"    selected epoch {result.best_epoch} of {result.epochs} run (best {labels} "
            f"validation accuracy); realised noise {result.realised_rate:.1%}{val}; "
            f"{result.seconds_per_epoch:.3f} s/epoch")


def summarise(args, results: list) -> dict:
    """The results dictionary of the finished ``results`` (``complete`` once all
    ``args.runs`` are in)."""
    import numpy as np
    import torch

    accuracies = [r.accuracy for r in results]
    baselines = [r.baseline_accuracy for r in results if r.baseline_accuracy is not None]
    baseline = None if not baselines else {
        "method": "gcn", "labels": "the same noisy labels, seeds and protocol",
        "accuracies": baselines, "accuracy_mean": float(np.mean(baselines)),
        "accuracy_std": float(np.std(baselines))}
    realised_rates = [r.realised_rate for r in results]
    val_rates = [r.val_rate for r in results]
    return {
        "method": args.method, "dataset": args.dataset, "noise": args.noise,
        "rate": args.rate, "sampler": args.sampler, "protocol": args.protocol,
        "complete": len(results) == args.runs, "runs_finished": len(results),
        "realised_rate": float(np.mean(realised_rates)), "realised_rates": realised_rates,
        "realised_val_rate": None if val_rates[0] is None else float(np.mean(val_rates)),
        "realised_val_rates": None if val_rates[0] is None else val_rates,
        "runs": args.runs, "seeds": [r.seed for r in results],
        "noise_seed": "per run" if args.resample_noise else args.seed,
        "accuracies": accuracies, "accuracy_mean": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)),
        "baseline": baseline,
        "best_epochs": [r.best_epoch for r in results],
        "epochs_run": [r.epochs for r in results],
        "seconds_per_epoch": float(np.mean([r.seconds_per_epoch for r in results])),
        "device": str(args.device), "torch_threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def format_table(result: dict) -> str:
    header = ("| method | data set | noise | nominal | realised (train / val) | protocol | "
              "accuracy (%) | s/epoch |")
    realised = f"{result['realised_rate']:.1%}"
    if result.get("realised_val_rate") is not None:
        realised += f" / {result['realised_val_rate']:.1%}"
    row = (f"| {result['method']} | {result['dataset']} | {result['noise']} "
           f"({result['sampler']}) | {result['rate']:.0%} | {realised} | "
           f"{result['protocol']} | {result['accuracy_mean']:.2f} ± {result['accuracy_std']:.2f}"
           f" ({result['runs_finished']} run{'s' if result['runs_finished'] != 1 else ''}) | "
           f"{result['seconds_per_epoch']:.3f} |")
    rows = [header, "| " + " | ".join(["---"] * 8) + " |", row]
    baseline = result.get("baseline")
    if baseline:
        count = len(baseline["accuracies"])
        rows.append(f"| gcn (baseline, same noisy labels) | {result['dataset']} | "
                    f"{result['noise']} ({result['sampler']}) | {result['rate']:.0%} | {realised} | "
                    f"{result['protocol']} | {baseline['accuracy_mean']:.2f} ± "
                    f"{baseline['accuracy_std']:.2f} ({count} run{'s' if count != 1 else ''}) | |")
    return "\n".join(rows)


def write_json(path: str, result: dict) -> None:
    """Writes ``result`` to ``path`` atomically (a temporary file in the same folder, then a
    rename): an interrupt leaves either the previous or the new content, never half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".erase-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(round_floats(result), out, indent=2)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def run(args) -> int:
    """Runs the command; with ``--json`` the file is rewritten after every finished run, so
    an interrupted command leaves its finished runs there (``"complete": false``)."""
    on_run = (lambda summary: write_json(args.json, summary)) if args.json else None
    result = run_all(args, on_run=on_run)
    print(format_table(result))
    return 0
