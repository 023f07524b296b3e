"""Figures of runs: training curves, local-cluster sweeps, confusion matrices, benchmarks and
network community profiles (matplotlib, imported only when a figure is drawn)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from torch import Tensor

    from noisygraph.cluster import ClusterResult
    from noisygraph.cluster.ncp import NCPResult
    from noisygraph.history import History
    from noisygraph.ops.local_push import LocalGraph


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
                          noise: Optional[Sequence[str]] = None,
                          methods: Optional[Sequence[str]] = None,
                          title: Optional[str] = None) -> None:
    """Saves test accuracy (mean ± population std over the runs, %) against the nominal noise
    rate to ``path``: one row of panels per data set, one panel per noise kind, one line per
    method (colour and marker by method, one legend, each method's run counts in it). A panel
    with no finished cell says so instead of drawing nothing. ``summary`` holds the rows of
    :meth:`noisygraph.bench.BenchmarkResult.summary`; ``datasets`` / ``noise`` / ``methods``
    fix the order (default: as they first appear in ``summary``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def order(values, key):
        return list(values) if values is not None else list(dict.fromkeys(r[key] for r in summary))

    datasets, kinds, methods = order(datasets, "dataset"), order(noise, "noise"), order(methods, "method")
    markers = "osD^vP*Xh<>"
    # ten methods or fewer: matplotlib's default cycle; more: 20 colours, so none repeats
    colours = ([f"C{m}" for m in range(len(methods))] if len(methods) <= 10
               else [plt.get_cmap("tab20")(m % 20) for m in range(len(methods))])
    rows, cols = max(1, len(datasets)), max(1, len(kinds))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols + 2.2, 3.2 * rows), squeeze=False)
    handles = {}
    for i, dataset in enumerate(datasets):
        for j, kind in enumerate(kinds):
            axis = axes[i][j]
            panel = [r for r in summary if r["dataset"] == dataset and r["noise"] == kind]
            for m, method in enumerate(methods):
                mine = sorted((r for r in panel if r["method"] == method), key=lambda r: r["rate"])
                if not mine:
                    continue
                line = axis.errorbar([100 * r["rate"] for r in mine],
                                     [r["accuracy_mean"] for r in mine],
                                     yerr=[r["accuracy_std"] for r in mine], color=colours[m],
                                     marker=markers[m % len(markers)], capsize=3, linewidth=1)
                handles.setdefault(method, (line, set()))[1].update(r["runs"] for r in mine)
            if not panel:
                axis.text(0.5, 0.5, "not run", ha="center", va="center",
                          transform=axis.transAxes, color="gray")
            rates = sorted({100 * r["rate"] for r in panel})
            if rates:
                axis.set_xticks(rates)
            axis.set(title=f"{dataset}, {kind} noise", xlabel="nominal noise rate (%)",
                     ylabel="test accuracy (%)" if j == 0 else None)
            axis.grid(True, alpha=0.3)
    if handles:
        def label(method, runs):
            low, high = min(runs), max(runs)
            return f"{method} ({low} run{'s' * (high > 1)})" if low == high else \
                f"{method} ({low}–{high} runs)"
        named = [(line, label(method, runs)) for method, (line, runs) in handles.items()]
        fig.legend([h for h, _ in named], [t for _, t in named], loc="center right",
                   fontsize="small", title="mean ± std")
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1 - 2.0 / (3.6 * cols + 2.2), 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep_profile(graph: "LocalGraph", result: "ClusterResult") -> tuple["Tensor", "Tensor"]:
    r"""The sweep of one local cluster: its scored nodes ordered by score / degree
    (descending, as the sweep cut orders them) and the conductance
    :math:`\phi(S_k) = \mathrm{cut}(S_k) / \min(\mathrm{vol}(S_k), \mathrm{vol}(V) -
    \mathrm{vol}(S_k))` of every prefix :math:`S_k` **in** ``graph`` (pass the unweighted input
    graph: the label-weighted graph the diffusion ran on is internal to the method).

    Returns:
        ``(order [k], conductance [k])`` (float64; ``nan`` where the denominator is 0).
    """
    import torch

    degree = graph.degree[result.score_nodes].clamp_min(1e-300)
    order = result.score_nodes[torch.argsort(result.scores.double() / degree, descending=True,
                                             stable=True)]
    rank = torch.full((graph.num_nodes,), -1, dtype=torch.long)
    rank[order] = torch.arange(order.numel())
    row, col = graph.row(), graph.col
    both = (rank[row] >= 0) & (rank[col] >= 0)
    later = torch.maximum(rank[row][both], rank[col][both])  # the prefix that closes the edge
    inside = torch.zeros(order.numel(), dtype=torch.float64).index_add_(
        0, later, graph.weights()[both].double())
    volume = torch.cumsum(graph.degree[order], 0)
    cut = volume - torch.cumsum(inside, 0)  # each undirected edge is stored twice
    smaller = torch.minimum(volume, graph.total_volume - volume)
    conductance = torch.where(smaller > 0, cut / smaller.clamp_min(1e-300),
                              torch.full_like(cut, float("nan")))
    return order, conductance


def plot_sweep_profiles(graph: "LocalGraph", results: Sequence["ClusterResult"], path: str, *,
                        truth: Optional[Sequence["Tensor"]] = None,
                        title: Optional[str] = None) -> None:
    """Saves the sweep profile of each cluster (:func:`sweep_profile`: conductance in
    ``graph`` against the prefix size, the returned cluster's size dotted) and, with
    ``truth`` (one bool ``[N]`` mask per result), the F1 of every prefix against it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    fig, axes = plt.subplots(1, 2 if truth is not None else 1, figsize=(11 if truth else 6, 4),
                             squeeze=False)
    for i, result in enumerate(results):
        order, conductance = sweep_profile(graph, result)
        sizes = torch.arange(1, order.numel() + 1)
        line, = axes[0, 0].plot(sizes, conductance, label=f"seed {result.seed}")
        axes[0, 0].axvline(result.size, color=line.get_color(), linestyle=":")
        if truth is not None:
            hits = torch.cumsum(truth[i][order].double(), 0)
            f1 = 2 * hits / (sizes + truth[i].sum())
            axes[0, 1].plot(sizes, f1, color=line.get_color())
            axes[0, 1].axvline(result.size, color=line.get_color(), linestyle=":")
    axes[0, 0].set(xlabel="sweep prefix size (nodes)", ylabel="conductance (input graph)",
                   xscale="log")
    if len(results) <= 10:
        axes[0, 0].legend()
    if truth is not None:
        axes[0, 1].set(xlabel="sweep prefix size (nodes)", ylabel="F1 vs the true class",
                       xscale="log")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_confusion(predictions: "Tensor", y: "Tensor", class_names: Sequence[str], path: str, *,
                   title: Optional[str] = None) -> None:
    """Saves the confusion matrix of ``predictions`` against ``y`` (rows: true class, each
    normalised to 1; the count of each true class on its label)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from noisygraph.metrics import confusion_matrix

    counts = confusion_matrix(predictions, y, len(class_names)).double()
    rows = counts.sum(dim=1, keepdim=True)
    share = (counts / rows.clamp_min(1)).numpy()
    size = max(4.0, 0.5 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
    labels = [f"{name} ({int(n)})" for name, n in zip(class_names, rows.flatten())]
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), labels)
    ax.set(xlabel="predicted class", ylabel="true class (nodes)")
    fig.colorbar(image, ax=ax, label="share of the true class")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
