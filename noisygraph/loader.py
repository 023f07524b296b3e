"""Mini-batches of sampled neighbourhoods for graphs too large for full-batch training.

:func:`neighbor_loader` returns PyG's :class:`~torch_geometric.loader.NeighborLoader` when
its sampling backend (``pyg-lib`` or ``torch-sparse``) is installed, and otherwise a PyG
:class:`~torch_geometric.loader.NodeLoader` driven by :class:`UniformNeighborSampler`, a
pure-PyTorch sampler with the same semantics (uniform sampling without replacement of at most
``num_neighbors[h]`` incoming edges per node at hop ``h``; seed nodes first in ``n_id``;
``batch.batch_size`` seeds). Either way the batches are PyG ``Data`` objects.
"""
from __future__ import annotations

import importlib.util
import numbers
from typing import Optional, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader
from torch_geometric.sampler import BaseSampler, NodeSamplerInput, SamplerOutput

from noisygraph._validation import check_edge_index, check_fanouts


def has_pyg_sampler() -> bool:
    """Whether PyG's compiled neighbour sampling (``pyg-lib`` or ``torch-sparse``) is present."""
    return any(importlib.util.find_spec(name) is not None for name in ("pyg_lib", "torch_sparse"))


def _check_count(value, label: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{label} must be >= {low}, got {value}")


def _check_generator(generator: Optional[torch.Generator]) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def _check_input_nodes(input_nodes: Tensor, num_nodes: int) -> None:
    if not isinstance(input_nodes, Tensor):
        raise TypeError(f"input_nodes must be a tensor of node ids or a bool mask, got {type(input_nodes).__name__}")
    if input_nodes.dtype == torch.bool:
        if input_nodes.shape != (num_nodes,):
            raise ValueError(f"input_nodes as a mask must have shape [{num_nodes}], got {tuple(input_nodes.shape)}")
        return
    if input_nodes.dtype not in (torch.int32, torch.int64) or input_nodes.dim() != 1:
        raise ValueError(f"input_nodes must be a 1-D int32/int64 tensor of node ids or a bool mask, got "
                         f"{input_nodes.dtype} of shape {tuple(input_nodes.shape)}")
    if input_nodes.numel() and (int(input_nodes.min()) < 0 or int(input_nodes.max()) >= num_nodes):
        raise ValueError(f"input_nodes must lie in [0, {num_nodes}), found "
                         f"[{int(input_nodes.min())}, {int(input_nodes.max())}]")


class UniformNeighborSampler(BaseSampler):
    r"""Uniform neighbour sampling without replacement, in PyTorch (no compiled dependency).

    At hop :math:`h` every newly reached node keeps at most ``num_neighbors[h]`` of its
    incoming edges (all of them for ``-1``), chosen uniformly at random.

    Args:
        edge_index (torch.Tensor): ``[2, E]``, sources then targets.
        num_nodes (int): number of nodes.
        num_neighbors (Sequence[int]): fan-out per hop, e.g. ``[5, 5]``.
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, num_neighbors: Sequence[int],
                 generator: Optional[torch.Generator] = None):
        _check_count(num_nodes, "num_nodes", 0)
        edge_index = check_edge_index("edge_index", edge_index, num_nodes)[0]
        num_neighbors = check_fanouts("num_neighbors", num_neighbors, allow_zero=False)
        _check_generator(generator)
        target = edge_index[1]
        edge_perm = torch.argsort(target, stable=True)
        counts = torch.bincount(target, minlength=num_nodes)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        torch.cumsum(counts, 0, out=rowptr[1:])
        self._setup(rowptr, edge_index[0][edge_perm], edge_perm, num_neighbors, generator)

    def _setup(self, rowptr: Tensor, source: Tensor, edge_perm: Optional[Tensor],
               num_neighbors: list[int], generator: Optional[torch.Generator]) -> None:
        self.rowptr, self.source, self.edge_perm = rowptr, source, edge_perm
        self.num_nodes = rowptr.numel() - 1
        self.num_neighbors = num_neighbors
        self.generator = generator
        # global id -> batch position (-1: not in the batch), reset after every batch so
        # that a batch costs in proportion to its own size, not to the graph's
        self._local = torch.full((self.num_nodes,), -1, dtype=torch.long)

    @classmethod
    def from_csr(cls, rowptr: Tensor, col: Tensor, num_neighbors: Sequence[int],
                 generator: Optional[torch.Generator] = None) -> "UniformNeighborSampler":
        r"""The sampler of a graph already stored by target in CSR form (no sort of the
        edges): the in-edges of node :math:`i` are ``col[rowptr[i]:rowptr[i + 1]]`` (their
        sources); the ``edge`` of a batch are positions in ``col``.

        Args:
            rowptr (torch.Tensor): ``[N + 1]`` int64, non-decreasing, from ``0`` to
                ``len(col)``.
            col (torch.Tensor): ``[E]`` int64 source ids in ``[0, N)``.
            num_neighbors (Sequence[int]): fan-out per hop.
            generator (torch.Generator, optional): random source. (default: :obj:`None`)
        """
        for name, value in (("rowptr", rowptr), ("col", col)):
            if not isinstance(value, Tensor) or value.dtype != torch.long or value.dim() != 1:
                raise TypeError(f"{name} must be a 1-D int64 tensor, got "
                                f"{getattr(value, 'dtype', type(value).__name__)}")
        if rowptr.numel() == 0 or int(rowptr[0]) != 0 or int(rowptr[-1]) != col.numel() \
                or bool((rowptr[1:] < rowptr[:-1]).any()):
            raise ValueError("rowptr must be non-decreasing from 0 to len(col)")
        num_nodes = rowptr.numel() - 1
        if col.numel() and (int(col.min()) < 0 or int(col.max()) >= num_nodes):
            raise ValueError(f"col must lie in [0, {num_nodes})")
        _check_generator(generator)
        sampler = cls.__new__(cls)
        fanouts = check_fanouts("num_neighbors", num_neighbors, allow_zero=False)
        sampler._setup(rowptr, col, None, fanouts, generator)
        return sampler

    def _sample_hop(self, frontier: Tensor, fanout: int) -> Tensor:
        """Positions (in CSR order) of the edges kept into ``frontier``."""
        start, end = self.rowptr[frontier], self.rowptr[frontier + 1]
        degree = end - start
        segment = torch.repeat_interleave(torch.arange(frontier.numel()), degree)
        offset = torch.arange(segment.numel()) - torch.repeat_interleave(
            torch.cumsum(degree, 0) - degree, degree)
        position = start[segment] + offset
        if fanout < 0:
            return position
        keys = segment.to(torch.float64) + torch.rand(segment.numel(), generator=self.generator,
                                                      dtype=torch.float64)
        order = torch.argsort(keys)
        rank = torch.arange(order.numel()) - torch.repeat_interleave(
            torch.cumsum(degree, 0) - degree, degree)
        return position[order[rank < fanout]]

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs) -> SamplerOutput:
        seeds = index.node.to(torch.long)
        if seeds.numel() and (int(seeds.min()) < 0 or int(seeds.max()) >= self.num_nodes):
            raise ValueError(f"input_nodes must lie in [0, {self.num_nodes}), found "
                             f"[{int(seeds.min())}, {int(seeds.max())}]")
        local = self._local
        local[seeds] = torch.arange(seeds.numel())
        nodes, rows, cols, edges = [seeds], [], [], []
        num_sampled_nodes, num_sampled_edges = [seeds.numel()], []
        frontier, count = seeds, seeds.numel()
        for fanout in self.num_neighbors:
            kept = self._sample_hop(frontier, fanout)
            source = self.source[kept]
            # ``kept`` are CSR positions; each edge's target is the row holding it.
            target = torch.searchsorted(self.rowptr, kept, right=True) - 1
            new = torch.unique(source[local[source] < 0])
            local[new] = torch.arange(count, count + new.numel())
            count += new.numel()
            nodes.append(new)
            rows.append(local[source])
            cols.append(local[target])
            edges.append(kept if self.edge_perm is None else self.edge_perm[kept])
            num_sampled_nodes.append(new.numel())
            num_sampled_edges.append(kept.numel())
            frontier = new
        node = torch.cat(nodes)
        local[node] = -1
        return SamplerOutput(node=node, row=torch.cat(rows), col=torch.cat(cols),
                             edge=torch.cat(edges), batch=None,
                             num_sampled_nodes=num_sampled_nodes,
                             num_sampled_edges=num_sampled_edges,
                             metadata=(index.input_id, index.time))

    def sample_from_edges(self, index, neg_sampling=None) -> SamplerOutput:
        raise NotImplementedError("UniformNeighborSampler samples around nodes only; use "
                                  "PyG's LinkNeighborLoader for link-level mini-batches")


def neighbor_loader(data: Data, num_neighbors: Sequence[int], batch_size: int,
                    input_nodes: Optional[Tensor] = None, shuffle: bool = True,
                    seed: Optional[int] = None,
                    sampler: Optional[torch.utils.data.Sampler] = None):
    """A loader of sampled neighbourhoods of ``input_nodes`` (all nodes by default).

    Args:
        data (Data): the graph (``edge_index``, node attributes).
        num_neighbors (Sequence[int]): fan-out per hop (``-1``: all neighbours).
        batch_size (int): seed nodes per batch.
        input_nodes (torch.Tensor, optional): seed node ids or a boolean mask.
        shuffle (bool, optional): shuffle the seeds every epoch. (default: :obj:`True`)
        seed (int, optional): seed of the pure-PyTorch sampler's generator. (default: :obj:`None`)
        sampler (torch.utils.data.Sampler, optional): the order of the seed nodes, as
            positions into ``input_nodes`` (e.g. torch's
            :class:`~torch.utils.data.distributed.DistributedSampler` over
            ``range(len(input_nodes))``, which gives each rank its share); replaces
            ``shuffle``. (default: :obj:`None`)

    Raises:
        TypeError: ``data`` is not a ``Data``, ``data.edge_index`` is not an integer tensor,
            or an argument has the wrong type.
        ValueError: ``edge_index`` not ``[2, E]`` ids in ``[0, N)``; ``num_neighbors``
            empty or holding a value other than a positive int or ``-1``; ``batch_size < 1``;
            ``input_nodes`` out of range, of a wrong dtype or (as a mask) of a wrong length;
            ``seed < 0``.
    """
    if not isinstance(data, Data):
        raise TypeError(f"data must be a torch_geometric.data.Data, got {type(data).__name__}")
    if data.edge_index is None:
        raise ValueError("data.edge_index must be a [2, E] tensor; the graph has none")
    num_nodes = data.num_nodes
    _check_count(num_nodes, "data.num_nodes", 0)
    check_edge_index("data.edge_index", data.edge_index, num_nodes)
    num_neighbors = check_fanouts("num_neighbors", num_neighbors, allow_zero=False)
    _check_count(batch_size, "batch_size", 1)
    if input_nodes is not None:
        _check_input_nodes(input_nodes, num_nodes)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")
    if seed is not None:
        _check_count(seed, "seed", 0)
    order = {"shuffle": shuffle}
    if sampler is not None:
        if not isinstance(sampler, torch.utils.data.Sampler):
            raise TypeError(f"sampler must be a torch.utils.data.Sampler, got "
                            f"{type(sampler).__name__}")
        order = {"sampler": sampler}
    if has_pyg_sampler():
        return NeighborLoader(data, num_neighbors=num_neighbors, batch_size=batch_size,
                              input_nodes=input_nodes, **order)
    generator = None
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    neighbor_sampler = UniformNeighborSampler(data.edge_index.cpu(), num_nodes, num_neighbors,
                                              generator)
    return NodeLoader(data, node_sampler=neighbor_sampler, input_nodes=input_nodes,
                      batch_size=batch_size, **order)
