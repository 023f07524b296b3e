"""The local-push op family: strongly-local push diffusions (weighted l2 flow diffusion, p-norm
flow diffusion, ACL PageRank push), the sweep cut and the fused diffuse-and-sweep cluster
ops, over a :class:`LocalGraph` built once per graph.

The compiled ops (``torch.ops.noisygraph.local_*``) run on CPU only: the push algorithms are
sequential per query and touch a handful of nodes, which a GPU cannot speed up; graphs on CUDA
are rejected with a clear error by :class:`LocalGraph`. The ops have no autograd (their outputs
are node sets and scores, not differentiable functions of the inputs). Their fake kernels are
registered here (when :mod:`noisygraph` is imported); without the compiled library the wrappers
run the pure-Python references of :mod:`noisygraph.ops._reference.local_push`.

Variable-size outputs of a batch of ``B`` queries are concatenated: ``ptr`` (``[B + 1]``)
delimits query ``q``'s block ``nodes[ptr[q]:ptr[q+1]]`` (and the value tensors alike).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from noisygraph import _ops
from noisygraph._validation import INT64_MAX, check_int, check_levels, check_real, check_type
from noisygraph.ops._reference import local_push as reference
from noisygraph.ops.local_sweep import restricted_sweep_cut
from noisygraph.sparse import Adjacency, as_adjacency

Seeds = Union[int, Sequence[int], Sequence[Sequence[int]], Tensor]
DEFAULT_MAX_PUSHES = 10_000_000
DEFAULT_EPS = 0.5
DEFAULT_OMEGA = 1.5
DEFAULT_CG_ITERS = 50
WORK_COLUMNS = ("pushes", "edges", "stopped_at_push_limit")


# ---------------------------------------------------------------------- the graph
class LocalGraph:
    r"""An undirected graph in CSR form (int64) with its degrees, reused by every query.

    Strongly-local diffusions read only the rows they explore, so building this object once
    (:math:`O(|E| \log |E|)`) and reusing it makes each query cost only its explored volume.

    Args:
        rowptr (torch.Tensor): CSR row pointer ``[N + 1]``.
        col (torch.Tensor): neighbour of each nonzero ``[nnz]``.
        value (torch.Tensor, optional): non-negative edge weights ``[nnz]`` (float64), or
            :obj:`None` for an unweighted graph. (default: :obj:`None`)
        check_symmetric (bool): verify that the graph is undirected (every edge stored in
            both directions with equal weight). (default: :obj:`True`)
    """

    def __init__(self, rowptr: Tensor, col: Tensor, value: Optional[Tensor] = None,
                 check_symmetric: bool = True):
        rowptr = _index_tensor(rowptr, "rowptr")
        col = _index_tensor(col, "col")
        if rowptr.numel() < 1:
            raise ValueError("rowptr must have at least one entry (N + 1 for N nodes)")
        if rowptr.is_cuda or col.is_cuda or (isinstance(value, Tensor) and value.is_cuda):
            raise ValueError("local clustering runs on CPU: pass CPU tensors "
                             "(e.g. edge_index.cpu())")
        self.rowptr = rowptr.to(torch.long).contiguous()
        self.col = col.to(torch.long).contiguous()
        self.num_nodes = self.rowptr.numel() - 1
        _check_csr(self.rowptr, self.col, self.num_nodes)
        self.value = None if value is None else _edge_weights(value, self.col.numel(), "value")
        row = self.row()
        self.edge_count = torch.bincount(row, minlength=self.num_nodes).to(torch.float64)
        if self.value is None:
            self.degree = self.edge_count
        else:
            self.degree = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
                0, row, self.value)
        self.total_volume = float(self.degree.sum())
        self.total_edges = float(self.col.numel())  # total sink capacity by default
        if not isinstance(check_symmetric, bool):
            raise TypeError(f"check_symmetric must be a bool, got {type(check_symmetric).__name__}")
        if check_symmetric:
            self._check_symmetric(row)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_graph(cls, graph: Any, edge_weight: Optional[Tensor] = None,
                   num_nodes: Optional[int] = None) -> "LocalGraph":
        """Builds from a PyG ``Data`` (``edge_index``, optional ``edge_weight``/``num_nodes``),
        an :class:`~noisygraph.sparse.Adjacency`, an ``edge_index``/``EdgeIndex`` tensor or a
        ``torch.sparse`` matrix. A :class:`LocalGraph` is returned as is.

        Args:
            graph: the graph; it must be undirected (both directions stored).
            edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
            num_nodes (int, optional): number of nodes (default: from the graph).
        """
        if isinstance(graph, LocalGraph):
            return graph
        if hasattr(graph, "edge_index") and not isinstance(graph, Tensor):  # PyG Data
            if edge_weight is None:
                edge_weight = getattr(graph, "edge_weight", None)
            if num_nodes is None:
                num_nodes = graph.num_nodes
            graph = graph.edge_index
        if isinstance(graph, Tensor) and graph.is_cuda:
            raise ValueError("local clustering runs on CPU: pass graph.cpu()")
        if num_nodes is not None and (isinstance(num_nodes, bool)
                                      or not isinstance(num_nodes, numbers.Integral)
                                      or num_nodes < 0):
            raise ValueError(f"num_nodes must be an int >= 0, got {num_nodes!r}")
        if isinstance(graph, Tensor) and graph.layout == torch.strided:
            _index_tensor(graph, "edge_index")  # integer ids: floats would be truncated
        if edge_weight is not None:
            _edge_weights(edge_weight, edge_weight.numel() if isinstance(edge_weight, Tensor)
                          and edge_weight.dim() == 1 else -1, "edge_weight")
        adj = as_adjacency(graph, num_nodes=num_nodes, edge_weight=edge_weight)
        if adj.num_rows != adj.num_cols:
            raise ValueError(f"graph must be square (an undirected graph), got "
                             f"{adj.num_rows} x {adj.num_cols}")
        return cls(adj.rowptr, adj.col, adj.value)

    def with_weights(self, edge_weight: Optional[Tensor]) -> "LocalGraph":
        """The same structure with new weights ``[nnz]`` in CSR order (see :meth:`edges`)."""
        out = LocalGraph.__new__(LocalGraph)
        out.rowptr, out.col, out.num_nodes = self.rowptr, self.col, self.num_nodes
        out.edge_count, out.total_edges = self.edge_count, self.total_edges
        if edge_weight is None:
            out.value, out.degree = None, self.edge_count
        else:
            value = _edge_weights(edge_weight, self.col.numel(), "edge_weight")
            out.value = value
            out.degree = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
                0, self.row(), value)
        out.total_volume = float(out.degree.sum())
        return out

    # ------------------------------------------------------------------ views
    def row(self) -> Tensor:
        """The row (first endpoint) of every nonzero, in CSR order."""
        counts = self.rowptr[1:] - self.rowptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_nodes), counts)

    def edges(self) -> tuple[Tensor, Tensor]:
        """Both endpoints ``(row, col)`` of every nonzero, in CSR order."""
        return self.row(), self.col

    def weights(self) -> Tensor:
        """Edge weights in CSR order (ones when unweighted), float64."""
        return torch.ones(self.col.numel(), dtype=torch.float64) if self.value is None else self.value

    def neighbors(self, node: int) -> Tensor:
        """The neighbours of ``node`` (in CSR order, with multiplicity)."""
        node = self.check_node(node, "node", allow_isolated=True)
        return self.col[self.rowptr[node]:self.rowptr[node + 1]]

    def to_adjacency(self) -> Adjacency:
        return Adjacency(self.rowptr, self.col, self.value)

    def check_node(self, node: int, name: str = "seed", allow_isolated: bool = False) -> int:
        """Validates one node id (an integer in ``[0, N)``; unless ``allow_isolated``, of
        positive weighted degree) and returns it as an ``int``."""
        if isinstance(node, Tensor):
            if node.numel() != 1:
                raise ValueError(f"{name} must be a single node id, got shape {tuple(node.shape)}")
            if node.is_floating_point() or node.is_complex() or node.dtype == torch.bool:
                raise TypeError(f"{name} must be an int node id, got a {node.dtype} tensor")
            node = node.item()
        if isinstance(node, bool) or not isinstance(node, numbers.Integral):
            raise TypeError(f"{name} must be an int node id, got {type(node).__name__}")
        node = int(node)
        if not 0 <= node < self.num_nodes:
            raise ValueError(f"{name} = {node} is outside the graph's nodes [0, {self.num_nodes})")
        if not allow_isolated and self.degree[node] <= 0:
            raise ValueError(f"{name} = {node} is an isolated node (weighted degree 0): a local "
                             "diffusion from it cannot move")
        return node

    def __repr__(self) -> str:
        kind = "unweighted" if self.value is None else "weighted"
        return f"LocalGraph(num_nodes={self.num_nodes}, nnz={self.col.numel()}, {kind})"

    def _check_symmetric(self, row: Tensor) -> None:
        n = max(self.num_nodes, 1)
        forward = row * n + self.col
        backward = self.col * n + row
        order_f = torch.argsort(forward)
        order_b = torch.argsort(backward)
        if not torch.equal(forward[order_f], backward[order_b]):
            raise ValueError("graph must be undirected: store every edge in both directions "
                             "(e.g. torch_geometric.utils.to_undirected)")
        if self.value is not None and not torch.allclose(self.value[order_f], self.value[order_b]):
            raise ValueError("edge_weight must be symmetric: w(i, j) == w(j, i)")


def _index_tensor(t: Any, name: str) -> Tensor:
    """A 1-D (``edge_index``: 2-D) tensor of integer ids, or a TypeError/ValueError naming it."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(t).__name__}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers (int64 or int32), got {t.dtype}")
    if t.layout != torch.strided:
        raise TypeError(f"{name} must be a dense tensor, got layout {t.layout}")
    if name != "edge_index" and t.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(t.shape)}")
    return t


