"""Figures of training runs, benchmarks and network community profiles (matplotlib, imported
only when a figure is drawn)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from noisygraph.cluster.ncp import NCPResult
    from noisygraph.erase.history import History


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


def plot_ncp(result: "NCPResult", path: str, *, title: Optional[str] = None) -> None:
    """Saves a network community profile (:class:`~noisygraph.cluster.ncp.NCPResult`): the
    least conductance per cluster size, log-log, one curve per method and the best of all
    (as LocalGraphClustering draws it)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    styles = {"acl": dict(color="tab:blue", marker=".", linewidth=1, label="ACL PageRank"),
              "flow": dict(color="tab:orange", marker=".", linewidth=1,
                           label="l2 flow diffusion")}
    for method, curve in result.curves.items():
        if method == "best" or not curve:
            continue
        ax.plot(result.sizes(method), result.conductances(method),
                **styles.get(method, dict(label=method)))
    if len(result.curves) > 2:
        ax.plot(result.sizes("best"), result.conductances("best"), color="black",
                linewidth=1.5, alpha=0.6, label="best")
    ax.set(xscale="log", yscale="log", xlabel="cluster size (nodes)",
           ylabel="least conductance found", title=title or "network community profile")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_accuracy_vs_rate(summary: Sequence[dict], path: str, *,
                          datasets: Optional[Sequence[str]] = None,
                          title: Optional[str] = None) -> None:
    """Saves test accuracy (mean ± std, %) against the nominal noise rate to ``path``: one
    panel per data set, one line per (method, noise kind): colour by method, line style by
    noise kind. ``summary`` holds the rows of
    :meth:`noisygraph.bench.BenchmarkResult.summary`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(datasets) if datasets is not None else list(dict.fromkeys(
        row["dataset"] for row in summary))
    methods = list(dict.fromkeys(row["method"] for row in summary))
    kinds = list(dict.fromkeys(row["noise"] for row in summary))
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, max(1, len(datasets)), figsize=(5 * max(1, len(datasets)), 4),
                             squeeze=False)
    for axis, dataset in zip(axes[0], datasets):
        for m, method in enumerate(methods):
            for k, kind in enumerate(kinds):
                rows = sorted((r for r in summary if r["dataset"] == dataset
                               and r["method"] == method and r["noise"] == kind),
                              key=lambda r: r["rate"])
                if not rows:
                    continue
                axis.errorbar([100 * r["rate"] for r in rows], [r["accuracy_mean"] for r in rows],
                              yerr=[r["accuracy_std"] for r in rows], color=f"C{m % 10}",
                              linestyle=styles[k % len(styles)], marker="o", capsize=3,
                              label=f"{method}, {kind}")
        axis.set(title=dataset, xlabel="nominal noise rate (%)", ylabel="test accuracy (%)")
        axis.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
