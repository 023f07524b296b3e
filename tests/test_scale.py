"""Large-graph paths on tiny graphs: a generated graph written in OGB's exact raw layout and
read back through ogb's loader, and the chunked full-graph inference (no per-edge tensor of
the whole graph)."""
import numpy as np
import pytest
import torch

from noisygraph.datasets import csbm, load_dataset, write_ogb_graph
from noisygraph.erase import ERASE


def _edge_set(edge_index):
    return set(map(tuple, edge_index.t().tolist()))


@pytest.mark.parametrize("name", ["ogbn-products", "ogbn-arxiv"])
def test_generated_graph_round_trips_through_ogb_raw_layout(tmp_path, name):
    pytest.importorskip("ogb")
    data = csbm(80, num_classes=5, avg_degree=6.0, num_features=7, seed=1, train_per_class=4,
                num_val=20, num_test=30)
    folder = write_ogb_graph(data, tmp_path / "ogb", name)
    split = {"ogbn-products": "sales_ranking", "ogbn-arxiv": "time"}[name]
    for part in ("train", "valid", "test"):
        assert (folder / "split" / split / f"{part}.csv.gz").is_file()
    loaded = load_dataset(name, root=tmp_path)
    assert loaded.num_nodes == data.num_nodes
    assert torch.equal(loaded.x, data.x)  # 9 significant digits: float32 reads back exactly
    assert torch.equal(loaded.y, data.y)
    assert _edge_set(loaded.edge_index) == _edge_set(data.edge_index)
    assert loaded.edge_index.size(1) == data.edge_index.size(1)
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(loaded[mask], data[mask])
    assert loaded.num_classes == {"ogbn-products": 47, "ogbn-arxiv": 40}[name]


def test_write_ogb_graph_rejects_what_ogb_would_misread(tmp_path):
    data = csbm(40, num_classes=3, num_features=4, seed=0, train_per_class=2, num_val=5,
                num_test=5)
    directed = data.clone()
    directed.edge_index = data.edge_index[:, data.edge_index[0] < data.edge_index[1]]
    with pytest.raises(ValueError, match="undirected"):
        write_ogb_graph(directed, tmp_path, "ogbn-products")
    many = data.clone()
    many.y = many.y + 46
    with pytest.raises(ValueError, match="47"):
        write_ogb_graph(many, tmp_path, "ogbn-products")
    overlapping = data.clone()
    overlapping.val_mask = data.train_mask.clone()
    with pytest.raises(ValueError, match="disjoint"):
        write_ogb_graph(overlapping, tmp_path, "ogbn-products")
    with pytest.raises(TypeError, match="data"):
        write_ogb_graph(data.x, tmp_path, "ogbn-products")
    with pytest.raises(ValueError, match="name"):
        write_ogb_graph(data, tmp_path, "ogbn-papers100M")


def test_chunked_inference_never_builds_a_per_edge_tensor_of_the_whole_graph(monkeypatch):
    import noisygraph.nn.erase as erase_module
    data = csbm(300, num_classes=3, avg_degree=8.0, num_features=12, seed=0,
                train_per_class=5, num_val=20, num_test=20)
    loops = torch.arange(0, 300, 7).repeat(2, 1)  # existing self-loops: the layer replaces them
    edge_index = torch.cat([data.edge_index, loops], 1)
    # conv1: 8 channels per head <= 12 inputs (sums the projections); conv2: 32 > 16 inputs
    # (sums the inputs, projects after): both ways of _chunked_gat
    model = ERASE(12, hidden_channels=16, out_channels=32, heads=2)
    full = model.inference(data.x, edge_index)
    seen = []
    chunk_in_edges = erase_module._chunk_in_edges

    def recording(adj, start, end):
        sources, targets = chunk_in_edges(adj, start, end)
        seen.append(sources.numel())
        return sources, targets
    monkeypatch.setattr(erase_module, "_chunk_in_edges", recording)
    chunked = model.inference(data.x, edge_index, 64)
    torch.testing.assert_close(chunked, full, rtol=1e-5, atol=1e-6)
    assert len(seen) == 2 * 5  # ceil(300 / 64) chunks per layer
    # each chunk sees only its targets' in-edges
    assert max(seen) < edge_index.size(1) / 3
    assert sum(seen) == 2 * edge_index.size(1)


def test_chunked_inference_projects_each_node_once(monkeypatch):
    import noisygraph.nn.erase as erase_module
    data = csbm(200, num_classes=3, avg_degree=8.0, num_features=12, seed=1,
                train_per_class=5, num_val=20, num_test=20)
    model = ERASE(12, hidden_channels=16, out_channels=32, heads=2)
    rows = []  # rows of the input features projected by the first layer
    model.conv1.lin.register_forward_hook(lambda module, args, out: rows.append(args[0].size(0)))
    rowwise = getattr(erase_module, "_rowwise", None)

    def recording(layer, x, chunk_size):  # one call per head, each over all rows
        if x.size(1) == 12:
            rows.append(x.size(0) / model.conv1.heads)
        return rowwise(layer, x, chunk_size)
    monkeypatch.setattr(erase_module, "_rowwise", recording, raising=False)
    model.inference(data.x, data.edge_index, 25)
    # 8 chunks of 25 targets, each reading most of the graph: projecting every chunk's
    # neighbourhood (the old way) projects several times N rows
    assert sum(rows) == data.num_nodes, rows


