"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG's ``Planetoid``.

Raw files are read from ``<root>/planetoid/ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``
(the exact files PyG downloads). They are copied (a few MB) into
``<cache>/planetoid/<Name>@<key>/<Name>/raw/``, ``key`` a SHA-256 of their bytes and of the
absolute folder, so PyG processes them there without downloading, without writing into the
(possibly read-only) data root, and without links that could outlive the root. When none of
them is under the root, Cora is read from the copy shipped inside the package
(``noisygraph/datasets/_embedded/cora/``, gzip-compressed, MIT licence: see the ``LICENSE`` file
there), so it loads on any machine without a data root or a network; CiteSeer and PubMed go
through PyG's download, tried once per process, into ``<cache>/planetoid/<Name>@download``.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import pathlib
import shutil
import warnings
from typing import Callable, Optional

from torch_geometric.data import Data

from noisygraph.datasets import _paths
from noisygraph.datasets._graph import apply_transforms, check_transforms
from noisygraph.datasets._parse import DataFormatError, first_true, integer_tokens
from noisygraph.datasets._paths import (PathLike, cache_dir, content_key, keyed_entry, missing_files_error,
                                        resolve_root)

PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
PLANETOID_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
PLANETOID_SOURCE = ("PyG's Planetoid downloads them from https://github.com/kimiyoung/planetoid "
                    "(folder data/).")

# Sizes of the public Planetoid releases: (nodes, directed edges, classes, features).
_EXPECTED = {
    "Cora": (2708, 10556, 7, 1433),
    "CiteSeer": (3327, 9104, 6, 3703),
    "PubMed": (19717, 88648, 3, 500),
}
_DOWNLOADED = "download-complete.txt"

