r"""Label-noise models: corrupt node labels in a controlled, seeded, reported way.

Kinds (:math:`r` is the noise rate, :math:`K` the number of classes):

* ``"uniform"``: a label flips with probability :math:`r`, to each other class with
  probability :math:`r/(K-1)` (``symm`` in ERASE);
* ``"pair"``: every class :math:`i` has ONE partner class :math:`\pi(i) \ne i`, drawn at random;
  a label flips to its partner with probability :math:`r` (``asymm`` in ERASE);
* ``"pair_cyclic"``: the partner is fixed, :math:`\pi(i) = i - 1 \bmod K` (NoisyGL's pair noise);
* ``"random"``: every class gets a random distribution over the other classes (uniform weights,
  normalised), scaled to total flip probability :math:`r` (NoisyGL's random noise);
* ``"instance"``: feature-dependent. Node :math:`i` flips with its own probability
  :math:`q_i \sim \mathcal{N}(r, 0.1^2)` truncated to :math:`[0, 1]`, towards the other classes
  whose feature means it resembles: :math:`P(k) \propto \exp(\cos(\mathbf{x}_i,
  \boldsymbol{\mu}_k)/\tau)` over :math:`k \ne y_i` (class means of ``x`` over all nodes). The
  truncation lifts the expected rate above :math:`r` near 0 (about 0.129 for :math:`r = 0.1`);
  use the ``"exact"`` sampler for an exact count.

Samplers:

* ``"independent"``: each node flips independently (what the papers do): the realised rate
  wanders around :math:`r`, by :math:`\sqrt{r(1-r)/n}` on :math:`n` nodes;
* ``"exact"``: exactly :math:`\mathrm{round}(r\,n)` of the :math:`n` masked nodes flip (chosen
  uniformly; for ``"instance"`` with weights :math:`q_i`); the target follows the kind;
* ``"paper"``: the draw of the ERASE release, bit for bit: legacy ``numpy.random.RandomState(seed)``;
  for ``"pair"`` the partners are drawn first (``choice`` among the other classes, class by
  class), then one ``choice(K, p=T[y_i])`` per masked node in node order (one uniform each).
  Defined for the class-conditional kinds (not ``"instance"``).

Every call reports the realised rate and the empirical transition matrix over the masked nodes.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

NOISE_KINDS = ("uniform", "pair", "pair_cyclic", "random", "instance")
NOISE_SAMPLERS = ("independent", "exact", "paper")
INSTANCE_RATE_STD = 0.1
_CHUNK = 1 << 16


class LabelNoise(NamedTuple):
    """The result of :func:`add_label_noise`.

    Attributes:
        y_noisy (torch.Tensor): ``[N]`` labels; equal to ``y`` outside the mask.
        flipped (torch.Tensor): ``[N]`` bool, ``True`` where ``y_noisy != y``.
        realised_rate (float): fraction of the masked nodes whose label changed (``0.0``
            for an empty mask).
        transition (torch.Tensor): ``[K, K]`` float64, row ``i`` = distribution of the noisy
            label among masked nodes of true class ``i`` (a zero row for an absent class).
        nominal_transition (torch.Tensor or None): ``[K, K]`` matrix the labels were drawn
            from; ``None`` for ``"instance"`` (one distribution per node).
    """

    y_noisy: Tensor
    flipped: Tensor
    realised_rate: float
    transition: Tensor
    nominal_transition: Optional[Tensor]


def _check_inputs(y, kind, rate, mask, seed, num_classes, sampler, x) -> tuple[np.ndarray, np.ndarray, int]:
    if not isinstance(y, Tensor):
        raise TypeError(f"y must be a torch.Tensor of class indices, got {type(y).__name__}")
    if y.dim() != 1:
        raise ValueError(f"y must be 1-D [N], got shape {tuple(y.shape)}")
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.dtype.is_complex:
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")
    if sampler not in NOISE_SAMPLERS:
        raise ValueError(f"sampler must be one of {NOISE_SAMPLERS}, got {sampler!r}")
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not (0.0 <= rate < 1.0):
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
    labels = y.detach().cpu().numpy().astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an int, got {num_classes!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (noise needs another class to flip to), got {num_classes}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
        raise ValueError(f"y must lie in [0, num_classes={num_classes}), found label {bad}")
    if mask is None:
        selected = np.ones(labels.shape[0], dtype=bool)
    else:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask).__name__)}")
        if mask.shape != y.shape:
            raise ValueError(f"mask must have the shape of y {tuple(y.shape)}, got {tuple(mask.shape)}")
        selected = mask.detach().cpu().numpy()
    if kind == "instance":
        if x is None:
            raise ValueError("x is required for kind='instance' (noise follows the features)")
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(0) != y.size(0):
            raise ValueError(f"x must be a [N={y.size(0)}, F] tensor, got {getattr(x, 'shape', type(x).__name__)}")
        if not torch.isfinite(x).all():
            raise ValueError("x must be finite (found NaN or inf)")
        if sampler == "paper":
            raise ValueError("sampler='paper' reproduces class-conditional draws; it has no 'instance' kind")
    return labels, selected, int(num_classes)


def _nominal(kind: str, rate: float, num_classes: int, draw_partner, draw_weights) -> Optional[np.ndarray]:
    """The class-conditional transition matrix of ``kind`` (``None`` for ``"instance"``)."""
    if kind == "instance":
        return None
    eye = np.eye(num_classes)
    if kind == "uniform":
        return eye * (1.0 - rate) + (1.0 - eye) * (rate / (num_classes - 1))
    matrix = eye * (1.0 - rate)
    for i in range(num_classes):
        if kind == "pair":
            matrix[i, draw_partner(i)] = rate
        elif kind == "pair_cyclic":
            matrix[i, (i - 1) % num_classes] = rate
        else:  # random
            weights = draw_weights(num_classes)
            weights[i] = 0.0
            matrix[i] += rate * weights / weights.sum()
    return matrix


def _draw_from_rows(rows: np.ndarray, labels: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: ``out[j]`` = first ``k`` with ``cumsum(rows[labels[j]])[k] > uniforms[j]``
    (the cdf normalised by its last entry, as ``numpy``'s ``choice`` does)."""
    out = np.empty(labels.shape[0], dtype=np.int64)
    for label in np.unique(labels):
        where = labels == label
        cdf = np.cumsum(rows[label])
        cdf /= cdf[-1]
        out[where] = np.minimum(np.searchsorted(cdf, uniforms[where], side="right"), rows.shape[1] - 1)
    return out


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    """Rows of ``matrix`` with the diagonal removed, renormalised (uniform if a row is empty)."""
    off = matrix * (1.0 - np.eye(matrix.shape[0]))
    sums = off.sum(axis=1, keepdims=True)
    empty = sums[:, 0] == 0
    off[empty] = 1.0 - np.eye(matrix.shape[0])[empty]
    return off / off.sum(axis=1, keepdims=True)


