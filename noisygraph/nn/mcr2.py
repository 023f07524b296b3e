"""Maximal coding rate reduction (MCR²) loss, as used by ERASE."""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from noisygraph.ops.coding_rate import check_assignment, coding_rate


class CodingRateReductionOutput(NamedTuple):
    """Output of :class:`CodingRateReductionLoss`."""

    loss: Tensor
    """Scalar :math:`-\\gamma_2 R + \\gamma_1 R_c` (minimise it)."""
    total: Tensor
    """Scalar :math:`R`, the coding rate of all embeddings (expansion term)."""
    compress: Tensor
    """Scalar :math:`R_c`, the class-conditional coding rate (compression term)."""
    per_class: Tensor
    """``[K]``: the terms of :math:`R_c`, :math:`\\frac{n_j}{m}\\cdot\\frac12\\log\\det(\\cdots)`
    (they sum to ``compress``)."""


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

    Args:
        gamma1 (float): :math:`\gamma_1`, weight of the compression term and factor inside
            :math:`R`. (default: ``1.0``)
        gamma2 (float): :math:`\gamma_2`, weight of the expansion term. (default: ``2.0``)
        eps (float): :math:`\epsilon > 0`, the squared distortion. (default: ``0.05``)

    Example:
        >>> loss_fn = CodingRateReductionLoss(gamma1=1.0, gamma2=2.0, eps=0.05)
        >>> out = loss_fn(z, pseudo_labels, num_classes=7)
        >>> out.loss.backward()
    """

    def __init__(self, gamma1: float = 1.0, gamma2: float = 2.0, eps: float = 0.05):
        super().__init__()
        for name, value in (("gamma1", gamma1), ("gamma2", gamma2), ("eps", eps)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a float, got {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value}")
        if gamma1 < 0:
            raise ValueError(f"gamma1 must be >= 0, got {gamma1}")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.gamma1 = float(gamma1)
        self.gamma2 = float(gamma2)
        self.eps = float(eps)

    def forward(self, z: Tensor, assignment: Tensor,
                num_classes: Optional[int] = None) -> CodingRateReductionOutput:
        r"""
        Args:
            z (torch.Tensor): embeddings ``[N, p]`` (``N >= 1``).
            assignment (torch.Tensor): hard labels ``[N]`` (int64 in ``[0, K)``) or soft
                memberships ``[K, N]`` (non-negative; gradients flow into them too).
            num_classes (int, optional): :math:`K`; inferred when :obj:`None`.
        """
        if not isinstance(z, Tensor) or z.dim() != 2 or z.size(0) == 0:
            raise ValueError("z must be a 2-D tensor [N, p] with at least one row")
        num_nodes, dim = z.shape
        is_hard, num_classes = check_assignment(assignment, num_nodes, num_classes)
        if is_hard:
            sizes = torch.bincount(assignment, minlength=num_classes).to(z.dtype)
        else:
            sizes = assignment.to(z.dtype).sum(dim=1)
        sizes = sizes + 1e-8
        total_scale = self.gamma1 * dim / (num_nodes * self.eps)
        class_scale = dim / (sizes * self.eps)
        total, rates = coding_rate(z, assignment, num_classes, total_scale, class_scale)
        per_class = sizes / num_nodes * rates
        compress = per_class.sum()
        loss = -self.gamma2 * total + self.gamma1 * compress
        return CodingRateReductionOutput(loss, total, compress, per_class)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(gamma1={self.gamma1}, gamma2={self.gamma2}, "
                f"eps={self.eps})")
