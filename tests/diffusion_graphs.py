"""Small random graphs shared by the sparse-diffusion tests."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def random_graph(num_nodes: int = 30, num_edges: int = 120, seed: int = 0,
                 isolated: int = 3, self_loops: int = 2) -> Tensor:
    """A directed ``edge_index`` whose last ``isolated`` nodes have no edge (so they are
    empty CSR rows and columns) and which holds ``self_loops`` self-loops and duplicates."""
    g = torch.Generator().manual_seed(seed)
    active = num_nodes - isolated
    edge_index = torch.randint(0, active, (2, num_edges), generator=g)
    loops = torch.randint(0, active, (self_loops,), generator=g)
    edge_index = torch.cat([edge_index, torch.stack([loops, loops]), edge_index[:, :3]], dim=1)
    return edge_index


def random_weights(edge_index: Tensor, seed: int = 1,
                   dtype: torch.dtype = torch.float32) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(edge_index.size(1), generator=g, dtype=dtype) + 0.1


def random_mask(num_nodes: int, seed: int = 2, rate: float = 0.3) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(num_nodes, generator=g) < rate


def symmetric(edge_index: Tensor, weight: Optional[Tensor] = None):
    both = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    return both if weight is None else (both, torch.cat([weight, weight]))