def _batch(num_neighbors=(4, 3), seed=0):
    from noisygraph.loader import neighbor_loader
    data = csbm(400, num_classes=3, avg_degree=10.0, num_features=12, seed=seed,
                train_per_class=5, num_val=20, num_test=20)
    loader = neighbor_loader(data, list(num_neighbors), 32, seed=seed)
    return next(iter(loader))


@pytest.mark.parametrize("training", [False, True])
def test_trimmed_forward_equals_the_seed_rows_of_the_full_forward(training):
    batch = _batch()
    model = ERASE(12, hidden_channels=16, out_channels=8, heads=2).train(training)
    hops = dict(num_sampled_nodes_per_hop=batch.num_sampled_nodes,
                num_sampled_edges_per_hop=batch.num_sampled_edges)
    torch.manual_seed(0)
    full = model(batch.x, batch.edge_index)[:batch.batch_size]
    full_grad = torch.autograd.grad(full.square().sum(), model.conv1.lin.weight)[0]
    torch.manual_seed(0)  # the same input dropout
    trimmed = model(batch.x, batch.edge_index, **hops)
    trimmed_grad = torch.autograd.grad(trimmed.square().sum(), model.conv1.lin.weight)[0]
    assert trimmed.shape == (batch.batch_size, 8)
    torch.testing.assert_close(trimmed, full, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(trimmed_grad, full_grad, rtol=1e-4, atol=1e-7)
    assert full.abs().sum() > 0


def test_trimmed_forward_runs_the_second_layer_on_the_seeds_only():
    batch = _batch()
    model = ERASE(12, hidden_channels=16, out_channels=8, heads=2)
    targets = []
    model.conv2.register_forward_hook(lambda module, args, out: targets.append(out.size(0)))
    model(batch.x, batch.edge_index, num_sampled_nodes_per_hop=batch.num_sampled_nodes,
          num_sampled_edges_per_hop=batch.num_sampled_edges)
    assert targets == [batch.batch_size] and batch.num_nodes > 3 * batch.batch_size


def test_sampler_state_does_not_leak_from_one_batch_into_the_next():
    from torch_geometric.sampler import NodeSamplerInput

    from noisygraph.loader import UniformNeighborSampler
    data = csbm(300, num_classes=3, avg_degree=8.0, num_features=0, seed=2,
                train_per_class=5, num_val=20, num_test=20)
    first, second = torch.arange(0, 40), torch.arange(20, 60)  # overlapping seeds

    def sample(sampler, seeds):
        return sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds))
    reused = UniformNeighborSampler(data.edge_index, 300, [3, 3],
                                    torch.Generator().manual_seed(0))
    sample(reused, first)
    again = sample(reused, second)
    generator = torch.Generator().manual_seed(0)
    sample(UniformNeighborSampler(data.edge_index, 300, [3, 3], generator), first)
    fresh = sample(UniformNeighborSampler(data.edge_index, 300, [3, 3], generator), second)
    for field in ("node", "row", "col", "edge"):
        assert torch.equal(getattr(again, field), getattr(fresh, field)), field
    assert again.num_sampled_nodes == fresh.num_sampled_nodes


def test_mini_batch_trainer_trims_the_layers_and_learns_the_same():
    from noisygraph.erase import ERASETrainer
    from noisygraph.random import seed_everything
    data = csbm(300, num_classes=3, avg_degree=8.0, num_features=12, seed=3,
                train_per_class=10, num_val=30, num_test=60)
    data.y_noisy = data.y.clone()
    histories, calls = [], []
    for trim in (True, False):
        seed_everything(0)
        model = ERASE(12, hidden_channels=16, out_channels=8, heads=2)
        trimmed = model._trimmed_forward
        model._trimmed_forward = lambda *args: calls.append(trim) or trimmed(*args)
        trainer = ERASETrainer(model, epochs=2, patience=2, batch_size=64, seed=0,
                               verbose=False, inference_chunk_size=100)
        if not trim:
            trainer._hop_counts = lambda batch: {}
        histories.append(trainer.fit(data))
    assert calls and set(calls) == {True}  # the untrimmed run never trims
    for key in ("loss", "val_acc", "test_acc"):
        np.testing.assert_allclose(histories[0].metrics[key], histories[1].metrics[key],
                                   rtol=1e-4, atol=1e-6)
