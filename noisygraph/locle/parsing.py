"""Prompt construction and robust parsing of an LLM's ranked guesses."""
from __future__ import annotations

import difflib
import json
import re
import unicodedata
from typing import Any, Sequence

from noisygraph.locle.annotation import ClassInfo, as_class_infos

SYSTEM_PROMPT = ("You are an expert annotator. You classify a text into exactly one of the "
                 "given categories and answer with JSON only.")


class AnswerParseError(ValueError):
    """The answer holds no usable guess (malformed JSON, unknown labels, empty)."""


def build_messages(text: str, classes: Sequence[ClassInfo], top_k: int = 3) -> list[dict]:
    """Chat messages asking for the ``top_k`` most likely classes with confidences 0–100.

    Args:
        text (str): the node's text.
        classes (Sequence[ClassInfo]): the candidate classes (see
            :func:`~noisygraph.locle.annotation.as_class_infos`).
        top_k (int): guesses asked for, at least 1. (default: ``3``)
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be an int >= 1, got {top_k!r}")
    classes = as_class_infos(classes)
    categories = "\n".join(f"- {info.prompt_text()}" for info in classes)
    example = ", ".join('{"label": "<category name>", "confidence": <0-100>}'
                        for _ in range(min(top_k, 2)))
    user = (f"Categories:\n{categories}\n\nText: {text}\n\n"
            f"Which category does the text belong to? Give your {top_k} most likely "
            "categories, most likely first, each with your confidence from 0 to 100. "
            "Use the category names exactly as written above. Answer with JSON only, "
            f'in the form {{"guesses": [{example}, ...]}}')
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


#: words that turn a class name into its opposite ("not AI", "non-AI", "isn't AI", ...)
NEGATIONS = frozenset({"not", "no", "non", "never", "neither", "nor", "none", "nothing",
                       "without", "except", "excluding", "unlike", "cannot", "nope"})


def name_tokens(text: str) -> tuple[str, ...]:
    """The normalised words of a class name or an answer.

    NFKC-normalised, case-folded, ``n't`` read as ``not``, then the maximal runs of letters
    and digits (any script); everything else (spaces, punctuation, ``+``, ``#``, ``_``,
    ``-``) only separates words. ``"Data-Mining"``, ``"data  mining"`` and ``"DATA_MINING"``
    all give ``("data", "mining")``; ``"C++"`` and ``"C#"`` both give ``("c",)``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"n['\u2019]t\b", " not", folded)
    return tuple(re.findall(r"[^\W_]+", folded))


def name_key(text: str) -> str:
    """The words of :func:`name_tokens` joined without separators: two class names with the
    same key cannot be told apart in an answer (``"Data Base"`` and ``"database"``, ``"C++"``
    and ``"C#"``), so :func:`~noisygraph.locle.annotation.as_class_infos` rejects them."""
    return "".join(name_tokens(text))


def _same_word(word: str, name_word: str) -> bool:
    """A word of an answer equals a word of a class name, allowing a plural ``-s``/``-es``."""
    return word == name_word or word in (name_word + "s", name_word + "es")


def _occurrences(words: tuple[str, ...],
                 names: list[tuple[str, ...]]) -> list[tuple[int, int, int]]:
    """``(start, end, class)`` for every place where a class name's words appear as
    consecutive words of the answer, without those lying inside a longer class name's
    occurrence (``"AI"`` inside ``"Not AI"``, ``"Data"`` inside ``"Data Mining"``)."""
    found = []
    for index, name in enumerate(names):
        width = len(name)
        for start in range(len(words) - width + 1):
            if all(_same_word(words[start + j], name[j]) for j in range(width)):
                found.append((start, start + width, index))
    return [(start, end, index) for start, end, index in found
            if not any(s <= start and end <= e and (e - s) > (end - start)
                       for s, e, other in found if other != index)]


def _similar(a: str, b: str, cutoff: float) -> bool:
    if 2 * min(len(a), len(b)) < cutoff * (len(a) + len(b)):  # the ratio cannot reach cutoff
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= cutoff


