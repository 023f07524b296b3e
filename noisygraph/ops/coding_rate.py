"""The coding-rate op family: the log-determinant terms of the maximal coding rate reduction
(MCR²), with the autograd and fake kernels of ``torch.ops.noisygraph.coding_rate`` /
``coding_rate_backward`` (registered when :mod:`noisygraph` is imported) and their pure-PyTorch
reference in :mod:`noisygraph.ops._reference.coding_rate`."""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union

import torch
from torch import Tensor

from noisygraph import _ops
from noisygraph._validation import FLOAT_DTYPES, check_finite, check_real, check_tensor
from noisygraph.ops._reference.coding_rate import (coding_rate_hard_reference,
                                                   coding_rate_soft_reference)
from noisygraph.sparse import check_count


class CodingRates(NamedTuple):
    """Output of :func:`coding_rate`."""

    total: Tensor
    """Scalar :math:`\\frac12\\log\\det(\\mathbf{I} + a\\,\\mathbf{Z}^\\top\\mathbf{Z})`."""
    per_class: Tensor
    """``[K]``: :math:`\\frac12\\log\\det(\\mathbf{I} + b_j\\,\\mathbf{Z}^\\top\\mathbf{\\Pi}_j
    \\mathbf{Z})` per class."""


def coding_rate(z: Tensor, assignment: Tensor, num_classes: Optional[int] = None,
                total_scale: float = 1.0,
                class_scale: Union[float, Tensor] = 1.0) -> CodingRates:
    r"""Coding rates of embeddings :math:`\mathbf{Z} \in \mathbb{R}^{N \times p}`, in total and
    per class,

    .. math::
        R = \frac{1}{2}\log\det\left(\mathbf{I}_p + a\,\mathbf{Z}^\top\mathbf{Z}\right),
        \qquad
        R_j = \frac{1}{2}\log\det\left(\mathbf{I}_p + b_j\,\mathbf{Z}^\top
        \mathbf{\Pi}_j\mathbf{Z}\right), \quad j = 0, \dots, K-1,

    where :math:`\mathbf{\Pi}_j = \mathrm{diag}(\pi_j)` holds the memberships of class
    :math:`j` (0/1 for hard labels). The compiled kernel accumulates the :math:`K` Gram
    matrices in one pass over :math:`\mathbf{Z}` (for hard labels the total Gram is their sum),
    takes batched Cholesky log-determinants, and switches to the
    :math:`n_j \times n_j` form :math:`\log\det(\mathbf{I}_{n_j} + b_j \mathbf{Z}_j
    \mathbf{Z}_j^\top)` (Sylvester's identity, same value) for classes with fewer rows than
    :math:`p`. Memory beyond the input is :math:`O(K p^2 + N p)`; no :math:`N \times N`
    matrix is ever formed.

    Differentiable w.r.t. :obj:`z` (gradient
    :math:`\partial R / \partial \mathbf{Z} = a\,\mathbf{Z}(\mathbf{I} + a\mathbf{Z}^\top
    \mathbf{Z})^{-1}`), w.r.t. soft memberships
    (:math:`\partial R_j / \partial \pi_j(i) = \frac{b_j}{2}\,\mathbf{z}_i^\top
    \mathbf{M}_j^{-1}\mathbf{z}_i`) and w.r.t. a tensor :obj:`class_scale`. Twice (and more)
    differentiable: a gradient of a gradient is taken through the pure-PyTorch reference of
    the same terms (exact, but :math:`K` separate :math:`p \times p` log-determinants, slower).

    Args:
        z (torch.Tensor): embeddings ``[N, p]`` (``N, p >= 1``), float32 or float64, finite.
        assignment (torch.Tensor): either hard labels ``[N]`` (int64, or int32 converted
            here; values in ``[0, num_classes)``) or soft memberships ``[K, N]`` (floating,
            finite, non-negative; class :math:`j`'s Gram is
            :math:`\mathbf{Z}^\top \mathrm{diag}(\pi_j)\mathbf{Z}`), on ``z``'s device.
        num_classes (int, optional): :math:`K \geq 1`. Inferred from ``assignment`` when
            :obj:`None` (``labels.max() + 1`` for hard labels, ``assignment.size(0)`` for
            memberships). (default: :obj:`None`)
        total_scale (float): :math:`a \ge 0`. (default: ``1.0``)
        class_scale (float or torch.Tensor): :math:`b_j \ge 0`, one number for every class
            or a ``[K]`` tensor. (default: ``1.0``)

    Returns:
        :class:`CodingRates` ``(total, per_class)``: a scalar and a ``[K]`` tensor in the
        dtype of :obj:`z`.

    Example:
        >>> z = torch.randn(100, 16)
        >>> labels = torch.randint(0, 3, (100,))
        >>> total, per_class = coding_rate(z, labels, 3, total_scale=0.1, class_scale=0.5)
    """
    z = check_z(z)
    checked = check_assignment(assignment, z, num_classes)
    total_scale = _check_total_scale(total_scale)
    class_scale = _check_class_scale(class_scale, checked.num_classes, z)
    return coding_rate_checked(z, checked, total_scale, class_scale)


