"""Argument checks shared by the Locle pipeline and its baselines (each error names the
argument)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

import torch
from torch import Tensor


def check_int(value: int, name: str, low: int = 0) -> int:
    """``value`` as an ``int >= low`` (bools rejected), else ``TypeError`` / ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def check_bool(value: bool, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_real(value: float, name: str, low: float = 0.0, high: float = math.inf,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (each end
    excluded when ``low_open`` / ``high_open``), else ``TypeError`` / ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    low_ok = value > low if low_open else value >= low
    high_ok = value < high if high_open else value <= high
    if not (math.isfinite(value) and low_ok and high_ok):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return value


def check_fraction(value: float, name: str, low_open: bool = False,
                   high_open: bool = False) -> float:
    """``value`` as a float in ``[0, 1]`` (ends excluded when ``low_open`` / ``high_open``)."""
    return check_real(value, name, 0.0, 1.0, low_open, high_open)


def check_features(x: Tensor, num_nodes: Optional[int], name: str = "x") -> Tensor:
    """A finite floating ``[num_nodes, F]`` tensor (any non-zero number of rows when
    ``num_nodes`` is :obj:`None`), ``F >= 1``, returned as float32."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    rows_ok = x.dim() == 2 and (x.size(0) == num_nodes if num_nodes is not None else x.size(0) > 0)
    if not rows_ok or x.size(1) < 1:
        rows = num_nodes if num_nodes is not None else "N >= 1"
        raise ValueError(f"{name} must have shape [{rows}, F] with F >= 1, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return x.float()


def check_edge_index(data, num_nodes: int) -> Tensor:
    """``data.edge_index``: an integer ``[2, E]`` tensor with ids in ``[0, num_nodes)``."""
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        raise ValueError("data must have an edge_index")
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"data.edge_index must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"data.edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"data.edge_index must be an integer tensor, got {edge_index.dtype}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f"data.edge_index holds node ids outside [0, {num_nodes}): "
                         f"[{int(edge_index.min())}, {int(edge_index.max())}]")
    return edge_index.long()


def check_num_nodes(data) -> int:
    num_nodes = getattr(data, "num_nodes", None)
    if num_nodes is None:
        raise ValueError("data must know its num_nodes")
    return check_int(int(num_nodes), "data.num_nodes", low=1)


def check_exclude(exclude: Optional[Tensor], num_nodes: int) -> Tensor:
    """``exclude`` (a boolean mask ``[N]`` or node ids) as a boolean mask ``[N]``."""
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    if exclude is None:
        return mask
    if not isinstance(exclude, Tensor):
        raise TypeError(f"exclude must be a torch.Tensor (mask or node ids), "
                        f"got {type(exclude).__name__}")
    if exclude.dtype == torch.bool:
        if exclude.shape != (num_nodes,):
            raise ValueError(f"exclude as a mask must have shape [{num_nodes}], "
                             f"got {tuple(exclude.shape)}")
        return exclude.clone()
    if exclude.is_floating_point() or exclude.is_complex():
        raise TypeError(f"exclude must be a bool mask or integer node ids, got {exclude.dtype}")
    ids = exclude.flatten().long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= num_nodes):
        raise ValueError(f"exclude holds node ids outside [0, {num_nodes})")
    mask[ids] = True
    return mask


def check_texts(texts, num_nodes: Optional[int] = None) -> list[str]:
    """``texts`` as a list of str (one per node when ``num_nodes`` is given)."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}")
    bad = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if bad is not None:
        raise TypeError(f"texts must hold str; entry {bad} is {type(texts[bad]).__name__}")
    if num_nodes is not None and len(texts) != num_nodes:
        raise ValueError(f"texts has {len(texts)} entries for {num_nodes} nodes")
    return list(texts)
