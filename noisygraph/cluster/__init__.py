"""Local clustering from seed nodes with noisy labels: strongly-local push diffusions
(weighted l2 flow diffusion, ACL PageRank), label-weighted graphs and the sweep cut; flow-based
cut improvement (MQI, FlowImprove) and the network community profile.

The push ops themselves live in :mod:`noisygraph.ops.local_push`; :class:`LocalGraph`, their
input, is re-exported here."""
from noisygraph.cluster.api import (DEFAULT_MULTIPLES, ClusterResult, estimate_flip_rate,
                                    estimate_target_volume, local_cluster, local_cluster_batch)
from noisygraph.cluster.ncp import NCPResult, ncp
from noisygraph.cluster.refine import RefineResult, conductance, flow_improve, mqi, refine
from noisygraph.cluster.weights import (few_sample_labels, label_edge_weights,
                                        label_weighted_graph, target_labels, vote_labels)
from noisygraph.ops.local_push import LocalGraph

__all__ = [
    "LocalGraph", "local_cluster", "local_cluster_batch", "ClusterResult",
    "estimate_flip_rate", "estimate_target_volume", "DEFAULT_MULTIPLES", "label_edge_weights",
    "label_weighted_graph", "target_labels", "vote_labels", "few_sample_labels",
    "mqi", "flow_improve", "refine", "RefineResult", "conductance", "ncp", "NCPResult",
]
