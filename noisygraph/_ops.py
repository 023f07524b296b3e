"""Loads the compiled operator library and says which path runs.

The package works without the compiled library: every op has a pure-PyTorch reference
(in :mod:`noisygraph.ops._reference`) that is used, with one warning, when ``noisygraph._C`` cannot be
imported. Set ``NOISYGRAPH_BACKEND=reference`` to force the reference path.
"""
from __future__ import annotations

import os
import warnings
from typing import Union

import torch

_LOAD_ERROR: str | None = None


def _load() -> bool:
    global _LOAD_ERROR
    if os.environ.get("NOISYGRAPH_BACKEND", "").lower() == "reference":
        _LOAD_ERROR = "NOISYGRAPH_BACKEND=reference"
        return False
    try:
        from noisygraph import _C  # noqa: F401  (importing registers torch.ops.noisygraph.*)
    except ImportError as error:
        _LOAD_ERROR = str(error)
        warnings.warn(
            "noisygraph: the compiled library could not be loaded "
            f"({error}); using the pure-PyTorch reference ops (slower). "
            "Build it with `make build` or `pip install --no-build-isolation -e .`.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return True


COMPILED: bool = _load()


_DISPATCH_KEYS = {"cpu": "CPU", "cuda": "CUDA"}
_HAS_KERNEL: dict[tuple[str, str], bool] = {}


def has_kernel(op: str, device: Union[torch.device, str]) -> bool:
    """Whether the compiled library has a kernel of ``torch.ops.noisygraph.<op>`` for tensors
    on ``device`` (the one test every wrapper uses to pick the compiled op or its reference).

    An op registered for every device (an ATen-only op such as ``coding_rate``) counts as
    having a kernel on CPU and CUDA. Cached per ``(op, device type)``: the registrations do
    not change after import.

    Args:
        op (str): the op's name without namespace, e.g. ``"diffuse"``.
        device (torch.device or str): where the op's tensors live.

    Raises:
        ValueError: when the compiled library is loaded and has no op named ``op``.
    """
    device_type = torch.device(device).type
    key = (op, device_type)
    found = _HAS_KERNEL.get(key)
    if found is None:
        dispatch_key = _DISPATCH_KEYS.get(device_type)
        name = "noisygraph::" + op
        try:
            found = COMPILED and dispatch_key is not None and (
                torch._C._dispatch_has_kernel_for_dispatch_key(name, dispatch_key)
                or torch._C._dispatch_has_kernel_for_dispatch_key(
                    name, "CompositeExplicitAutograd"))
        except RuntimeError:  # no such operator
            raise ValueError(f"op must name an op of torch.ops.noisygraph, got {op!r}") from None
        _HAS_KERNEL[key] = found
    return found


def backend() -> str:
    """Names the path noisygraph's ops run on.

    Returns:
        ``"compiled-cuda"`` when the compiled library has CUDA kernels and a GPU is
        visible, ``"compiled-cpu"`` when the compiled library is loaded, otherwise
        ``"reference"`` (pure PyTorch).
    """
    if not COMPILED:
        return "reference"
    if has_kernel("spmm", "cuda") and torch.cuda.is_available():
        return "compiled-cuda"
    return "compiled-cpu"
