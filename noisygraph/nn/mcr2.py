"""Maximal coding rate reduction (MCR²) loss, as used by ERASE."""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from noisygraph._validation import check_bool, check_int, check_real, check_tensor
from noisygraph.ops.coding_rate import check_assignment, check_z, coding_rate_checked


class CodingRateReductionOutput(NamedTuple):
    """The terms of the loss, from :meth:`CodingRateReductionLoss.parts`."""

    loss: Tensor
    """Scalar :math:`-\\gamma_2 R + \\gamma_1 R_c` (minimise it)."""
    total: Tensor
    """Scalar :math:`R`, the coding rate of all embeddings (expansion term)."""
    compress: Tensor
    """Scalar :math:`R_c`, the class-conditional coding rate (compression term)."""
    per_class: Tensor
    """``[K]``: the terms of :math:`R_c`, :math:`\\frac{n_j}{m}\\cdot\\frac12\\log\\det(\\cdots)`
    (they sum to ``compress``)."""


def _check_soft_targets(target: Tensor, num_nodes: int, num_classes) -> None:
    """The shape and dtype of soft targets ``[N, K]`` (their values: in check_assignment)."""
    if not target.is_floating_point():
        raise TypeError(f"assignment (soft targets [N, K]) must be floating point, got "
                        f"{target.dtype}")
    if target.size(0) != num_nodes:
        raise ValueError(f"assignment (soft targets) must have shape [{num_nodes}, K] (one row "
                         f"per row of z), got {tuple(target.shape)}")
    if target.size(1) == 0:
        raise ValueError("assignment (soft targets) must have at least one column (class)")
    if isinstance(num_classes, int) and not isinstance(num_classes, bool) and \
            num_classes != target.size(1):
        raise ValueError(f"assignment (soft targets) has {target.size(1)} columns but "
                         f"num_classes = {num_classes}")


