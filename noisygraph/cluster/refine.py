r"""Flow-based cut improvement: MQI and a strongly-local FlowImprove (SimpleLocal-style).

Both take any node set :math:`R` (a local cluster, a sweep cut, a user's set) and return a set
of no higher conductance
:math:`\phi(S) = w(S, \bar S) / \min(\mathrm{vol}(S), \mathrm{vol}(\bar S))`, by a sequence of
max-flow / min-cut problems built on :math:`R` and its boundary only:

* :func:`mqi` (Lang & Rao, `A flow-based method for improving the expansion or conductance of
  graph cuts <https://doi.org/10.1007/978-3-540-25960-2_25>`_, IPCO 2004) returns the subset
  :math:`S \subseteq R` of least :math:`w(S, \bar S) / \mathrm{vol}(S)`, which is its least
  conductance when :math:`\mathrm{vol}(R) \le \mathrm{vol}(V)/2`. Work: :math:`O(\mathrm{vol}(R))`
  per max-flow.
* :func:`flow_improve` minimises the relative quotient of Andersen & Lang (`An algorithm for
  improving graph partitions <https://dl.acm.org/doi/10.5555/1347082.1347154>`_, SODA 2008)
  with the locality penalty of Veldt, Gleich & Mahoney (`A simple and strongly-local
  flow-based method for cut improvement <https://proceedings.mlr.press/v48/veldt16.html>`_,
  ICML 2016):

  .. math::
      Q_\varepsilon(S) = \frac{w(S, \bar S)}{\mathrm{vol}(S \cap R) - \varepsilon\,
      \mathrm{vol}(S \cap \bar R)}, \qquad
      \varepsilon = \frac{\mathrm{vol}(R)}{\mathrm{vol}(\bar R)} + \delta,

  over every :math:`S` with a positive denominator (:math:`S` may leave :math:`R`). The
  min-cut problems are solved on an explored region grown from :math:`R`; a node joins it only
  when a cut puts it on the source side, where its sink edge (capacity
  :math:`\alpha\varepsilon\, d(v)`) is saturated by a flow of at most
  :math:`\alpha\,\mathrm{vol}(R)`: each solve reads nodes of volume at most
  :math:`\mathrm{vol}(R)/\varepsilon`, independent of the graph's size (strongly local for
  :math:`\delta > 0`; :math:`\delta = 0` is Andersen-Lang's FlowImprove, whose region may grow
  to the whole graph). For :math:`\mathrm{vol}(R) \le \mathrm{vol}(V)/2`,
  :math:`\phi(S) \le Q_\varepsilon(S) \le Q_\varepsilon(R) = \phi(R)`.

Max-flow: each refinement is one compiled call (``torch.ops.noisygraph.local_mqi`` /
``local_flow_improve``, :mod:`noisygraph.ops.max_flow`): the networks are built in C++ from the
set and its boundary and solved by our Dinic, the loop on :math:`\alpha` runs there too. MQI on
integer edge weights (unweighted graphs included) solves each min cut in exact integers (the
network times the volume of the current set, exact in float64 while cut times volume is at
most :math:`2^{53}`); otherwise, and for FlowImprove, float64 capacities (no scaling or
rounding). Either way a set is accepted only if its objective, recomputed from the graph, is
strictly lower. Without the compiled library the same algorithms run in Python (SciPy's
``maximum_flow`` for integer MQI, a pure-Python Dinic otherwise), with the same results.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor

from noisygraph._validation import check_choice, check_int, check_real
from noisygraph.ops.local_push import LocalGraph
from noisygraph.ops.local_sweep import gather_rows
from noisygraph.ops.max_flow import (DEFAULT_MAX_WORK, FlowNetwork, has_refine_kernels,
                                     local_flow_improve, local_mqi)

REFINE_METHODS = ("mqi", "flowimprove")
DEFAULT_DELTA = 0.3  # LocalGraphClustering's SimpleLocal default (its delta is the same one)
DEFAULT_MAX_ITERATIONS = 50
_TOL = 1e-12


@dataclass
class RefineResult:
    """A refined cluster.

    Attributes:
        nodes: the refined set ``[k]`` (int64, sorted).
        conductance: its conductance in the graph.
        input_conductance: the input set's conductance.
        method: ``"mqi"`` or ``"flowimprove"``.
        iterations: improvement steps (a new :math:`\\alpha`; FlowImprove also re-solves after
            each growth of its region, counted in ``work`` only).
        work: ``{"edges": adjacency entries scanned, "arcs": arc visits of the max-flows,
            "explored": nodes whose adjacency was read, "stopped_at_limit": 1 when
            ``max_work`` ended the call}``: none depend on the graph's size.
        ms: wall milliseconds.
    """
    nodes: Tensor
    conductance: float
    input_conductance: float
    method: str
    iterations: int = 0
    work: dict = field(default_factory=dict)
    ms: float = 0.0

    @property
    def size(self) -> int:
        return int(self.nodes.numel())

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "size": self.size, "conductance": self.conductance,
                "input_conductance": self.input_conductance, "iterations": self.iterations,
                "work": dict(self.work), "ms": self.ms}


# ---------------------------------------------------------------------- graph access
class _Local:
    """Adjacency of the nodes read so far (dicts keyed by node id: nothing of size N)."""

    def __init__(self, graph: LocalGraph):
        self.graph = graph
        self.rowptr = graph.rowptr
        self.col = graph.col
        self.value = graph.value
        self.adj: dict[int, tuple[list[int], list[float]]] = {}
        self.edges = 0

    def neighbours(self, v: int) -> tuple[list[int], list[float]]:
        hit = self.adj.get(v)
        if hit is None:
            a, b = int(self.rowptr[v]), int(self.rowptr[v + 1])
            cols = self.col[a:b].tolist()
            weights = [1.0] * (b - a) if self.value is None else self.value[a:b].tolist()
            hit = self.adj[v] = (cols, weights)
            self.edges += b - a
        return hit

    def degree(self, v: int) -> float:
        return float(sum(self.neighbours(v)[1]))

    def volume(self, nodes) -> float:
        return sum(self.degree(v) for v in nodes)

    def cut(self, nodes: set) -> float:
        return sum(w for v in nodes for u, w in zip(*self.neighbours(v)) if u not in nodes)

    def conductance(self, nodes: set) -> float:
        vol = self.volume(nodes)
        denominator = min(vol, self.graph.total_volume - vol)
        return self.cut(nodes) / denominator if denominator > 0 else float("nan")


def conductance(graph: Any, nodes: Any) -> float:
    r"""Conductance :math:`w(S, \bar S) / \min(\mathrm{vol}(S), \mathrm{vol}(\bar S))` of a
    node set (ids or a bool mask; NaN when either side has volume 0). Work: ``vol(S)``."""
    graph = LocalGraph.from_graph(graph)
    members = _node_set(graph, nodes, "nodes")
    return _Local(graph).conductance(members)


def _node_ids(graph: LocalGraph, nodes: Any, name: str) -> Tensor:
    """``nodes`` (ids or a bool mask) as sorted unique int64 ids, at least one."""
    from noisygraph._validation import check_node_ids
    if isinstance(nodes, (list, tuple)):
        if not nodes:
            raise ValueError(f"{name} must hold at least one node")
        nodes = torch.as_tensor(nodes)
    ids = torch.unique(check_node_ids(name, nodes, graph.num_nodes))
    if ids.numel() == 0:
        raise ValueError(f"{name} must hold at least one node")
    return ids


def _node_set(graph: LocalGraph, nodes: Any, name: str) -> set:
    return set(_node_ids(graph, nodes, name).tolist())


# ---------------------------------------------------------------------- MQI
def _check_common(graph: Any, nodes: Any, max_iterations: int, max_work: int):
    graph = LocalGraph.from_graph(graph)
    ids = _node_ids(graph, nodes, "nodes")
    max_iterations = check_int("max_iterations", max_iterations, low=1)
    max_work = check_int("max_work", max_work, low=1)
    vol = float(graph.degree[ids].sum())  # O(|R|), no adjacency read
    if vol <= 0:
        raise ValueError("nodes must hold nodes with edges (its volume is 0)")
    if vol > graph.total_volume / 2:
        raise ValueError(f"nodes has volume {vol:g} > vol(V)/2 = {graph.total_volume / 2:g}: "
                         "refine the smaller side (its complement), or restrict the sweep "
                         "(max_volume)")
    return graph, ids, max_iterations, max_work


def _compiled_result(out, method: str, start: float) -> RefineResult:
    return RefineResult(out.nodes, out.conductance, out.input_conductance, method,
                        out.iterations, {"edges": out.edges, "arcs": out.arcs,
                                         "explored": out.explored,
                                         "stopped_at_limit": int(out.stopped)},
                        (time.perf_counter() - start) * 1e3)


def mqi(graph: Any, nodes: Any, *, max_iterations: int = DEFAULT_MAX_ITERATIONS,
        max_work: int = DEFAULT_MAX_WORK) -> RefineResult:
    r"""MQI (max-flow quotient-cut improvement): the subset :math:`S \subseteq R` of least
    :math:`w(S, \bar S)/\mathrm{vol}(S)` (the least conductance among the subsets of
    :math:`R`).

    Each step, with :math:`\alpha = \phi(A)` of the current set :math:`A`, solves a min cut on
    :math:`A` plus a sink: source :math:`\to u` with capacity :math:`\alpha\, d(u)`, the edges of
    :math:`A` with their weights, :math:`u \to` sink with :math:`w(u, \bar A)`. A cut below
    :math:`\alpha\,\mathrm{vol}(A)` has as source side a set :math:`S` with
    :math:`w(S, \bar S) < \alpha\,\mathrm{vol}(S)`; repeat on :math:`S` until none exists.
    With integer weights the network is scaled by :math:`\mathrm{vol}(A)` and solved in exact
    integers.

    Args:
        graph: a :class:`~noisygraph.ops.local_push.LocalGraph` (or anything
            :meth:`LocalGraph.from_graph` takes); undirected, CPU.
        nodes: the set :math:`R` (node ids or a bool mask); :math:`\mathrm{vol}(R)` must be
            positive and at most :math:`\mathrm{vol}(V)/2`.
        max_iterations (int): max-flow problems at most (each strictly lowers the
            conductance). (default: ``50``)
        max_work (int): arc visits of all max-flows at most (compiled kernel; the pure-Python
            fallback has no such bound): past it the call returns the best set found so far
            with ``work["stopped_at_limit"] = 1``. (default: ``10**10``)
    """
    start = time.perf_counter()
    graph, ids, max_iterations, max_work = _check_common(graph, nodes, max_iterations,
                                                         max_work)
    if has_refine_kernels():
        return _compiled_result(local_mqi(graph, ids, max_iterations=max_iterations,
                                          max_work=max_work), "mqi", start)
    return _mqi_python(graph, ids, max_iterations, start)


def _mqi_python(graph: LocalGraph, ids: Tensor, max_iterations: int,
                start: float) -> RefineResult:
    """MQI without the compiled kernel: exact integer min cuts in SciPy's Dinic when the
    weights allow, else the pure-Python Dinic (the reference of the kernel)."""
    current, local = set(ids.tolist()), _Local(graph)
    exact = _mqi_integer_loop(graph, ids, max_iterations)
    if exact is not None:
        order, phi, phi0, iterations, arcs, edges = exact
        return RefineResult(order, phi, phi0, "mqi", iterations,
                            {"edges": edges, "arcs": arcs, "explored": len(current),
                             "stopped_at_limit": 0},
                            (time.perf_counter() - start) * 1e3)
    phi0 = phi = local.conductance(current)
    net_arcs, iterations = 0, 0
    while iterations < max_iterations and phi > 0:
        iterations += 1
        order = sorted(current)
        index = {v: i + 2 for i, v in enumerate(order)}
        side, arcs = _float_mqi_cut(local, order, index, phi)
        net_arcs += arcs
        if not side or side == current:
            break
        new_phi = local.conductance(side)
        if not new_phi < phi:
            break
        current, phi = side, new_phi
    return RefineResult(torch.tensor(sorted(current), dtype=torch.long), phi, phi0, "mqi",
                        iterations, {"edges": local.edges, "arcs": net_arcs,
                                     "explored": len(local.adj), "stopped_at_limit": 0},
                        (time.perf_counter() - start) * 1e3)


_INT32_MAX = 2**31 - 1


def _float_mqi_cut(local: _Local, order: list[int], index: dict, phi: float):
    """MQI's min cut with float64 capacities in our Dinic: the minimal source side and the
    arc visits."""
    net = FlowNetwork(len(order) + 2)
    scale = 0.0
    for v in order:
        cols, weights = local.neighbours(v)
        out = 0.0
        for u, w in zip(cols, weights):
            j = index.get(u)
            if j is None:
                out += w
            elif u > v:
                net.add(index[v], j, w, w)
        net.add(0, index[v], phi * sum(weights))
        if out > 0:
            net.add(index[v], 1, out)
        scale = max(scale, out, phi * sum(weights))
    tol = _TOL * max(scale, 1.0)
    net.max_flow(0, 1, tol)
    return {order[i - 2] for i in net.source_side(0, tol) if i >= 2}, net.arcs


def _rows(graph: LocalGraph, order: Tensor):
    """The adjacency of the sorted nodes ``order``, vectorised: for every entry its row's
    position in ``order``, its neighbour's position (-1 outside) and its weight."""
    owner, neighbour, weight = gather_rows(graph, order)
    slot = torch.searchsorted(order, neighbour).clamp(max=order.numel() - 1)
    slot = torch.where(order[slot] == neighbour, slot, torch.full_like(slot, -1))
    return owner, slot, weight


