"""Bad input to the flow refinement (MQI, FlowImprove) and its local_cluster option: every
case raises ValueError/TypeError naming the argument."""
import math

import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.cluster import local_cluster
from noisygraph.cluster.refine import flow_improve, mqi, refine
from noisygraph import _ops
from test_cluster_refine import _cluster_on_a_ring

BASE = _cluster_on_a_ring(30)
CASES = [
    BadInput("refine-method", lambda: refine(BASE, [0, 1], method="cut"), ValueError, "method"),
    BadInput("refine-empty", lambda: mqi(BASE, []), ValueError, "nodes"),
    BadInput("refine-out-of-range", lambda: mqi(BASE, [0, 999]), ValueError, "nodes"),
    BadInput("refine-float-ids", lambda: mqi(BASE, torch.tensor([0.5])), TypeError, "nodes"),
    BadInput("refine-mask-shape", lambda: mqi(BASE, torch.ones(3, dtype=torch.bool)),
             ValueError, "nodes"),
    BadInput("refine-too-large", lambda: mqi(BASE, list(range(45))), ValueError, "nodes"),
    BadInput("refine-delta-negative", lambda: flow_improve(BASE, [0, 1], delta=-1.0),
             ValueError, "delta"),
    BadInput("refine-delta-nan", lambda: flow_improve(BASE, [0, 1], delta=math.nan),
             ValueError, "delta"),
    BadInput("refine-iterations", lambda: mqi(BASE, [0, 1], max_iterations=0), ValueError,
             "max_iterations"),
    BadInput("refine-local-cluster", lambda: local_cluster(BASE, seed_node=0, refine="x"),
             ValueError, "refine"),
    BadInput("refine-local-cluster-delta", lambda: local_cluster(
        BASE, seed_node=0, refine="flowimprove", refine_delta=-0.1), ValueError, "delta"),
    BadInput("refine-max-work", lambda: mqi(BASE, [0, 1], max_work=0), ValueError, "max_work"),
    BadInput("refine-max-work-type", lambda: flow_improve(BASE, [0, 1], max_work=1.5),
             TypeError, "max_work"),
]

# the raw ops check their input themselves
L = torch.long
RP, COL, CAP = torch.tensor([0, 2, 3, 3]), torch.tensor([1, 2, 2]), torch.ones(3, dtype=torch.float64)


def raw_flow(rowptr=RP, col=COL, cap=CAP, source=0, sink=2, tolerance=0.0, max_work=100):
    return torch.ops.noisygraph.local_max_flow(rowptr, col, cap, source, sink, tolerance,
                                               max_work)


def raw_refine(op="local_mqi", nodes=torch.tensor([0, 1]), value=None, total=None, **kw):
    g = BASE
    args = [g.rowptr, g.col, value, g.degree, nodes,
            g.total_volume if total is None else total]
    if op == "local_flow_improve":
        args.append(kw.get("delta", 0.3))
    args += [kw.get("max_iterations", 50), kw.get("max_work", 1000)]
    return getattr(torch.ops.noisygraph, op)(*args)


NEG = BASE.weights().clone()
NEG[BASE.rowptr[0]] = -1.0
if _ops.has_kernel("local_max_flow", "cpu"):
    CASES += [
        BadInput("max-flow-negative-capacity", lambda: raw_flow(
            cap=torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)), ValueError, "capacity"),
        BadInput("max-flow-nan-capacity", lambda: raw_flow(
            cap=torch.tensor([1.0, math.nan, 1.0], dtype=torch.float64)), ValueError, "capacity"),
        BadInput("max-flow-inf-capacity", lambda: raw_flow(
            cap=torch.tensor([1.0, math.inf, 1.0], dtype=torch.float64)), ValueError, "capacity"),
        BadInput("max-flow-capacity-dtype", lambda: raw_flow(cap=torch.ones(3)), TypeError,
                 "capacity"),
        BadInput("max-flow-capacity-length", lambda: raw_flow(
            cap=torch.ones(2, dtype=torch.float64)), ValueError, "capacity"),
        BadInput("max-flow-col-range", lambda: raw_flow(col=torch.tensor([1, 2, 3])),
                 ValueError, "col"),
        BadInput("max-flow-col-negative", lambda: raw_flow(col=torch.tensor([1, -1, 2])),
                 ValueError, "col"),
        BadInput("max-flow-rowptr-dtype", lambda: raw_flow(rowptr=RP.to(torch.int32)),
                 TypeError, "rowptr"),
        BadInput("max-flow-rowptr-order", lambda: raw_flow(rowptr=torch.tensor([0, 3, 1, 3])),
                 ValueError, "rowptr"),
        BadInput("max-flow-rowptr-end", lambda: raw_flow(rowptr=torch.tensor([0, 2, 3, 4])),
                 ValueError, "rowptr"),
        # a middle pointer past len(col) (the last one correct): row 0 would read past col
        BadInput("max-flow-rowptr-past-col", lambda: raw_flow(rowptr=torch.tensor([0, 1000, 3, 3])),
                 ValueError, "rowptr"),
        BadInput("max-flow-source", lambda: raw_flow(source=3), ValueError, "source"),
        BadInput("max-flow-sink", lambda: raw_flow(sink=-1), ValueError, "sink"),
        BadInput("max-flow-same", lambda: raw_flow(sink=0), ValueError, "sink"),
        BadInput("max-flow-tolerance", lambda: raw_flow(tolerance=-1e-3), ValueError,
                 "tolerance"),
        BadInput("max-flow-tolerance-nan", lambda: raw_flow(tolerance=math.nan), ValueError,
                 "tolerance"),
        BadInput("max-flow-max-work", lambda: raw_flow(max_work=0), ValueError, "max_work"),
        BadInput("max-flow-cuda-or-sparse", lambda: raw_flow(col=COL.to_sparse()), TypeError,
                 "col"),
        BadInput("raw-mqi-nodes-range", lambda: raw_refine(nodes=torch.tensor([0, 10**6])),
                 ValueError, "nodes"),
        BadInput("raw-mqi-nodes-empty", lambda: raw_refine(nodes=torch.zeros(0, dtype=L)),
                 ValueError, "nodes"),
        BadInput("raw-mqi-nodes-too-large", lambda: raw_refine(nodes=torch.arange(45)),
                 ValueError, "nodes"),
        BadInput("raw-mqi-value", lambda: raw_refine(value=NEG), ValueError, "value"),
        BadInput("raw-mqi-total-volume", lambda: raw_refine(total=math.nan), ValueError,
                 "total_volume"),
        BadInput("raw-mqi-iterations", lambda: raw_refine(max_iterations=0), ValueError,
                 "max_iterations"),
        BadInput("raw-fi-delta", lambda: raw_refine("local_flow_improve", delta=-1.0),
                 ValueError, "delta"),
        BadInput("raw-fi-max-work", lambda: raw_refine("local_flow_improve", max_work=0),
                 ValueError, "max_work"),
    ]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
