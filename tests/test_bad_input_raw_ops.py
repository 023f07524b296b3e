"""Attack table for the raw ``torch.ops.noisygraph.*`` ops: every case must raise a
``ValueError``/``TypeError`` naming the argument, never crash, hang or return garbage.

Each case starts from one valid call per op (a 4-node path graph, CSR rows are targets) and
replaces one or a few arguments. The cases include the crashes and silent wrong results found
when the ops were attacked (issue 9): a column index of 50,000,000 or 7 with two rows, a
sweep-cut pointer of 10^9, a negative row pointer, a column of 2^40, row pointers past nnz, a
coding-rate label >= K, a flow ``source_ptr`` past the end.
"""
import math

import pytest
import torch

import noisygraph
from tests.bad_input import BadInput, assert_rejects, case_id

pytestmark = pytest.mark.skipif(noisygraph.backend() == "reference",
                                reason="compiled ops not built")

ops = torch.ops.noisygraph
f64 = torch.float64

# The 4-node path 0 - 1 - 2 - 3, both directions.
ROWPTR = [0, 1, 3, 5, 6]
COL = [1, 0, 2, 1, 3, 2]
N, NNZ = 4, 6


def idx(values, dtype=torch.int32):
    return torch.tensor(values, dtype=dtype)


def csr_args(dtype=torch.int32, fdtype=torch.float32):
    return dict(rowptr=idx(ROWPTR, dtype), col=idx(COL, dtype), value=torch.ones(NNZ, dtype=fdtype))


def local_graph_args():
    return dict(rowptr=idx(ROWPTR, torch.long), col=idx(COL, torch.long),
                value=torch.ones(NNZ, dtype=f64), degree=torch.tensor([1.0, 2.0, 2.0, 1.0], dtype=f64))


def sources(node=1, mass=5.0):
    return dict(source_ptr=idx([0, 1], torch.long), source_nodes=idx([node], torch.long),
                source_mass=torch.tensor([mass], dtype=f64))


# One valid set of arguments per op; a case overrides some of them.
BASE = {
    "spmm": lambda: dict(**csr_args(), x=torch.ones(N, 3)),
    "sddmm": lambda: dict(rowptr=idx(ROWPTR), col=idx(COL), a=torch.ones(N, 3), b=torch.ones(N, 3)),
    "diffuse": lambda: dict(**csr_args(), y0=torch.ones(N, 3), num_steps=2, alpha=0.5),
    "diffuse_adjoint": lambda: dict(t_rowptr=idx(ROWPTR), t_col=idx(COL),
                                    t_value=torch.ones(NNZ), grad=torch.ones(N, 3), num_steps=2,
                                    alpha=0.5, clamp_mask=None),
    "coding_rate": lambda: dict(z=torch.randn(6, 3, dtype=f64, generator=torch.Generator().manual_seed(0)),
                                labels=idx([0, 1, 2, 0, 1, 2], torch.long), membership=None,
                                num_classes=3, total_scale=1.0,
                                class_scale=torch.ones(3, dtype=f64), need_grad=False,
                                need_scale_grad=False),
    "coding_rate_backward": lambda: dict(
        grad_total=torch.tensor(1.0, dtype=f64), grad_per_class=torch.ones(3, dtype=f64),
        z=torch.randn(6, 3, dtype=f64, generator=torch.Generator().manual_seed(0)),
        labels=idx([0, 1, 2, 0, 1, 2], torch.long), membership=None, num_classes=3,
        total_scale=1.0, class_scale=torch.ones(3, dtype=f64),
        inverses=torch.eye(3, dtype=f64).repeat(4, 1, 1), membership_grad=False),
    "local_flow_diffusion": lambda: dict(**local_graph_args(), sink=torch.ones(N, dtype=f64),
                                         **sources(), eps=0.1, omega=1.5, max_pushes=1000),
    "local_ppr_push": lambda: dict(**local_graph_args(), **sources(mass=1.0), alpha=0.1,
                                   eps=1e-4, max_pushes=1000),
    "local_sweep_cut": lambda: dict(**local_graph_args(), score_ptr=idx([0, 2], torch.long),
                                    score_nodes=idx([0, 1], torch.long),
                                    scores=torch.tensor([0.5, 0.25], dtype=f64),
                                    total_volume=6.0, normalize=False),
    "local_flow_cluster": lambda: dict(**local_graph_args(), sink=torch.ones(N, dtype=f64),
                                       **sources(mass=2.0),
                                       multiples=torch.tensor([1.0, 2.0], dtype=f64), eps=0.1,
                                       omega=1.5, max_pushes=1000, total_volume=6.0),
    "local_ppr_cluster": lambda: dict(**local_graph_args(), **sources(mass=1.0),
                                      tolerances=torch.tensor([1e-2, 1e-3], dtype=f64),
                                      alpha=0.1, max_pushes=1000, total_volume=6.0),
}


