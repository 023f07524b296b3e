import os
import subprocess
import sys

import pytest
import torch

import noisygraph
from noisygraph.ops import diffuse, spmm
from noisygraph import _ops
from noisygraph.ops._reference.diffusion import (diffuse_adjoint_reference, diffuse_reference,
                                      sddmm_reference, spmm_reference)
from noisygraph.sparse import Adjacency, to_adjacency

from diffusion_graphs import random_graph, random_mask, random_weights

N = 30
COMPILED = noisygraph.backend() != "reference"
needs_kernels = pytest.mark.skipif(not COMPILED, reason="compiled library not built")
DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-4), torch.float64: dict(atol=1e-12, rtol=1e-10)}


def graph(weighted: bool, normalized: bool = True, dtype=torch.float32) -> Adjacency:
    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=dtype) if weighted else None
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    return adj.normalize("sym") if normalized else adj


def kernel_args(adj: Adjacency, dtype):
    rowptr, col = adj.kernel_indices()
    return rowptr, col, adj.values_as(dtype)


# ------------------------------------------------------------------ compiled vs reference
@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("num_cols", [1, 3, 8, 40, 77])
def test_spmm_matches_reference(dtype, weighted, num_cols):
    adj = graph(weighted, normalized=False, dtype=dtype)
    x = torch.randn(N, num_cols, dtype=dtype)
    expected = spmm_reference(adj.rowptr, adj.col, adj.value, x)
    torch.testing.assert_close(spmm(adj, x), expected, **TOL[dtype])
    assert expected[-3:].abs().sum() == 0  # the isolated nodes are empty rows


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mask_mode", [None, "zero", "clamp"])
@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("num_steps", [0, 1, 4])
def test_diffuse_matches_reference(dtype, weighted, mask_mode, clip, num_steps):
    adj = graph(weighted, dtype=dtype)
    y0 = torch.rand(N, 5, dtype=dtype) * 1.5 - 0.25
    mask = None if mask_mode is None else random_mask(N)
    got = diffuse(adj, y0, num_steps, 0.15, mask=mask, mask_mode=mask_mode or "zero", clip=clip)
    start = y0 * mask.unsqueeze(-1) if mask_mode == "zero" else y0
    clamp = mask if mask_mode == "clamp" else None
    expected = diffuse_reference(adj.rowptr, adj.col, adj.values_as(dtype), start, num_steps,
                                 0.15, clamp, clip)
    torch.testing.assert_close(got, expected, **TOL[dtype])
    if num_steps == 0:
        torch.testing.assert_close(got, start)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mask_mode", [None, "clamp"])
@pytest.mark.parametrize("clip", [False, True])
def test_diffuse_gradients_match_reference(dtype, weighted, mask_mode, clip):
    adj = graph(weighted, dtype=dtype)
    mask = None if mask_mode is None else random_mask(N)
    y0 = torch.rand(N, 4, dtype=dtype).requires_grad_()
    upstream = torch.randn(N, 4, dtype=dtype)
    value = None if adj.value is None else adj.value.detach().clone().requires_grad_()
    live = Adjacency(adj.rowptr, adj.col, value, N)
    out = diffuse(live, y0, 5, 0.2, mask=mask, mask_mode="clamp", clip=clip)
    grads = torch.autograd.grad(out, [y0] + ([value] if weighted else []), upstream)

    y0_ref = y0.detach().clone().requires_grad_()
    value_ref = None if value is None else value.detach().clone().requires_grad_()
    expected_out = diffuse_reference(adj.rowptr, adj.col, value_ref, y0_ref, 5, 0.2, mask, clip)
    expected = torch.autograd.grad(expected_out, [y0_ref] + ([value_ref] if weighted else []),
                                   upstream)
    torch.testing.assert_close(out, expected_out, **TOL[dtype])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, **TOL[dtype])


@needs_kernels
@pytest.mark.parametrize("mask_mode", [None, "clamp"])
def test_adjoint_kernel_matches_its_reference(mask_mode):
    adj = graph(weighted=True, dtype=torch.float64)
    transposed, _ = adj.transpose()
    mask = None if mask_mode is None else random_mask(N)
    grad = torch.randn(N, 6, dtype=torch.float64)
    rowptr, col, value = kernel_args(transposed, torch.float64)
    for steps in (0, 1, 6):
        got = torch.ops.noisygraph.diffuse_adjoint(rowptr, col, value, grad, steps, 0.3, mask)
        want = diffuse_adjoint_reference(transposed.rowptr, transposed.col, transposed.value,
                                         grad, steps, 0.3, mask)
        torch.testing.assert_close(got, want)


