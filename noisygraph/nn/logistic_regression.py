r"""Multinomial logistic regression fitted with L-BFGS in PyTorch (CPU or GPU): the linear
probe ERASE puts on its embeddings."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from noisygraph._validation import check_int, check_real


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
        in_channels = check_int("in_channels", in_channels, low=1)
        num_classes = check_int("num_classes", num_classes, low=1)
        self.C = check_real("C", C, low=0.0, low_open=True)
        self.max_iter = check_int("max_iter", max_iter, low=1)
        self.tol = check_real("tol", tol, low=0.0)
        self.linear = torch.nn.Linear(in_channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def objective(self, x: Tensor, y: Tensor) -> Tensor:
        """The penalised negative log-likelihood (summed over samples)."""
        nll = F.cross_entropy(self.linear(x), y, reduction="sum")
        return nll + 0.5 / self.C * self.linear.weight.pow(2).sum()

    def _check_x(self, x) -> None:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.dim() != 2 or x.size(1) != self.linear.in_features:
            raise ValueError(f"x must have shape [n, {self.linear.in_features}], got "
                             f"{tuple(x.shape)}")
        if x.dtype != self.linear.weight.dtype or x.device != self.linear.weight.device:
            raise ValueError(f"x must be {self.linear.weight.dtype} on "
                             f"{self.linear.weight.device} like the model, got {x.dtype} on "
                             f"{x.device}")

    def fit(self, x: Tensor, y: Tensor, max_iter: Optional[int] = None) -> "LogisticRegression":
        """Fits on features ``x`` ``[n, F]`` (finite) and labels ``y`` ``[n]`` (integer classes
        in ``[0, K)``), warm-started from the current parameters.

        Args:
            max_iter (int, optional): overrides the iteration budget of this call (>= 1).
        """
        self._check_x(x)
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x must be finite (found NaN or inf)")
        if (not isinstance(y, Tensor) or y.is_floating_point() or y.is_complex()
                or y.dtype == torch.bool):
            raise TypeError(f"y must be an integer tensor of classes, got "
                            f"{getattr(y, 'dtype', type(y).__name__)}")
        if y.shape != (x.size(0),) or x.size(0) == 0:
            raise ValueError(f"y must have shape [{x.size(0)}] with n >= 1, got {tuple(y.shape)}")
        if int(y.min()) < 0 or int(y.max()) >= self.linear.out_features:
            raise ValueError(f"y holds labels outside [0, {self.linear.out_features})")
        max_iter = check_int("max_iter", max_iter, low=1, optional=True)
        return self._fit(x, y.long().to(x.device), max_iter or self.max_iter)

    def _fit(self, x: Tensor, y: Tensor, max_iter: int) -> "LogisticRegression":
        """:meth:`fit` without the argument checks (no host synchronisation): the ERASE
        trainer refits every epoch on labels it produced itself."""
        x, y = x.detach(), y.detach()
        scale = 1.0 / x.size(0)  # keeps the L-BFGS tolerances independent of n
        optimizer = torch.optim.LBFGS(self.parameters(), lr=1.0, max_iter=max_iter,
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
        self._check_x(x)
        return self.linear(x)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """Predicted classes ``[n]``."""
        return self(x).argmax(dim=1)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.linear.in_features}, "
                f"{self.linear.out_features}, C={self.C})")