def _check_csr(rowptr: Tensor, col: Tensor, num_nodes: int) -> None:
    """rowptr starts at 0, never decreases and ends at nnz; every col is in ``[0, N)``."""
    nnz = col.numel()
    if int(rowptr[0]) != 0:
        raise ValueError(f"rowptr must start at 0, got rowptr[0] = {int(rowptr[0])}")
    if num_nodes and bool((rowptr[1:] < rowptr[:-1]).any()):
        where = int((rowptr[1:] < rowptr[:-1]).nonzero()[0, 0])
        raise ValueError(f"rowptr must be non-decreasing: rowptr[{where + 1}] = "
                         f"{int(rowptr[where + 1])} < rowptr[{where}] = {int(rowptr[where])}")
    if int(rowptr[-1]) != nnz:
        raise ValueError(f"rowptr must end at nnz: rowptr[-1] = {int(rowptr[-1])} but col has "
                         f"{nnz} entries")
    if nnz and (int(col.min()) < 0 or int(col.max()) >= num_nodes):
        raise ValueError(f"col holds node ids in [{int(col.min())}, {int(col.max())}], outside "
                         f"[0, {num_nodes})")


def _edge_weights(value: Any, nnz: int, name: str) -> Tensor:
    """Edge weights as a contiguous float64 ``[nnz]`` tensor, finite and non-negative
    (``nnz = -1``: any 1-D length)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(value).__name__}")
    if value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got {value.dtype}")
    if value.dim() != 1 or (nnz >= 0 and value.numel() != nnz):
        raise ValueError(f"{name} must have shape [{nnz if nnz >= 0 else 'num_edges'}] (one "
                         f"per edge), got {tuple(value.shape)}")
    value = value.detach().to(device="cpu", dtype=torch.float64).contiguous()
    if not bool(torch.isfinite(value).all()) or bool((value < 0).any()):
        raise ValueError(f"{name} must be finite and non-negative")
    return value


def require_graph(graph: Any, name: str = "graph") -> LocalGraph:
    """``graph`` itself when it is a :class:`LocalGraph` (build one with
    :meth:`LocalGraph.from_graph`), else a ``TypeError`` naming ``name``."""
    return check_type(name, graph, LocalGraph, hint="build it once with LocalGraph.from_graph")


# ---------------------------------------------------------------------- results
_HIT_PUSH_LIMIT = property(lambda self: self.work[:, 2].bool(),
                           doc="``[B]`` bool: the queries that (at some level) stopped at "
                               "``max_pushes`` with work left.")


class PushResult(NamedTuple):
    """Concatenated output of a batch of push diffusions.

    Attributes:
        ptr: ``[B + 1]`` offsets into the per-node tensors.
        nodes: touched nodes of every query.
        primal: ``x`` (flow potential) or ``p`` (PageRank) of each touched node.
        residual: mass ``m`` (flow) or residual ``r`` (PageRank) of each touched node.
        work: ``[B, 3]`` int64: pushes, edges scanned, and 1 where the diffusion stopped at
            ``max_pushes`` with work left (its result is then not converged).
    """
    ptr: Tensor
    nodes: Tensor
    primal: Tensor
    residual: Tensor
    work: Tensor

    hit_push_limit = _HIT_PUSH_LIMIT


class SweepResult(NamedTuple):
    """Concatenated output of a batch of sweep cuts: ``ptr``/``nodes`` of each cluster, the
    ``conductance`` ``[B]`` (NaN when no prefix is valid) and ``work`` ``[B, 2]``."""
    ptr: Tensor
    nodes: Tensor
    conductance: Tensor
    work: Tensor


class ClusterBatch(NamedTuple):
    """Output of the fused diffuse-and-sweep ops (see :func:`flow_cluster`); ``work`` is
    ``[B, 3]`` as in :class:`PushResult`, summed over levels (the third column: some level
    stopped at ``max_pushes``)."""
    cluster_ptr: Tensor
    cluster_nodes: Tensor
    conductance: Tensor
    best_level: Tensor
    score_ptr: Tensor
    score_nodes: Tensor
    scores: Tensor
    work: Tensor

    hit_push_limit = _HIT_PUSH_LIMIT


def seed_sets(graph: LocalGraph, seeds: Seeds, name: str = "seeds") -> list[list[int]]:
    """Normalises ``seeds`` (one id, ids, or lists of ids per query) to validated lists
    (at least one query, every set non-empty, every id a node of positive degree)."""
    if isinstance(seeds, Tensor):
        if seeds.is_floating_point() or seeds.is_complex() or seeds.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer node ids, got a {seeds.dtype} tensor")
        seeds = seeds.tolist()
    elif isinstance(seeds, np.ndarray):
        seeds = seeds.tolist()  # float arrays give floats, rejected below
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = [seeds]
    if not isinstance(seeds, (list, tuple)):
        raise TypeError(f"{name} must be an int, a sequence of ints or of int sequences, got "
                        f"{type(seeds).__name__}")
    if not seeds:
        raise ValueError(f"{name} must hold at least one seed")
    sets = []
    for item in seeds:
        if isinstance(item, Tensor) and item.dim() > 0:
            item = item.tolist()
        members = list(item) if isinstance(item, (list, tuple)) else [item]
        if not members:
            raise ValueError(f"{name} holds an empty seed set")
        sets.append([graph.check_node(v, name) for v in members])
    return sets


def _sources(sets: list[list[int]], mass: Union[float, Sequence[float], Tensor]):
    """Source tensors: each query's mass split evenly over its seed set."""
    num = len(sets)
    if isinstance(mass, bool) or isinstance(mass, (str, bytes)):
        raise TypeError(f"source_mass must be a number or one number per query, got {mass!r}")
    try:
        masses = torch.as_tensor(mass, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"source_mass must be a number or one number per query, got "
                        f"{type(mass).__name__}") from None
    if masses.numel() == 1:
        masses = masses.expand(num)
    if masses.numel() != num:
        raise ValueError(f"source_mass must be one value or one per query ({num}), got "
                         f"{masses.numel()}")
    if not torch.isfinite(masses).all() or (masses <= 0).any():
        raise ValueError("source_mass must be positive and finite")
    sizes = torch.tensor([len(s) for s in sets], dtype=torch.long)
    ptr = torch.zeros(num + 1, dtype=torch.long)
    torch.cumsum(sizes, 0, out=ptr[1:])
    nodes = torch.tensor([v for s in sets for v in s], dtype=torch.long)
    per_node = torch.repeat_interleave(masses / sizes.to(torch.float64), sizes)
    return ptr, nodes, per_node.contiguous()


