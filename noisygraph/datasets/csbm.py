r"""Contextual stochastic block model (CSBM): synthetic graphs from 10^3 to 10^7 nodes.

Nodes get classes; an edge joins two nodes of the same class with probability :math:`p_{in}`
and of different classes with probability :math:`p_{out}`, independently per pair (a
stochastic block model); features are Gaussian around a class mean (the "contextual" part).

Edges are sampled in :math:`O(E)` time and memory, never :math:`O(N^2)`: for every block of
node pairs (class :math:`a` with class :math:`b`) the number of edges is drawn from its binomial
distribution, then that many distinct pairs are drawn uniformly from the block. Given the
counts, a uniform set of distinct pairs is exactly the SBM's conditional law, so the graph is an
exact SBM sample.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from tqdm.auto import tqdm

from noisygraph.datasets._graph import symmetric_sorted


# Edge keys ``row * N + col`` must fit in int64.
MAX_NODES = 2**31 - 1


def _check_int(value, label: str, low: int, high: Optional[int] = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{label} must be {bound}, got {value}")


def _check_real(value, label: str, low: float, high: Optional[float] = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{label} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{label} must be a finite number {bound}, got {value}")


def _class_sizes(num_nodes: int, num_classes: int, class_sizes: Optional[Sequence[int]]) -> np.ndarray:
    if class_sizes is None:
        sizes = np.full(num_classes, num_nodes // num_classes, dtype=np.int64)
        sizes[: num_nodes % num_classes] += 1
        return sizes
    values = list(class_sizes) if isinstance(class_sizes, (list, tuple, np.ndarray, torch.Tensor)) else None
    if values is None:
        raise TypeError(f"class_sizes must be a list of ints, got {type(class_sizes).__name__}")
    for value in values:
        if isinstance(value, torch.Tensor):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"class_sizes must hold ints, got {value!r}")
    sizes = np.array([int(value) for value in values], dtype=np.int64)
    if sizes.shape != (num_classes,):
        raise ValueError(f"class_sizes must hold num_classes={num_classes} sizes, got {len(sizes)}")
    if (sizes < 1).any() or int(sizes.sum()) != num_nodes:
        raise ValueError(f"class_sizes must be positive and sum to num_nodes={num_nodes}, got {sizes.tolist()}")
    return sizes


def _block_probabilities(
    sizes: np.ndarray, avg_degree: float, homophily: float, p_in: Optional[float], p_out: Optional[float]
) -> tuple[float, float]:
    """``(p_in, p_out)``, derived from ``avg_degree`` and ``homophily`` unless given."""
    if (p_in is None) != (p_out is None):
        raise ValueError("give both p_in and p_out, or neither (then avg_degree and homophily are used)")
    if p_in is not None:
        return float(p_in), float(p_out)
    num_nodes = int(sizes.sum())
    within_pairs = float((sizes * (sizes - 1) // 2).sum())
    cross_pairs = float(num_nodes * (num_nodes - 1) // 2) - within_pairs
    edges = num_nodes * avg_degree / 2.0
    p_in = edges * homophily / within_pairs if within_pairs else 0.0
    p_out = edges * (1.0 - homophily) / cross_pairs if cross_pairs else 0.0
    if p_in > 1.0 or p_out > 1.0:
        raise ValueError(
            f"avg_degree={avg_degree} with homophily={homophily} needs p_in={p_in:.3g}, p_out={p_out:.3g} "
            "> 1: the graph is too small for that degree"
        )
    return p_in, p_out


def _triangle_decode(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ``k`` in ``[0, n(n-1)/2)`` to the pair ``(i, j)``, ``j < i``, with ``k = i(i-1)/2 + j``."""
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * index.astype(np.float64))) / 2.0).astype(np.int64)
    # Correct the rare off-by-one of the float square root at large k.
    i -= (i * (i - 1) // 2) > index
    i += ((i + 1) * i // 2) <= index
    return i, index - i * (i - 1) // 2


def _sample_block(rng: np.random.Generator, num_pairs: int, probability: float) -> np.ndarray:
    count = int(rng.binomial(num_pairs, probability)) if num_pairs else 0
    if count == 0:
        return np.empty(0, dtype=np.int64)
    return rng.choice(num_pairs, size=count, replace=False, shuffle=False)


def _split_masks(rng: np.random.Generator, y: np.ndarray, num_classes: int, train_per_class: int, num_val: int, num_test: int):
    num_nodes = y.shape[0]
    order = rng.permutation(num_nodes)
    train = np.zeros(num_nodes, dtype=bool)
    for label in range(num_classes):
        members = order[y[order] == label]
        if members.shape[0] < train_per_class:
            raise ValueError(
                f"train_per_class={train_per_class} exceeds the {members.shape[0]} nodes of class {label}"
            )
        train[members[:train_per_class]] = True
    rest = order[~train[order]]
    if num_val + num_test > rest.shape[0]:
        raise ValueError(
            f"num_val={num_val} + num_test={num_test} exceed the {rest.shape[0]} nodes left after training nodes"
        )
    val = np.zeros(num_nodes, dtype=bool)
    test = np.zeros(num_nodes, dtype=bool)
    val[rest[:num_val]] = True
    test[rest[num_val : num_val + num_test]] = True
    return torch.from_numpy(train), torch.from_numpy(val), torch.from_numpy(test)


def csbm(
    num_nodes: int,
    num_classes: int = 5,
    avg_degree: float = 10.0,
    homophily: float = 0.8,
    num_features: int = 64,
    feature_signal: float = 1.0,
    class_sizes: Optional[Sequence[int]] = None,
    seed: int = 0,
    train_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
    p_in: Optional[float] = None,
    p_out: Optional[float] = None,
    verbose: Optional[bool] = None,
) -> Data:
    r"""Sample a contextual stochastic block model graph.

    Node :math:`i` of class :math:`y_i` gets features

    .. math::
        \mathbf{x}_i = s\,\boldsymbol{\mu}_{y_i} + \boldsymbol{\varepsilon}_i, \qquad
        \boldsymbol{\varepsilon}_i \sim \mathcal{N}(\mathbf{0}, \mathbf{I}/F),

    with class means :math:`\boldsymbol{\mu}_c` drawn uniformly on the unit sphere of
    :math:`\mathbb{R}^F` and :math:`s` = ``feature_signal`` (so signal and noise norms are
    :math:`s` and about 1). Each pair of nodes is an edge independently with probability
    :math:`p_{in}` (same class) or :math:`p_{out}` (different classes). By default these are set
    so that the expected degree is ``avg_degree`` and a fraction ``homophily`` of the edges lies
    within classes:

    .. math::
        p_{in} = \frac{h\,N d / 2}{\sum_c \binom{n_c}{2}}, \qquad
        p_{out} = \frac{(1-h)\,N d / 2}{\binom{N}{2} - \sum_c \binom{n_c}{2}}.

    Classes are assigned to node ids in random order. Sampling costs :math:`O(N F + E \log E)`;
    see ``docs/data.md`` for timings at :math:`10^6` and :math:`10^7` nodes.

    Args:
        num_nodes (int): number of nodes :math:`N` (at least ``num_classes``).
        num_classes (int, optional): number of classes :math:`K \ge 2`. (default: :obj:`5`)
        avg_degree (float, optional): expected degree :math:`d`. (default: :obj:`10.0`)
        homophily (float, optional): expected fraction :math:`h` of within-class edges, in
            :math:`[0, 1]`. (default: :obj:`0.8`)
        num_features (int, optional): feature dimension :math:`F`; ``0`` makes a graph without
            ``x`` (saves memory at scale). (default: :obj:`64`)
        feature_signal (float, optional): norm :math:`s \ge 0` of the class means.
            (default: :obj:`1.0`)
        class_sizes (sequence of int, optional): nodes per class, summing to ``num_nodes``.
            (default: :obj:`None`, balanced)
        seed (int, optional): random seed; the same seed gives the same graph.
            (default: :obj:`0`)
        train_per_class (int, optional): training nodes per class. (default: :obj:`20`)
        num_val (int, optional): validation nodes. (default: :obj:`500`)
        num_test (int, optional): test nodes. (default: :obj:`1000`)
        p_in (float, optional): within-class edge probability; give with ``p_out`` to replace
            ``avg_degree`` and ``homophily``. (default: :obj:`None`)
        p_out (float, optional): between-class edge probability. (default: :obj:`None`)
        verbose (bool, optional): show a tqdm progress bar. (default: :obj:`None`, only for
            graphs of at least 10^6 nodes)

    Returns:
        torch_geometric.data.Data: ``x`` (float32, unless ``num_features=0``), ``edge_index``
        (both directions, sorted, no duplicates or self-loops), ``y``, ``train_mask``,
        ``val_mask``, ``test_mask``, ``num_classes``, ``p_in``, ``p_out``.

    Raises:
        TypeError: a count that is not an int, a rate or degree that is not a real number,
            ``class_sizes`` not a list of ints, ``verbose`` not a bool.
        ValueError: a value out of range (each message names its argument): ``num_nodes`` in
            ``[num_classes, 2^31 - 1]``, ``num_classes >= 2``, ``num_features``,
            ``train_per_class``, ``num_val``, ``num_test``, ``seed >= 0``, finite
            ``avg_degree >= 0`` and ``feature_signal >= 0``, ``homophily``, ``p_in``, ``p_out``
            in ``[0, 1]``, only one of ``p_in``/``p_out``, ``class_sizes`` not summing to
            ``num_nodes``, a degree the graph is too small for, or splits larger than the graph.
    """
    _check_int(num_nodes, "num_nodes", 1, MAX_NODES)
    _check_int(num_classes, "num_classes", 2)
    if num_nodes < num_classes:
        raise ValueError(f"num_nodes must be >= num_classes={num_classes}, got {num_nodes}")
    _check_int(num_features, "num_features", 0)
    _check_real(avg_degree, "avg_degree", 0.0)
    _check_real(homophily, "homophily", 0.0, 1.0)
    _check_real(feature_signal, "feature_signal", 0.0)
    _check_int(seed, "seed", 0)
    for label, value in (("train_per_class", train_per_class), ("num_val", num_val), ("num_test", num_test)):
        _check_int(value, label, 0)
    for label, value in (("p_in", p_in), ("p_out", p_out)):
        if value is not None:
            _check_real(value, label, 0.0, 1.0)
    if verbose is not None and not isinstance(verbose, bool):
        raise TypeError(f"verbose must be a bool or None, got {type(verbose).__name__}")

    rng = np.random.default_rng(seed)
    sizes = _class_sizes(num_nodes, num_classes, class_sizes)
    p_in, p_out = _block_probabilities(sizes, avg_degree, homophily, p_in, p_out)

    y = np.repeat(np.arange(num_classes, dtype=np.int64), sizes)[rng.permutation(num_nodes)]
    order = np.argsort(y, kind="stable")  # node ids grouped by class
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    show = num_nodes >= 1_000_000 if verbose is None else bool(verbose)
    progress = tqdm(total=num_classes * (num_classes + 1) // 2 + 2, desc="csbm", disable=not show)
    rows, cols = [], []
    for a in range(num_classes):
        members_a = order[starts[a] : starts[a] + sizes[a]]
        size_a = int(sizes[a])
        pairs = _sample_block(rng, size_a * (size_a - 1) // 2, p_in)
        i, j = _triangle_decode(pairs)
        rows.append(members_a[i])
        cols.append(members_a[j])
        progress.update()
        for b in range(a + 1, num_classes):
            members_b = order[starts[b] : starts[b] + sizes[b]]
            pairs = _sample_block(rng, size_a * int(sizes[b]), p_out)
            rows.append(members_a[pairs // sizes[b]])
            cols.append(members_b[pairs % sizes[b]])
            progress.update()
    row = torch.from_numpy(np.concatenate(rows))
    col = torch.from_numpy(np.concatenate(cols))
    del rows, cols
    progress.set_postfix_str("sorting edges")
    edge_index = symmetric_sorted(row, col, num_nodes)
    del row, col
    progress.update()
    progress.set_postfix_str("features")

    data = Data(edge_index=edge_index, y=torch.from_numpy(y), num_nodes=num_nodes)
    if num_features > 0:
        means = rng.standard_normal((num_classes, num_features))
        means *= feature_signal / np.linalg.norm(means, axis=1, keepdims=True)
        means = torch.from_numpy(means.astype(np.float32))
        # torch's vectorised normal sampler is several times faster than numpy's at 10^8 values
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        x = torch.randn(num_nodes, num_features, generator=generator)
        x.mul_(1.0 / math.sqrt(num_features))
        labels = data.y
        for start in range(0, num_nodes, 1 << 20):  # chunks: no second N x F buffer
            x[start : start + (1 << 20)] += means[labels[start : start + (1 << 20)]]
        data.x = x
    progress.update()
    progress.close()
    data.train_mask, data.val_mask, data.test_mask = _split_masks(
        rng, y, num_classes, train_per_class, num_val, num_test
    )
    data.num_classes = num_classes
    data.p_in, data.p_out = p_in, p_out
    return data
