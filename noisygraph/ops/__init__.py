"""noisygraph's ops, one module per family: typed wrappers that validate their input once and
run the compiled kernel when there is one for the tensors' device, else the pure-PyTorch
reference of :mod:`noisygraph.ops._reference` (same result).

- :mod:`noisygraph.ops.diffusion`: :func:`spmm` and the fused :math:`K`-step :func:`diffuse`.
- :mod:`noisygraph.ops.coding_rate`: :func:`coding_rate` (the MCR² log-determinant terms).
- :mod:`noisygraph.ops.local_push`: strongly-local push diffusions (:func:`flow_diffusion`,
  :func:`ppr_push`), :func:`sweep_cut` and the fused :func:`flow_cluster` / :func:`ppr_cluster`
  over a :class:`LocalGraph`.
- :mod:`noisygraph.ops.max_flow`: :func:`max_flow` (Dinic) and the compiled MQI / FlowImprove
  of :mod:`noisygraph.cluster.refine`.

Importing this package (which ``import noisygraph`` does) registers every op's autograd formula
and fake kernel with ``torch.library``.
"""
from noisygraph.ops.coding_rate import CodingRates, coding_rate
from noisygraph.ops.diffusion import diffuse, spmm
from noisygraph.ops.local_push import (ClusterBatch, LocalGraph, PushResult, SweepResult,
                                       flow_cluster, flow_diffusion, ppr_cluster, ppr_push,
                                       sweep_cut)
from noisygraph.ops.max_flow import MaxFlowResult, max_flow

__all__ = [
    "spmm", "diffuse", "coding_rate", "CodingRates", "LocalGraph", "flow_diffusion", "ppr_push",
    "sweep_cut", "flow_cluster", "ppr_cluster", "PushResult", "SweepResult", "ClusterBatch",
    "max_flow", "MaxFlowResult",
]
