"""Bad input to the products-size paths: the trimmed mini-batch forward of the ERASE encoder
(per-hop counts that do not fit the batch) and the chunked inference; every case raises
ValueError/TypeError naming the argument."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.datasets import csbm
from noisygraph.erase import ERASE
from noisygraph.loader import neighbor_loader

DATA = csbm(200, num_classes=3, avg_degree=8.0, num_features=6, seed=0, train_per_class=5,
            num_val=20, num_test=20)
BATCH = next(iter(neighbor_loader(DATA, [3, 2], 16, seed=0)))
ONE_HOP = next(iter(neighbor_loader(DATA, [3], 16, seed=0)))
MODEL = ERASE(6, hidden_channels=8, out_channels=4, heads=2)
NODES, EDGES = list(BATCH.num_sampled_nodes), list(BATCH.num_sampled_edges)


def trimmed(nodes, edges, batch=BATCH):
    return lambda: MODEL(batch.x, batch.edge_index, num_sampled_nodes_per_hop=nodes,
                         num_sampled_edges_per_hop=edges)


CASES = [
    BadInput("nodes-do-not-sum-to-the-batch", trimmed(NODES[:-1], EDGES), ValueError,
             "num_sampled_nodes_per_hop must sum"),
    BadInput("edges-do-not-sum-to-the-batch", trimmed(NODES, [EDGES[0], EDGES[1] + 1]),
             ValueError, "num_sampled_edges_per_hop must sum"),
    BadInput("one-edge-count-for-two-hops", trimmed(NODES, [sum(EDGES)]), ValueError,
             "num_sampled_edges_per_hop.*one count per hop"),
    BadInput("negative-count", trimmed([NODES[0] + 1, -1] + NODES[2:], EDGES), ValueError,
             "num_sampled_nodes_per_hop entries"),
    BadInput("counts-as-a-tensor", trimmed(torch.tensor(NODES), EDGES), TypeError,
             "num_sampled_nodes_per_hop"),
    BadInput("float-count", trimmed(NODES, [float(EDGES[0]), EDGES[1]]), TypeError,
             "num_sampled_edges_per_hop"),
    BadInput("empty-counts", trimmed(NODES, []), ValueError, "num_sampled_edges_per_hop"),
    BadInput("one-hop-for-two-layers",
             trimmed(list(ONE_HOP.num_sampled_nodes), list(ONE_HOP.num_sampled_edges), ONE_HOP),
             ValueError, "at least 2 sampled hops"),
    BadInput("only-edge-counts", lambda: MODEL(BATCH.x, BATCH.edge_index,
                                               num_sampled_edges_per_hop=EDGES),
             TypeError, "num_sampled_nodes_per_hop"),
    BadInput("inference-chunk-size-0", lambda: MODEL.inference(DATA.x, DATA.edge_index, 0),
             ValueError, "chunk_size"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
