"""The per-epoch record of one training run and its model-selection outcome."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


@dataclass
class History:
    """Per-epoch metrics of one training run and the model-selection outcome.

    Attributes:
        metrics (dict[str, list[float]]): one list per metric (``"epoch"``, ``"loss"``,
            ``"train_acc"``, ``"val_acc"``, ``"test_acc"``, ``"seconds"``, ...).
        best_epoch (int): epoch with the best validation accuracy (first one on ties).
        best_val_acc (float): that validation accuracy.
        test_acc (float): test accuracy at ``best_epoch``.
    """

    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    best_val_acc: float = -1.0
    test_acc: float = float("nan")

    def log(self, **values: float) -> None:
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def update_best(self, epoch: int, val_acc: float, test_acc: float) -> bool:
        """Records the epoch if its validation accuracy beats the best so far."""
        if val_acc > self.best_val_acc:
            self.best_epoch, self.best_val_acc, self.test_acc = epoch, val_acc, test_acc
            return True
        return False

    @property
    def seconds_per_epoch(self) -> float:
        seconds = self.metrics.get("seconds", [])
        return float(np.mean(seconds)) if seconds else float("nan")

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "test_acc": self.test_acc}

    def plot(self, path: str, title: Optional[str] = None) -> None:
        """Saves the curves to ``path`` (:func:`noisygraph.plotting.plot_history`)."""
        from noisygraph.plotting import plot_history
        plot_history(self, path, title=title)