def check_push_options(eps: float = DEFAULT_EPS, omega: float = DEFAULT_OMEGA, alpha: float = 0.05,
                       max_pushes: int = DEFAULT_MAX_PUSHES) -> tuple[float, float, float, int]:
    """Validates the push options: ``eps`` finite > 0, ``omega`` in (0, 2), ``alpha`` in
    (0, 1], ``max_pushes`` an int >= 0. Returns them as ``(float, float, float, int)``."""
    return (check_real("eps", eps, low=0.0, low_open=True),
            check_real("omega", omega, low=0.0, high=2.0, low_open=True, high_open=True),
            check_real("alpha", alpha, low=0.0, high=1.0, low_open=True),
            check_int("max_pushes", max_pushes, low=0, high=INT64_MAX))


def _concat(blocks: list[tuple[list[int], list[float], list[float]]]):
    ptr = torch.zeros(len(blocks) + 1, dtype=torch.long)
    ptr[1:] = torch.tensor([len(b[0]) for b in blocks], dtype=torch.long).cumsum(0)
    nodes = torch.tensor([v for b in blocks for v in b[0]], dtype=torch.long)
    first = torch.tensor([v for b in blocks for v in b[1]], dtype=torch.float64)
    second = torch.tensor([v for b in blocks for v in b[2]], dtype=torch.float64)
    return ptr, nodes, first, second


