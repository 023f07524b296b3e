"""Argument checks of the public ops and layers, run once per call at the public boundary.

Scalar checks are pure Python. A tensor's metadata (type, layout, dtype, shape, device) is
checked without touching its data; finiteness needs one reduction and one host sync per
checked tensor (:func:`check_finite`), never one per diffusion step.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from noisygraph.sparse import check_count

FLOAT_DTYPES = (torch.float32, torch.float64)
MAX_STEPS = 2**31 - 1
INT64_MAX = 2**63 - 1


def check_steps(name: str, value) -> int:
    """A step count: an ``int`` in ``[0, 2**31 - 1]``."""
    value = check_count(name, value)
    if value > MAX_STEPS:
        raise ValueError(f"{name} must be <= {MAX_STEPS}, got {value}")
    return value


def check_real(name: str, value, *, low: Optional[float] = None,
               high: Optional[float] = None, low_open: bool = False,
               high_open: bool = False) -> float:
    """A finite real number (never a bool) within the given bounds, as a ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_tensor(name: str, value) -> Tensor:
    """A dense (strided) tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.layout != torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor, got layout {value.layout}")
    return value


def check_float_matrix(name: str, x, num_rows: int, device: torch.device) -> Tensor:
    """``x``: a float32/float64 ``[num_rows, F]`` tensor on ``device`` (metadata only)."""
    check_tensor(name, x)
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if x.dim() != 2:
        raise ValueError(f"{name} must be 2-D [num_nodes, F], got shape {tuple(x.shape)}")
    if x.size(0) != num_rows:
        raise ValueError(f"{name} has {x.size(0)} rows but the graph has {num_rows} nodes")
    if x.device != device:
        raise ValueError(f"{name} is on {x.device} but the graph on {device}")
    return x


def check_finite(name: str, x: Tensor) -> None:
    """No NaN or infinity in ``x`` (one reduction, one host sync)."""
    if x.numel() == 0:
        return
    # one cheap reduction first; the elementwise test only when the sum is not finite
    if math.isfinite(x.detach().sum().item()):
        return
    finite = torch.isfinite(x.detach())
    if bool(finite.all()):
        return
    first = tuple(int(i) for i in (~finite).nonzero()[0])
    kind = "NaN" if bool(torch.isnan(x.detach()).any()) else "an infinite value"
    raise ValueError(f"{name} contains {kind} (first non-finite entry at {first})")


def check_bool_mask(name: str, mask, num_rows: int, device: torch.device) -> Tensor:
    """A bool ``[num_rows]`` tensor on ``device``."""
    check_tensor(name, mask)
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got {mask.dtype}")
    if mask.shape != (num_rows,):
        raise ValueError(f"{name} must have shape [{num_rows}], got {tuple(mask.shape)}")
    if mask.device != device:
        raise ValueError(f"{name} is on {mask.device} but the signal on {device}")
    return mask


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
