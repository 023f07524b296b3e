"""OGB node-property graphs (ogbn-arxiv, ogbn-products) through ``ogb``'s own loader.

Raw files are looked for in ``<root>/ogb/<ogbn_name>/`` (the folder ``ogb`` itself downloads:
``RELEASE_v1.txt``, ``raw/*.csv.gz``, ``split/<split>/{train,valid,test}.csv.gz``). If that
folder is already processed by ``ogb`` it is read in place. Otherwise its raw files are copied
(up to 256 MB in all, else linked) into ``<cache>/ogb/<ogbn_name>@<key>/`` and processed there
(the data root may be read-only), ``key`` being a SHA-256 of the raw files' bytes and of the
absolute folder: a processed cache is only ever used for the very files it was built from,
never for another root, and an entry whose links point into a vanished folder is removed. When none of the raw files is under the
root, ``ogb``'s download is tried once, into ``<cache>/ogb/<ogbn_name>@download/``.
"""
from __future__ import annotations

import gzip
import os
import pathlib
import shutil
import warnings
import zlib
from typing import Callable, Optional

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from noisygraph._optional import require
from noisygraph.datasets import _paths
from noisygraph.datasets._graph import apply_transforms, check_edge_index, check_transforms
from noisygraph.datasets._parse import DataFormatError
from noisygraph.datasets._paths import (PathLike, cache_dir, content_key, keyed_entry, missing_files_error,
                                        resolve_root)

# name -> folder; what ogb's master.csv says about each graph (checked by the tests).
OGB_NAMES = {"ogbn-arxiv": "ogbn_arxiv", "ogbn-products": "ogbn_products"}
OGB_SOURCE = "ogb downloads them from https://ogb.stanford.edu (ogb.nodeproppred.PygNodePropPredDataset)."
_SPLIT = {"ogbn-arxiv": "time", "ogbn-products": "sales_ranking"}
_NUM_CLASSES = {"ogbn-arxiv": 40, "ogbn-products": 47}
_EXTRA_NODE_FILES = {"ogbn-arxiv": ("node_year",), "ogbn-products": ()}
_RAW_FILES = ("edge", "node-feat", "node-label", "num-node-list", "num-edge-list")
_RELEASE = "RELEASE_v1.txt"
_PROCESSED = pathlib.Path("processed") / "geometric_data_processed.pt"
_MIRRORED = "mirrored-from.txt"
# Raw files up to this size are copied into the cache, larger ones linked (ogbn-products: 1.4 GB).
COPY_LIMIT = 256 * 2**20
_DOWNLOADED = "download-complete.txt"


def ogb_required_files(name: str) -> list[pathlib.Path]:
    """Paths, relative to ``<ogb root>/<ogbn_name>/``, that ``ogb`` needs to process ``name``."""
    raw = [pathlib.Path("raw") / f"{file}.csv.gz" for file in _RAW_FILES + _EXTRA_NODE_FILES[name]]
    split = [pathlib.Path("split") / _SPLIT[name] / f"{part}.csv.gz" for part in ("train", "valid", "test")]
    return raw + split


def _canonical(name: str) -> str:
    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else None
    if key not in OGB_NAMES:
        raise ValueError(f"name must be one of {sorted(OGB_NAMES)}, got {name!r}")
    return key


def _prune_dangling(parent: pathlib.Path) -> None:
    """Remove the cache entries whose links point into a folder that no longer exists."""
    if not parent.is_dir():
        return
    for entry in parent.glob("*@*"):
        if any(path.is_symlink() and not path.exists() for path in entry.rglob("*")):
            shutil.rmtree(entry, ignore_errors=True)


