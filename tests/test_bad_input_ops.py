"""Bad-input table of the sparse and coding-rate public API: Adjacency and to_adjacency from
every input type, spmm, diffuse, normalize/reorder options, coding_rate,
CodingRateReductionLoss, LabelPropagation and APPNP. Every case must raise ValueError or
TypeError with a message that names the argument (tests/bad_input.py)."""
from __future__ import annotations

import math
import warnings

import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from diffusion_graphs import random_graph, random_weights

from noisygraph.nn import APPNP, CodingRateReductionLoss, LabelPropagation
from noisygraph.ops import coding_rate, diffuse, spmm
from noisygraph.sparse import Adjacency, to_adjacency

N = 30
EDGE_INDEX = random_graph(num_nodes=N)
WEIGHT = random_weights(EDGE_INDEX)
ADJ = Adjacency.from_edge_index(EDGE_INDEX, WEIGHT, num_nodes=N)
ROWPTR, COL = ADJ.rowptr, ADJ.col
X = torch.rand(N, 3)
Z = torch.randn(N, 4)
LABELS = torch.arange(N) % 3
META = torch.device("meta")


def tensor(values, **kwargs):
    return torch.tensor(values, **kwargs)


def with_entry(t, index, value):
    out = t.clone()
    out[index] = value
    return out


def weight_with(value):
    return with_entry(WEIGHT, 4, value)


