"""Sparse diffusion ops: ``spmm`` and the fused K-step ``diffuse``.

The compiled kernels (``torch.ops.noisygraph.spmm`` / ``sddmm`` / ``diffuse`` /
``diffuse_adjoint``) get their autograd formulas and fake (meta) implementations here, through
``torch.library``. The wrappers validate their input, pick the compiled kernel when one exists
for the tensors' device and fall back to the pure-PyTorch references otherwise (same result).
"""
from __future__ import annotations

import math
from typing import Optional, Union

import torch
from torch import Tensor

from noisygraph import _ops
from noisygraph.ops.reference import diffuse_reference, spmm_reference
from noisygraph.sparse import Adjacency, GraphLike, csr_transpose, to_adjacency

MASK_MODES = ("zero", "clamp")


# ---------------------------------------------------------------------------- dispatch
def has_kernel(device: torch.device) -> bool:
    """Whether the compiled library has kernels for tensors on ``device``."""
    if not _ops.COMPILED:
        return False
    key = {"cpu": "CPU", "cuda": "CUDA"}.get(device.type)
    return key is not None and torch._C._dispatch_has_kernel_for_dispatch_key(
        "noisygraph::diffuse", key)


def _transpose_args(adj: Adjacency) -> tuple[Tensor, Tensor, Tensor]:
    transposed, perm = adj.transpose()
    t_rowptr, t_col = transposed.kernel_indices()
    return t_rowptr, t_col, perm


# ---------------------------------------------------------------------------- autograd
def _transpose_in_backward(rowptr: Tensor, col: Tensor, value: Optional[Tensor],
                           t_rowptr: Optional[Tensor], t_col: Optional[Tensor],
                           t_perm: Optional[Tensor], num_cols: int):
    """The transposed CSR: the one passed to the op, else computed here (slower)."""
    if t_rowptr is None or t_col is None or t_perm is None:
        t_rowptr, t_col, t_perm = csr_transpose(rowptr, col, num_cols)
    t_value = None if value is None else value[t_perm]
    return t_rowptr, t_col, t_value


def _spmm_setup_context(ctx, inputs, output):
    rowptr, col, value, x, t_rowptr, t_col, t_perm = inputs
    ctx.save_for_backward(rowptr, col, value, x, t_rowptr, t_col, t_perm)


def _spmm_backward(ctx, grad):
    rowptr, col, value, x, t_rowptr, t_col, t_perm = ctx.saved_tensors
    grad_value = grad_x = None
    if ctx.needs_input_grad[3]:
        t_rowptr, t_col, t_value = _transpose_in_backward(rowptr, col, value, t_rowptr, t_col,
                                                          t_perm, x.size(0))
        grad_x = torch.ops.noisygraph.spmm(t_rowptr, t_col, t_value, grad)
    if value is not None and ctx.needs_input_grad[2]:
        grad_value = torch.ops.noisygraph.sddmm(rowptr, col, grad, x)
    return None, None, grad_value, grad_x, None, None, None


def _diffuse_setup_context(ctx, inputs, output):
    rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip, t_rowptr, t_col, t_perm = inputs
    ctx.num_steps, ctx.alpha, ctx.clip = num_steps, alpha, clip
    ctx.save_for_backward(rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_perm)


def _diffuse_backward(ctx, grad):
    rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_perm = ctx.saved_tensors
    t_rowptr, t_col, t_value = _transpose_in_backward(rowptr, col, value, t_rowptr, t_col,
                                                      t_perm, y0.size(0))
    value_needs_grad = value is not None and ctx.needs_input_grad[2]
    if not ctx.clip and not value_needs_grad:
        grad_y0 = torch.ops.noisygraph.diffuse_adjoint(t_rowptr, t_col, t_value, grad,
                                                       ctx.num_steps, ctx.alpha, clamp_mask)
        return None, None, None, grad_y0, None, None, None, None, None, None, None
    grad_value, grad_y0 = _diffuse_backward_stepwise(
        rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_value, grad, ctx.num_steps,
        ctx.alpha, ctx.clip, value_needs_grad)
    return None, None, grad_value, grad_y0, None, None, None, None, None, None, None


