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

from noisygraph._validation import (check_data_edge_index, check_device, check_features,
                                    check_fraction, check_int, check_node_mask, check_num_nodes,
                                    check_texts)
from noisygraph.locle.annotation import Annotation, Annotator, text_inputs
from noisygraph.locle.gnn import gcn_trainer, split_holdout
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

    def predict(self) -> Tensor:
        """Predicted class of every node ``[N]`` (``-1`` where the annotator alone gave
        none)."""
        return self.predictions

    def to_dict(self) -> dict:
        return {"predictions": self.predictions.tolist(), "queries": self.queries,
                "tokens": self.tokens, "cost_usd": self.cost_usd}


def _check(data, texts, classes, budget, x, exclude):
    """Validated ``(classes, texts, edge_index, x, excluded mask)`` of a budgeted baseline."""
    texts, classes = text_inputs(data, texts, classes)
    x = getattr(data, "x", None) if x is None else x
    if x is None:
        raise ValueError("x is required: pass x= (e.g. embed_texts(data.text)) or set data.x")
    num_nodes = check_num_nodes(data)
    edge_index = check_data_edge_index(data, num_nodes)
    texts = check_texts("texts", texts, length=num_nodes)
    excluded = check_node_mask("exclude", exclude, num_nodes)
    available = num_nodes - int(excluded.sum())
    check_int("budget", budget, low=1)
    if not len(classes) <= budget <= available:
        raise ValueError(f"budget must be in [{len(classes)} (classes), {available} (nodes that "
                         f"may be asked about)], got {budget}")
    return classes, texts, edge_index, check_features("x", x, num_rows=num_nodes), excluded


def _check_annotator(annotator) -> None:
    if not isinstance(annotator, Annotator):
        raise TypeError(f"annotator must be an Annotator, got {type(annotator).__name__}")


def annotate_all(data, *, annotator: Annotator, texts: Optional[Sequence[str]] = None,
                 classes: Optional[Sequence] = None, verbose: bool = True) -> BaselineResult:
    """(a) The annotator's label for every node (``-1`` where it gave none).

    Args:
        data (torch_geometric.data.Data, optional): the text graph (``data.text``,
            ``data.class_names``); :obj:`None` with ``texts`` and ``classes`` given.
        annotator (Annotator): answers the questions.
        texts (Sequence[str], optional): one text per node. (default: ``data.text``)
        classes (Sequence, optional): :class:`ClassInfo` objects, ``(name, description)``
            pairs or names. (default: from ``data.class_names``)
        verbose (bool): progress bar. (default: :obj:`True`)
    """
    texts, classes = text_inputs(data, texts, classes)
    texts = check_texts("texts", texts)
    _check_annotator(annotator)
    answers = annotator.annotate(texts, list(range(len(texts))), classes, verbose=verbose)
    return BaselineResult(torch.tensor([a.label for a in answers], dtype=torch.long), answers)


def _gcn_on_annotations(x, edge_index, answers, num_classes, seed, val_fraction,
                        keep=None, device=None) -> Tensor:
    usable = [a for a in answers if a.ok]
    if keep is not None:
        usable = [a for a, k in zip(usable, keep.tolist()) if k]
    if len(usable) < 2:
        raise RuntimeError(f"only {len(usable)} usable annotations to train on")
    nodes = torch.tensor([a.node for a in usable], dtype=torch.long)
    label_of = {a.node: a.label for a in usable}
    train, val = split_holdout(nodes, val_fraction, seed)
    trained = gcn_trainer(seed, device=device).fit(
        edge_index, x=x, train_nodes=train,
        train_labels=torch.tensor([label_of[int(n)] for n in train], dtype=torch.long),
        val_nodes=val, val_labels=torch.tensor([label_of[int(n)] for n in val], dtype=torch.long),
        num_classes=num_classes)
    return trained.predict().cpu()


# Defaults marked "label-free search" were chosen by benchmarks/locle_dblp.py --choose-defaults
# (agreement with the annotator on held-out nodes, no ground truth); the values and every
# trial are in benchmarks/results/locle_defaults.json.