@needs_kernels
@pytest.mark.parametrize("dtype", DTYPES)
def test_sddmm_matches_reference(dtype):
    adj = graph(weighted=True, dtype=dtype)
    a, b = torch.randn(N, 7, dtype=dtype), torch.randn(N, 7, dtype=dtype)
    rowptr, col, _ = kernel_args(adj, dtype)
    torch.testing.assert_close(torch.ops.noisygraph.sddmm(rowptr, col, a, b),
                               sddmm_reference(adj.rowptr, adj.col, a, b), **TOL[dtype])


@needs_kernels
def test_spmm_gradients_match_reference():
    adj = graph(weighted=True, normalized=False, dtype=torch.float64)
    value = adj.value.clone().requires_grad_()
    x = torch.randn(N, 5, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(N, 5, dtype=torch.float64)
    got = torch.autograd.grad(spmm(Adjacency(adj.rowptr, adj.col, value, N), x), [value, x],
                              upstream)
    want = torch.autograd.grad(spmm_reference(adj.rowptr, adj.col, value, x), [value, x],
                               upstream)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


# ------------------------------------------------------------------ gradcheck, opcheck
def small_graph(weighted: bool) -> Adjacency:
    """A 12-node graph (2 isolated nodes, self-loops) small enough for gradcheck."""
    edge_index = random_graph(num_nodes=12, num_edges=40, isolated=2)
    weight = random_weights(edge_index, dtype=torch.float64) if weighted else None
    return Adjacency.from_edge_index(edge_index, weight, num_nodes=12)


@pytest.mark.parametrize("mask_mode", [None, "zero", "clamp"])
@pytest.mark.parametrize("clip", [False, True])
def test_diffuse_gradcheck(mask_mode, clip):
    adj = small_graph(weighted=True).normalize("sym")
    mask = None if mask_mode is None else random_mask(12, rate=0.4)
    # away from the clip's kinks: values well inside (0, 1)
    y0 = (torch.rand(12, 2, dtype=torch.float64) * 0.6 + 0.2).requires_grad_()
    value = adj.value.detach().clone().requires_grad_()

    def run(y0, value):
        live = Adjacency(adj.rowptr, adj.col, value, 12)
        return diffuse(live, y0, 4, 0.25, mask=mask, mask_mode=mask_mode or "zero", clip=clip)

    assert torch.autograd.gradcheck(run, (y0, value))


@pytest.mark.parametrize("weighted", [False, True])
def test_spmm_gradcheck(weighted):
    adj = small_graph(weighted)
    x = torch.randn(12, 3, dtype=torch.float64, requires_grad=True)
    if not weighted:
        assert torch.autograd.gradcheck(lambda x: spmm(adj, x), (x,))
        return
    value = adj.value.clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda v, x: spmm(Adjacency(adj.rowptr, adj.col, v, 12), x), (value, x))


@needs_kernels
def test_opcheck():
    dtype = torch.float64
    adj = small_graph(weighted=True)
    rowptr, col, value = kernel_args(adj, dtype)
    transposed, perm = adj.transpose()
    t_rowptr, t_col = transposed.kernel_indices()
    x = torch.rand(12, 4, dtype=dtype, requires_grad=True)
    weights = value.detach().clone().requires_grad_()
    mask = random_mask(12)
    ops = torch.ops.noisygraph
    torch.library.opcheck(ops.spmm, (rowptr, col, weights, x))
    torch.library.opcheck(ops.spmm, (rowptr, col, None, x.detach().float()))
    torch.library.opcheck(ops.sddmm, (rowptr, col, x.detach(), x.detach()))
    torch.library.opcheck(ops.diffuse, (rowptr, col, weights, x, 3, 0.2, mask, False))
    torch.library.opcheck(ops.diffuse, (rowptr, col, None, x, 3, 0.2, None, True))
    torch.library.opcheck(ops.diffuse_adjoint, (t_rowptr, t_col, value, x.detach(), 3, 0.2,
                                                mask))


