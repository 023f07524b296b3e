r"""Ground-truth-free node selection: propagated features, a small k-means, density-based
initial selection, label disharmonicity and entropy."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from noisygraph._validation import (check_features, check_fraction, check_int, check_node_mask,
                                    check_real)
from noisygraph.ops import spmm
from noisygraph.sparse import to_adjacency


def propagate_features(edge_index: Tensor, x: Tensor, alpha: float = 0.5,
                       num_hops: int = 2) -> Tensor:
    r"""Neighbourhood-smoothed features

    .. math::
        \mathbf{Z} = \mathbf{X} + \sum_{i=1}^{h} \alpha^{i} (\mathbf{D}^{-1}\mathbf{A})^{i}\mathbf{X}.

    Args:
        edge_index (torch.Tensor): ``[2, E]`` (both directions for an undirected graph).
        x (torch.Tensor): node features ``[N, F]``.
        alpha (float): decay per hop, in ``[0, 1]``. (default: ``0.5``)
        num_hops (int): :math:`h`. (default: ``2``)
    """
    check_features("x", x)
    check_fraction("alpha", alpha)
    check_int("num_hops", num_hops, low=0)
    walk = to_adjacency(edge_index, num_nodes=x.size(0)).normalize("row")
    out, term = x.clone(), x
    for hop in range(1, num_hops + 1):
        term = spmm(walk, term)
        out = out + alpha ** hop * term
    return out


def truncated_svd(z: Tensor, dim: int, seed: int = 0) -> Tensor:
    r"""Projection :math:`\mathbf{U}_d \boldsymbol{\Sigma}_d` of ``z`` on its top ``dim``
    right singular vectors (randomized, ``torch.svd_lowrank``; no centring, like
    scikit-learn's ``TruncatedSVD``)."""
    check_features("z", z)
    check_int("dim", dim, low=1)
    dim = min(dim, min(z.shape))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        u, s, _ = torch.svd_lowrank(z.double(), q=dim, niter=4, M=None)
    return (u * s).to(z.dtype)


def kmeans(x: Tensor, num_clusters: int, seed: int = 0, max_iter: int = 100,
           tol: float = 1e-6) -> tuple[Tensor, Tensor]:
    r"""Lloyd's k-means with k-means++ seeding.

    Args:
        x (torch.Tensor): points ``[N, d]``.
        num_clusters (int): :math:`k`, in ``[1, N]``.
        seed (int): seeds the k-means++ draws. (default: ``0``)
        max_iter (int): Lloyd iterations at most. (default: ``100``)
        tol (float): stop when centroids move less than this (squared, total).

    Returns:
        (assignment ``[N]`` long, centroids ``[k, d]``).
    """
    check_features("x", x)
    check_int("max_iter", max_iter, low=1)
    check_real("tol", tol, low=0.0)
    n = x.size(0)
    if isinstance(num_clusters, bool) or not isinstance(num_clusters, int):
        raise TypeError(f"num_clusters must be an int, got {type(num_clusters).__name__}")
    if not 1 <= num_clusters <= n:
        raise ValueError(f"num_clusters must be in [1, {n}], got {num_clusters}")
    generator = torch.Generator().manual_seed(seed)
    x = x.float()
    first = int(torch.randint(n, (1,), generator=generator))
    centroids = [x[first]]
    closest = ((x - x[first]) ** 2).sum(1)
    for _ in range(1, num_clusters):
        if float(closest.sum()) <= 0:
            choice = int(torch.randint(n, (1,), generator=generator))
        else:
            choice = int(torch.multinomial(closest, 1, generator=generator))
        centroids.append(x[choice])
        closest = torch.minimum(closest, ((x - x[choice]) ** 2).sum(1))
    centroids = torch.stack(centroids)
    assignment = torch.cdist(x, centroids).argmin(1)
    for _ in range(max_iter):
        sums = torch.zeros_like(centroids).index_add_(0, assignment, x)
        counts = torch.bincount(assignment, minlength=num_clusters).unsqueeze(1)
        updated = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        shift = float(((updated - centroids) ** 2).sum())
        centroids = updated
        assignment = torch.cdist(x, centroids).argmin(1)
        if shift <= tol:
            break
    return assignment, centroids


def density_select(z: Tensor, num_select: int, num_clusters: int, seed: int = 0,
                   exclude: Optional[Tensor] = None) -> Tensor:
    r"""Picks ``num_select`` representative nodes: k-means over ``z``, density
    :math:`\rho_i = 1 / (1 + \lVert \mathbf{z}_i - \boldsymbol{\mu}_{c(i)} \rVert)`, and in
    each cluster the densest nodes, with quotas proportional to cluster sizes (largest
    remainder), so the selection is spread across clusters.

    Args:
        z (torch.Tensor): node representations ``[N, d]``.
        num_select (int): nodes to pick, in ``[0, N]``.
        num_clusters (int): clusters of the k-means.
        seed (int): (default: ``0``)
        exclude (torch.Tensor, optional): boolean ``[N]`` of nodes not to pick.

    Returns:
        torch.Tensor: picked node ids (long), densest first within the round-robin order.
    """
    check_features("z", z)
    n = z.size(0)
    available = ~check_node_mask("exclude", exclude, n)
    check_int("num_select", num_select, low=0)
    check_int("num_clusters", num_clusters, low=1)
    if not 0 <= num_select <= int(available.sum()):
        raise ValueError(f"num_select must be in [0, {int(available.sum())}], got {num_select}")
    if num_select == 0:
        return torch.zeros(0, dtype=torch.long)
    assignment, centroids = kmeans(z, min(num_clusters, n), seed=seed)
    density = 1.0 / (1.0 + (z.float() - centroids[assignment]).norm(dim=1))
    sizes = torch.bincount(assignment[available], minlength=centroids.size(0)).double()
    quota = sizes / sizes.sum() * num_select
    counts = quota.floor().long()
    remainder = num_select - int(counts.sum())
    if remainder > 0:
        order = (quota - counts.double()).argsort(descending=True, stable=True)
        counts[order[:remainder]] += 1
    picked = []
    for cluster in range(centroids.size(0)):
        members = torch.nonzero(available & (assignment == cluster)).flatten()
        ranked = members[density[members].argsort(descending=True, stable=True)]
        picked.append(ranked[:int(counts[cluster])])
    return torch.cat(picked)


def _check_probs(probs: Tensor) -> None:
    check_features("probs", probs)
    if bool((probs < 0).any()):
        raise ValueError("probs must be non-negative (rows are class distributions)")


def entropy(probs: Tensor) -> Tensor:
    r"""Row entropy :math:`-\sum_c p_c \log p_c` (natural log)."""
    return -(probs * probs.clamp(min=1e-12).log()).sum(dim=-1)


def label_disharmonicity(edge_index: Tensor, probs: Tensor) -> Tensor:
    r"""Label disharmonicity of every node,

    .. math::
        \mathrm{LH}_i = \big\lVert \big((\mathbf{I} - \mathbf{D}^{-1}\mathbf{A})\mathbf{P}\big)_i
        \big\rVert_1,

    the :math:`\ell_1` gap between a node's predicted distribution and the mean of its
    neighbours'. An isolated node has no neighbours to agree with: :math:`\mathrm{LH}_i = 1`.
    """
    _check_probs(probs)
    walk = to_adjacency(edge_index, num_nodes=probs.size(0)).normalize("row")
    return (probs - spmm(walk, probs)).abs().sum(dim=1)


def percentile_rank(values: Tensor) -> Tensor:
    """Rank of each value in ``[0, 1]`` (0 = smallest; ties broken by position)."""
    n = values.numel()
    if n <= 1:
        return torch.zeros(n)
    ranks = torch.empty(n)
    ranks[values.argsort(stable=True)] = torch.arange(n, dtype=torch.float)
    return ranks / (n - 1)


def critical_nodes(edge_index: Tensor, probs: Tensor, candidates: Tensor, num_query: int,
                   num_pseudo: int) -> tuple[Tensor, Tensor]:
    r"""Splits candidate nodes by uncertainty :math:`u_i = \mathrm{rank}(\mathrm{LH}_i) +
    \mathrm{rank}(H(\mathbf{p}_i))` (percentile ranks among the candidates): the
    ``num_query`` most uncertain (high disharmonicity and high entropy) are to be asked to
    the annotator; the ``num_pseudo`` least uncertain (harmonious and confident) are to be
    pseudo-labelled with the model's prediction.

    Returns:
        (nodes to query, nodes to pseudo-label), disjoint, both long tensors.
    """
    _check_probs(probs)
    candidates = torch.as_tensor(candidates).flatten()
    if candidates.is_floating_point() or candidates.dtype == torch.bool:
        raise TypeError(f"candidates must hold integer node ids, got {candidates.dtype}")
    candidates = candidates.long()
    if candidates.numel() and (int(candidates.min()) < 0 or int(candidates.max()) >= probs.size(0)):
        raise ValueError(f"candidates must be node ids in [0, {probs.size(0)})")
    check_int("num_query", num_query, low=0)
    check_int("num_pseudo", num_pseudo, low=0)
    num_query = min(num_query, candidates.numel())
    num_pseudo = min(num_pseudo, candidates.numel() - num_query)
    if candidates.numel() == 0:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty
    lh = label_disharmonicity(edge_index, probs)[candidates]
    ent = entropy(probs)[candidates]
    uncertainty = percentile_rank(lh) + percentile_rank(ent)
    order = uncertainty.argsort(descending=True, stable=True)
    query = candidates[order[:num_query]]
    pseudo = candidates[order.flip(0)[:num_pseudo]] if num_pseudo else candidates[:0]
    return query, pseudo


def entropy_change_filter(labels: Tensor, confidence: Tensor, num_classes: int,
                          drop_fraction: float, weight: float = 0.5) -> Tensor:
    r"""LLM-GNN's annotation filter: keep score
    :math:`k_i = c_i - \lambda\, n\,\big(H(\text{labels} \setminus i) - H(\text{labels})\big)`,
    where :math:`c_i` is the annotator's confidence and :math:`H` the entropy of the label
    histogram; removing a node of an over-represented class raises :math:`H`, so such nodes
    are dropped first. The ``drop_fraction`` of annotations with the lowest score are removed.

    Returns:
        torch.Tensor: boolean keep-mask over the annotations.
    """
    check_fraction("drop_fraction", drop_fraction, high_open=True)
    check_real("weight", weight, low=0.0)
    check_int("num_classes", num_classes, low=1)
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.is_floating_point():
        raise TypeError("labels must be a 1-D integer tensor")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}) (num_classes)")
    if not isinstance(confidence, Tensor) or confidence.shape != labels.shape:
        raise ValueError(f"confidence must be a tensor shaped like labels {tuple(labels.shape)}")
    if not bool(torch.isfinite(confidence).all()):
        raise ValueError("confidence must be finite")
    n = labels.numel()
    keep = torch.ones(n, dtype=torch.bool)
    num_drop = int(drop_fraction * n)
    if num_drop == 0:
        return keep
    counts = torch.bincount(labels, minlength=num_classes).double()
    full = entropy((counts / n).unsqueeze(0))[0]
    without = torch.empty(num_classes, dtype=torch.double)
    for c in range(num_classes):
        reduced = counts.clone()
        reduced[c] -= 1
        without[c] = entropy((reduced.clamp(min=0) / max(n - 1, 1)).unsqueeze(0))[0] \
            if counts[c] > 0 else full
    change = (without - full)[labels] * n
    score = confidence.double() - weight * change
    keep[score.argsort(stable=True)[:num_drop]] = False
    return keep
