"""``noisygraph data``: list the data sets under the data root, summarise one, inject noise.

Examples::

    noisygraph data list
    noisygraph data show coauthor_cs
    noisygraph data show Cora --noise pair --rate 0.4 --sampler paper --seed 123
"""
from __future__ import annotations

import argparse

import torch

from noisygraph.noise import NOISE_KINDS, NOISE_SAMPLERS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "show"], help="list the data sets, or summarise one")
    parser.add_argument("name", nargs="?", help="data set to show (see `noisygraph data list`)")
    parser.add_argument("--root", default=None, help="data root (default: $NOISYGRAPH_DATA)")
    parser.add_argument("--noise", choices=NOISE_KINDS, default=None, help="inject label noise of this kind")
    parser.add_argument("--rate", type=float, default=0.2, help="nominal noise rate (default 0.2)")
    parser.add_argument("--sampler", choices=NOISE_SAMPLERS, default="independent")
    parser.add_argument("--on", choices=["train", "train+val", "all"], default="train", help="nodes to corrupt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-nodes", type=int, default=10_000, help="nodes, for `show csbm`")


def run(args: argparse.Namespace) -> int:
    from noisygraph.datasets import available_datasets, data_root, load_dataset
    from noisygraph.noise import AddLabelNoise

    if args.action == "list":
        print(f"data root: {args.root or data_root()}")
        for name in available_datasets(args.root):
            print(f"  {name}")
        return 0
    if not args.name:
        raise SystemExit("noisygraph data show: give a data set name (see `noisygraph data list`)")
    extra = {"num_nodes": args.num_nodes, "num_val": 0, "num_test": 0} if args.name.lower() == "csbm" else {}
    data = load_dataset(args.name, root=args.root, **extra)
    degree = torch.bincount(data.edge_index[0], minlength=data.num_nodes)
    print(f"{args.name}: {data.num_nodes:,} nodes, {data.edge_index.size(1):,} directed edges, "
          f"{data.num_classes} classes, {int((degree == 0).sum()):,} isolated, "
          f"features: {'none' if data.x is None else tuple(data.x.shape)}")
    print("class sizes:", torch.bincount(data.y, minlength=data.num_classes).tolist())
    for split in ("train_mask", "val_mask", "test_mask"):
        if split in data:
            print(f"{split}: {int(data[split].sum()):,}")
    if args.noise is not None:
        if args.on != "all" and "train_mask" not in data:
            raise SystemExit(f"{args.name} has no split: use --on all")
        data = AddLabelNoise(args.noise, args.rate, on=args.on, seed=args.seed, sampler=args.sampler)(data)
        print(f"noise {args.noise} nominal {args.rate:.1%} on {args.on} ({args.sampler}, seed {args.seed}): "
              f"realised {data.noise_rate:.1%}")
        print("empirical transition (rows: true class, columns: noisy class):")
        for row in data.noise_transition.tolist():
            print("  " + " ".join(f"{value:5.2f}" for value in row))
    return 0
