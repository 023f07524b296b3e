"""Graphs stored as adjacency lists (``<root>/wfd/<name>/{adj.txt,labels.txt}``).

The layout of the weighted-flow-diffusion release (Amazon Photo, Coauthor CS, ...): line *i*
of ``adj.txt`` lists the neighbours of node *i*, separated by blanks; an empty line is an
isolated node; ``labels.txt`` holds one class per line. All ids are **1-based**.
"""
from __future__ import annotations

import pathlib
from typing import Optional

import numpy as np
import torch
from torch_geometric.data import Data

from noisygraph.datasets._paths import PathLike, load_layout_folder
from noisygraph.datasets._graph import undirected_edge_index

ADJACENCY_FILES = ("adj.txt", "labels.txt")


def _read_lines(path: pathlib.Path) -> list[str]:
    text = path.read_text(encoding="ascii")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def parse_adjacency_list(adj_path: PathLike, labels_path: PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Parse an adjacency-list graph into ``(edge_index, y)``, both 0-based.

    ``edge_index`` holds every edge in both directions, sorted, without duplicates or
    self-loops.

    Raises:
        ValueError: if the files disagree on the number of nodes, an id is outside ``1..N``,
            or a class is below 1.
    """
    adj_path, labels_path = pathlib.Path(adj_path), pathlib.Path(labels_path)
    label_lines = _read_lines(labels_path)
    try:
        y = np.array(label_lines, dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"{labels_path}: every line must be one integer class ({error})") from None
    num_nodes = y.shape[0]
    if num_nodes and y.min() < 1:
        raise ValueError(f"{labels_path}: classes are 1-based, found {int(y.min())}")

    lines = _read_lines(adj_path)
    if len(lines) != num_nodes:
        raise ValueError(
            f"{adj_path} has {len(lines)} lines but {labels_path} has {num_nodes}: "
            "both need one line per node"
        )
    degree = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=num_nodes)
    text = adj_path.read_text(encoding="ascii")
    try:
        col = np.array(text.split(), dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"{adj_path}: neighbour ids must be integers ({error})") from None
    if col.size and (col.min() < 1 or col.max() > num_nodes):
        bad = int(col.min()) if col.min() < 1 else int(col.max())
        raise ValueError(f"{adj_path}: neighbour id {bad} outside 1..{num_nodes} (ids are 1-based)")
    row = np.repeat(np.arange(num_nodes, dtype=np.int64), degree)
    edge_index = undirected_edge_index(torch.from_numpy(row), torch.from_numpy(col - 1), num_nodes)
    return edge_index, torch.from_numpy(y - 1)


def load_adjacency_list(name: str, root: Optional[PathLike] = None) -> Data:
    r"""Load any adjacency-list graph under ``<root>/wfd/<name>/`` (e.g. ``coauthor_cs``,
    ``amazon_photo``).

    The parsed graph is cached in :func:`~noisygraph.datasets.cache_dir` as a ``.pt`` keyed by
    the files' size and modification time, so later loads skip parsing.

    Args:
        name (str): the folder name under ``wfd/``.
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)

    Returns:
        torch_geometric.data.Data: ``edge_index`` (both directions, deduplicated, no
        self-loops), ``y`` (0-based classes), ``num_nodes``, ``num_classes``; no ``x``.
    """
    def parse(paths: list[pathlib.Path]) -> dict:
        edge_index, y = parse_adjacency_list(*paths)
        return {"edge_index": edge_index, "y": y}

    payload = load_layout_folder("wfd", name, root, ADJACENCY_FILES,
                                 f"adjacency-list graph {name!r}", parse)
    edge_index, y = payload["edge_index"], payload["y"]
    data = Data(edge_index=edge_index, y=y, num_nodes=y.numel())
    data.num_classes = int(y.max()) + 1 if y.numel() else 0
    data.name = name
    return data
