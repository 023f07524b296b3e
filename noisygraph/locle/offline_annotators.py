"""Annotators that need no server: zero-shot sentence-embedding similarity, answers
recorded in a file, and a simulated noisy oracle (for controlled experiments only)."""
from __future__ import annotations

import json
import os
import pathlib
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from noisygraph._validation import (check_bool, check_features, check_int, check_real,
                                    check_texts, check_type)
from noisygraph.locle.annotation import NO_LABEL, Annotation, Annotator, ClassInfo, as_class_infos
from noisygraph.locle.parsing import match_class
from noisygraph.locle.text import DEFAULT_MODEL, embed_texts


def fit_temperature(similarities: Tensor) -> float:
    r"""Softmax temperature fitted on unlabelled similarities (no ground truth):

    .. math::
        T = \operatorname{std}_{i,c}\Big(s_{ic} - \tfrac{1}{C}\textstyle\sum_{c'} s_{ic'}\Big),

    the spread of the per-node centred cosine similarities over the whole corpus, so that
    the logits :math:`s/T` are on a unit scale whatever the embedding model's absolute
    similarity range (all-MiniLM-L6-v2 gives cosines in a narrow band, and a raw softmax
    over them would be nearly uniform).
    """
    check_features("similarities", similarities)  # a finite floating [N >= 1, C] tensor
    if similarities.size(1) < 2:
        raise ValueError("similarities must be a non-empty [N, C] tensor with C >= 2")
    centred = similarities - similarities.mean(dim=1, keepdim=True)
    spread = float(centred.std())
    if not spread > 0:
        raise ValueError("similarities carry no information (all equal); cannot fit a temperature")
    return spread


class EmbeddingAnnotator(Annotator):
    r"""Offline zero-shot annotator: cosine similarity between a node's text and each
    class's ``"name: description"`` in all-MiniLM-L6-v2 space, turned into a confidence by
    a temperature softmax :math:`p_{ic} = \mathrm{softmax}_c(s_{ic}/T)`.

    The label is :math:`\arg\max_c s_{ic}` and the confidence :math:`\max_c p_{ic}`. The
    temperature is ``temperature`` when given, otherwise :func:`fit_temperature` over the
    ``corpus`` (all node texts, no labels) — or over the texts of the first call when no
    corpus is given.

    Args:
        corpus (Sequence[str], optional): every node text; embedded once (cached on disk)
            and reused when those texts are annotated. (default: :obj:`None`)
        temperature (float, optional): fixed softmax temperature. (default: :obj:`None`)
        model_name (str): sentence model. (default: ``"all-MiniLM-L6-v2"``)
        top_k (int): guesses kept per node. (default: ``3``)
        corpus_embeddings (torch.Tensor, optional): precomputed embeddings of ``corpus``
            (e.g. the node features), to skip embedding it again. (default: :obj:`None`)
    """

    def __init__(self, corpus: Optional[Sequence[str]] = None, temperature: Optional[float] = None,
                 model_name: str = DEFAULT_MODEL, top_k: int = 3,
                 corpus_embeddings: Optional[Tensor] = None, verbose: bool = True):
        super().__init__()
        if temperature is not None:
            temperature = check_real("temperature", temperature, low=0.0, low_open=True)
        self.model_name = check_type("model_name", model_name, str)
        self.temperature = temperature
        self.top_k = check_int("top_k", top_k, low=1)
        verbose = check_bool("verbose", verbose)
        self._rows: dict[str, int] = {}
        self._corpus_embeddings: Optional[Tensor] = None
        if corpus is not None:
            corpus = check_texts("corpus", corpus)
            if corpus_embeddings is None:
                corpus_embeddings = embed_texts(corpus, model_name, verbose=verbose)
            else:
                corpus_embeddings = check_features("corpus_embeddings", corpus_embeddings,
                                                   num_rows=len(corpus))
            self._corpus_embeddings = corpus_embeddings.float()
            self._rows = {text: i for i, text in enumerate(corpus)}
        elif corpus_embeddings is not None:
            raise ValueError("corpus_embeddings needs corpus")

    def class_embeddings(self, classes: Sequence[ClassInfo]) -> Tensor:
        """Embeddings of ``"name: description"`` of each class."""
        prompts = [info.prompt_text() for info in as_class_infos(classes)]
        return embed_texts(prompts, self.model_name, cache=False, verbose=False)

    def similarities(self, texts: Sequence[str], classes: Sequence[ClassInfo],
                     verbose: bool = False) -> Tensor:
        """Cosine similarities ``[len(texts), C]``."""
        known = [self._rows.get(text) for text in texts]
        missing = [i for i, row in enumerate(known) if row is None]
        fresh = embed_texts([texts[i] for i in missing], self.model_name, cache=False,
                            verbose=verbose) if missing else None
        width = fresh.size(1) if fresh is not None else self._corpus_embeddings.size(1)
        emb = torch.empty(len(texts), width)
        present = [i for i, row in enumerate(known) if row is not None]
        if present:
            emb[present] = self._corpus_embeddings[[known[i] for i in present]]
        if missing:
            emb[missing] = fresh
        return emb @ self.class_embeddings(classes).T

    def _annotate(self, texts, node_ids, classes, verbose):
        if self.temperature is None:
            if self._corpus_embeddings is not None:
                reference = self._corpus_embeddings @ self.class_embeddings(classes).T
            else:
                reference = self.similarities(texts, classes, verbose)
            self.temperature = fit_temperature(reference)
        sims = self.similarities(texts, classes, verbose)
        probs = torch.softmax(sims / self.temperature, dim=1)
        conf, order = probs.sort(dim=1, descending=True)
        k = min(self.top_k, len(classes))
        self._account(queries=len(texts))
        return [Annotation(node, int(order[i, 0]), float(conf[i, 0]),
                           top_k=[(int(order[i, j]), float(conf[i, j])) for j in range(k)])
                for i, node in enumerate(node_ids)]