def _diffuse_backward_stepwise(rowptr, col, value, y0, clamp_mask, t_rowptr, t_col, t_value,
                               grad, num_steps, alpha, clip, value_needs_grad):
    """Backward that recomputes the K intermediate states (K x memory of ``y0``): needed for
    the gradient w.r.t. the edge values and for the kinks of the clip."""
    ops = torch.ops.noisygraph
    states, pre_clip = [y0], []
    for _ in range(num_steps):
        pre = (1.0 - alpha) * ops.spmm(rowptr, col, value, states[-1]) + alpha * y0
        state = pre.clamp(0.0, 1.0) if clip else pre
        if clamp_mask is not None:
            state = torch.where(clamp_mask.unsqueeze(-1), y0, state)
        pre_clip.append(pre)
        states.append(state)
    keep = None if clamp_mask is None else (~clamp_mask).to(grad.dtype).unsqueeze(-1)
    g = grad
    grad_y0 = torch.zeros_like(y0)
    grad_value = torch.zeros_like(value) if value_needs_grad else None
    for t in reversed(range(num_steps)):
        g_pre = g if keep is None else g * keep
        if keep is not None:
            grad_y0 = grad_y0 + g * (1.0 - keep)
        if clip:
            g_pre = g_pre * ((pre_clip[t] >= 0) & (pre_clip[t] <= 1)).to(g.dtype)
        grad_y0 = grad_y0 + alpha * g_pre
        if value_needs_grad:
            grad_value = grad_value + (1.0 - alpha) * ops.sddmm(rowptr, col, g_pre, states[t])
        g = (1.0 - alpha) * ops.spmm(t_rowptr, t_col, t_value, g_pre)
    return grad_value, grad_y0 + g


def _register() -> None:
    lib = "noisygraph::"

    @torch.library.register_fake(lib + "spmm")
    def _spmm_fake(rowptr, col, value, x, t_rowptr=None, t_col=None, t_perm=None):
        return x.new_empty(rowptr.shape[0] - 1, x.shape[1])

    @torch.library.register_fake(lib + "sddmm")
    def _sddmm_fake(rowptr, col, a, b):
        return a.new_empty(col.shape[0])

    @torch.library.register_fake(lib + "diffuse")
    def _diffuse_fake(rowptr, col, value, y0, num_steps, alpha, clamp_mask=None, clip=False,
                      t_rowptr=None, t_col=None, t_perm=None):
        return torch.empty_like(y0)

    @torch.library.register_fake(lib + "diffuse_adjoint")
    def _adjoint_fake(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask=None):
        return torch.empty_like(grad)

    torch.library.register_autograd(lib + "spmm", _spmm_backward,
                                    setup_context=_spmm_setup_context)
    torch.library.register_autograd(lib + "diffuse", _diffuse_backward,
                                    setup_context=_diffuse_setup_context)


if _ops.COMPILED:
    _register()


