"""The MCR² terms exact across the ranks of a :mod:`torch.distributed` process group.

Each rank holds its share of the rows of :math:`\\mathbf{Z}`. The loss depends on the rows only
through the Gram matrices :math:`\\mathbf{Z}^\\top\\mathbf{Z}`,
:math:`\\mathbf{Z}^\\top\\mathbf{\\Pi}_j\\mathbf{Z}`, the class sizes :math:`n_j` and the row
count :math:`m`; every rank computes its partial sums, one differentiable all-reduce
(:class:`_AllReduceSum`: :func:`torch.distributed.all_reduce` forward and backward) sums
them, and every rank then takes the same log-determinants. Used by
:class:`~noisygraph.nn.CodingRateReductionLoss` with ``distributed=True``.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.distributed as dist
from torch import Tensor

from noisygraph.ops.coding_rate import check_assignment, check_z
from noisygraph.sparse import check_count


class _AllReduceSum(torch.autograd.Function):
    """Sum over the ranks of ``group``; the backward sums the incoming gradients likewise
    (the adjoint of "every rank gets the sum"). ``torch.distributed.nn.functional.all_reduce``
    does the same but warns that it is deprecated (torch 2.13)."""

    @staticmethod
    def forward(ctx, tensor: Tensor, group) -> Tensor:
        ctx.group = group
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=group)
        return tensor

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        return grad, None


def _local_grams(z: Tensor, labels: Optional[Tensor], membership: Optional[Tensor],
                 num_classes: int) -> Tuple[Tensor, Tensor, Tensor]:
    """This rank's ``(ZᵀZ [p, p], Zᵀ Π_j Z [K, p, p], sizes [K])`` (differentiable)."""
    dim = z.size(1)
    if labels is not None:
        sizes = torch.bincount(labels, minlength=num_classes)
        order = torch.argsort(labels, stable=True)
        chunks = torch.split(z[order], sizes.tolist())  # one host sync: the class sizes
        grams = torch.stack([c.t() @ c if c.size(0) else z.new_zeros(dim, dim) for c in chunks])
        return grams.sum(dim=0), grams, sizes.to(z.dtype)
    grams = torch.stack([(z * weight.unsqueeze(-1)).t() @ z for weight in membership])
    return z.t() @ z, grams, membership.sum(dim=1)


def _half_logdets(matrices: Tensor) -> Tensor:
    """``½ logdet`` of a batch of symmetric positive definite matrices (Cholesky)."""
    factor, info = torch.linalg.cholesky_ex(matrices)
    if bool((info != 0).any()):
        raise RuntimeError("CodingRateReductionLoss(distributed=True): a term I + scale * Gram "
                           "is not positive definite in this precision; use float64 embeddings")
    return torch.log(torch.diagonal(factor, dim1=-2, dim2=-1)).sum(dim=-1)


def distributed_parts(z: Tensor, assignment: Tensor, num_classes: Optional[int], *,
                      gamma1: float, gamma2: float, eps: float, ignore_index: Optional[int],
                      group) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(loss, total, compress, per_class)`` of the rows of every rank of ``group``.

    Every rank gets the same values. The gradient a rank receives for its own rows is
    ``world_size`` times :math:`\\partial\\mathcal{L}/\\partial\\mathbf{z}_i` (the backward of
    the all-reduce sums the identical gradient of every rank), so that the gradient averaging
    of :class:`~torch.nn.parallel.DistributedDataParallel` yields exactly the single-process
    gradient of the parameters.
    """
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("CodingRateReductionLoss(distributed=True) needs an initialised "
                           "torch.distributed process group (torch.distributed."
                           "init_process_group, e.g. under torchrun)")
    z = check_z(z)
    if not isinstance(assignment, Tensor):
        raise TypeError(f"assignment must be a torch.Tensor, got {type(assignment).__name__}")
    labels = membership = None
    if assignment.dim() == 2:  # soft targets [N, K]
        from noisygraph.nn.mcr2 import _check_soft_targets
        _check_soft_targets(assignment, z.size(0), num_classes)
        checked = check_assignment(assignment.t(), z, num_classes)
        membership, num_classes = checked.values.to(z.dtype), checked.num_classes
    else:
        if num_classes is None:
            raise ValueError("num_classes must be given with distributed=True and hard labels "
                             "(each rank sees only its own rows, so it cannot be inferred)")
        if assignment.dim() == 1 and ignore_index is not None and \
                not assignment.is_floating_point() and assignment.numel() == z.size(0) and \
                assignment.device == z.device:
            keep = assignment != ignore_index
            z, assignment = z[keep], assignment[keep]  # a rank may keep no row
        if z.size(0):
            checked = check_assignment(assignment, z, num_classes)
            labels, num_classes = checked.values, checked.num_classes
        else:  # every row ignored here: only the type and the class count to check
            num_classes = check_count("num_classes", num_classes, minimum=1)
            if assignment.dtype not in (torch.int64, torch.int32):
                raise TypeError("assignment (hard labels) must be int64 (or int32), got "
                                f"{assignment.dtype}")
            labels = assignment.to(torch.long)
    dim = z.size(1)
    total_gram, class_grams, sizes = _local_grams(z, labels, membership, num_classes)
    count = z.new_full((1,), float(z.size(0)))
    packed = torch.cat([total_gram.reshape(-1), class_grams.reshape(-1), sizes, count])
    packed = _AllReduceSum.apply(packed, group)
    total_gram = packed[:dim * dim].view(dim, dim)
    class_grams = packed[dim * dim:dim * dim * (num_classes + 1)].view(num_classes, dim, dim)
    sizes = packed[dim * dim * (num_classes + 1):-1] + 1e-8
    num_rows = float(packed[-1].detach())  # one host sync
    if num_rows == 0:
        raise ValueError(f"assignment: every label on every rank is ignore_index = "
                         f"{ignore_index}, nothing to compute the loss on")
    total_scale = gamma1 * dim / (num_rows * eps)
    if not math.isfinite(total_scale) or not math.isfinite(dim / (1e-8 * eps)):
        raise ValueError(f"eps = {eps} is too small: the coding-rate scales p / (n_j eps) "
                         "overflow")
    class_scale = dim / (sizes * eps)
    eye = torch.eye(dim, dtype=z.dtype, device=z.device)
    matrices = torch.cat([(eye + total_scale * total_gram).unsqueeze(0),
                          eye + class_scale.view(-1, 1, 1) * class_grams])
    rates = _half_logdets(matrices)
    total = rates[0]
    per_class = sizes / num_rows * rates[1:]
    compress = per_class.sum()
    loss = -gamma2 * total + gamma1 * compress
    return loss, total, compress, per_class
