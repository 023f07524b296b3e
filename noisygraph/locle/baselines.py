"""Baselines Locle is compared with (all ground-truth free, like Locle itself):

(a) :func:`annotate_all` — the annotator alone, asked about every node;
(b) :func:`random_gcn` — random nodes annotated, then a GCN;
(c) :func:`llm_gnn` — LLM-GNN's recipe: density-based selection of the whole budget,
    confidence / entropy-change filtering, then a GCN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

from noisygraph.locle.annotation import Annotation, Annotator, as_class_infos
from noisygraph.locle.gnn import split_holdout, train_gcn
from noisygraph.locle.selection import (density_select, entropy_change_filter,
                                        propagate_features, truncated_svd)


@dataclass
class BaselineResult:
    """Predictions of a baseline and what its annotations cost."""

    predictions: Tensor
    annotations: list[Annotation]

    @property
    def queries(self) -> int:
        return len(self.annotations)

    @property
    def tokens(self) -> int:
        return sum(a.tokens for a in self.annotations)

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.annotations)


def _check(texts, num_nodes, classes, budget=None):
    classes = as_class_infos(classes)
    if len(texts) != num_nodes:
        raise ValueError(f"texts has {len(texts)} entries for {num_nodes} nodes")
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise TypeError(f"budget must be an int, got {type(budget).__name__}")
        if not len(classes) <= budget <= num_nodes:
            raise ValueError(f"budget must be in [{len(classes)} (classes), {num_nodes} (nodes)], "
                             f"got {budget}")
    return classes


def annotate_all(texts: Sequence[str], classes: Sequence, annotator: Annotator,
                 verbose: bool = True) -> BaselineResult:
    """(a) The annotator's label for every node (``-1`` where it gave none)."""
    classes = _check(texts, len(texts), classes)
    answers = annotator.annotate(list(texts), list(range(len(texts))), classes, verbose=verbose)
    return BaselineResult(torch.tensor([a.label for a in answers], dtype=torch.long), answers)


def _gcn_on_annotations(x, edge_index, answers, num_classes, seed, keep=None,
                        val_fraction=0.2) -> Tensor:
    usable = [a for a in answers if a.ok]
    if keep is not None:
        usable = [a for a, k in zip(usable, keep.tolist()) if k]
    if len(usable) < 2:
        raise RuntimeError(f"only {len(usable)} usable annotations to train on")
    nodes = torch.tensor([a.node for a in usable], dtype=torch.long)
    label_of = {a.node: a.label for a in usable}
    train, val = split_holdout(nodes, val_fraction, seed)
    trained = train_gcn(x, edge_index, train, torch.tensor([label_of[int(n)] for n in train]),
                        num_classes, val, torch.tensor([label_of[int(n)] for n in val]),
                        seed=seed)
    return trained.probs.argmax(1)


def random_gcn(data, texts: Sequence[str], classes: Sequence, annotator: Annotator,
               budget: int, x: Tensor, seed: int = 0, verbose: bool = True) -> BaselineResult:
    """(b) ``budget`` uniformly random nodes annotated, a GCN trained on them (model
    selection on 20 % held-out annotations)."""
    classes = _check(texts, int(data.num_nodes), classes, budget)
    generator = torch.Generator().manual_seed(seed)
    nodes = torch.randperm(int(data.num_nodes), generator=generator)[:budget]
    answers = annotator.annotate([texts[i] for i in nodes.tolist()], nodes.tolist(), classes,
                                 verbose=verbose)
    return BaselineResult(_gcn_on_annotations(x.float(), data.edge_index, answers,
                                              len(classes), seed), answers)


def llm_gnn(data, texts: Sequence[str], classes: Sequence, annotator: Annotator, budget: int,
            x: Tensor, seed: int = 0, filter_fraction: float = 0.3, feature_alpha: float = 0.5,
            svd_dim: int = 64, num_clusters: Optional[int] = None,
            verbose: bool = True) -> BaselineResult:
    """(c) LLM-GNN: density-based selection of the whole budget over propagated features,
    filtering by confidence and entropy change (the same ``filter_fraction`` as
    :class:`~noisygraph.locle.Locle`'s default), then a GCN."""
    classes = _check(texts, int(data.num_nodes), classes, budget)
    z = truncated_svd(propagate_features(data.edge_index, x.float(), feature_alpha), svd_dim,
                      seed=seed)
    nodes = density_select(z, budget, num_clusters or len(classes), seed=seed)
    answers = annotator.annotate([texts[i] for i in nodes.tolist()], nodes.tolist(), classes,
                                 verbose=verbose)
    usable = [a for a in answers if a.ok]
    keep = entropy_change_filter(torch.tensor([a.label for a in usable], dtype=torch.long),
                                 torch.tensor([a.confidence for a in usable]), len(classes),
                                 filter_fraction)
    return BaselineResult(_gcn_on_annotations(x.float(), data.edge_index, answers,
                                              len(classes), seed, keep=keep), answers)
