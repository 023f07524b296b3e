r"""A GraphCleaner-style detector: a **baseline** for :func:`~noisygraph.detection.
find_label_issues`, our own implementation of the core idea of Li et al., "GraphCleaner:
Detecting Mislabelled Samples in Popular Graph Learning Benchmarks", ICML 2023
(https://arxiv.org/abs/2306.00015), not a port of its release.

The idea: synthesise mislabelled nodes by corrupting the given training labels, describe
every node by *neighbourhood-aware* agreement features, and train a binary classifier to
tell the synthetic flips from the rest; then apply it to the given labels. Here:

* features of node :math:`i` with label :math:`y_i`: :math:`(\bar{\mathbf{A}}^h
  \mathbf{P})_{i,y_i}` for :math:`h = 0, \dots, H` (agreement of the predictions of the
  :math:`h`-hop neighbourhood with the label; :math:`\mathbf{P}` = ``all_probs`` of
  :func:`~noisygraph.detection.out_of_sample_predictions`) and :math:`(\bar{\mathbf{A}}^h
  \mathbf{L})_{i,y_i}` for :math:`h = 1, \dots, H` (agreement of the labelled neighbours'
  labels, :math:`\mathbf{L}` the one-hot labels of the training nodes), with
  :math:`\bar{\mathbf{A}}` the row-normalised adjacency;
* synthetic noise: a fraction :math:`\rho` of the training nodes, drawn at random, get a label
  drawn from the transition of the confident joint of :math:`\mathbf{P}` (off-diagonal part;
  uniform where a row has none); :math:`\rho` is that confident joint's noise-rate estimate,
  clipped to :math:`[0.05, 0.5]` (the paper corrupts at an estimated rate too);
* classifier: logistic regression on the standardised features (L-BFGS, L2 penalty
  :math:`10^{-3}`); a node is flagged when its mislabelled probability exceeds 0.5, and its
  score is one minus that probability.

Differences from the paper, stated: one logistic regression instead of its choice of
classifiers, the same ``P`` for the synthetic and the real labels (the paper retrains), and
:math:`H = 2` hops by default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from noisygraph._validation import check_int
from noisygraph.detection.core import confident_joint
from noisygraph.detection.oos import (OutOfSamplePredictions, neighbour_mean,
                                      training_nodes_and_labels)
from noisygraph.sparse import Adjacency, as_adjacency


@dataclass
class GraphCleanerStyleResult:
    """Outcome of :func:`graphcleaner_style_detector`.

    Attributes:
        nodes (torch.Tensor): ``[n]`` training node ids, ascending.
        scores (torch.Tensor): ``[n]`` in ``[0, 1]``, 1 = the label looks right.
        is_issue (torch.Tensor): ``[n]`` bool, mislabelled probability above 0.5.
        synthetic_rate (float): the fraction :math:`\\rho` of synthetic flips trained on.
    """

    nodes: Tensor
    scores: Tensor
    is_issue: Tensor
    synthetic_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes.tolist(), "scores": self.scores.tolist(),
                "is_issue": self.is_issue.tolist(), "synthetic_rate": self.synthetic_rate}


def _features(hops: list[Tensor], label_hops: list[Tensor], labels: Tensor) -> Tensor:
    index = labels.unsqueeze(1)
    columns = [h.gather(1, index) for h in hops] + [h.gather(1, index) for h in label_hops]
    return torch.cat(columns, dim=1)


def _label_hops(adj, nodes: Tensor, labels: Tensor, num_nodes: int, num_classes: int,
                hops: int) -> list[Tensor]:
    signal = torch.zeros(num_nodes, num_classes)
    signal[nodes, labels] = 1.0
    out = []
    for _ in range(hops):
        signal = neighbour_mean(adj, signal)
        out.append(signal[nodes])
    return out


def _fit_logistic(x: Tensor, target: Tensor, penalty: float = 1e-3) -> Tensor:
    """Weights ``[F + 1]`` (last: bias) of an L2-penalised logistic regression."""
    w = torch.zeros(x.size(1) + 1, dtype=torch.float64, requires_grad=True)
    design = torch.cat([x, torch.ones(x.size(0), 1, dtype=x.dtype)], dim=1)
    optimizer = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(design @ w, target) \
            + penalty * (w[:-1] ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach()


def graphcleaner_style_detector(data: Any, pred: OutOfSamplePredictions, *, hops: int = 2,
                                seed: int = 0) -> GraphCleanerStyleResult:
    r"""The GraphCleaner-style baseline of the module docstring.

    Args:
        data (torch_geometric.data.Data): the graph.
        pred (OutOfSamplePredictions): the out-of-sample predictions (its ``nodes`` and
            ``labels`` are the training nodes and the given labels).
        hops (int, optional): :math:`H \ge 1`. (default: ``2``)
        seed (int, optional): seeds the synthetic noise. (default: ``0``)
    """
    if not isinstance(pred, OutOfSamplePredictions):
        raise TypeError(f"pred must be OutOfSamplePredictions, got {type(pred).__name__}")
    hops = check_int("hops", hops, low=1, high=10)
    seed = check_int("seed", seed, low=0)
    num_nodes = int(data.num_nodes)
    _, nodes, _, _ = training_nodes_and_labels(data, _full(pred, num_nodes), pred.nodes)
    labels, num_classes = pred.labels, pred.all_probs.size(1)
    adj = as_adjacency(data, num_nodes=num_nodes)
    prob_hops, signal = [pred.all_probs[nodes]], pred.all_probs
    for _ in range(hops):
        signal = neighbour_mean(adj, signal)
        prob_hops.append(signal[nodes])
    joint = confident_joint(pred.probs, labels, num_classes)
    rate = float((joint.sum() - joint.diagonal().sum()) / joint.sum())
    rate = min(max(rate, 0.05), 0.5)
    off = joint * (1 - torch.eye(num_classes, dtype=joint.dtype))
    empty = off.sum(dim=1) == 0
    off[empty] = 1 - torch.eye(num_classes, dtype=joint.dtype)[empty]
    generator = torch.Generator().manual_seed(seed)
    flip = torch.rand(nodes.numel(), generator=generator) < rate
    synthetic = labels.clone()
    rows = off[labels[flip]]
    synthetic[flip] = torch.multinomial(rows / rows.sum(dim=1, keepdim=True), 1,
                                        generator=generator).squeeze(1)
    train_x = _features(prob_hops, _label_hops(adj, nodes, synthetic, num_nodes,
                                               num_classes, hops), synthetic).double()
    test_x = _features(prob_hops, _label_hops(adj, nodes, labels, num_nodes,
                                              num_classes, hops), labels).double()
    mean, std = train_x.mean(dim=0), train_x.std(dim=0).clamp_min(1e-8)
    w = _fit_logistic((train_x - mean) / std, (synthetic != labels).double())
    design = torch.cat([(test_x - mean) / std, torch.ones(test_x.size(0), 1,
                                                          dtype=torch.float64)], dim=1)
    wrong = torch.sigmoid(design @ w).float()
    return GraphCleanerStyleResult(nodes, 1.0 - wrong, wrong > 0.5, rate)


def _full(pred: OutOfSamplePredictions, num_nodes: int) -> Tensor:
    if pred.all_probs.size(0) != num_nodes:
        raise ValueError(f"pred has {pred.all_probs.size(0)} nodes, data {num_nodes}")
    full = torch.zeros(num_nodes, dtype=torch.long)
    full[pred.nodes] = pred.labels
    return full
