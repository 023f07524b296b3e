"""The shared GCN trainer's mini-batch mode (``GCNTrainer(batch_size=, num_neighbors=)``):
with full neighbourhoods one batch of every training node is the full-batch step; sampled
training reaches the full-batch accuracy on a noisy CSBM; seeded runs repeat; memory does not
grow with the batches; the baselines and the CLI pass the options through."""
import argparse
import gc
import warnings

import pytest
import torch

from noisygraph.baselines import GCNBaseline, GCNTrainer
from noisygraph.baselines.gcn import NeighborBatches, gcn_adjacency
from noisygraph.datasets import csbm
from noisygraph.loader import UniformNeighborSampler
from noisygraph.noise import LabelNoiseModel
from noisygraph.sparse import as_adjacency
from torch_geometric.sampler import NodeSamplerInput


def _graph(num_nodes=400, seed=0, **options):
    options = dict(dict(num_classes=4, avg_degree=6, num_features=12, train_per_class=15,
                        num_val=100, num_test=200), **options)
    return csbm(num_nodes, seed=seed, verbose=False, **options)


def _no_val(data):
    return torch.zeros(data.num_nodes, dtype=torch.bool)


def _one_step(data, **options):
    trainer = GCNTrainer(epochs=1, dropout=0.0, seed=3, **options)
    trainer.fit(data, val_nodes=_no_val(data), edge_weight=getattr(data, "edge_weight", None))
    return trainer.model.state_dict()


@pytest.mark.parametrize("weighted", [False, True])
def test_one_batch_of_all_training_nodes_is_the_full_batch_step(weighted):
    data = _graph()
    if weighted:  # weights, and self-loops already in the graph (kept, not doubled)
        loops = torch.arange(0, data.num_nodes, 7)
        data.edge_index = torch.cat([data.edge_index, loops.repeat(2, 1)], dim=1)
        data.edge_weight = torch.rand(data.edge_index.size(1),
                                      generator=torch.Generator().manual_seed(1)) + 0.5
    n_train = int(data.train_mask.sum())
    full = _one_step(data)
    batched = _one_step(data, batch_size=n_train, num_neighbors=[-1, -1])
    for name, value in full.items():
        assert torch.allclose(batched[name], value, atol=1e-6, rtol=0), name
    # the check is not vacuous: one sampled neighbour per node moves the step
    sampled = _one_step(data, batch_size=n_train, num_neighbors=[1, 1])
    assert max(float((sampled[k] - full[k]).abs().max()) for k in full) > 1e-4


def test_full_neighbourhood_batch_logits_are_the_full_graph_logits():
    data = _graph(seed=2)
    adj = gcn_adjacency(as_adjacency(data.edge_index, num_nodes=data.num_nodes))
    from noisygraph.baselines.gcn import GCN
    torch.manual_seed(0)
    model = GCN(data.num_features, 16, 4, 0.0).eval()
    seeds = torch.tensor([5, 0, 17, 399, 42])
    logits = NeighborBatches(adj, [-1, -1]).logits(model, data.x, seeds)
    full = model.output(adj, None, model.hidden(adj @ data.x))
    assert torch.allclose(logits, full[seeds], atol=1e-5)
    # sampled: an unbiased estimate, not the same numbers
    sampled = NeighborBatches(adj, [2, 2]).logits(model, data.x, seeds)
    assert not torch.allclose(sampled, full[seeds], atol=1e-3)


def test_mini_batch_reaches_the_full_batch_accuracy_on_a_noisy_csbm():
    # protocol: CSBM seed 0 (600 nodes, 4 classes, 25 training nodes per class), uniform noise
    # 0.3 on the training labels (seed 0; realised: 25 % of them wrong), clean validation
    # labels for selection, accuracy on the 200 clean test labels; one run each, trainer
    # seed 0 (seeds 0-2 gave 90.5 / 91.0 / 89.5 % full batch, 91.0 / 92.0 / 89.0 % batched)
    data = _graph(600, feature_signal=0.6, homophily=0.7, train_per_class=25)
    noise = LabelNoiseModel("uniform", 0.3, 4, seed=0).sample(data.y, data.train_mask)
    data.y_noisy = noise.y_noisy

    def test_accuracy(**options):
        result = GCNTrainer(epochs=100, patience=30, seed=0, **options).fit(
            data, val_labels=data.y)
        return float((result.predict()[data.test_mask] == data.y[data.test_mask]).float().mean())

    full = test_accuracy()
    batched = test_accuracy(batch_size=25, num_neighbors=[5, 5])
    assert full > 0.6  # the task is learnable at this noise
    assert abs(batched - full) <= 0.05, (full, batched)


