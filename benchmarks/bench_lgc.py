"""LocalGraphClustering's ACL push side by side with ours, in one process, same graphs, same
seeds: PageRank vectors, sweep-cut clusters and milliseconds per seed.

    python benchmarks/bench_lgc.py --datasets coauthor_cs amazon_photo --seeds 25 \\
        --rhos 1e-4 1e-6 --repeats 5

LocalGraphClustering (https://github.com/kfoynt/LocalGraphClustering) runs the *lazy* ACL
push: a push keeps ``alpha_L * r`` in ``p`` and ``(1 - alpha_L) r / 2`` at the node. Ours is
the non-lazy push. Both approximate the same PageRank vector when
``alpha = 2 alpha_L / (1 + alpha_L)`` (the lazy walk's resolvent, rescaled), so ours runs
at that mapped alpha (LocalGraphClustering's default 0.15 -> 0.2609) with the same
tolerance ``rho``. Normalisation: ``approximate_PageRank(..., normalize=True)`` returns
``p_i / deg_i``; we compare ``p`` (its values times the degree). Both pushes stop with
every residual below ``rho * deg_i`` and ``p = PR(s) - PR(r)`` with ``0 <= PR(r) <= rho * deg``
(``deg`` is stationary), so ``|p_ours_i - p_L_i| <= rho * deg_i``: the table reports
``max_i |p_ours_i - p_L_i| / (rho * deg_i)``, which must be at most 1. PageRank preserves
mass, so each vector's L1 distance to the exact PageRank vector is ``1 - sum(p)``.

Timing: each side's public Python call, as a user makes it (LocalGraphClustering:
``approximate_PageRank`` then ``sweep_cut``; ours: ``ppr_push`` then ``sweep_cut``), one seed
per call, the sides alternated, median of ``--repeats`` per seed, then the median over seeds.
One thread for ours (a single query has no parallelism).

If ``localgraphclustering`` is not importable, the script says so and exits with status 0.
How it was built here (it does not install from PyPI): see benchmarks/results/cluster.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch

from noisygraph.ops.local_push import LocalGraph, ppr_push, sweep_cut
from noisygraph.datasets import load_dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_json  # noqa: E402


def mapped_alpha(alpha_lazy: float) -> float:
    """Our (non-lazy) teleport whose PageRank vector equals the lazy push's at ``alpha_lazy``."""
    return 2 * alpha_lazy / (1 + alpha_lazy)


def conductance(indptr, indices, degree, total, nodes) -> float:
    """cut(S) / min(vol(S), vol(V) - vol(S)), unweighted, straight from the CSR."""
    members = np.zeros(degree.size, dtype=bool)
    members[nodes] = True
    volume = degree[nodes].sum()
    inside = sum(int(members[indices[indptr[v]:indptr[v + 1]]].sum()) for v in nodes)
    return float((volume - inside) / min(volume, total - volume))


def elapsed_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def compare(name: str, lgc, num_seeds: int, rhos: list[float], alpha_lazy: float,
            repeats: int, generator_seed: int) -> list[dict]:
    data = load_dataset(name)
    graph = LocalGraph.from_graph(data)
    indptr, indices = graph.rowptr.numpy(), graph.col.numpy()
    degree = graph.degree.numpy()
    adjacency = sp.csr_matrix((np.ones(indices.size), indices, indptr),
                              shape=(graph.num_nodes, graph.num_nodes))
    G = lgc.GraphLocal.from_sparse_adjacency(adjacency)
    candidates = (graph.degree > 0).nonzero().flatten()
    generator = torch.Generator().manual_seed(generator_seed)
    seeds = candidates[torch.randperm(candidates.numel(), generator=generator)[:num_seeds]].tolist()
    alpha = mapped_alpha(alpha_lazy)
    rows = []
    for rho in rhos:
        def lgc_acl(s):
            return lgc.approximate_PageRank(G, [s], alpha=alpha_lazy, rho=rho,
                                            iterations=10**9, method="acl")

        def lgc_full(s):
            return lgc.sweep_cut(G, lgc_acl(s))

        def ours_acl(s, a=alpha):
            return ppr_push(graph, s, alpha=a, eps=rho, max_pushes=10**9)

        def ours_full(s, a=alpha):
            out = ours_acl(s, a)
            return out, sweep_cut(graph, out.ptr, out.nodes, out.primal, normalize=True)

        per_seed = []
        for s in seeds:
            xids, values = lgc_acl(s)
            p_lgc = np.zeros(graph.num_nodes)
            p_lgc[xids] = values * degree[xids]  # undo normalize=True (values are p / deg)
            lgc_cluster, lgc_phi = lgc.sweep_cut(G, (xids, values))
            out, sweep = ours_full(s)
            p_ours = np.zeros(graph.num_nodes)
            p_ours[out.nodes.numpy()] = out.primal.numpy()
            support = (p_ours > 0) | (p_lgc > 0)
            gap = np.abs(p_ours - p_lgc)
            ours_cluster = sweep.nodes.numpy()
            # our sweep on LocalGraphClustering's vector: separates sweep from vector differences
            positive = p_lgc > 0
            cross = sweep_cut(graph, torch.tensor([0, int(positive.sum())]),
                              torch.from_numpy(np.nonzero(positive)[0]),
                              torch.from_numpy(p_lgc[positive]), normalize=True)
            a, b = set(np.asarray(lgc_cluster).tolist()), set(ours_cluster.tolist())
            unmapped = ours_acl(s, alpha_lazy)
            p_unmapped = np.zeros(graph.num_nodes)
            p_unmapped[unmapped.nodes.numpy()] = unmapped.primal.numpy()
            timings = {"lgc_full": [], "ours_full": [], "lgc_acl": [], "ours_acl": [],
                       "ours_unmapped_full": []}
            for _ in range(repeats):  # alternate the sides, one repeat at a time
                timings["lgc_full"].append(elapsed_ms(lambda: lgc_full(s)))
                timings["ours_full"].append(elapsed_ms(lambda: ours_full(s)))
                timings["lgc_acl"].append(elapsed_ms(lambda: lgc_acl(s)))
                timings["ours_acl"].append(elapsed_ms(lambda: ours_acl(s)))
                timings["ours_unmapped_full"].append(elapsed_ms(lambda: ours_full(s, alpha_lazy)))
            per_seed.append({
                "seed": s,
                "support_lgc": int((p_lgc > 0).sum()), "support_ours": int((p_ours > 0).sum()),
                "max_gap_over_rho_deg": float((gap[support] / (rho * degree[support])).max()),
                "max_abs_gap": float(gap.max()),
                "rel_l1_gap": float(gap.sum() / p_lgc.sum()),
                "rel_l1_gap_unmapped": float(np.abs(p_unmapped - p_lgc).sum() / p_lgc.sum()),
                "l1_error_lgc": float(1 - p_lgc.sum()), "l1_error_ours": float(1 - p_ours.sum()),
                "pushes_ours": int(out.work[0, 0]), "hit_push_limit": bool(out.hit_push_limit[0]),
                "identical": a == b, "jaccard": len(a & b) / len(a | b),
                "our_sweep_on_lgc_vector_identical": a == set(cross.nodes.tolist()),
                "phi_lgc": float(lgc_phi), "phi_ours": float(sweep.conductance[0]),
                "phi_lgc_recomputed": conductance(indptr, indices, degree, graph.total_volume,
                                                  np.asarray(lgc_cluster, dtype=np.int64)),
                "size_lgc": len(a), "size_ours": len(b),
                **{k: statistics.median(v) for k, v in timings.items()},
            })
        row = {"dataset": name, "num_nodes": graph.num_nodes, "nnz": int(indices.size),
               "rho": rho, "alpha_lgc": alpha_lazy, "alpha_ours": alpha, "seeds": len(seeds),
               "repeats": repeats, "per_seed": per_seed}
        for key in ("lgc_full", "ours_full", "lgc_acl", "ours_acl", "ours_unmapped_full"):
            row[key] = statistics.median(r[key] for r in per_seed)
        rows.append(row)
        print_row(row)
    return rows


