"""Coauthor CS / Physics and Amazon Photo / Computers, offline or through PyG's download.

Three sources, tried in this order; all give the same node order and labels (the wfd layout
lacks node features):

1. ``<root>/wfd/<folder>/{adj.txt,labels.txt}`` — the adjacency lists of the weighted-flow-
   diffusion release (:func:`~noisygraph.datasets.load_adjacency_list`; no ``x``);
2. ``<root>/npz/<file>.npz`` — the very file PyG downloads (``ms_academic_cs.npz``, ...), copied
   into the cache and processed there by ``torch_geometric.datasets.Coauthor`` / ``Amazon``;
3. PyG's own download (from the "Pitfalls of Graph Neural Network Evaluation" release), tried
   once per process, into ``<cache>/pyg/<name>@download``.

PyG's processing (``torch_geometric.io.read_npz``): the CSR adjacency of the ``.npz`` as COO,
self-loops removed, made undirected (coalesced: sorted by source, then target, no duplicates);
labels as stored; ``x`` the binarised bag-of-words attributes. The wfd files list, on line
*i*, the neighbours of the npz's node *i - 1*; the loaders' tests check that an npz written in
PyG's format from the wfd files loads, through PyG's own class, to the same graph node for node.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import shutil
from typing import Callable, NamedTuple, Optional

from torch_geometric.data import Data

from noisygraph.datasets import _paths
from noisygraph.datasets._graph import apply_transforms, check_transforms
from noisygraph.datasets._paths import (PathLike, cache_dir, content_key, keyed_entry, missing_files_error,
                                        resolve_root)
from noisygraph.datasets.adjacency_list import ADJACENCY_FILES, load_adjacency_list

PITFALLS = ("'Pitfalls of Graph Neural Network Evaluation' (Shchur et al., Relational Representation "
            "Learning workshop, NeurIPS 2018, https://arxiv.org/abs/1811.05868)")
WFD_RELEASE = "https://github.com/s-h-yang/WFD (folder data/)"
NPZ_URL = "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/"


class BenchmarkGraph(NamedTuple):
    pyg_class: str  # "Coauthor" or "Amazon"
    pyg_name: str  # the name PyG's class takes
    npz: str  # the raw file PyG downloads
    wfd: Optional[str]  # the folder of the weighted-flow-diffusion release, if it has one
    nodes: int
    directed_edges: int
    classes: int


# PyG's documented sizes; a graph read from any source must have them.
GNN_BENCHMARK = {
    "coauthor_cs": BenchmarkGraph("Coauthor", "CS", "ms_academic_cs.npz", "coauthor_cs", 18333, 163788, 15),
    "coauthor_physics": BenchmarkGraph("Coauthor", "Physics", "ms_academic_phy.npz", "coauthor_phy",
                                       34493, 495924, 5),
    "amazon_photo": BenchmarkGraph("Amazon", "Photo", "amazon_electronics_photo.npz", "amazon_photo",
                                   7650, 238162, 8),
    "amazon_computers": BenchmarkGraph("Amazon", "Computers", "amazon_electronics_computers.npz", None,
                                       13752, 491722, 10),
}
# Other spellings: PyG's class names and the wfd release's folder name.
ALIASES = {"coauthor_phy": "coauthor_physics", "cs": "coauthor_cs", "physics": "coauthor_physics",
           "photo": "amazon_photo", "computers": "amazon_computers"}
_DOWNLOADED = "download-complete.txt"


def canonical_name(name: str) -> Optional[str]:
    """The key of :data:`GNN_BENCHMARK` that ``name`` spells (case-insensitive, ``-`` for
    ``_``), or ``None``."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in GNN_BENCHMARK else None


def source_sentence(key: str) -> str:
    """Where the files of ``key`` come from (one sentence, for errors and docs)."""
    graph = GNN_BENCHMARK[key]
    wfd = (f"; the adjacency lists wfd/{graph.wfd}/{{adj.txt,labels.txt}} come with the code release of "
           f"'Weighted Flow Diffusion for Local Graph Clustering with Node Attributes' (Yang and Fountoulakis, "
           f"ICML 2023), {WFD_RELEASE}" if graph.wfd else "")
    return (f"With a network, PyG's torch_geometric.datasets.{graph.pyg_class}(root, {graph.pyg_name!r}) "
            f"downloads {graph.npz} from {NPZ_URL} (put it under npz/ to read it offline), from {PITFALLS}"
            f"{wfd}.")


def _pyg_dataset(graph: BenchmarkGraph, base: pathlib.Path):
    from torch_geometric import datasets

    cls = getattr(datasets, graph.pyg_class)
    log = io.StringIO()  # PyG's "Downloading ..." / "Processing..." lines
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        return cls(str(base), graph.pyg_name)


def _raw_dir(graph: BenchmarkGraph, base: pathlib.Path) -> pathlib.Path:
    """Where PyG's class looks for the npz under ``base`` (Coauthor: ``CS/raw``, Amazon: ``Photo/raw``)."""
    folder = graph.pyg_name if graph.pyg_class == "Coauthor" else graph.pyg_name.capitalize()
    return base / folder / "raw"