def _mirror(source: pathlib.Path, relative: list[pathlib.Path], target: pathlib.Path) -> None:
    """Make ``target`` an ``ogb`` folder holding ``source``'s raw and split files (processed
    files go to ``target``): copies when they total at most :data:`COPY_LIMIT` bytes, so the
    cache never points into a folder that may vanish (a test's temp folder), links above."""
    if (target / _MIRRORED).is_file() and all((target / path).exists() for path in relative):
        return
    shutil.rmtree(target, ignore_errors=True)
    copy = sum((source / path).stat().st_size for path in relative) <= COPY_LIMIT
    for path in relative:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        if copy:
            tmp = (target / path).with_name(path.name + f".tmp{os.getpid()}")
            shutil.copyfile(source / path, tmp)
            os.replace(tmp, target / path)
        else:
            os.symlink((source / path).resolve(), target / path)
    (target / _RELEASE).write_text(f"mirrored by noisygraph from {source}\n")
    (target / _MIRRORED).write_text(f"{source.resolve()}\n")


def _require_ogb():
    return require("ogb.nodeproppred", "ogb", "load_ogb").PygNodePropPredDataset


_DATASET_CLASS = None


def _dataset_class():
    """``ogb``'s ``PygNodePropPredDataset`` with its ``process`` step done here: ``ogb`` 1.3.6
    turns pandas columns into tensors with ``torch.from_numpy``, and pandas >= 3 hands out
    read-only arrays (copy-on-write), so every processing warned ``The given NumPy array is
    not writable``. This ``process`` reads the same files through ``ogb``'s own graph reader,
    copies the label column into a writable array and saves what ``ogb`` saves; ``get_idx_split``
    reads the split files into writable arrays likewise."""
    global _DATASET_CLASS
    if _DATASET_CLASS is not None:
        return _DATASET_CLASS
    PygNodePropPredDataset = _require_ogb()

    class _Dataset(PygNodePropPredDataset):
        def process(self):
            import pandas as pd
            from ogb.io.read_graph_pyg import read_graph_pyg

            info = self.meta_info
            if info.get("is hetero") == "True":  # never for the node sets load_ogb reads
                return super().process()
            node_files, edge_files = (
                [] if info[field] == "None" else info[field].split(",")
                for field in ("additional node files", "additional edge files"))
            with warnings.catch_warnings():
                # read_graph_pyg's extra node columns (node_year) are pandas views as well: the
                # tensors it makes from them are copied below before anything could write them.
                warnings.filterwarnings("ignore", message=".*NumPy array is not writable.*")
                data = read_graph_pyg(self.raw_dir, add_inverse_edge=info["add_inverse_edge"] == "True",
                                      additional_node_files=node_files, additional_edge_files=edge_files,
                                      binary=self.binary)[0]
            for key in node_files + edge_files:
                data[key] = data[key].clone()
            if self.binary:
                label = np.load(os.path.join(self.raw_dir, "node-label.npz"))["node_label"]
            else:
                label = pd.read_csv(os.path.join(self.raw_dir, "node-label.csv.gz"), compression="gzip",
                                    header=None).to_numpy(copy=True)
            floating = "classification" not in self.task_type or np.isnan(label).any()
            data.y = torch.from_numpy(np.array(label)).to(torch.float32 if floating else torch.long)
            if self.pre_transform is not None:
                data = self.pre_transform(data)
            torch.save(self.collate([data]), self.processed_paths[0])

        def get_idx_split(self, split_type=None):
            import pandas as pd

            path = os.path.join(self.root, "split", split_type or self.meta_info["split"])
            if self.is_hetero or os.path.isfile(os.path.join(path, "split_dict.pt")):
                return super().get_idx_split(split_type)
            return {part: torch.from_numpy(pd.read_csv(os.path.join(path, f"{part}.csv.gz"), compression="gzip",
                                                       header=None).to_numpy(copy=True)[:, 0]).long()
                    for part in ("train", "valid", "test")}

    _DATASET_CLASS = _Dataset
    return _Dataset


def _dataset(name: str, root: pathlib.Path):
    PygNodePropPredDataset = _dataset_class()

    # ogb (written for torch < 2.6) loads its processed file with a bare torch.load; torch
    # >= 2.6 defaults to weights_only=True, which refuses PyG's Data. The file is the one we
    # just wrote ourselves, so a full load is safe.
    previous = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD.*")
            return PygNodePropPredDataset(name=name, root=str(root))
    finally:
        if previous is None:
            del os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"]
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = previous


