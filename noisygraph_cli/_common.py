"""What every subcommand shares: usage errors, flag checks and how a run ends.

A subcommand module may define ``validate(args) -> None``; :func:`noisygraph_cli.main` calls it
after parsing and before ``run``, so a bad flag is reported in one line (exit status 2) before
any data set, model or server is touched.
"""
from __future__ import annotations

import math
from typing import Optional


class UsageError(Exception):
    """A flag has a value the command cannot use: reported as one line, exit status 2.

    Args:
        flag (str): the flag, as the user types it (e.g. ``"--rate"``).
        message (str): what is wrong with its value.
    """

    def __init__(self, flag: str, message: str):
        super().__init__(f"{flag}: {message}")
        self.flag = flag


def check_number(value: float, flag: str, *, low: Optional[float] = None,
                 high: Optional[float] = None, low_open: bool = False,
                 high_open: bool = False) -> None:
    """Raises :class:`UsageError` unless ``value`` is finite and within the given bounds."""
    if not math.isfinite(value):
        raise UsageError(flag, f"must be a finite number, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise UsageError(flag, f"must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise UsageError(flag, f"must be {'<' if high_open else '<='} {high}, got {value}")
