"""``local_cluster``: a cluster around a seed node from a strongly-local diffusion.

The default method is the paper's: weighted :math:`\\ell_2`-norm flow diffusion on the
label-weighted graph (when labels are given; by default after one round of neighbourhood
majority vote on the labels, our addition), source mass = multiple x target volume for
every multiple of a grid (warm-started), sweep cut over the potentials, lowest conductance kept.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import torch
from torch import Tensor

from noisygraph._validation import (INT64_MAX, check_bool, check_bool_mask, check_int,
                                    check_levels, check_real)
from noisygraph.ops.local_push import (DEFAULT_CG_ITERS, DEFAULT_EPS, DEFAULT_MAX_PUSHES,
                                       DEFAULT_OMEGA,
                                       ClusterBatch, LocalGraph, check_p_norm, check_push_options,
                                       flow_cluster, pnorm_cluster, ppr_cluster, require_graph,
                                       resolve_sink, seed_sets)
from noisygraph.cluster.weights import (check_labels, check_target, check_weighting,
                                        label_weighted_graph, target_labels)
from noisygraph.cluster.refine import DEFAULT_DELTA, check_refine, refine_result
from noisygraph.cluster.restricted import half_volume_cluster
from noisygraph_cli.choices import CLUSTER_METHODS as METHODS  # defined once, torch-free

DEFAULT_MULTIPLES = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
MAX_MASS_FRACTION = 0.75  # of the total sink capacity, when no multiple fits in half of it
VolumeSpec = Union[None, float, Tensor]


@dataclass
class ClusterResult:
    """One local cluster.

    Attributes:
        seed: the seed node (or seed set).
        nodes: cluster nodes ``[k]`` (int64, sorted).
        conductance: conductance of the cluster in the graph the diffusion ran on (NaN when
            the diffusion never left the seed).
        score_nodes, scores: the diffusion's scores (sparse: nodes with a positive value;
            flow potential ``x`` or PageRank ``p``) at the selected level.
        work: ``{"pushes": int, "edges": int}`` summed over levels (including the sweeps'
            edge scans).
        hit_push_limit: whether a diffusion level stopped at ``max_pushes`` with work left
            (the scores are then not converged; raise ``max_pushes``).
        ms: wall milliseconds for this query (batch calls: the batch time divided evenly).
        target_volume: the target volume the source mass was a multiple of (flow), or the
            volume that set the tolerances (ppr).
        level: the selected multiple (flow) or tolerance (ppr).
        method: ``"flow"`` or ``"ppr"``; ``weighted``: whether labels reweighted the graph.
        p: the flow norm of method ``"flow"`` (2: the l2 diffusion).
        refinement: with ``refine=``: the flow refinement's
            :meth:`~noisygraph.cluster.refine.RefineResult.to_dict` (conductances in the graph
            as given, not label-weighted) plus ``input_size`` (the sweep cut's size), or
            ``{"method", "skipped"}`` when the sweep cut's volume exceeds vol(V)/2;
            :obj:`None` without ``refine``.
    """
    seed: Union[int, list[int]]
    nodes: Tensor
    conductance: float
    score_nodes: Tensor
    scores: Tensor
    work: dict = field(default_factory=dict)
    ms: float = 0.0
    target_volume: float = 0.0
    level: float = float("nan")
    method: str = "flow"
    weighted: bool = False
    hit_push_limit: bool = False
    refinement: Optional[dict] = None
    p: float = 2.0

    @property
    def size(self) -> int:
        return int(self.nodes.numel())

    def mask(self, num_nodes: int) -> Tensor:
        """The cluster as a boolean ``[num_nodes]`` mask."""
        out = torch.zeros(num_nodes, dtype=torch.bool)
        out[self.nodes] = True
        return out

    def f1(self, true_mask: Tensor) -> float:
        """F1 of the cluster against a boolean ground-truth mask."""
        from noisygraph.metrics import f1_score
        return f1_score(self.mask(true_mask.numel()), true_mask.to(torch.bool))

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "size": self.size, "conductance": self.conductance,
                "ms": self.ms, "work": dict(self.work), "method": self.method,
                "weighted": self.weighted, "target_volume": self.target_volume,
                "level": self.level, "hit_push_limit": self.hit_push_limit, "p": self.p,
                "refinement": None if self.refinement is None else dict(self.refinement)}


MAX_ESTIMATED_FLIP_RATE = 0.45


def estimate_flip_rate(graph: LocalGraph, inside: Tensor) -> float:
    r"""The flip rate of symmetrically flipped binary labels, from the labels alone.

    An edge whose endpoints share the true label shows different labels with probability
    :math:`2r(1-r)`; if few edges cross the true cluster's boundary, the (weighted) share
    :math:`D` of edges with different labels estimates that, and

    .. math::
        \hat r = \tfrac12\big(1 - \sqrt{\max(0, 1 - 2D)}\big),

    clipped to ``[0, 0.45]``. Edges across the true boundary bias it upwards (by a few
    points on Cora, Coauthor CS, Amazon Photo; see docs/cluster.md).

    Args:
        graph (LocalGraph): the graph.
        inside (torch.Tensor): ``[N]`` bool labels ("in target").
    """
    graph = require_graph(graph)
    inside = check_bool_mask("inside", inside, graph.num_nodes).cpu()
    if graph.total_volume <= 0:
        return 0.0
    row, col = graph.edges()
    weight = graph.weights().to(torch.float64)
    disagree = float(weight[inside[row] != inside[col]].sum()) / graph.total_volume
    rate = 0.5 * (1.0 - max(0.0, 1.0 - 2.0 * disagree) ** 0.5)
    return min(rate, MAX_ESTIMATED_FLIP_RATE)


def estimate_target_volume(graph: LocalGraph, seed: Sequence[int], inside: Optional[Tensor],
                           noise_rate: Optional[float] = None) -> float:
    r"""A target-volume estimate that needs no ground truth.

    With binary labels :math:`\ell` flipped symmetrically at rate :math:`r`, the labelled
    volume :math:`\hat v = \mathrm{vol}(\ell = 1)` has expectation
    :math:`(1 - r)\,\mathrm{vol}(C) + r\,(\mathrm{vol}(V) - \mathrm{vol}(C))`; the
    estimate inverts that: :math:`(\hat v - r\,\mathrm{vol}(V)) / (1 - 2r)`, with
    :math:`r` = ``noise_rate`` when known, else :func:`estimate_flip_rate`. Without labels,
    the volume of the seed's two-hop neighbourhood. Volumes count edges (the sink
    capacities), and the result is clamped to ``[2 * vol(seed), vol(V) / 2]``.

    Args:
        graph (LocalGraph): the graph.
        seed (Sequence[int]): the seed node(s).
        inside (torch.Tensor, optional): ``[N]`` bool noisy labels ("in target").
        noise_rate (float, optional): the flip rate, in ``[0, 0.5)``; :obj:`None` estimates
            it from the labels. (default: :obj:`None`)
    """
    graph = require_graph(graph)
    seed = _seed_list(graph, seed)
    noise_rate = _check_noise_rate(noise_rate)
    if inside is None:
        first = torch.unique(torch.cat([graph.neighbors(v) for v in seed]))
        second = torch.unique(torch.cat([graph.neighbors(int(v)) for v in first] + [first]))
        return _clamp_volume(graph, seed, float(graph.edge_count[second].sum()))
    inside = check_bool_mask("inside", inside, graph.num_nodes).cpu()
    return _clamp_volume(graph, seed, _labelled_volume_estimate(graph, inside, noise_rate))


def _seed_list(graph: LocalGraph, seed: Any) -> list[int]:
    """One seed node or a non-empty sequence of them, as validated ints."""
    if isinstance(seed, Tensor):
        seed = seed.reshape(-1).tolist()  # float ids stay floats and are rejected below
    members = list(seed) if isinstance(seed, (list, tuple)) else [seed]
    if not members:
        raise ValueError("seed must hold at least one node")
    return [graph.check_node(v, "seed", allow_isolated=True) for v in members]


def _labelled_volume_estimate(graph: LocalGraph, inside: Tensor,
                              noise_rate: Optional[float]) -> float:
    """The unclamped label-based estimate of :func:`estimate_target_volume` (O(|E|): done
    once per labelling, not per query)."""
    if noise_rate is None:
        noise_rate = estimate_flip_rate(graph, inside)
    labelled = float(graph.edge_count[inside].sum())
    return (labelled - noise_rate * graph.total_edges) / (1 - 2 * noise_rate)


def _clamp_volume(graph: LocalGraph, seed: Sequence[int], volume: float) -> float:
    seed_volume = float(graph.edge_count[list(seed)].sum())
    return float(min(max(volume, 2 * seed_volume), graph.total_edges / 2))


def _check_noise_rate(noise_rate: Optional[float]) -> Optional[float]:
    """:obj:`None` or a flip rate in ``[0, 0.5)`` (at 0.5 the labels carry no information)."""
    if noise_rate is None:
        return None
    return check_real("noise_rate", noise_rate, low=0.0, high=0.5, high_open=True)


def _check_target_volume(graph: LocalGraph, spec: VolumeSpec) -> VolumeSpec:
    """:obj:`None`, a finite positive number, or a bool ``[N]`` mask of positive volume."""
    if spec is None:
        return None
    if isinstance(spec, Tensor) and spec.dim() > 0:
        mask = check_bool_mask("target_volume", spec, graph.num_nodes).cpu()
        if float(graph.edge_count[mask].sum()) <= 0:
            raise ValueError("target_volume as a mask must hold nodes with edges (its volume "
                             "is 0)")
        return mask
    return check_real("target_volume", spec, low=0.0, low_open=True)


def _group_volumes(graph: LocalGraph, spec: VolumeSpec, seed_sets: list, inside: Optional[Tensor],
                   noise_rate: Optional[float]) -> list[float]:
    """The target volume of each query of one target group (work on the labels or the mask
    is done once per group)."""
    if spec is None:
        if inside is None:
            return [estimate_target_volume(graph, s, None) for s in seed_sets]
        estimate = _labelled_volume_estimate(graph, inside, noise_rate)
        return [_clamp_volume(graph, s, estimate) for s in seed_sets]
    if isinstance(spec, Tensor):
        return [float(graph.edge_count[spec].sum())] * len(seed_sets)
    return [float(spec)] * len(seed_sets)


def local_cluster_batch(graph: Any, *, seed_nodes, labels: Optional[Tensor] = None,
                        method: str = "flow", target: Optional[int] = None,
                        weighting: str = "target", cross_weight: float = 0.05,
                        vote_rounds: int = 1, target_volume: VolumeSpec = None,
                        noise_rate: Optional[float] = None,
                        multiples: Sequence[float] = DEFAULT_MULTIPLES, eps: float = DEFAULT_EPS,
                        omega: float = DEFAULT_OMEGA, alpha: float = 0.05,
                        sink: Optional[Tensor] = None,
                        max_pushes: int = DEFAULT_MAX_PUSHES, refine: Optional[str] = None,
                        refine_delta: float = DEFAULT_DELTA, half_volume: bool = False,
                        cg_iters: int = DEFAULT_CG_ITERS, p: float = 2.0) -> list[ClusterResult]:
    r"""Local clusters around many seeds (one C++ call per target group, parallel over seeds).

    ``method="flow"``: weighted :math:`\ell_2` flow diffusion with source mass
    :math:`a \cdot \mathrm{vol}` at the seed for every multiple :math:`a` of ``multiples``
    (ascending, warm-started), a sweep cut over the potentials after each, the lowest
    conductance kept. ``method="ppr"``: ACL push with tolerances
    :math:`\varepsilon = 1/(a \cdot \mathrm{vol})` (descending, continued), sweep over
    :math:`p/d`, lowest conductance kept.

    Args:
        graph: a :class:`LocalGraph` (reuse it across calls), PyG ``Data``, ``edge_index``,
            ``EdgeIndex``, :class:`~noisygraph.sparse.Adjacency`, ``torch.sparse`` or
            ``scipy.sparse`` matrix or ``networkx`` graph; undirected, CPU.
        seed_nodes: node ids (one query each) or seed sets (lists of ids); at least one.
        labels (torch.Tensor, optional): ``[N]`` noisy labels, bool (in target) or int classes
            (target = ``target`` or each seed's own label). When given, the diffusion runs on
            the label-weighted graph. (default: :obj:`None`: ``graph.y_noisy`` when ``graph``
            is a ``Data`` that has it, as :class:`~noisygraph.noise.AddLabelNoise` sets it,
            else no labels)
        method (str): ``"flow"`` or ``"ppr"``. (default: ``"flow"``)
        target (int, optional): target class of multi-class labels; it must occur in
            ``labels``.
        weighting (str): ``"target"`` or ``"agree"`` (see :mod:`~noisygraph.cluster.weights`).
        cross_weight (float): weight of the edges the weighting shrinks, in ``(0, 1]``.
            (default: ``0.05``)
        vote_rounds (int): rounds of neighbourhood majority vote on the binary labels before
            weighting (:func:`~noisygraph.cluster.weights.vote_labels`); 0 weights by the raw
            labels, as the paper does. The volume estimate always reads the raw labels.
            (default: ``1``)
        target_volume: ``None`` (default: ground-truth-free estimate, see
            :func:`estimate_target_volume`), a finite positive number, or the true cluster as
            a bool ``[N]`` mask (the papers' protocol).
        noise_rate (float, optional): the label flip rate the volume estimate assumes;
            :obj:`None` estimates it from the labels (:func:`estimate_flip_rate`).
            (default: :obj:`None`)
        multiples (sequence): source-mass multiples / tolerance grid, finite and positive
            (taken in ascending order). (default: ``(1.5, 2, 2.5, 3, 4, 5)``)
        eps (float): flow tolerance on the excess mass, finite > 0. (default: ``DEFAULT_EPS``)
        omega (float): flow over-relaxation factor in ``(0, 2)``. (default: ``DEFAULT_OMEGA``)
        alpha (float): PageRank teleport probability in ``(0, 1]``. (default: ``0.05``)
        sink (torch.Tensor, optional): sink capacities of method ``"flow"`` (default: number
            of edges per node).
        max_pushes (int): push limit per query and level; a query that reaches it has
            :attr:`ClusterResult.hit_push_limit` set.
        refine (str, optional): ``"mqi"`` or ``"flowimprove"``: improve each sweep cut by
            max-flow (:mod:`~noisygraph.cluster.refine`; strongly local) in ``graph`` as
            given (not label-weighted), never raising its conductance there; the result's
            ``nodes`` are then the refined set and ``conductance`` its conductance in the
            diffusion's graph, see :attr:`ClusterResult.refinement`. (default: :obj:`None`)
        refine_delta (float): FlowImprove's locality :math:`\delta \ge 0`.
            (default: ``0.3``)
        half_volume (bool): restrict every sweep cut to :math:`\mathrm{vol}(S) \le
            \mathrm{vol}(V)/2` (the smaller side; :mod:`~noisygraph.cluster.restricted`:
            levels run one by one, flow levels from a cold start). (default: :obj:`False`:
            every prefix, as LocalGraphClustering's sweep)
        cg_iters (int): method ``"flow"``: iterations per conjugate-gradient round on the
            diffusion's support between rounds of pushes (see
            :func:`~noisygraph.ops.local_push.flow_diffusion`); 0 pushes only.
            (default: ``DEFAULT_CG_ITERS``)
        p (float): method ``"flow"``: the flow norm, finite and >= 2. ``2`` runs the
            :math:`\ell_2` diffusion above (``omega``, ``cg_iters`` apply); ``p > 2`` the
            p-norm flow diffusion (:func:`~noisygraph.ops.local_push.pnorm_diffusion`, closer
            to a min-cut as ``p`` grows; its coordinate solver has no over-relaxation or CG,
            so ``omega`` and ``cg_iters`` do not apply) on the same label-weighted graph,
            grid and sweep. (default: ``2.0``)

    Every option is checked (finite, in range, ``ValueError``/``TypeError`` naming it) before
    any work, whichever method runs.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    # Every option is checked once, whichever method runs, before any work.
    cross_weight = check_weighting(weighting, cross_weight)
    vote_rounds = check_int("vote_rounds", vote_rounds, low=0, high=INT64_MAX)
    noise_rate = _check_noise_rate(noise_rate)
    grid = check_levels("multiples", multiples)
    eps, omega, alpha, max_pushes = check_push_options(eps, omega, alpha, max_pushes)
    refine, refine_delta = check_refine(refine, refine_delta)
    half_volume = check_bool("half_volume", half_volume)
    cg_iters = check_int("cg_iters", cg_iters, low=0, high=INT64_MAX)
    p = check_p_norm(p)
    if p != 2.0 and method != "flow":
        raise ValueError("p applies to method='flow' only (the p-norm flow diffusion)")
    base = LocalGraph.from_graph(graph)
    if sink is not None:
        if method != "flow":
            raise ValueError("sink applies to method='flow' only (ACL PageRank has no sinks)")
        sink = resolve_sink(base, sink)
    target_volume = _check_target_volume(base, target_volume)
    sets = seed_sets(base, seed_nodes, name="seed_nodes")
    if labels is None:
        labels = getattr(graph, "y_noisy", None)
    if labels is not None:
        labels = check_labels(labels, base.num_nodes)
        target = check_target(labels, target)
    elif target is not None:
        raise ValueError("target needs labels (the class labels it is a class of)")
    # Group queries by target (multi-class labels without a fixed target: each seed's class).
    groups: dict[Optional[int], list[int]] = {}
    for q, seed_set in enumerate(sets):
        key = None
        if labels is not None and labels.dtype != torch.bool:
            key = int(target) if target is not None else int(labels[seed_set[0]])
        groups.setdefault(key, []).append(q)
    results: list[Optional[ClusterResult]] = [None] * len(sets)
    for key, queries in groups.items():
        inside = None if labels is None else target_labels(labels, base.num_nodes, key, None) \
            if key is not None else labels
        diffusion_graph = base if inside is None else label_weighted_graph(
            base, inside, weighting=weighting, cross_weight=cross_weight,
            vote_rounds=vote_rounds)
        volumes = _group_volumes(base, target_volume, [sets[q] for q in queries], inside,
                                 noise_rate)
        group_seeds = [sets[q] for q in queries]
        start = time.perf_counter()
        if half_volume:
            levels = _feasible_multiples(base, sink, volumes, grid) if method == "flow" else grid
            batch = half_volume_cluster(diffusion_graph, group_seeds, volumes, levels, method,
                                        sink, eps, omega, alpha, max_pushes, cg_iters, p)
        elif method == "flow" and p != 2.0:
            levels = _feasible_multiples(base, sink, volumes, grid)
            batch = pnorm_cluster(diffusion_graph, group_seeds, volumes, levels, p, sink, eps,
                                  max_pushes)
        elif method == "flow":
            levels = _feasible_multiples(base, sink, volumes, grid)
            batch = flow_cluster(diffusion_graph, group_seeds, volumes, levels, sink, eps,
                                 omega, max_pushes, cg_iters)
        else:
            # one tolerance grid per query: run queries with distinct volumes separately
            levels = grid
            batch = _ppr_batches(diffusion_graph, group_seeds, volumes, grid, alpha,
                                 max_pushes)
        ms = (time.perf_counter() - start) * 1e3 / len(queries)
        for i, q in enumerate(queries):
            results[q] = _result(batch, i, sets[q], ms, volumes[i], levels, method,
                                 inside is not None)
            results[q].p = p
            if refine is not None:
                refine_result(base, diffusion_graph, results[q], refine, refine_delta)
    return results  # type: ignore[return-value]


def _feasible_multiples(graph: LocalGraph, sink: Optional[Tensor], volumes: list[float],
                        grid: list[float]) -> list[float]:
    """The (checked, ascending) multiples whose source mass stays below half the graph's
    total sink capacity (a larger mass cannot settle locally: the diffusion would flood the
    graph). When even the smallest exceeds it — a target of more than a third of the graph's
    volume at the default grid — one level remains: the smallest multiple, capped at three
    quarters of the capacity (the largest mass the estimated volume, clamped to half the
    graph, reaches at the default grid). A mass of the whole capacity or more has no feasible
    flow at all: the pushes would run to ``max_pushes``."""
    capacity = graph.total_edges if sink is None else float(sink.sum())
    largest = max(volumes)
    feasible = [a for a in grid if a * largest <= capacity / 2]
    return feasible or [min(grid[0], MAX_MASS_FRACTION * capacity / largest)]


def _ppr_batches(graph: LocalGraph, seeds, volumes, multiples, alpha, max_pushes) -> ClusterBatch:
    """ACL per distinct volume (tolerances depend on it), concatenated in query order; one
    parallel call when every query shares the volume."""
    if len(set(volumes)) == 1:
        tolerances = [1.0 / (float(a) * volumes[0]) for a in multiples]
        return ppr_cluster(graph, seeds, tolerances, alpha, max_pushes)
    parts = []
    for seed_set, volume in zip(seeds, volumes):
        tolerances = [1.0 / (float(a) * volume) for a in multiples]
        parts.append(ppr_cluster(graph, [seed_set], tolerances, alpha, max_pushes))
    return _concat_batches(parts)


def _concat_batches(parts: list[ClusterBatch]) -> ClusterBatch:
    def offsets(ptrs):
        out, shift = [torch.zeros(1, dtype=torch.long)], 0
        for p in ptrs:
            out.append(p[1:] + shift)
            shift += int(p[-1])
        return torch.cat(out)
    return ClusterBatch(
        offsets([p.cluster_ptr for p in parts]), torch.cat([p.cluster_nodes for p in parts]),
        torch.cat([p.conductance for p in parts]), torch.cat([p.best_level for p in parts]),
        offsets([p.score_ptr for p in parts]), torch.cat([p.score_nodes for p in parts]),
        torch.cat([p.scores for p in parts]), torch.cat([p.work for p in parts]))


def _result(batch: ClusterBatch, i: int, seed_set, ms, volume, grid, method, weighted):
    c0, c1 = int(batch.cluster_ptr[i]), int(batch.cluster_ptr[i + 1])
    s0, s1 = int(batch.score_ptr[i]), int(batch.score_ptr[i + 1])
    level = int(batch.best_level[i])
    if level < 0:
        chosen = float("nan")
    elif method == "flow":
        chosen = grid[level]
    else:
        chosen = 1.0 / (sorted(grid)[level] * volume)
    return ClusterResult(
        seed=seed_set[0] if len(seed_set) == 1 else list(seed_set),
        nodes=torch.sort(batch.cluster_nodes[c0:c1]).values,
        conductance=float(batch.conductance[i]),
        score_nodes=batch.score_nodes[s0:s1], scores=batch.scores[s0:s1],
        work={"pushes": int(batch.work[i, 0]), "edges": int(batch.work[i, 1])},
        ms=ms, target_volume=volume, level=chosen, method=method, weighted=weighted,
        hit_push_limit=bool(batch.work[i, 2]))


def local_cluster(graph: Any, *, seed_node: Union[int, Sequence[int]],
                  labels: Optional[Tensor] = None, method: str = "flow",
                  target: Optional[int] = None, weighting: str = "target",
                  cross_weight: float = 0.05, vote_rounds: int = 1,
                  target_volume: VolumeSpec = None, noise_rate: Optional[float] = None,
                  multiples: Sequence[float] = DEFAULT_MULTIPLES, eps: float = DEFAULT_EPS,
                  omega: float = DEFAULT_OMEGA, alpha: float = 0.05,
                  sink: Optional[Tensor] = None,
                  max_pushes: int = DEFAULT_MAX_PUSHES, refine: Optional[str] = None,
                  refine_delta: float = DEFAULT_DELTA, half_volume: bool = False,
                  cg_iters: int = DEFAULT_CG_ITERS, p: float = 2.0) -> ClusterResult:
    """A local cluster around one seed node (or one seed set: a list of ids); every other
    argument as in :func:`local_cluster_batch`.

    Example:
        >>> from noisygraph.cluster import LocalGraph, local_cluster
        >>> g = LocalGraph.from_graph(data)          # once
        >>> res = local_cluster(g, seed_node=0, labels=data.y_noisy)
        >>> res.nodes, res.conductance, res.work
    """
    seeds = [list(seed_node)] if isinstance(seed_node, (list, tuple)) else [seed_node]
    return local_cluster_batch(
        graph, seed_nodes=seeds, labels=labels, method=method, target=target,
        weighting=weighting, cross_weight=cross_weight, vote_rounds=vote_rounds,
        target_volume=target_volume, noise_rate=noise_rate, multiples=multiples, eps=eps,
        omega=omega, alpha=alpha, sink=sink, max_pushes=max_pushes, refine=refine,
        refine_delta=refine_delta, half_volume=half_volume, cg_iters=cg_iters, p=p)[0]
