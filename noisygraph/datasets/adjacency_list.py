"""Graphs stored as adjacency lists (``<root>/wfd/<name>/{adj.txt,labels.txt}``).

The layout of the weighted-flow-diffusion release (Amazon Photo, Coauthor CS, ...): line *i*
of ``adj.txt`` lists the neighbours of node *i*, separated by blanks; an empty line is an
isolated node; ``labels.txt`` holds one class per line. All ids are **1-based**. An undirected
graph lists every edge on both endpoints' lines; a list where node *i* names *j* but *j* does
not name *i* (a truncated or hand-edited file) is an error unless ``symmetrize=True``.
"""
from __future__ import annotations

import pathlib
from typing import Callable, Optional

import numpy as np
import torch
from torch_geometric.data import Data

from noisygraph.datasets._graph import apply_transforms, check_transforms, sorted_unique, undirected_edge_index
from noisygraph.datasets._parse import DataFormatError, first_true, integer_tokens
from noisygraph.datasets._paths import PathLike, load_layout_folder

ADJACENCY_FILES = ("adj.txt", "labels.txt")

# Where the two real adjacency-list graphs come from (for the missing-files error).
ADJACENCY_SOURCE = (
    "Coauthor CS and Amazon Photo in this layout come with the public code release of "
    "'Weighted Flow Diffusion for Local Graph Clustering with Node Attributes' (Yang and "
    "Fountoulakis, ICML 2023); any graph works once written as adj.txt + labels.txt (docs/data.md)."
)


def _labels(labels_path: pathlib.Path) -> np.ndarray:
    """0-based classes, one per line of ``labels.txt``."""
    tokens = integer_tokens(labels_path, labels_path.read_bytes(), 1, "a class")
    if tokens.num_lines == 0:
        raise DataFormatError(labels_path, "the file is empty (it needs one class per node)")
    wrong = tokens.counts != 1
    if wrong.any():
        line = first_true(wrong)
        raise DataFormatError(labels_path, f"expected one class per line, got {int(tokens.counts[line])}", line + 1)
    if tokens.values.min() < 1:
        line = first_true(tokens.values < 1)
        raise DataFormatError(labels_path, f"classes are 1-based, got {int(tokens.values[line])}", line + 1)
    return tokens.values - 1


