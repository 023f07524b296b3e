r"""Network community profile (NCP): the least conductance found at every cluster size.

Leskovec, Lang, Dasgupta & Mahoney (`Community structure in large networks: natural cluster
sizes and the absence of large well-defined clusters <https://arxiv.org/abs/0810.1355>`_,
Internet Mathematics 2009) plot, for each size :math:`k`, the least conductance of a set of
about :math:`k` nodes, found by local diffusions from many seeds. Here every diffusion
(ACL PageRank push at each teleport and tolerance, :math:`\ell_2` flow diffusion at each source
mass) is swept and **every prefix** of its sweep of volume at most :math:`\mathrm{vol}(V)/2`
enters the profile (a sweep gives a set at each size, not only its best one), binned by size
on a log scale.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import torch
from torch import Tensor

from noisygraph._validation import INT64_MAX, check_int, check_levels
from noisygraph.ops.local_push import (LocalGraph, check_push_options, flow_diffusion, ppr_push,
                                       seed_sets)
from noisygraph.ops.local_sweep import sweep_profile
from noisygraph_cli.choices import NCP_METHODS

#: ACL teleport probabilities and tolerances, flow source masses (as fractions of the graph's
#: total sink capacity): chosen to span clusters from a few nodes to about a tenth of Coauthor
#: CS's volume at a few ms per seed and level; no ground truth is involved in an NCP.
DEFAULT_ALPHAS = (0.01, 0.1)
DEFAULT_TOLERANCES = (1e-2, 1e-3, 1e-4)
DEFAULT_MASS_FRACTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
DEFAULT_NCP_MAX_PUSHES = 1_000_000


@dataclass
class NCPResult:
    """A network community profile.

    Attributes:
        bins_per_decade: size bins per factor of 10 (bin ``b`` holds sizes in
            ``[10^(b/k), 10^((b+1)/k))``).
        curves: per method (and ``"best"``, over all methods), a list of one dict per non-empty
            bin, in increasing size: ``size`` (of the best set), ``conductance``, ``seed``,
            ``param`` (``{"alpha", "eps"}`` or ``{"mass"}``), ``bin`` (and, in ``"best"``,
            ``method``).
        sets: per bin of ``"best"``, its set (node ids).
        num_diffusions, num_prefixes: diffusions run, sweep prefixes scored.
        work: ``{"pushes", "edges"}`` summed (the sweeps' edge reads included).
        hit_push_limit: diffusions stopped at ``max_pushes``.
        ms: wall milliseconds.
    """
    bins_per_decade: int
    curves: dict = field(default_factory=dict)
    sets: list = field(default_factory=list)
    num_diffusions: int = 0
    num_prefixes: int = 0
    work: dict = field(default_factory=dict)
    hit_push_limit: int = 0
    ms: float = 0.0

    def sizes(self, method: str = "best") -> list[int]:
        return [p["size"] for p in self.curves[method]]

    def conductances(self, method: str = "best") -> list[float]:
        return [p["conductance"] for p in self.curves[method]]

    def to_dict(self) -> dict[str, Any]:
        return {"bins_per_decade": self.bins_per_decade,
                "curves": {m: [dict(p) for p in c] for m, c in self.curves.items()},
                "num_diffusions": self.num_diffusions, "num_prefixes": self.num_prefixes,
                "work": dict(self.work), "hit_push_limit": self.hit_push_limit, "ms": self.ms}

    def plot(self, path: str, *, title: Optional[str] = None) -> None:
        """Saves the profile (log-log, one curve per method) to ``path``."""
        from noisygraph.plotting import plot_ncp
        plot_ncp(self, path, title=title)


def _draw_seeds(graph: LocalGraph, seeds: Union[int, Sequence[int], Tensor], seed: int):
    if isinstance(seeds, bool) or not isinstance(seeds, int):
        return seed_sets(graph, seeds, name="seeds")
    count = check_int("seeds", seeds, low=1, high=INT64_MAX)
    candidates = torch.nonzero(graph.degree > 0).flatten()
    if candidates.numel() == 0:
        raise ValueError("graph has no edges: an NCP needs seeds of positive degree")
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(candidates.numel(), generator=generator)[:count]
    return [[int(v)] for v in candidates[pick].sort().values]


def ncp(graph: Any, *, seeds: Union[int, Sequence[int], Tensor] = 100,
        methods: Sequence[str] = ("acl", "flow"), seed: int = 0,
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        tolerances: Sequence[float] = DEFAULT_TOLERANCES,
        mass_fractions: Sequence[float] = DEFAULT_MASS_FRACTIONS,
        bins_per_decade: int = 10, max_pushes: int = DEFAULT_NCP_MAX_PUSHES) -> NCPResult:
    r"""The network community profile: least conductance per cluster size (log-binned) over
    the sweep prefixes of many local diffusions.

    ``"acl"``: :func:`~noisygraph.ops.local_push.ppr_push` for every teleport of ``alphas`` and
    tolerance of ``tolerances``, swept by :math:`p/d`. ``"flow"``: unweighted
    :func:`~noisygraph.ops.local_push.flow_diffusion` with source mass ``fraction x
    vol(V)`` (edges) for each of ``mass_fractions`` (each from a cold start), swept by
    :math:`x`. Each diffusion is one batched call over the seeds; only prefixes of volume at
    most :math:`\mathrm{vol}(V)/2` count.

    Args:
        graph: a :class:`~noisygraph.ops.local_push.LocalGraph` (or anything
            :meth:`LocalGraph.from_graph` takes); undirected, CPU.
        seeds: the number of seed nodes to draw (uniformly among nodes with edges, with
            ``seed``), or the seed nodes / seed sets themselves. (default: ``100``)
        methods (sequence): among ``("acl", "flow")``. (default: both)
        seed (int): random seed of the draw. (default: ``0``)
        alphas (sequence): ACL teleport probabilities in ``(0, 1]``. (default: ``(0.01, 0.1)``)
        tolerances (sequence): ACL tolerances :math:`\rho > 0`.
            (default: ``(1e-2, 1e-3, 1e-4)``)
        mass_fractions (sequence): flow source masses as fractions of the total sink capacity,
            in ``(0, 0.5]``. (default: ``(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)``)
        bins_per_decade (int): size bins per factor 10, in ``[1, 100]``. (default: ``10``)
        max_pushes (int): push limit per diffusion; a flow diffusion whose mass exceeds the sink
            capacity of its seed's connected component (a small component) cannot settle and
            runs to it; its sweep still counts (every prefix is a valid set), and
            :attr:`NCPResult.hit_push_limit` counts such diffusions. (default: ``10**6``)
    """
    start = time.perf_counter()
    graph = LocalGraph.from_graph(graph)
    if isinstance(methods, str) or not isinstance(methods, (list, tuple)) or not methods:
        raise TypeError(f"methods must be a non-empty list or tuple of {NCP_METHODS}, got "
                        f"{methods!r}")
    for m in methods:
        if m not in NCP_METHODS:
            raise ValueError(f"methods must be among {NCP_METHODS}, got {m!r}")
    seed = check_int("seed", seed, low=0, high=INT64_MAX)
    alpha_grid = check_levels("alphas", alphas)
    for a in alpha_grid:
        check_push_options(alpha=a)
    rho_grid = check_levels("tolerances", tolerances)
    fractions = check_levels("mass_fractions", mass_fractions)
    if fractions[-1] > 0.5:
        raise ValueError(f"mass_fractions must be at most 0.5 (a larger mass cannot settle "
                         f"locally), got {fractions[-1]}")
    bins_per_decade = check_int("bins_per_decade", bins_per_decade, low=1, high=100)
    _, _, _, max_pushes = check_push_options(max_pushes=max_pushes)
    sets = _draw_seeds(graph, seeds, seed)
    runs = []  # (method, param, PushResult, normalize)
    for m in dict.fromkeys(methods):
        if m == "acl":
            for a in alpha_grid:
                for rho in rho_grid:
                    runs.append((m, {"alpha": a, "eps": rho},
                                 ppr_push(graph, sets, a, rho, max_pushes), True))
        else:
            for f in fractions:
                runs.append((m, {"mass": f * graph.total_edges},
                             flow_diffusion(graph, sets, f * graph.total_edges,
                                            max_pushes=max_pushes), False))
    best: dict[str, dict[int, dict]] = {m: {} for m in methods}
    best_sets: dict[int, Tensor] = {}
    overall: dict[int, dict] = {}
    work = {"pushes": 0, "edges": 0}
    prefixes, stopped = 0, 0
    half = graph.total_volume / 2
    for method, param, push, normalize in runs:
        work["pushes"] += int(push.work[:, 0].sum())
        work["edges"] += int(push.work[:, 1].sum())
        stopped += int(push.work[:, 2].sum())
        for q, seed_set in enumerate(sets):
            a, b = int(push.ptr[q]), int(push.ptr[q + 1])
            profile = sweep_profile(graph, push.nodes[a:b], push.primal[a:b], normalize)
            work["edges"] += profile.edges
            ok = (profile.volume <= half) & ~torch.isnan(profile.conductance)
            if not bool(ok.any()):
                continue
            sizes = torch.arange(1, profile.order.numel() + 1)[ok]
            phi = profile.conductance[ok]
            prefixes += sizes.numel()
            bins = torch.floor(torch.log10(sizes.double()) * bins_per_decade + 1e-9).long()
            lowest = torch.full((int(bins.max()) + 1,), torch.inf, dtype=torch.float64)
            lowest.scatter_reduce_(0, bins, phi, reduce="amin")
            for bin_id in torch.nonzero(lowest < torch.inf).flatten().tolist():
                value = float(lowest[bin_id])
                current = best[method].get(bin_id)
                if current is not None and value >= current["conductance"]:
                    continue  # neither a better bin of this method nor of all methods
                k = int(torch.nonzero((bins == bin_id) & (phi == value))[0])
                entry = {"bin": bin_id, "size": int(sizes[k]), "conductance": value,
                         "seed": seed_set[0] if len(seed_set) == 1 else list(seed_set),
                         "param": dict(param)}
                best[method][bin_id] = entry
                if bin_id not in overall or value < overall[bin_id]["conductance"]:
                    overall[bin_id] = {**entry, "method": method}
                    best_sets[bin_id] = profile.order[:int(sizes[k])].clone()
    curves = {m: [best[m][b] for b in sorted(best[m])] for m in best}
    curves["best"] = [overall[b] for b in sorted(overall)]
    return NCPResult(bins_per_decade, curves, [best_sets[b] for b in sorted(overall)],
                     len(runs) * len(sets), prefixes, work, stopped,
                     (time.perf_counter() - start) * 1e3)