def _truncated_normal(rng: np.random.Generator, mean: float, std: float, size: int) -> np.ndarray:
    values = rng.normal(mean, std, size)
    bad = (values < 0.0) | (values > 1.0)
    while bad.any():
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < 0.0) | (values > 1.0)
    return values


def _instance_targets(
    rng: np.random.Generator, x: Tensor, labels: np.ndarray, nodes: np.ndarray, num_classes: int, temperature: float
) -> np.ndarray:
    """Noisy classes of ``nodes`` drawn towards the classes whose mean features they resemble."""
    features = x.detach().cpu().double()
    y_all = torch.from_numpy(labels)
    sums = torch.zeros(num_classes, features.size(1), dtype=torch.float64).index_add_(0, y_all, features)
    counts = torch.bincount(y_all, minlength=num_classes).clamp_min(1).unsqueeze(1)
    means = torch.nn.functional.normalize(sums / counts, dim=1)
    out = np.empty(nodes.shape[0], dtype=np.int64)
    for start in range(0, nodes.shape[0], _CHUNK):
        chunk = torch.from_numpy(nodes[start : start + _CHUNK])
        own = y_all[chunk]
        similarity = torch.nn.functional.normalize(features[chunk], dim=1) @ means.T / temperature
        similarity[torch.arange(chunk.numel()), own] = -math.inf
        probs = torch.softmax(similarity, dim=1).numpy()
        cdf = np.cumsum(probs, axis=1)
        u = rng.random(chunk.numel())[:, None] * cdf[:, -1:]
        out[start : start + _CHUNK] = np.minimum((cdf <= u).sum(axis=1), num_classes - 1)
    return out