def test_seeded_mini_batch_runs_repeat():
    data = _graph()
    data.y_noisy = data.y

    def fit(seed):
        return GCNTrainer(epochs=5, seed=seed, batch_size=8).fit(data)

    first, again, other = fit(1), fit(1), fit(2)
    assert torch.equal(first.probs, again.probs) and first.epoch == again.epoch
    assert not torch.equal(first.probs, other.probs)
    state = torch.random.get_rng_state()
    fit(1)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is untouched


def _live_tensor_bytes() -> int:
    gc.collect()
    storages = {}
    with warnings.catch_warnings():  # isinstance probes deprecated module attributes
        warnings.simplefilter("ignore")
        objects = [obj for obj in gc.get_objects() if isinstance(obj, torch.Tensor)]
    for obj in objects:
        try:
            if obj.layout == torch.strided:
                storage = obj.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
        except Exception:  # noqa: BLE001 (objects that die while gc lists them)
            continue
    return sum(storages.values())


def test_memory_does_not_grow_with_the_number_of_batches():
    data = _graph()
    data.y_noisy = data.y
    live = {}
    GCNTrainer(epochs=8, patience=100, seed=0, batch_size=2).fit(
        data, callback=lambda epoch, out, loss: live.setdefault(epoch, _live_tensor_bytes()))
    # 30 batches per epoch: after epoch 2 every buffer exists (Adam's moments, the selected
    # state); 180 more batches must not leave anything behind
    assert live[8] <= live[2], live


def test_baseline_and_cli_pass_the_mini_batch_options():
    from noisygraph_cli import erase as command

    data = _graph()
    data.y_noisy = data.y
    baseline = GCNBaseline(epochs=3, batch_size=16, num_neighbors=[3, -1], seed=0)
    trainer = baseline.gcn_trainer()
    assert (trainer.batch_size, trainer.num_neighbors) == (16, [3, -1])
    assert GCNBaseline(batch_size=16).gcn_trainer().num_neighbors == [5, 5]
    assert GCNBaseline().gcn_trainer().batch_size is None
    baseline.fit(data)
    assert baseline.predict().shape == (data.num_nodes,)

    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["--quiet", "--method", "gcn", "--batch-size", "32",
                              "--num-neighbors", "4", "-1"])
    command.validate(args)
    gcn = command.build_trainer(args, data).gcn_trainer()
    assert (gcn.batch_size, gcn.num_neighbors) == (32, [4, -1])
    args = parser.parse_args(["--quiet", "--method", "gcn"])
    assert command.build_trainer(args, data).gcn_trainer().batch_size is None


def test_sampler_from_csr_matches_the_edge_index_sampler():
    data = _graph()
    adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)
    rowptr, col = adjacency.rowptr, adjacency.col
    target = torch.repeat_interleave(torch.arange(data.num_nodes), rowptr.diff())
    seeds = NodeSamplerInput(input_id=None, node=torch.tensor([3, 9, 100, 7]))
    outs = [sampler.sample_from_nodes(seeds) for sampler in (
        UniformNeighborSampler(torch.stack([col, target]), data.num_nodes, [3, 2],
                               torch.Generator().manual_seed(0)),
        UniformNeighborSampler.from_csr(rowptr, col, [3, 2], torch.Generator().manual_seed(0)))]
    for name in ("node", "row", "col", "edge"):
        assert torch.equal(getattr(outs[0], name), getattr(outs[1], name)), name
    assert outs[0].num_sampled_edges == outs[1].num_sampled_edges


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mini_batch_on_cuda_takes_the_full_batch_step():
    data = _graph()
    n_train = int(data.train_mask.sum())
    full = _one_step(data, device="cuda")
    batched = _one_step(data, device="cuda", batch_size=n_train, num_neighbors=[-1, -1])
    for name, value in full.items():
        assert batched[name].is_cuda
        assert torch.allclose(batched[name], value, atol=1e-5, rtol=0), name
