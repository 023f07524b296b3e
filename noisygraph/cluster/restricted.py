r"""``local_cluster(..., half_volume=True)``: the diffuse-and-sweep driver with every sweep
restricted to :math:`\mathrm{vol}(S) \le \mathrm{vol}(V)/2`.

The fused C++ ops keep only the best level's scores, so this driver runs the levels itself:
one batched :func:`~noisygraph.ops.local_push.flow_diffusion` per mass multiple (each from a
cold start: the same fixed point as the fused ops' warm-started levels, up to ``eps``, at up to
one full diffusion per level) or one :func:`~noisygraph.ops.local_push.ppr_push` per query and
tolerance, then the restricted sweep (:func:`~noisygraph.ops.local_push.sweep_cut` with
``max_volume``), keeping the least conductance per query, as the fused ops do.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from noisygraph.ops.local_push import (ClusterBatch, LocalGraph, PushResult, flow_diffusion,
                                       pnorm_diffusion, ppr_push, sweep_cut)


def half_volume_cluster(graph: LocalGraph, seeds: list, volumes: list[float],
                        levels: list[float], method: str, sink: Optional[Tensor], eps: float,
                        omega: float, alpha: float, max_pushes: int,
                        cg_iters: int = 0, p: float = 2.0) -> ClusterBatch:
    """The fused ops' :class:`ClusterBatch` for ``method`` ``"flow"`` (``levels``: mass
    multiples of ``volumes``) or ``"ppr"`` (tolerances ``1/(level * volume)``, levels taken
    ascending), sweeps restricted to half the graph's volume; ``cg_iters`` as in
    :func:`~noisygraph.ops.local_push.flow_diffusion`; flow with ``p > 2``: the p-norm
    diffusion (:func:`~noisygraph.ops.local_push.pnorm_diffusion`)."""
    half = graph.total_volume / 2
    grid = sorted(levels)
    best = [(math.nan, -1, torch.zeros(0, dtype=torch.long), None, None)] * len(seeds)
    work = torch.zeros(len(seeds), 3, dtype=torch.long)
    for level, a in enumerate(grid):
        if method == "flow" and p != 2.0:
            push = pnorm_diffusion(graph, seeds, [a * v for v in volumes], p, sink, eps,
                                   max_pushes)
        elif method == "flow":
            push = flow_diffusion(graph, seeds, [a * v for v in volumes], sink, eps, omega,
                                  max_pushes, cg_iters=cg_iters)
        else:
            parts = [ppr_push(graph, [s], alpha, 1.0 / (a * v), max_pushes)
                     for s, v in zip(seeds, volumes)]
            push = _concat_pushes(parts)
        sweep = sweep_cut(graph, push.ptr, push.nodes, push.primal, normalize=method == "ppr",
                          max_volume=half)
        work[:, 0] += push.work[:, 0]
        work[:, 1] += push.work[:, 1] + sweep.work[:, 1]
        work[:, 2] = torch.maximum(work[:, 2], push.work[:, 2])
        for q in range(len(seeds)):
            phi = float(sweep.conductance[q])
            if not math.isnan(phi) and (math.isnan(best[q][0]) or phi < best[q][0]):
                s0, s1 = int(push.ptr[q]), int(push.ptr[q + 1])
                positive = push.primal[s0:s1] > 0
                c0, c1 = int(sweep.ptr[q]), int(sweep.ptr[q + 1])
                best[q] = (phi, level, sweep.nodes[c0:c1], push.nodes[s0:s1][positive],
                           push.primal[s0:s1][positive])
    empty_nodes = torch.zeros(0, dtype=torch.long)
    empty_scores = torch.zeros(0, dtype=torch.float64)

    def offsets(blocks):
        return torch.cumsum(torch.tensor([0] + [b.numel() for b in blocks]), 0)
    clusters = [b[2] for b in best]
    score_nodes = [empty_nodes if b[3] is None else b[3] for b in best]
    scores = [empty_scores if b[4] is None else b[4] for b in best]
    return ClusterBatch(offsets(clusters), torch.cat(clusters),
                        torch.tensor([b[0] for b in best], dtype=torch.float64),
                        torch.tensor([b[1] for b in best], dtype=torch.long),
                        offsets(score_nodes), torch.cat(score_nodes), torch.cat(scores), work)


def _concat_pushes(parts: list[PushResult]) -> PushResult:
    """One :class:`PushResult` from single-query results."""
    sizes = torch.tensor([0] + [int(p.ptr[-1]) for p in parts])
    return PushResult(torch.cumsum(sizes, 0), torch.cat([p.nodes for p in parts]),
                      torch.cat([p.primal for p in parts]),
                      torch.cat([p.residual for p in parts]),
                      torch.cat([p.work for p in parts]))
