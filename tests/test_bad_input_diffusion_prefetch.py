"""Bad CSRs whose fault lies in a row the gathers prefetch before they check it (csr_rows.h
prefetches the sources of the next row while it sums the current one): the first rows, and
the last row of the matrix. Each raw op must still raise the exact error, naming the
argument, with one and with two threads (a prefetch uses the same clamped index as the
gather, never the bad one)."""
from __future__ import annotations

import pytest
import torch

import noisygraph
from bad_input import BadInput, assert_rejects, case_id, regular_csr, with_entry

pytestmark = pytest.mark.skipif(noisygraph.backend() == "reference",
                                reason="compiled library not built")
N, DEGREE = 20_000, 2  # 60,000 edges + rows: two blocks
ROWPTR, COL = regular_csr(N, DEGREE)
X = torch.rand(N, 40)
INT32_MAX = 2**31 - 1


ops = torch.ops.noisygraph
EARLY_HUGE = with_entry(COL, 3, INT32_MAX)  # row 1: prefetched while row 0 is gathered
EARLY_NEGATIVE = with_entry(COL, 10, -1)
# the last row, prefetched from the one before
LAST_HUGE = with_entry(COL, N * DEGREE - 1, INT32_MAX)
CASES = [
    BadInput("spmm-prefetched-huge-col", lambda: ops.spmm(ROWPTR, EARLY_HUGE, None, X),
             ValueError, "col"),
    BadInput("spmm-prefetched-negative-col", lambda: ops.spmm(ROWPTR, EARLY_NEGATIVE, None, X),
             ValueError, "col"),
    BadInput("spmm-last-col-huge", lambda: ops.spmm(ROWPTR, LAST_HUGE, None, X), ValueError,
             "col"),
    BadInput("diffuse-prefetched-huge-col",
             lambda: ops.diffuse(ROWPTR, EARLY_HUGE, None, X, 3, 0.1), ValueError, "col"),
    BadInput("diffuse-clamped-prefetched-negative-col",
             lambda: ops.diffuse(ROWPTR, EARLY_NEGATIVE, None, X, 3, 0.1,
                                 torch.ones(N, dtype=torch.bool)), ValueError, "col"),
    BadInput("adjoint-last-col-huge",
             lambda: ops.diffuse_adjoint(ROWPTR, LAST_HUGE, None, X, 3, 0.1, None), ValueError,
             "t_col"),
    BadInput("adjoint-masked-prefetched-huge-col",
             lambda: ops.diffuse_adjoint(ROWPTR, EARLY_HUGE, None, X, 3, 0.1,
                                         torch.zeros(N, dtype=torch.bool)), ValueError, "t_col"),
    BadInput("diffuse-rowptr-past-nnz-prefetched",
             lambda: ops.diffuse(with_entry(ROWPTR, 1, N * DEGREE + 100), COL, None, X, 3, 0.1),
             ValueError, "rowptr"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case, threads):
    assert_rejects(case)