class CodingRateReductionLoss(torch.nn.Module):
    r"""The maximal coding rate reduction loss of `"Learning Diverse and Discriminative
    Representations via the Principle of Maximal Coding Rate Reduction"
    <https://arxiv.org/abs/2006.08558>`_, in the empirical form used by `"ERASE:
    Error-Resilient Representation Learning on Graphs for Label Noise Tolerance"
    <https://arxiv.org/abs/2312.08852>`_:

    .. math::
        R &= \frac{1}{2}\log\det\left(\mathbf{I} + \frac{\gamma_1 p}{m\epsilon}
        \mathbf{Z}^\top\mathbf{Z}\right), \\
        R_c &= \sum_{j=1}^{K} \frac{n_j}{m}\cdot\frac{1}{2}\log\det\left(\mathbf{I} +
        \frac{p}{n_j\epsilon}\mathbf{Z}^\top\mathbf{\Pi}_j\mathbf{Z}\right), \\
        \mathcal{L} &= -\gamma_2 R + \gamma_1 R_c,

    with :math:`m = N` rows of :math:`\mathbf{Z} \in \mathbb{R}^{N\times p}`,
    :math:`\mathbf{\Pi}_j = \mathrm{diag}(\pi_j)` the memberships of class :math:`j` and
    :math:`n_j = \mathrm{tr}(\mathbf{\Pi}_j) + 10^{-8}` (class size for hard labels).
    :math:`\epsilon` plays the role of :math:`\epsilon^2` of the MCR² paper. An empty class
    contributes zero. Runs on :func:`noisygraph.ops.coding_rate` (compiled kernel when built).

    The forward returns the scalar :math:`\mathcal{L}` (so ``loss(z, y).backward()``
    works); :meth:`parts` returns it with its terms (:class:`CodingRateReductionOutput`).

    Args:
        gamma1 (float): :math:`\gamma_1 \geq 0`, weight of the compression term and factor
            inside :math:`R`. (default: ``1.0``)
        gamma2 (float): :math:`\gamma_2 \geq 0`, weight of the expansion term.
            (default: ``2.0``)
        eps (float): :math:`\epsilon > 0` (finite), the squared distortion.
            (default: ``0.05``)
        ignore_index (int, optional): rows of ``z`` whose hard label is ``ignore_index`` are
            left out of both terms (:math:`m` counts the other rows), as in
            :class:`torch.nn.CrossEntropyLoss`; :obj:`None` checks no label. Not used with
            soft targets. The check adds no host synchronisation: the count of ignored
            labels is read in the same transfer as the label range (which every call with
            hard labels reads); only a call where some label *is* ignored pays for dropping
            those rows (a boolean index). (default: ``-100``)
        distributed (bool): the rows of ``z`` are this rank's share of a batch split over
            the ranks of ``process_group`` (:mod:`torch.distributed`, e.g. under
            ``torchrun``): the Gram matrices, class sizes and row counts of all ranks are
            summed by one differentiable all-reduce before the log-determinants, so every
            rank gets the loss of the whole batch, exactly. A rank's gradient for its rows is
            ``world_size`` times the single-process one, so that the gradient averaging of
            :class:`~torch.nn.parallel.DistributedDataParallel` gives exactly the
            single-process parameter gradient. Hard labels then need ``num_classes``.
            (default: :obj:`False`)
        process_group (torch.distributed.ProcessGroup, optional): the group of
            ``distributed=True``. (default: :obj:`None`, the default group)

    Example:
        >>> loss_fn = CodingRateReductionLoss(gamma1=1.0, gamma2=2.0, eps=0.05)
        >>> loss_fn(z, pseudo_labels).backward()
        >>> parts = loss_fn.parts(z, pseudo_labels, num_classes=7)  # loss, total, compress, ...
    """

    def __init__(self, gamma1: float = 1.0, gamma2: float = 2.0, eps: float = 0.05,
                 ignore_index: Optional[int] = -100, distributed: bool = False,
                 process_group=None):
        super().__init__()
        self.distributed = check_bool("distributed", distributed)
        if process_group is not None and not self.distributed:
            raise ValueError("process_group is only used with distributed=True")
        self.process_group = process_group
        self.gamma1 = check_real("gamma1", gamma1, low=0.0)
        self.gamma2 = check_real("gamma2", gamma2, low=0.0)
        self.eps = check_real("eps", eps, low=0.0, low_open=True)
        self.ignore_index = check_int("ignore_index", ignore_index, optional=True)

    def forward(self, z: Tensor, assignment: Tensor,
                num_classes: Optional[int] = None) -> Tensor:
        r"""The scalar loss :math:`\mathcal{L} = -\gamma_2 R + \gamma_1 R_c` (minimise it).

        Args:
            z (torch.Tensor): embeddings ``[N, p]`` (``N, p >= 1``), float32/64, finite.
            assignment (torch.Tensor): hard labels ``[N]`` (int64 or int32, in ``[0, K)``, or
                ``ignore_index``) or soft targets ``[N, K]`` (one row of class memberships
                per row of ``z``, finite, non-negative; gradients flow into them too).
            num_classes (int, optional): :math:`K \geq 1`; inferred when :obj:`None` (from
                the largest label, or the columns of soft targets).
        """
        return self.parts(z, assignment, num_classes).loss

    def parts(self, z: Tensor, assignment: Tensor,
              num_classes: Optional[int] = None) -> CodingRateReductionOutput:
        """The loss and its terms, :class:`CodingRateReductionOutput` ``(loss, total,
        compress, per_class)``; same arguments as :meth:`forward`."""
        if self.distributed:
            return CodingRateReductionOutput(*self._distributed_parts(z, assignment,
                                                                      num_classes))
        z = check_z(z)
        check_tensor("assignment", assignment)
        if assignment.dim() == 2:  # soft targets [N, K]; the kernels read memberships [K, N]
            _check_soft_targets(assignment, z.size(0), num_classes)
            assignment = assignment.t()
        checked = check_assignment(assignment, z, num_classes,
                                   ignore_index=self.ignore_index if assignment.dim() == 1
                                   else None)
        if checked.keep is not None:  # some rows ignored: drop them
            z = z[checked.keep]
        num_nodes, dim = z.shape
        # the largest scales (an empty class has size 1e-8) must stay finite in float64
        total_scale = self.gamma1 * dim / (num_nodes * self.eps)
        if not math.isfinite(total_scale) or not math.isfinite(dim / (1e-8 * self.eps)):
            raise ValueError(f"eps = {self.eps} is too small: the coding-rate scales "
                             "p / (n_j eps) overflow")
        if checked.is_hard:
            sizes = torch.bincount(checked.values, minlength=checked.num_classes).to(z.dtype)
        else:
            sizes = checked.values.to(z.dtype).sum(dim=1)
        sizes = sizes + 1e-8
        class_scale = dim / (sizes * self.eps)
        total, rates = coding_rate_checked(z, checked, total_scale, class_scale)
        per_class = sizes / num_nodes * rates
        compress = per_class.sum()
        loss = -self.gamma2 * total + self.gamma1 * compress
        return CodingRateReductionOutput(loss, total, compress, per_class)

    def _distributed_parts(self, z: Tensor, assignment: Tensor, num_classes: Optional[int]):
        import torch.distributed as dist

        from noisygraph.nn._mcr2_distributed import distributed_parts
        group = self.process_group if self.process_group is not None else dist.group.WORLD
        return distributed_parts(z, assignment, num_classes, gamma1=self.gamma1,
                                 gamma2=self.gamma2, eps=self.eps,
                                 ignore_index=self.ignore_index, group=group)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(gamma1={self.gamma1}, gamma2={self.gamma2}, "
                f"eps={self.eps})")
