"""``noisygraph bench``: every method on the same noisy labels, under one stated protocol.

Runs the grid data sets × methods × noise kinds × rates × runs (one training per cell,
run ``r`` seeded with ``seed + 100 r``; the noisy labels of a (data set, noise, rate, run)
are shared by every method), prints the protocol and one Markdown table of test accuracy
(mean ± std) per data set, and optionally writes them as JSON / Markdown and plots accuracy
against the noise rate. Every finished cell is appended to a cache (keyed by its full
configuration), so an interrupted command, run again, continues where it stopped. ``--jobs N``
runs the cells in N processes; the results do not depend on N.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional

from noisygraph_cli._common import (UsageError, add_device, add_json, add_plot, add_quiet,
                                    add_root, add_seed, add_threads, check_device,
                                    check_number, check_output, check_seed, check_threads,
                                    round_floats)
from noisygraph_cli.choices import (NOISE_DRAWS, NOISE_KINDS, NOISE_SAMPLERS,
                                    PER_NODE_NOISE_KINDS, PROTOCOLS)

#: The cache file under $NOISYGRAPH_CACHE when --cache is not given.
DEFAULT_CACHE = os.path.join("bench", "cells.jsonl")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", nargs="+", default=["gcn", "erase"], metavar="METHOD",
                        help="methods of noisygraph.bench.method_registry() (default: gcn erase)")
    parser.add_argument("--datasets", nargs="+", default=["Cora"], metavar="NAME",
                        help="noisygraph.datasets.load_dataset names (default: Cora)")
    add_root(parser)
    parser.add_argument("--noise", nargs="+", default=["uniform"], choices=NOISE_KINDS,
                        metavar="KIND", help=f"label-noise kinds, of {', '.join(NOISE_KINDS)} "
                                             "(default: uniform)")
    parser.add_argument("--rates", nargs="+", type=float, default=[0.2, 0.4], metavar="RATE",
                        help="nominal noise rates in [0, 1] (default: 0.2 0.4)")
    parser.add_argument("--sampler", default="exact", choices=NOISE_SAMPLERS,
                        help="exact: exactly round(rate*n) flips (default); independent: one "
                             "coin per node; paper: the ERASE release's seeded draw")
    parser.add_argument("--noise-draw", default="per-run", choices=NOISE_DRAWS,
                        help="per-run: run r's noisy labels drawn with seed + 100 r (default); "
                             "once: one draw with --seed shared by every run (the ERASE "
                             "release's protocol)")
    parser.add_argument("--runs", type=int, default=5, help="runs per cell (default: 5)")
    parser.add_argument("--protocol", default="paper", choices=PROTOCOLS,
                        help="paper: noise on training labels, selection on clean validation "
                             "labels; noisy-val: validation labels corrupted by the same noise "
                             "model, selection on them (default: paper)")
    add_seed(parser, default=123, seeds="run r trains (and, under --noise-draw per-run, draws "
                                        "its noise) with seed + 100 r")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs of every method (default: each method's own)")
    parser.add_argument("--patience", type=int, default=None,
                        help="early-stopping patience of every method (default: each method's)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="cells run in N parallel processes (default: 1)")
    parser.add_argument("--cache", default=None, metavar="PATH",
                        help="JSON-lines file of finished cells, read and appended to "
                             f"(default: $NOISYGRAPH_CACHE/{DEFAULT_CACHE})")
    parser.add_argument("--report", action="store_true",
                        help="train nothing: the tables, --json, --markdown and --plot of the "
                             "cells already in --cache (a cell not there shows as missing)")
    add_device(parser)
    add_threads(parser)
    add_json(parser, help="write protocol, per-cell records and summary as JSON here, "
                          "rewritten after every cell")
    parser.add_argument("--markdown", default=None, metavar="PATH",
                        help="write the protocol and the tables as Markdown here")
    add_plot(parser, help="plot test accuracy against the noise rate, one panel per data set")
    add_quiet(parser)


def _unique(flag: str, values: list) -> None:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise UsageError(flag, f"repeats {', '.join(repeated)}")


def validate(args) -> None:
    """Checks every flag before any data is loaded (:class:`UsageError`: one line, exit 2).
    The method names are checked against the registry, which imports the library."""
    for rate in args.rates:
        check_number(rate, "--rates", low=0.0, high=1.0)
    for flag, values in (("--methods", args.methods), ("--datasets", args.datasets),
                         ("--noise", args.noise), ("--rates", args.rates)):
        _unique(flag, values)
    if args.runs < 1:
        raise UsageError("--runs", f"must be >= 1, got {args.runs}")
    check_seed(args.seed, span=100 * (args.runs - 1))
    if args.epochs is not None and args.epochs < 1:
        raise UsageError("--epochs", f"must be >= 1, got {args.epochs}")
    if args.patience is not None and args.patience < 0:
        raise UsageError("--patience", f"must be >= 0, got {args.patience}")
    if args.jobs < 1:
        raise UsageError("--jobs", f"must be >= 1, got {args.jobs}")
    per_node = [kind for kind in args.noise if kind in PER_NODE_NOISE_KINDS]
    if args.sampler == "paper" and per_node:
        raise UsageError("--sampler", "paper reproduces the release's class-conditional draw; "
                                      f"it has no {per_node[0]} noise")
    check_threads(args.threads)
    for flag in ("--json", "--markdown", "--plot", "--cache"):
        check_output(flag, getattr(args, flag.lstrip("-")))
    if args.report and args.cache is not None and not os.path.isfile(args.cache):
        raise UsageError("--cache", f"no file {args.cache!r} to report (--report trains nothing)")
    check_device(args.device)
    from noisygraph.bench import method_registry
    from noisygraph_cli.erase import check_dataset

    known = method_registry()
    unknown = [name for name in args.methods if name not in known]
    if unknown:
        raise UsageError("--methods", f"unknown method {unknown[0]!r} (known: "
                                      f"{', '.join(sorted(known))})")
    for name in args.datasets:
        check_dataset(name, args.root, "--datasets")


def _cache_path(args) -> str:
    if args.cache is not None:
        return args.cache
    from noisygraph.datasets._paths import cache_dir

    path = cache_dir() / DEFAULT_CACHE
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _write(path: Optional[str], text: str) -> None:
    """Writes ``text`` to ``path`` atomically (a temporary file, then a rename)."""
    if path is None:
        return
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, path)


def run(args) -> int:
    import json

    from noisygraph.bench import GridError, run_benchmark

    def write_json(result) -> None:
        if args.json:
            _write(args.json, json.dumps(round_floats(result.to_dict()), indent=2))

    cache = _cache_path(args)
    try:
        result = run_benchmark(
            args.datasets, args.methods, noise=args.noise, rates=args.rates, runs=args.runs,
            protocol=args.protocol, sampler=args.sampler, noise_draw=args.noise_draw,
            seed=args.seed, epochs=args.epochs,
            patience=args.patience, device=None if args.device == "cpu" else args.device,
            root=args.root, cache=cache, jobs=args.jobs, threads=args.threads,
            verbose=not args.quiet and not args.report, on_record=write_json,
            train=not args.report)
    except GridError as error:  # a noise kind a data set cannot take, found on loading it
        message = str(error)
        flag = "--noise" if message.startswith("noise") else "--datasets"
        raise UsageError(flag, message.split(": ", 1)[-1]) from None
    write_json(result)
    table = result.to_markdown()
    _write(args.markdown, table + "\n")
    if args.plot:
        result.plot(args.plot)
    print(table)
    if not args.quiet:
        print(f"\n{result.cached} of {len(result.records)} cells read from {cache}"
              + (f"; {result.config['num_cells'] - len(result.records)} of the grid's "
                 f"{result.config['num_cells']} not run (--report trains nothing)"
                 if args.report and not result.complete else ""))
    return 0