def match_class(answer: Any, classes: Sequence[ClassInfo], cutoff: float = 0.85,
                allow_contained: bool = True) -> int | None:
    r"""Index of the class ``answer`` names, or ``None``: the one rule by which every answer
    is mapped to a class.

    The answer and each class name are reduced to their words (:func:`name_tokens`). Let
    the *occurrences* be the places where a class name's words appear as consecutive words
    of the answer (a plural ``-s``/``-es`` allowed), dropping those inside a longer class
    name's occurrence (``"AI"`` inside ``"Not AI"``), and let the *negations* be the words of
    :data:`NEGATIONS`. Then, in order:

    1. **Exact.** The answer's :func:`name_key` equals a class's key (case, spacing and
       punctuation ignored; class names are distinct under this key): that class. A class
       named ``"Not AI"`` is matched by ``"not ai"`` here.
    2. **Two classes named.** Occurrences of two or more different classes: ``None``
       (``"AI, not Database"``, ``"Data Mining or AI"``).
    3. **A close spelling.** If some class names are within ``difflib`` similarity
       ``cutoff`` of the answer (``"Databse"``, ``"Databases"``): that class when there is
       exactly one, no other class occurs, and the answer holds as many negation words as
       that class name; otherwise ``None``.
    4. **Contained** (only if ``allow_contained``). Occurrences of exactly one class and no
       negation word outside them (``"Category: Database"``, ``"AI (artificial
       intelligence)"``): that class.
    5. Anything else: ``None``. So ``"Not AI"``, ``"non-AI"``, ``"isn't AI"`` and ``"AI? no"``
       are never read as ``"AI"`` — unless a class is named ``"Not AI"``, which they match
       by rule 1, 3 or 4.

    Args:
        answer (Any): what the model wrote as a label (anything but a ``str`` gives ``None``).
        classes (Sequence[ClassInfo]): the candidate classes.
        cutoff (float): the ``difflib`` ratio a close spelling needs. (default: ``0.85``)
        allow_contained (bool): apply rule 4. (default: :obj:`True`)
    """
    if not isinstance(answer, str):
        return None
    words = name_tokens(answer)
    if not words:
        return None
    names = [name_tokens(info.name) for info in classes]
    keys = ["".join(name) for name in names]
    wanted = "".join(words)
    if wanted in keys:
        return keys.index(wanted)
    spans = _occurrences(words, names)
    named = {index for _, _, index in spans}
    if len(named) > 1:
        return None
    phrase = " ".join(words)
    close = [index for index, name in enumerate(names) if _similar(phrase, " ".join(name), cutoff)]
    if close:
        if len(close) > 1 or not named <= set(close):
            return None
        index = close[0]
        same_negations = (sum(word in NEGATIONS for word in words)
                          == sum(word in NEGATIONS for word in names[index]))
        return index if same_negations else None
    if not allow_contained or len(named) != 1:
        return None
    covered = {position for start, end, _ in spans for position in range(start, end)}
    if any(word in NEGATIONS for position, word in enumerate(words) if position not in covered):
        return None
    return named.pop()


