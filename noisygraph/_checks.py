"""Argument checks for the public constructors and ``fit`` methods: run once per call, name the
argument, raise ``TypeError`` for a wrong type and ``ValueError`` for a value out of range."""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Optional

import torch


def check_real(name: str, value, *, low: Optional[float] = None, high: Optional[float] = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number within the bounds (``low_open``/``high_open``: strict)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def check_int(name: str, value, *, low: Optional[int] = None, optional: bool = False):
    """An integer ``>= low`` (``None`` passes through when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}{' or None' if optional else ''}, got {value}")
    return value


def check_choice(name: str, value, choices: tuple) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_fanouts(name: str, value) -> list[int]:
    """A non-empty sequence of per-hop fan-outs, each an int ``>= 0`` or ``-1`` (all)."""
    if isinstance(value, (str, bytes, torch.Tensor)) or not isinstance(value, Sequence) or not value:
        raise TypeError(f"{name} must be a non-empty sequence of ints, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{name} must hold ints, got {item!r}")
        if item < -1:
            raise ValueError(f"{name} entries must be >= 0 or -1 (all neighbours), got {int(item)}")
        out.append(int(item))
    return out


def check_device(name: str, device) -> Optional[torch.device]:
    """``None`` or a device torch knows and this machine has."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {type(device).__name__}")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"{name}: {device!r} is not a device ({error})") from None
    if parsed.type == "cpu":
        return parsed
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={str(device)!r}: CUDA is not available on this machine")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={str(device)!r}: only {torch.cuda.device_count()} CUDA "
                             "device(s)")
        return parsed
    available = {"mps": lambda: torch.backends.mps.is_available(),
                 "xpu": lambda: hasattr(torch, "xpu") and torch.xpu.is_available()}
    if parsed.type not in available:
        raise ValueError(f"{name}={str(device)!r}: unsupported device type (cpu, cuda, mps, xpu)")
    if not available[parsed.type]():
        raise ValueError(f"{name}={str(device)!r}: {parsed.type} is not available on this machine")
    return parsed
