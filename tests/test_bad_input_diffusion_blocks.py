"""Bad CSRs whose fault lies in a late row block of the CPU gathers (several blocks of
2^15 edges + rows, claimed by the threads in any order): each raw op still raises the exact
error, naming the argument, with one and with two threads."""
from __future__ import annotations

import pytest
import torch

import noisygraph
from bad_input import BadInput, assert_rejects, case_id, regular_csr, with_entry

pytestmark = pytest.mark.skipif(noisygraph.backend() == "reference",
                                reason="compiled library not built")
N, DEGREE = 20_000, 5  # 120,000 edges + rows: four blocks
ROWPTR, COL = regular_csr(N, DEGREE)
X = torch.rand(N, 8)


ops = torch.ops.noisygraph
BAD_COL = with_entry(COL, N * DEGREE - 2, N)  # in the last row
BAD_ROWPTR = with_entry(ROWPTR, 3 * N // 4, 0)  # rowptr drops in the fourth block
BAD_VALUE = with_entry(torch.rand(N * DEGREE), N * DEGREE - 1, float("inf"))
CASES = [
    BadInput("spmm-late-col", lambda: ops.spmm(ROWPTR, BAD_COL, None, X), ValueError, "col"),
    BadInput("spmm-late-rowptr-drop", lambda: ops.spmm(BAD_ROWPTR, COL, None, X), ValueError,
             "rowptr"),
    BadInput("spmm-late-value-inf", lambda: ops.spmm(ROWPTR, COL, BAD_VALUE, X), ValueError,
             "value"),
    BadInput("diffuse-late-col", lambda: ops.diffuse(ROWPTR, BAD_COL, None, X, 3, 0.1),
             ValueError, "col"),
    BadInput("diffuse-late-rowptr-drop",
             lambda: ops.diffuse(BAD_ROWPTR, COL, None, X, 3, 0.1), ValueError, "rowptr"),
    BadInput("diffuse-clamped-late-col",
             lambda: ops.diffuse(ROWPTR, BAD_COL, None, X, 3, 0.1, torch.ones(N, dtype=torch.bool)),
             ValueError, "col"),
    BadInput("adjoint-late-col",
             lambda: ops.diffuse_adjoint(ROWPTR, BAD_COL, None, X, 3, 0.1, None), ValueError,
             "t_col"),
    BadInput("adjoint-masked-late-value-inf",
             lambda: ops.diffuse_adjoint(ROWPTR, COL, BAD_VALUE, X, 3, 0.1,
                                         torch.zeros(N, dtype=torch.bool)), ValueError, "t_value"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case, threads):
    assert_rejects(case)