def _diagnose(name: str, shown: pathlib.Path, error: Exception) -> DataFormatError:
    """The error for raw files ``ogb`` could not process: the first that is not a complete
    gzip file (named under ``shown``, the folder the user gave), else the folder as a whole."""
    for relative in ogb_required_files(name):
        try:
            with gzip.open(shown / relative, "rb") as handle:
                while handle.read(1 << 24):
                    pass
        except (OSError, EOFError, zlib.error) as problem:
            return DataFormatError(shown / relative, f"is not a complete gzip file ({type(problem).__name__}: {problem})")
    return DataFormatError(shown, f"ogb could not process the {name} raw files ({type(error).__name__}: "
                           f"{str(error)[:200]})")


def _open(name: str, base: pathlib.Path, shown: pathlib.Path):
    """``ogb``'s dataset over ``base``: an unreadable processed file is rebuilt (one warning);
    raw files ``ogb`` cannot process raise a :class:`DataFormatError` naming the file."""
    processed = base / OGB_NAMES[name] / "processed"
    if (processed / _PROCESSED.name).is_file():
        try:
            return _dataset(name, base)
        except Exception as error:
            warnings.warn(f"cached processed file {processed / _PROCESSED.name} is unusable "
                          f"({type(error).__name__}); rebuilding it from the raw files", RuntimeWarning, stacklevel=3)
            shutil.rmtree(processed, ignore_errors=True)
    try:
        return _dataset(name, base)
    except Exception as error:
        shutil.rmtree(processed, ignore_errors=True)
        raise _diagnose(name, shown, error) from None


def _in_place(name: str, root: pathlib.Path, source: pathlib.Path):
    """``ogb``'s dataset read from the data root itself when ``ogb`` already processed it there
    (never written to), or ``None``: not processed, or unusable (one warning)."""
    if not ((source / _PROCESSED).is_file() and (source / _RELEASE).is_file()):
        return None
    try:
        return _dataset(name, root / "ogb")
    except Exception as error:
        warnings.warn(f"{source / _PROCESSED} is unusable ({type(error).__name__}); processing the raw "
                      "files into the cache instead", RuntimeWarning, stacklevel=3)
        return None


def _download(name: str, entry: pathlib.Path, root: pathlib.Path, wanted: list[pathlib.Path]) -> None:
    """Fill ``entry`` through ``ogb``'s download, at most once per process."""
    earlier = _paths.network_failure()
    if earlier is not None:
        raise missing_files_error(name, root, wanted, f"an earlier download failed in this process ({earlier}); "
                                  "not retrying", OGB_SOURCE)
    shutil.rmtree(entry, ignore_errors=True)
    entry.mkdir(parents=True)
    try:
        _dataset(name, entry)
    except (EOFError, SystemExit):
        # ogb asks for confirmation above 1 GB (ogbn-products) and exits when declined;
        # the network worked, so it is not recorded as a failure.
        shutil.rmtree(entry, ignore_errors=True)
        raise missing_files_error(
            name, root, wanted,
            "the download needs an interactive confirmation (> 1 GB) that was not given; "
            "run it once in an interactive session or place the files by hand", OGB_SOURCE,
        ) from None
    except Exception as error:  # offline, DNS, HTTP, a truncated archive
        reason = f"{type(error).__name__}: {error}"
        _paths.record_network_failure(reason)
        shutil.rmtree(entry, ignore_errors=True)
        raise missing_files_error(name, root, wanted, f"the download failed ({reason})", OGB_SOURCE) from None
    (entry / _DOWNLOADED).write_text("downloaded by ogb.nodeproppred.PygNodePropPredDataset\n")


