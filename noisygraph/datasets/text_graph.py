"""Text-attributed graphs (``<root>/tag/<name>/{nodes,edges,classes}.tsv``).

UTF-8, tab-separated, one header row each:

* ``nodes.tsv``: ``node``, ``label``, ``text`` — ids ``0..N-1`` in row order; the text is the
  rest of the line (it may contain tabs and quotes, which are not an escape character here)
  and must not be empty;
* ``edges.tsv``: ``src``, ``dst`` — each undirected edge once, 0-based;
* ``classes.tsv``: ``label``, ``name``, ``description`` — one row per class, ``0..K-1`` in
  order, distinct non-empty names.

Every violation raises a :class:`~noisygraph.datasets.DataFormatError` naming the file and the
line, e.g. ``.../edges.tsv line 17: expected 2 columns (src, dst), got 3``.
"""
from __future__ import annotations

import pathlib
from typing import Callable, Optional

import numpy as np
import torch
from torch_geometric.data import Data

from noisygraph.datasets._graph import apply_transforms, check_transforms, undirected_edge_index
from noisygraph.datasets._parse import DataFormatError, first_true, integer_column, integer_tokens, split_header, tsv_rows
from noisygraph.datasets._paths import PathLike, load_layout_folder

TEXT_GRAPH_FILES = ("nodes.tsv", "edges.tsv", "classes.tsv")

TEXT_GRAPH_SOURCE = (
    "DBLP (14,376 papers, 4 areas) comes from the release of 'Text-space Graph Foundation Models: "
    "Comprehensive Benchmarks and New Insights' (Chen et al., NeurIPS 2024 Datasets and Benchmarks), "
    "https://github.com/CurryTang/TSGFM (MIT licence), converted to nodes/edges/classes.tsv; there is no "
    "download; any graph works once written in this layout (docs/data.md)."
)


def _rows_with_ids(path: pathlib.Path, header: tuple[str, ...], what: str) -> list[list[str]]:
    """The rows of ``path``, whose first column must number them ``0..n-1`` in order."""
    rows = tsv_rows(path, path.read_bytes(), header)
    if not rows:
        raise DataFormatError(path, f"no {what} rows after the header")
    ids = integer_column(path, [row[0] for row in rows], header[0])
    wrong = ids != np.arange(len(rows))
    if wrong.any():
        index = first_true(wrong)
        found = int(ids[index])
        why = f"a duplicate of line {found + 2}" if found < index else "out of order"
        raise DataFormatError(path, f"{what} ids must be 0..{len(rows) - 1} in row order; expected {index}, "
                              f"got {found} ({why})", index + 2)
    return rows


def _classes(path: pathlib.Path) -> tuple[list[str], list[str]]:
    rows = _rows_with_ids(path, ("label", "name", "description"), "class")
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        name = row[1].strip()
        if not name:
            raise DataFormatError(path, "the class name is empty", number)
        if name in seen:
            raise DataFormatError(path, f"class name {name!r} repeats line {seen[name]}", number)
        seen[name] = number
    return [row[1] for row in rows], [row[2] for row in rows]


def _nodes(path: pathlib.Path, num_classes: int, classes_path: pathlib.Path) -> tuple[np.ndarray, list[str]]:
    rows = _rows_with_ids(path, ("node", "label", "text"), "node")
    y = integer_column(path, [row[1] for row in rows], "label")
    outside = y >= num_classes
    if outside.any():
        index = first_true(outside)
        raise DataFormatError(path, f"label {int(y[index])} is not a class of {classes_path.name} "
                              f"(0..{num_classes - 1})", index + 2)
    text = [row[2] for row in rows]
    for number, value in enumerate(text, start=2):
        if not value.strip():
            raise DataFormatError(path, "the node text is empty (every node needs a text to embed)", number)
    return y, text


def _edges(path: pathlib.Path, num_nodes: int, nodes_path: pathlib.Path) -> torch.Tensor:
    data = path.read_bytes()
    offset = split_header(path, data, ("src", "dst"))
    tokens = integer_tokens(path, data[offset:], 2, "a node id")
    wrong = tokens.counts != 2
    if wrong.any():
        line = first_true(wrong)
        raise DataFormatError(path, f"expected 2 tab-separated columns (src, dst), got {int(tokens.counts[line])}",
                              line + 2)
    outside = tokens.values >= num_nodes
    if outside.any():
        index = first_true(outside)
        raise DataFormatError(path, f"node id {int(tokens.values[index])} outside 0..{num_nodes - 1} "
                              f"({nodes_path.name} has {num_nodes} nodes)", int(tokens.lines[index]) + 2)
    pairs = torch.from_numpy(tokens.values.reshape(-1, 2))
    return undirected_edge_index(pairs[:, 0], pairs[:, 1], num_nodes)


