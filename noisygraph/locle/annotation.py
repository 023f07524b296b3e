"""The annotator interface: node texts and class names/descriptions in, labels with a
confidence and a cost out."""
from __future__ import annotations

import abc
import operator
import threading
from dataclasses import dataclass, field
from typing import Optional, Sequence

NO_LABEL = -1


@dataclass(frozen=True)
class ClassInfo:
    """One class the annotator may answer: its name and a one-paragraph description."""

    name: str
    description: str = ""

    def prompt_text(self) -> str:
        """``"name: description"`` (or the bare name without a description)."""
        return f"{self.name}: {self.description}" if self.description else self.name


@dataclass
class Annotation:
    """One annotator answer for one node.

    Attributes:
        node (int): the node id the question was about.
        label (int): the chosen class index, or ``NO_LABEL`` (-1) when no usable answer came
            back (see ``error``).
        confidence (float): the annotator's confidence in ``label``, in ``[0, 1]``.
        top_k (list[tuple[int, float]]): the ranked guesses ``(class, confidence)``.
        tokens (int): tokens this question used (prompt + completion); reported even when
            the answer came from the cache.
        cost_usd (float): dollars paid for this answer now (0 for a cache hit).
        cached (bool): answered from the on-disk cache, nothing paid.
        error (str, optional): why ``label`` is ``NO_LABEL``.
    """

    node: int
    label: int
    confidence: float
    top_k: list[tuple[int, float]] = field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        """Whether the annotation holds a usable label."""
        return self.label != NO_LABEL


@dataclass
class Usage:
    """Running totals of an annotator.

    Attributes:
        queries (int): questions answered (or attempted, for a paid annotator) without the
            cache.
        cache_hits (int): questions answered from the cache, nothing paid.
        failures (int): questions that got no answer (the reason is in the annotation).
        prompt_tokens (int), completion_tokens (int), cost_usd (float): what was paid.
        requests (int): requests that may have been billed, retries included (a paid
            annotator's budget counts these).
    """

    queries: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Annotator(abc.ABC):
    """Base class of every annotator.

    Subclasses implement :meth:`_annotate`; :meth:`annotate` validates the input and keeps
    the running :attr:`usage` totals (thread-safe).
    """

    #: whether answers cost money / network queries (used by reports)
    paid: bool = False

    def __init__(self):
        self.usage = Usage()
        self._usage_lock = threading.Lock()

    def annotate(self, texts: Sequence[str], node_ids: Sequence[int],
                 classes: Sequence[ClassInfo], verbose: bool = True) -> list[Annotation]:
        """Annotates ``texts[i]`` (the text of node ``node_ids[i]``) with one of ``classes``.

        Args:
            texts (Sequence[str]): node texts.
            node_ids (Sequence[int]): the node of each text (same length as ``texts``).
            classes (Sequence[ClassInfo]): the candidate classes (at least two).
            verbose (bool): show a progress bar. (default: :obj:`True`)
        """
        texts, node_ids, classes = check_annotation_input(texts, node_ids, classes)
        if not texts:
            return []
        answers = self._annotate(texts, node_ids, classes, verbose)
        if len(answers) != len(texts):
            raise RuntimeError(f"{type(self).__name__} returned {len(answers)} answers "
                               f"for {len(texts)} texts")
        return answers

    @abc.abstractmethod
    def _annotate(self, texts: list[str], node_ids: list[int], classes: list[ClassInfo],
                  verbose: bool) -> list[Annotation]:
        """Answers already-validated input."""

    def _account(self, *, queries: int = 0, requests: int = 0, cache_hits: int = 0,
                 failures: int = 0,
                 prompt_tokens: int = 0, completion_tokens: int = 0,
                 cost_usd: float = 0.0) -> None:
        with self._usage_lock:
            self.usage.queries += queries
            self.usage.requests += requests
            self.usage.cache_hits += cache_hits
            self.usage.failures += failures
            self.usage.prompt_tokens += prompt_tokens
            self.usage.completion_tokens += completion_tokens
            self.usage.cost_usd += cost_usd


