"""The diffusion op family: ``spmm`` and the fused K-step ``diffuse``.

The compiled kernels (``torch.ops.noisygraph.spmm`` / ``sddmm`` / ``diffuse`` /
``diffuse_adjoint``) get their autograd formulas and fake (meta) implementations here, through
``torch.library`` (registered when :mod:`noisygraph` is imported). The wrappers validate their
input, pick the compiled kernel when :func:`noisygraph._ops.has_kernel` says one exists for the
tensors' device and fall back to the pure-PyTorch references of
:mod:`noisygraph.ops._reference.diffusion` otherwise (same result).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from noisygraph import _ops
from noisygraph._validation import (check_bool, check_bool_mask, check_finite, check_float_matrix,
                                    check_real, check_steps, check_tensor)
from noisygraph.ops._reference.diffusion import (adjoint_steps, diffuse_reference,
                                                 diffuse_steps, spmm_reference)
from noisygraph.sparse import REORDERINGS, Adjacency, GraphLike, csr_transpose, to_adjacency

MASK_MODES = ("zero", "clamp")


def _transpose_args(adj: Adjacency) -> tuple[Tensor, Tensor, Tensor]:
    """The transposed CSR of ``adj`` in the kernels' index dtype and the map from its nonzeros
    to ours, built on the first gradient that needs it and cached on ``adj``."""
    transposed, perm = adj.transpose()
    t_rowptr, t_col = transposed.kernel_indices()
    return t_rowptr, t_col, perm


def _needs_grad(*tensors: Optional[Tensor]) -> bool:
    """Whether autograd will record a call on ``tensors`` (a metadata test, no host sync)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


# ---------------------------------------------------------------------------- autograd
# The forward schemas carry no transposed CSR. A raw op called directly gets its gradient from
# the autograd registered below, which transposes the CSR itself (a sort). The wrappers, which
# hold an Adjacency, run the op through _Spmm / _Diffuse instead, handing them the transpose
# cached on the Adjacency — and only when a gradient will be taken (never under no_grad).
#
# Every backward is itself built from differentiable calls, so gradients of gradients
# (Hessian-vector products, gradient penalties) are exact: spmm's backward is a transposed
# spmm plus an sddmm, both with autograd; when the backward runs under create_graph
# (torch.is_grad_enabled() is then True inside it), the diffusion's backward replays the K
# steps with the differentiable spmm and lets autograd differentiate them.
def _inverse(perm: Tensor) -> Tensor:
    out = torch.empty_like(perm)
    out[perm] = torch.arange(perm.numel(), device=perm.device)
    return out


def _spmm_grads(rowptr, col, x, transposes, t_value, grad, need_value: bool,
                need_x: bool):
    """Gradients of ``spmm(rowptr, col, value, x)`` w.r.t. ``value`` (an SDDMM) and ``x``
    (``Aᵀ grad`` with ``t_value = value[t_perm]``). Under create_graph both are built from
    differentiable calls: the transposed product carries ``A`` as its own transpose."""
    higher = torch.is_grad_enabled()
    grad_value = grad_x = None
    if need_x:
        t_rowptr, t_col, t_perm = transposes
        if higher:
            grad_x = _Spmm.apply(t_rowptr, t_col, t_value, grad, rowptr, col, _inverse(t_perm),
                                 None)
        else:
            grad_x = torch.ops.noisygraph.spmm(t_rowptr, t_col, t_value, grad)
    if need_value and higher:
        grad_value = _SDDMM.apply(rowptr, col, grad, x, *transposes)
    elif need_value:
        grad_value = torch.ops.noisygraph.sddmm(rowptr, col, grad, x)
    return grad_value, grad_x


def _sddmm_grads(rowptr, col, a, b, grad, transposes, need_a: bool, need_b: bool):
    """Gradients of ``sddmm(rowptr, col, a, b)`` w.r.t. ``a`` (``A_g b``) and ``b``
    (``A_gᵀ a``), with ``A_g`` the pattern weighted by ``grad``."""
    grad_a = grad_b = None
    if need_a:
        grad_a = _Spmm.apply(rowptr, col, grad, b, *transposes, None)
    if need_b:
        grad_b = _spmm_grads(rowptr, col, None, transposes, grad[transposes[2]], a, False,
                             True)[1]
    return grad_a, grad_b