def _empirical_transition(clean: np.ndarray, noisy: np.ndarray, num_classes: int) -> Tensor:
    counts = np.bincount(clean * num_classes + noisy, minlength=num_classes * num_classes)
    counts = counts.reshape(num_classes, num_classes).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return torch.from_numpy(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


def add_label_noise(
    y: Tensor,
    kind: str,
    rate: float,
    mask: Optional[Tensor] = None,
    seed: int = 0,
    num_classes: Optional[int] = None,
    sampler: str = "independent",
    x: Optional[Tensor] = None,
    instance_temperature: float = 0.1,
) -> LabelNoise:
    r"""Corrupt the labels ``y`` of the nodes in ``mask`` with the noise model ``kind``.

    For the class-conditional kinds the noisy label of node :math:`i` is drawn from row
    :math:`y_i` of the transition matrix :math:`T`, with :math:`T_{ii} = 1 - r` and the rest
    of the row given by the kind (see the module docstring); ``"instance"`` uses one flip
    probability and one target distribution per node.

    Args:
        y (torch.Tensor): ``[N]`` clean class indices in ``[0, K)``.
        kind (str): ``"uniform"``, ``"pair"``, ``"pair_cyclic"``, ``"random"`` or
            ``"instance"``.
        rate (float): nominal noise rate :math:`r \in [0, 1)`.
        mask (torch.Tensor, optional): ``[N]`` bool, the nodes to corrupt (e.g.
            ``data.train_mask``); the other labels are returned unchanged.
            (default: :obj:`None`, all nodes)
        seed (int, optional): random seed; the same arguments give the same labels.
            (default: :obj:`0`)
        num_classes (int, optional): :math:`K`. (default: :obj:`None`, ``y.max() + 1``)
        sampler (str, optional): ``"independent"``, ``"exact"`` or ``"paper"`` (see the
            module docstring). (default: :obj:`"independent"`)
        x (torch.Tensor, optional): ``[N, F]`` node features, required by ``"instance"``.
            (default: :obj:`None`)
        instance_temperature (float, optional): temperature :math:`\tau` of the
            similarity softmax of ``"instance"``. (default: :obj:`0.1`)

    Returns:
        LabelNoise: ``y_noisy``, ``flipped``, ``realised_rate``, ``transition`` and
        ``nominal_transition``.

    Example:
        >>> noise = add_label_noise(data.y, "pair", 0.3, mask=data.train_mask, seed=123)
        >>> noise.realised_rate, noise.transition.diagonal()
    """
    labels, selected, num_classes = _check_inputs(y, kind, rate, mask, seed, num_classes, sampler, x)
    if kind == "instance" and not (math.isfinite(instance_temperature) and instance_temperature > 0):
        raise ValueError(f"instance_temperature must be > 0, got {instance_temperature}")
    rate = float(rate)
    nodes = np.flatnonzero(selected)
    clean = labels[nodes]
    count = nodes.shape[0]

    if sampler == "paper":
        legacy = np.random.RandomState(seed)
        nominal = _nominal(
            kind, rate, num_classes,
            draw_partner=lambda i: legacy.choice(np.delete(np.arange(num_classes), i)),
            draw_weights=lambda k: legacy.rand(k),
        )
        noisy = _draw_from_rows(nominal, clean, legacy.random_sample(count))
    else:
        rng = np.random.default_rng(seed)
        nominal = _nominal(
            kind, rate, num_classes,
            draw_partner=lambda i: (i + int(rng.integers(1, num_classes))) % num_classes,
            draw_weights=lambda k: rng.random(k),
        )
        if kind == "instance":
            flip_probability = _truncated_normal(rng, rate, INSTANCE_RATE_STD, count)
        else:
            flip_probability = 1.0 - nominal[clean, clean]
        if sampler == "independent":
            flips = np.flatnonzero(rng.random(count) < flip_probability)
        else:  # exact: round(r n) distinct nodes; weighted by q_i for "instance" (Efraimidis-Spirakis)
            num_flips = int(round(rate * count))
            if kind == "instance":
                with np.errstate(divide="ignore"):
                    keys = np.log(rng.random(count)) / flip_probability
                flips = np.sort(np.argpartition(-keys, num_flips - 1)[:num_flips]) if num_flips else np.empty(0, np.int64)
            else:
                flips = np.sort(rng.choice(count, size=num_flips, replace=False))
        noisy = clean.copy()
        if kind == "instance":
            noisy[flips] = _instance_targets(rng, x, labels, nodes[flips], num_classes, instance_temperature)
        else:
            noisy[flips] = _draw_from_rows(_off_diagonal(nominal), clean[flips], rng.random(flips.shape[0]))

    y_noisy = labels.copy()
    y_noisy[nodes] = noisy
    flipped = y_noisy != labels
    return LabelNoise(
        y_noisy=torch.from_numpy(y_noisy).to(device=y.device, dtype=y.dtype),
        flipped=torch.from_numpy(flipped).to(y.device),
        realised_rate=float(flipped[nodes].mean()) if count else 0.0,
        transition=_empirical_transition(clean, noisy, num_classes),
        nominal_transition=None if nominal is None else torch.from_numpy(nominal),
    )


class AddLabelNoise(BaseTransform):
    r"""Corrupt ``data.y`` into ``data.y_noisy`` with :func:`add_label_noise`.

    Sets ``data.y_noisy`` (``[N]``; clean outside the corrupted nodes), ``data.noise_rate``
    (the realised rate, a float), ``data.noise_transition`` (the empirical ``[K, K]`` matrix),
    ``data.noise_flipped`` (``[N]`` bool) and, for the class-conditional kinds,
    ``data.noise_nominal_transition``.

    Args:
        kind (str): noise kind, see :func:`add_label_noise`.
        rate (float): nominal noise rate in ``[0, 1)``.
        on (str, optional): which nodes to corrupt: ``"train"`` (``train_mask``),
            ``"train+val"`` (``train_mask | val_mask``) or ``"all"``. (default: :obj:`"train"`)
        seed (int, optional): random seed. (default: :obj:`0`)
        sampler (str, optional): ``"independent"``, ``"exact"`` or ``"paper"``.
            (default: :obj:`"independent"`)
        num_classes (int, optional): :math:`K`. (default: :obj:`None`, ``data.num_classes``
            when set, else ``data.y.max() + 1``)
        **kwargs (optional): passed to :func:`add_label_noise` (e.g. ``instance_temperature``).
    """

    def __init__(
        self,
        kind: str,
        rate: float,
        on: str = "train",
        seed: int = 0,
        sampler: str = "independent",
        num_classes: Optional[int] = None,
        **kwargs,
    ) -> None:
        if on not in ("train", "train+val", "all"):
            raise ValueError(f"on must be 'train', 'train+val' or 'all', got {on!r}")
        if kind not in NOISE_KINDS:
            raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")
        if sampler not in NOISE_SAMPLERS:
            raise ValueError(f"sampler must be one of {NOISE_SAMPLERS}, got {sampler!r}")
        self.kind, self.rate, self.on, self.seed, self.sampler = kind, rate, on, seed, sampler
        self.num_classes, self.kwargs = num_classes, kwargs

    def forward(self, data: Data) -> Data:
        if getattr(data, "y", None) is None:
            raise ValueError("data.y is required to add label noise")
        if self.on == "all":
            mask = None
        else:
            if getattr(data, "train_mask", None) is None:
                raise ValueError(f"on={self.on!r} needs data.train_mask")
            mask = data.train_mask
            if self.on == "train+val":
                if getattr(data, "val_mask", None) is None:
                    raise ValueError("on='train+val' needs data.val_mask")
                mask = mask | data.val_mask
        num_classes = self.num_classes
        if num_classes is None and isinstance(getattr(data, "num_classes", None), int):
            num_classes = data.num_classes
        x = data.x if self.kind == "instance" else None
        noise = add_label_noise(
            data.y, self.kind, self.rate, mask=mask, seed=self.seed, num_classes=num_classes,
            sampler=self.sampler, x=x, **self.kwargs,
        )
        data.y_noisy = noise.y_noisy
        data.noise_rate = noise.realised_rate
        data.noise_transition = noise.transition
        data.noise_flipped = noise.flipped
        if noise.nominal_transition is not None:
            data.noise_nominal_transition = noise.nominal_transition
        return data

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(kind={self.kind!r}, rate={self.rate}, on={self.on!r}, "
            f"seed={self.seed}, sampler={self.sampler!r})"
        )
