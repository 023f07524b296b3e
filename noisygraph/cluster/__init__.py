"""Local clustering from seed nodes with noisy labels: strongly-local push diffusions
(weighted l2 flow diffusion, ACL PageRank), label-weighted graphs and the sweep cut."""
from noisygraph.cluster.api import (DEFAULT_MULTIPLES, ClusterResult, estimate_flip_rate,
                                    estimate_target_volume, local_cluster, local_cluster_batch)
from noisygraph.cluster.diffusion import (PushResult, SweepResult, flow_cluster_op,
                                          flow_diffusion, ppr_cluster_op, ppr_push, sweep_cut)
from noisygraph.cluster.graph import LocalGraph
from noisygraph.cluster.weights import (few_sample_labels, label_edge_weights,
                                        label_weighted_graph, target_labels, vote_labels)

__all__ = [
    "LocalGraph", "local_cluster", "local_cluster_batch", "ClusterResult",
    "estimate_flip_rate", "estimate_target_volume", "DEFAULT_MULTIPLES", "flow_diffusion", "ppr_push", "sweep_cut",
    "flow_cluster_op", "ppr_cluster_op", "PushResult", "SweepResult", "label_edge_weights",
    "label_weighted_graph", "target_labels", "vote_labels", "few_sample_labels",
]