def load_ogb(name: str, root: Optional[PathLike] = None, *,
             transform: Optional[Callable[[Data], Data]] = None,
             pre_transform: Optional[Callable[[Data], Data]] = None) -> Data:
    r"""Load ogbn-arxiv or ogbn-products with the official split.

    Args:
        name (str): ``"ogbn-arxiv"`` or ``"ogbn-products"`` (case-insensitive; ``_`` works too).
        root (str or os.PathLike, optional): the data root holding ``ogb/<ogbn_name>/``.
            (default: :obj:`None`, meaning :func:`~noisygraph.datasets.data_root`)
        transform (callable, optional): applied to the returned graph (PyG style), after
            ``pre_transform``. (default: :obj:`None`)
        pre_transform (callable, optional): applied first; nothing transformed is written to
            disk. (default: :obj:`None`)

    Returns:
        torch_geometric.data.Data: ``x``, ``edge_index`` (made undirected for arxiv, whose
        raw edges are directed citations; products ships both directions), ``y`` (flattened,
        ``[N]``), ``train_mask``/``val_mask``/``test_mask`` from the official split,
        ``num_classes``.

    Raises:
        DatasetNotFoundError: some raw files are missing under ``root`` (named), or none is
            there and the download fails (or failed earlier in this process).
        DataFormatError: a raw file cannot be processed (a ``ValueError`` naming the file).
    """
    name = _canonical(name)
    check_transforms(transform, pre_transform)
    _require_ogb()  # before any download attempt, so a missing package is not a network failure
    root = resolve_root(root)
    folder = OGB_NAMES[name]
    source = root / "ogb" / folder
    relative = ogb_required_files(name)
    wanted = [source / path for path in relative]
    present = [path.is_file() for path in wanted]
    parent = cache_dir() / "ogb"
    _prune_dangling(parent)

    shown = source
    if all(present):
        dataset = _in_place(name, root, source)
        if dataset is None:
            entry = keyed_entry(parent, folder, content_key(source, wanted, "ogb"), keep=("download",))
            _mirror(source, relative, entry / folder)
            dataset = _open(name, entry, source)
    elif any(present):
        missing = [path for path, ok in zip(wanted, present) if not ok]
        raise missing_files_error(name, root, missing,
                                  "the other files are there, so nothing is downloaded over a partial copy", OGB_SOURCE)
    else:
        base = parent / f"{folder}@download"
        if not (base / _DOWNLOADED).is_file():
            _download(name, base, root, wanted)
        shown = base / folder
        dataset = _open(name, base, shown)

    split = dataset.get_idx_split()
    graph = dataset[0]
    num_nodes = int(graph.num_nodes)
    data = Data(x=graph.x, y=graph.y.view(-1).long(), num_nodes=num_nodes)
    data.edge_index = to_undirected(graph.edge_index, num_nodes=num_nodes) if name == "ogbn-arxiv" else graph.edge_index
    for key in _EXTRA_NODE_FILES[name]:
        data[key] = graph[key].view(-1)
    for part, attribute in (("train", "train_mask"), ("valid", "val_mask"), ("test", "test_mask")):
        index = split[part]
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= num_nodes):
            raise DataFormatError(shown / "split" / _SPLIT[name] / f"{part}.csv.gz",
                                  f"node index outside 0..{num_nodes - 1}")
        mask = torch.zeros(num_nodes, dtype=torch.bool)
        mask[index] = True
        data[attribute] = mask
    data.num_classes = int(dataset.num_classes)
    data.name = name
    _verify(data, name)
    return apply_transforms(data, transform, pre_transform)


def _verify(data: Data, name: str) -> None:
    num_nodes = data.num_nodes
    check_edge_index(data.edge_index, num_nodes, name)
    if data.x is None or data.x.size(0) != num_nodes:
        raise ValueError(f"{name}: x must have one row per node ({num_nodes})")
    if data.y.numel() != num_nodes or int(data.y.min()) < 0 or int(data.y.max()) >= data.num_classes:
        raise ValueError(f"{name}: y must hold one class in [0, {data.num_classes}) per node")
    overlap = (data.train_mask & data.val_mask) | (data.train_mask & data.test_mask) | (data.val_mask & data.test_mask)
    if overlap.any():
        raise ValueError(f"{name}: the official split's train/valid/test sets overlap")


