"""``load_dataset``: one entry point that dispatches a data-set name to its loader."""
from __future__ import annotations

from typing import Optional

from torch_geometric.data import Data

from noisygraph.datasets._paths import PathLike, resolve_root
from noisygraph.datasets.adjacency_list import ADJACENCY_FILES, load_adjacency_list
from noisygraph.datasets.csbm import csbm
from noisygraph.datasets.ogb import OGB_NAMES, load_ogb
from noisygraph.datasets.planetoid import PLANETOID_NAMES, load_planetoid
from noisygraph.datasets.text_graph import TEXT_GRAPH_FILES, load_text_graph


def _folders(root, layout: str, files: tuple[str, ...]) -> dict[str, str]:
    """Folders of ``root/layout`` holding every file of ``files``, keyed by lower-case name."""
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
    names += sorted(_folders(root, "wfd", ADJACENCY_FILES).values())
    names += sorted(_folders(root, "tag", TEXT_GRAPH_FILES).values())
    return names + ["csbm"]


def load_dataset(name: str, root: Optional[PathLike] = None, **kwargs) -> Data:
    """Load a data set by name (case-insensitive).

    * ``"cora"``, ``"citeseer"``, ``"pubmed"`` → :func:`load_planetoid`;
    * ``"ogbn-arxiv"``, ``"ogbn-products"`` (or ``ogbn_arxiv``) → :func:`load_ogb`;
    * a folder under ``<root>/wfd/`` (``"coauthor_cs"``, ``"amazon_photo"``, ...; ``-`` may
      stand for ``_``) → :func:`load_adjacency_list`;
    * a folder under ``<root>/tag/`` (``"dblp"``, ...) → :func:`load_text_graph`;
    * ``"csbm"`` → :func:`csbm` (``kwargs`` must include ``num_nodes``).

    Args:
        name (str): the data set.
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)
        **kwargs (optional): passed to the loader.

    Raises:
        ValueError: for an unknown name; the message lists what ``root`` holds.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    key = name.strip().lower()
    if key in PLANETOID_NAMES:
        return load_planetoid(key, root=root, **kwargs)
    if key.replace("_", "-") in OGB_NAMES:
        return load_ogb(key.replace("_", "-"), root=root, **kwargs)
    if key == "csbm":
        return csbm(**kwargs)
    resolved = resolve_root(root)
    folder_keys = (key, key.replace("-", "_"))  # "coauthor-cs" finds wfd/coauthor_cs
    adjacency = _folders(resolved, "wfd", ADJACENCY_FILES)
    for candidate in folder_keys:
        if candidate in adjacency:
            return load_adjacency_list(adjacency[candidate], root=resolved, **kwargs)
    text = _folders(resolved, "tag", TEXT_GRAPH_FILES)
    for candidate in folder_keys:
        if candidate in text:
            return load_text_graph(text[candidate], root=resolved, **kwargs)
    raise ValueError(
        f"unknown data set name {name!r}; available under {resolved}: {', '.join(available_datasets(resolved))} "
        f"(and, with a download, {', '.join(sorted(PLANETOID_NAMES.values()))}, {', '.join(OGB_NAMES)})"
    )