# ---------------------------------------------------------------------------- validation
def _check_dense(name: str, x: Tensor, num_nodes: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must be 2-D [num_nodes, F], got shape {tuple(x.shape)}")
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if x.size(0) != num_nodes:
        raise ValueError(f"{name} has {x.size(0)} rows but the graph has {num_nodes} nodes")
    if torch.isnan(x).any():
        raise ValueError(f"{name} contains NaN")


def _graph_for(graph: GraphLike, x: Tensor, edge_weight: Optional[Tensor]) -> Adjacency:
    if isinstance(graph, Adjacency) or (isinstance(graph, Tensor) and
                                        graph.layout != torch.strided):
        adj = to_adjacency(graph, edge_weight)  # its own size; x's rows are checked below
    else:
        adj = to_adjacency(graph, edge_weight, num_nodes=x.size(0) if x.dim() >= 1 else None)
    if adj.device != x.device:
        raise ValueError(f"the graph is on {adj.device} but the dense input on {x.device}")
    return adj


def _as_matrix(x: Tensor) -> tuple[Tensor, bool]:
    """A ``[N]`` signal as ``[N, 1]``, and whether to squeeze the result back."""
    return (x.unsqueeze(-1), True) if x.dim() == 1 else (x, False)


# ---------------------------------------------------------------------------- public ops
def spmm(graph: GraphLike, x: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
    r"""Sparse-dense product :math:`\mathbf{A}\mathbf{X}` (rows of :math:`\mathbf{A}` are
    targets, so ``out[i]`` sums the messages of the edges ``j -> i``):

    .. math::
        \mathbf{out}_i = \sum_{j \to i} w_{ji}\, \mathbf{x}_j.

    Differentiable w.r.t. ``x`` and the edge values.

    Args:
        graph: an :class:`~noisygraph.sparse.Adjacency`, ``edge_index`` (``[2, E]``),
            PyG ``EdgeIndex`` or ``torch.sparse`` COO/CSR matrix.
        x (torch.Tensor): dense features ``[num_nodes, F]`` (or ``[num_nodes]``), float32/64.
        edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
            (default: :obj:`None`)
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    x, squeeze = _as_matrix(x)
    adj = _graph_for(graph, x, edge_weight)
    _check_dense("x", x, adj.num_cols)
    value = adj.values_as(x.dtype)
    if has_kernel(x.device):
        rowptr, col = adj.kernel_indices()
        out = torch.ops.noisygraph.spmm(rowptr, col, value, x, *_transpose_args(adj))
    else:
        out = spmm_reference(adj.rowptr, adj.col, value, x)
    return out.squeeze(-1) if squeeze else out


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
    recurrence over :math:`\hat{\mathbf{A}}^\top`) and the edge values. With ``alpha``
    :math:`=\alpha` this is APPNP's propagation; PyG's ``LabelPropagation(alpha=a)`` is
    ``alpha=1-a``, ``mask_mode="zero"``, ``clip=True`` over the ``sym`` normalization.

    Args:
        graph: the adjacency :math:`\hat{\mathbf{A}}` (normalize it first, e.g.
            ``to_adjacency(edge_index).normalize("sym")``); an ``edge_index``, ``EdgeIndex``
            or ``torch.sparse`` matrix is used as is.
        y0 (torch.Tensor): starting signal ``[num_nodes, F]`` (or ``[num_nodes]``).
        num_steps (int): :math:`K \geq 0`.
        alpha (float): restart probability in :math:`[0, 1]`.
        mask (torch.Tensor, optional): boolean ``[num_nodes]``. With ``mask_mode="zero"``
            rows outside the mask start (and restart) at zero; with ``"clamp"`` rows inside
            the mask are reset to :math:`\mathbf{Y}_0` after every step. (default: :obj:`None`)
        mask_mode (str): ``"zero"`` or ``"clamp"``. (default: ``"zero"``)
        edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
            (default: :obj:`None`)
        clip (bool): clamp every (unclamped) row to :math:`[0, 1]` after each step, as PyG's
            ``LabelPropagation`` does by default. (default: :obj:`False`)
        reorder (bool or str): diffuse over a cached locality-improving relabelling of the
            nodes (:meth:`Adjacency.reorder`; ``True`` means ``"rcm"``) and map the result
            back. Same result up to float rounding; pays off when the same
            :class:`Adjacency` is diffused repeatedly. (default: :obj:`False`)
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"num_steps must be an int, got {type(num_steps).__name__}")
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0, got {num_steps}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha must be a float, got {type(alpha).__name__}")
    alpha = float(alpha)
    if math.isnan(alpha) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    if mask_mode not in MASK_MODES:
        raise ValueError(f"mask_mode must be one of {MASK_MODES}, got {mask_mode!r}")
    if not isinstance(y0, Tensor):
        raise TypeError(f"y0 must be a torch.Tensor, got {type(y0).__name__}")
    y0, squeeze = _as_matrix(y0)
    adj = _graph_for(graph, y0, edge_weight)
    if adj.num_rows != adj.num_cols:
        raise ValueError(f"diffusion needs a square adjacency, got {adj.num_rows} x {adj.num_cols}")
    _check_dense("y0", y0, adj.num_rows)
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"mask must be a bool tensor, got "
                            f"{getattr(mask, 'dtype', type(mask).__name__)}")
        if mask.shape != (adj.num_rows,):
            raise ValueError(f"mask must have shape [{adj.num_rows}], got {tuple(mask.shape)}")
        if mask.device != y0.device:
            raise ValueError(f"mask is on {mask.device} but y0 on {y0.device}")
    clamp_mask = None
    if mask is not None and mask_mode == "zero":
        y0 = y0 * mask.to(y0.dtype).unsqueeze(-1)
    elif mask is not None:
        clamp_mask = mask
    if reorder:
        out = _diffuse_reordered(adj, y0, num_steps, alpha, clamp_mask, clip,
                                 "rcm" if reorder is True else reorder)
    else:
        out = _diffuse_adjacency(adj, y0, num_steps, alpha, clamp_mask, clip)
    return out.squeeze(-1) if squeeze else out


def _diffuse_adjacency(adj: Adjacency, y0: Tensor, num_steps: int, alpha: float,
                       clamp_mask: Optional[Tensor], clip: bool) -> Tensor:
    value = adj.values_as(y0.dtype)
    if has_kernel(y0.device):
        rowptr, col = adj.kernel_indices()
        return torch.ops.noisygraph.diffuse(rowptr, col, value, y0, num_steps, alpha,
                                            clamp_mask, clip, *_transpose_args(adj))
    return diffuse_reference(adj.rowptr, adj.col, value, y0, num_steps, alpha, clamp_mask, clip)


def _diffuse_reordered(adj: Adjacency, y0: Tensor, num_steps: int, alpha: float,
                       clamp_mask: Optional[Tensor], clip: bool, method: str) -> Tensor:
    reordering = adj.reorder(method)
    perm, inverse = reordering.perm, reordering.inverse
    mask = None if clamp_mask is None else clamp_mask[perm]
    out = _diffuse_adjacency(reordering.adjacency, y0[perm], num_steps, alpha, mask, clip)
    return out[inverse]
