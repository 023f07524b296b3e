r"""Locle: label-free node classification with an (LLM) annotator under a query budget.

Every decision is made without ground truth: model selection uses held-out *annotated*
nodes, the rounds are combined by a fixed geometric weighting (no round is picked by
accuracy), and ``data.y`` is never read by :meth:`Locle.fit`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

import torch
from torch import Tensor
from tqdm.auto import tqdm

from noisygraph._validation import (check_bool, check_data_edge_index, check_device,
                                    check_features, check_fraction, check_int, check_node_mask,
                                    check_num_nodes, check_real, check_texts)
from noisygraph.locle.annotation import Annotation, Annotator, text_inputs
from noisygraph.locle.gnn import gcn_trainer, split_holdout
from noisygraph.locle.refine import replace_labels, rewire
from noisygraph.locle.selection import (critical_nodes, density_select, entropy_change_filter,
                                        propagate_features, truncated_svd)
from noisygraph.protocols import check_fitted_graph


@dataclass
class LocleResult:
    """What :meth:`Locle.fit` found.

    Attributes:
        predictions (torch.Tensor): final class of every node ``[N]``.
        probs (torch.Tensor): final ensemble distribution ``[N, C]``.
        round_predictions (list[torch.Tensor]): the ensemble's predictions after each round
            (the last one is after refinement) — for reporting.
        rounds (list[dict]): per-round table (queries so far, labels, pseudo-labels,
            agreement with held-out annotations, ...).
        annotations (list[Annotation]): every answer received.
        labelled_nodes (torch.Tensor): nodes with a (refined) annotator label at the end.
        labels (torch.Tensor): those labels.
        pseudo_nodes (torch.Tensor): nodes pseudo-labelled by the GNN.
        queries (int): questions asked to the annotator (<= budget).
        tokens (int): tokens used by those questions.
        cost_usd (float): dollars paid (cache hits are free).
    """

    predictions: Tensor
    probs: Tensor
    round_predictions: list[Tensor]
    rounds: list[dict]
    annotations: list[Annotation]
    labelled_nodes: Tensor
    labels: Tensor
    pseudo_nodes: Tensor
    queries: int
    tokens: int
    cost_usd: float

    def predict(self) -> Tensor:
        """The final class of every node ``[N]``."""
        return self.predictions

    def to_dict(self) -> dict:
        """Everything but the tensors of probabilities, as plain Python values."""
        return {"predictions": self.predictions.tolist(),
                "round_predictions": [p.tolist() for p in self.round_predictions],
                "rounds": self.rounds,
                "annotations": [asdict(a) for a in self.annotations],
                "labelled_nodes": self.labelled_nodes.tolist(), "labels": self.labels.tolist(),
                "pseudo_nodes": self.pseudo_nodes.tolist(), "queries": self.queries,
                "tokens": self.tokens, "cost_usd": self.cost_usd}

    def score(self, y: Tensor) -> dict:
        """Accuracy of the final and per-round predictions against ``y`` (evaluation only),
        over all nodes; also fills ``accuracy`` into :attr:`rounds`."""
        y = torch.as_tensor(y).long().cpu()
        if y.shape != self.predictions.shape:
            raise ValueError(f"y must have shape {tuple(self.predictions.shape)}, got {tuple(y.shape)}")
        for row, pred in zip(self.rounds, self.round_predictions):
            row["accuracy"] = float((pred == y).float().mean())
        annotated = torch.tensor([a.node for a in self.annotations if a.ok], dtype=torch.long)
        answered = torch.tensor([a.label for a in self.annotations if a.ok], dtype=torch.long)
        return {"accuracy": float((self.predictions == y).float().mean()),
                "annotation_accuracy": float((answered == y[annotated]).float().mean())
                if annotated.numel() else float("nan"),
                "rounds": self.rounds}


@dataclass
class _Labels:
    """Current training labels: annotator labels (with confidences) and pseudo-labels."""

    nodes: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    pseudo_nodes: list[int] = field(default_factory=list)
    pseudo_labels: list[int] = field(default_factory=list)
    pseudo_confidence: list[float] = field(default_factory=list)


class Locle:
    r"""Label-free node classification with an annotator and a query budget.

    1. **Initial selection.** Propagated features
       :math:`\mathbf{Z} = \mathbf{X} + \sum_{i=1}^{2}\alpha^i(\mathbf{D}^{-1}\mathbf{A})^i\mathbf{X}`,
       truncated SVD, k-means; the densest nodes of each cluster (half the budget).
    2. **Filtering.** The ``filter_fraction`` of annotations with the lowest confidence /
       entropy-change score (:func:`~noisygraph.locle.selection.entropy_change_filter`) are
       not trained on.
    3. **Rounds.** A 2-layer GCN is trained on the current labels (model selection on
       held-out annotations); the rounds' predictions are ensembled with geometric weights
       :math:`w_r \propto \gamma^{R-r}`; between rounds, the nodes with the highest label
       disharmonicity and entropy are sent to the annotator and the most harmonious,
       confident ones are pseudo-labelled with the ensemble's prediction.
    4. **Refinement.** On a rewired graph (similar-labelled-node links, weak edges dropped),
       cross-fitted GCNs predict each annotated node; an annotator label is replaced by the
       GCN's where they disagree and the annotator is the less confident (rank-wise); a final
       GCN trained on the refined labels joins the ensemble as the last round.

    Args:
        budget (int): annotator questions at most (>= number of classes).
        num_rounds (int): GCN rounds. (default: ``5``, the paper's)
        initial_fraction (float): share of the budget for the density selection, in
            ``(0, 1]``. (default: ``0.5``, the paper's half)
        filter_fraction (float): share of initial annotations filtered out, in ``[0, 1)``.
            (default: ``0.0``, label-free search)
        pseudo_per_round (int, optional): pseudo-labels added per round; when :obj:`None`,
            ``round(pseudo_ratio * questions per round)``. (default: :obj:`None`)
        ensemble_decay (float): :math:`\gamma \in (0, 1]`; ``0.01`` leaves practically only
            the last (refinement) round. (default: ``0.01``, label-free search)
        feature_alpha (float): :math:`\alpha` of the propagated features. (default: ``0.5``)
        svd_dim (int): dimension of the truncated SVD. (default: ``64``)
        num_clusters (int, optional): k-means clusters; defaults to the number of classes
            (the paper's).
        val_fraction (float): held-out share of annotated nodes for model selection.
            (default: ``0.2``)
        refine (bool): run the refinement step. (default: :obj:`True`, the paper's)
        confidence_weighting (bool): weight each training label's loss by its confidence
            (the annotator's, or the ensemble's for a pseudo-label). (default: :obj:`True`,
            label-free search)
        hidden (int): GCN width. (default: ``64``, the paper's)
        epochs (int): GCN epochs at most. (default: ``200``, Kipf & Welling's)
        seed (int): (default: ``0``)
        verbose (bool): progress bars. (default: :obj:`True`)
        pseudo_ratio (float): pseudo-labels per question of a round, ``>= 0``, used when
            ``pseudo_per_round`` is :obj:`None`; ``0`` adds none. (default: ``0.0``,
            label-free search)
        device (str or torch.device, optional): where the GCNs train (selection, ensembling
            and refinement stay on the CPU; the GCN's probabilities come back there).
            (default: :obj:`None`, the features' device)
    """

    # Defaults marked "label-free search" were chosen by
    # `benchmarks/locle_dblp.py --choose-defaults` (agreement with the annotator on held-out
    # nodes; no ground truth read); values and every trial: benchmarks/results/locle_defaults.json
    def __init__(self, *, budget: int, num_rounds: int = 5, initial_fraction: float = 0.5,
                 filter_fraction: float = 0.0,  # label-free search (was 0.3)
                 pseudo_per_round: Optional[int] = None,
                 ensemble_decay: float = 0.01,  # label-free search (was 0.5)
                 feature_alpha: float = 0.5, svd_dim: int = 64,
                 num_clusters: Optional[int] = None, val_fraction: float = 0.2,
                 refine: bool = True,
                 confidence_weighting: bool = True,  # label-free search (kept)
                 hidden: int = 64, epochs: int = 200, seed: int = 0, verbose: bool = True,
                 pseudo_ratio: float = 0.0,  # label-free search (was 3.0)
                 device=None):
        self.budget = check_int("budget", budget, low=1)
        self.num_rounds = check_int("num_rounds", num_rounds, low=1)
        self.initial_fraction = check_fraction("initial_fraction", initial_fraction,
                                               low_open=True)
        self.filter_fraction = check_fraction("filter_fraction", filter_fraction, high_open=True)
        self.pseudo_per_round = check_int("pseudo_per_round", pseudo_per_round, low=0,
                                          optional=True)
        self.pseudo_ratio = check_real("pseudo_ratio", pseudo_ratio, low=0.0)
        self.ensemble_decay = check_fraction("ensemble_decay", ensemble_decay, low_open=True)
        self.feature_alpha = check_fraction("feature_alpha", feature_alpha)
        self.svd_dim = check_int("svd_dim", svd_dim, low=1)
        self.num_clusters = check_int("num_clusters", num_clusters, low=1, optional=True)
        self.val_fraction = check_fraction("val_fraction", val_fraction, high_open=True)
        self.refine = check_bool("refine", refine)
        self.confidence_weighting = check_bool("confidence_weighting", confidence_weighting)
        self.hidden = check_int("hidden", hidden, low=1)
        self.epochs = check_int("epochs", epochs, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.verbose = check_bool("verbose", verbose)
        self.device = check_device("device", device)
        self.result: Optional[LocleResult] = None
        self._fitted_graph = None

    # ------------------------------------------------------------------ helpers
    def _train(self, x, edge_index, labels: _Labels, num_classes, seed, edge_weight=None):
        nodes = torch.tensor(labels.nodes, dtype=torch.long)
        targets = dict(zip(labels.nodes, labels.labels))
        confidence = dict(zip(labels.nodes, labels.confidence))
        train, val = split_holdout(nodes, self.val_fraction, seed)
        train_nodes = torch.cat([train, torch.tensor(labels.pseudo_nodes, dtype=torch.long)])
        train_labels = torch.tensor([targets[int(n)] for n in train] + labels.pseudo_labels,
                                    dtype=torch.long)
        weight = None
        if self.confidence_weighting:
            weight = torch.tensor([confidence[int(n)] for n in train] + labels.pseudo_confidence)
        val_labels = torch.tensor([targets[int(n)] for n in val], dtype=torch.long)
        trainer = gcn_trainer(seed, hidden_channels=self.hidden, epochs=self.epochs,
                              device=self.device)
        result = trainer.fit(edge_index, x=x, train_nodes=train_nodes, train_labels=train_labels,
                             val_nodes=val, val_labels=val_labels, sample_weight=weight,
                             edge_weight=edge_weight, num_classes=num_classes)
        result.probs = result.probs.cpu()  # the rest of the pipeline runs on the CPU
        return result

    def _ensemble(self, history: list[Tensor]) -> Tensor:
        weights = torch.tensor([self.ensemble_decay ** (len(history) - 1 - r)
                                for r in range(len(history))])
        stacked = torch.stack(history)
        return (weights.view(-1, 1, 1) * stacked).sum(0) / weights.sum()

    @staticmethod
    def _ask(annotator, texts, nodes: Tensor, classes, verbose) -> list[Annotation]:
        ids = nodes.tolist()
        return annotator.annotate([texts[i] for i in ids], ids, classes, verbose=verbose)

    # ------------------------------------------------------------------ fit
    def fit(self, data, *, annotator: Annotator, texts: Optional[Sequence[str]] = None,
            classes: Optional[Sequence] = None, x: Optional[Tensor] = None,
            exclude: Optional[Tensor] = None) -> LocleResult:
        """Runs the pipeline on ``data`` (its ``edge_index``, ``num_nodes`` and, unless given
        here, ``text``, ``class_names`` / ``class_descriptions`` and ``x``; ``data.y`` is
        never read).

        Args:
            data (torch_geometric.data.Data): the graph, as the text-graph loader returns it.
            annotator (Annotator): answers the questions.
            texts (Sequence[str], optional): one text per node. (default: ``data.text``)
            classes (Sequence, optional): :class:`ClassInfo` objects, ``(name, description)``
                pairs or names. (default: from ``data.class_names``)
            x (torch.Tensor, optional): node features; defaults to ``data.x`` or, without it,
                the sentence embeddings of ``texts``.
            exclude (torch.Tensor, optional): nodes (boolean mask ``[N]`` or ids) never asked
                about nor pseudo-labelled, e.g. nodes kept aside to check the result against
                the annotator (see :mod:`noisygraph.locle.tuning`). (default: :obj:`None`)
        """
        if not isinstance(annotator, Annotator):
            raise TypeError(f"annotator must be an Annotator, got {type(annotator).__name__}")
        self._fitted_graph = data
        texts, classes = text_inputs(data, texts, classes)
        num_classes = len(classes)
        num_nodes = check_num_nodes(data)
        edge_index = check_data_edge_index(data, num_nodes)
        texts = check_texts("texts", texts, length=num_nodes)
        excluded = check_node_mask("exclude", exclude, num_nodes)
        available = num_nodes - int(excluded.sum())
        if self.budget < num_classes:
            raise ValueError(f"budget ({self.budget}) must be at least the number of classes "
                             f"({num_classes})")
        if self.budget > available:
            raise ValueError(f"budget ({self.budget}) exceeds the number of nodes that may be "
                             f"asked about ({available})")
        if x is None:
            x = getattr(data, "x", None)
        if x is None:
            from noisygraph.locle.text import embed_texts
            x = embed_texts(texts, verbose=self.verbose)
        x = check_features("x", x, num_rows=num_nodes)

        num_initial = max(num_classes, int(round(self.initial_fraction * self.budget)))
        query_rounds = max(self.num_rounds - 1, 0)
        per_round = (self.budget - num_initial) // query_rounds if query_rounds else 0
        num_initial = self.budget - per_round * query_rounds  # whole budget is spent
        num_pseudo = (int(round(self.pseudo_ratio * per_round)) if self.pseudo_per_round is None
                      else self.pseudo_per_round)

        # 1. density-based initial selection on propagated features
        z = truncated_svd(propagate_features(edge_index, x, self.feature_alpha),
                          self.svd_dim, seed=self.seed)
        initial = density_select(z, num_initial, self.num_clusters or num_classes, seed=self.seed,
                                 exclude=excluded)
        annotations = self._ask(annotator, texts, initial, classes, self.verbose)

        # 2. filtering by confidence and entropy change
        labels = _Labels()
        usable = [a for a in annotations if a.ok]
        if usable:
            keep = entropy_change_filter(torch.tensor([a.label for a in usable]),
                                         torch.tensor([a.confidence for a in usable]),
                                         num_classes, self.filter_fraction)
            for answer, kept in zip(usable, keep.tolist()):
                if kept:
                    labels.nodes.append(answer.node)
                    labels.labels.append(answer.label)
                    labels.confidence.append(answer.confidence)
        if len(labels.nodes) < 2:
            raise RuntimeError(f"the annotator gave only {len(labels.nodes)} usable labels "
                               f"for {len(annotations)} questions; see the annotations' errors")

        # 3. rounds: GCN, ensemble, critical nodes
        history: list[Tensor] = []
        round_predictions: list[Tensor] = []
        rounds: list[dict] = []
        queried = torch.zeros(num_nodes, dtype=torch.bool)
        queried[initial] = True
        pseudo = torch.zeros(num_nodes, dtype=torch.bool)
        bar = tqdm(total=self.num_rounds, desc="locle rounds", disable=not self.verbose)
        for r in range(self.num_rounds):
            trained = self._train(x, edge_index, labels, num_classes, self.seed + 1000 * r)
            history.append(trained.probs)
            ensemble = self._ensemble(history)
            round_predictions.append(ensemble.argmax(1))
            row = {"round": r, "queries": len(annotations), "llm_labels": len(labels.nodes),
                   "pseudo_labels": len(labels.pseudo_nodes),
                   "heldout_agreement": trained.val_accuracy, "epoch": trained.epoch}
            rounds.append(row)
            bar.update()  # after the round's GCN, so the bar ends at num_rounds/num_rounds
            if r == self.num_rounds - 1:
                break
            candidates = torch.nonzero(~queried & ~pseudo & ~excluded).flatten()
            query, confident = critical_nodes(edge_index, ensemble, candidates, per_round,
                                              num_pseudo)
            new = self._ask(annotator, texts, query, classes, verbose=False)
            annotations.extend(new)
            queried[query] = True
            for answer in new:
                if answer.ok:
                    labels.nodes.append(answer.node)
                    labels.labels.append(answer.label)
                    labels.confidence.append(answer.confidence)
            pseudo[confident] = True
            labels.pseudo_nodes.extend(confident.tolist())
            confident_probs, confident_labels = ensemble[confident].max(1)
            labels.pseudo_labels.extend(confident_labels.tolist())
            labels.pseudo_confidence.extend(confident_probs.tolist())
        bar.close()

        # 4. refinement on a rewired graph
        if self.refine:
            history.append(self._refine(x, edge_index, labels, num_classes, rounds))
            ensemble = self._ensemble(history)
            round_predictions.append(ensemble.argmax(1))
        else:
            ensemble = self._ensemble(history)

        self.result = LocleResult(
            predictions=ensemble.argmax(1), probs=ensemble, round_predictions=round_predictions,
            rounds=rounds, annotations=annotations,
            labelled_nodes=torch.tensor(labels.nodes, dtype=torch.long),
            labels=torch.tensor(labels.labels, dtype=torch.long),
            pseudo_nodes=torch.tensor(labels.pseudo_nodes, dtype=torch.long),
            queries=len(annotations), tokens=sum(a.tokens for a in annotations),
            cost_usd=sum(a.cost_usd for a in annotations))
        return self.result

    def predict(self, data=None) -> Tensor:
        """The final class of every node of the graph :meth:`fit` ran on ``[N]`` (``data``:
        that graph or :obj:`None`; another one is a ``ValueError``)."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        check_fitted_graph(data, self._fitted_graph, type(self).__name__)
        return self.result.predictions

    def _refine(self, x, edge_index, labels: _Labels, num_classes, rounds) -> Tensor:
        labelled = torch.tensor(labels.nodes + labels.pseudo_nodes, dtype=torch.long)
        graph, weight = rewire(edge_index, x, labelled)
        # cross-fitted predictions for every annotated node (two folds)
        nodes = torch.tensor(labels.nodes, dtype=torch.long)
        generator = torch.Generator().manual_seed(self.seed + 7)
        fold = torch.randperm(nodes.numel(), generator=generator) % 2
        out_of_fold = torch.zeros(nodes.numel(), num_classes)
        for k in range(2):
            held = fold == k
            subset = _Labels([n for n, h in zip(labels.nodes, held.tolist()) if not h],
                             [c for c, h in zip(labels.labels, held.tolist()) if not h],
                             [c for c, h in zip(labels.confidence, held.tolist()) if not h],
                             labels.pseudo_nodes, labels.pseudo_labels, labels.pseudo_confidence)
            trained = self._train(x, graph, subset, num_classes, self.seed + 50_000 + k,
                                  edge_weight=weight)
            out_of_fold[held] = trained.probs[nodes[held]]
        refined, replaced = replace_labels(torch.tensor(labels.labels),
                                           torch.tensor(labels.confidence), out_of_fold)
        labels.labels = refined.tolist()
        trained = self._train(x, graph, labels, num_classes, self.seed + 60_000,
                              edge_weight=weight)
        rounds.append({"round": "refine", "queries": rounds[-1]["queries"],
                       "llm_labels": len(labels.nodes), "pseudo_labels": len(labels.pseudo_nodes),
                       "heldout_agreement": trained.val_accuracy, "epoch": trained.epoch,
                       "replaced": int(replaced.sum())})
        return trained.probs