def coding_rate_checked(z: Tensor, assignment: "Assignment", total_scale: float,
                        class_scale: Tensor) -> CodingRates:
    """:func:`coding_rate` without the argument checks (``z`` from :func:`check_z`,
    ``assignment`` from :func:`check_assignment`, ``class_scale`` a finite non-negative
    ``[K]`` tensor in ``z``'s dtype and device)."""
    if assignment.is_hard:
        total, per_class = _coding_rate_hard(z, assignment.values, assignment.num_classes,
                                             total_scale, class_scale)
    else:
        total, per_class = _coding_rate_soft(z, assignment.values.to(z.dtype), total_scale,
                                             class_scale)
    return CodingRates(total, per_class)


def _coding_rate_hard(z: Tensor, labels: Tensor, num_classes: int, total_scale: float,
                      class_scale: Tensor) -> Tuple[Tensor, Tensor]:
    if not _ops.has_kernel("coding_rate", z.device):
        return coding_rate_hard_reference(z, labels, num_classes, total_scale, class_scale)
    grad_mode = torch.is_grad_enabled()
    total, per_class, _, _ = torch.ops.noisygraph.coding_rate(
        z, labels, None, num_classes, total_scale, class_scale, grad_mode and z.requires_grad,
        grad_mode and class_scale.requires_grad)
    return total, per_class


def _coding_rate_soft(z: Tensor, membership: Tensor, total_scale: float,
                      class_scale: Tensor) -> Tuple[Tensor, Tensor]:
    if not _ops.has_kernel("coding_rate", z.device):
        return coding_rate_soft_reference(z, membership, total_scale, class_scale)
    grad_mode = torch.is_grad_enabled()
    total, per_class, _, _ = torch.ops.noisygraph.coding_rate(
        z, None, membership, membership.size(0), total_scale, class_scale,
        grad_mode and (z.requires_grad or membership.requires_grad),
        grad_mode and class_scale.requires_grad)
    return total, per_class


def _setup_context(ctx, inputs, output) -> None:
    z, labels, membership, num_classes, total_scale, class_scale, need_grad, need_scale_grad = \
        inputs
    _, _, inverses, scale_grad = output
    needs = ctx.needs_input_grad
    if (needs[0] or needs[2]) and not need_grad:
        raise ValueError("noisygraph::coding_rate: need_grad must be True when z or membership "
                         "requires grad")
    if needs[5] and not need_scale_grad:
        raise ValueError("noisygraph::coding_rate: need_scale_grad must be True when "
                         "class_scale requires grad")
    ctx.save_for_backward(z, labels, membership, class_scale, inverses, scale_grad)
    ctx.num_classes = num_classes
    ctx.total_scale = total_scale


def _backward(ctx, grad_total: Tensor, grad_per_class: Tensor, _grad_inverses, _grad_scale):
    if torch.is_grad_enabled():  # create_graph: the gradient itself will be differentiated
        return _backward_by_reference(ctx, grad_total, grad_per_class)
    z, labels, membership, class_scale, inverses, scale_grad = ctx.saved_tensors
    membership_grad = membership is not None and ctx.needs_input_grad[2]
    grad_z = grad_membership = None
    if ctx.needs_input_grad[0] or membership_grad:
        grad_z, grad_membership = torch.ops.noisygraph.coding_rate_backward(
            grad_total, grad_per_class, z, labels, membership, ctx.num_classes,
            ctx.total_scale, class_scale, inverses, membership_grad)
    return (grad_z if ctx.needs_input_grad[0] else None, None,
            grad_membership if membership_grad else None, None, None,
            grad_per_class * scale_grad if ctx.needs_input_grad[5] else None, None, None)


