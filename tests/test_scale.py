"""Large-graph paths on tiny graphs: a generated graph written in OGB's exact raw layout and
read back through ogb's loader, and the chunked full-graph inference (no per-edge tensor of
the whole graph)."""
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
    data = csbm(300, num_classes=3, avg_degree=8.0, num_features=12, seed=0,
                train_per_class=5, num_val=20, num_test=20)
    model = ERASE(12, hidden_channels=16, out_channels=8, heads=2)
    full = model.inference(data.x, data.edge_index)
    seen = []
    for conv in (model.conv1, model.conv2):
        forward = conv.forward

        def recording(x, edge_index, *args, _forward=forward, **kwargs):
            seen.append(edge_index.size(1))
            return _forward(x, edge_index, *args, **kwargs)
        monkeypatch.setattr(conv, "forward", recording)
    chunked = model.inference(data.x, data.edge_index, 64)
    torch.testing.assert_close(chunked, full, rtol=1e-5, atol=1e-6)
    assert len(seen) == 2 * 5  # ceil(300 / 64) chunks per layer
    # each call sees only its chunk's in-edges (the layer adds the self-loops itself)
    assert max(seen) < data.edge_index.size(1) / 3
    assert sum(seen) == 2 * data.edge_index.size(1)
