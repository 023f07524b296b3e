"""Where raw data sets are read from and where derived files are written.

Two folders, both overridable by environment variables:

* the **data root** (``NOISYGRAPH_DATA``, default ``~/.cache/noisygraph``) holds the raw files,
  laid out like ``planetoid/ind.<name>.*``, ``wfd/<name>/``, ``tag/<name>/``, ``ogb/<name>/``.
  It may be read-only (CI points it at a shared, read-only copy);
* the **cache dir** (``NOISYGRAPH_CACHE``, default ``~/.cache/noisygraph/processed``) receives
  everything derived: PyG's processed files, parsed graphs, downloads.

Every derived file is keyed by :func:`content_key`: a SHA-256 of the raw files' bytes and of the
absolute raw folder, never by sizes or modification times, so a cache entry is only ever read
back for the very files it was built from.
"""
from __future__ import annotations

import glob
import hashlib
import os
import pathlib
import shutil
import warnings
from typing import Callable, Iterable, Optional, Sequence, Union

import torch

PathLike = Union[str, os.PathLike]

DATA_ENV = "NOISYGRAPH_DATA"
CACHE_ENV = "NOISYGRAPH_CACHE"

# Part of every cache key: bump it when a parser's output changes, so older entries are misses.
CACHE_FORMAT = 2

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
    ``~/.cache/noisygraph/processed`` when unset. Created on first use.

    Raises:
        ValueError: ``$NOISYGRAPH_CACHE`` names something that is not a folder.
    """
    value = os.environ.get(CACHE_ENV)
    path = pathlib.Path(value).expanduser() if value else pathlib.Path("~/.cache/noisygraph/processed").expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{CACHE_ENV}={value!r} is not a folder" if value else f"the cache folder {path} is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_root(root: Optional[PathLike]) -> pathlib.Path:
    """``root`` as a path, or :func:`data_root` when ``root`` is ``None``.

    Raises:
        TypeError: ``root`` is neither ``None``, a ``str`` nor an ``os.PathLike``.
        ValueError: ``root`` (or a set ``$NOISYGRAPH_DATA``) is empty or not an existing folder.
            The unset default ``~/.cache/noisygraph`` may be absent (nothing downloaded yet).
    """
    if root is None:
        value = os.environ.get(DATA_ENV)
        if not value:
            return data_root()
        path = pathlib.Path(value).expanduser()
        if not path.is_dir():
            raise ValueError(f"{DATA_ENV}={value!r} is not an existing folder (it should hold the raw data sets)")
        return path
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str or os.PathLike (or None for ${DATA_ENV}), got {type(root).__name__}")
    text = os.fspath(root)
    if not isinstance(text, str) or not text:
        raise ValueError(f"root must be a non-empty folder path, got {root!r}")
    path = pathlib.Path(text).expanduser()
    if not path.is_dir():
        raise ValueError(f"root={text!r} is not an existing folder")
    return path


def check_folder_name(name: object, argument: str = "name") -> str:
    """``name`` if it is a usable folder name (a non-empty ``str`` without path separators)."""
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be a str, got {type(name).__name__}")
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"{argument} must be a folder name (non-empty, no path separators), got {name!r}")
    return name


def _root_origin(root: pathlib.Path) -> str:
    """How ``root`` was chosen, for error messages."""
    value = os.environ.get(DATA_ENV)
    if value and pathlib.Path(value).expanduser() == root:
        return f"set by ${DATA_ENV}"
    if value:
        return f"passed as root; ${DATA_ENV} is {value!r}"
    if root == data_root():
        return f"the default, as ${DATA_ENV} is unset"
    return f"passed as root; ${DATA_ENV} is unset"


def missing_files_error(what: str, root: pathlib.Path, wanted: Iterable[PathLike], reason: str,
                        source: Optional[str] = None) -> DatasetNotFoundError:
    """The error every loader raises when raw files are absent: names the files, the root it
    looked in (and ``$NOISYGRAPH_DATA``), why there is no download, and where to get them."""
    files = ", ".join(str(path) for path in wanted)
    where = f" {source}" if source else ""
    return DatasetNotFoundError(
        f"{what}: missing {files} (looked in the data root {root}, {_root_origin(root)}) and {reason}. "
        f"Put the files there, or point the {DATA_ENV} environment variable at a folder that "
        f"has them (layout: planetoid/ind.<name>.*, wfd/<name>/, tag/<name>/, ogb/<name>/, npz/<file>.npz).{where}"
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


def content_key(folder: pathlib.Path, files: Sequence[pathlib.Path], tag: str) -> str:
    """A key for what was derived from ``files``: SHA-256 over ``tag``, :data:`CACHE_FORMAT`,
    the absolute (resolved) ``folder`` and, per file, its path relative to ``folder``, its size
    and the SHA-256 of its bytes. Two folders never share a key, and neither do two contents.

    Costs one read of the files (about 1 GB/s).
    """
    digest = hashlib.sha256()
    folder = folder.resolve()
    digest.update(f"{tag}\0{CACHE_FORMAT}\0{folder}\0".encode())
    for path in files:
        path = path.resolve()
        try:
            name = str(path.relative_to(folder))
        except ValueError:
            name = str(path)
        with open(path, "rb") as handle:
            file_hash = hashlib.file_digest(handle, "sha256").hexdigest()
        digest.update(f"{name}\0{path.stat().st_size}\0{file_hash}\0".encode())
    return digest.hexdigest()[:32]


def keyed_entry(parent: pathlib.Path, name: str, key: str, suffix: str = "",
                keep: Sequence[str] = ()) -> pathlib.Path:
    """``parent/<name>@<key><suffix>``: the cache entry of one data set for one content key.
    Other ``<name>@*`` entries (stale contents, other roots) are removed, except
    ``<name>@<k>`` for ``k`` in ``keep``: one entry per data set, so caches never pile up."""
    entry = parent / f"{name}@{key}{suffix}"
    kept = {entry.name} | {f"{name}@{k}" for k in keep}
    if parent.is_dir():
        for stale in parent.glob(f"{glob.escape(name)}@*"):
            if stale.name in kept:
                continue
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    return entry


def load_cached(path: pathlib.Path, restore: Callable[[dict], dict]) -> Optional[dict]:
    """``restore`` of the dict saved by :func:`save_cached` at ``path``, or ``None`` if there
    is none. ``restore`` turns the saved dict back into the loader's payload and raises
    (any exception) when it is not usable. A file that cannot be read or restored (truncated,
    foreign, from an older version) is a miss: one warning, the file is removed, ``None``."""
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True)
        if not isinstance(payload, dict):
            raise ValueError(f"holds a {type(payload).__name__}, not a dict")
        return restore(payload)
    except Exception as error:
        message = str(error).splitlines()[0] if str(error) else ""
        warnings.warn(f"cache file {path} is unusable ({type(error).__name__}: {message}); rebuilding it "
                      "from the raw files", RuntimeWarning, stacklevel=3)
    path.unlink(missing_ok=True)
    return None


def save_cached(path: pathlib.Path, payload: dict) -> None:
    """Atomically write ``payload`` (tensors, strings, lists) to ``path``. A cache that cannot
    be written (read-only, full disk) costs one warning; the caller goes on without it."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        warnings.warn(f"could not write the cache file {path} ({error}); the next load parses again",
                      RuntimeWarning, stacklevel=3)


