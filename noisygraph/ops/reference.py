"""Pure-PyTorch reference of every noisygraph op: the ground truth the kernels are tested
against, and the path that runs when the compiled library is absent."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def spmm_reference(rowptr: Tensor, col: Tensor, value: Optional[Tensor], x: Tensor) -> Tensor:
    """``out[i] = sum_{e in row i} value[e] * x[col[e]]`` (differentiable by autograd)."""
    num_rows = rowptr.numel() - 1
    counts = rowptr[1:] - rowptr[:-1]
    row = torch.repeat_interleave(torch.arange(num_rows, device=x.device), counts)
    messages = x[col]
    if value is not None:
        messages = messages * value.to(x.dtype).unsqueeze(-1)
    out = torch.zeros(num_rows, x.size(1), dtype=x.dtype, device=x.device)
    return out.index_add(0, row, messages)


def diffuse_reference(rowptr: Tensor, col: Tensor, value: Optional[Tensor], y0: Tensor,
                      num_steps: int, alpha: float, clamp_mask: Optional[Tensor] = None) -> Tensor:
    """``Y_{t+1} = (1 - alpha) * A @ Y_t + alpha * Y_0`` for ``num_steps`` steps; rows in
    ``clamp_mask`` are reset to ``Y_0`` after every step."""
    y = y0
    for _ in range(num_steps):
        y = (1.0 - alpha) * spmm_reference(rowptr, col, value, y) + alpha * y0
        if clamp_mask is not None:
            y = torch.where(clamp_mask.unsqueeze(-1), y0, y)
    return y