class RecordedAnnotator(Annotator):
    """Answers read from a file (e.g. an earlier LLM run saved by :func:`save_annotations`).

    The file is JSON Lines (one object per line) or a JSON list of objects, each with
    ``node`` (int), ``label`` (class name or index), ``confidence`` (0–100) and optionally
    ``top_k`` (list of ``[label, confidence]``) and ``tokens``. A node without a record
    comes back with ``label == -1``. Nothing is paid (``cost_usd == 0``).

    Args:
        path (os.PathLike): the answers file.
    """

    def __init__(self, path: os.PathLike):
        super().__init__()
        self.path = pathlib.Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"answers file {self.path} does not exist")
        text = self.path.read_text(encoding="utf-8").strip()
        try:
            records = json.loads(text) if text.startswith("[") else [
                json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise ValueError(f"answers file {self.path} is not JSON / JSON Lines: {error}") from None
        self.records: dict[int, dict] = {}
        for number, record in enumerate(records):
            if not isinstance(record, dict) or "node" not in record or "label" not in record:
                raise ValueError(f"answers file {self.path}: record {number} needs 'node' and "
                                 f"'label', got {record!r}")
            self.records[int(record["node"])] = record

    def _label(self, value, classes) -> Optional[int]:
        if isinstance(value, int) and not isinstance(value, bool):
            return value if 0 <= value < len(classes) else None
        return match_class(value, classes)

    def _annotate(self, texts, node_ids, classes, verbose):
        answers = []
        for node in node_ids:
            record = self.records.get(node)
            if record is None:
                answers.append(Annotation(node, NO_LABEL, 0.0, error="no recorded answer"))
                continue
            label = self._label(record["label"], classes)
            if label is None:
                answers.append(Annotation(node, NO_LABEL, 0.0, cached=True,
                                          error=f"recorded label {record['label']!r} is not a class"))
                continue
            confidence = min(max(float(record.get("confidence", 50.0)), 0.0), 100.0) / 100.0
            top_k = []
            for guess, guess_conf in record.get("top_k", [[record["label"], record.get("confidence", 50.0)]]):
                index = self._label(guess, classes)
                if index is not None and all(index != seen for seen, _ in top_k):
                    top_k.append((index, min(max(float(guess_conf), 0.0), 100.0) / 100.0))
            answers.append(Annotation(node, label, confidence, top_k=top_k,
                                      tokens=int(record.get("tokens", 0)), cached=True))
        self._account(cache_hits=sum(a.cached for a in answers))
        return answers


def save_annotations(path: os.PathLike, annotations: Sequence[Annotation],
                     classes: Sequence[ClassInfo]) -> None:
    """Writes usable annotations as JSON Lines readable by :class:`RecordedAnnotator`."""
    classes = as_class_infos(classes)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for answer in annotations:
            if not answer.ok:
                continue
            out.write(json.dumps({
                "node": answer.node, "label": classes[answer.label].name,
                "confidence": round(100.0 * answer.confidence, 3),
                "top_k": [[classes[c].name, round(100.0 * p, 3)] for c, p in answer.top_k],
                "tokens": answer.tokens}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class SimulatedAnnotator(Annotator):
    r"""A **simulated** noisy oracle, for controlled experiments only: it reads the ground
    truth ``y`` (the only component of :mod:`noisygraph.locle` that does).

    Node :math:`i` is answered correctly with probability ``accuracy``, otherwise with a
    class drawn uniformly among the others. The confidence is informative but imperfect:
    :math:`\mathcal{N}(0.75, 0.15^2)` for a correct answer and :math:`\mathcal{N}(0.55, 0.15^2)`
    for a wrong one, clipped to :math:`[0.05, 1]`. Each node's answer depends only on
    ``(seed, node)``, so it is the same whatever the order or batch of questions.

    Args:
        y (torch.Tensor): true labels ``[N]``.
        accuracy (float): probability of a correct answer, in ``[0, 1]``.
        num_classes (int, optional): defaults to ``y.max() + 1``.
        seed (int): (default: ``0``)
    """

    def __init__(self, y: Tensor, accuracy: float, num_classes: Optional[int] = None,
                 seed: int = 0):
        super().__init__()
        if not isinstance(y, Tensor) or y.dim() != 1:
            raise ValueError("y must be a 1-D tensor of class indices")
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError(f"accuracy must be in [0, 1], got {accuracy}")
        self.y = y.long().cpu()
        self.accuracy = float(accuracy)
        self.num_classes = int(num_classes if num_classes is not None else int(y.max()) + 1)
        self.seed = int(seed)

    def _annotate(self, texts, node_ids, classes, verbose):
        if len(classes) != self.num_classes:
            raise ValueError(f"classes has {len(classes)} entries, the simulation {self.num_classes}")
        answers = []
        for node in node_ids:
            if node >= self.y.numel():
                raise ValueError(f"node id {node} is outside the {self.y.numel()} labelled nodes")
            rng = np.random.default_rng([self.seed, node])
            truth = int(self.y[node])
            correct = rng.random() < self.accuracy
            others = [c for c in range(self.num_classes) if c != truth]
            label = truth if correct else int(rng.choice(others))
            confidence = float(np.clip(rng.normal(0.75 if correct else 0.55, 0.15), 0.05, 1.0))
            runner_up = int(rng.choice([c for c in range(self.num_classes) if c != label]))
            answers.append(Annotation(node, label, confidence,
                                      top_k=[(label, confidence),
                                             (runner_up, (1.0 - confidence) / 2)]))
        self._account(queries=len(answers))
        return answers
