"""Argument checks used at the public boundary, once per call.

Every check takes the argument's name first and the value second, names the argument in its
message, raises ``TypeError`` for a wrong type and ``ValueError`` for a value out of range,
and returns the value in its canonical form (``float``, ``int``, ...). Scalar checks are pure
Python; a tensor's metadata (type, layout, dtype, shape, device) is checked without touching
its data; finiteness needs one reduction and one host sync per checked tensor
(:func:`check_finite`), never one per training or diffusion step.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Optional

import torch
from torch import Tensor

FLOAT_DTYPES = (torch.float32, torch.float64)
INDEX_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
MAX_STEPS = 2**31 - 1
INT64_MAX = 2**63 - 1


def _bounds(low, high, low_open: bool, high_open: bool) -> str:
    """``"> 0"``, ``"<= 1"`` or ``"in [0, 1)"``: the allowed range in words."""
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _outside(value, low, high, low_open: bool, high_open: bool) -> bool:
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    return below or above


# ---------------------------------------------------------------------------- scalars
def check_real(name: str, value: Any, *, low: Optional[float] = None,
               high: Optional[float] = None, low_open: bool = False,
               high_open: bool = False) -> float:
    """A finite real number (Python, NumPy or a one-element real tensor; never a bool) within
    the bounds (``low_open`` / ``high_open``: the end itself excluded), as a ``float``."""
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be a real number, got a tensor of shape "
                            f"{tuple(value.shape)} and dtype {value.dtype}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if _outside(value, low, high, low_open, high_open):
        raise ValueError(f"{name} must be {_bounds(low, high, low_open, high_open)}, "
                         f"got {value}")
    return value


def check_fraction(name: str, value: Any, *, low_open: bool = False,
                   high_open: bool = False) -> float:
    """A number in ``[0, 1]`` (an end excluded when ``low_open`` / ``high_open``)."""
    return check_real(name, value, low=0.0, high=1.0, low_open=low_open, high_open=high_open)


def check_int(name: str, value: Any, *, low: Optional[int] = None,
              high: Optional[int] = None, optional: bool = False) -> Optional[int]:
    """An integer (Python or NumPy; never a bool) in ``[low, high]``, as an ``int``; ``None``
    passes through when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    value = int(value)
    if _outside(value, low, high, False, False):
        bounds = _bounds(low, "2**63 - 1" if high == INT64_MAX else high, False, False)
        raise ValueError(f"{name} must be {bounds}{' or None' if optional else ''}, "
                         f"got {value}")
    return value