class _Spmm(torch.autograd.Function):
    """``spmm(rowptr, col, value, x)`` with the transposed CSR ``(t_rowptr, t_col, t_perm)`` at
    hand (no sort in its backward). ``t_value = value[t_perm]`` may be gathered once by the
    caller (the diffusion's replay runs K products over the same values: one gather instead of
    K), else :obj:`None` (gathered here when needed)."""

    @staticmethod
    def forward(ctx, rowptr, col, value, x, t_rowptr, t_col, t_perm, t_value):
        ctx.save_for_backward(rowptr, col, value, x, t_rowptr, t_col, t_perm, t_value)
        return torch.ops.noisygraph.spmm(rowptr, col, value, x)

    @staticmethod
    def backward(ctx, grad):
        rowptr, col, value, x, t_rowptr, t_col, t_perm, t_value = ctx.saved_tensors
        need_value = value is not None and ctx.needs_input_grad[2]
        need_x = ctx.needs_input_grad[3]
        if need_x and value is not None and t_value is None:
            t_value = value[t_perm]
        grad_value, grad_x = _spmm_grads(rowptr, col, x, (t_rowptr, t_col, t_perm), t_value,
                                         grad, need_value, need_x)
        return None, None, grad_value, grad_x, None, None, None, None


class _SDDMM(torch.autograd.Function):
    """The raw sddmm with the transposed CSR at hand (no sort in its backward)."""

    @staticmethod
    def forward(ctx, rowptr, col, a, b, t_rowptr, t_col, t_perm):
        ctx.save_for_backward(rowptr, col, a, b, t_rowptr, t_col, t_perm)
        return torch.ops.noisygraph.sddmm(rowptr, col, a, b)

    @staticmethod
    def backward(ctx, grad):
        rowptr, col, a, b, t_rowptr, t_col, t_perm = ctx.saved_tensors
        grad_a, grad_b = _sddmm_grads(rowptr, col, a, b, grad, (t_rowptr, t_col, t_perm),
                                      ctx.needs_input_grad[2], ctx.needs_input_grad[3])
        return None, None, grad_a, grad_b, None, None, None


def _sddmm_setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _sddmm_backward(ctx, grad):
    rowptr, col, a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad[2], ctx.needs_input_grad[3]
    transposes = csr_transpose(rowptr, col, b.size(0)) if need_a or need_b else ()
    return (None, None) + _sddmm_grads(rowptr, col, a, b, grad, transposes, need_a, need_b)


def _spmm_setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _spmm_backward(ctx, grad):
    rowptr, col, value, x = ctx.saved_tensors
    need_value = value is not None and ctx.needs_input_grad[2]
    need_x = ctx.needs_input_grad[3]
    transposes = t_value = None
    if need_x or (need_value and torch.is_grad_enabled()):
        transposes = csr_transpose(rowptr, col, x.size(0))
    if need_x and value is not None:
        t_value = value[transposes[2]]
    return (None, None) + _spmm_grads(rowptr, col, x, transposes, t_value, grad, need_value,
                                      need_x)


def _diffuse_grads(ctx, rowptr, col, value, y0, clamp_mask, transposes, grad):
    """Gradients of ``diffuse(rowptr, col, value, y0, ...)`` (options on ``ctx``) w.r.t.
    ``value`` and ``y0``, given the transposed CSR."""
    need_value = value is not None and ctx.needs_input_grad[2]
    need_y0 = ctx.needs_input_grad[3]
    if not (ctx.clip or need_value or torch.is_grad_enabled()):
        # the common case: one fused adjoint kernel call over Aᵀ
        t_value = None if value is None else value[transposes[2]]
        return None, torch.ops.noisygraph.diffuse_adjoint(
            transposes[0], transposes[1], t_value, grad, ctx.num_steps, ctx.alpha, clamp_mask)

    def replay(v, y):
        t_value = None if v is None else v[transposes[2]]  # one gather for the K steps
        return diffuse_steps(lambda s: _Spmm.apply(rowptr, col, v, s, *transposes, t_value), y,
                             ctx.num_steps, ctx.alpha, clamp_mask, ctx.clip)

    return _vjp_by_replay(replay, value, y0, grad, need_value, need_y0)


