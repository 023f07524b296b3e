"""Option checks shared by the clustering functions: each raises a ``ValueError`` or
``TypeError`` whose message names the argument, before any work is done."""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from noisygraph.cluster.graph import LocalGraph

INT64_MAX = 2**63 - 1


def require_graph(graph: Any, name: str = "graph") -> LocalGraph:
    """``graph`` itself when it is a :class:`LocalGraph` (build one with
    :meth:`LocalGraph.from_graph`), else a TypeError."""
    if not isinstance(graph, LocalGraph):
        raise TypeError(f"{name} must be a LocalGraph (build it once with "
                        f"LocalGraph.from_graph), got {type(graph).__name__}")
    return graph


def real(value: Any, name: str) -> float:
    """A real number (Python, NumPy or a one-element tensor; not a bool) as a float."""
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be a real number, got a tensor of shape "
                            f"{tuple(value.shape)} and dtype {value.dtype}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def in_range(value: Any, name: str, low: Optional[float] = None, high: Optional[float] = None,
             low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number within the given bounds, as a float."""
    number = real(value, name)
    interval = (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
                f"{'inf' if high is None else high}{')' if high_open or high is None else ']'}")
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    if low is not None and (number < low or (low_open and number == low)):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    if high is not None and (number > high or (high_open and number == high)):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return number


def positive(value: Any, name: str) -> float:
    """A finite number > 0, as a float."""
    return in_range(value, name, low=0.0, low_open=True)


def integer(value: Any, name: str, low: int = 0) -> int:
    """An integer (not a bool) in ``[low, 2**63 - 1]``, as an int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    number = int(value)
    if not low <= number <= INT64_MAX:
        raise ValueError(f"{name} must be an int in [{low}, 2**63 - 1], got {number}")
    return number


def levels(values: Any, name: str, descending: bool = False) -> list[float]:
    """A non-empty sequence of finite positive numbers, sorted (ascending unless
    ``descending``)."""
    if isinstance(values, Tensor):
        if values.dim() != 1:
            raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape "
                             f"{tuple(values.shape)}")
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of positive numbers, got "
                        f"{type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"{name} must hold at least one number")
    numbers_ = [positive(v, f"{name}[{i}]") for i, v in enumerate(values)]
    return sorted(numbers_, reverse=descending)


def bool_mask(mask: Any, name: str, num_nodes: int) -> Tensor:
    """A bool ``[num_nodes]`` tensor (one entry per node)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a bool tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor (in target or not), got {mask.dtype}")
    if mask.shape != (num_nodes,):
        raise ValueError(f"{name} must have shape [{num_nodes}] (one per node), got "
                         f"{tuple(mask.shape)}")
    return mask
