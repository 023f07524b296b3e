"""An on-disk cache of annotator answers: one JSON file per answer, written atomically.

A file appears only once its answer is complete (written to a temporary file in the same
folder, flushed, fsync'ed, then ``os.replace``-d into place), so a crash at any moment
leaves either the whole answer or nothing, and a rerun never pays twice for an answer that
was received.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
from typing import Any, Optional


def answer_key(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of ``parts`` (e.g. base URL, model, request payload)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    """Answers stored as ``<root>/<key[:2]>/<key>.json``.

    Args:
        root (os.PathLike): the cache folder (created on first write).
    """

    def __init__(self, root: os.PathLike):
        self.root = pathlib.Path(root)

    def _file(self, key: str) -> pathlib.Path:
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"key must be a hex digest, got {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[dict]:
        """The stored record, or ``None`` (also for an unreadable file, which is ignored)."""
        file = self._file(key)
        try:
            with open(file, encoding="utf-8") as handle:
                return json.load(handle)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, key: str, record: dict) -> None:
        """Stores ``record`` atomically (tmp file + fsync + ``os.replace``)."""
        file = self._file(key)
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{key[:8]}", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, file)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def __contains__(self, key: str) -> bool:
        return self._file(key).exists()

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.json")) if self.root.exists() else 0
