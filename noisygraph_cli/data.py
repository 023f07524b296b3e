"""``noisygraph data``: list the data sets under the data root, summarise one, inject noise.

Examples::

    noisygraph data list
    noisygraph data show coauthor_cs
    noisygraph data show Cora --noise pair --rate 0.4 --sampler paper --seed 123
"""
from __future__ import annotations

import argparse
import os
import sys

from noisygraph_cli._common import (UsageError, add_noise, add_rate, add_root, add_seed, check_number,
                                    check_root, check_seed)
from noisygraph_cli.choices import NOISE_SAMPLERS, PER_NODE_NOISE_KINDS

DEFAULT_CSBM_NODES = 10_000
# `show csbm` draws 5 classes with 20 training nodes each (the generator's defaults).
MIN_CSBM_NODES = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "show"], help="list the data sets, or summarise one")
    parser.add_argument("name", nargs="?", help="data set to show (see `noisygraph data list`)")
    add_root(parser)
    add_noise(parser, default=None, help="inject label noise of this kind (default: none)")
    add_rate(parser, default=None, help="nominal noise rate in [0, 1) (default: 0.2)")
    parser.add_argument("--sampler", choices=NOISE_SAMPLERS, default=None, help="how flips are drawn "
                        "(default independent)")
    parser.add_argument("--on", choices=["train", "train+val", "all"], default=None,
                        help="nodes to corrupt (default train)")
    add_seed(parser, default=None, seeds="the label noise (default: 0)")
    parser.add_argument("--num-nodes", type=int, default=None,
                        help=f"nodes, for `show csbm` (default {DEFAULT_CSBM_NODES:,})")


def validate(args: argparse.Namespace) -> None:
    """Every flag checked before any data set is read (one line and status 2 otherwise)."""
    check_root(args.root)
    environment = os.environ.get("NOISYGRAPH_DATA")
    reads_root = args.action == "list" or (args.name or "").strip().lower() != "csbm"
    if args.root is None and environment and reads_root and not os.path.isdir(os.path.expanduser(environment)):
        raise UsageError("NOISYGRAPH_DATA", f"{environment!r} is not an existing folder (fix it, or pass --root)")
    noise_flags = [(flag, value) for flag, value in (("--rate", args.rate), ("--sampler", args.sampler),
                                                     ("--on", args.on), ("--seed", args.seed)) if value is not None]
    if args.action == "list":
        if args.name is not None:
            raise UsageError("name", "`data list` takes no data set name (use `data show NAME`)")
        given = [flag for flag, value in [("--noise", args.noise), ("--num-nodes", args.num_nodes)] + noise_flags
                 if value is not None]
        if given:
            raise UsageError(given[0], "only applies to `data show`")
        return
    if not args.name or not args.name.strip():
        raise UsageError("name", "give a data set name (see `noisygraph data list`)")
    if args.num_nodes is not None:
        if args.name.strip().lower() != "csbm":
            raise UsageError("--num-nodes", "only applies to `data show csbm`")
        check_number(args.num_nodes, "--num-nodes", low=MIN_CSBM_NODES)
    if args.noise is None:
        if noise_flags:
            raise UsageError(noise_flags[0][0], "has no effect without --noise")
        return
    if args.rate is not None:
        check_number(args.rate, "--rate", low=0.0, high=1.0, high_open=True)
    check_seed(args.seed)
    if args.noise in PER_NODE_NOISE_KINDS and args.sampler == "paper":
        raise UsageError("--sampler", f"'paper' reproduces class-conditional draws; it has no "
                                      f"{args.noise!r} noise")


def run(args: argparse.Namespace) -> int:
    import torch

    from noisygraph.datasets import DataFormatError, DatasetNotFoundError, available_datasets, data_root, load_dataset
    from noisygraph.noise import AddLabelNoise

    if args.action == "list":
        print(f"data root: {args.root or data_root()}")
        for name in available_datasets(args.root):
            print(f"  {name}")
        return 0
    extra = {}
    if args.name.strip().lower() == "csbm":
        extra = {"num_nodes": args.num_nodes or DEFAULT_CSBM_NODES, "num_val": 0, "num_test": 0}
    try:
        data = load_dataset(args.name, root=args.root, **extra)
    except (DatasetNotFoundError, DataFormatError) as error:
        print(f"noisygraph data: error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # an unknown name: the message lists what the root holds
        print(f"noisygraph data: error: {error}", file=sys.stderr)
        return 2
    degree = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
    print(f"{args.name}: {data.num_nodes:,} nodes, {data.edge_index.size(1):,} directed edges, "
          f"{data.num_classes} classes, {int((degree == 0).sum()):,} isolated, "
          f"features: {'none' if data.x is None else tuple(data.x.shape)}")
    print("class sizes:", torch.bincount(data.y, minlength=data.num_classes).tolist())
    for split in ("train_mask", "val_mask", "test_mask"):
        if split in data:
            print(f"{split}: {int(data[split].sum()):,}")
    if args.noise is not None:
        rate = 0.2 if args.rate is None else args.rate
        on = args.on or "train"
        sampler = args.sampler or "independent"
        seed = 0 if args.seed is None else args.seed
        if on != "all" and "train_mask" not in data:
            print(f"noisygraph data: error: --on: {args.name} has no split; use --on all", file=sys.stderr)
            return 2
        if args.noise in ("instance", "instance_noisygl") and data.x is None:
            print(f"noisygraph data: error: --noise: {args.name} has no features; {args.noise!r} noise "
                  "needs x", file=sys.stderr)
            return 2
        if args.noise == "annotator":
            from noisygraph.bench.annotator import annotator_probabilities, is_text_graph
            if not is_text_graph(data):
                print(f"noisygraph data: error: --noise: {args.name} is not a text graph; 'annotator' "
                      "noise needs node texts and class names (e.g. dblp)", file=sys.stderr)
                return 2
            data.annotator_probs = annotator_probabilities(data)
        data = AddLabelNoise(args.noise, rate, on=on, seed=seed, sampler=sampler)(data)
        print(f"noise {args.noise} nominal {rate:.1%} on {on} ({sampler}, seed {seed}): "
              f"realised {data.noise_rate:.1%}")
        print("empirical transition (rows: true class, columns: noisy class):")
        for row in data.noise_transition.tolist():
            print("  " + " ".join(f"{value:5.2f}" for value in row))
    return 0
