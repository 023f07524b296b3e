"""Evaluation metrics shared by every capability (ground truth is read only here)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from noisygraph._validation import check_class_labels, check_int


def accuracy(pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> float:
    """Fraction of ``pred == target`` (over ``mask`` when given).

    Args:
        pred (torch.Tensor): predicted classes ``[N]``.
        target (torch.Tensor): true classes ``[N]``.
        mask (torch.Tensor, optional): boolean ``[N]`` selecting the nodes to score.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    if mask is not None:
        pred, target = pred[mask], target[mask]
    if target.numel() == 0:
        raise ValueError("accuracy over an empty set of nodes")
    return float((pred == target).float().mean())


def f1_score(predicted: Tensor, actual: Tensor) -> float:
    """F1 of a predicted node set against the true node set (both boolean ``[N]`` masks)."""
    if predicted.shape != actual.shape:
        raise ValueError(f"predicted {tuple(predicted.shape)} and actual {tuple(actual.shape)} differ in shape")
    true_positive = float((predicted & actual).sum())
    denominator = float(predicted.sum()) + float(actual.sum())
    return 0.0 if denominator == 0 else 2.0 * true_positive / denominator


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """``[K, K]`` int64 counts: entry ``(i, j)`` is the number of nodes of true class ``i``
    predicted as ``j`` (``pred``, ``target``: ``[n]`` integer classes in ``[0, K)``)."""
    num_classes = check_int("num_classes", num_classes, low=1)
    for name, value in (("pred", pred), ("target", target)):
        check_class_labels(name, value, None)
        if value.numel() and (int(value.min()) < 0 or int(value.max()) >= num_classes):
            raise ValueError(f"{name} holds classes outside [0, {num_classes})")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    index = target.long().cpu() * num_classes + pred.long().cpu()
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes,
                                                                          num_classes)
