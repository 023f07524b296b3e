r"""Multinomial logistic regression fitted with L-BFGS in PyTorch (CPU or GPU): the linear
probe ERASE puts on its embeddings."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


class LogisticRegression(torch.nn.Module):
    r"""Multinomial logistic regression with the objective of scikit-learn's
    ``LogisticRegression(C=C)`` (L2 penalty on the weights, not on the intercept):

    .. math::
        \min_{\mathbf{W}, \mathbf{b}} \; \sum_{i=1}^{n}
        -\log \mathrm{softmax}(\mathbf{W}\mathbf{x}_i + \mathbf{b})_{y_i}
        + \frac{1}{2C}\|\mathbf{W}\|_F^2.

    :meth:`fit` keeps the current parameters as the starting point (a warm start), so
    refitting on slowly changing inputs, as once per training epoch, needs few iterations.

    Args:
        in_channels (int): feature dimension.
        num_classes (int): number of classes :math:`K`.
        C (float, optional): inverse regularisation strength. (default: ``1.0``)
        max_iter (int, optional): L-BFGS iterations per :meth:`fit`. (default: ``1000``)
        tol (float, optional): stop when the largest gradient entry of the objective divided by
            :math:`n` falls below it. (default: ``1e-5``)
    """

    def __init__(self, in_channels: int, num_classes: int, C: float = 1.0,
                 max_iter: int = 1000, tol: float = 1e-5):
        super().__init__()
        if in_channels < 1 or num_classes < 1:
            raise ValueError(f"in_channels and num_classes must be >= 1, got {in_channels} "
                             f"and {num_classes}")
        if C <= 0:
            raise ValueError(f"C must be > 0, got {C}")
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}")
        self.C, self.max_iter, self.tol = float(C), int(max_iter), float(tol)
        self.linear = torch.nn.Linear(in_channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def objective(self, x: Tensor, y: Tensor) -> Tensor:
        """The penalised negative log-likelihood (summed over samples)."""
        nll = F.cross_entropy(self.linear(x), y, reduction="sum")
        return nll + 0.5 / self.C * self.linear.weight.pow(2).sum()

    def fit(self, x: Tensor, y: Tensor, max_iter: Optional[int] = None) -> "LogisticRegression":
        """Fits on features ``x`` ``[n, F]`` and labels ``y`` ``[n]`` (warm-started).

        Args:
            max_iter (int, optional): overrides the iteration budget of this call.
        """
        if x.dim() != 2 or x.size(1) != self.linear.in_features:
            raise ValueError(f"x must have shape [n, {self.linear.in_features}], got "
                             f"{tuple(x.shape)}")
        if y.shape != (x.size(0),) or x.size(0) == 0:
            raise ValueError(f"y must have shape [{x.size(0)}] with n >= 1, got {tuple(y.shape)}")
        if int(y.min()) < 0 or int(y.max()) >= self.linear.out_features:
            raise ValueError(f"y holds labels outside [0, {self.linear.out_features})")
        x, y = x.detach(), y.detach()
        scale = 1.0 / x.size(0)  # keeps the L-BFGS tolerances independent of n
        optimizer = torch.optim.LBFGS(self.parameters(), lr=1.0,
                                      max_iter=max_iter or self.max_iter,
                                      tolerance_grad=self.tol, tolerance_change=1e-9,
                                      history_size=10, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = scale * self.objective(x, y)
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(closure)
        return self

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``[n, K]``."""
        return self.linear(x)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """Predicted classes ``[n]``."""
        return self.linear(x).argmax(dim=1)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.linear.in_features}, "
                f"{self.linear.out_features}, C={self.C})")
