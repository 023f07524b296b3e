"""Speed of local clustering: milliseconds per seed against networkx personalized PageRank
and a NumPy/SciPy ACL push, and locality (time per seed as the graph grows 10^4 -> 10^7).

    python benchmarks/bench_cluster.py --datasets coauthor_cs amazon_photo --sizes 1e4 1e5 1e6 1e7

Every PageRank here is our non-lazy push at teleport 0.15. LocalGraphClustering (a lazy push)
is compared side by side, at the matching teleport, in ``benchmarks/bench_lgc.py``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch

import noisygraph
from noisygraph.cluster import LocalGraph, local_cluster_batch
from noisygraph.ops.local_push import ppr_push, sweep_cut
from noisygraph.datasets import load_dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_markdown  # noqa: E402


ALPHA = 0.15  # teleport of the ACL/PageRank timings (non-lazy; LocalGraphClustering's lazy 0.15 is our 0.2609)


# ------------------------------------------------------------------ NumPy/SciPy baselines
def numpy_acl(indptr, indices, data, degree, seed, alpha, eps):
    """ACL push as a NumPy user writes it: dense p, r arrays of length N per query, a
    Python FIFO queue (same non-lazy rule as ours)."""
    n = degree.size
    p = np.zeros(n)
    r = np.zeros(n)
    r[seed] = 1.0
    queue = [seed]
    head = 0
    in_queue = np.zeros(n, dtype=bool)
    in_queue[seed] = True
    while head < len(queue):
        v = queue[head]
        head += 1
        in_queue[v] = False
        if r[v] <= eps * degree[v]:
            continue
        p[v] += alpha * r[v]
        start, end = indptr[v], indptr[v + 1]
        neighbours = indices[start:end]
        r[neighbours] += (1 - alpha) * r[v] * data[start:end] / degree[v]
        r[v] = 0.0
        active = neighbours[(r[neighbours] > eps * degree[neighbours]) & ~in_queue[neighbours]]
        in_queue[active] = True
        queue.extend(active.tolist())
    return p


def numpy_sweep(matrix: sp.csr_matrix, degree, scores, total_volume):
    """Sweep over scores / degree with SciPy: conductance of every prefix."""
    support = np.flatnonzero(scores > 0)
    order = support[np.argsort(-scores[support] / degree[support], kind="stable")]
    sub = matrix[order][:, order]
    # edges inside the prefix of length k: sum over the lower triangle up to k
    inside = np.cumsum(np.asarray(sp.tril(sub, -1).sum(axis=1)).ravel())
    volume = np.cumsum(degree[order])
    cut = volume - 2 * inside
    denominator = np.minimum(volume, total_volume - volume)
    phi = np.where(denominator > 0, cut / np.maximum(denominator, 1e-300), np.inf)
    k = int(np.argmin(phi))
    return order[: k + 1], float(phi[k])


def networkx_ppr(graph_nx, seed, alpha):
    return nx.pagerank(graph_nx, alpha=1 - alpha, personalization={seed: 1.0}, tol=1e-6)


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def speed_table(name, num_seeds, nx_seeds, repeats):
    data = load_dataset(name)
    graph = LocalGraph.from_graph(data)
    y = data.y
    candidates = (graph.degree > 0).nonzero().flatten()
    rng = torch.Generator().manual_seed(0)
    seeds = candidates[torch.randperm(candidates.numel(), generator=rng)[:num_seeds]].tolist()
    matrix = sp.csr_matrix((graph.weights().numpy(), graph.col.numpy(), graph.rowptr.numpy()),
                           shape=(graph.num_nodes, graph.num_nodes))
    degree = graph.degree.numpy()
    rows = []
    for eps in (1e-4, 1e-6):
        def ours_one(s, eps=eps):
            out = ppr_push(graph, s, alpha=ALPHA, eps=eps)
            sweep_cut(graph, out.ptr, out.nodes, out.primal, normalize=True)

        def numpy_one(s, eps=eps):
            p = numpy_acl(matrix.indptr, matrix.indices, matrix.data, degree, s, ALPHA, eps)
            numpy_sweep(matrix, degree, p, graph.total_volume)

        per_seed = [timed(lambda s=s: ours_one(s), repeats) for s in seeds]
        ours, ours_mean = statistics.median(per_seed), statistics.fmean(per_seed)
        base = statistics.median(timed(lambda s=s: numpy_one(s), 1) for s in seeds[:max(3, num_seeds // 4)])
        def batch_all(eps=eps):
            out = ppr_push(graph, seeds, alpha=ALPHA, eps=eps)
            sweep_cut(graph, out.ptr, out.nodes, out.primal, normalize=True)

        batch_all()  # warm-up: every worker thread allocates its workspace once
        batch = timed(batch_all, repeats) / len(seeds)
        rows.append((f"ACL push + sweep, alpha {ALPHA}, rho {eps:g}", ours, ours_mean, batch,
                     "NumPy/SciPy ACL + sweep", base))
    # full method: label-weighted flow diffusion, 6 levels (labels: 20 % flipped)
    flows = []
    for s in seeds:
        true = y == y[s]
        flip = torch.rand(graph.num_nodes, generator=torch.Generator().manual_seed(s)) < 0.2
        noisy = true ^ flip
        res = local_cluster_batch(graph, seed_nodes=[s], labels=noisy)
        flows.append(res[0].ms)
    # networkx PageRank from a few seeds (whole-graph power iteration), then a sweep
    graph_nx = nx.from_scipy_sparse_array(matrix)
    nx_times = []
    for s in seeds[:nx_seeds]:
        def nx_one(s=s):
            pr = networkx_ppr(graph_nx, s, ALPHA)
            scores = np.zeros(graph.num_nodes)
            scores[list(pr)] = list(pr.values())
            numpy_sweep(matrix, degree, scores, graph.total_volume)
        nx_times.append(timed(nx_one, 1))
    return {"name": name, "nodes": graph.num_nodes, "nnz": graph.col.numel(), "rows": rows,
            "flow_ms": statistics.median(flows), "nx_ms": statistics.median(nx_times),
            "seeds": len(seeds), "nx_seeds": len(nx_times)}


# ------------------------------------------------------------------ locality
def planted_graph(num_nodes: int, cluster: int = 1000, degree_pairs: int = 5, seed: int = 0):
    """A two-block random graph built straight into CSR (no sort): every node has
    ``2 * degree_pairs`` edges, from random permutations (edge i -> pi(i) and i -> pi^-1(i)):
    ``degree_pairs - 1`` permutations inside its block (the planted cluster [0, cluster) or
    the rest), one over all nodes. The cluster (and its neighbourhood's statistics) is the
    same for every ``num_nodes``."""
    rng_cluster = np.random.default_rng(seed)
    rng_rest = np.random.default_rng(seed + 1)
    k = 2 * degree_pairs
    col = np.empty((num_nodes, k), dtype=np.int64)
    for j in range(degree_pairs - 1):
        inner = rng_cluster.permutation(cluster)
        col[:cluster, 2 * j] = inner
        col[inner, 2 * j + 1] = np.arange(cluster)
        outer = rng_rest.permutation(num_nodes - cluster) + cluster
        col[cluster:, 2 * j] = outer
        col[outer, 2 * j + 1] = np.arange(cluster, num_nodes)
    everywhere = np.random.default_rng(seed + 2).permutation(num_nodes)
    col[:, k - 2] = everywhere
    col[everywhere, k - 1] = np.arange(num_nodes)
    rowptr = torch.arange(0, num_nodes * k + 1, k, dtype=torch.long)
    return LocalGraph(rowptr, torch.from_numpy(col.reshape(-1)), check_symmetric=False)


def locality_table(sizes, num_seeds, repeats, cluster=1000):
    rows = []
    for n in sizes:
        graph = planted_graph(n, cluster)
        true = torch.zeros(n, dtype=torch.bool)
        true[:cluster] = True
        noisy = true ^ (torch.rand(n, generator=torch.Generator().manual_seed(1)) < 0.1)
        seeds = list(range(0, cluster, cluster // num_seeds))[:num_seeds]
        weighted = None
        timings = {}
        volume = float(cluster * 2 * 5)  # the true cluster's volume, passed as a number
        for label, kwargs in (("flow", dict(target_volume=volume)),
                              ("flow label-weighted", dict(labels=noisy, target_volume=volume)),
                              ("ACL", dict(method="ppr", target_volume=volume))):
            per_seed = []
            f1s = []
            for s in seeds:
                def once(s=s, kwargs=kwargs):
                    return local_cluster_batch(graph, seed_nodes=[s], **kwargs)[0]
                # the label weights are built once per labelling (O(E)), not per query:
                # time the query on the prepared weighted graph
                if "labels" in kwargs:
                    if weighted is None:
                        from noisygraph.cluster import label_weighted_graph
                        weighted = label_weighted_graph(graph, noisy)
                    def once(s=s):
                        res = local_cluster_batch(weighted, seed_nodes=[s], target_volume=volume)[0]
                        return res
                res = once()
                f1s.append(res.f1(true))
                per_seed.append(timed(once, repeats))
            timings[label] = (statistics.median(per_seed), statistics.fmean(f1s), res.work)
        rows.append((n, graph.col.numel(), timings))
        print(n, timings, flush=True)
        del graph, weighted
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["coauthor_cs", "amazon_photo"])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--nx-seeds", type=int, default=3)
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e4, 1e5, 1e6, 1e7])
    parser.add_argument("--locality-seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    lines = [f"backend: {noisygraph.backend()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads\n"]
    for name in args.datasets:
        t = speed_table(name, args.seeds, args.nx_seeds, args.repeats)
        lines.append(f"\n#### {name} ({t['nodes']} nodes, {t['nnz']} nonzeros; median over "
                     f"{t['seeds']} seeds, networkx over {t['nx_seeds']})\n")
        lines.append(f"| task | ours ms/seed, one call per seed: median (mean) | ours ms/seed, "
                     f"one batch call of all seeds ({torch.get_num_threads()} threads) | batch "
                     f"speed-up over the mean | baseline | baseline ms/seed (median) | "
                     f"speed-up (medians) |")
        lines.append("|---|---|---|---|---|---|---|")
        for task, ours, ours_mean, batch, base_name, base in t["rows"]:
            lines.append(f"| {task} | {ours:.2f} ({ours_mean:.2f}) | {batch:.2f} | "
                         f"{ours_mean / batch:.1f}x | {base_name} | {base:.1f} | "
                         f"{base / ours:.0f}x |")
        lines.append(f"| ACL + sweep (whole-graph PageRank) | - | - | networkx pagerank "
                     f"(personalized, alpha {ALPHA}) + sweep | {t['nx_ms']:.1f} | "
                     f"{t['nx_ms'] / t['rows'][0][1]:.0f}x vs ours rho 1e-4 |")
        lines.append(f"\nFull method (label-weighted flow diffusion, 20 % flipped labels, estimated "
                     f"volume, 6 levels + sweeps): median {t['flow_ms']:.1f} ms per seed.\n")
        print("\n".join(lines[-8:]), flush=True)
    if args.sizes:
        rows = locality_table([int(s) for s in args.sizes], args.locality_seeds, args.repeats)
        lines.append("\n#### Locality: a planted 1000-node cluster (degree 10, conductance ~0.2) "
                     "inside random graphs of growing size\n")
        lines.append("| nodes | nonzeros | flow ms/seed (F1) | flow label-weighted ms/seed (F1) | "
                     "ACL ms/seed (F1) | flow pushes | flow edge scans |")
        lines.append("|---|---|---|---|---|---|---|")
        for n, nnz, timings in rows:
            cells = " | ".join(f"{timings[k][0]:.2f} ({timings[k][1]:.2f})"
                               for k in ("flow", "flow label-weighted", "ACL"))
            lines.append(f"| {n:.0e} | {nnz:.1e} | {cells} | {timings['flow'][2]['pushes']} | "
                         f"{timings['flow'][2]['edges']} |")
    write_markdown(args.markdown, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