def _work_tensor(works: list) -> Tensor:
    return torch.tensor(works, dtype=torch.long).reshape(-1, len(WORK_COLUMNS))


def resolve_sink(graph: LocalGraph, sink: Optional[Tensor]) -> Tensor:
    """The sink capacities: the (unweighted) number of edges of every node by default."""
    if sink is None:
        return graph.edge_count
    if not isinstance(sink, Tensor) or sink.is_complex() or sink.dtype == torch.bool:
        raise TypeError(f"sink must be a real tensor [{graph.num_nodes}], got "
                        f"{getattr(sink, 'dtype', type(sink).__name__)}")
    if sink.shape != (graph.num_nodes,):
        raise ValueError(f"sink must have shape [{graph.num_nodes}], got {tuple(sink.shape)}")
    sink = sink.detach().to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(sink).all()) or bool((sink < 0).any()):
        raise ValueError("sink must be finite and non-negative")
    return sink.contiguous()


def _flow_inputs(graph, seeds: Seeds, source_mass, sink: Optional[Tensor], eps, omega,
                 max_pushes):
    """The checked inputs of a flow diffusion: ``(graph, seed sets, source ptr, nodes, mass,
    sink, eps, omega, max_pushes)``."""
    graph = require_graph(graph)
    eps, omega, _, max_pushes = check_push_options(eps, omega, 1.0, max_pushes)
    sets = seed_sets(graph, seeds)
    ptr, nodes, mass = _sources(sets, source_mass)
    return graph, sets, ptr, nodes, mass, resolve_sink(graph, sink), eps, omega, max_pushes


def flow_diffusion(graph: LocalGraph, seeds: Seeds, source_mass, sink: Optional[Tensor] = None,
                   eps: float = DEFAULT_EPS, omega: float = DEFAULT_OMEGA,
                   max_pushes: int = DEFAULT_MAX_PUSHES,
                   cg_iters: int = DEFAULT_CG_ITERS) -> PushResult:
    r"""Weighted :math:`\ell_2`-norm flow diffusion from each seed (set), by push.

    Solves :math:`\min_{x \ge 0} \tfrac12 x^\top L x + x^\top (T - \Delta)` (:math:`L` the
    weighted Laplacian, :math:`T` the sinks, :math:`\Delta` the source mass) by coordinate
    descent: while a node's mass exceeds its sink by more than :math:`\varepsilon`,
    :math:`x_i \mathrel{+}= \omega (m_i - T_i)/w_i` and the moved mass flows to the
    neighbours in proportion to :math:`w_{ij}` (with :math:`\omega > 1` a node that
    overshoots is corrected back, keeping :math:`x \ge 0`). With ``cg_iters > 0`` the pushes
    are interleaved with conjugate-gradient rounds on the support :math:`S = \{x > 0\}`:
    Jacobi-preconditioned CG on :math:`L_{SS} x_S = (\Delta - T)_S` (the optimality condition
    on the support), clipped to :math:`x \ge 0` and kept only when it lowers the objective;
    the pushes then restore the conditions off the support, and the stopping rule is the
    pushes' (every :math:`|m_i - T_i| \le \varepsilon` where :math:`x_i > 0`,
    :math:`m_i - T_i \le \varepsilon` elsewhere). Work is bounded by the source mass, not by
    :math:`N` (CG runs on the touched support only).

    Args:
        graph (LocalGraph): the (weighted) graph.
        seeds: one node, a list of nodes (one query each) or a list of seed sets.
        source_mass (float or sequence): mass per query, split evenly over its seed set.
        sink (torch.Tensor, optional): sink capacity per node; default: number of edges.
        eps (float): tolerance on the excess, in units of mass (a degree-1 node's sink is 1).
            (default: ``DEFAULT_EPS``)
        omega (float): over-relaxation factor in :math:`(0, 2)`. (default: ``DEFAULT_OMEGA``)
        max_pushes (int): push limit per query; a query that reaches it is flagged in
            ``work[:, 2]`` (:attr:`PushResult.hit_push_limit`). (default: ``10_000_000``)
        cg_iters (int): iterations per CG round, an int >= 0; 0 pushes only (the solver of
            earlier releases). ``work[:, 1]`` counts the CG rounds' edge scans too.
            (default: ``DEFAULT_CG_ITERS``)
    """
    graph, sets, ptr, nodes, mass, sink_t, eps, omega, max_pushes = _flow_inputs(
        graph, seeds, source_mass, sink, eps, omega, max_pushes)
    cg_iters = check_int("cg_iters", cg_iters, low=0, high=INT64_MAX)
    if _ops.has_kernel("local_flow_diffusion", "cpu"):
        out = torch.ops.noisygraph.local_flow_diffusion(
            graph.rowptr, graph.col, graph.value, graph.degree, sink_t, ptr, nodes, mass,
            eps, omega, max_pushes, cg_iters)
        return PushResult(*out)
    sink_list = sink_t.tolist()
    blocks, works = [], []
    for q in range(len(sets)):
        x, m, work = reference.flow_diffusion_reference(graph, _query_sources(ptr, nodes, mass, q),
                                                        sink_list, eps, max_pushes, omega,
                                                        cg_iters=cg_iters)
        keys = list(m)
        blocks.append((keys, [x[v] for v in keys], [m[v] for v in keys]))
        works.append(work)
    return PushResult(*_concat(blocks), _work_tensor(works))