# Raw files shipped with the package (gzip -9 -n of the release's bytes), and the SHA-256 of
# each decompressed file: the copy in the cache is used only when it hashes to these.
EMBEDDED_DIR = pathlib.Path(__file__).resolve().parent / "_embedded"
EMBEDDED_SHA256 = {
    "Cora": {
        "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
}


def planetoid_raw_names(name: str) -> list[str]:
    """The raw file names PyG expects for a Planetoid data set, e.g. ``ind.cora.x``."""
    return [f"ind.{name.lower()}.{suffix}" for suffix in PLANETOID_SUFFIXES]


def _canonical(name: str) -> str:
    if not isinstance(name, str) or name.strip().lower() not in PLANETOID_NAMES:
        raise ValueError(f"name must be one of {sorted(PLANETOID_NAMES.values())}, got {name!r}")
    return PLANETOID_NAMES[name.strip().lower()]


def _copy_raw_files(sources: list[pathlib.Path], raw_dir: pathlib.Path) -> None:
    """Make ``raw_dir`` hold copies of ``sources`` (each written atomically)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        target = raw_dir / source.name
        if target.is_file() and not target.is_symlink() and target.stat().st_size == source.stat().st_size:
            continue
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


def _sha256(path: pathlib.Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _unpack_embedded(canonical: str, raw_dir: pathlib.Path) -> None:
    """Make ``raw_dir`` hold the package's copy of ``canonical``'s raw files, decompressed
    (each written atomically; a file already there is kept only if its SHA-256 is the
    release's)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for file, digest in EMBEDDED_SHA256[canonical].items():
        target = raw_dir / file
        if target.is_file() and not target.is_symlink() and _sha256(target) == digest:
            continue
        packed = EMBEDDED_DIR / canonical.lower() / f"{file}.gz"
        try:
            content = gzip.decompress(packed.read_bytes())
        except (OSError, EOFError) as error:
            raise DataFormatError(packed, f"the package's copy is unreadable ({type(error).__name__}: {error}); "
                                  "reinstall noisygraph") from None
        if hashlib.sha256(content).hexdigest() != digest:
            raise DataFormatError(packed, "the package's copy does not hold the release's bytes; reinstall noisygraph")
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        tmp.write_bytes(content)
        os.replace(tmp, target)


def _diagnose(raw_dir: pathlib.Path, canonical: str, shown: pathlib.Path, error: Exception) -> DataFormatError:
    """The error for raw files PyG could not process: the first file that cannot be read on
    its own (named as it is under ``shown``, the folder the user gave), else the set as a whole."""
    from torch_geometric.io.planetoid import read_file

    for suffix in PLANETOID_SUFFIXES:
        file = f"ind.{canonical.lower()}.{suffix}"
        path = raw_dir / file
        if suffix == "test.index":
            try:
                tokens = integer_tokens(shown / file, path.read_bytes(), 1, "a test node index")
            except DataFormatError as problem:
                return problem
            wrong = tokens.counts != 1
            if wrong.any():
                line = first_true(wrong)
                return DataFormatError(shown / file, f"expected one node index per line, got "
                                       f"{int(tokens.counts[line])}", line + 1)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_file(str(raw_dir), canonical, suffix)
        except Exception as problem:  # a truncated or foreign pickle
            return DataFormatError(shown / file, f"is not a readable Planetoid pickle "
                                   f"({type(problem).__name__}: {str(problem)[:200]})")
    return DataFormatError(shown, f"the {canonical} raw files do not fit together "
                           f"({type(error).__name__}: {str(error)[:200]}); are they all from one release?")


def _open(entry: pathlib.Path, canonical: str, shown: pathlib.Path):
    """PyG's ``Planetoid`` over ``entry``: an unreadable processed file is rebuilt (one
    warning); raw files PyG cannot process raise a :class:`DataFormatError` naming the file."""
    from torch_geometric.datasets import Planetoid

    processed = entry / canonical / "processed"
    if (processed / "data.pt").is_file():
        try:
            return Planetoid(str(entry), canonical, split="public")
        except Exception as error:
            warnings.warn(f"cached processed file {processed / 'data.pt'} is unusable ({type(error).__name__}); "
                          "rebuilding it from the raw files", RuntimeWarning, stacklevel=3)
            shutil.rmtree(processed, ignore_errors=True)
    try:
        return Planetoid(str(entry), canonical, split="public")
    except Exception as error:
        shutil.rmtree(processed, ignore_errors=True)
        raise _diagnose(entry / canonical / "raw", canonical, shown, error) from None


def _download(entry: pathlib.Path, canonical: str, root: pathlib.Path, wanted: list[pathlib.Path]) -> None:
    """Fill ``entry`` through PyG's download, at most once per process."""
    from torch_geometric.datasets import Planetoid

    earlier = _paths.network_failure()
    if earlier is not None:
        raise missing_files_error(canonical, root, wanted,
                                  f"an earlier download failed in this process ({earlier}); not retrying",
                                  PLANETOID_SOURCE)
    shutil.rmtree(entry, ignore_errors=True)
    entry.mkdir(parents=True)
    log = io.StringIO()  # PyG's "Downloading ..." / "Processing..." lines: shown only if it worked
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            Planetoid(str(entry), canonical)
    except Exception as error:  # any download failure: offline, DNS, HTTP, partial file
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        _paths.record_network_failure(reason)
        shutil.rmtree(entry, ignore_errors=True)
        raise missing_files_error(canonical, root, wanted, f"the download failed ({reason})", PLANETOID_SOURCE) from None
    (entry / _DOWNLOADED).write_text("downloaded by torch_geometric.datasets.Planetoid\n")


def load_planetoid(name: str, root: Optional[PathLike] = None, normalize_features: bool = True, *,
                   transform: Optional[Callable[[Data], Data]] = None,
                   pre_transform: Optional[Callable[[Data], Data]] = None) -> Data:
    r"""Load Cora, CiteSeer or PubMed with the public Planetoid split.

    The raw files are read from ``<root>/planetoid/``; when none is there, Cora comes from the
    copy shipped in the package (no network needed) and CiteSeer / PubMed from PyG's download.

    Args:
        name (str): ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"`` (case-insensitive).
        root (str or os.PathLike, optional): the data root holding ``planetoid/ind.<name>.*``.
            (default: :obj:`None`, meaning :func:`~noisygraph.datasets.data_root`)
        normalize_features (bool, optional): row-normalise ``x`` to sum 1
            (PyG's ``NormalizeFeatures``). (default: :obj:`True`)
        transform (callable, optional): applied to the returned graph (PyG style), after
            ``pre_transform``. (default: :obj:`None`)
        pre_transform (callable, optional): applied first. Nothing transformed is written to
            disk, so unlike PyG's datasets a changed ``pre_transform`` never needs a reload.
            (default: :obj:`None`)

    Returns:
        torch_geometric.data.Data: ``x``, ``edge_index`` (both directions), ``y``,
        ``train_mask``/``val_mask``/``test_mask`` (20 per class / 500 / 1000),
        ``num_classes``.

    Raises:
        DatasetNotFoundError: some raw files are missing under ``root`` (named), or none is
            there and the download fails (or failed earlier in this process).
        DataFormatError: a raw file cannot be read (a ``ValueError`` naming the file).
        ValueError: the files are readable but not the public release (sizes differ).
    """
    from torch_geometric.transforms import NormalizeFeatures

    canonical = _canonical(name)
    check_transforms(transform, pre_transform)
    if not isinstance(normalize_features, bool):
        raise TypeError(f"normalize_features must be a bool, got {type(normalize_features).__name__}")
    root = resolve_root(root)
    folder = root / "planetoid"
    wanted = [folder / file for file in planetoid_raw_names(canonical)]
    present = [path.is_file() for path in wanted]
    parent = cache_dir() / "planetoid"
    if all(present):
        entry = keyed_entry(parent, canonical, content_key(folder, wanted, "planetoid"),
                            keep=("download", "embedded"))
        _copy_raw_files(wanted, entry / canonical / "raw")
        shown = folder
    elif any(present):
        missing = [path for path, ok in zip(wanted, present) if not ok]
        raise missing_files_error(canonical, root, missing,
                                  "the other files are there, so nothing is downloaded over a partial copy",
                                  PLANETOID_SOURCE)
    elif canonical in EMBEDDED_SHA256:
        entry = parent / f"{canonical}@embedded"
        _unpack_embedded(canonical, entry / canonical / "raw")
        shown = EMBEDDED_DIR / canonical.lower()
    else:
        entry = parent / f"{canonical}@download"
        if not (entry / _DOWNLOADED).is_file():
            _download(entry, canonical, root, wanted)
        shown = entry / canonical / "raw"

    dataset = _open(entry, canonical, shown)
    data = dataset[0]
    if normalize_features:
        data = NormalizeFeatures()(data)
    data.num_classes = dataset.num_classes
    data.name = canonical
    _verify(data, canonical, shown)
    return apply_transforms(data, transform, pre_transform)


def _verify(data: Data, name: str, folder: pathlib.Path) -> None:
    nodes, edges, classes, features = _EXPECTED[name]
    found = (data.num_nodes, data.edge_index.size(1), data.num_classes, data.x.size(1))
    if found != (nodes, edges, classes, features):
        raise DataFormatError(
            folder, f"{name}: expected (nodes, directed edges, classes, features) = "
            f"{(nodes, edges, classes, features)} from the public release, read {found}; "
            "the raw files are not the Planetoid release"
        )
    split = (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum()))
    if split != (20 * classes, 500, 1000):
        raise DataFormatError(folder, f"{name}: public split should be {(20 * classes, 500, 1000)}, got {split}")
