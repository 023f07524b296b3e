"""The table-driven bad-input suite's one rule: every case raises ``ValueError`` or
``TypeError`` and the message names the argument.

Each area keeps its table in ``tests/test_bad_input_<area>.py``::

    CASES = [
        BadInput("spmm-col-out-of-range", lambda: spmm(adj_with_col_7, x), ValueError, "col"),
        ...
    ]

    @pytest.mark.parametrize("case", CASES, ids=case_id)
    def test_rejects(case):
        assert_rejects(case)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Union

import pytest
import torch

ErrorTypes = Union[type, tuple]


@dataclass(frozen=True)
class BadInput:
    """One attack: ``call()`` must raise ``error`` with a message matching ``names`` (a regular
    expression, searched case-insensitively, usually the argument's name)."""

    id: str
    call: Callable[[], Any]
    error: ErrorTypes
    names: str


def case_id(case: BadInput) -> str:
    return case.id


def assert_rejects(case: BadInput) -> None:
    """Runs the case and checks the error type and that the message names the argument."""
    allowed = case.error if isinstance(case.error, tuple) else (case.error,)
    for kind in allowed:
        if not issubclass(kind, (ValueError, TypeError)):
            raise AssertionError(f"{case.id}: the suite only accepts ValueError/TypeError, "
                                 f"not {kind.__name__}")
    with pytest.raises(allowed) as info:
        case.call()
    message = str(info.value)
    assert re.search(case.names, message, re.IGNORECASE), (
        f"{case.id}: the message does not name {case.names!r}: {message!r}")


def with_entry(tensor: torch.Tensor, index: int, value: Any) -> torch.Tensor:
    """A copy of ``tensor`` with one entry replaced: a valid input made bad in one place."""
    out = tensor.clone()
    out[index] = value
    return out


def regular_csr(num_nodes: int, degree: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rowptr, col)``, int32, of a graph whose every row holds ``degree`` random columns
    (seeded): a valid CSR large enough to span several of the CPU gathers' row blocks."""
    rowptr = torch.arange(0, num_nodes * degree + 1, degree, dtype=torch.int32)
    col = torch.randint(0, num_nodes, (num_nodes * degree,),
                        generator=torch.Generator().manual_seed(0), dtype=torch.int32)
    return rowptr, col