def _extract_json(content: str) -> Any:
    content = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, flags=re.S | re.I)
    candidates = [content] + ([fenced.group(1)] if fenced else [])
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = content.find(opener), content.rfind(closer)
        if 0 <= start < end:
            candidates.append(content[start:end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):  # also absurd nesting or a 5000-digit number
            continue
    raise AnswerParseError(f"no JSON in the answer: {content[:80]!r}")


def _confidence(value: Any) -> float | None:
    if isinstance(value, str):
        match = re.search(r"-?\d+(?:\.\d+)?", value[:100])
        value = float(match.group()) if match else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a float
        value = float("inf") if value > 0 else float("-inf")
    if value != value:  # NaN
        return None
    return min(max(value, 0.0), 100.0) / 100.0


_MAX_GUESSES = 100  # guesses read from one answer (a runaway list is cut here)
_LIST_KEYS = ("guesses", "answers", "predictions", "labels", "categories", "top_k")
_LABEL_KEYS = ("label", "category", "class", "answer", "prediction", "name")


def _label_of(item: dict) -> Any:
    return next((item[key] for key in _LABEL_KEYS if key in item), None)


def _raw_guesses(payload: Any) -> list[tuple[Any, Any]]:
    """``(label, confidence)`` pairs of the JSON shapes models use; keys that are neither a
    label, a confidence nor a list of guesses (``"reasoning"``, ...) are ignored."""
    if isinstance(payload, dict):
        for key in _LIST_KEYS:
            if isinstance(payload.get(key), list):
                return _raw_guesses(payload[key])
        if any(key in payload for key in _LABEL_KEYS):
            return [(_label_of(payload), payload.get("confidence"))]
        # {"Database": 80, "AI": 15}: only entries whose value reads as a confidence
        return [(name, conf) for name, conf in payload.items() if _confidence(conf) is not None]
    if isinstance(payload, list):
        guesses = []
        for item in payload:
            if isinstance(item, dict):
                guesses.append((_label_of(item), item.get("confidence")))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                guesses.append((item[0], item[1]))
            elif isinstance(item, str):
                guesses.append((item, None))
        return guesses
    if isinstance(payload, str):
        return [(payload, None)]
    return []


def parse_guesses(content: str | None, classes: Sequence[ClassInfo],
                  top_k: int = 3) -> list[tuple[int, float]]:
    """Parses an answer into at most ``top_k`` ranked ``(class, confidence in [0, 1])``.

    The JSON is the whole answer, the first fenced code block, or the text from the first
    ``{`` (``[``) to the last ``}`` (``]``). Accepted shapes: ``{"guesses": [{"label": ...,
    "confidence": ...}, ...]}`` (also under ``answers``, ``predictions``, ``labels``,
    ``categories``, ``top_k``; a label also under ``category``, ``class``, ``answer``,
    ``prediction``, ``name``), one ``{"label": ..., "confidence": ...}``, a list of such
    objects, of ``[label, confidence]`` pairs or of names, and ``{"Database": 80, "AI": 15}``
    (entries whose value is not a number are ignored). Other keys (``"reasoning"``, ...) are
    ignored. Each label is mapped to a class by :func:`match_class` (the only rule; a label it
    refuses is dropped); a repeated class keeps its first (highest-ranked) confidence; a
    confidence (0–100, also ``"70%"``) is clipped to ``[0, 100]`` and divided by 100, and a
    missing one becomes ``0.5``. If the answer holds no JSON, a bare class name (e.g.
    ``"Database."``) is accepted with confidence ``0.5`` by rules 1–3 of :func:`match_class`
    (never by containment). At most the first 100 guesses are read.

    Args:
        content (str, optional): the model's answer.
        classes (Sequence[ClassInfo]): the candidate classes (see
            :func:`~noisygraph.locle.annotation.as_class_infos`).
        top_k (int): guesses kept, at least 1. (default: ``3``)

    Raises:
        AnswerParseError: when no guess names a class (empty, malformed, unknown labels).
        TypeError, ValueError: ``content``, ``classes`` or ``top_k`` are not valid.
    """
    if content is not None and not isinstance(content, str):
        raise TypeError(f"content must be a str or None, got {type(content).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be an int >= 1, got {top_k!r}")
    classes = as_class_infos(classes)
    if content is None or not content.strip():
        raise AnswerParseError("empty answer")
    try:
        payload = _extract_json(content)
    except AnswerParseError:
        single = match_class(content.strip().strip('."'), classes, allow_contained=False)
        if single is None:
            raise
        return [(single, 0.5)]
    guesses: list[tuple[int, float]] = []
    unknown = []
    for label, confidence in _raw_guesses(payload)[:_MAX_GUESSES]:
        index = match_class(label, classes)
        if index is None:
            unknown.append(label)
            continue
        if any(index == seen for seen, _ in guesses):
            continue
        value = _confidence(confidence)
        guesses.append((index, 0.5 if value is None else value))
        if len(guesses) == top_k:
            break
    if not guesses:
        shown = ", ".join(repr(label)[:60] for label in unknown[:3])
        raise AnswerParseError(f"no guess names a class (got {shown})" if unknown
                               else "no guesses in the answer")
    return guesses