def random_gcn(data, *, annotator: Annotator, budget: int, x: Optional[Tensor] = None,
               texts: Optional[Sequence[str]] = None, classes: Optional[Sequence] = None,
               seed: int = 0, verbose: bool = True,
               val_fraction: float = 0.2,  # label-free search (kept: 0.1 and 0.3 scored lower)
               exclude: Optional[Tensor] = None, device=None) -> BaselineResult:
    """(b) ``budget`` uniformly random nodes annotated, a GCN trained on them (model
    selection on the ``val_fraction`` held-out annotations).

    Args:
        data (torch_geometric.data.Data): the graph (``edge_index``, ``num_nodes``; ``text``,
            ``class_names`` and ``x`` when the arguments below are not given).
        annotator (Annotator): answers the questions.
        budget (int): questions, in ``[C, N]``.
        x (torch.Tensor, optional): node features ``[N, F]``. (default: ``data.x``)
        texts (Sequence[str], optional): one text per node. (default: ``data.text``)
        classes (Sequence, optional): the classes. (default: from ``data.class_names``)
        seed (int): selection, split and GCN seed. (default: ``0``)
        verbose (bool): progress bar. (default: :obj:`True`)
        val_fraction (float): held-out share of the annotations. (default: ``0.2``, kept
            by the label-free search)
        exclude (torch.Tensor, optional): nodes never asked about. (default: :obj:`None`)
        device (str or torch.device, optional): where the GCN trains (the predictions come
            back on the CPU). (default: :obj:`None`, the features' device)
    """
    classes, texts, edge_index, x, excluded = _check(data, texts, classes, budget, x, exclude)
    _check_annotator(annotator)
    check_int("seed", seed, low=0)
    check_fraction("val_fraction", val_fraction, high_open=True)
    device = check_device("device", device)
    generator = torch.Generator().manual_seed(seed)
    allowed = torch.nonzero(~excluded).flatten()
    nodes = allowed[torch.randperm(allowed.numel(), generator=generator)[:budget]]
    answers = annotator.annotate([texts[i] for i in nodes.tolist()], nodes.tolist(), classes,
                                 verbose=verbose)
    return BaselineResult(_gcn_on_annotations(x, edge_index, answers, len(classes), seed,
                                              val_fraction, device=device), answers)


def llm_gnn(data, *, annotator: Annotator, budget: int, x: Optional[Tensor] = None,
            texts: Optional[Sequence[str]] = None, classes: Optional[Sequence] = None,
            seed: int = 0,
            filter_fraction: float = 0.2,  # label-free search (was 0.3)
            feature_alpha: float = 0.5, svd_dim: int = 64, num_clusters: Optional[int] = None,
            verbose: bool = True,
            val_fraction: float = 0.2,  # label-free search (kept)
            exclude: Optional[Tensor] = None, device=None) -> BaselineResult:
    r"""(c) LLM-GNN: density-based selection of the whole budget over propagated features,
    filtering by confidence and entropy change, then a GCN.

    Args:
        data, annotator, budget, x, texts, classes, seed, verbose, val_fraction, exclude,
            device: as in :func:`random_gcn`.
        filter_fraction (float): share of the annotations filtered out, in ``[0, 1)``.
            (default: ``0.2``, chosen by the label-free search)
        feature_alpha (float): :math:`\alpha` of the propagated features. (default: ``0.5``)
        svd_dim (int): truncated-SVD dimension. (default: ``64``)
        num_clusters (int, optional): k-means clusters; defaults to the number of classes.
    """
    classes, texts, edge_index, x, excluded = _check(data, texts, classes, budget, x, exclude)
    _check_annotator(annotator)
    check_int("seed", seed, low=0)
    check_fraction("val_fraction", val_fraction, high_open=True)
    check_fraction("filter_fraction", filter_fraction, high_open=True)
    check_fraction("feature_alpha", feature_alpha)
    device = check_device("device", device)
    check_int("svd_dim", svd_dim, low=1)
    if num_clusters is not None:
        check_int("num_clusters", num_clusters, low=1)
    z = truncated_svd(propagate_features(edge_index, x, feature_alpha), svd_dim, seed=seed)
    nodes = density_select(z, budget, num_clusters or len(classes), seed=seed, exclude=excluded)
    answers = annotator.annotate([texts[i] for i in nodes.tolist()], nodes.tolist(), classes,
                                 verbose=verbose)
    usable = [a for a in answers if a.ok]
    keep = entropy_change_filter(torch.tensor([a.label for a in usable], dtype=torch.long),
                                 torch.tensor([a.confidence for a in usable]), len(classes),
                                 filter_fraction)
    return BaselineResult(_gcn_on_annotations(x, edge_index, answers, len(classes), seed,
                                              val_fraction, keep=keep, device=device), answers)
