"""Text-attributed graphs (``<root>/tag/<name>/{nodes,edges,classes}.tsv``).

UTF-8, tab-separated, one header row each:

* ``nodes.tsv``: ``node``, ``label``, ``text`` — ids ``0..N-1`` in row order; the text is the
  rest of the line (it may contain quotes, which are not an escape character here);
* ``edges.tsv``: ``src``, ``dst`` — each undirected edge once, 0-based;
* ``classes.tsv``: ``label``, ``name``, ``description`` — one row per class, ``0..K-1`` in order.
"""
from __future__ import annotations

import pathlib
from typing import Optional

import numpy as np
import torch
from torch_geometric.data import Data

from noisygraph.datasets._graph import undirected_edge_index
from noisygraph.datasets._paths import PathLike, load_layout_folder

TEXT_GRAPH_FILES = ("nodes.tsv", "edges.tsv", "classes.tsv")


def _rows(path: pathlib.Path, header: tuple[str, ...]) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or tuple(lines[0].rstrip("\r").split("\t")) != header:
        raise ValueError(f"{path}: the first line must be the header {chr(9).join(header)!r}")
    width = len(header)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t", width - 1)
        if len(fields) != width:
            raise ValueError(f"{path}, line {number}: expected {width} tab-separated fields, got {len(fields)}")
        rows.append(fields)
    return rows


def _integers(values: list[str], path: pathlib.Path, column: str) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"{path}: column {column!r} must hold integers ({error})") from None


def parse_text_graph(folder: PathLike) -> dict:
    """Parse and validate a text-graph folder into a dict with ``edge_index``, ``y``, ``text``,
    ``class_names`` and ``class_descriptions``.

    Raises:
        ValueError: on a wrong header, node ids not ``0..N-1`` in order, class ids not
            ``0..K-1`` in order, a label outside ``[0, K)``, or an edge endpoint outside
            ``[0, N)``.
    """
    folder = pathlib.Path(folder)
    nodes_path, edges_path, classes_path = (folder / file for file in TEXT_GRAPH_FILES)

    classes = _rows(classes_path, ("label", "name", "description"))
    class_ids = _integers([row[0] for row in classes], classes_path, "label")
    if not np.array_equal(class_ids, np.arange(len(classes))):
        raise ValueError(f"{classes_path}: class ids must be 0..{len(classes) - 1} in row order")
    num_classes = len(classes)

    nodes = _rows(nodes_path, ("node", "label", "text"))
    node_ids = _integers([row[0] for row in nodes], nodes_path, "node")
    num_nodes = len(nodes)
    if not np.array_equal(node_ids, np.arange(num_nodes)):
        first = int(np.flatnonzero(node_ids != np.arange(num_nodes))[0])
        raise ValueError(
            f"{nodes_path}: node ids must be 0..{num_nodes - 1} in row order; "
            f"row {first + 2} has id {int(node_ids[first])}"
        )
    y = _integers([row[1] for row in nodes], nodes_path, "label")
    if num_nodes and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{nodes_path}: labels must lie in [0, {num_classes}) (the rows of classes.tsv)")

    text = edges_path.read_text(encoding="utf-8")
    header, _, body = text.partition("\n")
    if tuple(header.rstrip("\r").split("\t")) != ("src", "dst"):
        raise ValueError(f"{edges_path}: the first line must be the header 'src\\tdst'")
    try:
        flat = np.array(body.split(), dtype=np.int64)
    except ValueError as error:
        raise ValueError(f"{edges_path}: endpoints must be integers ({error})") from None
    if flat.size % 2:
        raise ValueError(f"{edges_path}: every line must hold two endpoints")
    pairs = flat.reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= num_nodes):
        raise ValueError(f"{edges_path}: endpoints must lie in [0, {num_nodes})")
    pairs = torch.from_numpy(pairs)
    return {
        "edge_index": undirected_edge_index(pairs[:, 0], pairs[:, 1], num_nodes),
        "y": torch.from_numpy(y),
        "text": [row[2] for row in nodes],
        "class_names": [row[1] for row in classes],
        "class_descriptions": [row[2] for row in classes],
    }


def load_text_graph(name: str, root: Optional[PathLike] = None) -> Data:
    r"""Load any text-attributed graph under ``<root>/tag/<name>/`` (e.g. ``dblp``).

    The parsed graph is cached in :func:`~noisygraph.datasets.cache_dir`, keyed by the files'
    size and modification time.

    Args:
        name (str): the folder name under ``tag/``.
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)

    Returns:
        torch_geometric.data.Data: ``edge_index`` (both directions, deduplicated, no
        self-loops), ``y``, ``text`` (``list[str]``, one per node), ``class_names``,
        ``class_descriptions``, ``num_nodes``, ``num_classes``; no ``x`` (embed ``text``).
    """
    payload = load_layout_folder("tag", name, root, TEXT_GRAPH_FILES, f"text graph {name!r}",
                                 lambda paths: parse_text_graph(paths[0].parent))
    data = Data(edge_index=payload["edge_index"], y=payload["y"], num_nodes=payload["y"].numel())
    data.text = payload["text"]
    data.class_names = payload["class_names"]
    data.class_descriptions = payload["class_descriptions"]
    data.num_classes = len(payload["class_names"])
    data.name = name
    return data
