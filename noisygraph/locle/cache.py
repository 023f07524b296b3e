"""What a paid annotator keeps on disk: its answers and a ledger of what it paid for.

:class:`AnswerCache` stores one JSON file per answer, written atomically: a file appears
only once its answer is complete (written to a temporary file in the same folder, flushed,
fsync'ed, then ``os.replace``-d into place), so a crash at any moment leaves either the
whole answer or nothing, and a rerun never pays twice for an answer that was received.

:class:`QueryLedger` is an append-only, fsync'ed record of every request that may have been
billed, written *before* the request is sent, so a budget holds across crashes and resumes.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
import threading
import time
import uuid
import warnings
from typing import Any, Optional

try:  # cross-process locking of the ledger (POSIX); threads are always serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


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
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a path, got {type(root).__name__}")
        self.root = pathlib.Path(root)
        #: paths of entries found unreadable by :meth:`get` (each was treated as a miss)
        self.corrupt: list[pathlib.Path] = []

    def _file(self, key: str) -> pathlib.Path:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        if len(key) < 3 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"key must be a hex digest, got {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[dict]:
        """The stored record, or ``None`` when there is none.

        An entry that cannot be read as a JSON object (truncated, not UTF-8, not JSON, a
        folder in its place, no permission) is also ``None``: it is a miss, never an error.
        Its path is appended to :attr:`corrupt` so that the caller can report it (the
        annotator warns once per call).
        """
        file = self._file(key)
        try:
            with open(file, encoding="utf-8") as handle:
                record = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            self.corrupt.append(file)
            return None
        if not isinstance(record, dict):
            self.corrupt.append(file)
            return None
        return record

    def put(self, key: str, record: dict) -> None:
        """Stores ``record`` atomically (tmp file + fsync + ``os.replace``).

        Raises:
            TypeError, ValueError: ``record`` is not a dict that JSON can hold exactly (no
                NaN or infinity), or ``key`` is not a hex digest.
        """
        file = self._file(key)
        if not isinstance(record, dict):
            raise TypeError(f"record must be a dict, got {type(record).__name__}")
        try:
            text = json.dumps(record, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"record must be JSON-serialisable without NaN/inf: {error}") from None
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{key[:8]}", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
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


class QueryLedger:
    r"""An append-only record of the requests a budget has paid for, shared by every
    process and thread that opens the same file.

    One JSON line per request that may be billed, appended and fsync'ed **before** the
    request is sent (:meth:`reserve`), and one line when it turned out that nothing was
    billed (:meth:`refund`: never sent, or refused by the server with a 4xx status). The
    spent count is the number of reservations without a refund, so a process killed at any
    moment (before, during or after a request) leaves a count that is never below what was
    really paid. A line that cannot be parsed (e.g. torn by a crash while it was written)
    counts as one spent request, with one warning.

    Reservations are serialised by a lock within the process and, on POSIX, by ``flock``
    across processes; before deciding, :meth:`reserve` reads the lines other writers
    appended since it last looked. No line holds a secret: an id, the event, the time and
    the caller's ``details`` (the annotator writes the question's key, base URL and model).

    Args:
        path (os.PathLike): the ledger file (created with its folder on first use).
        scope (str): what the budget is about, written in each reservation for people
            reading the file. (default: ``""``)
    """

    def __init__(self, path: os.PathLike, scope: str = ""):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a path, got {type(path).__name__}")
        if not isinstance(scope, str):
            raise TypeError(f"scope must be a str, got {type(scope).__name__}")
        self.path = pathlib.Path(path)
        self.scope = scope
        self._lock = threading.Lock()
        self._offset = 0
        self._reserved: set[str] = set()
        self._refunded: set[str] = set()
        self._unreadable = 0
        self._warned = False

    @property
    def spent(self) -> int:
        """Requests counted as paid: reserved and not refunded, plus unreadable lines."""
        with self._lock:
            if self.path.exists():
                with _LockedFile(self.path) as fd:
                    self._catch_up(fd)
            return self._spent()

    def _spent(self) -> int:
        return len(self._reserved - self._refunded) + self._unreadable

    def _catch_up(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if size < self._offset:  # the file was replaced: read it again
            self._offset, self._reserved, self._refunded, self._unreadable = 0, set(), set(), 0
        data = b""
        os.lseek(fd, self._offset, os.SEEK_SET)
        while len(data) < size - self._offset:
            chunk = os.read(fd, size - self._offset - len(data))
            if not chunk:
                break
            data += chunk
        self._offset += len(data)
        before = self._unreadable
        for line in data.split(b"\n"):
            if line.strip():
                self._read_line(line)
        if self._unreadable > before and not self._warned:
            self._warned = True
            warnings.warn(f"query ledger {self.path}: {self._unreadable - before} unreadable "
                          "line(s) (e.g. torn by a crash); each counts as one paid request",
                          RuntimeWarning, stacklevel=4)

    def _read_line(self, line: bytes) -> None:
        try:
            entry = json.loads(line.decode("utf-8"))
            event, entry_id = entry["event"], entry["id"]
            if not isinstance(entry_id, str) or event not in ("reserve", "refund"):
                raise ValueError("not a ledger entry")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
            self._unreadable += 1
            return
        (self._reserved if event == "reserve" else self._refunded).add(entry_id)

    def _append(self, fd: int, entry: dict) -> None:
        line = (json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        size = os.fstat(fd).st_size
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) != b"\n":  # end a torn line first, so that ours stays readable
                line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
        self._offset = os.fstat(fd).st_size

    def reserve(self, limit: Optional[int], **details: Any) -> Optional[str]:
        """Records one request about to be sent, unless ``limit`` requests are already
        spent; returns the entry's id, or ``None`` when the budget is exhausted.

        Args:
            limit (int, optional): the budget (``None``: unlimited, still recorded).
            **details: JSON-serialisable facts written in the line (e.g. the question key).
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise TypeError(f"limit must be an int or None, got {type(limit).__name__}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        reserved = {"event", "id", "scope", "time"} & set(details)
        if reserved:
            raise ValueError(f"details must not use the ledger's own fields {sorted(reserved)}")
        with self._lock:
            with _LockedFile(self.path) as fd:
                self._catch_up(fd)
                if limit is not None and self._spent() >= limit:
                    return None
                entry_id = uuid.uuid4().hex
                self._append(fd, {"event": "reserve", "id": entry_id, "scope": self.scope,
                                  "time": round(time.time(), 3), **details})
                self._reserved.add(entry_id)
                return entry_id

    def refund(self, entry_id: str, reason: str) -> None:
        """Records that the request ``entry_id`` was not billed (never sent, or refused by
        the server with a 4xx status)."""
        if not isinstance(entry_id, str) or not isinstance(reason, str):
            raise TypeError("entry_id and reason must be str")
        with self._lock:
            with _LockedFile(self.path) as fd:
                self._catch_up(fd)
                self._append(fd, {"event": "refund", "id": entry_id, "reason": reason,
                                  "time": round(time.time(), 3)})
                self._refunded.add(entry_id)


class _LockedFile:
    """The ledger file opened for appending, under an exclusive ``flock`` (POSIX)."""

    def __init__(self, path: pathlib.Path):
        self.path = path

    def __enter__(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        if created and hasattr(os, "O_DIRECTORY"):  # make the new file's entry durable
            folder = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self.fd

    def __exit__(self, *exc) -> None:
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
