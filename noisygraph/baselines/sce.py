r"""Symmetric cross-entropy, after Wang et al., "Symmetric Cross Entropy for Robust Learning
with Noisy Labels" (ICCV 2019, https://arxiv.org/abs/1908.06112), on the shared GCN."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_real
from noisygraph.baselines.base import Baseline, Callback
from noisygraph.baselines.gcn import GCNResult


def symmetric_cross_entropy(logits: Tensor, labels: Tensor, *, alpha: float = 0.1,
                            beta: float = 1.0, log_zero: float = -4.0) -> Tensor:
    r"""Per-node :math:`\alpha\,\mathrm{CE} + \beta\,\mathrm{RCE}` with
    :math:`\mathrm{CE} = -\log p_{\tilde y}` and the reverse cross-entropy
    :math:`\mathrm{RCE} = -\sum_k p_k \log q_k` against the one-hot label :math:`q`, where
    :math:`\log 0 := A` (``log_zero``), so :math:`\mathrm{RCE} = -A\,(1 - p_{\tilde y})`."""
    ce = F.cross_entropy(logits, labels, reduction="none")
    p_label = torch.softmax(logits, dim=-1).gather(-1, labels[:, None]).squeeze(-1)
    return alpha * ce + beta * (-log_zero) * (1.0 - p_label)


class SymmetricCrossEntropy(Baseline):
    r"""Symmetric cross-entropy (Wang et al., ICCV 2019): the GCN minimises
    :math:`\frac1n\sum_i \alpha\,\mathrm{CE}_i + \beta\,\mathrm{RCE}_i`
    (:func:`symmetric_cross_entropy`): the reverse term is bounded and noise tolerant, the
    forward term keeps fitting the hard classes.

    Args:
        alpha (float, optional): weight of CE, ``> 0``. (default: ``0.1``, the paper's
            CIFAR-10 setting, the 10-class benchmark closest to our 3-40-class graphs)
        beta (float, optional): weight of RCE, ``>= 0``. (default: ``1.0``, the same)
        log_zero (float, optional): :math:`A`, the value of :math:`\log 0`, ``< 0``.
            (default: ``-4``, the paper's)
        **options: :class:`~noisygraph.baselines.Baseline`'s.
    """

    def __init__(self, *, alpha: float = 0.1, beta: float = 1.0, log_zero: float = -4.0,
                 **options):
        super().__init__(**options)
        self.alpha = check_real("alpha", alpha, low=0.0, low_open=True)
        self.beta = check_real("beta", beta, low=0.0)
        self.log_zero = check_real("log_zero", log_zero, high=0.0, high_open=True)

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        trainer = self.gcn_trainer(loss=lambda logits, labels: symmetric_cross_entropy(
            logits, labels, alpha=self.alpha, beta=self.beta, log_zero=self.log_zero))
        return self.fit_gcn(data, y_noisy, val_target, num_classes, trainer=trainer,
                            callback=callback)
