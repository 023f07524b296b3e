r"""Max-flow ops of the local-push family: Dinic's max-flow on a small network
(``torch.ops.noisygraph.local_max_flow``) and the flow-based cut improvements built on it,
MQI (``local_mqi``) and the strongly-local FlowImprove (``local_flow_improve``), whose whole
parametric loop runs in one compiled call (see :mod:`noisygraph.cluster.refine` for the
objectives and the Python paths used when no kernel is built).

CPU only, no autograd. Every op checks its input itself (``ValueError`` / ``TypeError``
naming the argument). ``max_work`` bounds the arc visits of a call: past it the op stops and
reports it (``stopped``), it never runs unbounded.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from noisygraph import _ops
from noisygraph._validation import check_int, check_real
from noisygraph.ops._reference.max_flow import FlowNetwork, max_flow_reference

DEFAULT_MAX_WORK = 10**10  # arc visits: minutes of work, far above any local problem
__all__ = ["max_flow", "MaxFlowResult", "FlowNetwork", "local_mqi", "local_flow_improve",
           "has_refine_kernels", "DEFAULT_MAX_WORK"]


class MaxFlowResult(NamedTuple):
    """A maximum flow: its ``value``, ``source_side`` (the nodes reachable from the source in
    the residual network, i.e. the source side of the minimal minimum cut; sorted int64),
    ``arcs`` (arc visits) and ``stopped`` (``max_work`` was reached: the flow is not maximum
    and ``source_side`` is empty)."""
    value: float
    source_side: Tensor
    arcs: int
    stopped: bool


def max_flow(rowptr: Tensor, col: Tensor, capacity: Tensor, source: int, sink: int, *,
             tolerance: float = 0.0, max_work: int = DEFAULT_MAX_WORK) -> MaxFlowResult:
    r"""Maximum ``source``-``sink`` flow of a directed network in CSR form, by Dinic's
    algorithm (every arc gets its own reverse residual arc; self-loops are ignored).

    Args:
        rowptr (torch.Tensor): int64 ``[n + 1]``, from 0, non-decreasing, ending at ``m``.
        col (torch.Tensor): int64 ``[m]``, the head of every arc, in ``[0, n)``.
        capacity (torch.Tensor): float64 ``[m]``, finite and ``>= 0``.
        source (int): in ``[0, n)``.
        sink (int): in ``[0, n)``, not ``source``.
        tolerance (float): residual capacities at most this count as saturated (``>= 0``;
            ``0`` is exact for integer capacities up to :math:`2^{53}`). (default: ``0``)
        max_work (int): arc visits at most (``>= 1``). (default: ``10**10``)
    """
    if _ops.has_kernel("local_max_flow", "cpu"):
        value, side, work = torch.ops.noisygraph.local_max_flow(
            rowptr, col, capacity, source, sink, tolerance, max_work)
        return MaxFlowResult(float(value), side, int(work[0]), bool(work[1]))
    tolerance = check_real("tolerance", tolerance, low=0.0)
    value, side, arcs = max_flow_reference(rowptr.tolist(), col.tolist(), capacity.tolist(),
                                           int(source), int(sink), tolerance)
    return MaxFlowResult(value, torch.tensor(side, dtype=torch.long), arcs, False)


class RefineOutput(NamedTuple):
    """A compiled refinement: the set (sorted int64), its input and output conductance and
    the work ``(max-flow problems, adjacency entries read, arc visits, explored nodes,
    stopped)``."""
    nodes: Tensor
    input_conductance: float
    conductance: float
    iterations: int
    edges: int
    arcs: int
    explored: int
    stopped: bool


def has_refine_kernels() -> bool:
    """Whether the compiled MQI and FlowImprove are available."""
    return _ops.has_kernel("local_mqi", "cpu") and _ops.has_kernel("local_flow_improve", "cpu")


def _output(out: tuple) -> RefineOutput:
    nodes, phi, work = out
    w = work.tolist()
    return RefineOutput(nodes, float(phi[0]), float(phi[1]), w[0], w[1], w[2], w[3], bool(w[4]))


def local_mqi(graph: Any, nodes: Tensor, *, max_iterations: int,
              max_work: int = DEFAULT_MAX_WORK) -> RefineOutput:
    """MQI of ``nodes`` (int64 ids) in a :class:`~noisygraph.ops.local_push.LocalGraph`, in
    one compiled call."""
    max_iterations = check_int("max_iterations", max_iterations, low=1)
    max_work = check_int("max_work", max_work, low=1)
    return _output(torch.ops.noisygraph.local_mqi(
        graph.rowptr, graph.col, graph.value, graph.degree, nodes, graph.total_volume,
        max_iterations, max_work))


def local_flow_improve(graph: Any, nodes: Tensor, *, delta: float, max_iterations: int,
                       max_work: int = DEFAULT_MAX_WORK) -> RefineOutput:
    """Strongly-local FlowImprove of ``nodes`` (int64 ids) in a
    :class:`~noisygraph.ops.local_push.LocalGraph`, in one compiled call."""
    delta = check_real("delta", delta, low=0.0)
    max_iterations = check_int("max_iterations", max_iterations, low=1)
    max_work = check_int("max_work", max_work, low=1)
    return _output(torch.ops.noisygraph.local_flow_improve(
        graph.rowptr, graph.col, graph.value, graph.degree, nodes, graph.total_volume, delta,
        max_iterations, max_work))


def _register() -> None:
    lib = "noisygraph::"

    def new_size() -> Any:
        return torch.library.get_ctx().new_dynamic_size()

    @torch.library.register_fake(lib + "local_max_flow")
    def _(rowptr, col, capacity, source, sink, tolerance, max_work):
        return (capacity.new_empty(()), rowptr.new_empty(new_size()), rowptr.new_empty(2))

    def fake_refine(rowptr, degree):
        return (rowptr.new_empty(new_size()), degree.new_empty(2), rowptr.new_empty(5))

    @torch.library.register_fake(lib + "local_mqi")
    def _(rowptr, col, value, degree, nodes, total_volume, max_iterations, max_work):
        return fake_refine(rowptr, degree)

    @torch.library.register_fake(lib + "local_flow_improve")
    def _(rowptr, col, value, degree, nodes, total_volume, delta, max_iterations, max_work):
        return fake_refine(rowptr, degree)


if _ops.COMPILED:
    _register()