def load_layout_folder(layout: str, name: str, root: Optional[PathLike], files: Sequence[str],
                       what: str, parse: Callable[[list[pathlib.Path]], dict],
                       restore: Callable[[dict], dict], variant: str = "",
                       source: Optional[str] = None) -> dict:
    """Parses the files of ``<root>/<layout>/<name>/`` once and caches the result under
    ``<cache>/<layout>/<name>@<key>.pt``, ``key`` = :func:`content_key` of the files.

    Args:
        layout (str): the layout folder under the root (``"wfd"``, ``"tag"``).
        name (str): the data set's folder name.
        root (str or os.PathLike, optional): the data root (default: :func:`data_root`).
        files (Sequence[str]): the file names the folder must hold.
        what (str): how error messages name the data set.
        parse (Callable): turns the list of file paths into the dict that is saved.
        restore (Callable): turns a saved dict into the returned payload; raises if it is not
            usable (then the cache file is rebuilt).
        variant (str, optional): parse options that change the result (part of the key).
        source (str, optional): where to get the files (one sentence, for the missing-files
            error).

    Raises:
        TypeError, ValueError: ``name`` is not a folder name, ``root`` not a folder.
        DatasetNotFoundError: a file is missing (names the files, the root and the variable).
        DataFormatError: a file is malformed (names the file and line).
    """
    check_folder_name(name)
    root = resolve_root(root)
    folder = root / layout / name
    paths = [folder / file for file in files]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise missing_files_error(what, root, missing, "there is no download for this layout", source)
    key = content_key(folder, paths, f"{layout}:{variant}")
    cached_path = keyed_entry(cache_dir() / layout, name, key, ".pt")
    payload = load_cached(cached_path, restore)
    if payload is None:
        saved = parse(paths)
        save_cached(cached_path, saved)
        payload = restore(saved)
    return payload
