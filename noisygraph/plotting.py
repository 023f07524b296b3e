"""Figures of training runs (matplotlib, imported only when a figure is drawn)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from noisygraph.history import History


def plot_history(history: "History", path: str, *, title: Optional[str] = None) -> None:
    """Saves a run's accuracy curves (left, the selected epoch dashed) and loss parts (right)
    to ``path`` (any format matplotlib writes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = history.metrics
    epochs = metrics.get("epoch", [])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("train_acc", "val_acc", "test_acc"):
        if key in metrics:
            axes[0].plot(epochs, [100 * v for v in metrics[key]], label=key)
    axes[0].axvline(history.best_epoch, color="gray", linestyle="--", label="selected epoch")
    axes[0].set(xlabel="epoch", ylabel="accuracy (%)")
    axes[0].legend()
    for key in ("loss", "total", "compress"):
        if key in metrics:
            axes[1].plot(epochs, metrics[key], label=key)
    axes[1].set(xlabel="epoch", ylabel="loss")
    axes[1].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
