"""What every subcommand shares: the flags defined once, usage errors, flag checks.

A flag that two subcommands share is added by one function here, so it has one name, one
meaning and one check everywhere: ``--seed`` is an RNG seed, ``--noise`` a noise kind, ``--rate``
a noise rate, ``--json``/``--plot`` output files, ``--quiet`` no progress bars, ``--threads``
torch's CPU threads, ``--device`` a torch device, ``--root`` the data root. A subcommand module
may define ``validate(args) -> None``; :func:`noisygraph_cli.main` calls it after parsing and
before ``run``, so a bad flag is reported in one line (exit status 2) before any data set, model
or server is touched. Nothing here imports torch or the library.
"""
from __future__ import annotations

import argparse
import math
import os
from typing import Optional

from noisygraph_cli.choices import NOISE_KINDS

#: Seeds are accepted in [0, SEED_LIMIT) (NumPy's legacy generator takes 32-bit seeds).
SEED_LIMIT = 2**32


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


# ------------------------------------------------------------------ the shared flags

def add_seed(parser: argparse.ArgumentParser, *, default: Optional[int], seeds: str,
             accepted: str = "[0, 2**32)") -> None:
    """``--seed``: the RNG seed (``accepted`` says its range). ``seeds`` says what it seeds."""
    shown = "" if default is None else f" (default: {default})"
    parser.add_argument("--seed", type=int, default=default,
                        help=f"random seed in {accepted}: {seeds}{shown}")


def add_noise(parser: argparse.ArgumentParser, *, default: Optional[str], help: str) -> None:
    """``--noise``: the label-noise kind, one of :data:`~noisygraph_cli.choices.NOISE_KINDS`."""
    shown = "" if default is None else f" (default: {default})"
    parser.add_argument("--noise", choices=NOISE_KINDS, default=default, help=f"{help}{shown}")


def add_rate(parser: argparse.ArgumentParser, *, default: Optional[float], help: str) -> None:
    """``--rate``: the nominal noise rate (its range is checked by the subcommand)."""
    shown = "" if default is None else f" (default: {default})"
    parser.add_argument("--rate", type=float, default=default, help=f"{help}{shown}")


def add_root(parser: argparse.ArgumentParser) -> None:
    """``--root``: the data root."""
    parser.add_argument("--root", default=None, metavar="FOLDER",
                        help="data root (default: $NOISYGRAPH_DATA, else ~/.cache/noisygraph)")


def add_json(parser: argparse.ArgumentParser, *, help: str = "write the results as JSON here"
             ) -> None:
    """``--json PATH``: the results as JSON (floats to :data:`JSON_DIGITS` significant
    digits, see :func:`round_floats`)."""
    parser.add_argument("--json", default=None, metavar="PATH", help=help)


def add_plot(parser: argparse.ArgumentParser, *, help: str) -> None:
    """``--plot PATH``: a picture of the run."""
    parser.add_argument("--plot", default=None, metavar="PATH", help=help)


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_threads(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's CPU threads."""
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads; 1 or 2 on a busy machine (default: torch's "
                             "choice, one per core)")


def add_device(parser: argparse.ArgumentParser, *, help: str = "") -> None:
    """``--device``: the torch device (``help``: what runs there)."""
    what = f"{help}: " if help else ""
    parser.add_argument("--device", default="cpu",
                        help=f"{what}cpu, cuda, cuda:1, ... (default: cpu)")


# ------------------------------------------------------------------ their checks

def check_seed(value: Optional[int], flag: str = "--seed", *, span: int = 0) -> None:
    """``value`` (when given) in [0, 2**32); with ``span`` > 0 also ``value + span``
    (a command that seeds run ``r`` with ``seed + 100 r``)."""
    if value is None:
        return
    if value < 0 or value + span >= SEED_LIMIT:
        extra = f" with {flag.lstrip('-')} + {span} < 2**32" if span else ""
        raise UsageError(flag, f"must be in [0, 2**32){extra}, got {value}")


def check_threads(value: Optional[int]) -> None:
    if value is not None and value < 1:
        raise UsageError("--threads", f"must be >= 1, got {value}")


def check_root(value: Optional[str]) -> None:
    """``--root`` (when given) is an existing folder."""
    if value is not None and not os.path.isdir(os.path.expanduser(value)):
        raise UsageError("--root", f"{value!r} is not an existing folder")


def check_output(flag: str, path: Optional[str]) -> None:
    """``path`` (when given) can be written: not a folder, in an existing writable folder."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(flag, f"{path!r} is a directory")
    if not os.path.isdir(folder):
        raise UsageError(flag, f"folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(flag, f"folder {folder!r} is not writable")


def check_device(value: str) -> None:
    """``--device`` names a device torch knows and this machine has (imports torch, only when
    the device is not ``cpu``)."""
    if value == "cpu":
        return
    from noisygraph._validation import check_device as library_check

    try:
        library_check("--device", value)
    except (TypeError, ValueError) as error:
        raise UsageError("--device", str(error).removeprefix("--device").lstrip(":= ")) from None


def set_threads(value: Optional[int]) -> None:
    """Applies ``--threads`` (call it in ``run``; imports torch)."""
    if value:
        import torch

        torch.set_num_threads(value)


def load_dataset_flag(name: str, root: Optional[str], flag: str = "--dataset"):
    """``noisygraph.datasets.load_dataset(name, root=root)`` (call it in ``run``; imports the
    library), an unknown name or a malformed file reported as a :class:`UsageError` of
    ``flag`` (one line, exit status 2)."""
    from noisygraph.datasets import load_dataset

    try:
        return load_dataset(name, root=root)
    except ValueError as error:  # an unknown name or a malformed file: one line
        raise UsageError(flag, str(error)) from None


#: Significant digits of the floats in every ``--json`` file: accuracies in percent, rates,
#: F1, seconds and dollars keep 6 significant digits (far below the resolution of one node),
#: which removes float32 noise such as 71.29999995231628 (written 71.3).
JSON_DIGITS = 6


def round_floats(value, digits: int = JSON_DIGITS):
    """``value`` with every float inside (dicts, lists, tuples) rounded to ``digits``
    significant digits; NaN and infinities stay as they are."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {key: round_floats(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(item, digits) for item in value]
    return value
