"""``noisygraph detect``: which training labels look wrong (``noisygraph.detection``).

With ``--noise`` and ``--rate`` the training labels are first corrupted (``AddLabelNoise``,
``on="train"``, seeded by ``--seed``) and the flagged nodes are scored against the injected
flips (AUROC, precision/recall at the true count, F1); the detector itself never sees them.
Without ``--noise`` the data set's own labels are checked. ``--train-fraction F`` uses a
random fraction ``F`` of the nodes (seeded by ``--seed``) as the labelled nodes instead of the
data set's ``train_mask``. A text graph without features (``dblp``) is embedded with the
offline sentence model (``noisygraph[text]``). ``--erase-epochs N`` adds the ERASE-embedding
class-consistency evidence (an ERASE encoder trained ``N`` epochs on the training labels, no
validation label read).

    noisygraph detect --dataset Cora --noise uniform --rate 0.2
    noisygraph detect --dataset Cora --noise pair --rate 0.4 --train-fraction 0.2 --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys

from noisygraph_cli._common import (UsageError, add_json, add_noise, add_rate, add_root,
                                    add_seed, add_threads, check_number, check_output,
                                    check_root, check_seed, check_threads, load_dataset_flag,
                                    round_floats, set_threads)

DEFAULT_FOLDS = 5
DEFAULT_EPOCHS = 200


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, help="data set name (e.g. Cora, dblp)")
    add_root(parser)
    add_noise(parser, default=None, help="label noise injected into the training labels "
                                         "first (needs --rate)")
    add_rate(parser, default=None, help="noise rate in [0, 1] (with --noise)")
    add_seed(parser, default=0, seeds="the noise, the --train-fraction split, the folds and "
                                      "the models")
    parser.add_argument("--train-fraction", type=float, default=None, metavar="F",
                        help="label a random fraction F in (0, 1) of the nodes instead of the "
                             "data set's train_mask")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS,
                        help=f"cross-validation folds, >= 2 (default {DEFAULT_FOLDS})")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                        help=f"GCN epochs per fold, >= 1 (default {DEFAULT_EPOCHS})")
    parser.add_argument("--erase-epochs", type=int, default=None, metavar="N",
                        help="add the ERASE-embedding class-consistency evidence: an ERASE "
                             "encoder trained N >= 1 epochs on the training labels, the last "
                             "kept (400 is erase_embeddings' default; default: off)")
    add_threads(parser)
    add_json(parser)


def validate(args: argparse.Namespace) -> None:
    """Checks every flag before any data is loaded."""
    check_root(args.root)
    if (args.noise is None) != (args.rate is None):
        raise UsageError("--rate" if args.rate is None else "--noise",
                         "--noise and --rate go together")
    if args.rate is not None:
        check_number(args.rate, "--rate", low=0.0, high=1.0)
    check_seed(args.seed)
    if args.train_fraction is not None:
        check_number(args.train_fraction, "--train-fraction", low=0.0, high=1.0,
                     low_open=True, high_open=True)
    if args.folds < 2:
        raise UsageError("--folds", f"must be >= 2, got {args.folds}")
    if args.epochs < 1:
        raise UsageError("--epochs", f"must be >= 1, got {args.epochs}")
    if args.erase_epochs is not None and args.erase_epochs < 1:
        raise UsageError("--erase-epochs", f"must be >= 1, got {args.erase_epochs}")
    check_threads(args.threads)
    check_output("--json", args.json)


def _scores(truth, scores, mask) -> dict:
    """Evaluation against the injected flips (read only here)."""
    import torch

    k = int(truth.sum())
    out = {"true_count": k}
    if 0 < k < truth.numel():
        wrong = 1 - scores
        pos, neg = wrong[truth], wrong[~truth]
        out["auroc"] = float((pos.unsqueeze(1) > neg.unsqueeze(0)).double().mean()
                             + 0.5 * (pos.unsqueeze(1) == neg.unsqueeze(0)).double().mean())
    if k:
        top = torch.argsort(scores, stable=True)[:k]
        out["precision_at_k"] = out["recall_at_k"] = float(truth[top].float().mean())
    denominator = int(mask.sum()) + k
    out["f1"] = 0.0 if denominator == 0 else 2 * int((mask & truth).sum()) / denominator
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from noisygraph.detection import detect_label_issues, erase_embeddings
    from noisygraph.noise import AddLabelNoise

    set_threads(args.threads)
    data = load_dataset_flag(args.dataset, args.root)
    if getattr(data, "x", None) is None:
        if getattr(data, "text", None) is None:
            raise UsageError("--dataset", f"{args.dataset!r} has neither features nor texts")
        from noisygraph.locle.text import embed_texts
        data.x = embed_texts(data.text, verbose=False)
    if args.train_fraction is not None:
        order = torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(args.seed))
        data.train_mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        data.train_mask[order[:max(2, round(args.train_fraction * data.num_nodes))]] = True
    if getattr(data, "train_mask", None) is None:
        raise UsageError("--train-fraction", f"{args.dataset!r} has no train_mask: give one")
    if args.noise is not None:
        data = AddLabelNoise(args.noise, args.rate, seed=args.seed)(data)
    embeddings = None if args.erase_epochs is None else erase_embeddings(
        data, seed=args.seed, epochs=args.erase_epochs)
    issues = detect_label_issues(data, folds=args.folds, seed=args.seed,
                                 trainer={"epochs": args.epochs}, embeddings=embeddings)
    record = {"dataset": args.dataset, "noise": args.noise, "rate": args.rate,
              "seed": args.seed, "folds": args.folds, "epochs": args.epochs,
              "erase_epochs": args.erase_epochs,
              "num_train": issues.nodes.numel(), "num_issues": issues.num_issues,
              "estimated_noise_rate": issues.estimated_noise_rate,
              "flagged_nodes": issues.ranked_indices().tolist(),
              "scores": issues.scores.tolist(), "nodes": issues.nodes.tolist()}
    line = (f"{args.dataset}: {issues.num_issues} of {issues.nodes.numel()} training labels "
            f"flagged (estimated noise rate {issues.estimated_noise_rate:.1%})")
    if args.noise is not None:
        record["realised_rate"] = float(data.noise_rate)
        record["evaluation"] = _scores(data.noise_flipped[issues.nodes], issues.scores,
                                       issues.is_issue)
        ev = record["evaluation"]
        line += (f"; injected {ev['true_count']} ({record['realised_rate']:.1%}): "
                 f"AUROC {ev.get('auroc', float('nan')):.3f}, F1 {ev['f1']:.3f}")
    print(line)
    if args.json is not None:
        with open(args.json, "w") as handle:
            json.dump(round_floats(record), handle)
            handle.write("\n")
    sys.stdout.flush()
    return 0
