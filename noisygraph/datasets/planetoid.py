"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG's ``Planetoid``.

Raw files are read from ``<root>/planetoid/ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``
(the exact files PyG downloads). They are linked into ``<cache>/planetoid/<Name>/raw/`` so that
PyG processes them there without downloading and without writing into the (possibly
read-only) data root. When they are absent, PyG's download is tried once, into the cache.
"""
from __future__ import annotations

import os
import pathlib
import shutil
from typing import Optional

from torch_geometric.data import Data

from noisygraph.datasets import _paths
from noisygraph.datasets._paths import PathLike, cache_dir, missing_files_error, resolve_root

PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
PLANETOID_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")

# Sizes of the public Planetoid releases: (nodes, directed edges, classes, features).
_EXPECTED = {
    "Cora": (2708, 10556, 7, 1433),
    "CiteSeer": (3327, 9104, 6, 3703),
    "PubMed": (19717, 88648, 3, 500),
}


def planetoid_raw_names(name: str) -> list[str]:
    """The raw file names PyG expects for a Planetoid data set, e.g. ``ind.cora.x``."""
    return [f"ind.{name.lower()}.{suffix}" for suffix in PLANETOID_SUFFIXES]


def _canonical(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in PLANETOID_NAMES:
        raise ValueError(f"name must be one of {sorted(PLANETOID_NAMES.values())}, got {name!r}")
    return PLANETOID_NAMES[name.lower()]


def _link_raw_files(sources: list[pathlib.Path], raw_dir: pathlib.Path) -> None:
    """Make ``raw_dir`` hold ``sources`` (symlinks, or copies where links are impossible);
    PyG's processed files are dropped whenever the sources changed."""
    stamp = raw_dir.parent / "source.txt"
    signature = "\n".join(f"{path.resolve()} {_paths.file_signature([path])}" for path in sources)
    if stamp.exists() and stamp.read_text() == signature and all((raw_dir / p.name).exists() for p in sources):
        return
    shutil.rmtree(raw_dir.parent / "processed", ignore_errors=True)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        target = raw_dir / source.name
        if target.is_symlink() or target.exists():
            target.unlink()
        try:
            os.symlink(source.resolve(), target)
        except OSError:
            shutil.copyfile(source, target)
    stamp.write_text(signature)


def load_planetoid(name: str, root: Optional[PathLike] = None, normalize_features: bool = True) -> Data:
    r"""Load Cora, CiteSeer or PubMed with the public Planetoid split.

    Args:
        name (str): ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"`` (case-insensitive).
        root (str or os.PathLike, optional): the data root holding ``planetoid/ind.<name>.*``.
            (default: :obj:`None`, meaning :func:`~noisygraph.datasets.data_root`)
        normalize_features (bool, optional): row-normalise ``x`` to sum 1
            (PyG's ``NormalizeFeatures``). (default: :obj:`True`)

    Returns:
        torch_geometric.data.Data: ``x``, ``edge_index`` (both directions), ``y``,
        ``train_mask``/``val_mask``/``test_mask`` (20 per class / 500 / 1000),
        ``num_classes``.

    Raises:
        DatasetNotFoundError: if the raw files are neither under ``root`` nor in the cache and
            the download fails (or failed earlier in this process).
    """
    from torch_geometric.datasets import Planetoid
    from torch_geometric.transforms import NormalizeFeatures

    canonical = _canonical(name)
    root = resolve_root(root)
    folder = cache_dir() / "planetoid"
    raw_dir = folder / canonical / "raw"
    wanted = [root / "planetoid" / file for file in planetoid_raw_names(canonical)]
    if all(path.is_file() for path in wanted):
        _link_raw_files(wanted, raw_dir)
    elif not all((raw_dir / path.name).exists() for path in wanted):
        earlier = _paths.network_failure()
        if earlier is not None:
            raise missing_files_error(
                canonical, root, wanted, f"an earlier download failed in this process ({earlier}); not retrying"
            )
        shutil.rmtree(folder / canonical, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            Planetoid(str(folder), canonical)
        except Exception as error:  # any download failure: offline, DNS, HTTP, partial file
            reason = f"{type(error).__name__}: {error}"
            _paths.record_network_failure(reason)
            shutil.rmtree(folder / canonical, ignore_errors=True)
            raise missing_files_error(canonical, root, wanted, f"the download failed ({reason})") from error
        (folder / canonical / "source.txt").write_text("downloaded")

    dataset = Planetoid(str(folder), canonical, split="public")
    data = dataset[0]
    if normalize_features:
        data = NormalizeFeatures()(data)
    data.num_classes = dataset.num_classes
    data.name = canonical
    _verify(data, canonical)
    return data


def _verify(data: Data, name: str) -> None:
    nodes, edges, classes, features = _EXPECTED[name]
    found = (data.num_nodes, data.edge_index.size(1), data.num_classes, data.x.size(1))
    if found != (nodes, edges, classes, features):
        raise ValueError(
            f"{name}: expected (nodes, directed edges, classes, features) = "
            f"{(nodes, edges, classes, features)} from the public release, read {found}; "
            "the raw files are not the Planetoid release"
        )
    split = (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum()))
    if split != (20 * classes, 500, 1000):
        raise ValueError(f"{name}: public split should be {(20 * classes, 500, 1000)}, got {split}")
