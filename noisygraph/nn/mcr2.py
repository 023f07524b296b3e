"""Maximal coding rate reduction (MCR²) loss, as used by ERASE."""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from noisygraph._validation import check_real
from noisygraph.ops.coding_rate import check_assignment, check_z, coding_rate_checked


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
        gamma1 (float): :math:`\gamma_1 \geq 0`, weight of the compression term and factor
            inside :math:`R`. (default: ``1.0``)
        gamma2 (float): :math:`\gamma_2 \geq 0`, weight of the expansion term.
            (default: ``2.0``)
        eps (float): :math:`\epsilon > 0` (finite), the squared distortion.
            (default: ``0.05``)

    Example:
        >>> loss_fn = CodingRateReductionLoss(gamma1=1.0, gamma2=2.0, eps=0.05)
        >>> out = loss_fn(z, pseudo_labels, num_classes=7)
        >>> out.loss.backward()
    """

    def __init__(self, gamma1: float = 1.0, gamma2: float = 2.0, eps: float = 0.05):
        super().__init__()
        self.gamma1 = check_real("gamma1", gamma1, low=0.0)
        self.gamma2 = check_real("gamma2", gamma2, low=0.0)
        self.eps = check_real("eps", eps, low=0.0, low_open=True)

    def forward(self, z: Tensor, assignment: Tensor,
                num_classes: Optional[int] = None) -> CodingRateReductionOutput:
        r"""
        Args:
            z (torch.Tensor): embeddings ``[N, p]`` (``N, p >= 1``), float32/64, finite.
            assignment (torch.Tensor): hard labels ``[N]`` (int64, or int32, in ``[0, K)``)
                or soft memberships ``[K, N]`` (finite, non-negative; gradients flow into
                them too).
            num_classes (int, optional): :math:`K \geq 1`; inferred when :obj:`None`.
        """
        z = check_z(z)
        num_nodes, dim = z.shape
        checked = check_assignment(assignment, z, num_classes)
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

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(gamma1={self.gamma1}, gamma2={self.gamma2}, "
                f"eps={self.eps})")