class _Diffuse(torch.autograd.Function):
    """``diffuse(rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip)`` with the
    transposed CSR ``(t_rowptr, t_col, t_perm)`` at hand (no sort in its backward)."""

    @staticmethod
    def forward(ctx, rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip, t_rowptr,
                t_col, t_perm):
        ctx.num_steps, ctx.alpha, ctx.clip = num_steps, alpha, clip
        ctx.save_for_backward(rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_perm)
        return torch.ops.noisygraph.diffuse(rowptr, col, value, y0, num_steps, alpha,
                                            clamp_mask, clip)

    @staticmethod
    def backward(ctx, grad):
        rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_perm = ctx.saved_tensors
        grad_value, grad_y0 = _diffuse_grads(ctx, rowptr, col, value, y0, clamp_mask,
                                             (t_rowptr, t_col, t_perm), grad)
        return (None, None, grad_value, grad_y0) + (None,) * 7


def _diffuse_setup_context(ctx, inputs, output):
    rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip = inputs
    ctx.num_steps, ctx.alpha, ctx.clip = num_steps, alpha, clip
    ctx.save_for_backward(rowptr, col, value, y0, clamp_mask)


def _diffuse_backward(ctx, grad):
    rowptr, col, value, y0, clamp_mask = ctx.saved_tensors
    transposes = csr_transpose(rowptr, col, y0.size(0))
    grad_value, grad_y0 = _diffuse_grads(ctx, rowptr, col, value, y0, clamp_mask, transposes,
                                         grad)
    return (None, None, grad_value, grad_y0) + (None,) * 4


def _vjp_by_replay(fn, value: Optional[Tensor], signal: Tensor, grad: Tensor,
                   need_value: bool, need_signal: bool):
    """``(d<fn(value, signal), grad> / d value, ... / d signal)`` by replaying ``fn`` (K
    sparse products, K saved states) and differentiating it; the result is itself
    differentiable when the backward runs under create_graph."""
    higher = torch.is_grad_enabled()
    if not higher:  # a private graph of detached copies
        value = None if value is None else value.detach().requires_grad_(need_value)
        signal = signal.detach().requires_grad_(need_signal)
    wanted = [t for t, need in ((value, need_value), (signal, need_signal)) if need]
    with torch.enable_grad():
        out = fn(value, signal)
        if not out.requires_grad:  # no step ran: the output is the input
            grads = [None] * len(wanted)
        else:
            grads = list(torch.autograd.grad(out, wanted, grad, create_graph=higher,
                                             allow_unused=True))
    grad_value = grads.pop(0) if need_value else None
    grad_signal = grads.pop(0) if need_signal else None
    return grad_value, grad_signal


def _adjoint_setup_context(ctx, inputs, output):
    t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask = inputs
    ctx.num_steps, ctx.alpha = num_steps, alpha
    ctx.save_for_backward(t_rowptr, t_col, t_value, grad, clamp_mask)


def _adjoint_backward(ctx, grad_out):
    t_rowptr, t_col, t_value, grad, clamp_mask = ctx.saved_tensors
    grad_value, grad_grad = _vjp_by_replay(
        lambda v, g: adjoint_steps(lambda w: torch.ops.noisygraph.spmm(t_rowptr, t_col, v, w),
                                   g, ctx.num_steps, ctx.alpha, clamp_mask),
        t_value, grad, grad_out, t_value is not None and ctx.needs_input_grad[2],
        ctx.needs_input_grad[3])
    return None, None, grad_value, grad_grad, None, None, None