def check_p_norm(p: float) -> float:
    """The flow norm ``p`` of :func:`pnorm_diffusion`: a finite real number >= 2."""
    return check_real("p", p, low=2.0)


def pnorm_diffusion(graph: LocalGraph, seeds: Seeds, source_mass, p: float = 2.0,
                    sink: Optional[Tensor] = None, eps: float = DEFAULT_EPS,
                    max_pushes: int = DEFAULT_MAX_PUSHES) -> PushResult:
    r"""p-norm flow diffusion from each seed (set), by the strongly-local coordinate method
    of *p-Norm Flow Diffusion for Local Graph Clustering* (Fountoulakis, Wang, Yang, ICML
    2020, `arXiv:2005.09810 <https://arxiv.org/abs/2005.09810>`_).

    With :math:`q = p/(p-1)`, the primal problem routes the source mass :math:`\Delta` along
    flows :math:`f` (one per edge, :math:`B` the signed edge-node incidence matrix) at least
    cost, every node keeping at most its sink :math:`T_i`:

    .. math::
        \min_f \tfrac1p \sum_e w_e^{1-p} |f_e|^p = \tfrac1p \|W^{-1/q} f\|_p^p
        \quad\text{s.t.}\quad \Delta + B^\top f \le T,

    and this function solves its dual, whose potentials :math:`x` are the node embedding the
    sweep cut reads,

    .. math::
        \min_{x \ge 0}\; \tfrac1q \sum_{uv \in E} w_{uv} |x_u - x_v|^q + x^\top (T - \Delta),

    the optimal flow being :math:`f_{uv} = w_{uv}\,\mathrm{sign}(x_u - x_v)|x_u - x_v|^{q-1}`.
    A node whose mass :math:`m_i = \Delta_i - \sum_j f_{ij}` exceeds its sink by more than
    :math:`\varepsilon` raises :math:`x_i` to the root of :math:`m_i = T_i` (a 1-D increasing
    equation: safeguarded Newton steps, accepted within :math:`\varepsilon/2`); :math:`x` only
    increases, and the work is bounded by the source mass, not by :math:`N`. At the end every
    :math:`m_i - T_i \le \varepsilon`, and :math:`|m_i - T_i| \le \varepsilon` where
    :math:`x_i > 0` (the optimality conditions). ``p = 2`` is the :math:`\ell_2` diffusion of
    :func:`flow_diffusion` (with ``omega = 1``); as :math:`p \to \infty` the dual tends to
    the min-cut problem :math:`\min_{x \ge 0} \sum w_{uv}|x_u - x_v| + x^\top (T - \Delta)`.

    Args:
        graph (LocalGraph): the (weighted) graph.
        seeds: one node, a list of nodes (one query each) or a list of seed sets.
        source_mass (float or sequence): mass per query, split evenly over its seed set.
        p (float): the flow norm, finite and >= 2. (default: ``2.0``)
        sink (torch.Tensor, optional): sink capacity per node; default: number of edges.
        eps (float): tolerance on the excess, finite > 0. (default: ``DEFAULT_EPS``)
        max_pushes (int): node-update limit per query; a query that reaches it is flagged in
            ``work[:, 2]`` (:attr:`PushResult.hit_push_limit`). ``work[:, 1]`` counts every
            edge visit: each push's row scan, root-finder evaluations and mass update.
            (default: ``10_000_000``)

    Raises:
        ValueError: also when ``p`` is so large that a potential overflows float64.
    """
    graph, sets, ptr, nodes, mass, sink_t, eps, _, max_pushes = _flow_inputs(
        graph, seeds, source_mass, sink, eps, 1.0, max_pushes)
    p = check_p_norm(p)
    if _ops.has_kernel("local_pnorm_diffusion", "cpu"):
        out = torch.ops.noisygraph.local_pnorm_diffusion(
            graph.rowptr, graph.col, graph.value, graph.degree, sink_t, ptr, nodes, mass,
            p, eps, max_pushes)
        return PushResult(*out)
    sink_list = sink_t.tolist()
    blocks, works = [], []
    for q in range(len(sets)):
        x, m, work = reference.pnorm_diffusion_reference(
            graph, _query_sources(ptr, nodes, mass, q), sink_list, p, eps, max_pushes)
        keys = list(m)
        blocks.append((keys, [x[v] for v in keys], [m[v] for v in keys]))
        works.append(work)
    return PushResult(*_concat(blocks), _work_tensor(works))


def _query_sources(ptr: Tensor, nodes: Tensor, mass: Tensor, q: int,
                   scale: float = 1.0) -> dict[int, float]:
    """Query ``q``'s source mass per node (duplicates summed), for the reference path."""
    sources: dict[int, float] = {}
    for k in range(int(ptr[q]), int(ptr[q + 1])):
        v = int(nodes[k])
        sources[v] = sources.get(v, 0.0) + scale * float(mass[k])
    return sources


