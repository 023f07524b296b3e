"""Where raw data sets are read from and where derived files are written.

Two folders, both overridable by environment variables:

* the **data root** (``NOISYGRAPH_DATA``, default ``~/.cache/noisygraph``) holds the raw files,
  laid out like ``planetoid/ind.<name>.*``, ``wfd/<name>/``, ``tag/<name>/``, ``ogb/<name>/``.
  It may be read-only (CI points it at a shared, read-only copy);
* the **cache dir** (``NOISYGRAPH_CACHE``, default ``~/.cache/noisygraph/processed``) receives
  everything derived: PyG's processed files, parsed graphs, downloads.
"""
from __future__ import annotations

import os
import pathlib
from typing import Callable, Iterable, Optional, Union

import torch

PathLike = Union[str, os.PathLike]

DATA_ENV = "NOISYGRAPH_DATA"
CACHE_ENV = "NOISYGRAPH_CACHE"

# Set once a download failed in this process: the network is never tried a second time.
_network_failed: Optional[str] = None


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a data set's raw files are neither under the data root nor downloadable."""


def data_root() -> pathlib.Path:
    """The raw-data folder: ``$NOISYGRAPH_DATA``, or ``~/.cache/noisygraph`` when unset."""
    value = os.environ.get(DATA_ENV)
    if value:
        return pathlib.Path(value).expanduser()
    return pathlib.Path("~/.cache/noisygraph").expanduser()


def cache_dir() -> pathlib.Path:
    """The writable folder for derived files: ``$NOISYGRAPH_CACHE``, or
    ``~/.cache/noisygraph/processed`` when unset. Created on first use."""
    value = os.environ.get(CACHE_ENV)
    path = pathlib.Path(value).expanduser() if value else pathlib.Path("~/.cache/noisygraph/processed").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_root(root: Optional[PathLike]) -> pathlib.Path:
    """``root`` as a path, or :func:`data_root` when ``root`` is ``None``."""
    if root is None:
        return data_root()
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path or None, got {type(root).__name__}")
    return pathlib.Path(root).expanduser()


def missing_files_error(what: str, root: pathlib.Path, wanted: Iterable[PathLike], reason: str) -> DatasetNotFoundError:
    """The error every loader raises when raw files are absent: names the root, the files and
    the variable that moves the root."""
    files = ", ".join(str(path) for path in wanted)
    return DatasetNotFoundError(
        f"{what}: raw files not found under the data root {root} (wanted: {files}) and {reason}. "
        f"Put the files there, or point the {DATA_ENV} environment variable at a folder that "
        f"has them (layout: planetoid/ind.<name>.*, wfd/<name>/, tag/<name>/, ogb/<name>/)."
    )


def network_failure() -> Optional[str]:
    """Why an earlier download failed in this process, or ``None`` if none did."""
    return _network_failed


def record_network_failure(reason: str) -> None:
    """Remember that a download failed so no loader tries the network again."""
    global _network_failed
    _network_failed = reason


def reset_network_failure() -> None:
    """Forget an earlier download failure (for tests, or after the network came back)."""
    global _network_failed
    _network_failed = None


def file_signature(paths: Iterable[pathlib.Path]) -> str:
    """A short key that changes when any of ``paths`` changes (size and mtime in ns)."""
    parts = []
    for path in paths:
        stat = path.stat()
        parts.append(f"{stat.st_size}-{stat.st_mtime_ns}")
    return "_".join(parts)


def load_cached(path: pathlib.Path) -> Optional[dict]:
    """A dict of tensors saved by :func:`save_cached`, or ``None`` if absent or unreadable."""
    if not path.exists():
        return None
    try:
        return torch.load(path, weights_only=True)
    except Exception:  # a truncated or foreign file: parse again and overwrite it
        return None


def save_cached(path: pathlib.Path, payload: dict) -> None:
    """Atomically write ``payload`` (tensors, strings, lists) to ``path``; stale siblings with
    the same stem prefix are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = path.name.split("@", 1)[0] + "@"
    for stale in path.parent.glob(prefix + "*"):
        if stale != path:
            stale.unlink(missing_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_layout_folder(layout: str, name: str, root: Optional[PathLike], files: Iterable[str],
                       what: str, parse: Callable[[list[pathlib.Path]], dict]) -> dict:
    """Parses the files of ``<root>/<layout>/<name>/`` once and caches the result.

    Args:
        layout (str): the layout folder under the root (``"wfd"``, ``"tag"``).
        name (str): the data set's folder name.
        root (str or os.PathLike, optional): the data root (default: :func:`data_root`).
        files (Iterable[str]): the file names the folder must hold.
        what (str): how error messages name the data set.
        parse (Callable): turns the list of file paths into a dict of tensors/strings.

    Raises:
        ValueError: ``name`` is not a non-empty string.
        DatasetNotFoundError: a file is missing (names the root, the files and the variable).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty folder name, got {name!r}")
    root = resolve_root(root)
    paths = [root / layout / name / file for file in files]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise missing_files_error(what, root, missing, "there is no download for this layout")
    cached_path = cache_dir() / layout / name / f"graph@{file_signature(paths)}.pt"
    payload = load_cached(cached_path)
    if payload is None:
        payload = parse(paths)
        save_cached(cached_path, payload)
    return payload