def print_row(row: dict) -> None:
    seeds = row["per_seed"]
    n = len(seeds)
    identical = sum(r["identical"] for r in seeds)
    cross = sum(r["our_sweep_on_lgc_vector_identical"] for r in seeds)
    phi_l = statistics.fmean(r["phi_lgc"] for r in seeds)
    phi_o = statistics.fmean(r["phi_ours"] for r in seeds)
    print(f"| {row['dataset']} | {row['rho']:g} | {row['alpha_lgc']:g} / {row['alpha_ours']:.4f} "
          f"| {row['lgc_full']:.2f} | {row['ours_full']:.2f} "
          f"| {row['lgc_full'] / row['ours_full']:.2f}x "
          f"| {row['lgc_acl']:.2f} | {row['ours_acl']:.2f} "
          f"| {max(r['max_gap_over_rho_deg'] for r in seeds):.3f} "
          f"| {statistics.median(r['rel_l1_gap'] for r in seeds):.2e} "
          f"| {statistics.median(r['l1_error_lgc'] for r in seeds):.4f} / "
          f"{statistics.median(r['l1_error_ours'] for r in seeds):.4f} "
          f"| {identical}/{n} | {statistics.fmean(r['jaccard'] for r in seeds):.4f} "
          f"| {phi_l:.4f} / {phi_o:.4f} | {cross}/{n} "
          f"| {row['ours_unmapped_full']:.2f} "
          f"| {statistics.median(r['rel_l1_gap_unmapped'] for r in seeds):.2f} |", flush=True)


HEADER = ("| data set | rho | alpha LGC / ours | LGC ms/seed (ACL + sweep) | ours ms/seed "
          "(ACL + sweep) | LGC time / ours | LGC ms (ACL only) | ours ms (ACL only) "
          "| max_i abs(p_ours - p_LGC)_i / (rho deg_i) (bound 1) | relative L1 gap (median) "
          "| L1 error vs exact PageRank, 1 - sum(p), LGC / ours (median) "
          "| identical clusters | mean Jaccard | mean conductance LGC / ours "
          "| our sweep on LGC's vector = LGC's cluster | ours ms/seed at unmapped alpha 0.15 "
          "(the old comparison) | relative L1 gap at unmapped alpha |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["coauthor_cs", "amazon_photo"])
    parser.add_argument("--seeds", type=int, default=25, help="random seed nodes per data set")
    parser.add_argument("--rhos", type=float, nargs="+", default=[1e-4, 1e-6])
    parser.add_argument("--alpha", type=float, default=0.15,
                        help="LocalGraphClustering's (lazy) teleport; ours runs at "
                             "2 alpha / (1 + alpha) (default 0.15)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--generator-seed", type=int, default=0, help="draws the seed nodes")
    parser.add_argument("--json", default=None, help="write every per-seed figure here")
    args = parser.parse_args(argv)
    try:
        import localgraphclustering as lgc
    except Exception as error:  # not installed, or its compiled library does not load
        print(f"bench_lgc: skipped: localgraphclustering is not importable ({error}); build it "
              "from source as benchmarks/results/cluster.md describes", file=sys.stderr)
        return 0
    torch.set_num_threads(1)
    print(HEADER)
    rows = []
    for name in args.datasets:
        rows += compare(name, lgc, args.seeds, args.rhos, args.alpha, args.repeats,
                        args.generator_seed)
    write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