def _backward_by_reference(ctx, grad_total: Tensor, grad_per_class: Tensor):
    """The vector-Jacobian product of the pure-PyTorch reference (the same terms), built
    differentiably, so that second and higher derivatives are exact."""
    z, labels, membership, class_scale, _, _ = ctx.saved_tensors
    needs = ctx.needs_input_grad
    wanted = [(i, t) for i, t in ((0, z), (2, membership), (5, class_scale))
              if t is not None and needs[i]]
    grads: list = [None] * 8
    if not wanted:
        return tuple(grads)
    with torch.enable_grad():
        if labels is not None:
            total, per_class = coding_rate_hard_reference(z, labels, ctx.num_classes,
                                                          ctx.total_scale, class_scale)
        else:
            total, per_class = coding_rate_soft_reference(z, membership, ctx.total_scale,
                                                          class_scale)
        found = torch.autograd.grad((total, per_class), [t for _, t in wanted],
                                    (grad_total, grad_per_class), create_graph=True,
                                    allow_unused=True)
    for (i, _), grad in zip(wanted, found):
        grads[i] = grad
    return tuple(grads)


def _register() -> None:
    @torch.library.register_fake("noisygraph::coding_rate")
    def _(z, labels, membership, num_classes, total_scale, class_scale, need_grad,
          need_scale_grad):
        dim = z.size(1)
        slots = num_classes + 1 if need_grad else 0
        return (z.new_empty(()), z.new_empty(num_classes), z.new_empty(slots, dim, dim),
                z.new_empty(num_classes if need_scale_grad else 0))

    @torch.library.register_fake("noisygraph::coding_rate_backward")
    def _(grad_total, grad_per_class, z, labels, membership, num_classes, total_scale,
          class_scale, inverses, membership_grad):
        shape = (num_classes, z.size(0)) if membership_grad else (0,)
        return torch.empty_like(z), z.new_empty(shape)

    torch.library.register_autograd("noisygraph::coding_rate", _backward,
                                    setup_context=_setup_context)
    torch.library.register_autograd("noisygraph::coding_rate_backward", _no_double_backward,
                                    setup_context=lambda ctx, inputs, output: None)


def _no_double_backward(ctx, *grads):
    raise RuntimeError("noisygraph::coding_rate_backward has no derivative of its own; "
                       "differentiate noisygraph.ops.coding_rate instead, whose gradient of a "
                       "gradient is taken through the reference terms")


if _ops.COMPILED:
    _register()


def check_z(z) -> Tensor:
    """Embeddings: a finite float32/float64 ``[N, p]`` tensor with ``N, p >= 1``."""
    check_tensor("z", z)
    if z.dim() != 2:
        raise ValueError(f"z must be 2-D [N, p], got shape {tuple(z.shape)}")
    if z.dtype not in FLOAT_DTYPES:
        raise TypeError(f"z must be float32 or float64, got {z.dtype}")
    if z.size(0) == 0 or z.size(1) == 0:
        raise ValueError(f"z must have at least one row and one column, got shape "
                         f"{tuple(z.shape)}")
    check_finite("z", z)
    return z


class Assignment(NamedTuple):
    """A checked class assignment (see :func:`check_assignment`)."""

    values: Tensor
    """Hard labels ``[N]`` (int64) or soft memberships ``[K, N]``."""
    is_hard: bool
    num_classes: int
    keep: Optional[Tensor] = None
    """Hard labels with some ``ignore_index``: the bool ``[N]`` rows kept, else ``None``."""


def _hard_assignment(labels: Tensor, low: int, high: int, num_classes: Optional[int],
                     keep: Optional[Tensor]) -> Assignment:
    if num_classes is None:
        num_classes = max(high + 1, 1)
    if low < 0 or high >= num_classes:
        raise ValueError(f"assignment (hard labels) must lie in [0, {num_classes}) "
                         f"(num_classes = {num_classes}), got values in [{low}, {high}]")
    return Assignment(labels, True, num_classes, keep)


