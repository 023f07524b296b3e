r"""The sweep profile: the volume, cut and conductance of every prefix of a score ordering,
vectorised (PyTorch), strongly local (work: the volume of the scored nodes).

:func:`~noisygraph.ops.local_push.sweep_cut` uses it when the sweep is restricted to
:math:`\mathrm{vol}(S) \le` ``max_volume``; :func:`~noisygraph.cluster.ncp.ncp` reads every
prefix of it.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class SweepProfile(NamedTuple):
    """Prefixes of one sweep: ``order[:k + 1]`` has volume ``volume[k]``, cut ``cut[k]`` and
    conductance ``conductance[k]`` (NaN where :math:`\\min(\\mathrm{vol}(S),
    \\mathrm{vol}(\\bar S)) \\le 0`); ``edges``: adjacency entries read."""
    order: Tensor
    volume: Tensor
    cut: Tensor
    conductance: Tensor
    edges: int


def gather_rows(graph, nodes: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The adjacency of ``nodes`` (int64 ids), vectorised: for every entry of their rows, the
    row's position in ``nodes``, the neighbour and the weight (float64). Work: their volume
    in entries, nothing of size N."""
    start, stop = graph.rowptr[nodes], graph.rowptr[nodes + 1]
    counts = stop - start
    owner = torch.repeat_interleave(torch.arange(nodes.numel()), counts)
    first = torch.cumsum(counts, 0) - counts
    position = torch.arange(int(counts.sum())) - first[owner] + start[owner]
    weight = (torch.ones(position.numel(), dtype=torch.float64) if graph.value is None
              else graph.value[position])
    return owner, graph.col[position], weight


def sweep_profile(graph, nodes: Tensor, scores: Tensor, normalize: bool = False) -> SweepProfile:
    r"""The sweep over the nodes of positive score (a node listed twice keeps its largest
    score), sorted by score (divided by the weighted degree when ``normalize``), ties by node
    id, as :func:`~noisygraph.ops.local_push.sweep_cut` orders them. Adding :math:`v` to the
    prefix :math:`S` changes the cut by :math:`d(v) - w(v, v) - 2\,w(v, S)`.

    Args:
        graph (LocalGraph): the graph (checked by the caller).
        nodes (torch.Tensor): int64 node ids ``[k]`` (checked by the caller).
        scores (torch.Tensor): float64 scores ``[k]``.
        normalize (bool): divide the scores by the weighted degree.
    """
    keep = scores > 0
    ids, inverse = torch.unique(nodes[keep], return_inverse=True)  # sorted ids
    if ids.numel() == 0:
        empty = torch.zeros(0, dtype=torch.float64)
        return SweepProfile(ids, empty, empty, empty, 0)
    best = torch.full((ids.numel(),), -torch.inf, dtype=torch.float64).scatter_reduce(
        0, inverse, scores[keep].to(torch.float64), reduce="amax")
    degree = graph.degree[ids]
    key = torch.where(degree > 0, best / degree, best) if normalize else best
    order = ids[torch.sort(-key, stable=True).indices]  # ids ascending: ties by id
    owner, neighbour, weight = gather_rows(graph, order)
    total = owner.numel()
    # rank of every neighbour in the order (order.numel() for nodes outside the sweep)
    rank_of_id = torch.empty(ids.numel(), dtype=torch.long)
    rank_of_id[torch.searchsorted(ids, order)] = torch.arange(order.numel())
    slot = torch.searchsorted(ids, neighbour).clamp(max=ids.numel() - 1)
    found = ids[slot] == neighbour
    rank = torch.where(found, rank_of_id[slot], torch.full_like(neighbour, order.numel()))
    earlier = torch.zeros(order.numel(), dtype=torch.float64).index_add_(
        0, owner, torch.where(rank < owner, weight, 0.0))
    loops = torch.zeros(order.numel(), dtype=torch.float64).index_add_(
        0, owner, torch.where(rank == owner, weight, 0.0))
    d = graph.degree[order]
    volume = torch.cumsum(d, 0)
    cut = torch.cumsum(d - loops - 2 * earlier, 0).clamp(min=0.0)
    smaller = torch.minimum(volume, graph.total_volume - volume)
    positive = smaller > 1e-12 * graph.total_volume  # the whole graph, up to rounding: none
    conductance = torch.where(positive, cut / smaller.clamp(min=1e-300),
                              torch.full_like(cut, torch.nan))
    return SweepProfile(order, volume, cut, conductance, total)


def best_prefix(profile: SweepProfile, max_volume: float = float("inf")) -> tuple[Tensor, float]:
    """The prefix of least conductance among those of volume at most ``max_volume`` (the
    first on ties; an empty set and NaN when there is none)."""
    phi = torch.where(profile.volume <= max_volume, profile.conductance,
                      torch.full_like(profile.conductance, torch.nan))
    valid = ~torch.isnan(phi)
    if not bool(valid.any()):
        return profile.order[:0], float("nan")
    phi = torch.where(valid, phi, torch.full_like(phi, torch.inf))
    k = int(torch.argmin(phi))
    return profile.order[:k + 1], float(phi[k])


def restricted_sweep_cut(graph, ptr: Tensor, nodes: Tensor, scores: Tensor, normalize: bool,
                         max_volume: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`~noisygraph.ops.local_push.sweep_cut`'s outputs ``(ptr, nodes, conductance,
    work)`` with the prefixes restricted to volume at most ``max_volume`` (checked input)."""
    blocks, phis, works = [], [], []
    for q in range(ptr.numel() - 1):
        a, b = int(ptr[q]), int(ptr[q + 1])
        profile = sweep_profile(graph, nodes[a:b], scores[a:b], normalize)
        members, phi = best_prefix(profile, max_volume)
        blocks.append(members)
        phis.append(phi)
        works.append((0, profile.edges))
    sizes = torch.tensor([0] + [m.numel() for m in blocks], dtype=torch.long)
    return (torch.cumsum(sizes, 0), torch.cat(blocks) if blocks else sizes[:0],
            torch.tensor(phis, dtype=torch.float64),
            torch.tensor(works, dtype=torch.long).reshape(-1, 2))
