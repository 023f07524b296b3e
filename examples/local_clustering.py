"""Local clustering from one seed node with noisy labels, and a picture of it.

Runs the label-weighted flow diffusion and the unweighted one from a seed, prints size,
conductance, F1 and time, and draws the seed's neighbourhood: fill colour = in the
label-weighted cluster or not, ring colour = noisy label (in target or not), the seed as a
star, the true class drawn with a thicker outline.

    python examples/local_clustering.py --dataset coauthor_cs --node 0 --rate 0.2 --out cluster.png

The flags mean what they mean in ``noisygraph cluster``: ``--node`` the seed node, ``--rate``
the flip rate, ``--seed`` the random seed of the label noise.
"""
from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import torch  # noqa: E402

from noisygraph.cluster import LocalGraph, local_cluster  # noqa: E402
from noisygraph.datasets import load_dataset  # noqa: E402
from noisygraph.noise import add_label_noise  # noqa: E402


def neighbourhood(graph: LocalGraph, seed: int, max_nodes: int) -> list[int]:
    """The seed and the nodes nearest to it (breadth first), up to ``max_nodes``."""
    seen, frontier, chosen = [seed], [seed], {seed}
    while frontier and len(seen) < max_nodes:
        nxt = []
        for v in frontier:
            for u in graph.neighbors(v).tolist():
                if u not in chosen and len(seen) < max_nodes:
                    chosen.add(u)
                    seen.append(u)
                    nxt.append(u)
        frontier = nxt
    return seen


def draw(graph: LocalGraph, seed: int, cluster: torch.Tensor, noisy: torch.Tensor,
         true: torch.Tensor, path: str, max_nodes: int = 250, title: str = "") -> None:
    nodes = neighbourhood(graph, seed, max_nodes)
    index = set(nodes)
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for v in nodes:
        g.add_edges_from((v, u) for u in graph.neighbors(v).tolist() if u in index and u > v)
    layout = nx.spring_layout(g, seed=0, k=1.5 / max(len(nodes), 1) ** 0.5)
    members = set(cluster.tolist())
    fig, ax = plt.subplots(figsize=(8, 8))
    nx.draw_networkx_edges(g, layout, ax=ax, alpha=0.15, width=0.5)
    for shape, in_class in (("o", True), ("s", False)):  # shape: true class
        group = [v for v in nodes if bool(true[v]) == in_class and v != seed]
        nx.draw_networkx_nodes(
            g, layout, nodelist=group, node_shape=shape, node_size=50, linewidths=1.6, ax=ax,
            node_color=["tab:orange" if v in members else "lightgray" for v in group],
            edgecolors=["tab:blue" if bool(noisy[v]) else "black" for v in group])
    nx.draw_networkx_nodes(g, layout, nodelist=[seed], node_color="red", node_shape="*",
                           node_size=400, ax=ax)
    handles = [
        plt.Line2D([], [], marker="o", ls="", mfc="tab:orange", mec="none", label="in the cluster (fill)"),
        plt.Line2D([], [], marker="o", ls="", mfc="lightgray", mec="none", label="not in the cluster"),
        plt.Line2D([], [], marker="o", ls="", mfc="white", mec="tab:blue", mew=1.6, label="noisy label: in target (ring)"),
        plt.Line2D([], [], marker="o", ls="", mfc="white", mec="black", mew=1.6, label="noisy label: not in target"),
        plt.Line2D([], [], marker="o", ls="", mfc="white", mec="gray", label="true class: circle"),
        plt.Line2D([], [], marker="s", ls="", mfc="white", mec="gray", label="other class: square"),
        plt.Line2D([], [], marker="*", ls="", mfc="red", mec="red", ms=14, label="seed"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="coauthor_cs", help="data set (default: coauthor_cs)")
    parser.add_argument("--node", type=int, default=0, help="seed node (default: 0)")
    parser.add_argument("--rate", type=float, default=0.2,
                        help="flip rate of the binary target labels (default: 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the label noise "
                                                           "(default: 0)")
    parser.add_argument("--out", default="local_clustering.png",
                        help="where the picture goes (default: local_clustering.png)")
    parser.add_argument("--max-nodes", type=int, default=250,
                        help="nodes drawn around the seed node (default: 250)")
    args = parser.parse_args()

    data = load_dataset(args.dataset)
    graph = LocalGraph.from_graph(data)          # preprocess once, reuse for every query
    true = data.y == data.y[args.node]
    noisy = add_label_noise(true.long(), "uniform", args.rate, seed=args.seed,
                            num_classes=2).y_noisy.bool()

    weighted = local_cluster(graph, seed_node=args.node, labels=noisy)
    plain = local_cluster(graph, seed_node=args.node, target_volume=true)
    for name, res in (("label-weighted flow", weighted), ("unweighted flow (true volume)", plain)):
        print(f"{name:>30}: size {res.size}, conductance {res.conductance:.3f}, "
              f"F1 {res.f1(true):.3f}, {res.ms:.1f} ms, {res.work['pushes']} pushes"
              + (" (stopped at the push limit: not converged)" if res.hit_push_limit else ""))
    labels_f1 = float(2 * (noisy & true).sum() / (noisy.sum() + true.sum()))
    print(f"{'noisy labels alone':>30}: F1 {labels_f1:.3f}")
    title = (f"{args.dataset}, seed node {args.node}, {args.rate:.0%} flipped labels: label-weighted "
             f"cluster F1 {weighted.f1(true):.2f} (unweighted {plain.f1(true):.2f}, labels {labels_f1:.2f})")
    draw(graph, args.node, weighted.nodes, noisy, true, args.out, args.max_nodes, title)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
