"""Pure-PyTorch reference of every noisygraph sparse-diffusion op: the ground truth the
kernels are tested against, and the path that runs when the compiled library is absent or
has no kernel for the tensors' device. Arguments mirror the ``torch.ops.noisygraph`` schemas
(CSR rows are targets). Everything here is differentiable to any order by autograd.

The two recurrences (:func:`diffuse_steps`, :func:`adjoint_steps`) take the sparse product as
a function, so that the compiled path's backward can replay exactly the same recurrence over
the compiled ``spmm`` when a gradient of a gradient is needed.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

Product = Callable[[Tensor], Tensor]


def _row_of_nonzeros(rowptr: Tensor, device: torch.device) -> Tensor:
    num_rows = rowptr.numel() - 1
    counts = (rowptr[1:] - rowptr[:-1]).to(torch.long)
    return torch.repeat_interleave(torch.arange(num_rows, device=device), counts)


def spmm_reference(rowptr: Tensor, col: Tensor, value: Optional[Tensor], x: Tensor) -> Tensor:
    """``out[i] = sum_{e in row i} value[e] * x[col[e]]`` (differentiable by autograd)."""
    row = _row_of_nonzeros(rowptr, x.device)
    messages = x[col.to(torch.long)]
    if value is not None:
        messages = messages * value.to(x.dtype).unsqueeze(-1)
    out = torch.zeros(rowptr.numel() - 1, x.size(1), dtype=x.dtype, device=x.device)
    return out.index_add(0, row, messages)


def sddmm_reference(rowptr: Tensor, col: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """``out[e] = <a[row(e)], b[col[e]]>``: the gradient of :func:`spmm_reference` w.r.t.
    ``value`` when ``a`` is the output gradient and ``b`` the input."""
    row = _row_of_nonzeros(rowptr, a.device)
    return (a[row] * b[col.to(torch.long)]).sum(-1)


def diffuse_steps(product: Product, y0: Tensor, num_steps: int, alpha: float,
                  clamp_mask: Optional[Tensor] = None, clip: bool = False) -> Tensor:
    """``Y_{t+1} = (1 - alpha) * product(Y_t) + alpha * Y_0`` for ``num_steps`` steps, each
    followed by clamping to ``[0, 1]`` if ``clip``; rows in ``clamp_mask`` are reset to
    ``Y_0`` after every step."""
    y = y0
    for _ in range(num_steps):
        y = (1.0 - alpha) * product(y) + alpha * y0
        if clip:
            y = y.clamp(0.0, 1.0)
        if clamp_mask is not None:
            y = torch.where(clamp_mask.unsqueeze(-1), y0, y)
    return y


def adjoint_steps(t_product: Product, grad: Tensor, num_steps: int, alpha: float,
                  clamp_mask: Optional[Tensor] = None) -> Tensor:
    r"""Vector-Jacobian product of :func:`diffuse_steps` (``clip=False``) w.r.t. ``y0``,
    given the product with the transposed matrix:

    .. math::
        \mathbf{W}_0 = \mathbf{G},\quad
        \mathbf{W}_{t+1} = (1-\alpha)\mathbf{A}^\top(\mathbf{I}-\mathbf{M})\mathbf{W}_t,\quad
        \frac{\partial L}{\partial \mathbf{Y}_0} = \mathbf{W}_K
        + \mathbf{C}\sum_{t<K}\mathbf{W}_t,

    with :math:`\mathbf{M}` the clamp mask and :math:`\mathbf{C} = \alpha(\mathbf{I}-\mathbf{M})
    + \mathbf{M}`.
    """
    if num_steps == 0:
        return grad.clone()
    keep = torch.ones(grad.size(0), 1, dtype=grad.dtype, device=grad.device)
    if clamp_mask is not None:
        keep = (~clamp_mask).to(grad.dtype).unsqueeze(-1)
    restart = alpha * keep + (1.0 - keep)
    w = grad
    total = torch.zeros_like(grad)
    for _ in range(num_steps):
        total = total + restart * w
        w = (1.0 - alpha) * t_product(keep * w)
    return w + total


def diffuse_reference(rowptr: Tensor, col: Tensor, value: Optional[Tensor], y0: Tensor,
                      num_steps: int, alpha: float, clamp_mask: Optional[Tensor] = None,
                      clip: bool = False) -> Tensor:
    """:func:`diffuse_steps` over the CSR ``(rowptr, col, value)``."""
    return diffuse_steps(lambda y: spmm_reference(rowptr, col, value, y), y0, num_steps, alpha,
                         clamp_mask, clip)


def diffuse_adjoint_reference(t_rowptr: Tensor, t_col: Tensor, t_value: Optional[Tensor],
                              grad: Tensor, num_steps: int, alpha: float,
                              clamp_mask: Optional[Tensor] = None) -> Tensor:
    """:func:`adjoint_steps` over the transposed CSR ``(t_rowptr, t_col, t_value)``."""
    return adjoint_steps(lambda w: spmm_reference(t_rowptr, t_col, t_value, w), grad,
                         num_steps, alpha, clamp_mask)