# ------------------------------------------------------------------ inputs and fallbacks
def test_graph_formats_give_the_same_diffusion():
    from torch_geometric import EdgeIndex

    edge_index = random_graph()
    weight = random_weights(edge_index)
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N)
    y0 = torch.rand(N, 3)
    expected = diffuse(adj, y0, 3, 0.1)
    dense = adj.to_dense()
    for g, w in [(edge_index, weight), (EdgeIndex(edge_index, sparse_size=(N, N)), weight),
                 (dense.to_sparse_coo(), None), (dense.to_sparse_csr(), None)]:
        torch.testing.assert_close(diffuse(g, y0, 3, 0.1, edge_weight=w), expected)
        torch.testing.assert_close(spmm(g, y0, edge_weight=w), spmm(adj, y0))


def test_vector_signal_keeps_its_shape():
    adj = graph(weighted=False)
    y0 = torch.rand(N)
    out = diffuse(adj, y0, 3, 0.1)
    assert out.shape == (N,)
    torch.testing.assert_close(out, diffuse(adj, y0[:, None], 3, 0.1)[:, 0])
    assert spmm(adj, y0).shape == (N,)


def test_devices_without_kernels_use_the_reference(monkeypatch):
    adj = graph(weighted=True)
    y0 = torch.rand(N, 4)
    mask = random_mask(N)
    compiled = diffuse(adj, y0, 5, 0.1, mask=mask, mask_mode="clamp", clip=True)
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    reference = diffuse(adj, y0, 5, 0.1, mask=mask, mask_mode="clamp", clip=True)
    torch.testing.assert_close(compiled, reference)


def test_has_kernel_is_false_for_devices_without_kernels():
    assert not _ops.has_kernel("diffuse", torch.device("meta"))
    assert _ops.has_kernel("diffuse", torch.device("cpu")) == COMPILED
    assert _ops.has_kernel("diffuse", "cpu") == COMPILED  # a device string works too
    if COMPILED:
        with pytest.raises(ValueError, match="op"):
            _ops.has_kernel("no_such_op", "cpu")


