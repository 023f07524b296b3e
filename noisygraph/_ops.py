"""Loads the compiled operator library and says which path runs.

The package works without the compiled library: every op has a pure-PyTorch reference
(in :mod:`noisygraph.ops`) that is used, with one warning, when ``noisygraph._C`` cannot be
imported. Set ``NOISYGRAPH_BACKEND=reference`` to force the reference path.
"""
from __future__ import annotations

import os
import warnings

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


def has_cuda_kernels() -> bool:
    """Whether the compiled library carries CUDA kernels."""
    if not COMPILED:
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key("noisygraph::spmm", "CUDA")


def backend() -> str:
    """Names the path noisygraph's ops run on.

    Returns:
        ``"compiled-cuda"`` when the compiled library has CUDA kernels and a GPU is
        visible, ``"compiled-cpu"`` when the compiled library is loaded, otherwise
        ``"reference"`` (pure PyTorch).
    """
    if not COMPILED:
        return "reference"
    if has_cuda_kernels() and torch.cuda.is_available():
        return "compiled-cuda"
    return "compiled-cpu"
