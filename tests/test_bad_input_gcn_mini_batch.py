"""Bad options of the GCN trainer's mini-batch mode, of the baselines that pass them, and of
``UniformNeighborSampler.from_csr``: each a ValueError/TypeError naming the argument."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.baselines import ELR, CoTeaching, GCNBaseline, GCNTrainer
from noisygraph.baselines.gcn import NeighborBatches, gcn_adjacency
from noisygraph.loader import UniformNeighborSampler
from noisygraph.sparse import as_adjacency


def _adj():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    return gcn_adjacency(as_adjacency(edge_index, num_nodes=3))


ROWPTR, COL = torch.tensor([0, 1, 3, 4]), torch.tensor([1, 0, 2, 1])
CASES = [
    BadInput("batch-size-0", lambda: GCNTrainer(batch_size=0), ValueError, "batch_size"),
    BadInput("batch-size-negative", lambda: GCNTrainer(batch_size=-4), ValueError,
             "batch_size"),
    BadInput("batch-size-float", lambda: GCNTrainer(batch_size=2.5), TypeError, "batch_size"),
    BadInput("batch-size-bool", lambda: GCNTrainer(batch_size=True), TypeError, "batch_size"),
    BadInput("num-neighbors-one-hop", lambda: GCNTrainer(batch_size=4, num_neighbors=[5]),
             ValueError, "num_neighbors"),
    BadInput("num-neighbors-three-hops",
             lambda: GCNTrainer(batch_size=4, num_neighbors=[5, 5, 5]), ValueError,
             "num_neighbors"),
    BadInput("num-neighbors-zero", lambda: GCNTrainer(batch_size=4, num_neighbors=[0, 5]),
             ValueError, "num_neighbors"),
    BadInput("num-neighbors-minus-2",
             lambda: GCNTrainer(batch_size=4, num_neighbors=[5, -2]), ValueError,
             "num_neighbors"),
    BadInput("num-neighbors-str", lambda: GCNTrainer(batch_size=4, num_neighbors="55"),
             TypeError, "num_neighbors"),
    BadInput("num-neighbors-float", lambda: GCNTrainer(batch_size=4, num_neighbors=[5, 2.0]),
             TypeError, "num_neighbors"),
    BadInput("num-neighbors-without-batch-size",
             lambda: GCNTrainer(num_neighbors=[5, 5]), ValueError, "num_neighbors"),
    BadInput("mini-batch-step-loss",
             lambda: GCNTrainer(batch_size=4, step_loss=lambda e, o, y: o.sum()), ValueError,
             "step_loss"),
    BadInput("mini-batch-label-update",
             lambda: GCNTrainer(batch_size=4, label_update=lambda e, o, y: y), ValueError,
             "label_update"),
    BadInput("mini-batch-networks", lambda: GCNTrainer(batch_size=4, networks=2), ValueError,
             "networks"),
    BadInput("baseline-batch-size-0", lambda: GCNBaseline(batch_size=0), ValueError,
             "batch_size"),
    BadInput("baseline-num-neighbors-zero",
             lambda: GCNBaseline(batch_size=4, num_neighbors=[5, 0]), ValueError,
             "num_neighbors"),
    BadInput("baseline-num-neighbors-alone", lambda: GCNBaseline(num_neighbors=[5, 5]),
             ValueError, "num_neighbors"),
    BadInput("elr-mini-batch", lambda: ELR(batch_size=8), ValueError, "batch_size"),
    BadInput("coteaching-mini-batch", lambda: CoTeaching(batch_size=8), ValueError,
             "batch_size"),
    BadInput("neighbor-batches-one-hop", lambda: NeighborBatches(_adj(), [3]), ValueError,
             "num_neighbors"),
    BadInput("from-csr-rowptr-int32",
             lambda: UniformNeighborSampler.from_csr(ROWPTR.int(), COL, [2]), TypeError,
             "rowptr"),
    BadInput("from-csr-rowptr-end",
             lambda: UniformNeighborSampler.from_csr(torch.tensor([0, 1, 3, 5]), COL, [2]),
             ValueError, "rowptr"),
    BadInput("from-csr-rowptr-decreasing",
             lambda: UniformNeighborSampler.from_csr(torch.tensor([0, 3, 1, 4]), COL, [2]),
             ValueError, "rowptr"),
    BadInput("from-csr-col-out-of-range",
             lambda: UniformNeighborSampler.from_csr(ROWPTR, torch.tensor([1, 0, 3, 1]), [2]),
             ValueError, "col"),
    BadInput("from-csr-fanout-zero",
             lambda: UniformNeighborSampler.from_csr(ROWPTR, COL, [0]), ValueError,
             "num_neighbors"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def test_cli_rejects_gcn_fan_outs():
    import argparse

    from noisygraph_cli import erase as command
    from noisygraph_cli._common import UsageError
    parser = argparse.ArgumentParser()
    command.configure(parser)
    for extra, flag in ((["--num-neighbors", "5"], "--num-neighbors"),
                        (["--num-neighbors", "5", "0"], "--num-neighbors"),
                        (["--max-batches", "3"], "--max-batches")):
        args = parser.parse_args(["--method", "gcn", "--batch-size", "8", *extra])
        with pytest.raises(UsageError, match=flag):
            command.validate(args)