def test_reference_backend_env_var_selects_reference_path():
    code = ("import torch, noisygraph\n"
            "from noisygraph.ops import diffuse\n"
            "from noisygraph.sparse import to_adjacency\n"
            "ei = torch.tensor([[0, 1, 2], [1, 2, 0]])\n"
            "out = diffuse(to_adjacency(ei).normalize('row'), torch.eye(3), 2, 0.5)\n"
            "print(noisygraph.backend(), round(out.sum().item(), 6))\n")
    env = dict(os.environ, NOISYGRAPH_BACKEND="reference")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    # row-stochastic A: every step keeps the row sums, so the total stays 3
    assert result.stdout.split() == ["reference", "3.0"]


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_steps=-1), ValueError, "num_steps"),
    (dict(num_steps=2.0), TypeError, "num_steps"),
    (dict(alpha=-0.1), ValueError, "alpha"),
    (dict(alpha=1.5), ValueError, "alpha"),
    (dict(alpha=float("nan")), ValueError, "alpha"),
    (dict(mask=torch.ones(N - 1, dtype=torch.bool)), ValueError, "mask"),
    (dict(mask=torch.ones(N)), TypeError, "mask"),
    (dict(mask_mode="keep"), ValueError, "mask_mode"),
])
def test_diffuse_rejects_bad_arguments(kwargs, error, match):
    args = dict(graph=graph(weighted=False), y0=torch.rand(N, 2), num_steps=2, alpha=0.1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        diffuse(**args)


def test_bad_signals_raise_naming_the_argument():
    adj = graph(weighted=False)
    y0 = torch.rand(N, 2)
    y0[3, 1] = float("nan")
    with pytest.raises(ValueError, match="y0 contains NaN"):
        diffuse(adj, y0, 2, 0.1)
    with pytest.raises(ValueError, match="y0 has 29 rows"):
        diffuse(adj, torch.rand(N - 1, 2), 2, 0.1)
    with pytest.raises(ValueError, match="y0 must be 2-D"):
        diffuse(adj, torch.rand(N, 2, 2), 2, 0.1)
    with pytest.raises(TypeError, match="y0 must be float32 or float64"):
        diffuse(adj, torch.ones(N, 2, dtype=torch.long), 2, 0.1)
    with pytest.raises(ValueError, match="x contains NaN"):
        spmm(adj, torch.full((N, 2), float("nan")))
    with pytest.raises(ValueError, match="x has 31 rows"):
        spmm(adj, torch.rand(N + 1, 2))
    with pytest.raises(ValueError, match="outside"):
        diffuse(torch.tensor([[0, 5], [1, 2]]), torch.rand(4, 2), 2, 0.1)
    with pytest.raises(ValueError, match="edge_weight is only accepted"):
        spmm(adj, torch.rand(N, 2), edge_weight=torch.ones(adj.nnz))


@needs_kernels
def test_kernels_reject_bad_arguments_directly():
    """The raw ops check their own input (ValueError/TypeError naming the argument); the full
    attack table is tests/test_bad_input_raw_ops.py."""
    adj = graph(weighted=True)
    rowptr, col, value = kernel_args(adj, torch.float32)
    x = torch.rand(N, 2)
    with pytest.raises(ValueError, match="alpha"):
        torch.ops.noisygraph.diffuse(rowptr, col, value, x, 2, 1.5)
    with pytest.raises(ValueError, match="num_steps"):
        torch.ops.noisygraph.diffuse(rowptr, col, value, x, -1, 0.5)
    with pytest.raises(TypeError, match="value must have the dtype of x"):
        torch.ops.noisygraph.spmm(rowptr, col, value.double(), x)
    with pytest.raises(TypeError, match="clamp_mask must be bool"):
        torch.ops.noisygraph.diffuse(rowptr, col, value, x, 2, 0.5, torch.ones(N))
    with pytest.raises(ValueError, match=r"rowptr\[\d+\] = \d+ must equal nnz"):
        torch.ops.noisygraph.spmm(rowptr, col[:-1], value[:-1], x)


# ------------------------------------------------------------------ second-order gradients
BACKENDS = ["compiled", "reference"]


def tiny_graph() -> Adjacency:
    """8 nodes (one isolated, self-loops, duplicates): small enough for gradgradcheck."""
    edge_index = random_graph(num_nodes=8, num_edges=18, isolated=1)
    return Adjacency.from_edge_index(edge_index, random_weights(edge_index, dtype=torch.float64),
                                     num_nodes=8)


def gradgradcheck(fn, inputs):
    return torch.autograd.gradgradcheck(fn, inputs, fast_mode=True)


def use_backend(backend, monkeypatch):
    if backend == "reference":
        monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    elif not COMPILED:
        pytest.skip("compiled library not built")


@pytest.mark.parametrize("backend", BACKENDS)
def test_spmm_gradgradcheck_features_and_weights(backend, monkeypatch):
    use_backend(backend, monkeypatch)
    adj = tiny_graph()
    value = adj.value.clone().requires_grad_()
    x = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)

    def run(v, x):
        return spmm(Adjacency(adj.rowptr, adj.col, v, 8), x)

    assert gradgradcheck(run, (value, x))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mask_mode", [None, "zero", "clamp"])
@pytest.mark.parametrize("clip", [False, True])
def test_diffuse_gradgradcheck_features_and_weights(backend, mask_mode, clip, monkeypatch):
    use_backend(backend, monkeypatch)
    adj = tiny_graph().normalize("sym")
    mask = None if mask_mode is None else random_mask(8, rate=0.4)
    # away from the clip's kinks, where the piecewise-linear clamp is twice differentiable
    y0 = (torch.rand(8, 2, dtype=torch.float64) * 0.4 + 0.3).requires_grad_()
    value = adj.value.detach().clone().requires_grad_()

    def run(y0, value):
        live = Adjacency(adj.rowptr, adj.col, value, 8)
        out = diffuse(live, y0, 3, 0.25, mask=mask, mask_mode=mask_mode or "zero", clip=clip)
        return out * out  # a nonlinear head, so that d²/dy0² is not zero

    assert gradgradcheck(run, (y0, value))


@pytest.mark.parametrize("backend", BACKENDS)
def test_appnp_gradgradcheck_features_and_edge_weights(backend, monkeypatch):
    from noisygraph.nn import APPNP

    use_backend(backend, monkeypatch)
    edge_index = random_graph(num_nodes=8, num_edges=18, isolated=1)
    weight = random_weights(edge_index, dtype=torch.float64).requires_grad_()
    x = torch.randn(8, 2, dtype=torch.float64, requires_grad=True)
    layer = APPNP(K=3, alpha=0.2)
    assert gradgradcheck(lambda x, w: layer(x, edge_index, w).tanh(), (x, weight))


