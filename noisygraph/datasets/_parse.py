"""Strict, vectorised readers for the raw text files, with errors that name the file and line.

The fast path checks a whole file with a few numpy passes over its bytes; only when something
is wrong does a (slower) scan find the first offending line, so a valid file costs no Python
loop over its tokens.
"""
from __future__ import annotations

import pathlib
import warnings
from typing import NamedTuple, Optional, Sequence

import numpy as np

from noisygraph.datasets._paths import PathLike

# Token separators (tab, newline, carriage return, space) and the bytes an integer file may hold.
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 13, 32]] = True
_INTEGER_FILE = _SPACE.copy()
_INTEGER_FILE[ord("0"):ord("9") + 1] = True
# Longest accepted integer: 18 digits always fit in int64.
_MAX_DIGITS = 18


class DataFormatError(ValueError):
    """A raw data file is malformed. The message names the file, the line (1-based, where one
    applies) and what is wrong; :attr:`path` and :attr:`line` hold the first two.

    Args:
        path (str or os.PathLike): the file.
        problem (str): what is wrong.
        line (int, optional): the 1-based line. (default: :obj:`None`)
    """

    def __init__(self, path: PathLike, problem: str, line: Optional[int] = None):
        self.path = pathlib.Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path} line {line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


def decode(path: PathLike, data: bytes, encoding: str = "utf-8", first_line: int = 1) -> str:
    """``data`` (the file from its line ``first_line`` on) decoded; a byte that is not valid
    ``encoding`` raises :class:`DataFormatError` naming its line."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + first_line
        raise DataFormatError(
            path, f"byte 0x{data[error.start]:02x} is not valid {encoding.replace('-sig', '')} text", line
        ) from None


def _show(token: bytes) -> str:
    text = token.decode("utf-8", errors="backslashreplace")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _token_at(data: bytes, position: int) -> bytes:
    start, end = position, position
    while start > 0 and not _SPACE[data[start - 1]]:
        start -= 1
    while end < len(data) and not _SPACE[data[end]]:
        end += 1
    return data[start:end]


class IntegerTokens(NamedTuple):
    """Every whitespace-separated token of a text as an integer, with the line it is on."""

    values: np.ndarray  # int64
    lines: np.ndarray  # 0-based line (relative to the parsed text) of each value
    counts: np.ndarray  # tokens on each line
    num_lines: int


def integer_tokens(path: PathLike, data: bytes, first_line: int, what: str) -> IntegerTokens:
    """Parse ``data`` (ASCII digits and whitespace only) into non-negative integers.

    A final newline does not start another line; an empty line holds no token.

    Args:
        path (str or os.PathLike): the file, for error messages.
        data (bytes): the text (the part of the file after any header).
        first_line (int): the file's line number of ``data``'s first line.
        what (str): how messages name a token (e.g. ``"a neighbour id"``).

    Raises:
        DataFormatError: a token is not a non-negative integer or has more than 18 digits;
            the message names its line and shows it.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    num_lines = int(newlines.size) + (1 if buf.size and buf[-1] != 10 else 0)
    bad = ~_INTEGER_FILE[buf]
    if bad.any():
        position = int(np.argmax(bad))
        raise DataFormatError(
            path, f"{what} must be a non-negative integer, got {_show(_token_at(data, position))}",
            first_line + int(np.searchsorted(newlines, position)),
        )
    space = _SPACE[buf]
    token = ~space
    starts = np.flatnonzero(token & np.concatenate(([True], space[:-1])))
    ends = np.flatnonzero(token & np.concatenate((space[1:], [True])))
    lines = np.searchsorted(newlines, starts)
    too_long = (ends - starts) >= _MAX_DIGITS
    if too_long.any():
        index = int(np.argmax(too_long))
        raise DataFormatError(
            path, f"{what} {_show(data[starts[index]:ends[index] + 1])} is too large "
            f"(at most {_MAX_DIGITS} digits)", first_line + int(lines[index]),
        )
    values = np.empty(0, dtype=np.int64)
    if starts.size:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            values = np.fromstring(data, dtype=np.int64, sep=" ")
        if values.size != starts.size:  # numpy's text parser disagreed: parse token by token
            values = np.array(data.split(), dtype=np.int64)
    counts = np.bincount(lines, minlength=num_lines)
    return IntegerTokens(values, lines, counts, num_lines)


def first_true(mask: np.ndarray) -> int:
    """Index of the first ``True`` of a non-empty boolean array known to hold one."""
    return int(np.argmax(mask))


def split_header(path: PathLike, data: bytes, header: Sequence[str]) -> int:
    """Check that ``data`` starts with the tab-separated ``header`` line (a UTF-8 byte-order
    mark and a ``\\r`` before the newline are accepted); returns the offset of line 2."""
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)]
    text = decode(path, first, "utf-8-sig").rstrip("\r")
    if tuple(text.split("\t")) != tuple(header):
        expected = "\\t".join(header)
        found = text.replace("\t", "\\t")
        raise DataFormatError(path, f"expected the header {expected!r}, got {found[:80]!r}", 1)
    return end + 1 if end >= 0 else len(data)


def tsv_rows(path: PathLike, data: bytes, header: Sequence[str]) -> list[list[str]]:
    """Rows of a UTF-8 tab-separated file after its ``header``: each line splits into
    ``len(header)`` fields, the last taking the rest of the line (it may hold tabs).

    Raises:
        DataFormatError: wrong header, invalid UTF-8, or a line with too few fields.
    """
    offset = split_header(path, data, header)
    text = decode(path, data[offset:], first_line=2)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    width = len(header)
    rows = []
    for number, line in enumerate(lines, start=2):
        fields = line.rstrip("\r").split("\t", width - 1)
        if len(fields) != width:
            names = ", ".join(header)
            raise DataFormatError(
                path, f"expected {width} tab-separated columns ({names}), got {len(fields)}", number
            )
        rows.append(fields)
    return rows


def integer_column(path: PathLike, values: Sequence[str], column: str, first_line: int = 2) -> np.ndarray:
    """A column of non-negative decimal integers (int64); the first bad value raises
    :class:`DataFormatError` naming its line."""
    for number, value in enumerate(values, start=first_line):
        if not (value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS):
            raise DataFormatError(
                path, f"column {column!r} must be a non-negative integer, got {_show(value.encode())}", number
            )
    return np.array(values, dtype=np.int64) if values else np.empty(0, dtype=np.int64)