def _register() -> None:
    lib = "noisygraph::"

    @torch.library.register_fake(lib + "spmm")
    def _spmm_fake(rowptr, col, value, x):
        return x.new_empty(rowptr.shape[0] - 1, x.shape[1])

    @torch.library.register_fake(lib + "sddmm")
    def _sddmm_fake(rowptr, col, a, b):
        return a.new_empty(col.shape[0])

    @torch.library.register_fake(lib + "diffuse")
    def _diffuse_fake(rowptr, col, value, y0, num_steps, alpha, clamp_mask=None, clip=False):
        return torch.empty_like(y0)

    @torch.library.register_fake(lib + "diffuse_adjoint")
    def _adjoint_fake(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask=None):
        return torch.empty_like(grad)

    torch.library.register_autograd(lib + "spmm", _spmm_backward,
                                    setup_context=_spmm_setup_context)
    torch.library.register_autograd(lib + "sddmm", _sddmm_backward,
                                    setup_context=_sddmm_setup_context)
    torch.library.register_autograd(lib + "diffuse", _diffuse_backward,
                                    setup_context=_diffuse_setup_context)
    torch.library.register_autograd(lib + "diffuse_adjoint", _adjoint_backward,
                                    setup_context=_adjoint_setup_context)


if _ops.COMPILED:
    _register()


# ---------------------------------------------------------------------------- validation
def graph_for(graph: GraphLike, num_nodes: int, edge_weight: Optional[Tensor]) -> Adjacency:
    """The validated adjacency of ``graph``; ``num_nodes`` (the rows of the dense input) is
    the node count of an ``edge_index`` only: every other format has its own size, which
    the caller checks against its dense input, naming that input."""
    if isinstance(graph, Adjacency) or (isinstance(graph, Tensor) and
                                        graph.layout != torch.strided):
        return to_adjacency(graph, edge_weight)
    return to_adjacency(graph, edge_weight, num_nodes=num_nodes)


def _signal(name: str, x) -> tuple[Tensor, bool]:
    """A ``[N]`` signal as ``[N, 1]``, and whether to squeeze the result back."""
    check_tensor(name, x)
    if x.dim() == 0:
        raise ValueError(f"{name} must be [num_nodes] or [num_nodes, F], got a scalar")
    return (x.unsqueeze(-1), True) if x.dim() == 1 else (x, False)


