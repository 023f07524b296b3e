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
  use the ``"exact"`` sampler for an exact count;
* ``"instance_noisygl"``: NoisyGL's instance-dependent noise (Wang et al., "NoisyGL: A
  Comprehensive Benchmark for Graph Neural Networks under Label Noise", NeurIPS 2024 Datasets
  and Benchmarks, https://github.com/eaglelab-zju/NoisyGL, ``utils/labelnoise.py``; after Xia et
  al., "Part-dependent Label Noise", NeurIPS 2020): a random projection
  :math:`\mathbf{W} \in \mathbb{R}^{K \times F \times K}` with standard normal entries is
  drawn once; node :math:`i` flips with :math:`q_i \sim \mathcal{N}(r, 0.1^2)` truncated to
  :math:`[0, 1]`, to class :math:`k \ne y_i` with probability
  :math:`\mathrm{softmax}_{k \ne y_i}(\mathbf{x}_i^\top \mathbf{W}_{y_i})`, on the raw
  features as the release does (re-implemented here, vectorised per class; same distribution,
  not the release's random stream). As for ``"instance"``, the truncation lifts the expected
  rate above :math:`r` near 0 (about 0.080 at :math:`r = 0`, so even a nominal rate of 0 flips
  labels, and 0.129 at :math:`r = 0.1`); the ``"exact"`` sampler flips exactly
  :math:`\mathrm{round}(r\,n)`, none at 0;
* ``"annotator"``: the wrong labels come from an annotator, as BeGIN does with LLMs (Kim et
  al., "Delving into Instance-Dependent Label Noise in Graph Data: A Comprehensive Study and
  Benchmark", KDD 2025, https://arxiv.org/abs/2506.12468): given the annotator's class
  probabilities :math:`\mathbf{p}_i` (``annotator_probs``, e.g.
  :func:`noisygraph.bench.annotator_probabilities`, the offline embedding annotator on a text
  graph), node :math:`i` flips with probability
  :math:`q_i = \min(1, r\,e_i / \bar{e})` where :math:`e_i = 1 - p_{i, y_i}` is the
  annotator's chance of erring (nodes it finds ambiguous flip first), to class
  :math:`k \ne y_i` with probability :math:`\propto p_{ik}` (the annotator's wrong answers).
  The clipping at 1 lowers the expected rate below :math:`r` when errors concentrate; the
  ``"exact"`` sampler (weights :math:`q_i`) gives the exact count.

Samplers:

* ``"independent"``: each node flips independently (what the papers do): the realised rate
  wanders around :math:`r`, by :math:`\sqrt{r(1-r)/n}` on :math:`n` nodes;
* ``"exact"``: exactly :math:`\mathrm{round}(r\,n)` of the :math:`n` masked nodes flip (chosen
  uniformly; for the per-node kinds with weights :math:`q_i`); the target follows the kind;
* ``"paper"``: the draw of the ERASE release, bit for bit: legacy ``numpy.random.RandomState(seed)``;
  for ``"pair"`` the partners are drawn first (``choice`` among the other classes, class by
  class), then one ``choice(K, p=T[y_i])`` per masked node in node order (one uniform each).
  Defined for the class-conditional kinds (not the per-node ``"instance"``,
  ``"instance_noisygl"``, ``"annotator"``).

One noise model, several node sets: :class:`LabelNoiseModel` draws the transition (pair
partners, random rows) once and samples it on any mask, continuing one random stream, so
training and validation labels can follow the same model (:func:`add_label_noise` is one such
sample). Every sample reports the realised rate and the empirical transition matrix over the
masked nodes, and the mask it corrupted.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from noisygraph._validation import (check_bool_mask, check_choice, check_class_labels,
                                    check_fraction, check_int, check_probabilities,
                                    check_real)
from noisygraph_cli.choices import NOISE_KINDS, NOISE_SAMPLERS, PER_NODE_NOISE_KINDS  # defined once, torch-free

INSTANCE_RATE_STD = 0.1
SEED_MAX = 2**32 - 1  # numpy.random.RandomState's seeds (the "paper" sampler)
#: Kinds whose flips follow the node features ``x``.
FEATURE_NOISE_KINDS = ("instance", "instance_noisygl")
_CHUNK = 1 << 16


class LabelNoise(NamedTuple):
    """The result of :meth:`LabelNoiseModel.sample` and :func:`add_label_noise`.

    Attributes:
        y_noisy (torch.Tensor): ``[N]`` labels; equal to ``y`` outside the mask.
        flipped (torch.Tensor): ``[N]`` bool, ``True`` where ``y_noisy != y``.
        realised_rate (float): fraction of the masked nodes whose label changed (``0.0``
            for an empty mask).
        transition (torch.Tensor): ``[K, K]`` float64, row ``i`` = distribution of the noisy
            label among masked nodes of true class ``i`` (a zero row for an absent class).
        nominal_transition (torch.Tensor or None): ``[K, K]`` matrix the labels were drawn
            from; ``None`` for ``"instance"`` (one distribution per node).
        mask (torch.Tensor or None): ``[N]`` bool, the nodes whose labels were drawn from the
            noise model (whether or not they flipped): the record a trainer reads to know
            which labels are noisy. (default: :obj:`None`)
    """

    y_noisy: Tensor
    flipped: Tensor
    realised_rate: float
    transition: Tensor
    nominal_transition: Optional[Tensor]
    mask: Optional[Tensor] = None


def _labels(y) -> np.ndarray:
    """``y`` (checked by :func:`~noisygraph._validation.check_class_labels`) as int64 NumPy."""
    if isinstance(y, Data):
        raise TypeError("y must be a torch.Tensor of class indices, got a Data: pass data.y, or "
                        "use AddLabelNoise(...)(data) to set data.y_noisy")
    return check_class_labels("y", y).detach().cpu().numpy().astype(np.int64)


def _mask_array(mask, y: Tensor, name: str = "mask") -> np.ndarray:
    """``mask`` (:obj:`None`: every node) as a bool NumPy array, one entry per label."""
    if mask is None:
        return np.ones(y.shape[0], dtype=bool)
    return check_bool_mask(name, mask, y.shape[0]).detach().cpu().numpy()


def _num_classes(num_classes) -> int:
    return check_int("num_classes", num_classes, low=2)  # another class to flip to


def _nominal(kind: str, rate: float, num_classes: int, draw_partner, draw_weights) -> Optional[np.ndarray]:
    """The class-conditional transition matrix of ``kind`` (``None`` for ``"instance"``)."""
    if kind in PER_NODE_NOISE_KINDS:
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


def _class_means(features: Tensor, labels: np.ndarray, num_classes: int) -> Tensor:
    """L2-normalised mean feature vector of every class (a zero row for an absent class)."""
    y_all = torch.from_numpy(labels)
    sums = torch.zeros(num_classes, features.size(1), dtype=torch.float64).index_add_(0, y_all, features)
    counts = torch.bincount(y_all, minlength=num_classes).clamp_min(1).unsqueeze(1)
    return torch.nn.functional.normalize(sums / counts, dim=1)


def _instance_targets(
    rng: np.random.Generator, features: Tensor, means: Tensor, labels: np.ndarray, nodes: np.ndarray,
    num_classes: int, temperature: float,
) -> np.ndarray:
    """Noisy classes of ``nodes`` drawn towards the classes whose mean features they resemble."""
    y_all = torch.from_numpy(labels)
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


def _draw_off_label(rng: np.random.Generator, logits: np.ndarray, own: np.ndarray,
                    num_classes: int) -> np.ndarray:
    """One class per row of ``logits`` (log-weights), never the row's own class ``own``."""
    logits = logits.copy()
    logits[np.arange(own.shape[0]), own] = -np.inf
    empty = ~np.isfinite(logits).any(axis=1)  # no weight off the own class: uniform over the others
    logits[empty] = 0.0
    logits[np.flatnonzero(empty), own[empty]] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(logits), axis=1)
    u = rng.random(own.shape[0])[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), num_classes - 1)


def _noisygl_targets(rng: np.random.Generator, features: Tensor, projection: Tensor,
                     labels: np.ndarray, nodes: np.ndarray, num_classes: int) -> np.ndarray:
    """Noisy classes of ``nodes`` under NoisyGL's projection: ``softmax(x_i W[y_i])`` off ``y_i``."""
    own = labels[nodes]
    logits = np.empty((nodes.shape[0], num_classes))
    for label in np.unique(own):
        where = own == label
        logits[where] = (features[torch.from_numpy(nodes[where])] @ projection[label]).numpy()
    return _draw_off_label(rng, logits, own, num_classes)


def _empirical_transition(clean: np.ndarray, noisy: np.ndarray, num_classes: int) -> Tensor:
    counts = np.bincount(clean * num_classes + noisy, minlength=num_classes * num_classes)
    counts = counts.reshape(num_classes, num_classes).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return torch.from_numpy(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


class LabelNoiseModel:
    r"""One label-noise model: its transition is drawn once, then sampled on any node sets.

    The class-conditional transition :math:`T` (the pair partners :math:`\pi(i)` of
    ``"pair"``, the random rows of ``"random"``) is drawn when the model is built; for
    ``"instance"`` the class feature means are fixed at the first :meth:`sample` (from the
    ``y`` it receives, over all nodes). Every :meth:`sample` then draws the noisy labels of
    its mask from that same transition, continuing one random stream: the first call
    gives exactly the labels of :func:`add_label_noise` with the same arguments, and later
    calls (e.g. on the validation nodes) follow the same noise model with fresh,
    independent draws. This is what a ``noisy-val`` protocol needs: training and validation
    labels corrupted by *one* noise model, the training labels identical to those of a
    protocol that corrupts only the training nodes.

    With ``sampler="paper"`` the stream is the ERASE release's legacy
    ``numpy.random.RandomState(seed)``: the partners first, then one uniform per masked node
    in node order, call after call. A second call therefore continues the release's draw
    with the same partners; where the training nodes precede the validation nodes (the
    Planetoid splits), sampling the training mask and then the validation mask gives the
    labels the release's draw would give on train ∪ val in node order.

    Args:
        kind (str): ``"uniform"``, ``"pair"``, ``"pair_cyclic"``, ``"random"`` or
            ``"instance"`` (see the module docstring).
        rate (float): nominal noise rate :math:`r \in [0, 1]`.
        num_classes (int): :math:`K \ge 2`.
        seed (int, optional): random seed in :math:`[0, 2^{32})`. (default: :obj:`0`)
        sampler (str, optional): ``"independent"``, ``"exact"`` or ``"paper"``.
            (default: :obj:`"independent"`)
        x (torch.Tensor, optional): ``[N, F]`` finite node features, required by
            ``"instance"`` (ignored otherwise). (default: :obj:`None`)
        instance_temperature (float, optional): temperature :math:`\tau > 0` of the
            similarity softmax of ``"instance"``. (default: :obj:`0.1`)
        annotator_probs (torch.Tensor, optional): ``[N, K]`` class probabilities of an
            annotator (rows summing to 1), required by ``"annotator"``. (default: :obj:`None`)

    Attributes:
        transition (torch.Tensor or None): the nominal ``[K, K]`` float64 transition
            (``None`` for ``"instance"``).

    Example:
        >>> model = LabelNoiseModel("pair", 0.3, data.num_classes, seed=123)
        >>> train = model.sample(data.y, data.train_mask)   # = add_label_noise(..., seed=123)
        >>> val = model.sample(data.y, data.val_mask)       # same partners, fresh draws
    """

    def __init__(
        self,
        kind: str,
        rate: float,
        num_classes: int,
        seed: int = 0,
        sampler: str = "independent",
        x: Optional[Tensor] = None,
        instance_temperature: float = 0.1,
        annotator_probs: Optional[Tensor] = None,
    ) -> None:
        self.kind = check_choice("kind", kind, NOISE_KINDS)
        self.sampler = check_choice("sampler", sampler, NOISE_SAMPLERS)
        self.rate = check_fraction("rate", rate)
        self.seed = check_int("seed", seed, low=0, high=SEED_MAX)
        self.num_classes = _num_classes(num_classes)
        self.instance_temperature = check_real("instance_temperature", instance_temperature, low=0.0,
                                               low_open=True)
        self._features: Optional[Tensor] = None
        self._means: Optional[Tensor] = None
        self._projection: Optional[Tensor] = None
        self._annotator: Optional[Tensor] = None
        if kind in PER_NODE_NOISE_KINDS and sampler == "paper":
            raise ValueError(f"sampler='paper' reproduces class-conditional draws; it has no {kind!r} kind")
        if kind == "annotator":
            if annotator_probs is None:
                raise ValueError("annotator_probs is required for kind='annotator' (the wrong labels "
                                 "come from the annotator), e.g. noisygraph.bench.annotator_probabilities(data)")
            self._annotator = check_probabilities("annotator_probs", annotator_probs, self.num_classes)
        if kind in FEATURE_NOISE_KINDS:
            if x is None:
                raise ValueError(f"x is required for kind={kind!r} (noise follows the features)")
            if not isinstance(x, Tensor) or x.dim() != 2 or x.dtype.is_complex:
                raise ValueError(f"x must be a real [N, F] tensor, got {getattr(x, 'shape', type(x).__name__)}")
            if not torch.isfinite(x).all():
                raise ValueError("x must be finite (found NaN or inf)")
            self._features = x.detach().cpu().double()
        K = self.num_classes
        if sampler == "paper":
            self._legacy = np.random.RandomState(self.seed)
            nominal = _nominal(
                kind, self.rate, K,
                draw_partner=lambda i: self._legacy.choice(np.delete(np.arange(K), i)),
                draw_weights=lambda k: self._legacy.rand(k),
            )
        else:
            self._rng = np.random.default_rng(self.seed)
            nominal = _nominal(
                kind, self.rate, K,
                draw_partner=lambda i: (i + int(self._rng.integers(1, K))) % K,
                draw_weights=lambda k: self._rng.random(k),
            )
        if kind == "instance_noisygl":  # NoisyGL's W: [K, F, K] standard normal, drawn once
            self._projection = torch.from_numpy(
                self._rng.standard_normal((K, self._features.size(1), K)))
        self._nominal = nominal
        self.transition: Optional[Tensor] = None if nominal is None else torch.from_numpy(nominal)

    def _check_y(self, y) -> np.ndarray:
        labels = _labels(y)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
            raise ValueError(f"y must lie in [0, num_classes={self.num_classes}), found label {bad}")
        if self._features is not None and self._features.size(0) != labels.shape[0]:
            raise ValueError(f"x must be a [N={labels.shape[0]}, F] tensor, got {tuple(self._features.shape)}")
        if self._annotator is not None and self._annotator.size(0) != labels.shape[0]:
            raise ValueError(f"annotator_probs must have N={labels.shape[0]} rows, got {self._annotator.size(0)}")
        return labels

    def _draw(self, labels: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Noisy labels of ``nodes`` (the next draws of the model's stream)."""
        clean = labels[nodes]
        count = nodes.shape[0]
        if self.sampler == "paper":
            return _draw_from_rows(self._nominal, clean, self._legacy.random_sample(count))
        rng = self._rng
        if self.kind == "instance" and self._means is None:
            self._means = _class_means(self._features, labels, self.num_classes)
        if self.kind in FEATURE_NOISE_KINDS:
            flip_probability = _truncated_normal(rng, self.rate, INSTANCE_RATE_STD, count)
        elif self.kind == "annotator":
            error = 1.0 - self._annotator[torch.from_numpy(nodes), torch.from_numpy(clean)].numpy()
            mean = error.mean() if count else 0.0
            flip_probability = (np.minimum(1.0, self.rate * error / mean) if mean > 0
                                else np.full(count, self.rate))
        else:
            flip_probability = 1.0 - self._nominal[clean, clean]
        if self.sampler == "independent":
            flips = np.flatnonzero(rng.random(count) < flip_probability)
        else:  # exact: round(r n) distinct nodes; weighted by q_i for "instance" (Efraimidis-Spirakis)
            num_flips = int(round(self.rate * count))
            if self.kind in PER_NODE_NOISE_KINDS:
                with np.errstate(divide="ignore"):
                    keys = np.log(rng.random(count)) / flip_probability
                flips = np.sort(np.argpartition(-keys, num_flips - 1)[:num_flips]) if num_flips else np.empty(0, np.int64)
            else:
                flips = np.sort(rng.choice(count, size=num_flips, replace=False))
        noisy = clean.copy()
        if self.kind == "instance":
            noisy[flips] = _instance_targets(
                rng, self._features, self._means, labels, nodes[flips], self.num_classes, self.instance_temperature
            )
        elif self.kind == "instance_noisygl":
            noisy[flips] = _noisygl_targets(rng, self._features, self._projection, labels, nodes[flips],
                                            self.num_classes)
        elif self.kind == "annotator":
            with np.errstate(divide="ignore"):
                logits = np.log(self._annotator[torch.from_numpy(nodes[flips])].numpy())
            noisy[flips] = _draw_off_label(rng, logits, clean[flips], self.num_classes)
        else:
            noisy[flips] = _draw_from_rows(_off_diagonal(self._nominal), clean[flips], rng.random(flips.shape[0]))
        return noisy

    def _result(self, y: Tensor, labels: np.ndarray, y_noisy: np.ndarray, selected: np.ndarray) -> LabelNoise:
        nodes = np.flatnonzero(selected)
        flipped = y_noisy != labels
        return LabelNoise(
            y_noisy=torch.from_numpy(y_noisy).to(device=y.device, dtype=y.dtype),
            flipped=torch.from_numpy(flipped).to(y.device),
            realised_rate=float(flipped[nodes].mean()) if nodes.size else 0.0,
            transition=_empirical_transition(labels[nodes], y_noisy[nodes], self.num_classes),
            nominal_transition=self.transition,
            mask=torch.from_numpy(selected.copy()).to(y.device),
        )

    def sample(self, y: Tensor, mask: Optional[Tensor] = None) -> LabelNoise:
        r"""Draws noisy labels for the nodes of ``mask`` (continuing the model's stream).

        Args:
            y (torch.Tensor): ``[N]`` clean class indices in ``[0, K)``.
            mask (torch.Tensor, optional): ``[N]`` bool, the nodes to corrupt; the other
                labels are returned unchanged. (default: :obj:`None`, all nodes)

        Returns:
            LabelNoise: the noisy labels, what flipped, the realised rate and the empirical
            transition over the masked nodes, the nominal transition, and ``mask``.
        """
        labels = self._check_y(y)
        selected = _mask_array(mask, y)
        y_noisy = labels.copy()
        nodes = np.flatnonzero(selected)
        y_noisy[nodes] = self._draw(labels, nodes)
        return self._result(y, labels, y_noisy, selected)

    def sample_each(self, y: Tensor, masks: Sequence[Tensor]) -> LabelNoise:
        r"""Samples each of the disjoint ``masks`` in turn (as repeated :meth:`sample` calls)
        and returns the combined result: its ``mask`` is their union, its realised rate and
        empirical transition are over the union.

        Args:
            y (torch.Tensor): ``[N]`` clean class indices in ``[0, K)``.
            masks (Sequence[torch.Tensor]): ``[N]`` bool masks, pairwise disjoint, e.g.
                ``[data.train_mask, data.val_mask]``.
        """
        labels = self._check_y(y)
        if isinstance(masks, Tensor) or not isinstance(masks, Sequence) or len(masks) == 0:
            raise TypeError("masks must be a non-empty sequence of bool tensors")
        selected = [_mask_array(mask, y, f"masks[{i}]") for i, mask in enumerate(masks)]
        union = np.zeros(labels.shape[0], dtype=bool)
        for i, part in enumerate(selected):
            if (union & part).any():
                raise ValueError(f"masks must be disjoint: masks[{i}] overlaps an earlier mask")
            union |= part
        y_noisy = labels.copy()
        for part in selected:
            nodes = np.flatnonzero(part)
            y_noisy[nodes] = self._draw(labels, nodes)
        return self._result(y, labels, y_noisy, union)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(kind={self.kind!r}, rate={self.rate}, num_classes={self.num_classes}, "
            f"seed={self.seed}, sampler={self.sampler!r})"
        )


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
    annotator_probs: Optional[Tensor] = None,
) -> LabelNoise:
    r"""Corrupt the labels ``y`` of the nodes in ``mask`` with the noise model ``kind``: one
    :meth:`LabelNoiseModel.sample` of a freshly built :class:`LabelNoiseModel`.

    For the class-conditional kinds the noisy label of node :math:`i` is drawn from row
    :math:`y_i` of the transition matrix :math:`T`, with :math:`T_{ii} = 1 - r` and the rest
    of the row given by the kind (see the module docstring); ``"instance"`` uses one flip
    probability and one target distribution per node. To corrupt a second node set (e.g.
    the validation nodes) with the *same* noise model, build a :class:`LabelNoiseModel` and
    sample it twice instead of calling this function twice.

    Args:
        y (torch.Tensor): ``[N]`` clean class indices in ``[0, K)``.
        kind (str): ``"uniform"``, ``"pair"``, ``"pair_cyclic"``, ``"random"`` or
            ``"instance"``.
        rate (float): nominal noise rate :math:`r \in [0, 1]`.
        mask (torch.Tensor, optional): ``[N]`` bool, the nodes to corrupt (e.g.
            ``data.train_mask``); the other labels are returned unchanged.
            (default: :obj:`None`, all nodes)
        seed (int, optional): random seed in :math:`[0, 2^{32})`; the same arguments give the
            same labels. (default: :obj:`0`)
        num_classes (int, optional): :math:`K`. (default: :obj:`None`, ``y.max() + 1``)
        sampler (str, optional): ``"independent"``, ``"exact"`` or ``"paper"`` (see the
            module docstring). (default: :obj:`"independent"`)
        x (torch.Tensor, optional): ``[N, F]`` node features, required by ``"instance"``.
            (default: :obj:`None`)
        instance_temperature (float, optional): temperature :math:`\tau` of the
            similarity softmax of ``"instance"``. (default: :obj:`0.1`)
        annotator_probs (torch.Tensor, optional): ``[N, K]`` class probabilities of an
            annotator, required by ``"annotator"``. (default: :obj:`None`)

    Returns:
        LabelNoise: ``y_noisy``, ``flipped``, ``realised_rate``, ``transition``,
        ``nominal_transition`` and ``mask``.

    Example:
        >>> noise = add_label_noise(data.y, "pair", 0.3, mask=data.train_mask, seed=123)
        >>> noise.realised_rate, noise.transition.diagonal()
    """
    labels = _labels(y)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    model = LabelNoiseModel(
        kind, rate, _num_classes(num_classes), seed=seed, sampler=sampler,
        x=x if kind in FEATURE_NOISE_KINDS else None, instance_temperature=instance_temperature,
        annotator_probs=annotator_probs if kind == "annotator" else None,
    )
    return model.sample(y, mask)


NOISE_ON = ("train", "train+val", "all")


class AddLabelNoise(BaseTransform):
    r"""Corrupt ``data.y`` into ``data.y_noisy`` with one :class:`LabelNoiseModel`.

    Sets ``data.y_noisy`` (``[N]``; clean outside the corrupted nodes), ``data.noise_mask``
    (``[N]`` bool, the nodes whose labels were drawn from the noise model: what the trainers'
    ``noisy-val`` protocol checks), ``data.noise_rate`` (the realised rate over those nodes,
    a float), ``data.noise_transition`` (the empirical ``[K, K]`` matrix over them),
    ``data.noise_flipped`` (``[N]`` bool) and, for the class-conditional kinds,
    ``data.noise_nominal_transition``. The feature-dependent kinds read ``data.x``;
    ``"annotator"`` reads ``data.annotator_probs`` (``[N, K]``, e.g. set by
    :func:`noisygraph.bench.annotator_probabilities`).

    With ``on="train+val"`` the model samples the training nodes first, then the
    validation nodes not in the training mask (one transition, one continued stream), so the
    training labels are those of ``on="train"`` with the same seed.

    Args:
        kind (str): noise kind, see :func:`add_label_noise`.
        rate (float): nominal noise rate in ``[0, 1]``.
        on (str, optional): which nodes to corrupt: ``"train"`` (``train_mask``),
            ``"train+val"`` (``train_mask``, then ``val_mask``) or ``"all"``.
            (default: :obj:`"train"`)
        seed (int, optional): random seed. (default: :obj:`0`)
        sampler (str, optional): ``"independent"``, ``"exact"`` or ``"paper"``.
            (default: :obj:`"independent"`)
        num_classes (int, optional): :math:`K`. (default: :obj:`None`, ``data.num_classes``
            when set, else ``data.y.max() + 1``)
        instance_temperature (float, optional): see :func:`add_label_noise`.
            (default: :obj:`0.1`)
    """

    def __init__(
        self,
        kind: str,
        rate: float,
        on: str = "train",
        seed: int = 0,
        sampler: str = "independent",
        num_classes: Optional[int] = None,
        instance_temperature: float = 0.1,
    ) -> None:
        check_choice("on", on, NOISE_ON)
        self.kind = check_choice("kind", kind, NOISE_KINDS)
        self.sampler = check_choice("sampler", sampler, NOISE_SAMPLERS)
        if kind in PER_NODE_NOISE_KINDS and sampler == "paper":
            raise ValueError(f"sampler='paper' reproduces class-conditional draws; it has no {kind!r} kind")
        self.rate, self.on, self.seed = check_fraction("rate", rate), on, check_int("seed", seed, low=0, high=SEED_MAX)
        self.num_classes = None if num_classes is None else _num_classes(num_classes)
        self.instance_temperature = check_real("instance_temperature", instance_temperature, low=0.0,
                                               low_open=True)

    def _mask(self, data: Data, name: str) -> Tensor:
        mask = getattr(data, name, None)
        if mask is None:
            raise ValueError(f"on={self.on!r} needs data.{name}")
        return mask

    def forward(self, data: Data) -> Data:
        y = getattr(data, "y", None)
        if y is None:
            raise ValueError("data.y is required to add label noise")
        labels = _labels(y)
        num_classes = self.num_classes
        if num_classes is None and isinstance(getattr(data, "num_classes", None), int):
            num_classes = data.num_classes
        if num_classes is None:
            num_classes = int(labels.max()) + 1 if labels.size else 0
        model = LabelNoiseModel(
            self.kind, self.rate, _num_classes(num_classes), seed=self.seed, sampler=self.sampler,
            x=getattr(data, "x", None) if self.kind in FEATURE_NOISE_KINDS else None,
            instance_temperature=self.instance_temperature,
            annotator_probs=getattr(data, "annotator_probs", None) if self.kind == "annotator" else None,
        )
        if self.on == "all":
            noise = model.sample(y)
        elif self.on == "train":
            noise = model.sample(y, self._mask(data, "train_mask"))
        else:
            train = self._mask(data, "train_mask")
            val = self._mask(data, "val_mask")
            check_bool_mask("data.val_mask", val, y.shape[0])
            check_bool_mask("data.train_mask", train, y.shape[0])
            noise = model.sample_each(y, [train, val & ~train])
        data.y_noisy = noise.y_noisy
        data.noise_mask = noise.mask
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
