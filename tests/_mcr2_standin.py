"""A minimal stand-in of ``noisygraph.nn.CodingRateReductionLoss`` (hard labels only), used by
the ERASE tests until the MCR² kernels are on this branch."""
from typing import NamedTuple

import torch
from torch import Tensor


class Output(NamedTuple):
    loss: Tensor
    total: Tensor
    compress: Tensor


class StandInCodingRateReductionLoss(torch.nn.Module):
    def __init__(self, gamma1: float = 1.0, gamma2: float = 2.0, eps: float = 0.05):
        super().__init__()
        self.gamma1, self.gamma2, self.eps = gamma1, gamma2, eps

    def forward(self, z: Tensor, labels: Tensor, num_classes: int) -> Output:
        m, p = z.shape
        eye = torch.eye(p, dtype=z.dtype, device=z.device)
        total = 0.5 * torch.logdet(eye + self.gamma1 * p / (m * self.eps) * z.t() @ z)
        compress = z.new_zeros(())
        for k in range(num_classes):
            zk = z[labels == k]
            nk = zk.size(0) + 1e-8
            compress = compress + nk / m * 0.5 * torch.logdet(eye + p / (nk * self.eps) * zk.t() @ zk)
        return Output(-self.gamma2 * total + self.gamma1 * compress, total, compress)