# ---------------------------------------------------------------------------- public ops
def spmm(graph: GraphLike, x: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
    r"""Sparse-dense product :math:`\mathbf{A}\mathbf{X}` (rows of :math:`\mathbf{A}` are
    targets, so ``out[i]`` sums the messages of the edges ``j -> i``):

    .. math::
        \mathbf{out}_i = \sum_{j \to i} w_{ji}\, \mathbf{x}_j.

    Differentiable w.r.t. ``x`` and the edge values, to any order (the backward is a
    transposed ``spmm`` and an SDDMM, both differentiable).

    Args:
        graph: an :class:`~noisygraph.sparse.Adjacency`, ``edge_index`` (``[2, E]``),
            PyG ``EdgeIndex`` or ``torch.sparse`` COO/CSR matrix.
        x (torch.Tensor): dense features ``[num_nodes, F]`` (or ``[num_nodes]``), float32/64,
            finite.
        edge_weight (torch.Tensor, optional): finite, non-negative weights of
            ``edge_index``'s edges. (default: :obj:`None`)

    Raises:
        ValueError / TypeError: naming the argument, for any malformed input. The data
            checks cost one host synchronisation per call (finiteness of ``x``), plus one
            when the graph is not already an :class:`~noisygraph.sparse.Adjacency`.
    """
    x, squeeze = _signal("x", x)
    adj = graph_for(graph, x.size(0), edge_weight)
    check_float_matrix("x", x, adj.num_cols, adj.device)
    check_finite("x", x)
    out = spmm_adjacency(adj, x)
    return out.squeeze(-1) if squeeze else out


def spmm_adjacency(adj: Adjacency, x: Tensor) -> Tensor:
    """:func:`spmm` without the argument checks: ``adj`` a validated adjacency, ``x`` a
    checked ``[adj.num_cols, F]`` float matrix on its device."""
    value = adj.values_as(x.dtype)
    if _ops.has_kernel("spmm", x.device):
        rowptr, col = adj.kernel_indices()
        if _needs_grad(value, x):
            return _Spmm.apply(rowptr, col, value, x, *_transpose_args(adj), None)
        return torch.ops.noisygraph.spmm(rowptr, col, value, x)
    return spmm_reference(adj.rowptr, adj.col, value, x)


def spmm_edge_values(adj: Adjacency, value: Tensor, x: Tensor) -> Tensor:
    """:func:`spmm_adjacency` with per-call edge values (e.g. attention weights) ``[nnz]`` in
    ``adj``'s CSR order instead of its stored ones: ``out_i = sum_e value_e x_col(e)`` over
    the nonzeros ``e`` of row ``i``. Differentiable w.r.t. ``value`` (an SDDMM) and ``x``; no
    argument checks (``value`` finite and non-negative, ``x`` ``[adj.num_cols, F]``, both
    trusted, on ``adj``'s device)."""
    if _ops.has_kernel("spmm", x.device):
        rowptr, col = adj.kernel_indices()
        if _needs_grad(value, x):
            return _Spmm.apply(rowptr, col, value, x, *_transpose_args(adj), None)
        return torch.ops.noisygraph.spmm(rowptr, col, value, x)
    return spmm_reference(adj.rowptr, adj.col, value, x)


def diffuse(graph: GraphLike, y0: Tensor, num_steps: int, alpha: float,
            mask: Optional[Tensor] = None, mask_mode: str = "zero",
            edge_weight: Optional[Tensor] = None, *, clip: bool = False,
            reorder: Union[bool, str] = False) -> Tensor:
    r"""Fused :math:`K`-step diffusion with restart,

    .. math::
        \mathbf{Y}_{t+1} = (1-\alpha)\,\hat{\mathbf{A}}\mathbf{Y}_t + \alpha\,\mathbf{Y}_0,
        \quad t = 0, \dots, K-1,

    over the (already normalized) adjacency :math:`\hat{\mathbf{A}}`, all :math:`K` steps
    in one kernel call. Differentiable w.r.t. ``y0`` (the adjoint runs the same fused
    recurrence over :math:`\hat{\mathbf{A}}^\top`) and the edge values, to any order (a
    gradient of a gradient replays the :math:`K` steps with the differentiable ``spmm``;
    with ``clip=True`` the derivatives are those of the piecewise-linear clamp, exact away
    from its kinks). With ``alpha`` :math:`=\alpha` this is APPNP's propagation; PyG's
    ``LabelPropagation(alpha=a)`` is ``alpha=1-a``, ``mask_mode="zero"``, ``clip=True``
    over the ``sym`` normalization.

    Args:
        graph: the adjacency :math:`\hat{\mathbf{A}}` (normalize it first, e.g.
            ``to_adjacency(edge_index).normalize("sym")``); an ``edge_index``, ``EdgeIndex``
            or ``torch.sparse`` matrix is used as is.
        y0 (torch.Tensor): starting signal ``[num_nodes, F]`` (or ``[num_nodes]``),
            float32/64, finite.
        num_steps (int): :math:`K \geq 0`.
        alpha (float): restart probability in :math:`[0, 1]`.
        mask (torch.Tensor, optional): boolean ``[num_nodes]``. With ``mask_mode="zero"``
            rows outside the mask start (and restart) at zero; with ``"clamp"`` rows inside
            the mask are reset to :math:`\mathbf{Y}_0` after every step. (default: :obj:`None`)
        mask_mode (str): ``"zero"`` or ``"clamp"``. (default: ``"zero"``)
        edge_weight (torch.Tensor, optional): finite, non-negative weights of
            ``edge_index``'s edges. (default: :obj:`None`)
        clip (bool): clamp every (unclamped) row to :math:`[0, 1]` after each step, as PyG's
            ``LabelPropagation`` does by default. (default: :obj:`False`)
        reorder (bool or str): diffuse over a cached locality-improving relabelling of the
            nodes (:meth:`Adjacency.reorder`; ``True`` means ``"rcm"``) and map the result
            back. Same result up to float rounding; pays off when the same
            :class:`Adjacency` is diffused repeatedly. (default: :obj:`False`)

    Raises:
        ValueError / TypeError: naming the argument, for any malformed input. The data
            checks cost one host synchronisation per call (finiteness of ``y0``), plus one
            when the graph is not already an :class:`~noisygraph.sparse.Adjacency`; none
            per step.
    """
    num_steps = check_steps("num_steps", num_steps)
    alpha = check_real("alpha", alpha, low=0.0, high=1.0)
    if not isinstance(mask_mode, str):
        raise TypeError(f"mask_mode must be a str, got {type(mask_mode).__name__}")
    if mask_mode not in MASK_MODES:
        raise ValueError(f"mask_mode must be one of {MASK_MODES}, got {mask_mode!r}")
    clip = check_bool("clip", clip)
    method = _reorder_method(reorder)
    y0, squeeze = _signal("y0", y0)
    adj = graph_for(graph, y0.size(0), edge_weight)
    if adj.num_rows != adj.num_cols:
        raise ValueError(f"diffusion needs a square graph, got {adj.num_rows} x {adj.num_cols}")
    check_float_matrix("y0", y0, adj.num_rows, adj.device)
    if mask is not None:
        check_bool_mask("mask", mask, adj.num_rows, y0.device)
    check_finite("y0", y0)
    clamp_mask = None
    if mask is not None and mask_mode == "zero":
        y0 = y0 * mask.to(y0.dtype).unsqueeze(-1)
    elif mask is not None:
        clamp_mask = mask
    if method is not None:
        out = _diffuse_reordered(adj, y0, num_steps, alpha, clamp_mask, clip, method)
    else:
        out = diffuse_adjacency(adj, y0, num_steps, alpha, clamp_mask, clip)
    return out.squeeze(-1) if squeeze else out


def _reorder_method(reorder) -> Optional[str]:
    if isinstance(reorder, bool):
        return "rcm" if reorder else None
    if not isinstance(reorder, str):
        raise TypeError(f"reorder must be a bool or one of {REORDERINGS}, got "
                        f"{type(reorder).__name__}")
    if reorder not in REORDERINGS:
        raise ValueError(f"reorder must be a bool or one of {REORDERINGS}, got {reorder!r}")
    return reorder


def diffuse_adjacency(adj: Adjacency, y0: Tensor, num_steps: int, alpha: float,
                      clamp_mask: Optional[Tensor] = None, clip: bool = False) -> Tensor:
    """:func:`diffuse` without the argument checks: ``adj`` a validated square adjacency,
    ``y0`` a checked ``[N, F]`` float matrix, ``clamp_mask`` a checked bool ``[N]`` or
    :obj:`None`, ``num_steps`` and ``alpha`` checked."""
    value = adj.values_as(y0.dtype)
    if _ops.has_kernel("diffuse", y0.device):
        rowptr, col = adj.kernel_indices()
        if _needs_grad(value, y0):
            return _Diffuse.apply(rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip,
                                  *_transpose_args(adj))
        return torch.ops.noisygraph.diffuse(rowptr, col, value, y0, num_steps, alpha,
                                            clamp_mask, clip)
    return diffuse_reference(adj.rowptr, adj.col, value, y0, num_steps, alpha, clamp_mask, clip)


def _diffuse_reordered(adj: Adjacency, y0: Tensor, num_steps: int, alpha: float,
                       clamp_mask: Optional[Tensor], clip: bool, method: str) -> Tensor:
    reordering = adj.reorder(method)
    perm, inverse = reordering.perm, reordering.inverse
    mask = None if clamp_mask is None else clamp_mask[perm]
    out = diffuse_adjacency(reordering.adjacency, y0[perm], num_steps, alpha, mask, clip)
    return out[inverse]