def ppr_push(graph: LocalGraph, seeds: Seeds, alpha: float = 0.05, eps: float = 1e-6,
             max_pushes: int = DEFAULT_MAX_PUSHES) -> PushResult:
    r"""ACL push approximate personalized PageRank (non-lazy, weighted) from each seed (set).

    Starts with residual :math:`r = \chi_{\text{seeds}}` (unit total) and, while some
    :math:`r_i > \varepsilon\, d_i`, moves :math:`\alpha r_i` into :math:`p_i` and spreads
    :math:`(1-\alpha) r_i` over the neighbours in proportion to :math:`w_{ij}/d_i`.
    Work is :math:`O(1/(\varepsilon\alpha))`, independent of :math:`N`. Its limit
    (:math:`\varepsilon \to 0`) is the PageRank vector of teleport :math:`\alpha`; the lazy
    ACL push with teleport :math:`\alpha_L` (e.g. LocalGraphClustering's) has the same
    limit when :math:`\alpha = 2\alpha_L/(1+\alpha_L)`.

    Args:
        graph (LocalGraph): the (weighted) graph.
        seeds: one node, a list of nodes or a list of seed sets.
        alpha (float): teleport probability in :math:`(0, 1]`. (default: ``0.05``)
        eps (float): tolerance :math:`\varepsilon` (ACL's :math:`\rho`), finite > 0.
            (default: ``1e-6``)
        max_pushes (int): push limit per query; flagged in ``work[:, 2]``.
    """
    graph = require_graph(graph)
    eps, _, alpha, max_pushes = check_push_options(eps, 1.0, alpha, max_pushes)
    sets = seed_sets(graph, seeds)
    ptr, nodes, mass = _sources(sets, 1.0)
    if _ops.has_kernel("local_ppr_push", "cpu"):
        out = torch.ops.noisygraph.local_ppr_push(
            graph.rowptr, graph.col, graph.value, graph.degree, ptr, nodes, mass,
            alpha, eps, max_pushes)
        return PushResult(*out)
    blocks, works = [], []
    for q in range(len(sets)):
        p, r, work = reference.ppr_push_reference(graph, _query_sources(ptr, nodes, mass, q),
                                                  alpha, eps, max_pushes)
        keys = list(r)
        blocks.append((keys, [p[v] for v in keys], [r[v] for v in keys]))
        works.append(work)
    return PushResult(*_concat(blocks), _work_tensor(works))


def _batch_tensor(values, name: str, integer: bool) -> Tensor:
    """``values`` as a 1-D CPU tensor, int64 (``integer``) or float64, rejecting the other kind."""
    if not isinstance(values, Tensor):
        try:
            values = torch.as_tensor(values)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must be a 1-D tensor, got {type(values).__name__}") from None
    if values.is_complex() or values.dtype == torch.bool or \
            (integer and values.is_floating_point()):
        kind = "integers" if integer else "real numbers"
        raise TypeError(f"{name} must hold {kind}, got {values.dtype}")
    if values.dim() != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
    return values.detach().to(device="cpu", dtype=torch.long if integer else torch.float64)


def check_scored_nodes(graph: LocalGraph, ptr, nodes, scores) -> tuple[Tensor, Tensor, Tensor]:
    """Validates a batch of sparse score vectors: ``ptr`` ``[B + 1]`` int with ``ptr[0] = 0``,
    non-decreasing, ``ptr[-1] = len(nodes)``; ``nodes`` int in ``[0, N)``; ``scores`` finite
    reals of the shape of ``nodes``."""
    ptr = _batch_tensor(ptr, "ptr", integer=True)
    nodes = _batch_tensor(nodes, "nodes", integer=True)
    scores = _batch_tensor(scores, "scores", integer=False)
    if ptr.numel() < 1 or int(ptr[0]) != 0:
        raise ValueError("ptr must start at 0 (ptr = [0, end of query 0, ...])")
    if bool((ptr[1:] < ptr[:-1]).any()):
        raise ValueError("ptr must be non-decreasing")
    if int(ptr[-1]) != nodes.numel():
        raise ValueError(f"ptr must end at len(nodes) = {nodes.numel()}, got ptr[-1] = "
                         f"{int(ptr[-1])}")
    if scores.shape != nodes.shape:
        raise ValueError(f"scores must have the shape of nodes {tuple(nodes.shape)}, got "
                         f"{tuple(scores.shape)}")
    if nodes.numel() and (int(nodes.min()) < 0 or int(nodes.max()) >= graph.num_nodes):
        raise ValueError(f"nodes holds ids in [{int(nodes.min())}, {int(nodes.max())}], "
                         f"outside [0, {graph.num_nodes})")
    if not bool(torch.isfinite(scores).all()):
        raise ValueError("scores must be finite")
    return ptr.contiguous(), nodes.contiguous(), scores.contiguous()


def sweep_cut(graph: LocalGraph, ptr: Tensor, nodes: Tensor, scores: Tensor,
              normalize: bool = False, max_volume: Optional[float] = None) -> SweepResult:
    r"""Sweep cut of each query's scores: sort the nodes of positive score by score (divided
    by the weighted degree when ``normalize``; ties by node id) and return the prefix of least
    conductance :math:`\phi(S) = w(S, \bar S) / \min(\mathrm{vol}(S), \mathrm{vol}(\bar S))`.
    Work is the volume of the scored nodes.

    Args:
        graph (LocalGraph): the graph conductance is measured in.
        ptr (torch.Tensor): ``[B + 1]`` offsets into ``nodes``/``scores`` (int, from 0,
            non-decreasing, ending at ``len(nodes)``).
        nodes (torch.Tensor): scored nodes (int, in ``[0, N)``).
        scores (torch.Tensor): their scores (finite).
        normalize (bool): divide scores by degree. (default: :obj:`False`)
        max_volume (float, optional): consider only prefixes of volume at most this, e.g.
            ``graph.total_volume / 2`` (the smaller side; vectorised PyTorch sweep,
            :mod:`~noisygraph.ops.local_sweep`). (default: :obj:`None`: every prefix)
    """
    graph = require_graph(graph)
    ptr, nodes, scores = check_scored_nodes(graph, ptr, nodes, scores)
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    if max_volume is not None:
        return SweepResult(*restricted_sweep_cut(
            graph, ptr, nodes, scores, normalize,
            check_real("max_volume", max_volume, low=0.0, low_open=True)))
    if _ops.has_kernel("local_sweep_cut", "cpu"):
        return SweepResult(*torch.ops.noisygraph.local_sweep_cut(
            graph.rowptr, graph.col, graph.value, graph.degree, ptr, nodes, scores,
            graph.total_volume, normalize))
    clusters, phis, works = [], [], []
    for q in range(ptr.numel() - 1):
        block = {}
        for v, s in zip(nodes[ptr[q]:ptr[q + 1]].tolist(), scores[ptr[q]:ptr[q + 1]].tolist()):
            block[v] = max(block.get(v, 0.0), s)
        members, phi = reference.sweep_cut_reference(graph, block, normalize)
        clusters.append((members, [], []))
        phis.append(phi)
        works.append((0, int(sum(graph.edge_count[v] for v in block if block[v] > 0))))
    cptr, cnodes, _, _ = _concat(clusters)
    return SweepResult(cptr, cnodes, torch.tensor(phis, dtype=torch.float64),
                       torch.tensor(works, dtype=torch.long).reshape(-1, 2))