def call(op, **overrides):
    """A zero-argument call of ``op`` with the base arguments, some replaced."""
    def run():
        args = BASE[op]()
        args.update(overrides)
        return getattr(ops, op)(**args)
    return run


def case(id_, op, names, error=ValueError, **overrides):
    return BadInput(f"{op}-{id_}", call(op, **overrides), error, names)


def bad_rowptr_two_rows(col_values, dtype=torch.int32, rowptr=(0, 1, 2)):
    """The issue's spmm attack: two rows, a dense input of two rows."""
    return dict(rowptr=idx(list(rowptr), dtype), col=idx(col_values, dtype), value=None,
                x=torch.ones(2, 4))


big = 2 ** 40
NAN = math.nan
INF = math.inf

CASES = [
    # --- spmm: the crashes --------------------------------------------------------
    case("col-50-million", "spmm", r"col\[0\] = 50000000 is outside \[0, 2\)",
         **bad_rowptr_two_rows([50_000_000, 0])),
    case("col-7-garbage", "spmm", r"col\[0\] = 7 is outside \[0, 2\)",
         **bad_rowptr_two_rows([7, 0])),
    case("col-2-pow-40", "spmm", r"col\[0\] = 1099511627776",
         **bad_rowptr_two_rows([big, 0], torch.long)),
    case("col-negative", "spmm", r"col\[1\] = -1", **bad_rowptr_two_rows([0, -1])),
    case("rowptr-negative-start", "spmm", r"rowptr\[0\] = -1",
         **bad_rowptr_two_rows([0, 1], rowptr=(-1, 1, 2))),
    case("rowptr-negative-middle", "spmm", r"rowptr must be non-decreasing",
         **bad_rowptr_two_rows([0, 1], rowptr=(0, -5, 2))),
    case("rowptr-past-nnz-middle", "spmm", r"rowptr must be non-decreasing.*rowptr\[1\] = 9",
         **bad_rowptr_two_rows([0, 1], rowptr=(0, 9, 2))),
    case("rowptr-past-nnz-end", "spmm", r"rowptr\[2\] = 9 must equal nnz",
         **bad_rowptr_two_rows([0, 1], rowptr=(0, 1, 9))),
    case("rowptr-nonzero-start", "spmm", r"rowptr\[0\] = 1",
         **bad_rowptr_two_rows([0, 1], rowptr=(1, 1, 2))),
    case("rowptr-float", "spmm", r"rowptr must be int32 or int64", TypeError,
         rowptr=torch.tensor([0.0, 1, 3, 5, 6])),
    case("rowptr-bool", "spmm", r"rowptr must be int32 or int64", TypeError,
         rowptr=torch.tensor([False, True]), col=torch.tensor([True])),
    case("rowptr-2d", "spmm", r"rowptr must be 1-D", rowptr=idx([[0, 1, 3, 5, 6]])),
    case("rowptr-empty", "spmm", r"rowptr must be 1-D with at least one entry",
         rowptr=idx([]), col=idx([]), value=None),
    case("col-dtype-mismatch", "spmm", r"col must have the dtype of rowptr", TypeError,
         col=idx(COL, torch.long)),
    case("col-2d", "spmm", r"col must be 1-D", col=idx([COL])),
    case("value-short", "spmm", r"value must have shape \[nnz\] = \[6\]", value=torch.ones(5)),
    case("value-dtype", "spmm", r"value must have the dtype of x", TypeError,
         value=torch.ones(NNZ, dtype=f64)),
    case("value-nan", "spmm", r"value\[2\] = nan is not finite",
         value=torch.tensor([1.0, 1.0, NAN, 1.0, 1.0, 1.0])),
    case("value-inf", "spmm", r"value\[0\] = inf is not finite",
         value=torch.tensor([INF, 1.0, 1.0, 1.0, 1.0, 1.0])),
    case("x-1d", "spmm", r"x must be 2-D", x=torch.ones(N)),
    case("x-int", "spmm", r"x must be float32 or float64", TypeError,
         x=torch.ones(N, 3, dtype=torch.long)),
    case("x-sparse", "spmm", r"x must be a dense \(strided\) tensor", TypeError,
         x=torch.ones(N, 3).to_sparse()),
    case("x-too-few-rows", "spmm", r"col\[\d\] = 3 is outside \[0, 3\) \(the rows of x\)",
         x=torch.ones(3, 3)),
    # --- sddmm -----------------------------------------------------------------------------
    case("col-outside-b", "sddmm", r"col\[\d\] = 3 is outside \[0, 3\) \(the rows of b\)",
         b=torch.ones(3, 3)),
    case("a-rows", "sddmm", r"a must have one row per CSR row", a=torch.ones(3, 3)),
    case("feature-mismatch", "sddmm", r"a and b need the same number of columns",
         b=torch.ones(N, 2)),
    case("dtype-mismatch", "sddmm", r"a and b must share a dtype", TypeError,
         b=torch.ones(N, 3, dtype=f64)),
    case("rowptr-past-nnz", "sddmm", r"rowptr", rowptr=idx([0, 1, 30, 5, 6])),
    case("a-int", "sddmm", r"a must be float32 or float64", TypeError,
         a=torch.ones(N, 3, dtype=torch.int32)),
    # --- diffuse ---------------------------------------------------------------------------
    case("alpha-above-1", "diffuse", r"alpha = 1.5 must be a finite number in \[0, 1\]",
         alpha=1.5),
    case("alpha-nan", "diffuse", r"alpha = nan", alpha=NAN),
    case("num_steps-negative", "diffuse", r"num_steps must be >= 0", num_steps=-1),
    case("clamp_mask-float", "diffuse", r"clamp_mask must be bool", TypeError,
         clamp_mask=torch.ones(N)),
    case("clamp_mask-length", "diffuse", r"clamp_mask must have shape \[4\]",
         clamp_mask=torch.ones(3, dtype=torch.bool)),
    case("not-square", "diffuse", r"the adjacency has 3 rows but y0 has 4",
         rowptr=idx([0, 1, 3, 5]), col=idx([1, 0, 2, 1, 3]), value=None),
    case("col-out-of-range", "diffuse", r"col\[5\] = 4 is outside \[0, 4\)",
         col=idx([1, 0, 2, 1, 3, 4])),
    case("value-nan", "diffuse", r"value\[0\] = nan", value=torch.tensor([NAN] + [1.0] * 5)),
    case("y0-3d", "diffuse", r"y0 must be 2-D", y0=torch.ones(N, 3, 1)),
    case("col-checked-at-zero-steps", "diffuse", r"col\[5\] = 40",
         col=idx([1, 0, 2, 1, 3, 40]), num_steps=0),
    # --- diffuse_adjoint -------------------------------------------------------------------
    case("t_col-out-of-range", "diffuse_adjoint", r"t_col\[1\] = 9 is outside \[0, 4\)",
         t_col=idx([1, 9, 2, 1, 3, 2])),
    case("t_rowptr-decreasing", "diffuse_adjoint", r"t_rowptr must be non-decreasing",
         t_rowptr=idx([0, 3, 1, 5, 6])),
    case("t_value-length", "diffuse_adjoint", r"t_value must have shape", t_value=torch.ones(2)),
    case("alpha-negative", "diffuse_adjoint", r"alpha = -0.1", alpha=-0.1),
    case("grad-rows", "diffuse_adjoint", r"grad has 5", grad=torch.ones(5, 3)),
    # --- coding_rate -----------------------------------------------------------------------
    case("label-equals-K", "coding_rate", r"labels\[2\] = 3 is outside \[0, num_classes = 3\)",
         labels=idx([0, 1, 3, 0, 1, 2], torch.long)),
    case("label-negative", "coding_rate", r"labels\[0\] = -1",
         labels=idx([-1, 1, 2, 0, 1, 2], torch.long)),
    case("label-huge", "coding_rate", r"labels\[5\] = 1099511627776",
         labels=idx([0, 1, 2, 0, 1, big], torch.long)),
    case("labels-int32", "coding_rate", r"labels must be int64", TypeError,
         labels=idx([0, 1, 2, 0, 1, 2], torch.int32)),
    case("labels-length", "coding_rate", r"labels must have shape \[N\] = \[6\]",
         labels=idx([0, 1, 2], torch.long)),
    case("labels-and-membership", "coding_rate", r"exactly one of labels and membership",
         membership=torch.ones(3, 6, dtype=f64)),
    case("neither-assignment", "coding_rate", r"exactly one of labels and membership",
         labels=None),
    case("membership-negative", "coding_rate", r"membership\[1, 2\] = -0.5 must be finite and >= 0",
         labels=None, membership=torch.ones(3, 6, dtype=f64).index_put_(
             (torch.tensor(1), torch.tensor(2)), torch.tensor(-0.5, dtype=f64))),
    case("membership-nan", "coding_rate", r"membership\[0, 0\] = nan",
         labels=None, membership=torch.full((3, 6), NAN, dtype=f64)),
    case("membership-shape", "coding_rate", r"membership must have shape \[num_classes, N\]",
         labels=None, membership=torch.ones(2, 6, dtype=f64)),
    case("membership-dtype", "coding_rate", r"membership must have z's dtype", TypeError,
         labels=None, membership=torch.ones(3, 6)),
    case("num_classes-zero", "coding_rate", r"num_classes must be >= 1", num_classes=0,
         class_scale=torch.ones(0, dtype=f64)),
    case("class_scale-shape", "coding_rate", r"class_scale must have shape \[num_classes\]",
         class_scale=torch.ones(2, dtype=f64)),
    case("class_scale-negative", "coding_rate", r"class_scale\[1\] = -1",
         class_scale=torch.tensor([1.0, -1.0, 1.0], dtype=f64)),
    case("class_scale-nan", "coding_rate", r"class_scale\[0\] = nan",
         class_scale=torch.tensor([NAN, 1.0, 1.0], dtype=f64)),
    case("total_scale-inf", "coding_rate", r"total_scale = inf", total_scale=INF),
    case("total_scale-negative", "coding_rate", r"total_scale = -1", total_scale=-1.0),
    case("z-nan", "coding_rate", r"z\[0, 1\] is not finite",
         z=torch.tensor([[0.0, NAN, 0.0]] + [[1.0, 0.0, 0.0]] * 5, dtype=f64)),
    case("z-1d", "coding_rate", r"z must be 2-D", z=torch.ones(6, dtype=f64)),
    case("z-int", "coding_rate", r"z must be float32 or float64", TypeError,
         z=torch.ones(6, 3, dtype=torch.long)),
    # --- coding_rate_backward --------------------------------------------------------------
    case("inverses-shape", "coding_rate_backward", r"inverses must have shape \[num_classes \+ 1, p, p\]",
         inverses=torch.eye(3, dtype=f64).repeat(3, 1, 1)),
    case("inverses-dtype", "coding_rate_backward", r"inverses must have z's dtype", TypeError,
         inverses=torch.eye(3).repeat(4, 1, 1)),
    case("grad_total-shape", "coding_rate_backward", r"grad_total must hold one number",
         grad_total=torch.ones(2, dtype=f64)),
    case("grad_per_class-shape", "coding_rate_backward", r"grad_per_class must have shape",
         grad_per_class=torch.ones(2, dtype=f64)),
    case("label-equals-K", "coding_rate_backward", r"labels\[0\] = 3 is outside",
         labels=idx([3, 1, 2, 0, 1, 2], torch.long)),
    # --- local_flow_diffusion --------------------------------------------------------------
    case("source_ptr-past-end", "local_flow_diffusion", r"source_ptr\[1\] = 7 must equal len\(source_nodes\) = 1",
         source_ptr=idx([0, 7], torch.long)),
    case("source_ptr-middle-past-end", "local_flow_diffusion", r"source_ptr must be non-decreasing",
         source_ptr=idx([0, 1000000000, 1], torch.long)),
    case("source_ptr-nonzero-start", "local_flow_diffusion", r"source_ptr\[0\] = 1",
         source_ptr=idx([1, 1], torch.long)),
    case("source_ptr-float", "local_flow_diffusion", r"source_ptr must be int64", TypeError,
         source_ptr=torch.tensor([0.0, 1.0])),
    case("source_ptr-empty", "local_flow_diffusion", r"source_ptr must be 1-D with at least one entry",
         source_ptr=idx([], torch.long)),
    case("source_nodes-out-of-range", "local_flow_diffusion", r"source_nodes\[0\] = 4 is outside \[0, 4\)",
         source_nodes=idx([4], torch.long)),
    case("source_nodes-negative", "local_flow_diffusion", r"source_nodes\[0\] = -1",
         source_nodes=idx([-1], torch.long)),
    case("source_mass-negative", "local_flow_diffusion", r"source_mass\[0\] = -5 must be finite and >= 0",
         source_mass=torch.tensor([-5.0], dtype=f64)),
    case("source_mass-nan", "local_flow_diffusion", r"source_mass\[0\] = nan",
         source_mass=torch.tensor([NAN], dtype=f64)),
    case("source_mass-length", "local_flow_diffusion", r"source_mass must have shape \[1\]",
         source_mass=torch.ones(2, dtype=f64)),
    case("sink-length", "local_flow_diffusion", r"sink must have shape \[4\]",
         sink=torch.ones(3, dtype=f64)),
    case("sink-float32", "local_flow_diffusion", r"sink must be float64", TypeError,
         sink=torch.ones(N)),
    case("sink-negative-at-source", "local_flow_diffusion", r"sink\[1\] = -1 must be finite and >= 0",
         sink=torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=f64)),
    case("degree-nan-at-source", "local_flow_diffusion", r"degree\[1\] = nan",
         degree=torch.tensor([1.0, NAN, 2.0, 1.0], dtype=f64)),
    case("degree-length", "local_flow_diffusion", r"degree must have shape \[4\]",
         degree=torch.ones(5, dtype=f64)),
    case("eps-negative", "local_flow_diffusion", r"eps = -1", eps=-1.0),
    case("eps-zero", "local_flow_diffusion", r"eps = 0", eps=0.0),
    case("eps-inf", "local_flow_diffusion", r"eps = inf", eps=INF),
    case("omega-2", "local_flow_diffusion", r"omega = 2 must be a finite number in \(0, 2\)", omega=2.0),
    case("omega-nan", "local_flow_diffusion", r"omega = nan", omega=NAN),
    case("max_pushes-negative", "local_flow_diffusion", r"max_pushes must be >= 0", max_pushes=-1),
    case("rowptr-negative", "local_flow_diffusion", r"rowptr\[0\] = -1",
         rowptr=idx([-1, 1, 3, 5, 6], torch.long)),
    case("rowptr-past-nnz", "local_flow_diffusion", r"rowptr\[1\] = 1 and rowptr\[2\] = 100",
         rowptr=idx([0, 1, 100, 5, 6], torch.long)),
    case("rowptr-end", "local_flow_diffusion", r"rowptr\[4\] = 7 must equal nnz",
         rowptr=idx([0, 1, 3, 5, 7], torch.long)),
    case("rowptr-int32", "local_flow_diffusion", r"rowptr must be int64", TypeError,
         rowptr=idx(ROWPTR, torch.int32)),
    case("col-2-pow-40", "local_flow_diffusion", r"col\[1\] = 1099511627776 is outside \[0, 4\)",
         col=idx([1, big, 2, 1, 3, 2], torch.long)),
    case("col-negative", "local_flow_diffusion", r"col\[2\] = -3",
         col=idx([1, 0, -3, 1, 3, 2], torch.long)),
    case("value-negative", "local_flow_diffusion", r"value\[1\] = -1 must be finite and >= 0",
         value=torch.tensor([1.0, -1.0, 1.0, 1.0, 1.0, 1.0], dtype=f64)),
    case("value-inf", "local_flow_diffusion", r"value\[2\] = inf",
         value=torch.tensor([1.0, 1.0, INF, 1.0, 1.0, 1.0], dtype=f64)),
    case("value-length", "local_flow_diffusion", r"value must have shape \[6\]",
         value=torch.ones(4, dtype=f64)),
    # --- local_ppr_push --------------------------------------------------------------------
    case("alpha-zero", "local_ppr_push", r"alpha = 0 must be a finite number in \(0, 1\]", alpha=0.0),
    case("alpha-above-1", "local_ppr_push", r"alpha = 1.5", alpha=1.5),
    case("eps-nan", "local_ppr_push", r"eps = nan", eps=NAN),
    case("source_nodes-out-of-range", "local_ppr_push", r"source_nodes\[0\] = 40",
         source_nodes=idx([40], torch.long)),
    case("max_pushes-negative", "local_ppr_push", r"max_pushes", max_pushes=-5),
    case("col-out-of-range", "local_ppr_push", r"col\[1\] = 4 is outside",
         col=idx([1, 4, 2, 1, 3, 2], torch.long)),
    # --- local_sweep_cut -------------------------------------------------------------------
    case("score_ptr-1e9", "local_sweep_cut", r"score_ptr\[1\] = 1000000000",
         score_ptr=idx([0, 1_000_000_000], torch.long)),
    case("score_ptr-decreasing", "local_sweep_cut", r"score_ptr must be non-decreasing",
         score_ptr=idx([0, 2, 1, 2], torch.long)),
    case("score_nodes-out-of-range", "local_sweep_cut", r"score_nodes\[1\] = 9",
         score_nodes=idx([0, 9], torch.long)),
    case("scores-nan", "local_sweep_cut", r"scores\[0\] = nan must be finite",
         scores=torch.tensor([NAN, 0.5], dtype=f64)),
    case("scores-length", "local_sweep_cut", r"scores must have shape \[2\]",
         scores=torch.ones(3, dtype=f64)),
    case("total_volume-negative", "local_sweep_cut", r"total_volume = -1", total_volume=-1.0),
    case("total_volume-nan", "local_sweep_cut", r"total_volume = nan", total_volume=NAN),
    case("col-out-of-range", "local_sweep_cut", r"col\[0\] = 17",
         col=idx([17, 0, 2, 1, 3, 2], torch.long)),
    # --- local_flow_cluster ----------------------------------------------------------------
    case("multiples-inf", "local_flow_cluster", r"multiples\[1\] = inf must be finite",
         multiples=torch.tensor([1.0, INF], dtype=f64)),
    case("multiples-descending", "local_flow_cluster", r"multiples must be ascending",
         multiples=torch.tensor([2.0, 1.0], dtype=f64)),
    case("multiples-empty", "local_flow_cluster", r"multiples must be a non-empty",
         multiples=torch.ones(0, dtype=f64)),
    case("multiples-zero", "local_flow_cluster", r"multiples\[0\] = 0 must be > 0",
         multiples=torch.tensor([0.0, 1.0], dtype=f64)),
    case("multiples-float32", "local_flow_cluster", r"multiples must be float64", TypeError,
         multiples=torch.tensor([1.0, 2.0])),
    case("multiples-times-mass-overflow", "local_flow_cluster", r"multiples\[-1\] \* max\(source_mass\)",
         multiples=torch.tensor([1e300], dtype=f64), source_mass=torch.tensor([1e300], dtype=f64)),
    case("source_ptr-past-end", "local_flow_cluster", r"source_ptr\[1\] = 3",
         source_ptr=idx([0, 3], torch.long)),
    case("total_volume-inf", "local_flow_cluster", r"total_volume = inf", total_volume=INF),
    case("eps-negative", "local_flow_cluster", r"eps = -0.5", eps=-0.5),
    # --- local_ppr_cluster -----------------------------------------------------------------
    case("tolerances-ascending", "local_ppr_cluster", r"tolerances must be descending",
         tolerances=torch.tensor([1e-3, 1e-2], dtype=f64)),
    case("tolerances-zero", "local_ppr_cluster", r"tolerances\[1\] = 0 must be > 0",
         tolerances=torch.tensor([1e-3, 0.0], dtype=f64)),
    case("tolerances-nan", "local_ppr_cluster", r"tolerances\[0\] = nan",
         tolerances=torch.tensor([NAN], dtype=f64)),
    case("alpha-zero", "local_ppr_cluster", r"alpha = 0", alpha=0.0),
    case("source_ptr-past-end", "local_ppr_cluster", r"source_ptr\[1\] = 2",
         source_ptr=idx([0, 2], torch.long)),
    case("degree-negative-at-source", "local_ppr_cluster", r"degree\[1\] = -2",
         degree=torch.tensor([1.0, -2.0, 2.0, 1.0], dtype=f64)),
]


def test_every_op_is_attacked():
    attacked = {c.id.split("-")[0] for c in CASES}
    assert attacked == set(BASE)


@pytest.mark.parametrize("op", sorted(BASE))
def test_base_calls_are_valid(op):
    """The unmodified calls run, so every case below fails for the argument it changes."""
    call(op)()


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
