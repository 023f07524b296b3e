"""The ``noisygraph`` command: one subcommand per capability.

This package is the command-line front end of :mod:`noisygraph`, kept outside it so that
parsing, ``--help`` and flag checks run without importing torch (``import noisygraph`` loads
torch, the compiled library and every op). Each subcommand lives in
``noisygraph_cli/<name>.py`` and defines ``configure(parser)`` and ``validate(args)``, which
import nothing heavy, and ``run(args) -> int``, which imports the library inside the function.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "data": "list the data sets under the data root and show one (optionally with label noise)",
    "erase": "error-resilient node classification (ERASE) under label noise",
    "cluster": "local clustering from seed nodes, optionally on a label-weighted graph",
    "ncp": "network community profile: least conductance per cluster size (ACL, flow)",
    "locle": "label-free node classification with an LLM (or offline) annotator",
    "detect": "which training labels look wrong (graph-aware label-issue detection)",

    "bench": "every noisy-label method on the same noisy labels under one protocol: mean ± std tables",
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (their modules are imported, the library is not)."""
    parser = argparse.ArgumentParser(prog="noisygraph", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, help_text in SUBCOMMANDS.items():
        module = importlib.import_module(f"noisygraph_cli.{name}")
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.configure(sub)
        sub.set_defaults(_run=module.run, _validate=getattr(module, "validate", None))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parses ``argv``, validates the flags (``validate(args)`` of the subcommand, before any
    data is loaded), then runs. A :class:`~noisygraph_cli._common.UsageError` ends in one
    line on stderr and exit status 2; missing or malformed data in one line and status 1; Ctrl-C
    in one line and status 130 (what a subcommand already wrote, e.g. finished runs in
    ``--json``, stays)."""
    from noisygraph_cli._common import UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args._validate is not None:
            args._validate(args)
        return int(args._run(args) or 0)
    except UsageError as error:
        print(f"noisygraph {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"noisygraph {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not _is_data_error(error):
            raise
        print(f"noisygraph {args.command}: error: {error}", file=sys.stderr)
        return 1


def _is_data_error(error: Exception) -> bool:
    """Missing or malformed data (``DatasetNotFoundError``, ``DataFormatError``): reported in
    one line, never a traceback. Looked up only once one was raised, so parsing stays torch-free."""
    paths, parse = sys.modules.get("noisygraph.datasets._paths"), sys.modules.get("noisygraph.datasets._parse")
    kinds = tuple(kind for kind in (getattr(paths, "DatasetNotFoundError", None),
                                    getattr(parse, "DataFormatError", None)) if kind is not None)
    return bool(kinds) and isinstance(error, kinds)