def coo(indices, values, size=(N, N)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_coo_tensor(indices, values, size, check_invariants=False)


def csr(crow, col, values, size=(N, N)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


def coo_of_graph(values=None):
    values = WEIGHT if values is None else values
    return coo(torch.stack([EDGE_INDEX[1], EDGE_INDEX[0]]), values)


def mutated_adjacency():
    adj = Adjacency.from_edge_index(EDGE_INDEX, num_nodes=N)
    adj.col[0] = 10**9
    return adj


def post_step_wrong_shape(out):
    return out[:, :1]


SMALL = Adjacency(tensor([0, 1, 2]), tensor([1, 0]))
RECT = Adjacency(tensor([0, 1, 2]), tensor([1, 2]), num_cols=3)
TINY_WEIGHT = Adjacency(tensor([0, 1, 2]), tensor([1, 0]), tensor([1e-45, 1.0]))

CASES = [
    # ---------------------------------------------------------------- Adjacency(...)
    BadInput("adj-rowptr-float", lambda: Adjacency(ROWPTR.float() + 0.5, COL), TypeError, "rowptr"),
    BadInput("adj-rowptr-list", lambda: Adjacency([0, 1], COL[:1]), TypeError, "rowptr"),
    BadInput("adj-rowptr-bool", lambda: Adjacency(tensor([False, True]), COL[:1]), TypeError,
             "rowptr"),
    BadInput("adj-rowptr-2d", lambda: Adjacency(ROWPTR.view(1, -1), COL), ValueError, "rowptr"),
    BadInput("adj-rowptr-empty", lambda: Adjacency(tensor([], dtype=torch.long), COL[:0]),
             ValueError, "rowptr"),
    BadInput("adj-rowptr-not-from-0", lambda: Adjacency(tensor([1, 2, 2]), tensor([0, 1])),
             ValueError, "rowptr must start at 0"),
    BadInput("adj-rowptr-decreasing", lambda: Adjacency(tensor([0, 2, 1, 2]), tensor([0, 1])),
             ValueError, "rowptr must be non-decreasing"),
    BadInput("adj-rowptr-short-of-nnz", lambda: Adjacency(tensor([0, 1, 1]), tensor([0, 1])),
             ValueError, "rowptr must end at nnz"),
    BadInput("adj-rowptr-past-nnz", lambda: Adjacency(tensor([0, 1, 10**9]), tensor([0, 1])),
             ValueError, "rowptr"),
    BadInput("adj-rowptr-negative", lambda: Adjacency(tensor([0, -1, 2]), tensor([0, 1])),
             ValueError, "rowptr"),
    BadInput("adj-col-float", lambda: Adjacency(ROWPTR, COL.double()), TypeError, r"\bcol\b"),
    BadInput("adj-col-50M", lambda: Adjacency(tensor([0, 1, 2]), tensor([50_000_000, 0])),
             ValueError, r"\bcol\b"),
    BadInput("adj-col-2^40", lambda: Adjacency(tensor([0, 1, 2]), tensor([2**40, 0])),
             ValueError, r"\bcol\b"),
    BadInput("adj-col-negative", lambda: Adjacency(tensor([0, 1, 2]), tensor([-1, 0])),
             ValueError, r"\bcol\b"),
    BadInput("adj-col-2d", lambda: Adjacency(ROWPTR, COL.view(1, -1)), ValueError, r"\bcol\b"),
    BadInput("adj-col-beyond-num-cols", lambda: Adjacency(tensor([0, 1, 2]), tensor([0, 2]),
                                                          num_cols=2), ValueError, r"\bcol\b"),
    BadInput("adj-col-other-device", lambda: Adjacency(ROWPTR, COL.to(META)), ValueError,
             r"\bcol\b"),
    BadInput("adj-value-int", lambda: Adjacency(ROWPTR, COL, torch.ones(ADJ.nnz, dtype=torch.long)),
             TypeError, "value"),
    BadInput("adj-value-complex", lambda: Adjacency(ROWPTR, COL, ADJ.value.to(torch.cfloat)),
             TypeError, "value"),
    BadInput("adj-value-shape", lambda: Adjacency(ROWPTR, COL, ADJ.value[:-1]), ValueError,
             "value"),
    BadInput("adj-value-negative", lambda: Adjacency(ROWPTR, COL, with_entry(ADJ.value, 0, -1.0)),
             ValueError, "value must be finite and >= 0"),
    BadInput("adj-value-nan", lambda: Adjacency(ROWPTR, COL, with_entry(ADJ.value, 1, float("nan"))),
             ValueError, "value"),
    BadInput("adj-value-inf", lambda: Adjacency(ROWPTR, COL, with_entry(ADJ.value, 2, float("inf"))),
             ValueError, "value"),
    BadInput("adj-num-cols-negative", lambda: Adjacency(ROWPTR, COL, num_cols=-1), ValueError,
             "num_cols"),
    BadInput("adj-num-cols-float", lambda: Adjacency(ROWPTR, COL, num_cols=30.0), TypeError,
             "num_cols"),
    BadInput("adj-num-cols-bool", lambda: Adjacency(ROWPTR, COL, num_cols=True), TypeError,
             "num_cols"),
    BadInput("adj-modified-in-place", lambda: spmm(mutated_adjacency(), X), ValueError,
             "rowptr or col was modified in place"),
    BadInput("adj-from-torch-sparse-dense", lambda: Adjacency.from_torch_sparse(X), TypeError,
             "matrix"),
    # ---------------------------------------------------------------- edge_index input
    BadInput("ei-float", lambda: to_adjacency(EDGE_INDEX.float()), TypeError, "edge_index"),
    BadInput("ei-bool", lambda: to_adjacency(EDGE_INDEX > 3), TypeError, "edge_index"),
    BadInput("ei-3-rows", lambda: to_adjacency(torch.zeros(3, 4, dtype=torch.long)), ValueError,
             "edge_index"),
    BadInput("ei-1d", lambda: Adjacency.from_edge_index(tensor([0, 1, 2])), ValueError,
             "edge_index"),
    BadInput("ei-negative", lambda: to_adjacency(tensor([[0, -1], [2, 3]]), num_nodes=N),
             ValueError, "edge_index"),
    BadInput("ei-beyond-num-nodes", lambda: to_adjacency(tensor([[0, 1], [2, 40]]), num_nodes=N),
             ValueError, "edge_index"),
    BadInput("ei-2^40", lambda: to_adjacency(tensor([[0, 2**40], [2, 3]]), num_nodes=N),
             ValueError, "edge_index"),
    BadInput("ei-list", lambda: to_adjacency([[0, 1], [1, 0]]), TypeError, "graph"),
    BadInput("ei-sparse-to-from-edge-index", lambda: Adjacency.from_edge_index(coo_of_graph()),
             TypeError, "edge_index"),
    BadInput("ew-negative", lambda: to_adjacency(EDGE_INDEX, weight_with(-0.5)), ValueError,
             "edge_weight"),
    BadInput("ew-inf", lambda: to_adjacency(EDGE_INDEX, weight_with(float("inf"))), ValueError,
             "edge_weight"),
    BadInput("ew-minus-inf", lambda: to_adjacency(EDGE_INDEX, weight_with(-float("inf"))),
             ValueError, "edge_weight"),
    BadInput("ew-nan", lambda: to_adjacency(EDGE_INDEX, weight_with(float("nan"))), ValueError,
             "edge_weight"),
    BadInput("ew-length", lambda: to_adjacency(EDGE_INDEX, WEIGHT[:-1]), ValueError,
             "edge_weight"),
    BadInput("ew-2d", lambda: to_adjacency(EDGE_INDEX, WEIGHT.view(-1, 1)), ValueError,
             "edge_weight"),
    BadInput("ew-int", lambda: to_adjacency(EDGE_INDEX, WEIGHT.long()), TypeError, "edge_weight"),
    BadInput("ew-list", lambda: to_adjacency(EDGE_INDEX, WEIGHT.tolist()), TypeError,
             "edge_weight"),
    BadInput("ew-other-device", lambda: to_adjacency(EDGE_INDEX, WEIGHT.to(META)), ValueError,
             "edge_weight"),
    BadInput("ew-with-adjacency", lambda: to_adjacency(ADJ, WEIGHT), ValueError, "edge_weight"),
    BadInput("ew-with-sparse", lambda: to_adjacency(coo_of_graph(), WEIGHT), ValueError,
             "edge_weight"),
    BadInput("num-nodes-negative", lambda: to_adjacency(EDGE_INDEX, num_nodes=-3), ValueError,
             "num_nodes"),
    BadInput("num-nodes-float", lambda: to_adjacency(EDGE_INDEX, num_nodes=30.0), TypeError,
             "num_nodes"),
    BadInput("num-nodes-vs-adjacency", lambda: to_adjacency(ADJ, num_nodes=N + 1), ValueError,
             "num_nodes"),
    # ---------------------------------------------------------------- EdgeIndex input
    BadInput("edgeindex-beyond-sparse-size",
             lambda: to_adjacency(__import__("torch_geometric").EdgeIndex(
                 EDGE_INDEX, sparse_size=(5, 5))), ValueError, "EdgeIndex"),
    BadInput("edgeindex-vs-num-nodes",
             lambda: to_adjacency(__import__("torch_geometric").EdgeIndex(
                 EDGE_INDEX, sparse_size=(N, N)), num_nodes=N + 2), ValueError, "num_nodes"),
    BadInput("edgeindex-negative-weight",
             lambda: to_adjacency(__import__("torch_geometric").EdgeIndex(
                 EDGE_INDEX, sparse_size=(N, N)), weight_with(-1.0)), ValueError, "edge_weight"),
    # ---------------------------------------------------------------- torch.sparse input
    BadInput("coo-negative-value", lambda: to_adjacency(coo_of_graph(weight_with(-2.0))),
             ValueError, r"values\(\)"),
    BadInput("coo-nan-value", lambda: to_adjacency(coo_of_graph(weight_with(float("nan")))),
             ValueError, r"values\(\)"),
    BadInput("coo-int-values", lambda: to_adjacency(coo_of_graph(WEIGHT.long())), TypeError,
             r"values\(\)"),
    BadInput("coo-hybrid", lambda: to_adjacency(coo(EDGE_INDEX, torch.ones(EDGE_INDEX.size(1), 2),
                                                    (N, N, 2))), ValueError, "graph"),
    BadInput("coo-3d", lambda: to_adjacency(coo(torch.zeros(3, 1, dtype=torch.long),
                                                torch.ones(1), (2, 2, 2))), ValueError, "graph"),
    BadInput("coo-index-out-of-range", lambda: to_adjacency(coo(tensor([[0, 45], [1, 2]]),
                                                                torch.ones(2))),
             ValueError, "indices"),
    BadInput("coo-index-negative", lambda: to_adjacency(coo(tensor([[0, 1], [-1, 2]]),
                                                            torch.ones(2))),
             ValueError, "indices"),
    BadInput("csr-crow-decreasing", lambda: to_adjacency(csr(tensor([0, 2, 1, 2]), tensor([0, 1]),
                                                             torch.ones(2), (3, 3))),
             ValueError, "crow_indices"),
    BadInput("csr-crow-past-nnz", lambda: to_adjacency(csr(tensor([0, 1, 10**9]), tensor([0, 1]),
                                                           torch.ones(2), (2, 2))),
             ValueError, "crow_indices"),
    BadInput("csr-col-out-of-range", lambda: to_adjacency(csr(tensor([0, 1, 2]), tensor([0, 7]),
                                                              torch.ones(2), (2, 2))),
             ValueError, "col_indices"),
    BadInput("csr-negative-value", lambda: to_adjacency(csr(tensor([0, 1, 2]), tensor([0, 1]),
                                                            tensor([1.0, -1.0]), (2, 2))),
             ValueError, r"values\(\)"),
    BadInput("sparse-csc", lambda: to_adjacency(ADJ.to_dense().to_sparse_csc()), TypeError,
             "graph"),
    # ---------------------------------------------------------------- normalize / reorder / loops
    BadInput("normalize-kind", lambda: ADJ.normalize("max"), ValueError, "kind"),
    BadInput("normalize-kind-none", lambda: ADJ.normalize(None), ValueError, "kind"),
    BadInput("normalize-self-loops-int", lambda: ADJ.normalize("sym", 1), TypeError,
             "add_self_loops"),
    BadInput("normalize-sym-rectangular", lambda: RECT.normalize("sym"), ValueError, "square"),
    BadInput("normalize-overflow", lambda: TINY_WEIGHT.normalize("row"), ValueError,
             "normalization overflows"),
    BadInput("reorder-method", lambda: ADJ.reorder("nested-dissection"), ValueError, "method"),
    BadInput("reorder-rectangular", lambda: RECT.reorder(), ValueError, "square"),
    BadInput("self-loops-negative", lambda: ADJ.with_self_loops(-1.0), ValueError, "fill_value"),
    BadInput("self-loops-nan", lambda: ADJ.with_self_loops(float("nan")), ValueError,
             "fill_value"),
    BadInput("self-loops-str", lambda: ADJ.with_self_loops("1"), TypeError, "fill_value"),
    BadInput("self-loops-rectangular", lambda: RECT.with_self_loops(), ValueError, "square"),
    # ---------------------------------------------------------------- spmm
    BadInput("spmm-x-list", lambda: spmm(ADJ, X.tolist()), TypeError, r"\bx\b"),
    BadInput("spmm-x-int", lambda: spmm(ADJ, X.long()), TypeError, r"\bx\b"),
    BadInput("spmm-x-half", lambda: spmm(ADJ, X.half()), TypeError, r"\bx\b"),
    BadInput("spmm-x-rows", lambda: spmm(ADJ, X[:-1]), ValueError, r"\bx\b"),
    BadInput("spmm-x-3d", lambda: spmm(ADJ, X.view(N, 3, 1)), ValueError, r"\bx\b"),
    BadInput("spmm-x-scalar", lambda: spmm(ADJ, torch.tensor(1.0)), ValueError, r"\bx\b"),
    BadInput("spmm-x-nan", lambda: spmm(ADJ, with_entry(X, (3, 1), float("nan"))), ValueError,
             r"x contains NaN"),
    BadInput("spmm-x-inf", lambda: spmm(ADJ, with_entry(X, (0, 0), float("inf"))), ValueError,
             r"\bx\b"),
    BadInput("spmm-x-minus-inf", lambda: spmm(ADJ, with_entry(X, (5, 2), -float("inf"))),
             ValueError, r"\bx\b"),
    BadInput("spmm-x-sparse", lambda: spmm(ADJ, X.to_sparse()), TypeError, r"\bx\b"),
    BadInput("spmm-x-other-device", lambda: spmm(ADJ, X.to(META)), ValueError, r"\bx\b"),
    BadInput("spmm-rect-x-rows", lambda: spmm(RECT, torch.rand(2, 2)), ValueError, r"\bx\b"),
    BadInput("spmm-ei-out-of-range", lambda: spmm(tensor([[0, 5], [1, 2]]), torch.rand(4, 2)),
             ValueError, "edge_index"),
    BadInput("spmm-bad-weight", lambda: spmm(EDGE_INDEX, X, weight_with(-1.0)), ValueError,
             "edge_weight"),
    # ---------------------------------------------------------------- diffuse
    BadInput("diffuse-steps-negative", lambda: diffuse(ADJ, X, -1, 0.1), ValueError, "num_steps"),
    BadInput("diffuse-steps-float", lambda: diffuse(ADJ, X, 2.0, 0.1), TypeError, "num_steps"),
    BadInput("diffuse-steps-bool", lambda: diffuse(ADJ, X, True, 0.1), TypeError, "num_steps"),
    BadInput("diffuse-steps-2^40", lambda: diffuse(ADJ, X, 2**40, 0.1), ValueError, "num_steps"),
    BadInput("diffuse-alpha-negative", lambda: diffuse(ADJ, X, 2, -0.1), ValueError, "alpha"),
    BadInput("diffuse-alpha-above-1", lambda: diffuse(ADJ, X, 2, 1.5), ValueError, "alpha"),
    BadInput("diffuse-alpha-nan", lambda: diffuse(ADJ, X, 2, float("nan")), ValueError, "alpha"),
    BadInput("diffuse-alpha-inf", lambda: diffuse(ADJ, X, 2, float("inf")), ValueError, "alpha"),
    BadInput("diffuse-alpha-str", lambda: diffuse(ADJ, X, 2, "0.5"), TypeError, "alpha"),
    BadInput("diffuse-alpha-bool", lambda: diffuse(ADJ, X, 2, True), TypeError, "alpha"),
    BadInput("diffuse-mask-float", lambda: diffuse(ADJ, X, 2, 0.1, mask=torch.ones(N)),
             TypeError, "mask"),
    BadInput("diffuse-mask-shape", lambda: diffuse(ADJ, X, 2, 0.1,
                                                   mask=torch.ones(N - 1, dtype=torch.bool)),
             ValueError, "mask"),
    BadInput("diffuse-mask-list", lambda: diffuse(ADJ, X, 2, 0.1, mask=[True] * N), TypeError,
             "mask"),
    BadInput("diffuse-mask-other-device",
             lambda: diffuse(ADJ, X, 2, 0.1, mask=torch.ones(N, dtype=torch.bool, device=META)),
             ValueError, "mask"),
    BadInput("diffuse-mask-mode", lambda: diffuse(ADJ, X, 2, 0.1, mask_mode="keep"), ValueError,
             "mask_mode"),
    BadInput("diffuse-mask-mode-int", lambda: diffuse(ADJ, X, 2, 0.1, mask_mode=1), TypeError,
             "mask_mode"),
    BadInput("diffuse-clip-int", lambda: diffuse(ADJ, X, 2, 0.1, clip=1), TypeError, "clip"),
    BadInput("diffuse-reorder-method",
             lambda: diffuse(ADJ, X, 2, 0.1, reorder="nested-dissection"),
             ValueError, "reorder"),
    BadInput("diffuse-reorder-int", lambda: diffuse(ADJ, X, 2, 0.1, reorder=1), TypeError,
             "reorder"),
    BadInput("diffuse-reorder-grad-values",
             lambda: diffuse(Adjacency(ROWPTR, COL, ADJ.value.clone().requires_grad_()), X, 2,
                             0.1, reorder=True), ValueError, "reorder"),
    BadInput("diffuse-y0-nan", lambda: diffuse(ADJ, with_entry(X, (1, 1), float("nan")), 2, 0.1),
             ValueError, "y0 contains NaN"),
    BadInput("diffuse-y0-inf", lambda: diffuse(ADJ, with_entry(X, (1, 1), float("inf")), 2, 0.1),
             ValueError, "y0"),
    BadInput("diffuse-y0-int", lambda: diffuse(ADJ, X.long(), 2, 0.1), TypeError, "y0"),
    BadInput("diffuse-y0-rows", lambda: diffuse(ADJ, X[:-1], 2, 0.1), ValueError, "y0"),
    BadInput("diffuse-y0-none", lambda: diffuse(ADJ, None, 2, 0.1), TypeError, "y0"),
    BadInput("diffuse-rectangular", lambda: diffuse(RECT, torch.rand(3, 1), 2, 0.1), ValueError,
             "square graph"),
    # ---------------------------------------------------------------- coding_rate
    BadInput("cr-z-list", lambda: coding_rate(Z.tolist(), LABELS, 3), TypeError, r"\bz\b"),
    BadInput("cr-z-int", lambda: coding_rate(Z.long(), LABELS, 3), TypeError, r"\bz\b"),
    BadInput("cr-z-1d", lambda: coding_rate(Z[:, 0], LABELS, 3), ValueError, r"\bz\b"),
    BadInput("cr-z-empty", lambda: coding_rate(Z[:0], LABELS[:0], 3), ValueError, r"\bz\b"),
    BadInput("cr-z-nan", lambda: coding_rate(with_entry(Z, (2, 1), float("nan")), LABELS, 3),
             ValueError, r"z contains NaN"),
    BadInput("cr-z-inf", lambda: coding_rate(with_entry(Z, (2, 1), float("inf")), LABELS, 3),
             ValueError, r"\bz\b"),
    BadInput("cr-labels-float", lambda: coding_rate(Z, LABELS.float(), 3), TypeError,
             "assignment"),
    BadInput("cr-labels-bool", lambda: coding_rate(Z, LABELS > 0, 3), TypeError, "assignment"),
    BadInput("cr-labels-int16", lambda: coding_rate(Z, LABELS.short(), 3), TypeError,
             "assignment"),
    BadInput("cr-labels-too-large", lambda: coding_rate(Z, with_entry(LABELS, 0, 3), 3),
             ValueError, "assignment"),
    BadInput("cr-labels-negative", lambda: coding_rate(Z, with_entry(LABELS, 0, -1), 3),
             ValueError, "assignment"),
    BadInput("cr-labels-length", lambda: coding_rate(Z, LABELS[:-1], 3), ValueError,
             "assignment"),
    BadInput("cr-labels-other-device", lambda: coding_rate(Z, LABELS.to(META), 3), ValueError,
             "assignment"),
    BadInput("cr-assignment-3d", lambda: coding_rate(Z, torch.zeros(2, 3, N), 3), ValueError,
             "assignment"),
    BadInput("cr-num-classes-0", lambda: coding_rate(Z, LABELS, 0), ValueError, "num_classes"),
    BadInput("cr-num-classes-float", lambda: coding_rate(Z, LABELS, 3.0), TypeError,
             "num_classes"),
    BadInput("cr-membership-negative", lambda: coding_rate(Z, -torch.rand(3, N), 3), ValueError,
             "assignment"),
    BadInput("cr-membership-nan", lambda: coding_rate(Z, with_entry(torch.rand(3, N), (0, 0),
                                                                     float("nan")), 3),
             ValueError, "assignment"),
    BadInput("cr-membership-shape", lambda: coding_rate(Z, torch.rand(3, N - 1), 3), ValueError,
             "assignment"),
    BadInput("cr-membership-vs-num-classes", lambda: coding_rate(Z, torch.rand(2, N), 3),
             ValueError, "num_classes"),
    BadInput("cr-membership-no-rows", lambda: coding_rate(Z, torch.rand(0, N)), ValueError,
             "assignment"),
    BadInput("cr-total-scale-negative", lambda: coding_rate(Z, LABELS, 3, total_scale=-1.0),
             ValueError, "total_scale"),
    BadInput("cr-total-scale-inf", lambda: coding_rate(Z, LABELS, 3, total_scale=float("inf")),
             ValueError, "total_scale"),
    BadInput("cr-total-scale-str", lambda: coding_rate(Z, LABELS, 3, total_scale="1"), TypeError,
             "total_scale"),
    BadInput("cr-total-scale-grad-tensor",
             lambda: coding_rate(Z, LABELS, 3, total_scale=torch.ones((), requires_grad=True)),
             ValueError, "total_scale"),
    BadInput("cr-class-scale-negative", lambda: coding_rate(Z, LABELS, 3, class_scale=-0.1),
             ValueError, "class_scale"),
    BadInput("cr-class-scale-nan", lambda: coding_rate(Z, LABELS, 3, class_scale=float("nan")),
             ValueError, "class_scale"),
    BadInput("cr-class-scale-shape", lambda: coding_rate(Z, LABELS, 3, class_scale=torch.ones(2)),
             ValueError, "class_scale"),
    BadInput("cr-class-scale-int-tensor",
             lambda: coding_rate(Z, LABELS, 3, class_scale=torch.ones(3, dtype=torch.long)),
             TypeError, "class_scale"),
    BadInput("cr-class-scale-tensor-inf",
             lambda: coding_rate(Z, LABELS, 3, class_scale=tensor([1.0, float("inf"), 1.0])),
             ValueError, "class_scale"),
    # ---------------------------------------------------------------- CodingRateReductionLoss
    BadInput("loss-eps-0", lambda: CodingRateReductionLoss(eps=0.0), ValueError, "eps"),
    BadInput("loss-eps-negative", lambda: CodingRateReductionLoss(eps=-1.0), ValueError, "eps"),
    BadInput("loss-eps-inf", lambda: CodingRateReductionLoss(eps=float("inf")), ValueError, "eps"),
    BadInput("loss-eps-nan", lambda: CodingRateReductionLoss(eps=float("nan")), ValueError, "eps"),
    BadInput("loss-eps-str", lambda: CodingRateReductionLoss(eps="0.1"), TypeError, "eps"),
    BadInput("loss-eps-underflows", lambda: CodingRateReductionLoss(eps=1e-320)(Z, LABELS, 3),
             ValueError, "eps"),
    BadInput("loss-gamma1-negative", lambda: CodingRateReductionLoss(gamma1=-1.0), ValueError,
             "gamma1"),
    BadInput("loss-gamma2-negative", lambda: CodingRateReductionLoss(gamma2=-1.0), ValueError,
             "gamma2"),
    BadInput("loss-gamma2-nan", lambda: CodingRateReductionLoss(gamma2=float("nan")), ValueError,
             "gamma2"),
    BadInput("loss-gamma1-bool", lambda: CodingRateReductionLoss(gamma1=True), TypeError,
             "gamma1"),
    BadInput("loss-z-nan", lambda: CodingRateReductionLoss()(with_entry(Z, (0, 0), float("nan")),
                                                             LABELS, 3), ValueError, r"\bz\b"),
    BadInput("loss-z-list", lambda: CodingRateReductionLoss()(Z.tolist(), LABELS, 3), TypeError,
             r"\bz\b"),
    BadInput("loss-labels-too-large", lambda: CodingRateReductionLoss()(Z, LABELS + 1, 3),
             ValueError, "assignment"),
    BadInput("loss-ignore-index-float", lambda: CodingRateReductionLoss(ignore_index=-100.0),
             TypeError, "ignore_index"),
    BadInput("loss-ignore-index-bool", lambda: CodingRateReductionLoss(ignore_index=False),
             TypeError, "ignore_index"),
    BadInput("loss-all-ignored", lambda: CodingRateReductionLoss()(Z, torch.full((N,), -100), 3),
             ValueError, "ignore_index"),
    BadInput("loss-soft-targets-k-by-n", lambda: CodingRateReductionLoss()(
        Z, torch.full((3, N), 1 / 3), 3), ValueError, "assignment"),
    BadInput("loss-soft-targets-negative", lambda: CodingRateReductionLoss()(
        Z, torch.full((N, 3), -1.0), 3), ValueError, "assignment"),
    BadInput("loss-num-classes-0", lambda: CodingRateReductionLoss()(Z, LABELS, 0), ValueError,
             "num_classes"),
    # ---------------------------------------------------------------- LabelPropagation
    BadInput("lp-layers-negative", lambda: LabelPropagation(-1, 0.5), ValueError, "num_layers"),
    BadInput("lp-layers-float", lambda: LabelPropagation(1.5, 0.5), TypeError, "num_layers"),
    BadInput("lp-alpha-above-1", lambda: LabelPropagation(2, 1.5), ValueError, "alpha"),
    BadInput("lp-alpha-nan", lambda: LabelPropagation(2, float("nan")), ValueError, "alpha"),
    BadInput("lp-y-negative", lambda: LabelPropagation(2, 0.5)(with_entry(LABELS, 0, -1),
                                                               EDGE_INDEX), ValueError, r"\by\b"),
    BadInput("lp-y-bool", lambda: LabelPropagation(2, 0.5)(LABELS > 0, EDGE_INDEX), TypeError,
             r"\by\b"),
    BadInput("lp-y-scalar", lambda: LabelPropagation(2, 0.5)(torch.tensor(1), EDGE_INDEX),
             ValueError, r"\by\b"),
    BadInput("lp-y-empty", lambda: LabelPropagation(2, 0.5)(LABELS[:0], EDGE_INDEX[:, :0]),
             ValueError, r"\by\b"),
    BadInput("lp-y-int-2d", lambda: LabelPropagation(2, 0.5)(LABELS.view(-1, 2), EDGE_INDEX),
             ValueError, r"\by\b"),
    BadInput("lp-y-nan", lambda: LabelPropagation(2, 0.5)(with_entry(X, (0, 0), float("nan")),
                                                          EDGE_INDEX), ValueError, r"\by\b"),
    # float16/bfloat16 soft labels are accepted since issue 10 (they propagate in float32);
    # a float dtype the layer cannot compute in is still rejected
    BadInput("lp-y-float8", lambda: LabelPropagation(2, 0.5)(X.to(torch.float8_e4m3fn),
                                                             EDGE_INDEX), TypeError, r"\by\b"),
    BadInput("lp-y-vs-adjacency", lambda: LabelPropagation(2, 0.5)(LABELS[:-1], ADJ), ValueError,
             r"\by\b"),
    BadInput("lp-mask-index-out-of-range",
             lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX, mask=tensor([0, N + 5])),
             ValueError, "mask"),
    BadInput("lp-mask-float", lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX,
                                                               mask=torch.rand(N)),
             TypeError, "mask"),
    BadInput("lp-mask-bool-shape",
             lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX,
                                              mask=torch.ones(N - 2, dtype=torch.bool)),
             ValueError, "mask"),
    BadInput("lp-post-step-not-callable",
             lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX, post_step=3), TypeError,
             "post_step"),
    BadInput("lp-post-step-wrong-shape",
             lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX, post_step=post_step_wrong_shape),
             TypeError, "post_step"),
    BadInput("lp-edge-weight-negative",
             lambda: LabelPropagation(2, 0.5)(LABELS, EDGE_INDEX, edge_weight=weight_with(-1.0)),
             ValueError, "edge_weight"),
    # ---------------------------------------------------------------- APPNP
    BadInput("appnp-k-negative", lambda: APPNP(K=-2, alpha=0.1), ValueError, r"\bK\b"),
    BadInput("appnp-k-float", lambda: APPNP(K=2.5, alpha=0.1), TypeError, r"\bK\b"),
    BadInput("appnp-alpha-negative", lambda: APPNP(K=2, alpha=-0.1), ValueError, "alpha"),
    BadInput("appnp-alpha-inf", lambda: APPNP(K=2, alpha=float("inf")), ValueError, "alpha"),
    # dropout = 1 is accepted since issue 10, as in PyG (output alpha * x, PyG's own test);
    # anything above 1 is still rejected
    BadInput("appnp-dropout-above-1",
             lambda: APPNP(K=2, alpha=0.1, dropout=math.nextafter(1.0, 2.0)), ValueError,
             "dropout"),
    BadInput("appnp-dropout-negative", lambda: APPNP(K=2, alpha=0.1, dropout=-0.1), ValueError,
             "dropout"),
    BadInput("appnp-dropout-nan", lambda: APPNP(K=2, alpha=0.1, dropout=float("nan")),
             ValueError, "dropout"),
    BadInput("appnp-cached-str", lambda: APPNP(K=2, alpha=0.1, cached="yes"), TypeError,
             "cached"),
    BadInput("appnp-self-loops-int", lambda: APPNP(K=2, alpha=0.1, add_self_loops=1), TypeError,
             "add_self_loops"),
    BadInput("appnp-normalize-none", lambda: APPNP(K=2, alpha=0.1, normalize=None), TypeError,
             "normalize"),
    BadInput("appnp-x-float8", lambda: APPNP(K=2, alpha=0.1)(X.to(torch.float8_e4m3fn),
                                                             EDGE_INDEX), TypeError, r"\bx\b"),
    BadInput("appnp-x-int", lambda: APPNP(K=2, alpha=0.1)(X.long(), EDGE_INDEX), TypeError,
             r"\bx\b"),
    BadInput("appnp-x-nan", lambda: APPNP(K=2, alpha=0.1)(with_entry(X, (0, 0), float("nan")),
                                                          EDGE_INDEX), ValueError, r"\bx\b"),
    BadInput("appnp-x-1d", lambda: APPNP(K=2, alpha=0.1)(X[:, 0], EDGE_INDEX), ValueError,
             r"\bx\b"),
    BadInput("appnp-x-vs-adjacency", lambda: APPNP(K=2, alpha=0.1)(X[:-1], ADJ), ValueError,
             r"\bx\b"),
    BadInput("appnp-x-nan-with-dropout",
             lambda: APPNP(K=2, alpha=0.1, dropout=0.5)(with_entry(X, (0, 0), float("nan")),
                                                        EDGE_INDEX), ValueError, r"\bx\b"),
    BadInput("appnp-edge-weight-negative",
             lambda: APPNP(K=2, alpha=0.1)(X, EDGE_INDEX, weight_with(-1.0)), ValueError,
             "edge_weight"),
    BadInput("appnp-edge-weight-inf",
             lambda: APPNP(K=2, alpha=0.1)(X, EDGE_INDEX, weight_with(float("inf"))),
             ValueError, "edge_weight"),
    BadInput("appnp-edge-index-float", lambda: APPNP(K=2, alpha=0.1)(X, EDGE_INDEX.float()),
             TypeError, "edge_index"),
]


def test_the_table_is_large_and_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def test_adjacency_attributes_are_read_only():
    adj = Adjacency(ROWPTR, COL)
    for name in ("rowptr", "col", "value"):
        with pytest.raises(AttributeError):
            setattr(adj, name, COL)