def check_assignment(assignment, z: Tensor, num_classes: Optional[int],
                     ignore_index: Optional[int] = None) -> Assignment:
    """Validates hard labels ``[N]`` (int64, or int32 converted to int64, in ``[0, K)``, or
    ``ignore_index``) or soft memberships ``[K, N]`` (floating, finite, non-negative) for the
    rows of ``z``, on ``z``'s device, with one host sync (the label range and the count of
    ignored labels are read together).

    Returns:
        :class:`Assignment` ``(values, is_hard, num_classes, keep)``; ``keep`` is the bool
        ``[N]`` mask of the rows not ignored when some label is ``ignore_index`` (the
        ``values`` are then those rows' labels), else :obj:`None`.
    """
    check_tensor("assignment", assignment)
    if num_classes is not None:
        num_classes = check_count("num_classes", num_classes, minimum=1)
    num_nodes = z.size(0)
    if assignment.device != z.device:
        raise ValueError(f"assignment is on {assignment.device} but z on {z.device}")
    if assignment.dim() == 1:
        if assignment.dtype not in (torch.int64, torch.int32):
            raise TypeError("assignment (hard labels) must be int64 (or int32), got "
                            f"{assignment.dtype}")
        if assignment.numel() != num_nodes:
            raise ValueError(f"assignment (hard labels) has {assignment.numel()} entries but z "
                             f"has {num_nodes} rows")
        labels = assignment.to(torch.long)
        if ignore_index is None:
            low, high = torch.stack(torch.aminmax(labels)).tolist()
        else:
            skip = labels == ignore_index
            low, high, ignored = torch.stack([
                labels.masked_fill(skip, torch.iinfo(torch.long).max).min(),
                labels.masked_fill(skip, -1).max(), skip.sum()]).tolist()
            if ignored == num_nodes:
                raise ValueError(f"assignment: every label is ignore_index = {ignore_index}, "
                                 "nothing to compute the loss on")
            if ignored:
                keep = ~skip
                return _hard_assignment(labels[keep], low, high, num_classes, keep)
        return _hard_assignment(labels, low, high, num_classes, None)
    if assignment.dim() == 2:
        if not assignment.is_floating_point():
            raise TypeError("assignment (soft memberships [K, N]) must be floating point, got "
                            f"{assignment.dtype}")
        if assignment.size(1) != num_nodes:
            raise ValueError(f"assignment (soft memberships) must have shape [K, {num_nodes}] "
                             f"(one column per row of z), got {tuple(assignment.shape)}")
        if assignment.size(0) == 0:
            raise ValueError("assignment (soft memberships) must have at least one row (class)")
        if num_classes is None:
            num_classes = assignment.size(0)
        if assignment.size(0) != num_classes:
            raise ValueError(f"assignment (soft memberships) has {assignment.size(0)} rows but "
                             f"num_classes = {num_classes}")
        values = assignment.detach()
        if not bool((torch.isfinite(values) & (values >= 0)).all()):
            raise ValueError("assignment (soft memberships) must be finite and non-negative")
        return Assignment(assignment, False, num_classes, None)
    raise ValueError("assignment must be hard labels [N] or soft memberships [K, N], got shape "
                     f"{tuple(assignment.shape)}")


def _check_total_scale(total_scale) -> float:
    if isinstance(total_scale, Tensor):
        if total_scale.numel() != 1 or total_scale.requires_grad:
            raise ValueError("total_scale must be a number (a one-element tensor that does not "
                             "require grad is read as one)")
        total_scale = total_scale.item()
    return check_real("total_scale", total_scale, low=0.0)


def _check_class_scale(class_scale: Union[float, Tensor], num_classes: int, z: Tensor) -> Tensor:
    if not isinstance(class_scale, Tensor):
        value = check_real("class_scale", class_scale, low=0.0)
        return torch.full((num_classes,), value, dtype=z.dtype, device=z.device)
    check_tensor("class_scale", class_scale)
    if not class_scale.is_floating_point():
        raise TypeError(f"class_scale must be a float or a floating tensor, got "
                        f"{class_scale.dtype}")
    if class_scale.device != z.device:
        raise ValueError(f"class_scale is on {class_scale.device} but z on {z.device}")
    if class_scale.dim() == 0:
        class_scale = class_scale.expand(num_classes)
    if class_scale.shape != (num_classes,):
        raise ValueError(f"class_scale must be a number or a [{num_classes}] tensor, got "
                         f"shape {tuple(class_scale.shape)}")
    values = class_scale.detach()
    if not bool((torch.isfinite(values) & (values >= 0)).all()):
        raise ValueError("class_scale must be finite and >= 0")
    return class_scale.to(z.dtype)
