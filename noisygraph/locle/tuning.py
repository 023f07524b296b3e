r"""Choosing a method's defaults without ground truth.

The criterion is **agreement with held-out annotated nodes**: a set of nodes drawn
uniformly at random is put to the annotator once, kept out of every method's selection
(``exclude=``), and a configuration is scored by how often its predictions agree with what
the annotator said there, each answer weighted by the annotator's own confidence,

.. math::
    \mathrm{agree} = \frac{\sum_{i \in H} c_i\, \mathbb{1}[\hat y_i = a_i]}{\sum_{i \in H} c_i},

averaged over budgets and seeds. Only the annotator's answers are read; the ground truth
``data.y`` never is (a test permutes it and checks that nothing chosen moves). The weights
put the score where the annotator says it is sure, which lowers the reward for copying its
unsure, more often wrong, answers.

:func:`coordinate_search` changes one option at a time, in the order given, keeping a new
value only when it raises the criterion (ties keep the current value).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import torch
from torch import Tensor

from noisygraph._validation import check_features, check_int, check_num_nodes, check_texts
from noisygraph.locle.annotation import Annotation, Annotator, as_class_infos

#: the methods :func:`method_runner` knows
METHODS = ("locle", "llm-gnn", "random")


def draw_heldout(num_nodes: int, size: int, seed: int) -> Tensor:
    """``size`` distinct node ids drawn uniformly at random (sorted), with their own seed."""
    check_int("num_nodes", num_nodes, low=1)
    check_int("size", size, low=1)
    check_int("seed", seed, low=0)
    if size > num_nodes:
        raise ValueError(f"size ({size}) exceeds num_nodes ({num_nodes})")
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(num_nodes, generator=generator)[:size].sort().values


def heldout_agreement(predictions: Tensor, answers: Sequence[Annotation],
                      weighted: bool = True) -> float:
    r"""Agreement of ``predictions`` with the annotator's ``answers`` (answers without a
    label are skipped), confidence-weighted unless ``weighted=False``.

    Args:
        predictions (torch.Tensor): predicted class of every node ``[N]``.
        answers (Sequence[Annotation]): the annotator's answers on held-out nodes.
        weighted (bool): weight each answer by its confidence. (default: :obj:`True`)
    """
    if not isinstance(predictions, Tensor) or predictions.dim() != 1:
        raise ValueError("predictions must be a 1-D tensor of classes")
    usable = [a for a in answers if a.ok]
    if not usable:
        raise ValueError("answers holds no usable annotation")
    nodes = torch.tensor([a.node for a in usable], dtype=torch.long)
    if int(nodes.max()) >= predictions.numel():
        raise ValueError("answers name nodes outside predictions")
    agree = (predictions[nodes].long() == torch.tensor([a.label for a in usable])).double()
    weight = (torch.tensor([a.confidence for a in usable], dtype=torch.double) if weighted
              else torch.ones(len(usable), dtype=torch.double))
    if not float(weight.sum()) > 0:
        weight = torch.ones(len(usable), dtype=torch.double)
    return float((weight * agree).sum() / weight.sum())


@dataclass
class Trial:
    """One configuration and its criterion: ``score`` is the mean of ``scores`` (one per
    ``"budget/seed"``); ``unweighted`` is the plain agreement, recorded, never used."""

    config: dict
    score: float
    scores: dict = field(default_factory=dict)
    unweighted: float = float("nan")


@dataclass
class SearchResult:
    """What :func:`coordinate_search` chose, and every trial in the order it ran."""

    chosen: dict
    trials: list[Trial]

    def to_dict(self) -> dict:
        return {"chosen": self.chosen, "trials": [asdict(t) for t in self.trials]}


def coordinate_search(evaluate: Callable[[dict], Trial], start: Mapping,
                      grid: Mapping[str, Sequence]) -> SearchResult:
    """One pass of coordinate ascent: for each option of ``grid`` in order, every value is
    tried with the other options at their current choice; a value replaces the current one
    only if its ``Trial.score`` is strictly higher. Each distinct configuration is evaluated
    once.

    Args:
        evaluate (Callable[[dict], Trial]): scores a configuration (higher is better).
        start (Mapping): the starting configuration (every option of ``grid`` and any fixed
            ones).
        grid (Mapping[str, Sequence]): the values to try for each option.
    """
    missing = [name for name in grid if name not in start]
    if missing:
        raise ValueError(f"start must give a value to every option of grid; missing {missing}")
    trials: dict[str, Trial] = {}

    def trial(config: dict) -> Trial:
        key = json.dumps(config, sort_keys=True)
        if key not in trials:
            trials[key] = evaluate(dict(config))
        return trials[key]

    current = dict(start)
    best = trial(current).score
    for name, values in grid.items():
        for value in values:
            candidate = {**current, name: value}
            score = trial(candidate).score
            if score > best:
                current, best = candidate, score
    return SearchResult(current, list(trials.values()))


def method_runner(method: str, data, texts: Sequence[str], classes: Sequence,
                  annotator: Annotator, x: Tensor) -> Callable[[dict, int, int, Tensor], Tensor]:
    """``run(config, budget, seed, exclude) -> predictions`` for ``method`` (``"locle"``,
    ``"llm-gnn"`` or ``"random"``), ``config`` holding keyword options of
    :class:`~noisygraph.locle.Locle`, :func:`~noisygraph.locle.llm_gnn` or
    :func:`~noisygraph.locle.random_gcn`. Nothing but ``data.edge_index`` /
    ``data.num_nodes`` is read from ``data``."""
    from noisygraph.locle.baselines import llm_gnn, random_gcn
    from noisygraph.locle.pipeline import Locle

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")

    def run(config: dict, budget: int, seed: int, exclude: Tensor) -> Tensor:
        if method == "locle":
            model = Locle(budget=budget, seed=seed, verbose=False, **config)
            return model.fit(data, annotator=annotator, texts=texts, classes=classes, x=x,
                             exclude=exclude).predictions
        baseline = llm_gnn if method == "llm-gnn" else random_gcn
        return baseline(data, annotator=annotator, budget=budget, x=x, texts=texts,
                        classes=classes, seed=seed, verbose=False, exclude=exclude,
                        **config).predictions

    return run


def label_free_search(method: str, data, texts: Sequence[str], classes: Sequence,
                      annotator: Annotator, x: Tensor, *, start: Mapping,
                      grid: Mapping[str, Sequence], budgets: Sequence[int],
                      seeds: Sequence[int], heldout_size: int, heldout_seed: int,
                      on_trial: Optional[Callable[[Trial], None]] = None,
                      evaluate: Optional[Callable[[dict], Optional[Trial]]] = None
                      ) -> tuple[SearchResult, list[Annotation]]:
    """Chooses ``method``'s options by :func:`coordinate_search` on the held-out agreement
    (module docstring), never reading ``data.y``.

    Args:
        method (str): ``"locle"``, ``"llm-gnn"`` or ``"random"``.
        data, texts, classes, annotator, x: the graph, node texts, classes, annotator and
            node features, as for :class:`~noisygraph.locle.Locle`.
        start (Mapping): starting configuration.
        grid (Mapping[str, Sequence]): values tried per option.
        budgets (Sequence[int]): budgets each configuration runs at.
        seeds (Sequence[int]): seeds each configuration runs with (never the reported ones).
        heldout_size (int): held-out nodes put to the annotator (outside every budget).
        heldout_seed (int): seed of the held-out draw.
        on_trial (Callable, optional): called with each new :class:`Trial` (e.g. to save it).
        evaluate (Callable, optional): returns an already computed :class:`Trial` for a
            configuration, or :obj:`None` to compute it (resuming an interrupted search).

    Returns:
        (the :class:`SearchResult`, the held-out answers).
    """
    classes = as_class_infos(classes)
    num_nodes = check_num_nodes(data)
    texts = check_texts("texts", texts, length=num_nodes)
    x = check_features("x", x, num_rows=num_nodes)
    budgets = [check_int("budgets", b, low=1) for b in budgets]
    seeds = [check_int("seeds", s, low=0) for s in seeds]
    if not budgets or not seeds:
        raise ValueError("budgets and seeds must not be empty")
    heldout = draw_heldout(num_nodes, heldout_size, heldout_seed)
    answers = annotator.annotate([texts[i] for i in heldout.tolist()], heldout.tolist(),
                                 classes, verbose=False)
    run = method_runner(method, data, texts, classes, annotator, x)

    def score(config: dict) -> Trial:
        known = evaluate(config) if evaluate is not None else None
        if known is not None:
            return known
        scores, plain = {}, []
        for budget in budgets:
            for seed in seeds:
                predictions = run(config, budget, seed, heldout)
                scores[f"{budget}/{seed}"] = heldout_agreement(predictions, answers)
                plain.append(heldout_agreement(predictions, answers, weighted=False))
        result = Trial(config, sum(scores.values()) / len(scores), scores,
                       sum(plain) / len(plain))
        if on_trial is not None:
            on_trial(result)
        return result

    return coordinate_search(score, start, grid), answers
