"""What the benchmark scripts share around their measurements: the JSON-lines log of runs
(read it, append one run to it), the entry point of a grid script (print the report of the
log, or run the grid), and the result files (Markdown text, JSON rows)."""
from __future__ import annotations

import json
import os
import time
from typing import Callable, Optional


def read_log(log: str) -> list:
    """The records of the JSON-lines ``log`` (none when it does not exist yet)."""
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def append_run(log: str, record: dict) -> dict:
    """``record`` with the torch thread count and the UTC date, appended to ``log`` as one
    line and printed."""
    import torch  # here: scripts that keep torch out of their parent process import this module

    record = dict(record, threads=torch.get_num_threads(),
                  date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    with open(log, "a") as handle:
        handle.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)
    return record


def run_or_report(args, run_grid: Callable, report: Callable,
                  before_run: Optional[Callable] = None) -> int:
    """``--report``: print ``report(args)``; else set ``--threads`` torch threads, call
    ``before_run()`` (e.g. a header on stderr) and ``run_grid(args)``. Returns the exit status."""
    if args.report:
        print(report(args))
        return 0
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if before_run is not None:
        before_run()
    run_grid(args)
    return 0


def write_markdown(path: Optional[str], text: str) -> None:
    """Prints ``text`` and writes it to ``path`` when given."""
    print(text)
    if path:
        with open(path, "w") as handle:
            handle.write(text)


def write_json(path: Optional[str], rows, indent: int = 1) -> None:
    """Writes ``rows`` as indented JSON to ``path`` when given."""
    if path:
        with open(path, "w") as handle:
            json.dump(rows, handle, indent=indent)