def _first_asymmetric(keys: np.ndarray, num_nodes: int) -> Optional[tuple[int, int, int]]:
    """``(i, j, count)`` for the first directed edge ``i -> j`` (in line order) whose reverse
    is absent from the sorted, distinct ``keys`` (``i * N + j``), or ``None`` if none is."""
    reverse = (keys % num_nodes) * num_nodes + keys // num_nodes
    if np.array_equal(np.sort(reverse), keys):
        return None
    position = np.minimum(np.searchsorted(keys, reverse), keys.size - 1)
    absent = keys[position] != reverse
    first = first_true(absent)
    return int(keys[first] // num_nodes), int(keys[first] % num_nodes), int(absent.sum())


def parse_adjacency_list(adj_path: PathLike, labels_path: PathLike,
                         symmetrize: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Parse an adjacency-list graph into ``(edge_index, y)``, both 0-based.

    ``edge_index`` holds every edge in both directions, sorted by source then target, without
    duplicates or self-loops (a repeated neighbour or a node listing itself is dropped).

    Args:
        adj_path (str or os.PathLike): ``adj.txt``.
        labels_path (str or os.PathLike): ``labels.txt``.
        symmetrize (bool, optional): add the reverse of every one-sided edge instead of
            rejecting it. (default: :obj:`False`)

    Raises:
        DataFormatError: (a ``ValueError``) naming the file and line: a token that is not an
            integer, an id outside ``1..N``, a class below 1 or not alone on its line, files of
            different lengths, or (unless ``symmetrize``) a node ``i`` listing ``j`` while
            ``j`` does not list ``i``.
    """
    adj_path, labels_path = pathlib.Path(adj_path), pathlib.Path(labels_path)
    y = _labels(labels_path)
    num_nodes = y.shape[0]

    tokens = integer_tokens(adj_path, adj_path.read_bytes(), 1, "a neighbour id")
    if tokens.num_lines != num_nodes:
        raise DataFormatError(
            adj_path, f"has {tokens.num_lines} lines but {labels_path} has {num_nodes}: both need "
            "one line per node (an isolated node is an empty line)"
        )
    col = tokens.values
    outside = (col < 1) | (col > num_nodes)
    if outside.any():
        index = first_true(outside)
        raise DataFormatError(
            adj_path, f"neighbour id {int(col[index])} outside 1..{num_nodes} (ids are 1-based, one "
            f"line per node of {labels_path.name})", int(tokens.lines[index]) + 1,
        )
    row = tokens.lines.astype(np.int64)
    col = col - 1
    if symmetrize:
        edge_index = undirected_edge_index(torch.from_numpy(row), torch.from_numpy(col), num_nodes)
        return edge_index, torch.from_numpy(y)
    keep = row != col
    keys = sorted_unique(row[keep] * num_nodes + col[keep])
    asymmetric = _first_asymmetric(keys, num_nodes) if keys.size else None
    if asymmetric is not None:
        i, j, count = asymmetric
        raise DataFormatError(
            adj_path, f"node {i + 1} lists neighbour {j + 1}, but line {j + 1} (node {j + 1}) does not "
            f"list {i + 1}: the adjacency list is not symmetric ({count} one-sided entries; a "
            "truncated file?). Pass symmetrize=True to add the missing reverse edges", i + 1,
        )
    edge_index = torch.from_numpy(np.stack([keys // num_nodes, keys % num_nodes]))
    return edge_index, torch.from_numpy(y)


def _restore(payload: dict) -> dict:
    """``payload`` if it is a parsed adjacency-list graph; raises ``ValueError`` otherwise."""
    edge_index, y = payload.get("edge_index"), payload.get("y")
    if not isinstance(edge_index, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError("missing edge_index or y")
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.int64 or y.dim() != 1:
        raise ValueError("edge_index or y has the wrong shape")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= y.numel()):
        raise ValueError("edge_index out of range")
    return payload


def load_adjacency_list(name: str, root: Optional[PathLike] = None, symmetrize: bool = False, *,
                        transform: Optional[Callable[[Data], Data]] = None,
                        pre_transform: Optional[Callable[[Data], Data]] = None) -> Data:
    r"""Load any adjacency-list graph under ``<root>/wfd/<name>/`` (e.g. ``coauthor_cs``,
    ``amazon_photo``).

    The parsed graph is cached in :func:`~noisygraph.datasets.cache_dir`, keyed by a SHA-256 of
    both files' bytes and the absolute folder, so later loads skip parsing (and a changed file
    or another root is never served from the cache).

    Args:
        name (str): the folder name under ``wfd/``.
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)
        symmetrize (bool, optional): accept one-sided entries (``i`` lists ``j``, ``j`` does not
            list ``i``) and add their reverse; by default they are an error, since the release's
            lists are symmetric and a one-sided entry means a damaged file. (default:
            :obj:`False`)
        transform (callable, optional): applied to the returned graph (PyG style), after
            ``pre_transform``. (default: :obj:`None`)
        pre_transform (callable, optional): applied first; nothing transformed is written to
            disk. (default: :obj:`None`)

    Returns:
        torch_geometric.data.Data: ``edge_index`` (both directions, deduplicated, no
        self-loops), ``y`` (0-based classes), ``num_nodes``, ``num_classes``; no ``x``.

    Raises:
        DatasetNotFoundError: a file is missing.
        DataFormatError: a file is malformed (a ``ValueError`` naming the file and line).
    """
    if not isinstance(symmetrize, bool):
        raise TypeError(f"symmetrize must be a bool, got {type(symmetrize).__name__}")
    check_transforms(transform, pre_transform)

    def parse(paths: list[pathlib.Path]) -> dict:
        edge_index, y = parse_adjacency_list(*paths, symmetrize=symmetrize)
        return {"edge_index": edge_index, "y": y}

    payload = load_layout_folder("wfd", name, root, ADJACENCY_FILES, f"adjacency-list graph {name!r}",
                                 parse, _restore, variant=f"symmetrize={symmetrize}",
                                 source=ADJACENCY_SOURCE)
    edge_index, y = payload["edge_index"], payload["y"]
    data = Data(edge_index=edge_index, y=y, num_nodes=y.numel())
    data.num_classes = int(y.max()) + 1 if y.numel() else 0
    data.name = name
    return apply_transforms(data, transform, pre_transform)
