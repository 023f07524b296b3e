"""Option checks shared by the clustering functions: each raises a ``ValueError`` or
``TypeError`` whose message names the argument, before any work is done. The scalar checks
live with the ops (:mod:`noisygraph.ops._checks`), the graph check with
:class:`~noisygraph.ops.local_push.LocalGraph`."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from noisygraph.ops._checks import in_range, integer, levels, positive, real
from noisygraph.ops.local_push import require_graph

__all__ = ["real", "in_range", "positive", "integer", "levels", "bool_mask", "require_graph"]


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