def as_class_infos(classes: Sequence) -> list[ClassInfo]:
    """Accepts ``ClassInfo`` objects, ``(name, description)`` pairs or bare names, and checks
    that an answer can name each class unambiguously.

    Class names are compared by :func:`~noisygraph.locle.parsing.name_key` (their letters
    and digits, case-folded, without spaces or punctuation), the key by which answers are
    matched: two names with the same key (``"C++"`` and ``"C#"``, ``"Data Mining"`` and
    ``"data-mining"``, ``"Data Base"`` and ``"Database"``) are rejected, and so is a name
    without a letter or digit (``"++"``) or one spread over several lines. A name that
    contains another (``"AI"`` and ``"Not AI"``) is allowed: the matching rule
    (:func:`~noisygraph.locle.parsing.match_class`) prefers the longer name and never reads
    ``"Not AI"`` as ``"AI"``.

    Raises:
        TypeError: ``classes`` is not a sequence of those, or a name/description is not a str.
        ValueError: fewer than two classes, or names that cannot be told apart.
    """
    from noisygraph.locle.parsing import name_key

    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise TypeError(f"classes must be a sequence of ClassInfo, (name, description) pairs "
                        f"or names, got {type(classes).__name__}")
    infos = []
    for entry in classes:
        if isinstance(entry, ClassInfo):
            info = entry
        elif isinstance(entry, str):
            info = ClassInfo(entry)
        elif isinstance(entry, (tuple, list)) and len(entry) == 2:
            info = ClassInfo(entry[0], entry[1])
        else:
            raise TypeError(f"classes entries must be ClassInfo, str or (name, description), "
                            f"got {entry!r}")
        if not isinstance(info.name, str) or not isinstance(info.description, str):
            raise TypeError(f"classes: a class name and description must be str, got "
                            f"{info.name!r}, {info.description!r}")
        infos.append(info)
    if len(infos) < 2:
        raise ValueError(f"classes must hold at least two classes, got {len(infos)}")
    seen: dict[str, str] = {}
    for info in infos:
        if any(mark in info.name for mark in "\r\n"):
            raise ValueError(f"classes: a class name must be one line, got {info.name!r}")
        key = name_key(info.name)
        if not key:
            raise ValueError(f"classes: class name {info.name!r} has no letter or digit")
        if key in seen:
            raise ValueError(f"classes: class names must be distinct ignoring case, spaces "
                             f"and punctuation, but {seen[key]!r} and {info.name!r} cannot be "
                             "told apart in an answer")
        seen[key] = info.name
    return infos


def check_annotation_input(texts: Sequence[str], node_ids: Sequence[int],
                           classes: Sequence) -> tuple[list[str], list[int], list[ClassInfo]]:
    """Validates the arguments of :meth:`Annotator.annotate` (clear errors naming them)."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}")
    if any(not isinstance(text, str) for text in texts):
        raise TypeError("texts must hold only str")
    try:
        node_ids = [operator.index(node) for node in node_ids]
    except TypeError as error:
        raise TypeError(f"node_ids must be a sequence of int: {error}") from None
    if len(texts) != len(node_ids):
        raise ValueError(f"texts ({len(texts)}) and node_ids ({len(node_ids)}) must have the "
                         "same length")
    if any(node < 0 for node in node_ids):
        raise ValueError("node_ids must be >= 0")
    return list(texts), node_ids, as_class_infos(classes)


def text_inputs(data, texts: Optional[Sequence[str]],
                classes: Optional[Sequence]) -> tuple[Sequence[str], list[ClassInfo]]:
    """The node texts and classes a method reads: the given ones, else those the text-graph
    loader puts on ``data`` (``data.text``; ``data.class_names`` with
    ``data.class_descriptions`` when present)."""
    if texts is None:
        texts = getattr(data, "text", None)
        if texts is None:
            raise ValueError("texts is required: pass texts= or load the graph with its "
                             "texts (data.text)")
    if classes is None:
        names = getattr(data, "class_names", None)
        if names is None:
            raise ValueError("classes is required: pass classes= or load the graph with its "
                             "class names (data.class_names)")
        descriptions = getattr(data, "class_descriptions", None)
        classes = list(names) if descriptions is None else list(zip(names, descriptions))
    return texts, as_class_infos(classes)
