r"""Confident-learning cleaning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating
Uncertainty in Dataset Labels", JAIR 2021, https://arxiv.org/abs/1911.00068) on a graph:
out-of-sample class probabilities of the training nodes from :math:`k`-fold GCNs, the
confident joint of noisy and true labels, pruning by noise rate, and a GCN retrained on the
rest.

With :math:`\hat p_{ij}` the out-of-sample probability of class :math:`j` for training node
:math:`i` and :math:`\tilde y_i` its noisy label, the per-class threshold is
:math:`t_j = \operatorname{mean}_{i:\tilde y_i=j} \hat p_{ij}`; node :math:`i` counts in
entry :math:`(\tilde y_i, y^*_i)` of the confident joint :math:`C`, with :math:`y^*_i` the
one class whose probability reaches its threshold (the arg-max when several do; no count
when none does). Calibrated, :math:`C`'s row :math:`k` sums to the number of nodes labelled
:math:`k` and :math:`C` to :math:`n`. Pruning by noise rate removes, for every
:math:`k \ne j`, the :math:`C_{kj}` nodes labelled :math:`k` of largest margin
:math:`\hat p_{ij} - \hat p_{ik}`.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_int
from noisygraph.baselines.base import Baseline, CleaningOutcome
from noisygraph.baselines._kfold import assign_folds, kfold_probs


def _check_labels_probs(labels: Tensor, probs: Tensor, num_classes: Optional[int]) -> int:
    if not isinstance(probs, Tensor) or not probs.is_floating_point() or probs.dim() != 2:
        raise TypeError(f"probs must be a floating [n, K] tensor, got "
                        f"{getattr(probs, 'dtype', type(probs).__name__)}")
    if (not isinstance(labels, Tensor) or labels.is_floating_point() or labels.is_complex()
            or labels.dtype == torch.bool or labels.dim() != 1):
        raise TypeError(f"labels must be a 1-D integer tensor, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    if labels.numel() != probs.size(0) or labels.numel() == 0:
        raise ValueError(f"labels ({labels.numel()}) and probs ({probs.size(0)} rows) must "
                         "have one non-empty entry per node")
    num_classes = probs.size(1) if num_classes is None else check_int(
        "num_classes", num_classes, low=2)
    if probs.size(1) != num_classes:
        raise ValueError(f"probs must have num_classes={num_classes} columns, got "
                         f"{probs.size(1)}")
    if not bool(torch.isfinite(probs).all()) or bool((probs < 0).any()):
        raise ValueError("probs must be finite and non-negative")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes})")
    return num_classes


def _round_preserving_row_sums(matrix: Tensor) -> Tensor:
    """Rounds each row to integers keeping its (rounded) sum: largest remainders win."""
    rounded = matrix.round()
    for row in range(matrix.size(0)):
        diff = int(round(float(matrix[row].sum()))) - int(rounded[row].sum())
        if diff:
            order = torch.argsort(matrix[row] - rounded[row], descending=diff > 0)
            rounded[row, order[:abs(diff)]] += 1 if diff > 0 else -1
    return rounded.long()


def confident_joint(labels: Tensor, probs: Tensor, num_classes: Optional[int] = None, *,
                    calibrate: bool = True) -> Tensor:
    r"""The confident joint :math:`C` ``[K, K]`` (rows: noisy label, columns: estimated true
    label) of confident learning, as ``cleanlab.count.compute_confident_joint`` defines it
    (thresholds :math:`t_j - 10^{-6}`, diagonal at least 1).

    Args:
        labels (torch.Tensor): ``[n]`` noisy labels in ``[0, K)``.
        probs (torch.Tensor): ``[n, K]`` out-of-sample class probabilities.
        num_classes (int, optional): :math:`K`. (default: ``probs.size(1)``)
        calibrate (bool, optional): scale rows to the label counts and round keeping each
            row's total, so that :math:`C` sums to :math:`n`. (default: :obj:`True`)

    Returns:
        torch.Tensor: ``[K, K]`` int64 counts.
    """
    num_classes = _check_labels_probs(labels, probs, num_classes)
    check_bool("calibrate", calibrate)
    labels = labels.long().to(probs.device)
    probs = probs.double()
    counts = torch.bincount(labels, minlength=num_classes)
    sums = torch.zeros(num_classes, dtype=probs.dtype, device=probs.device)
    sums.index_add_(0, labels, probs[torch.arange(labels.numel()), labels])
    thresholds = sums / counts.clamp(min=1)
    confident = probs >= thresholds - 1e-6
    num_confident = confident.sum(dim=1)
    guess = torch.where(num_confident > 1, probs.argmax(dim=1),
                        confident.to(torch.uint8).argmax(dim=1))
    some = num_confident > 0
    joint = torch.bincount(labels[some] * num_classes + guess[some],
                           minlength=num_classes * num_classes).view(num_classes, num_classes)
    joint.diagonal().clamp_(min=1)
    if not calibrate:
        return joint
    scaled = joint.double() / joint.sum(dim=1, keepdim=True).clamp(min=1) * counts[:, None]
    scaled = scaled / scaled.sum().clamp(min=1e-12) * labels.numel()
    return _round_preserving_row_sums(scaled.cpu()).to(probs.device)


def lowest_per_class(key: Tensor, labels: Tensor, counts: Tensor) -> Tensor:
    """``[n]`` bool: in each class :math:`c`, the ``counts[c]`` nodes labelled :math:`c` of
    lowest ``key`` (all of them where fewer; ties: the lower position first)."""
    chosen = torch.zeros(labels.numel(), dtype=torch.bool, device=labels.device)
    for c, count in enumerate(counts.tolist()):
        if count > 0:
            members = (labels == c).nonzero().flatten()
            chosen[members[torch.argsort(key[members], stable=True)[:int(count)]]] = True
    return chosen


def cap_flags_per_class(flagged: Tensor, scores: Tensor, labels: Tensor,
                        fraction: float) -> Tensor:
    """``flagged`` with, in each class of ``labels``, at most ``floor(fraction * n_c)`` of its
    ``n_c`` nodes still flagged: those of lowest ``scores`` (ties: the lower position)."""
    sizes = torch.bincount(labels)
    limits = (fraction * sizes.double()).floor().long()
    unflagged_last = torch.where(flagged, scores.double(), torch.inf)
    return flagged & lowest_per_class(unflagged_last, labels, limits)


def prune_by_noise_rate(labels: Tensor, probs: Tensor, joint: Tensor, *,
                        min_per_class: int = 1) -> Tensor:
    r"""Confident learning's ``prune_by_noise_rate``: for each noisy class :math:`k` and
    each :math:`j \ne k`, flags the :math:`C_{kj}` nodes labelled :math:`k` of largest margin
    :math:`p_j - p_k` (a node may be flagged for several :math:`j`); the counts of a row are
    scaled down so that at least ``min_per_class`` nodes of each label stay unflagged.

    Args:
        labels (torch.Tensor): ``[n]`` noisy labels.
        probs (torch.Tensor): ``[n, K]`` out-of-sample probabilities.
        joint (torch.Tensor): ``[K, K]`` the (calibrated) confident joint.
        min_per_class (int, optional): (default: ``1``, as cleanlab)

    Returns:
        torch.Tensor: bool ``[n]``, the label issues.
    """
    num_classes = _check_labels_probs(labels, probs, None)
    min_per_class = check_int("min_per_class", min_per_class, low=0)
    if not isinstance(joint, Tensor) or joint.shape != (num_classes, num_classes):
        raise ValueError(f"joint must be a [{num_classes}, {num_classes}] tensor")
    labels = labels.long().to(probs.device)
    flagged = torch.zeros(labels.numel(), dtype=torch.bool, device=probs.device)
    for k in range(num_classes):
        members = (labels == k).nonzero().view(-1)
        off = joint[k].double().clone()
        off[k] = 0
        budget = max(members.numel() - min_per_class, 0)
        total = float(off.sum())
        if total > budget:
            off = (off * budget / total).floor()
        for j in range(num_classes):
            count = int(off[j])
            if j == k or count == 0:
                continue
            margin = probs[members, j] - probs[members, k]
            flagged[members[torch.argsort(margin, descending=True)[:count]]] = True
    return flagged


def out_of_sample_probs(method: Baseline, data: Data, nodes: Tensor, labels: Tensor,
                        val_labels: Tensor, num_classes: int, num_folds: int) -> Tensor:
    """Class probabilities ``[n, K]`` of each node of ``nodes`` from a GCN that did not
    train on it: ``num_folds`` stratified folds (each class's nodes dealt round-robin in a
    random order from ``method``'s generator), one GCN per non-empty fold
    (``method.fit_gcn``, selecting on ``val_labels`` under the method's protocol) trained on
    the others (the K-fold loop of ``noisygraph.baselines._kfold``, shared with label-issue
    detection)."""
    fold = assign_folds(labels.numel(), num_folds, method.generator(labels.device),
                        labels=labels, device=labels.device)

    def fit(_: int, held: Tensor) -> Tensor:
        return method.fit_gcn(data, labels[~held], val_labels, num_classes,
                              train_nodes=nodes[~held]).probs

    return kfold_probs(fit, nodes, fold, num_classes, device=labels.device)[0]


class ConfidentLearning(Baseline):
    r"""Confident-learning cleaning of the training labels, then a GCN on the rest
    (see the module docstring for the formulas): :math:`k`-fold GCN probabilities of the
    training nodes, the calibrated confident joint, ``prune_by_noise_rate``, retrain.

    Args:
        num_folds (int, optional): folds of the out-of-sample probabilities (at least 2).
            (default: ``5``, the paper's and cleanlab's cross-validation)
        relabel (bool, optional): give the flagged nodes their out-of-sample arg-max class
            instead of dropping them. (default: :obj:`False`: the paper prunes)
        min_per_class (int, optional): labels of each class never flagged. (default: ``1``)
        **kwargs: the GCN options, ``protocol``, ``seed``, ``device``, ``verbose`` of
            :class:`~noisygraph.baselines.base.Baseline`.
    """

    seed_step = 1  # GCN i of a fit gets seed + i (the cleaners' recorded seeding)

    def __init__(self, *, num_folds: int = 5, relabel: bool = False, min_per_class: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_folds = check_int("num_folds", num_folds, low=2)
        self.relabel = check_bool("relabel", relabel)
        self.min_per_class = check_int("min_per_class", min_per_class, low=0)
        self.joint: Optional[Tensor] = None
        self.probs: Optional[Tensor] = None

    def clean(self, data: Data, y_noisy: Tensor, nodes: Tensor, val_labels: Tensor,
              num_classes: int) -> CleaningOutcome:
        labels = y_noisy[nodes]
        self.probs = out_of_sample_probs(self, data, nodes, labels, val_labels, num_classes,
                                         self.num_folds)
        self.joint = confident_joint(labels, self.probs, num_classes)
        flagged = prune_by_noise_rate(labels, self.probs, self.joint,
                                      min_per_class=self.min_per_class)
        quality = self.probs[torch.arange(labels.numel()), labels]
        if self.relabel:
            new = torch.where(flagged, self.probs.argmax(dim=1), labels)
            return CleaningOutcome(nodes, flagged, new, torch.ones_like(flagged),
                                   scores=quality)
        return CleaningOutcome(nodes, flagged, labels, ~flagged, scores=quality)