def dense_appnp(a_hat, x, steps, alpha):
    h = x
    for _ in range(steps):
        h = (1 - alpha) * a_hat @ h + alpha * x
    return h


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_vector_product_through_appnp_matches_dense(backend, monkeypatch):
    """The old compiled backward was not differentiable: this product came back as zero."""
    from noisygraph.nn import APPNP

    use_backend(backend, monkeypatch)
    edge_index = random_graph()
    weight = random_weights(edge_index, dtype=torch.float64)
    adj = Adjacency.from_edge_index(edge_index, weight, num_nodes=N).normalize(
        "sym", add_self_loops=True)
    a_hat = adj.to_dense(torch.float64)
    x = torch.randn(N, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(N, 3, dtype=torch.float64)

    def hvp(loss_fn):
        (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)
        (h,) = torch.autograd.grad((g * v).sum(), x)
        return h

    ours = hvp(lambda x: APPNP(K=5, alpha=0.1)(x, edge_index, weight).pow(3).sum())
    want = hvp(lambda x: dense_appnp(a_hat, x, 5, 0.1).pow(3).sum())
    assert want.abs().max() > 1e-3
    torch.testing.assert_close(ours, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_wrt_edge_weights_matches_dense(backend, monkeypatch):
    use_backend(backend, monkeypatch)
    adj = tiny_graph()
    value = adj.value.clone().requires_grad_()
    y0 = torch.randn(8, 2, dtype=torch.float64)

    def ours(v):
        return diffuse(Adjacency(adj.rowptr, adj.col, v, 8), y0, 3, 0.3).pow(2).sum()

    def dense(v):
        a = torch.zeros(8, 8, dtype=torch.float64).index_put(
            (adj.row(), adj.col), v, accumulate=True)
        return dense_appnp(a, y0, 3, 0.3).pow(2).sum()

    torch.testing.assert_close(torch.autograd.functional.hessian(ours, value),
                               torch.autograd.functional.hessian(dense, value))


@needs_kernels
def test_raw_sddmm_and_adjoint_are_twice_differentiable():
    adj = tiny_graph()
    rowptr, col, value = kernel_args(adj, torch.float64)
    transposed, _ = adj.transpose()
    t_rowptr, t_col, t_value = kernel_args(transposed, torch.float64)
    a = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    ops = torch.ops.noisygraph
    assert gradgradcheck(lambda a, b: ops.sddmm(rowptr, col, a, b), (a, b))
    w = t_value.detach().clone().requires_grad_()
    mask = random_mask(8, rate=0.4)
    for clamp in (None, mask):
        assert gradgradcheck(
            lambda w, g: ops.diffuse_adjoint(t_rowptr, t_col, w, g, 3, 0.2, clamp) ** 2, (w, a))


# ------------------------------------------------------------------ the transpose
@needs_kernels
@pytest.mark.parametrize("op", ["spmm", "diffuse"])
def test_transpose_is_built_only_for_a_gradient_and_cached(op, monkeypatch):
    """The forward ops take no transposed CSR: the wrappers build it (through
    Adjacency.transpose, cached there) only when a gradient will be taken."""
    calls = []
    original = Adjacency.transpose

    def counting(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(Adjacency, "transpose", counting)
    adj = graph(weighted=True)
    run = (lambda x: spmm(adj, x)) if op == "spmm" else (lambda x: diffuse(adj, x, 4, 0.1))
    x = torch.rand(N, 3, requires_grad=True)
    with torch.no_grad():
        run(x)
    run(x.detach())
    assert calls == []  # no gradient: no transpose
    run(x).sum().backward()
    first = x.grad.clone()
    x.grad = None
    run(x).sum().backward()
    assert calls == [adj, adj]  # asked for twice ...
    assert adj.transpose() is adj.transpose()  # ... and built once (cached on the Adjacency)
    torch.testing.assert_close(x.grad, first)
    dense = adj.to_dense()
    expected = dense.t() @ torch.ones(N, 3) if op == "spmm" else None
    if expected is not None:
        torch.testing.assert_close(first, expected)
