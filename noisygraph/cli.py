"""The ``noisygraph`` command: one subcommand per capability.

Each subcommand lives in ``noisygraph/commands/<name>.py`` and defines
``configure(parser: argparse.ArgumentParser) -> None`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "data": "list the data sets under the data root and show one (optionally with label noise)",
    "erase": "error-resilient node classification (ERASE) under label noise",
    "cluster": "local clustering from seed nodes, optionally on a label-weighted graph",
    "locle": "label-free node classification with an LLM (or offline) annotator",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="noisygraph", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, help_text in SUBCOMMANDS.items():
        module = importlib.import_module(f"noisygraph.commands.{name}")
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.configure(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