def _from_npz(key: str, npz: pathlib.Path) -> Data:
    """The graph of ``npz`` (PyG's raw file), processed by PyG's class in the cache."""
    graph = GNN_BENCHMARK[key]
    entry = keyed_entry(cache_dir() / "pyg", key, content_key(npz.parent, [npz], "npz"), keep=("download",))
    raw = _raw_dir(graph, entry)
    target = raw / graph.npz
    if not (target.is_file() and target.stat().st_size == npz.stat().st_size):
        raw.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.copyfile(npz, tmp)
        os.replace(tmp, target)
    try:
        dataset = _pyg_dataset(graph, entry)
    except Exception as error:
        shutil.rmtree(entry, ignore_errors=True)
        from noisygraph.datasets._parse import DataFormatError

        raise DataFormatError(npz, f"PyG's {graph.pyg_class} could not read it ({type(error).__name__}: "
                              f"{str(error)[:200]})") from None
    return dataset[0]


def _download(key: str, root: pathlib.Path, wanted: list[pathlib.Path]) -> Data:
    """The graph through PyG's download (at most one attempt per process)."""
    graph = GNN_BENCHMARK[key]
    base = cache_dir() / "pyg" / f"{key}@download"
    if not (base / _DOWNLOADED).is_file():
        earlier = _paths.network_failure()
        if earlier is not None:
            raise missing_files_error(f"data set {key!r}", root, wanted,
                                      f"an earlier download failed in this process ({earlier}); not retrying",
                                      source_sentence(key))
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        try:
            _pyg_dataset(graph, base)
        except Exception as error:  # offline, DNS, HTTP, a truncated file
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            _paths.record_network_failure(reason)
            shutil.rmtree(base, ignore_errors=True)
            raise missing_files_error(f"data set {key!r}", root, wanted, f"PyG's download failed ({reason})",
                                      source_sentence(key)) from None
        (base / _DOWNLOADED).write_text(f"downloaded by torch_geometric.datasets.{graph.pyg_class}\n")
    return _pyg_dataset(graph, base)[0]


def load_gnn_benchmark(name: str, root: Optional[PathLike] = None, *,
                       transform: Optional[Callable[[Data], Data]] = None,
                       pre_transform: Optional[Callable[[Data], Data]] = None) -> Data:
    r"""Load Coauthor CS / Physics or Amazon Photo / Computers (Shchur et al., 2018) from the
    first source that has it: the wfd adjacency lists under ``root``, PyG's ``.npz`` under
    ``<root>/npz/``, or PyG's download.

    Args:
        name (str): ``"coauthor_cs"``, ``"coauthor_physics"`` (or ``"coauthor_phy"``),
            ``"amazon_photo"``, ``"amazon_computers"`` (case-insensitive, ``-`` for ``_``).
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)
        transform (callable, optional): applied to the returned graph, after
            ``pre_transform``. (default: :obj:`None`)
        pre_transform (callable, optional): applied first; nothing transformed is written to
            disk. (default: :obj:`None`)

    Returns:
        torch_geometric.data.Data: ``edge_index`` (both directions, sorted, no duplicates or
        self-loops), ``y`` (0-based), ``num_classes``, ``source`` (``"wfd"``, ``"npz"`` or
        ``"download"``) and, from PyG's file, ``x`` (binary bag of words; the wfd layout has
        none).

    Raises:
        ValueError: an unknown name.
        DatasetNotFoundError: no source has the graph (names the files looked for, the root,
            ``NOISYGRAPH_DATA`` and where to get them).
        DataFormatError: a raw file is malformed, or its sizes are not the release's.
    """
    key = canonical_name(name) if isinstance(name, str) else None
    if key is None:
        raise ValueError(f"name must be one of {sorted(GNN_BENCHMARK)}, got {name!r}")
    check_transforms(transform, pre_transform)
    graph = GNN_BENCHMARK[key]
    root = resolve_root(root)
    wfd = [root / "wfd" / graph.wfd / file for file in ADJACENCY_FILES] if graph.wfd else []
    npz = root / "npz" / graph.npz
    if wfd and any(path.exists() for path in wfd):  # a partial folder is reported by the loader
        data = load_adjacency_list(graph.wfd, root=root)
        source, shown = "wfd", wfd[0].parent
    elif npz.is_file():
        data, source, shown = _from_npz(key, npz), "npz", npz
    else:
        data, source, shown = _download(key, root, wfd + [npz]), "download", cache_dir() / "pyg"
    out = Data(edge_index=data.edge_index, y=data.y.long().view(-1), num_nodes=int(data.y.numel()))
    if getattr(data, "x", None) is not None:
        out.x = data.x
    out.num_classes = graph.classes
    out.name = key
    out.source = source
    _verify(out, key, shown)
    return apply_transforms(out, transform, pre_transform)


def _verify(data: Data, key: str, shown: pathlib.Path) -> None:
    from noisygraph.datasets._parse import DataFormatError

    graph = GNN_BENCHMARK[key]
    found = (data.num_nodes, data.edge_index.size(1), int(data.y.max()) + 1 if data.y.numel() else 0)
    expected = (graph.nodes, graph.directed_edges, graph.classes)
    if found != expected:
        raise DataFormatError(shown, f"{key}: expected (nodes, directed edges, classes) = {expected} as in "
                              f"PyG's release, read {found}")
    if int(data.y.min()) < 0:
        raise DataFormatError(shown, f"{key}: negative class")
    if data.x is not None and data.x.size(0) != graph.nodes:
        raise DataFormatError(shown, f"{key}: x has {data.x.size(0)} rows, expected {graph.nodes}")