def _cluster_fallback(graph: LocalGraph, sets, run_levels, normalize: bool) -> ClusterBatch:
    """Reference driver of the fused ops: diffusion levels in Python, sweep after each (its
    edge scans counted in the work, as the compiled ops do)."""
    rowptr = graph.rowptr.tolist()
    clusters, score_blocks, phis, levels, works = [], [], [], [], []
    for q, seeds in enumerate(sets):
        best = (math.nan, -1, [], {})
        total_work = [0, 0, 0]
        for level, scores, work in run_levels(q, seeds):
            members, phi = reference.sweep_cut_reference(graph, scores, normalize)
            swept = sum(rowptr[v + 1] - rowptr[v] for v, s in scores.items() if s > 0)
            total_work = [total_work[0] + work[0], total_work[1] + work[1] + swept,
                          max(total_work[2], work[2])]
            if not math.isnan(phi) and (math.isnan(best[0]) or phi < best[0]):
                best = (phi, level, members, {v: s for v, s in scores.items() if s > 0})
        phis.append(best[0])
        levels.append(best[1])
        clusters.append((best[2], [], []))
        keys = list(best[3])
        score_blocks.append((keys, [best[3][v] for v in keys], []))
        works.append(total_work)
    cptr, cnodes, _, _ = _concat(clusters)
    sptr, snodes, svals, _ = _concat(score_blocks)
    return ClusterBatch(cptr, cnodes, torch.tensor(phis, dtype=torch.float64),
                        torch.tensor(levels, dtype=torch.long), sptr, snodes, svals,
                        _work_tensor(works))


def flow_cluster(graph: LocalGraph, seeds: Seeds, source_mass, multiples: Sequence[float],
                    sink: Optional[Tensor] = None, eps: float = DEFAULT_EPS,
                    omega: float = DEFAULT_OMEGA,
                    max_pushes: int = DEFAULT_MAX_PUSHES,
                    cg_iters: int = DEFAULT_CG_ITERS) -> ClusterBatch:
    """Flow diffusion with source mass ``multiple * source_mass`` for every multiple (finite,
    positive; taken in ascending order, each level warm-started from the previous one), a
    sweep cut over ``x`` after each, keeping the level of least conductance (in ``graph``).
    One call per batch of queries. ``max_pushes`` limits the pushes of each level; a query
    of which a level reached it is flagged in ``work[:, 2]``. ``cg_iters`` as in
    :func:`flow_diffusion`."""
    mult = torch.tensor(check_levels("multiples", multiples), dtype=torch.float64)
    graph, sets, ptr, nodes, mass, sink_t, eps, omega, max_pushes = _flow_inputs(
        graph, seeds, source_mass, sink, eps, omega, max_pushes)
    cg_iters = check_int("cg_iters", cg_iters, low=0, high=INT64_MAX)
    if _ops.has_kernel("local_flow_cluster", "cpu"):
        out = torch.ops.noisygraph.local_flow_cluster(
            graph.rowptr, graph.col, graph.value, graph.degree, sink_t, ptr, nodes, mass, mult,
            eps, omega, max_pushes, graph.total_volume, cg_iters)
        return ClusterBatch(*out)
    sink_list = sink_t.tolist()

    def run_levels(q, seed_set):
        state, previous, levels, before = ({}, {}), 0.0, mult.tolist(), {}
        for level, a in enumerate(levels):
            sources = _query_sources(ptr, nodes, mass, q, scale=a - previous)
            extrapolate = None
            if cg_iters > 0 and level >= 2 and levels[level - 1] > levels[level - 2]:
                extrapolate = (before, (a - previous) / (levels[level - 1] - levels[level - 2]))
            last = dict(state[0])
            x, m, work = reference.flow_diffusion_reference(graph, sources, sink_list, eps,
                                                            max_pushes, omega, state, cg_iters,
                                                            extrapolate)
            state, previous, before = (x, m), a, last
            yield level, dict(x), work

    return _cluster_fallback(graph, sets, run_levels, normalize=False)


