"""Edge-list helpers shared by the loaders (vectorised, no Python loop over edges)."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data


def undirected_edge_index(row: Tensor, col: Tensor, num_nodes: int) -> Tensor:
    """``[2, E]`` edge index holding every edge ``(row[i], col[i])`` in both directions, sorted
    by source then target, without duplicates and without self-loops."""
    row, col = row.long().numpy(), col.long().numpy()
    keep = row != col
    row, col = row[keep], col[keep]
    keys = sorted_unique(np.concatenate([row * num_nodes + col, col * num_nodes + row]))
    return torch.from_numpy(np.stack([keys // num_nodes, keys % num_nodes]))


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys`` in increasing order; sorts ``keys`` in place (numpy's
    sort and a neighbour comparison: much faster here than ``np.unique``'s hash table or
    ``torch.unique``)."""
    keys.sort()
    if keys.size:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return keys


def symmetric_sorted(row: Tensor, col: Tensor, num_nodes: int) -> Tensor:
    """Like :func:`undirected_edge_index` for pairs already known to be distinct undirected
    edges without self-loops: adds the reverse direction and sorts, skipping the dedup pass.

    Memory stays near the output's size (one key buffer sorted in place), which matters at
    10^8 edges.
    """
    count = row.numel()
    keys = torch.empty(2 * count, dtype=torch.int64)
    torch.mul(row.long(), num_nodes, out=keys[:count]).add_(col.long())
    torch.mul(col.long(), num_nodes, out=keys[count:]).add_(row.long())
    keys.numpy().sort()  # in place, no index buffer
    edge_index = torch.empty(2, 2 * count, dtype=torch.int64)
    torch.div(keys, num_nodes, rounding_mode="floor", out=edge_index[0])
    torch.remainder(keys, num_nodes, out=edge_index[1])
    return edge_index


def check_edge_index(edge_index: Tensor, num_nodes: int, what: str) -> None:
    """Raise ``ValueError`` if ``edge_index`` is not a ``[2, E]`` integer tensor with ids in
    ``[0, num_nodes)``."""
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{what}: edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"{what}: edge_index must be integer, got {edge_index.dtype}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(
            f"{what}: node ids must lie in [0, {num_nodes}), found "
            f"[{int(edge_index.min())}, {int(edge_index.max())}]"
        )


def check_transforms(transform: Optional[Callable], pre_transform: Optional[Callable]) -> None:
    """Raise ``TypeError`` naming ``transform`` / ``pre_transform`` when one is neither
    ``None`` nor callable (checked before any file is read)."""
    for name, value in (("transform", transform), ("pre_transform", pre_transform)):
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be callable (a PyG transform) or None, got {type(value).__name__}")


def apply_transforms(data: Data, transform: Optional[Callable], pre_transform: Optional[Callable]) -> Data:
    """``transform(pre_transform(data))``, skipping the ``None`` ones. A transform that returns
    something other than a ``Data`` is a ``TypeError`` naming it."""
    for name, function in (("pre_transform", pre_transform), ("transform", transform)):
        if function is None:
            continue
        data = function(data)
        if not isinstance(data, Data):
            raise TypeError(f"{name} must return a torch_geometric.data.Data, got {type(data).__name__}")
    return data
