"""Bad input to the flow refinement (MQI, FlowImprove) and its local_cluster option: every
case raises ValueError/TypeError naming the argument."""
import math

import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.cluster import local_cluster
from noisygraph.cluster.refine import flow_improve, mqi, refine
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
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