def pnorm_cluster(graph: LocalGraph, seeds: Seeds, source_mass, multiples: Sequence[float],
                  p: float = 2.0, sink: Optional[Tensor] = None, eps: float = DEFAULT_EPS,
                  max_pushes: int = DEFAULT_MAX_PUSHES) -> ClusterBatch:
    """p-norm flow diffusion (:func:`pnorm_diffusion`) with source mass
    ``multiple * source_mass`` for every multiple (ascending, each level warm-started from
    the previous one), a sweep cut over ``x`` after each, keeping the level of least
    conductance, as :func:`flow_cluster`. ``max_pushes`` limits each level, flagged in
    ``work[:, 2]``."""
    mult = torch.tensor(check_levels("multiples", multiples), dtype=torch.float64)
    graph, sets, ptr, nodes, mass, sink_t, eps, _, max_pushes = _flow_inputs(
        graph, seeds, source_mass, sink, eps, 1.0, max_pushes)
    p = check_p_norm(p)
    if _ops.has_kernel("local_pnorm_cluster", "cpu"):
        out = torch.ops.noisygraph.local_pnorm_cluster(
            graph.rowptr, graph.col, graph.value, graph.degree, sink_t, ptr, nodes, mass, mult,
            p, eps, max_pushes, graph.total_volume)
        return ClusterBatch(*out)
    sink_list = sink_t.tolist()

    def run_levels(q, seed_set):
        state, previous = ({}, {}), 0.0
        for level, a in enumerate(mult.tolist()):
            sources = _query_sources(ptr, nodes, mass, q, scale=a - previous)
            x, m, work = reference.pnorm_diffusion_reference(graph, sources, sink_list, p, eps,
                                                             max_pushes, state)
            state, previous = (x, m), a
            yield level, dict(x), work

    return _cluster_fallback(graph, sets, run_levels, normalize=False)


def ppr_cluster(graph: LocalGraph, seeds: Seeds, tolerances: Sequence[float],
                   alpha: float = 0.05, max_pushes: int = DEFAULT_MAX_PUSHES) -> ClusterBatch:
    """ACL push for every tolerance (finite, positive; taken in descending order, each level
    continuing the previous push), a sweep cut over ``p / degree`` after each, keeping the
    least conductance. ``max_pushes`` limits each level, flagged in ``work[:, 2]``."""
    graph = require_graph(graph)
    tol = torch.tensor(check_levels("tolerances", tolerances, descending=True),
                       dtype=torch.float64)
    _, _, alpha, max_pushes = check_push_options(1.0, 1.0, alpha, max_pushes)
    sets = seed_sets(graph, seeds)
    ptr, nodes, mass = _sources(sets, 1.0)
    if _ops.has_kernel("local_ppr_cluster", "cpu"):
        out = torch.ops.noisygraph.local_ppr_cluster(
            graph.rowptr, graph.col, graph.value, graph.degree, ptr, nodes, mass, tol,
            alpha, max_pushes, graph.total_volume)
        return ClusterBatch(*out)

    def run_levels(q, seed_set):
        sources = _query_sources(ptr, nodes, mass, q)
        state = None
        for level, t in enumerate(tol.tolist()):
            p, r, work = reference.ppr_push_reference(graph, sources, alpha, t, max_pushes, state)
            sources, state = {}, (p, r)  # the next level continues the same push
            yield level, dict(p), work

    return _cluster_fallback(graph, sets, run_levels, normalize=True)


# ---------------------------------------------------------------------- fake kernels
def _new_size() -> Any:
    """A data-dependent output length in a fake kernel."""
    return torch.library.get_ctx().new_dynamic_size()


def _fake_push(source_ptr: Tensor, degree: Tensor) -> tuple:
    """Shapes of a push diffusion's outputs: pointer, nodes, two value columns, work."""
    size, b = _new_size(), source_ptr.numel() - 1
    return (source_ptr.new_empty(b + 1), source_ptr.new_empty(size), degree.new_empty(size),
            degree.new_empty(size), source_ptr.new_empty(b, 3))


def _fake_cluster(source_ptr: Tensor, degree: Tensor) -> tuple:
    """Shapes of a fused cluster op's outputs (the fields of :class:`ClusterBatch`)."""
    clusters, scored, b = _new_size(), _new_size(), source_ptr.numel() - 1
    return (source_ptr.new_empty(b + 1), source_ptr.new_empty(clusters), degree.new_empty(b),
            source_ptr.new_empty(b), source_ptr.new_empty(b + 1), source_ptr.new_empty(scored),
            degree.new_empty(scored), source_ptr.new_empty(b, 3))


def _register() -> None:
    lib = "noisygraph::"

    @torch.library.register_fake(lib + "local_flow_diffusion")
    def _(rowptr, col, value, degree, sink, source_ptr, source_nodes, source_mass, eps, omega,
          max_pushes, cg_iters=0):
        return _fake_push(source_ptr, degree)

    @torch.library.register_fake(lib + "local_ppr_push")
    def _(rowptr, col, value, degree, source_ptr, source_nodes, source_mass, alpha, eps,
          max_pushes):
        return _fake_push(source_ptr, degree)

    @torch.library.register_fake(lib + "local_sweep_cut")
    def _(rowptr, col, value, degree, score_ptr, score_nodes, scores, total_volume, normalize):
        size, b = _new_size(), score_ptr.numel() - 1
        return (score_ptr.new_empty(b + 1), score_ptr.new_empty(size), degree.new_empty(b),
                score_ptr.new_empty(b, 2))

    @torch.library.register_fake(lib + "local_flow_cluster")
    def _(rowptr, col, value, degree, sink, source_ptr, source_nodes, source_mass, multiples,
          eps, omega, max_pushes, total_volume, cg_iters=0):
        return _fake_cluster(source_ptr, degree)

    @torch.library.register_fake(lib + "local_pnorm_diffusion")
    def _(rowptr, col, value, degree, sink, source_ptr, source_nodes, source_mass, p, eps,
          max_pushes):
        return _fake_push(source_ptr, degree)

    @torch.library.register_fake(lib + "local_pnorm_cluster")
    def _(rowptr, col, value, degree, sink, source_ptr, source_nodes, source_mass, multiples,
          p, eps, max_pushes, total_volume):
        return _fake_cluster(source_ptr, degree)

    @torch.library.register_fake(lib + "local_ppr_cluster")
    def _(rowptr, col, value, degree, source_ptr, source_nodes, source_mass, tolerances, alpha,
          max_pushes, total_volume):
        return _fake_cluster(source_ptr, degree)


if _ops.COMPILED:
    _register()