def check_steps(name: str, value: Any) -> int:
    """A step count: an ``int`` in ``[0, 2**31 - 1]``."""
    return check_int(name, value, low=0, high=MAX_STEPS)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_type(name: str, value: Any, kind: type, *, hint: str = "") -> Any:
    """``value`` itself when it is a ``kind``, else a ``TypeError`` (``hint``: how to get
    one)."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__}{f' ({hint})' if hint else ''}, "
                        f"got {type(value).__name__}")
    return value


def check_levels(name: str, values: Any, *, descending: bool = False) -> list[float]:
    """A non-empty sequence (or 1-D tensor) of finite numbers > 0, sorted (ascending unless
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
    checked = [check_real(f"{name}[{i}]", v, low=0.0, low_open=True)
               for i, v in enumerate(values)]
    return sorted(checked, reverse=descending)


def _int_list(name: str, value: Any) -> list[int]:
    """A non-empty sequence of ints (no tensor, no bool) as a list: ``TypeError`` for another
    type, ``ValueError`` for an empty sequence."""
    if isinstance(value, (str, bytes, Tensor)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a non-empty sequence of ints, got {value!r}")
    if not value:
        raise ValueError(f"{name} must be a non-empty sequence of ints, got {value!r}")
    bad = next((item for item in value
                if isinstance(item, bool) or not isinstance(item, numbers.Integral)), None)
    if bad is not None:
        raise TypeError(f"{name} must hold ints, got {bad!r}")
    return [int(item) for item in value]


def check_fanouts(name: str, value: Any, *, length: Optional[int] = None,
                  allow_zero: bool = True) -> list[int]:
    """A non-empty sequence of per-hop fan-outs, each an int ``>= 0`` (``> 0`` unless
    ``allow_zero``) or ``-1`` (all), with ``length`` entries when given."""
    out = _int_list(name, value)
    low = 0 if allow_zero else 1
    bad = next((item for item in out if item < low and item != -1), None)
    if bad is not None:
        raise ValueError(f"{name} entries must be >= {low} or -1 (all neighbours), got {bad}")
    if length is not None and len(out) != length:
        raise ValueError(f"{name} must give one fan-out per layer ({length}), got {len(out)}")
    return out


def check_hop_counts(name: str, value: Any, total: int) -> list[int]:
    """Per-hop counts of a sampled mini-batch (PyG's ``num_sampled_nodes`` /
    ``num_sampled_edges``): a non-empty sequence of ints ``>= 0`` summing to ``total`` (the
    batch's nodes or edges)."""
    out = _int_list(name, value)
    bad = next((item for item in out if item < 0), None)
    if bad is not None:
        raise ValueError(f"{name} entries must be >= 0, got {bad}")
    if sum(out) != total:
        raise ValueError(f"{name} must sum to {total} (the batch's count), got {sum(out)}")
    return out


def check_texts(name: str, texts: Any, *, length: Optional[int] = None) -> list[str]:
    """A sequence of ``str`` (``length`` entries when given), as a list."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a sequence of str, got {type(texts).__name__}")
    bad = next((i for i, text in enumerate(texts) if not isinstance(text, str)), None)
    if bad is not None:
        raise TypeError(f"{name} must hold str; entry {bad} is {type(texts[bad]).__name__}")
    if length is not None and len(texts) != length:
        raise ValueError(f"{name} has {len(texts)} entries for {length} nodes")
    return list(texts)


def check_device(name: str, device: Any) -> Optional[torch.device]:
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


# ---------------------------------------------------------------------------- tensors
def check_tensor(name: str, value: Any) -> Tensor:
    """A dense (strided) tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.layout != torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor, got layout {value.layout}")
    return value


def check_float_matrix(name: str, x: Any, num_rows: int, device: torch.device) -> Tensor:
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


def check_features(name: str, x: Any, *, num_rows: Optional[int] = None) -> Tensor:
    """A finite floating ``[num_rows, F]`` tensor (any non-zero number of rows when
    ``num_rows`` is :obj:`None`), ``F >= 1``, returned as float32."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    rows_ok = x.dim() == 2 and (x.size(0) == num_rows if num_rows is not None else x.size(0) > 0)
    if not rows_ok or x.size(1) < 1:
        rows = num_rows if num_rows is not None else "N >= 1"
        raise ValueError(f"{name} must have shape [{rows}, F] with F >= 1, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {x.dtype}")
    check_finite(name, x)
    return x.float()


def check_probabilities(name: str, value: Any, num_classes: int, *, atol: float = 1e-4,
                        num_rows: Optional[int] = None, min_columns: bool = False) -> Tensor:
    """Rows of class probabilities: a dense floating ``[N, num_classes]`` tensor (exactly
    ``num_rows`` rows when given; at least ``num_classes`` columns with ``min_columns``),
    finite, non-negative, each row summing to 1 within ``atol``; returned detached as float64
    on the CPU. A wrong type, layout or dtype is a ``TypeError``; a wrong shape or value a
    ``ValueError``."""
    check_tensor(name, value)
    if not value.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating tensor of class probabilities, got {value.dtype}")
    columns_ok = value.dim() == 2 and (value.size(1) >= num_classes if min_columns
                                       else value.size(1) == num_classes)
    if not columns_ok or num_rows is not None and value.size(0) != num_rows:
        rows = "N" if num_rows is None else num_rows
        columns = f">= {num_classes}" if min_columns else f"num_classes={num_classes}"
        raise ValueError(f"{name} must have shape [{rows}, {columns}], got "
                         f"{tuple(value.shape)}")
    probs = value.detach().cpu().double()
    if not bool(torch.isfinite(probs).all()) or bool((probs < 0).any()):
        raise ValueError(f"{name} must be finite and >= 0")
    if not torch.allclose(probs.sum(dim=1), torch.ones(probs.size(0), dtype=probs.dtype),
                          atol=atol):
        raise ValueError(f"{name} rows must sum to 1")
    return probs


def check_bool_mask(name: str, mask: Any, num_rows: int,
                    device: Optional[torch.device] = None) -> Tensor:
    """A bool ``[num_rows]`` tensor (one entry per node), on ``device`` when given."""
    check_tensor(name, mask)
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got {mask.dtype}")
    if mask.shape != (num_rows,):
        raise ValueError(f"{name} must have shape [{num_rows}] (one per node), got "
                         f"{tuple(mask.shape)}")
    if device is not None and mask.device != device:
        raise ValueError(f"{name} is on {mask.device} but the signal on {device}")
    return mask


def check_class_labels(name: str, value: Any, num_nodes: Optional[int] = None) -> Tensor:
    """A dense 1-D integer tensor of class indices (``[num_nodes]`` when given), metadata
    only (the range is the caller's: it knows the number of classes)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class indices, got "
                        f"{type(value).__name__}")
    check_tensor(name, value)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got {value.dtype}")
    if num_nodes is not None and value.shape != (num_nodes,):
        raise ValueError(f"{name} must have shape [{num_nodes}], got {tuple(value.shape)}")
    if value.dim() != 1:
        raise ValueError(f"{name} must be 1-D [N], got shape {tuple(value.shape)}")
    return value


def check_node_ids(name: str, nodes: Any, num_nodes: int) -> Tensor:
    """``nodes`` (a bool mask ``[num_nodes]`` or integer node ids, in the given order) as int64
    node ids on the same device."""
    if not isinstance(nodes, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (mask or node ids), "
                        f"got {type(nodes).__name__}")
    if nodes.dtype == torch.bool:
        if nodes.shape != (num_nodes,):
            raise ValueError(f"{name} as a mask must have shape [{num_nodes}], "
                             f"got {tuple(nodes.shape)}")
        return nodes.nonzero().flatten()
    if nodes.is_floating_point() or nodes.is_complex():
        raise TypeError(f"{name} must be a bool mask or integer node ids, got {nodes.dtype}")
    ids = nodes.flatten().long()
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= num_nodes):
        raise ValueError(f"{name} holds node ids outside [0, {num_nodes})")
    return ids


def check_node_mask(name: str, nodes: Any, num_nodes: int) -> Tensor:
    """``nodes`` (a bool mask ``[num_nodes]``, integer node ids or :obj:`None` for none) as a
    new bool mask ``[num_nodes]`` on the CPU."""
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    if nodes is not None:
        mask[check_node_ids(name, nodes, num_nodes).cpu()] = True
    return mask


def check_num_nodes(data: Any) -> int:
    """``data.num_nodes`` as an ``int >= 1``."""
    num_nodes = getattr(data, "num_nodes", None)
    if num_nodes is None:
        raise ValueError("data must know its num_nodes")
    return check_int("data.num_nodes", num_nodes, low=1)


def check_edge_weight_metadata(name: str, value: Any, count: int,
                               device: torch.device) -> Tensor:
    """A dense floating ``[count]`` tensor on ``device`` (metadata only; the values are
    checked by :func:`edge_weights_ok`)."""
    check_tensor(name, value)
    if not value.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {value.dtype}")
    if value.shape != (count,):
        raise ValueError(f"{name} must have shape [{count}] (one weight per edge), got "
                         f"{tuple(value.shape)}")
    if value.device != device:
        raise ValueError(f"{name} is on {value.device} but the indices on {device}")
    return value


def edge_weights_ok(value: Optional[Tensor]) -> Optional[Tensor]:
    """A 0-dim bool tensor: every weight finite and >= 0 (no host sync); :obj:`None` when
    there is nothing to check."""
    if value is None or value.numel() == 0:
        return None
    low, high = torch.aminmax(value.detach())  # one pass; NaN propagates into both
    return (low >= 0) & torch.isfinite(high)


def raise_bad_edge_weights(name: str, value: Tensor) -> None:
    """The ``ValueError`` naming the first weight that is negative or not finite."""
    value = value.detach()
    bad = (~(torch.isfinite(value) & (value >= 0))).nonzero()
    index = int(bad[0])
    raise ValueError(f"{name} must be finite and >= 0, got {float(value[index])} at index "
                     f"{index}")


def check_edge_index(name: str, edge_index: Any, num_nodes: Optional[int] = None, *,
                     edge_weight: Optional[Tensor] = None,
                     weight_name: str = "edge_weight") -> tuple[Tensor, int]:
    """The one check of an ``edge_index``: a dense integer ``[2, E]`` tensor (a PyG
    ``EdgeIndex`` is read as a plain tensor; its cached metadata is not trusted) with node ids
    in ``[0, num_nodes)`` (``num_nodes`` default: the largest id + 1), and, when given,
    ``edge_weight``: finite non-negative floats ``[E]`` on the same device. The ids and the
    weights are checked together with one host synchronisation.

    Raises ``TypeError`` for a wrong type, layout or dtype, ``ValueError`` for a wrong shape,
    device or an id / weight out of range; every message names ``name`` (or
    ``weight_name``). Returns ``(edge_index as int64, num_nodes)``.
    """
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(edge_index).__name__}")
    if hasattr(edge_index, "as_tensor"):  # a PyG EdgeIndex
        edge_index = edge_index.as_tensor()
    check_tensor(name, edge_index)
    if edge_index.dtype not in INDEX_DTYPES:
        raise TypeError(f"{name} must hold integers (int32 or int64), got {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{name} must have shape [2, num_edges], got "
                         f"{tuple(edge_index.shape)}")
    if num_nodes is not None:
        num_nodes = check_int("num_nodes", num_nodes, low=0)
    edge_index = edge_index.to(torch.long)
    num_edges = edge_index.size(1)
    if edge_weight is not None:
        check_edge_weight_metadata(weight_name, edge_weight, num_edges, edge_index.device)
    if num_edges == 0:
        return edge_index, 0 if num_nodes is None else num_nodes
    low, high = torch.aminmax(edge_index)
    ok = edge_weights_ok(edge_weight)
    low, high, ok = torch.stack([low, high, torch.ones_like(low) if ok is None
                                 else ok.to(low.dtype)]).tolist()
    if num_nodes is None:
        num_nodes = max(high + 1, 0)
    if low < 0 or high >= num_nodes:
        raise ValueError(f"{name} holds node ids in [{low}, {high}], outside "
                         f"[0, {num_nodes}) (num_nodes = {num_nodes})")
    if not ok:
        raise_bad_edge_weights(weight_name, edge_weight)
    return edge_index, num_nodes


def check_data_edge_index(data: Any, num_nodes: int) -> Tensor:
    """``data.edge_index`` checked by :func:`check_edge_index` (ids in ``[0, num_nodes)``),
    as int64."""
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        raise ValueError("data must have an edge_index")
    return check_edge_index("data.edge_index", edge_index, num_nodes)[0]
