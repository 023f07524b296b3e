"""``noisygraph ncp``: the network community profile of a data set's graph.

The least conductance found at each cluster size (log-binned) over the sweep prefixes of ACL
PageRank and l2 flow diffusions from ``--seeds`` random seed nodes (drawn with ``--seed``);
see :func:`noisygraph.cluster.ncp.ncp`.

    noisygraph ncp --dataset coauthor_cs --seeds 100 --plot ncp.png
    noisygraph ncp --dataset cora --methods acl --json ncp.json
"""
from __future__ import annotations

import argparse
import json

from noisygraph_cli._common import (UsageError, add_json, add_plot, add_root, add_seed,
                                    add_threads, check_output, check_root, check_seed,
                                    check_threads, load_dataset_flag, round_floats, set_threads)
from noisygraph_cli.choices import NCP_METHODS

DEFAULT_SEEDS = 100


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True,
                        help="data set name (e.g. coauthor_cs, amazon_photo, cora)")
    add_root(parser)
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, metavar="K",
                        help=f"number of random seed nodes (default: {DEFAULT_SEEDS})")
    parser.add_argument("--methods", nargs="+", choices=NCP_METHODS, default=list(NCP_METHODS),
                        help="diffusions: acl (PageRank push), flow (l2 flow diffusion) "
                             "(default: both)")
    parser.add_argument("--bins-per-decade", type=int, default=10, metavar="B",
                        help="size bins per factor of 10, in [1, 100] (default: 10)")
    add_seed(parser, default=0, seeds="the draw of the seed nodes")
    add_threads(parser)
    add_plot(parser, help="save the profile (log-log, PNG or any matplotlib format) here")
    add_json(parser)


def validate(args: argparse.Namespace) -> None:
    """Checks every flag before any data is loaded."""
    if args.dataset.strip().lower() == "csbm":
        raise UsageError("--dataset", "csbm needs generator options; ncp runs on stored data "
                                      "sets (see `noisygraph data list`)")
    check_root(args.root)
    if args.seeds < 1:
        raise UsageError("--seeds", f"must be >= 1, got {args.seeds}")
    if not 1 <= args.bins_per_decade <= 100:
        raise UsageError("--bins-per-decade", f"must be in [1, 100], got {args.bins_per_decade}")
    check_seed(args.seed)
    check_threads(args.threads)
    check_output("--plot", args.plot)
    check_output("--json", args.json)


def run(args: argparse.Namespace) -> int:
    from noisygraph.cluster import LocalGraph, ncp

    set_threads(args.threads)
    data = load_dataset_flag(args.dataset, args.root)
    graph = LocalGraph.from_graph(data)
    candidates = int((graph.degree > 0).sum())
    if args.seeds > candidates:
        raise UsageError("--seeds", f"asks for more seeds than the {candidates} nodes with "
                                    "edges")
    result = ncp(graph, seeds=args.seeds, methods=tuple(dict.fromkeys(args.methods)),
                 seed=args.seed, bins_per_decade=args.bins_per_decade)
    print(f"{args.dataset}: {graph.num_nodes} nodes, {args.seeds} seeds, "
          f"{result.num_diffusions} diffusions, {result.ms / 1e3:.1f} s")
    print(f"{'size':>7} {'conductance':>12}  method  seed")
    for p in result.curves["best"]:
        print(f"{p['size']:>7} {p['conductance']:>12.4g}  {p['method']:<6}  {p['seed']}")
    if result.hit_push_limit:
        print(f"note: {result.hit_push_limit} diffusions stopped at the push limit (a flow "
              "mass above the sink capacity of a small component)")
    if args.plot:
        result.plot(args.plot, title=f"NCP of {args.dataset} ({args.seeds} seeds)")
    if args.json:
        record = {"dataset": args.dataset, "seeds": args.seeds, "seed": args.seed,
                  **result.to_dict()}
        with open(args.json, "w") as handle:
            json.dump(round_floats(record), handle, indent=1)
    return 0
