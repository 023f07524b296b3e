"""Pure-PyTorch reference of the coding-rate op: the ground truth the compiled kernels are
tested against, and the path that runs when the compiled library is absent.

Every term is computed in the plain :math:`p \\times p` form with ``torch.logdet`` and
differentiated by autograd (including w.r.t. soft memberships and per-class scales).
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor


def _half_logdet(gram: Tensor, scale: Tensor | float) -> Tensor:
    eye = torch.eye(gram.size(-1), dtype=gram.dtype, device=gram.device)
    return 0.5 * torch.logdet(eye + scale * gram)


def coding_rate_hard_reference(z: Tensor, labels: Tensor, num_classes: int,
                               total_scale: float, class_scale: Tensor) -> Tuple[Tensor, Tensor]:
    """``(½ logdet(I + a ZᵀZ), [½ logdet(I + b_j Z_jᵀZ_j)]_j)`` with ``Z_j = Z[labels == j]``."""
    total = _half_logdet(z.t() @ z, total_scale)
    per_class = []
    for j in range(num_classes):
        z_j = z[labels == j]
        per_class.append(_half_logdet(z_j.t() @ z_j, class_scale[j]))
    return total, torch.stack(per_class) if per_class else z.new_zeros(0)


def coding_rate_soft_reference(z: Tensor, membership: Tensor, total_scale: float,
                               class_scale: Tensor) -> Tuple[Tensor, Tensor]:
    """``(½ logdet(I + a ZᵀZ), [½ logdet(I + b_j Zᵀ diag(π_j) Z)]_j)`` for ``membership``
    ``π`` of shape ``[K, N]``."""
    total = _half_logdet(z.t() @ z, total_scale)
    per_class = [
        _half_logdet((z * membership[j].unsqueeze(-1)).t() @ z, class_scale[j])
        for j in range(membership.size(0))
    ]
    return total, torch.stack(per_class) if per_class else z.new_zeros(0)
