"""Prompt construction and robust parsing of an LLM's ranked guesses."""
from __future__ import annotations

import difflib
import json
import re
from typing import Any, Sequence

from noisygraph.locle.annotation import ClassInfo

SYSTEM_PROMPT = ("You are an expert annotator. You classify a text into exactly one of the "
                 "given categories and answer with JSON only.")


class AnswerParseError(ValueError):
    """The answer holds no usable guess (malformed JSON, unknown labels, empty)."""


def build_messages(text: str, classes: Sequence[ClassInfo], top_k: int = 3) -> list[dict]:
    """Chat messages asking for the ``top_k`` most likely classes with confidences 0–100."""
    categories = "\n".join(f"- {info.prompt_text()}" for info in classes)
    example = ", ".join('{"label": "<category name>", "confidence": <0-100>}'
                        for _ in range(min(top_k, 2)))
    user = (f"Categories:\n{categories}\n\nText: {text}\n\n"
            f"Which category does the text belong to? Give your {top_k} most likely "
            "categories, most likely first, each with your confidence from 0 to 100. "
            "Use the category names exactly as written above. Answer with JSON only, "
            f'in the form {{"guesses": [{example}, ...]}}')
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _normalise(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.lower()).split())


def match_class(answer: Any, classes: Sequence[ClassInfo], cutoff: float = 0.85,
                allow_contained: bool = True) -> int | None:
    """Index of the class ``answer`` names, or ``None``.

    Tries, in order: the exact name ignoring case and punctuation; a close spelling
    (``difflib`` ratio >= ``cutoff``); if ``allow_contained``, an answer that contains
    exactly one class name (e.g. ``"Category: Database"``). Anything else is rejected.
    """
    if not isinstance(answer, str):
        return None
    wanted = _normalise(answer)
    if not wanted:
        return None
    names = [_normalise(info.name) for info in classes]
    if wanted in names:
        return names.index(wanted)
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=cutoff)
    if close:
        return names.index(close[0])
    if not allow_contained:
        return None
    contained = [i for i, name in enumerate(names) if re.search(rf"\b{re.escape(name)}\b", wanted)]
    return contained[0] if len(contained) == 1 else None


def _extract_json(content: str) -> Any:
    content = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, flags=re.S)
    candidates = [content] + ([fenced.group(1)] if fenced else [])
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = content.find(opener), content.rfind(closer)
        if 0 <= start < end:
            candidates.append(content[start:end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise AnswerParseError(f"no JSON in the answer: {content[:80]!r}")


def _confidence(value: Any) -> float | None:
    if isinstance(value, str):
        match = re.search(r"-?\d+(?:\.\d+)?", value)
        value = float(match.group()) if match else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    if value != value:  # NaN
        return None
    return min(max(value, 0.0), 100.0) / 100.0


def _raw_guesses(payload: Any) -> list[tuple[Any, Any]]:
    if isinstance(payload, dict):
        for key in ("guesses", "answers", "predictions", "labels", "categories"):
            if isinstance(payload.get(key), list):
                return _raw_guesses(payload[key])
        if "label" in payload or "category" in payload:
            return [(payload.get("label", payload.get("category")), payload.get("confidence"))]
        # {"Database": 80, "AI": 15}
        return [(name, conf) for name, conf in payload.items()]
    if isinstance(payload, list):
        guesses = []
        for item in payload:
            if isinstance(item, dict):
                guesses.append((item.get("label", item.get("category")), item.get("confidence")))
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

    Guesses whose label is not a class are dropped; a repeated class keeps its first
    (highest-ranked) confidence; a missing confidence becomes ``0.5``. If the answer holds
    no JSON, a bare class name (e.g. ``"Database"``) is accepted with confidence ``0.5``.

    Raises:
        AnswerParseError: when no guess names a class (empty, malformed, unknown labels).
    """
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
    for label, confidence in _raw_guesses(payload):
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
        raise AnswerParseError(f"no guess names a class (got {unknown[:3]!r})" if unknown
                               else "no guesses in the answer")
    return guesses