def _write_csv_gz(path: pathlib.Path, array: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        np.savetxt(handle, array, fmt=fmt, delimiter=",")


def write_tiny_ogb_graph(
    root: PathLike,
    name: str = "ogbn-arxiv",
    num_nodes: int = 60,
    num_edges: int = 150,
    num_features: int = 8,
    seed: int = 0,
) -> pathlib.Path:
    """Write a small random graph in OGB's raw on-disk format, for offline tests.

    Creates ``<root>/<ogbn_name>/`` with ``RELEASE_v1.txt``, ``raw/{edge,node-feat,node-label,
    num-node-list,num-edge-list}.csv.gz`` (plus ``node_year`` for arxiv) and
    ``split/<split>/{train,valid,test}.csv.gz`` (60/20/20 % of the nodes), exactly what
    ``ogb.nodeproppred.PygNodePropPredDataset(name, root)`` reads. Pass ``<data root>/ogb`` as
    ``root`` to make the graph loadable with :func:`load_ogb`.

    Args:
        root (str or os.PathLike): the folder that receives ``<ogbn_name>/``.
        name (str, optional): ``"ogbn-arxiv"`` or ``"ogbn-products"``. (default:
            :obj:`"ogbn-arxiv"`)
        num_nodes (int, optional): nodes. (default: :obj:`60`)
        num_edges (int, optional): raw edges (one direction, self-loops removed, so a few
            fewer may be written). (default: :obj:`150`)
        num_features (int, optional): feature columns. (default: :obj:`8`)
        seed (int, optional): random seed. (default: :obj:`0`)

    Returns:
        pathlib.Path: the ``<root>/<ogbn_name>`` folder.
    """
    name = _canonical(name)
    if num_nodes < 5 or num_edges < 1 or num_features < 1:
        raise ValueError("num_nodes must be >= 5 and num_edges, num_features >= 1")
    rng = np.random.default_rng(seed)
    folder = pathlib.Path(root) / OGB_NAMES[name]
    edges = rng.integers(0, num_nodes, size=(num_edges, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    raw = folder / "raw"
    _write_csv_gz(raw / "edge.csv.gz", edges, "%d")
    _write_csv_gz(raw / "node-feat.csv.gz", rng.standard_normal((num_nodes, num_features)), "%.6f")
    _write_csv_gz(raw / "node-label.csv.gz", rng.integers(0, _NUM_CLASSES[name], size=(num_nodes, 1)), "%d")
    _write_csv_gz(raw / "num-node-list.csv.gz", np.array([[num_nodes]]), "%d")
    _write_csv_gz(raw / "num-edge-list.csv.gz", np.array([[edges.shape[0]]]), "%d")
    if name == "ogbn-arxiv":
        _write_csv_gz(raw / "node_year.csv.gz", rng.integers(1990, 2021, size=(num_nodes, 1)), "%d")
    order = rng.permutation(num_nodes)
    cut1, cut2 = int(0.6 * num_nodes), int(0.8 * num_nodes)
    split = folder / "split" / _SPLIT[name]
    for part, index in (("train", order[:cut1]), ("valid", order[cut1:cut2]), ("test", order[cut2:])):
        _write_csv_gz(split / f"{part}.csv.gz", np.sort(index)[:, None], "%d")
    (folder / _RELEASE).write_text("tiny test graph written by noisygraph.datasets.write_tiny_ogb_graph\n")
    return folder


def write_ogb_graph(data: Data, root: PathLike, name: str = "ogbn-products") -> pathlib.Path:
    """Write a graph (e.g. a :func:`~noisygraph.datasets.csbm`) in OGB's exact raw layout, so
    that :func:`load_ogb` reads it back through ``ogb``'s own loader: the files of
    :func:`write_tiny_ogb_graph`, filled from ``data``.

    ``edge.csv.gz`` holds each undirected edge once (``ogb`` adds the inverse edges of
    ogbn-products; :func:`load_ogb` symmetrises ogbn-arxiv), features are written with 9
    significant digits (a float32 value reads back exactly), and the split files
    (``split/sales_ranking/`` for ogbn-products, ``split/time/`` for ogbn-arxiv, with a zero
    ``node_year``) list the nodes of ``data.train_mask`` / ``val_mask`` / ``test_mask``.

    Args:
        data (Data): ``x`` ``[N, F]`` floating, ``y`` ``[N]`` classes in ``[0, K)`` with ``K``
            the data set's (47 or 40), an undirected ``edge_index`` without self-loops, and
            the three masks (disjoint).
        root (str or os.PathLike): the folder that receives ``<ogbn_name>/`` (pass
            ``<data root>/ogb``).
        name (str, optional): ``"ogbn-products"`` or ``"ogbn-arxiv"``.
            (default: :obj:`"ogbn-products"`)

    Returns:
        pathlib.Path: the ``<root>/<ogbn_name>`` folder.
    """
    from torch_geometric.utils import contains_self_loops, is_undirected

    name = _canonical(name)
    if not isinstance(data, Data):
        raise TypeError(f"data must be a torch_geometric.data.Data, got {type(data).__name__}")
    num_nodes = data.num_nodes
    x, y, edge_index = data.x, data.y, data.edge_index
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 2 or \
            x.size(0) != num_nodes:
        raise ValueError(f"data.x must be a floating [{num_nodes}, F] tensor")
    if not isinstance(y, torch.Tensor) or y.shape != (num_nodes,) or y.is_floating_point() or \
            int(y.min()) < 0 or int(y.max()) >= _NUM_CLASSES[name]:
        raise ValueError(f"data.y must hold one class in [0, {_NUM_CLASSES[name]}) per node "
                         f"({name} has {_NUM_CLASSES[name]} classes)")
    check_edge_index(edge_index, num_nodes, "data.edge_index")
    if not is_undirected(edge_index, num_nodes=num_nodes) or \
            contains_self_loops(edge_index):
        raise ValueError("data.edge_index must be undirected (both directions of every edge) "
                         "and free of self-loops, as the OGB node graphs are")
    masks = []
    for attribute in ("train_mask", "val_mask", "test_mask"):
        mask = data.get(attribute)
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or \
                mask.shape != (num_nodes,):
            raise ValueError(f"data.{attribute} must be a bool [{num_nodes}] mask")
        masks.append(mask)
    if bool(((masks[0].int() + masks[1].int() + masks[2].int()) > 1).any()):
        raise ValueError("data.train_mask, val_mask and test_mask must be disjoint")
    folder = pathlib.Path(root) / OGB_NAMES[name]
    raw = folder / "raw"
    once = edge_index[:, edge_index[0] < edge_index[1]].t().cpu().numpy()
    _write_csv_gz(raw / "edge.csv.gz", once, "%d")
    _write_csv_gz(raw / "node-feat.csv.gz", x.detach().cpu().numpy(), "%.9g")
    _write_csv_gz(raw / "node-label.csv.gz", y.cpu().numpy()[:, None], "%d")
    _write_csv_gz(raw / "num-node-list.csv.gz", np.array([[num_nodes]]), "%d")
    _write_csv_gz(raw / "num-edge-list.csv.gz", np.array([[once.shape[0]]]), "%d")
    if name == "ogbn-arxiv":
        _write_csv_gz(raw / "node_year.csv.gz", np.zeros((num_nodes, 1), dtype=np.int64), "%d")
    split = folder / "split" / _SPLIT[name]
    for part, mask in zip(("train", "valid", "test"), masks):
        _write_csv_gz(split / f"{part}.csv.gz", mask.nonzero().view(-1, 1).cpu().numpy(), "%d")
    (folder / _RELEASE).write_text("graph written by noisygraph.datasets.write_ogb_graph\n")
    return folder
