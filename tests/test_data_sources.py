"""Where the data comes from: Cora shipped in the package, Coauthor / Amazon through PyG's
``.npz`` (offline copy or download) or the wfd adjacency lists with the same node order,
one-line errors for failed downloads, ``transform=`` / ``pre_transform=`` on every loader."""
import gzip
import hashlib
import pathlib
import shutil

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from noisygraph.datasets import (DatasetNotFoundError, DataFormatError, available_datasets, cache_dir, csbm,
                                 known_datasets, load_adjacency_list, load_dataset, load_gnn_benchmark,
                                 load_planetoid)
from noisygraph.datasets import _paths
from noisygraph.datasets.gnn_benchmark import GNN_BENCHMARK
from noisygraph.datasets.planetoid import EMBEDDED_DIR, EMBEDDED_SHA256


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Own cache per test, the network untried, and PyG's downloads made to fail (no test
    touches the network)."""
    from torch_geometric.datasets import Amazon, Coauthor, Planetoid

    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path_factory.mktemp("cache")))
    attempts = []

    def offline(self):
        attempts.append(type(self).__name__)
        raise OSError("network is unreachable")

    for cls in (Amazon, Coauthor, Planetoid):
        monkeypatch.setattr(cls, "download", offline)
    _paths.reset_network_failure()
    yield attempts
    _paths.reset_network_failure()


# --- Cora shipped with the package ---------------------------------------------------------------

def test_embedded_cora_files_are_the_release(data_root):
    for file, digest in EMBEDDED_SHA256["Cora"].items():
        packed = gzip.decompress((EMBEDDED_DIR / "cora" / f"{file}.gz").read_bytes())
        assert hashlib.sha256(packed).hexdigest() == digest
        assert packed == (data_root / "planetoid" / file).read_bytes()
    licence = (EMBEDDED_DIR / "cora" / "LICENSE").read_text()
    assert "MIT" in licence and "kimiyoung/planetoid" in licence


def test_cora_loads_without_a_data_root_or_network(tmp_path, data_root, private_cache):
    shipped = load_dataset("Cora", root=tmp_path)  # an empty root: nothing there
    assert private_cache == []  # no download was tried
    reference = load_planetoid("Cora", root=data_root)
    for key in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(shipped[key], reference[key]), key
    assert (cache_dir() / "planetoid" / "Cora@embedded").is_dir()
    assert not any(tmp_path.iterdir())  # nothing written into the root


def test_cora_loads_on_a_fresh_machine_with_no_data_root_at_all(tmp_path, data_root,
                                                                private_cache, monkeypatch):
    """No $NOISYGRAPH_DATA and a fresh home: the default root ~/.cache/noisygraph does not
    exist yet, and Cora still comes from the package (what `make demo` needs)."""
    monkeypatch.delenv("NOISYGRAPH_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert not (tmp_path / "home").exists()
    shipped = load_dataset("Cora")
    assert private_cache == []
    assert torch.equal(shipped.edge_index, load_planetoid("Cora", root=data_root).edge_index)


def test_embedded_copy_in_the_cache_is_rechecked(tmp_path):
    load_planetoid("Cora", root=tmp_path)
    raw = cache_dir() / "planetoid" / "Cora@embedded" / "Cora" / "raw" / "ind.cora.y"
    raw.write_bytes(b"tampered")
    shutil.rmtree(raw.parent.parent / "processed")
    data = load_planetoid("Cora", root=tmp_path)  # rewritten from the package, not read as is
    assert data.num_nodes == 2708 and hashlib.sha256(raw.read_bytes()).hexdigest() == EMBEDDED_SHA256["Cora"]["ind.cora.y"]


def test_a_failed_download_is_one_line_without_a_cause(tmp_path, private_cache):
    with pytest.raises(DatasetNotFoundError) as error:
        load_planetoid("CiteSeer", root=tmp_path)
    message = str(error.value)
    assert "\n" not in message and error.value.__cause__ is None and error.value.__suppress_context__
    assert "ind.citeseer.graph" in message and str(tmp_path) in message and "NOISYGRAPH_DATA" in message
    assert private_cache == ["Planetoid"]


def test_cli_reports_a_failed_download_in_one_line(tmp_path, capsys):
    from noisygraph_cli import main

    assert main(["erase", "--dataset", "CiteSeer", "--root", str(tmp_path), "--runs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("noisygraph erase: error: CiteSeer: missing")
    assert "Traceback" not in err and "NOISYGRAPH_DATA" in err


# --- Coauthor / Amazon ---------------------------------------------------------------------------

def _write_pyg_npz(path: pathlib.Path, edge_index: torch.Tensor, y: torch.Tensor, num_features: int = 5,
                   seed: int = 0) -> np.ndarray:
    """An ``.npz`` in the format of PyG's Coauthor / Amazon raw files: one direction of each
    edge plus a self-loop (PyG's processing must drop it and add the reverse), sparse
    attributes, 0-based labels. Returns the dense attributes written."""
    n = int(y.numel())
    row, col = edge_index.numpy()
    upper = row < col
    row, col = np.concatenate([row[upper], [0]]), np.concatenate([col[upper], [0]])
    adj = sp.csr_matrix((np.ones(row.size, dtype=np.float32), (row, col)), shape=(n, n))
    rng = np.random.default_rng(seed)
    attr = sp.random(n, num_features, density=0.3, format="csr", random_state=seed, dtype=np.float32)
    attr.data = rng.uniform(0.5, 3.0, attr.data.size).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, adj_data=adj.data, adj_indices=adj.indices, adj_indptr=adj.indptr, adj_shape=adj.shape,
             attr_data=attr.data, attr_indices=attr.indices, attr_indptr=attr.indptr, attr_shape=attr.shape,
             labels=y.numpy())
    return attr.toarray()


@pytest.mark.parametrize("name", ["coauthor_cs", "amazon_photo"])
def test_pyg_npz_path_gives_the_wfd_graph_node_for_node(name, data_root, tmp_path):
    """PyG's own Coauthor / Amazon class over an npz written from the wfd files (same node
    order) yields the wfd loader's graph exactly: the two loader paths agree."""
    wfd = load_dataset(name, root=data_root)
    assert wfd.source == "wfd" and wfd.x is None
    attributes = _write_pyg_npz(tmp_path / "npz" / GNN_BENCHMARK[name].npz, wfd.edge_index, wfd.y)
    via_pyg = load_dataset(name, root=tmp_path)
    assert via_pyg.source == "npz"
    assert torch.equal(via_pyg.edge_index, wfd.edge_index) and torch.equal(via_pyg.y, wfd.y)
    assert via_pyg.num_classes == wfd.num_classes == GNN_BENCHMARK[name].classes
    assert torch.equal(via_pyg.x, torch.from_numpy((attributes > 0).astype(np.float32)))
    assert name in available_datasets(tmp_path)
    # A graph in another node order is told apart (the comparison above is not vacuous).
    perm = torch.randperm(wfd.num_nodes, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(wfd.y[perm], wfd.y)


def test_coauthor_without_files_is_missing_not_unknown(tmp_path, private_cache):
    for name in ("coauthor_cs", "Coauthor-CS", "coauthor_physics", "amazon_computers"):
        _paths.reset_network_failure()
        with pytest.raises(DatasetNotFoundError) as error:
            load_dataset(name, root=tmp_path)
        message = str(error.value)
        graph = GNN_BENCHMARK[name.lower().replace("-", "_")]
        assert "\n" not in message and "unknown" not in message
        assert str(tmp_path / "npz" / graph.npz) in message and "NOISYGRAPH_DATA" in message
        assert "download failed" in message and "Pitfalls of Graph Neural Network Evaluation" in message
        if graph.wfd:
            assert str(tmp_path / "wfd" / graph.wfd / "adj.txt") in message and "s-h-yang/WFD" in message
    assert private_cache == ["Coauthor", "Coauthor", "Coauthor", "Amazon"]


def test_an_npz_that_is_not_the_release_is_named(tmp_path):
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    _write_pyg_npz(tmp_path / "npz" / "ms_academic_cs.npz", edge_index, torch.tensor([0, 1, 0]))
    with pytest.raises(DataFormatError, match=r"ms_academic_cs\.npz.*expected \(nodes, directed edges, classes\)"):
        load_gnn_benchmark("coauthor_cs", root=tmp_path)
    (tmp_path / "npz" / "ms_academic_cs.npz").write_bytes(b"not an npz")
    with pytest.raises(DataFormatError, match=r"ms_academic_cs\.npz: PyG's Coauthor could not read it"):
        load_gnn_benchmark("coauthor_cs", root=tmp_path)


def test_known_datasets_names_every_downloadable_and_documented_set():
    names = known_datasets()
    for name in ("Cora", "CiteSeer", "PubMed", "ogbn-arxiv", "coauthor_cs", "coauthor_physics", "amazon_photo",
                 "amazon_computers", "dblp", "csbm"):
        assert name in names


# --- transform= / pre_transform= -----------------------------------------------------------------

def test_every_loader_applies_pre_transform_then_transform(data_root, tmp_path):
    calls = []

    def pre(data):
        calls.append("pre")
        data.marked = torch.tensor([1])
        return data

    def post(data):
        calls.append("post" if "marked" in data else "post-without-pre")
        return data

    load_dataset("Cora", root=data_root, transform=post, pre_transform=pre)
    load_dataset("coauthor_cs", root=data_root, transform=post, pre_transform=pre)
    load_dataset("dblp", root=data_root, transform=post, pre_transform=pre)
    load_adjacency_list("amazon_photo", root=data_root, transform=post, pre_transform=pre)
    load_dataset("csbm", num_nodes=200, num_val=0, num_test=0, transform=post, pre_transform=pre)
    assert calls == ["pre", "post"] * 5


def test_transforms_are_checked():
    with pytest.raises(TypeError, match="transform must be callable"):
        load_planetoid("Cora", transform="NormalizeFeatures")
    with pytest.raises(TypeError, match="pre_transform must be callable"):
        load_dataset("csbm", num_nodes=200, pre_transform=3)
    with pytest.raises(TypeError, match="transform must return a torch_geometric.data.Data"):
        load_dataset("csbm", num_nodes=200, num_val=0, num_test=0, transform=lambda data: None)
    assert csbm(200, num_val=0, num_test=0).num_nodes == 200