def _integer_mqi(graph: LocalGraph, order: Tensor):
    r"""MQI's min cut on the sorted set ``order`` in exact integers, with
    :math:`\alpha = p/q` = cut / volume of the set: source :math:`\to u` capacity
    :math:`p\,d(u)`, edges :math:`q\,w`, :math:`u \to` sink :math:`q\,w(u, \bar A)` (the
    network times :math:`q`), built vectorised and solved by
    ``scipy.sparse.csgraph.maximum_flow`` (int32 capacities). Returns the minimal source side
    (sorted ids), the set's conductance, and the network's arc count (SciPy's arc visits are
    not observable); :obj:`None` when a weight is not an integer or a capacity or the flow
    could exceed int32 (the float Dinic then runs)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    owner, slot, weight = _rows(graph, order)
    if not bool((weight == weight.round()).all()):
        return None
    k = order.numel()
    w = weight.round().to(torch.long)
    outside = slot < 0
    out = torch.zeros(k, dtype=torch.long).index_add_(0, owner, torch.where(outside, w, 0))
    degree = torch.zeros(k, dtype=torch.long).index_add_(0, owner, w)
    p, q = int(out.sum()), int(degree.sum())
    half = graph.total_volume / 2
    phi = p / min(q, graph.total_volume - q) if min(q, graph.total_volume - q) > 0 else math.nan
    if p == 0 or p * q > _INT32_MAX or q > half:
        return None if p * q > _INT32_MAX or q > half else (order, phi, 0)
    internal = ~outside & (slot != owner)
    nodes = torch.arange(k) + 2
    rows = torch.cat([owner[internal] + 2, torch.zeros(k, dtype=torch.long), nodes[out > 0]])
    cols = torch.cat([slot[internal] + 2, nodes, torch.ones(int((out > 0).sum()),
                                                            dtype=torch.long)])
    caps = torch.cat([q * w[internal], p * degree, q * out[out > 0]])
    if caps.numel() and int(caps.max()) > _INT32_MAX:
        return None
    n = k + 2
    capacity = sp.csr_matrix((caps.numpy(), (rows.numpy(), cols.numpy())), shape=(n, n))
    capacity.sum_duplicates()
    if capacity.nnz and int(capacity.data.max()) > _INT32_MAX:
        return None
    capacity = capacity.astype(np.int32)
    flow = maximum_flow(capacity, 0, 1, method="dinic").flow
    residual = (capacity.astype(np.int64) - flow.astype(np.int64)).tocsr()
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    reach = np.sort(breadth_first_order(residual, 0, directed=True, return_predecessors=False))
    reach = torch.as_tensor(reach[reach >= 2] - 2, dtype=torch.long)
    return order[reach], phi, int(capacity.nnz)


def _mqi_integer_loop(graph: LocalGraph, order: Tensor, max_iterations: int):
    """MQI by :func:`_integer_mqi` steps from the sorted set ``order``: ``(set, conductance,
    input conductance, steps, arcs, edges)``, or :obj:`None` as soon as a step cannot run in
    int32 integers (the caller then runs the float path from the start)."""
    edges = int(graph.edge_count[order].sum())
    step = _integer_mqi(graph, order)
    if step is None:
        return None
    side, phi, arcs = step
    phi0, iterations = phi, 0
    while iterations < max_iterations and 0 < side.numel() < order.numel():
        iterations += 1
        step = _integer_mqi(graph, side)  # the side's conductance, and its own min cut
        if step is None:
            return None
        if not step[1] < phi:  # exact integers: never happens for a non-empty strict subset
            break
        order, (side, phi, step_arcs) = side, step
        arcs += step_arcs
    return order, phi, phi0, iterations, arcs, edges


# ---------------------------------------------------------------------- FlowImprove
def relative_quotient(graph: Any, nodes: Any, reference: Any, epsilon: float) -> float:
    r""":math:`Q_\varepsilon(S) = w(S, \bar S) / (\mathrm{vol}(S \cap R) - \varepsilon\,
    \mathrm{vol}(S \cap \bar R))` (``inf`` when the denominator is not positive)."""
    graph = LocalGraph.from_graph(graph)
    local = _Local(graph)
    return _quotient(local, _node_set(graph, nodes, "nodes"),
                     _node_set(graph, reference, "reference"), epsilon)


def _quotient(local: _Local, nodes: set, reference: set, epsilon: float) -> float:
    inside = local.volume(nodes & reference)
    outside = local.volume(nodes - reference)
    denominator = inside - epsilon * outside
    # a denominator within rounding of 0 (S = V when delta = 0) counts as 0
    positive = denominator > 1e-12 * inside
    return local.cut(nodes) / denominator if positive else float("inf")


def flow_improve(graph: Any, nodes: Any, *, delta: float = DEFAULT_DELTA,
                 max_iterations: int = DEFAULT_MAX_ITERATIONS,
                 max_work: int = DEFAULT_MAX_WORK) -> RefineResult:
    r"""Strongly-local FlowImprove: the set :math:`S` (not only a subset of :math:`R`) of least
    :math:`Q_\varepsilon(S)`, :math:`\varepsilon = \mathrm{vol}(R)/\mathrm{vol}(\bar R) + \delta`
    (see the module's docstring), whose conductance is at most :math:`\phi(R)`.

    Each step, with :math:`\alpha = Q_\varepsilon` of the current set, finds the min cut of
    :math:`w(S, \bar S) + \alpha\varepsilon\,\mathrm{vol}(S \cap \bar R) - \alpha\,
    \mathrm{vol}(S \cap R)` (source :math:`\to u \in R`: :math:`\alpha\, d(u)`; :math:`u
    \notin R \to` sink: :math:`\alpha\varepsilon\, d(u)`; graph edges with their weights) on an
    explored region: the nodes whose adjacency has been read plus their neighbours, the edges
    leaving the region dropped. If the cut's source side holds a node whose adjacency was not
    read, it is read and the cut recomputed; otherwise the cut is the graph's own (dropping
    edges can only lower a cut). Stops when no set has :math:`Q_\varepsilon` below
    :math:`\alpha`.

    Args:
        graph: a :class:`~noisygraph.ops.local_push.LocalGraph` (or anything
            :meth:`LocalGraph.from_graph` takes); undirected, CPU.
        nodes: the reference set :math:`R` (ids or a bool mask), of positive volume at most
            :math:`\mathrm{vol}(V)/2`.
        delta (float): locality :math:`\delta \ge 0`; each solve reads nodes of volume at
            most :math:`\mathrm{vol}(R)/\varepsilon`; 0 is Andersen-Lang's (global)
            FlowImprove. (default: ``0.3``, LocalGraphClustering's SimpleLocal default)
        max_iterations (int): improvement steps at most (the re-solves after the region grew
            are not counted: the region's growth is bounded by locality). (default: ``50``)
        max_work (int): arc visits of all max-flows at most (compiled kernel; the pure-Python
            fallback has no such bound): past it the call returns the best set found so far
            with ``work["stopped_at_limit"] = 1``. (default: ``10**10``)
    """
    start = time.perf_counter()
    delta = check_real("delta", delta, low=0.0)
    graph, ids, max_iterations, max_work = _check_common(graph, nodes, max_iterations,
                                                         max_work)
    if has_refine_kernels():
        return _compiled_result(local_flow_improve(graph, ids, delta=delta,
                                                   max_iterations=max_iterations,
                                                   max_work=max_work), "flowimprove", start)
    return _flow_improve_python(graph, ids, delta, max_iterations, start)


def _flow_improve_python(graph: LocalGraph, ids: Tensor, delta: float, max_iterations: int,
                         start: float) -> RefineResult:
    """FlowImprove without the compiled kernel: the pure-Python Dinic (the kernel's
    reference)."""
    reference, local = set(ids.tolist()), _Local(graph)
    vol_r = local.volume(reference)
    rest = graph.total_volume - vol_r
    epsilon = vol_r / rest + delta
    phi0 = local.conductance(reference)
    current, alpha = set(reference), _quotient(local, reference, reference, epsilon)
    explored = set(reference)  # nodes whose adjacency has been read
    iterations, net_arcs = 0, 0
    while iterations < max_iterations and alpha > 0:
        net, index = FlowNetwork(2), {}
        scale = [0.0]

        def node(v: int) -> int:
            """The network node of ``v``, created with its source or sink edge."""
            j = index.get(v)
            if j is None:
                j = index[v] = net.add_node()
                if v in reference:
                    cap = alpha * local.degree(v)
                    net.add(0, j, cap)
                else:  # a frontier node's degree is read without its adjacency (O(1))
                    cap = alpha * epsilon * float(graph.degree[v])
                    net.add(j, 1, cap)
                scale[0] = max(scale[0], cap)
            return j

        def read(nodes: set, before: set) -> None:
            """Adds the edges of newly explored ``nodes`` (those to ``before`` exist)."""
            for v in sorted(nodes):
                j = node(v)
                for u, w in zip(*local.neighbours(v)):
                    if u in before or (u in nodes and u <= v):
                        continue
                    net.add(j, node(u), w, w)
                    scale[0] = max(scale[0], w)

        read(explored, set())
        while True:  # grow the region until the cut's source side is explored
            tol = _TOL * max(scale[0], 1.0)
            net.max_flow(0, 1, tol)  # continues from the flow of the smaller region
            reach = set(net.source_side(0, tol))
            side = {v for v, j in index.items() if j in reach}
            grow = side - explored
            if not grow:
                break
            before = set(explored)
            explored |= grow
            read(grow, before)
        net_arcs += net.arcs
        iterations += 1
        if not side or side == current:
            break
        q = _quotient(local, side, reference, epsilon)
        if not q < alpha:
            break
        current, alpha = side, q
    phi = local.conductance(current)
    if not phi <= phi0:  # never worse than the input (guaranteed in exact arithmetic)
        current, phi = reference, phi0
    return RefineResult(torch.tensor(sorted(current), dtype=torch.long), phi, phi0,
                        "flowimprove", iterations,
                        {"edges": local.edges, "arcs": net_arcs, "explored": len(explored),
                         "stopped_at_limit": 0},
                        (time.perf_counter() - start) * 1e3)


def refine(graph: Any, nodes: Any, *, method: str = "mqi", delta: float = DEFAULT_DELTA,
           max_iterations: int = DEFAULT_MAX_ITERATIONS,
           max_work: int = DEFAULT_MAX_WORK) -> RefineResult:
    """:func:`mqi` (``method="mqi"``) or :func:`flow_improve` (``"flowimprove"``; ``delta``
    applies to it only)."""
    method = check_choice("method", method, REFINE_METHODS)
    if method == "mqi":
        return mqi(graph, nodes, max_iterations=max_iterations, max_work=max_work)
    return flow_improve(graph, nodes, delta=delta, max_iterations=max_iterations,
                        max_work=max_work)


def check_refine(method: Optional[str], delta: float) -> tuple[Optional[str], float]:
    """``local_cluster``'s ``refine`` (:obj:`None` or one of :data:`REFINE_METHODS`) and
    ``refine_delta`` (finite, >= 0), checked whichever method runs."""
    delta = check_real("refine_delta", delta, low=0.0)
    if method is not None:
        method = check_choice("refine", method, REFINE_METHODS)
    return method, delta


def refine_result(graph: LocalGraph, diffusion_graph: LocalGraph, result: Any, method: str,
                  delta: float) -> None:
    """Refines a :class:`~noisygraph.cluster.api.ClusterResult` in place, in ``graph`` (the
    graph as given, not label-weighted: the conductance refinement improves is the graph's
    own). ``result.nodes`` become the refined set and ``result.conductance`` its conductance
    in ``diffusion_graph`` (the field's meaning is kept); ``refinement`` records the refinement
    in ``graph`` (its ``input_conductance`` and ``conductance``, never higher) and its work. A
    set of volume above vol(V)/2 in ``graph``, or none, is left as is,
    ``refinement = {"method", "skipped": reason}``."""
    nodes = result.nodes
    if nodes.numel() == 0 or math.isnan(result.conductance):
        result.refinement = {"method": method, "skipped": "no sweep cut"}
        return
    if float(graph.degree[nodes].sum()) > graph.total_volume / 2:
        result.refinement = {"method": method, "skipped": "volume above vol(V)/2"}
        return
    out = refine(graph, nodes, method=method, delta=delta)
    result.refinement = {**out.to_dict(), "input_size": int(nodes.numel())}
    result.nodes = out.nodes
    result.conductance = (out.conductance if diffusion_graph is graph
                          else conductance(diffusion_graph, out.nodes))
    result.work = {**result.work, "refine_edges": out.work["edges"],
                   "refine_arcs": out.work["arcs"]}
    result.ms += out.ms