def parse_text_graph(folder: PathLike) -> dict:
    """Parse and validate a text-graph folder into a dict with ``edge_index``, ``y``, ``text``,
    ``class_names`` and ``class_descriptions``.

    Raises:
        DataFormatError: (a ``ValueError``) naming the file and line: invalid UTF-8, a wrong
            header, a row with the wrong number of columns, a non-integer id, node ids not
            ``0..N-1`` in order (duplicates included), class ids not ``0..K-1`` in order, an
            empty or repeated class name, a label outside ``[0, K)``, an empty node text, or an
            edge endpoint outside ``[0, N)``.
    """
    folder = pathlib.Path(folder)
    nodes_path, edges_path, classes_path = (folder / file for file in TEXT_GRAPH_FILES)
    class_names, class_descriptions = _classes(classes_path)
    y, text = _nodes(nodes_path, len(class_names), classes_path)
    edge_index = _edges(edges_path, y.shape[0], nodes_path)
    return {
        "edge_index": edge_index,
        "y": torch.from_numpy(y),
        "text": text,
        "class_names": class_names,
        "class_descriptions": class_descriptions,
    }


def _pack(payload: dict) -> dict:
    """The cached form: the node texts as one UTF-8 buffer plus character offsets (two tensors
    load ~20x faster than a list of 10^4 strings through torch's weights-only unpickler)."""
    text = payload["text"]
    packed = dict(payload)
    packed["text"] = torch.frombuffer(bytearray("".join(text).encode("utf-8")), dtype=torch.uint8)
    packed["text_offsets"] = torch.tensor([0] + [len(value) for value in text], dtype=torch.int64).cumsum(0)
    return packed


def _restore(packed: dict) -> dict:
    """The payload of a cached (packed) text graph; raises ``ValueError`` if it is not one."""
    edge_index, y = packed.get("edge_index"), packed.get("y")
    text, offsets = packed.get("text"), packed.get("text_offsets")
    if not all(isinstance(value, torch.Tensor) for value in (edge_index, y, text, offsets)):
        raise ValueError("missing edge_index, y or text")
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.dtype != torch.int64 or y.dim() != 1:
        raise ValueError("edge_index or y has the wrong shape")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= y.numel()):
        raise ValueError("edge_index out of range")
    if not all(isinstance(packed.get(key), list) for key in ("class_names", "class_descriptions")):
        raise ValueError("missing class names")
    if len(packed["class_names"]) != len(packed["class_descriptions"]):
        raise ValueError("class lists of different lengths")
    if text.dtype != torch.uint8:
        raise ValueError("text is not a byte buffer")
    joined = bytes(text.numpy()).decode("utf-8")
    bounds = offsets.tolist()
    if len(bounds) != y.numel() + 1 or bounds[0] != 0 or bounds[-1] != len(joined) \
            or any(end <= start for start, end in zip(bounds[:-1], bounds[1:])):
        raise ValueError("text offsets do not match the nodes")
    payload = dict(packed)
    payload["text"] = [joined[start:end] for start, end in zip(bounds[:-1], bounds[1:])]
    del payload["text_offsets"]
    return payload


def load_text_graph(name: str, root: Optional[PathLike] = None, *,
                    transform: Optional[Callable[[Data], Data]] = None,
                    pre_transform: Optional[Callable[[Data], Data]] = None) -> Data:
    r"""Load any text-attributed graph under ``<root>/tag/<name>/`` (e.g. ``dblp``).

    The parsed graph is cached in :func:`~noisygraph.datasets.cache_dir`, keyed by a SHA-256
    of the three files' bytes and the absolute folder.

    Args:
        name (str): the folder name under ``tag/``.
        root (str or os.PathLike, optional): the data root. (default: :obj:`None`, meaning
            :func:`~noisygraph.datasets.data_root`)
        transform (callable, optional): applied to the returned graph (PyG style), after
            ``pre_transform``. (default: :obj:`None`)
        pre_transform (callable, optional): applied first; nothing transformed is written to
            disk. (default: :obj:`None`)

    Returns:
        torch_geometric.data.Data: ``edge_index`` (both directions, deduplicated, no
        self-loops), ``y``, ``text`` (``list[str]``, one per node), ``class_names``,
        ``class_descriptions``, ``num_nodes``, ``num_classes``; no ``x`` (embed ``text``).

    Raises:
        DatasetNotFoundError: a file is missing.
        DataFormatError: a file is malformed (a ``ValueError`` naming the file and line).
    """
    check_transforms(transform, pre_transform)
    payload = load_layout_folder("tag", name, root, TEXT_GRAPH_FILES, f"text graph {name!r}",
                                 lambda paths: _pack(parse_text_graph(paths[0].parent)), _restore,
                                 source=TEXT_GRAPH_SOURCE)
    data = Data(edge_index=payload["edge_index"], y=payload["y"], num_nodes=payload["y"].numel())
    data.text = payload["text"]
    data.class_names = payload["class_names"]
    data.class_descriptions = payload["class_descriptions"]
    data.num_classes = len(payload["class_names"])
    data.name = name
    return apply_transforms(data, transform, pre_transform)
