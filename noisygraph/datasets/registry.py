"""``load_dataset``: one entry point that dispatches a data-set name to its loader."""
from __future__ import annotations

import pathlib
from typing import Optional

from torch_geometric.data import Data

from noisygraph.datasets._graph import apply_transforms, check_transforms
from noisygraph.datasets._paths import PathLike, missing_files_error, resolve_root
from noisygraph.datasets.adjacency_list import ADJACENCY_FILES, ADJACENCY_SOURCE, load_adjacency_list
from noisygraph.datasets.csbm import csbm
from noisygraph.datasets.gnn_benchmark import GNN_BENCHMARK, canonical_name, load_gnn_benchmark
from noisygraph.datasets.ogb import OGB_NAMES, load_ogb
from noisygraph.datasets.planetoid import PLANETOID_NAMES, load_planetoid
from noisygraph.datasets.text_graph import TEXT_GRAPH_FILES, TEXT_GRAPH_SOURCE, load_text_graph

# Layout folders: (files every data set folder holds, loader, where such files come from).
_LAYOUTS = {
    "wfd": (ADJACENCY_FILES, load_adjacency_list, ADJACENCY_SOURCE),
    "tag": (TEXT_GRAPH_FILES, load_text_graph, TEXT_GRAPH_SOURCE),
}
# Data sets the documentation names, by layout: a missing one is "files missing", not "unknown".
# (Coauthor / Amazon are known through GNN_BENCHMARK, which also downloads them.)
KNOWN_FOLDERS = {"dblp": "tag"}


def _folders(root: pathlib.Path, layout: str, files: tuple[str, ...] = ()) -> dict[str, str]:
    """Folders of ``root/layout`` (holding every file of ``files``), keyed by lower-case name."""
    base = root / layout
    if not base.is_dir():
        return {}
    return {
        entry.name.lower(): entry.name
        for entry in sorted(base.iterdir())
        if entry.is_dir() and all((entry / file).is_file() for file in files)
    }


def available_datasets(root: Optional[PathLike] = None) -> list[str]:
    """Names :func:`load_dataset` can load from ``root`` without a download (plus ``"csbm"``)."""
    root = resolve_root(root)
    names = [
        PLANETOID_NAMES[name]
        for name in PLANETOID_NAMES
        if (root / "planetoid" / f"ind.{name}.graph").is_file()
    ]
    ogb = root / "ogb"
    names += [name for name, folder in OGB_NAMES.items() if (ogb / folder).is_dir()]
    for layout, (files, _, _) in _LAYOUTS.items():
        names += sorted(_folders(root, layout, files).values())
    names += [key for key, graph in GNN_BENCHMARK.items()
              if (root / "npz" / graph.npz).is_file() and key not in names]
    return names + ["csbm"]


def known_datasets() -> list[str]:
    """Every name :func:`load_dataset` knows without looking at a data root: the ones it can
    download or ships (Planetoid, OGB, Coauthor / Amazon) and the documented offline-only ones
    (``dblp``), plus ``"csbm"``. A folder under ``wfd/`` or ``tag/`` of the root loads too."""
    return (sorted(PLANETOID_NAMES.values()) + list(OGB_NAMES) + list(GNN_BENCHMARK)
            + sorted(KNOWN_FOLDERS) + ["csbm"])


def load_dataset(name: str, root: Optional[PathLike] = None, **kwargs) -> Data:
    """Load a data set by name (case-insensitive).

    * ``"cora"``, ``"citeseer"``, ``"pubmed"`` → :func:`load_planetoid`;
    * ``"ogbn-arxiv"``, ``"ogbn-products"`` (or ``ogbn_arxiv``) → :func:`load_ogb`;
    * ``"coauthor_cs"``, ``"coauthor_physics"``, ``"amazon_photo"``, ``"amazon_computers"`` →
      :func:`~noisygraph.datasets.load_gnn_benchmark` (the wfd adjacency lists under the root,
      PyG's ``.npz`` under ``<root>/npz/``, or PyG's download);
    * a folder under ``<root>/wfd/`` (``"coauthor_cs"``, ``"amazon_photo"``, ...; ``-`` may
      stand for ``_``) → :func:`load_adjacency_list`;
    * a folder under ``<root>/tag/`` (``"dblp"``, ...) → :func:`load_text_graph`;
    * ``"csbm"`` → :func:`csbm` (``kwargs`` must include ``num_nodes``; ``root`` is unused).

    Args:
        name (str): the data set.
        root (str or os.PathLike, optional): the data root, an existing folder. (default:
            :obj:`None`, meaning :func:`~noisygraph.datasets.data_root`)
        **kwargs (optional): passed to the loader; every loader takes ``transform=`` and
            ``pre_transform=`` (PyG style).

    Raises:
        TypeError: ``name`` is not a ``str``, ``root`` not a path, or a keyword the loader
            does not take.
        ValueError: an unknown name (the message lists what ``root`` holds), an empty name, or
            a ``root`` that is not an existing folder.
        DatasetNotFoundError: a known data set whose files are missing (names the files, where
            they were looked for and where to get them).
        DataFormatError: a malformed raw file (a ``ValueError`` naming the file and line).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = name.strip().lower()
    if not key:
        raise ValueError("name must be a non-empty data set name (see available_datasets())")
    if key == "csbm":
        if root is not None:
            resolve_root(root)  # checked like every other name's, although the generator reads nothing
        transform, pre_transform = kwargs.pop("transform", None), kwargs.pop("pre_transform", None)
        check_transforms(transform, pre_transform)
        return apply_transforms(csbm(**kwargs), transform, pre_transform)
    resolved = resolve_root(root)
    # The loaders with a fallback (package data, a download) get ``root`` as given: the unset
    # default ~/.cache/noisygraph may not exist yet on a fresh machine.
    if canonical_name(key) is not None:
        return load_gnn_benchmark(key, root=root, **kwargs)
    if key in PLANETOID_NAMES:
        return load_planetoid(key, root=root, **kwargs)
    if key.replace("_", "-") in OGB_NAMES:
        return load_ogb(key.replace("_", "-"), root=root, **kwargs)
    folder_keys = (key, key.replace("-", "_"))  # "coauthor-cs" finds wfd/coauthor_cs
    for layout, (_, loader, _) in _LAYOUTS.items():
        folders = _folders(resolved, layout)
        for candidate in folder_keys:
            if candidate in folders:  # a folder with missing files is reported by its loader
                return loader(folders[candidate], root=resolved, **kwargs)
    known = KNOWN_FOLDERS.get(key.replace("-", "_"))
    if known is not None:
        files, _, source = _LAYOUTS[known]
        folder = resolved / known / key.replace("-", "_")
        raise missing_files_error(f"data set {name!r}", resolved, [folder / file for file in files],
                                  "there is no download for this layout yet", source)
    raise ValueError(
        f"unknown data set name {name!r}; available under {resolved}: {', '.join(available_datasets(resolved))} "
        f"(and, with a download, {', '.join(sorted(PLANETOID_NAMES.values()))}, {', '.join(OGB_NAMES)}, "
        f"{', '.join(GNN_BENCHMARK)}; Cora is shipped with the package)"
    )
