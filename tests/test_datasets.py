"""Loaders: real-data counts, layouts in temp folders, caching, errors."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import warnings

import pytest
import tempfile
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noisygraph.datasets import (
    DataFormatError,
    DatasetNotFoundError,
    available_datasets,
    cache_dir,
    data_root,
    load_adjacency_list,
    load_dataset,
    load_ogb,
    load_planetoid,
    load_text_graph,
    write_tiny_ogb_graph,
)
from noisygraph.datasets import _paths


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test writes derived files to its own cache and starts with the network untried."""
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path_factory.mktemp("cache")))
    _paths.reset_network_failure()
    yield
    _paths.reset_network_failure()


def _is_undirected_simple(edge_index: torch.Tensor, num_nodes: int) -> bool:
    row, col = edge_index
    forward = torch.unique(row * num_nodes + col)
    backward = torch.unique(col * num_nodes + row)
    return (
        bool((row != col).all())
        and forward.numel() == edge_index.size(1)
        and torch.equal(forward, backward)
    )


def _isolated(data) -> int:
    return int((torch.bincount(data.edge_index[0], minlength=data.num_nodes) == 0).sum())


# --- paths ------------------------------------------------------------------------------------

def test_data_root_and_cache_dir_follow_the_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("NOISYGRAPH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "data"
    assert cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    monkeypatch.delenv("NOISYGRAPH_DATA")
    assert data_root() == pathlib.Path("~/.cache/noisygraph").expanduser()


# --- real data (counts verified against the files, see docs/data.md) -----------------------------

def test_cora_public_split(data_root):
    data = load_dataset("Cora", root=data_root)
    assert (data.num_nodes, data.edge_index.size(1), data.num_classes) == (2708, 10556, 7)
    assert data.x.shape == (2708, 1433)
    assert (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())) == (140, 500, 1000)
    assert torch.equal(torch.bincount(data.y[data.train_mask]), torch.full((7,), 20))
    assert torch.allclose(data.x.sum(1)[data.x.sum(1) > 0], torch.ones(1))  # row-normalised
    raw = load_planetoid("cora", root=data_root, normalize_features=False)
    assert set(raw.x.unique().tolist()) == {0.0, 1.0}
    assert _is_undirected_simple(data.edge_index, data.num_nodes)


def test_coauthor_cs(data_root):
    data = load_dataset("coauthor_cs", root=data_root)
    assert (data.num_nodes, data.edge_index.size(1) // 2, data.num_classes) == (18333, 81894, 15)
    assert _isolated(data) == 0
    assert data.y.min() == 0 and data.y.max() == 14 and data.x is None
    assert _is_undirected_simple(data.edge_index, data.num_nodes)


def test_amazon_photo(data_root):
    data = load_dataset("Amazon-Photo", root=data_root)
    assert (data.num_nodes, data.edge_index.size(1) // 2, data.num_classes) == (7650, 119081, 8)
    assert _isolated(data) == 115
    assert _is_undirected_simple(data.edge_index, data.num_nodes)


def test_dblp_text_graph(data_root):
    data = load_dataset("dblp", root=data_root)
    assert (data.num_nodes, data.edge_index.size(1) // 2, data.num_classes) == (14376, 215663, 4)
    assert _isolated(data) == 602
    assert torch.bincount(data.y).tolist() == [5011, 2224, 4478, 2663]
    assert data.class_names == ["Database", "Data Mining", "AI", "Information Retrieval"]
    assert len(data.text) == 14376 and data.text[0].startswith("Some Philosophical Problems")
    assert all(len(d) > 50 for d in data.class_descriptions)
    assert _is_undirected_simple(data.edge_index, data.num_nodes)


def test_adjacency_list_cache_is_reused(data_root, monkeypatch):
    first = load_adjacency_list("coauthor_cs", root=data_root)
    cached = list((cache_dir() / "wfd").glob("coauthor_cs@*.pt"))
    assert len(cached) == 1

    def no_parse(*args):
        raise AssertionError("parsed again despite a valid cache")

    monkeypatch.setattr("noisygraph.datasets.adjacency_list.parse_adjacency_list", no_parse)
    second = load_adjacency_list("coauthor_cs", root=data_root)
    assert torch.equal(first.edge_index, second.edge_index) and torch.equal(first.y, second.y)


def test_cache_is_keyed_by_content_not_size_and_mtime(tmp_path):
    """Two roots whose files have the same size and mtime but different bytes (the old
    size+mtime key served the first root's graph for the second)."""
    stamp = 1_700_000_000
    for root, adj in (("a", "2\n1\n\n"), ("b", "3\n\n1\n")):
        _write_wfd(tmp_path / root, "g", adj, "1\n1\n1\n")
        for file in ("adj.txt", "labels.txt"):
            os.utime(tmp_path / root / "wfd" / "g" / file, ns=(stamp * 10**9, stamp * 10**9))
    a = load_adjacency_list("g", root=tmp_path / "a")
    b = load_adjacency_list("g", root=tmp_path / "b")
    assert a.edge_index.tolist() == [[0, 1], [1, 0]] and b.edge_index.tolist() == [[0, 2], [2, 0]]
    assert load_adjacency_list("g", root=tmp_path / "a").edge_index.tolist() == [[0, 1], [1, 0]]
    # the same root rewritten in place, same size, mtime restored
    adj = tmp_path / "a" / "wfd" / "g" / "adj.txt"
    adj.write_text("3\n\n1\n")
    os.utime(adj, ns=(stamp * 10**9, stamp * 10**9))
    assert load_adjacency_list("g", root=tmp_path / "a").edge_index.tolist() == [[0, 2], [2, 0]]
    assert len(list((cache_dir() / "wfd").glob("g@*.pt"))) == 1  # one entry per data set


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign"])
def test_unusable_cache_file_is_rebuilt_with_one_warning(tmp_path, monkeypatch, damage):
    _write_wfd(tmp_path, "g", "2\n1\n", "1\n2\n")
    first = load_adjacency_list("g", root=tmp_path)
    (cached,) = (cache_dir() / "wfd").glob("g@*.pt")
    if damage == "garbage":
        cached.write_bytes(b"not a torch file")
    elif damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:50])
    else:  # a readable file whose graph points outside the nodes
        torch.save({"edge_index": torch.tensor([[0], [9]]), "y": torch.zeros(2, dtype=torch.long)}, cached)
    with pytest.warns(RuntimeWarning, match="unusable") as record:
        second = load_adjacency_list("g", root=tmp_path)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    assert torch.equal(first.edge_index, second.edge_index)

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again although the cache was rebuilt")

    monkeypatch.setattr("noisygraph.datasets.adjacency_list.parse_adjacency_list", no_parse)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(load_adjacency_list("g", root=tmp_path).edge_index, first.edge_index)


def test_text_graph_cache_rebuilt_when_unusable(tmp_path):
    _write_tag(tmp_path, "t", "0\t0\tÜber\ttabs\n1\t0\tb\n", "0\t1\n", "0\tA\td\n")
    first = load_text_graph("t", root=tmp_path)
    again = load_text_graph("t", root=tmp_path)  # from the cache
    assert again.text == first.text == ["Über\ttabs", "b"]
    (cached,) = (cache_dir() / "tag").glob("t@*.pt")
    payload = torch.load(cached, weights_only=True)
    payload["text_offsets"] = torch.tensor([0, 2, 99])
    torch.save(payload, cached)
    with pytest.warns(RuntimeWarning, match="text offsets"):
        assert load_text_graph("t", root=tmp_path).text == first.text


def test_session_cache_is_never_the_home_cache(private_cache_dir):
    """tests/conftest.py points NOISYGRAPH_CACHE at a session temp folder unless the caller
    set one: `make test` must not leave graphs in ~/.cache/noisygraph."""
    assert private_cache_dir != pathlib.Path("~/.cache/noisygraph/processed").expanduser()
    assert os.environ["NOISYGRAPH_CACHE"]


@pytest.mark.slow
def test_a_new_users_test_run_leaves_the_home_cache_alone(tmp_path):
    """Run the tests that load a tiny OGB graph as a new user would (fresh HOME, no
    NOISYGRAPH_CACHE); ERASE's mini-batch test sets no cache of its own, so without the
    conftest safeguard it wrote ~/.cache/noisygraph/processed/ogb/... ."""
    env = {key: value for key, value in os.environ.items() if key != "NOISYGRAPH_CACHE"}
    env["HOME"] = str(tmp_path / "home")
    tests = pathlib.Path(__file__).parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests / "test_datasets.py"),
         str(tests / "test_erase.py"), "-k", "ogb", "-m", "not slow"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert not (tmp_path / "home" / ".cache" / "noisygraph").exists()


def test_available_datasets_lists_the_root(data_root):
    names = available_datasets(data_root)
    assert {"Cora", "coauthor_cs", "amazon_photo", "dblp", "csbm"} <= set(names)


def test_unknown_name_lists_what_is_available(data_root):
    with pytest.raises(ValueError, match="coauthor_cs") as error:
        load_dataset("nonexistent_graph", root=data_root)
    assert "dblp" in str(error.value) and "Cora" in str(error.value)


def test_known_name_without_files_is_not_an_unknown_name(tmp_path):
    for name in ("coauthor_cs", "Coauthor-CS"):
        with pytest.raises(DatasetNotFoundError) as error:
            load_dataset(name, root=tmp_path)
        message = str(error.value)
        assert str(tmp_path / "wfd" / "coauthor_cs" / "adj.txt") in message and "labels.txt" in message
        assert "NOISYGRAPH_DATA" in message and "Weighted Flow Diffusion" in message
    with pytest.raises(DatasetNotFoundError, match=r"tag/dblp/nodes\.tsv"):
        load_dataset("dblp", root=tmp_path)


def test_folder_with_a_missing_file_names_it(tmp_path):
    (tmp_path / "wfd" / "mine").mkdir(parents=True)
    (tmp_path / "wfd" / "mine" / "adj.txt").write_text("\n")
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("mine", root=tmp_path)
    assert "labels.txt" in str(error.value) and "adj.txt" not in str(error.value).split("(looked")[0]


# --- adjacency-list layout in temp folders -------------------------------------------------------

def _write_wfd(root, name, adj, labels):
    folder = root / "wfd" / name
    folder.mkdir(parents=True)
    (folder / "adj.txt").write_text(adj)
    (folder / "labels.txt").write_text(labels)


def test_adjacency_list_layout(tmp_path):
    # node 1: 2 3 (3 twice), node 2: 1, node 3: itself (self-loop dropped) and 1, node 4 isolated
    _write_wfd(tmp_path, "toy", "2 3 3 \n1\n3 1\n\n", "1\n2\n2\n1\n")
    data = load_dataset("TOY", root=tmp_path)
    assert data.num_nodes == 4 and data.num_classes == 2
    assert data.y.tolist() == [0, 1, 1, 0]
    assert data.edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]


def test_adjacency_list_one_sided_edge_is_an_error_unless_symmetrised(tmp_path):
    # node 3's line lost its "1" (a truncated file): before, a spurious one-sided edge loaded
    _write_wfd(tmp_path, "oneway", "2 3\n1\n\n", "1\n1\n2\n")
    with pytest.raises(DataFormatError, match=r"adj\.txt line 1: node 1 lists neighbour 3, but line 3") as error:
        load_adjacency_list("oneway", root=tmp_path)
    assert error.value.line == 1 and error.value.path.name == "adj.txt"
    assert "symmetrize=True" in str(error.value)
    data = load_adjacency_list("oneway", root=tmp_path, symmetrize=True)
    assert data.edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]


def test_adjacency_list_symmetric_fast_path_matches_the_symmetrising_one(data_root):
    strict = load_adjacency_list("amazon_photo", root=data_root)
    lenient = load_adjacency_list("amazon_photo", root=data_root, symmetrize=True)
    assert torch.equal(strict.edge_index, lenient.edge_index)


@pytest.mark.parametrize(
    "adj, labels, message",
    [
        ("2\n5\n", "1\n1\n", r"adj\.txt line 2: neighbour id 5 outside 1\.\.2"),
        ("0\n1\n", "1\n1\n", r"adj\.txt line 1: neighbour id 0 outside 1\.\.2"),
        ("2\n1\n3\n", "1\n1\n", r"adj\.txt: has 3 lines but .*labels\.txt has 2"),
        ("2\n1\n", "0\n1\n", r"labels\.txt line 1: classes are 1-based"),
        ("2\nx\n", "1\n1\n", r"adj\.txt line 2: a neighbour id must be a non-negative integer, got 'x'"),
    ],
)
def test_adjacency_list_rejects_bad_files(tmp_path, adj, labels, message):
    _write_wfd(tmp_path, "bad", adj, labels)
    with pytest.raises(ValueError, match=message):
        load_adjacency_list("bad", root=tmp_path)


def test_adjacency_list_missing_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        load_adjacency_list("absent", root=tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and "adj.txt" in message and "NOISYGRAPH_DATA" in message


@st.composite
def _graphs(draw):
    """A random simple undirected graph: (num_nodes, sorted distinct pairs i < j)."""
    num_nodes = draw(st.integers(1, 25))
    pairs = [(i, j) for i in range(num_nodes) for j in range(i + 1, num_nodes)]
    edges = sorted(draw(st.sets(st.sampled_from(pairs), max_size=60))) if pairs else []
    return num_nodes, edges


def _adjacency_text(num_nodes, edges, shuffle):
    neighbours = [[] for _ in range(num_nodes)]
    for i, j in edges:
        neighbours[i].append(j + 1)
        neighbours[j].append(i + 1)
    return "".join(" ".join(map(str, shuffle(row))) + "\n" for row in neighbours)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=_graphs(), data=st.data())
def test_adjacency_list_round_trip_and_one_sided_entries(graph, data):
    num_nodes, edges = graph
    shuffle = lambda row: data.draw(st.permutations(row))  # noqa: E731  neighbours in any order
    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        _write_wfd(root, "g", _adjacency_text(num_nodes, edges, shuffle), "1\n" * num_nodes)
        loaded = load_adjacency_list("g", root=root).edge_index.t().tolist()
        assert loaded == sorted([[i, j] for i, j in edges] + [[j, i] for i, j in edges])
        if edges:  # drop one entry: the one-sided partner is reported on its own line
            i, j = data.draw(st.sampled_from(edges))
            lines = _adjacency_text(num_nodes, edges, sorted).split("\n")
            lines[i] = " ".join(token for token in lines[i].split() if token != str(j + 1))
            (root / "wfd" / "g" / "adj.txt").write_text("\n".join(lines))
            with pytest.raises(DataFormatError, match=f"node {j + 1} lists neighbour {i + 1}") as error:
                load_adjacency_list("g", root=root)
            assert error.value.line == j + 1


# --- text-graph layout in temp folders ------------------------------------------------------------

def _write_tag(root, name, nodes, edges, classes):
    folder = root / "tag" / name
    folder.mkdir(parents=True)
    (folder / "nodes.tsv").write_text("node\tlabel\ttext\n" + nodes, encoding="utf-8")
    (folder / "edges.tsv").write_text("src\tdst\n" + edges, encoding="utf-8")
    (folder / "classes.tsv").write_text("label\tname\tdescription\n" + classes, encoding="utf-8")


def test_text_graph_layout(tmp_path):
    _write_tag(
        tmp_path, "toy",
        '0\t1\t"Quoted" title\twith a tab\n1\t0\tÜber graphs\n2\t1\tthird\n',
        "0\t1\n1\t2\n",
        "0\tA\tfirst class\n1\tB\tsecond class\n",
    )
    data = load_text_graph("toy", root=tmp_path)
    assert data.text == ['"Quoted" title\twith a tab', "Über graphs", "third"]
    assert data.y.tolist() == [1, 0, 1] and data.num_classes == 2
    assert data.class_names == ["A", "B"] and data.class_descriptions == ["first class", "second class"]
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


@pytest.mark.parametrize(
    "nodes, edges, classes, message",
    [
        ("0\t0\ta\n2\t0\tb\n", "", "0\tA\td\n", r"nodes\.tsv line 3: node ids must be 0\.\.1 in row order"),
        ("0\t0\ta\n1\t3\tb\n", "", "0\tA\td\n", r"nodes\.tsv line 3: label 3 is not a class"),
        ("0\t0\ta\n1\t0\tb\n", "0\t2\n", "0\tA\td\n", r"edges\.tsv line 2: node id 2 outside 0\.\.1"),
        ("0\t0\ta\n1\t0\tb\n", "", "1\tA\td\n", r"classes\.tsv line 2: class ids"),
        ("0\t0\n", "", "0\tA\td\n", r"nodes\.tsv line 2: expected 3 tab-separated columns"),
        # an extra column used to be re-paired silently into other edges
        ("0\t0\ta\n1\t0\tb\n", "0\t1\n0\t1\t1\n1\t0\n", "0\tA\td\n",
         r"edges\.tsv line 3: expected 2 tab-separated columns \(src, dst\), got 3"),
    ],
)
def test_text_graph_rejects_bad_files(tmp_path, nodes, edges, classes, message):
    _write_tag(tmp_path, "bad", nodes, edges, classes)
    with pytest.raises(ValueError, match=message):
        load_text_graph("bad", root=tmp_path)


def test_text_graph_rejects_wrong_header(tmp_path):
    _write_tag(tmp_path, "hdr", "0\t0\ta\n", "", "0\tA\td\n")
    (tmp_path / "tag" / "hdr" / "nodes.tsv").write_text("id\tlabel\ttext\n0\t0\ta\n")
    with pytest.raises(ValueError, match="header"):
        load_text_graph("hdr", root=tmp_path)


# --- Planetoid: missing files, one download attempt ----------------------------------------------

def test_planetoid_missing_files_tries_the_download_once(tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid

    attempts = []

    def offline(self):
        attempts.append(self.name)
        raise OSError("network is unreachable")

    monkeypatch.setattr(Planetoid, "download", offline)
    for _ in range(2):
        with pytest.raises(DatasetNotFoundError) as error:
            load_planetoid("CiteSeer", root=tmp_path)
        message = str(error.value)
        assert str(tmp_path) in message
        assert "ind.citeseer.graph" in message and "ind.citeseer.test.index" in message
        assert "NOISYGRAPH_DATA" in message
    assert attempts == ["CiteSeer"]  # the second call did not touch the network
    assert "earlier download failed" in message


def test_planetoid_reads_the_root_without_writing_to_it(data_root, tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid

    monkeypatch.setattr(Planetoid, "download", lambda self: pytest.fail("tried to download"))
    data = load_planetoid("cora", root=data_root)
    assert data.num_nodes == 2708
    (entry,) = (cache_dir() / "planetoid").glob("Cora@*")
    assert (entry / "Cora" / "processed" / "data.pt").is_file()
    raw = list((entry / "Cora" / "raw").iterdir())
    assert len(raw) == 8 and not any(path.is_symlink() for path in raw)  # copies: nothing can dangle


def test_planetoid_partial_folder_names_the_missing_files_without_downloading(data_root, tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid

    monkeypatch.setattr(Planetoid, "download", lambda self: pytest.fail("tried to download"))
    (tmp_path / "planetoid").mkdir()
    for path in (data_root / "planetoid").glob("ind.cora.*"):
        if not path.name.endswith(".ty"):
            shutil.copy(path, tmp_path / "planetoid" / path.name)
    with pytest.raises(DatasetNotFoundError) as error:
        load_planetoid("cora", root=tmp_path)
    message = str(error.value)
    assert "ind.cora.ty" in message.split("(looked")[0] and "ind.cora.x," not in message


def test_planetoid_unusable_processed_cache_is_rebuilt(data_root):
    first = load_planetoid("cora", root=data_root)
    (entry,) = (cache_dir() / "planetoid").glob("Cora@*")
    (entry / "Cora" / "processed" / "data.pt").write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="unusable"):
        second = load_planetoid("cora", root=data_root)
    assert torch.equal(first.x, second.x) and torch.equal(first.edge_index, second.edge_index)


# --- OGB through ogb's own loader, offline ---------------------------------------------------------

needs_ogb = pytest.mark.skipif(
    importlib.util.find_spec("ogb") is None, reason="the optional 'ogb' package is not installed"
)


@pytest.mark.parametrize("name", ["ogbn-arxiv", "ogbn-products"])
@needs_ogb
def test_ogb_tiny_graph_through_ogb_loader(tmp_path, name):
    folder = write_tiny_ogb_graph(tmp_path / "ogb", name=name, num_nodes=40, num_edges=90, seed=1)
    assert (folder / "RELEASE_v1.txt").is_file()
    (tmp_path / "ogb").chmod(0o555)  # the data root stays read-only: processing goes to the cache
    try:
        data = load_dataset(name.upper().replace("-", "_"), root=tmp_path)
    finally:
        (tmp_path / "ogb").chmod(0o755)
    assert data.num_nodes == 40 and data.x.shape == (40, 8) and data.y.shape == (40,)
    assert data.num_classes == (40 if name == "ogbn-arxiv" else 47)
    assert int(data.train_mask.sum()) == 24 and int(data.val_mask.sum()) == 8 and int(data.test_mask.sum()) == 8
    assert not (data.train_mask & data.test_mask).any()
    if name == "ogbn-arxiv":  # citations made undirected
        assert _is_undirected_simple(data.edge_index, 40)
        assert data.node_year.shape == (40,)
    assert not (folder / "processed").exists()


@needs_ogb
def test_ogb_processed_root_is_read_in_place(tmp_path):
    from noisygraph.datasets.ogb import _dataset

    folder = write_tiny_ogb_graph(tmp_path / "ogb", num_nodes=30, num_edges=50)
    _dataset("ogbn-arxiv", tmp_path / "ogb")  # what a user's earlier ogb download leaves behind
    assert (folder / "processed" / "geometric_data_processed.pt").is_file()
    data = load_ogb("ogbn-arxiv", root=tmp_path)
    assert data.num_nodes == 30
    assert not (cache_dir() / "ogb" / "ogbn_arxiv").exists()


@needs_ogb
def test_ogb_missing_files_error(tmp_path, monkeypatch):
    import ogb.nodeproppred.dataset_pyg as dataset_pyg

    attempts = []

    def offline(self):
        attempts.append(self.name)
        raise OSError("no route to host")

    monkeypatch.setattr(dataset_pyg.PygNodePropPredDataset, "download", offline)
    for _ in range(2):
        with pytest.raises(DatasetNotFoundError) as error:
            load_ogb("ogbn-arxiv", root=tmp_path)
        message = str(error.value)
        assert str(tmp_path) in message and "edge.csv.gz" in message and "NOISYGRAPH_DATA" in message
    assert attempts == ["ogbn-arxiv"]


@needs_ogb
def test_ogb_declined_large_download_is_not_a_network_failure(tmp_path, monkeypatch):
    import ogb.nodeproppred.dataset_pyg as dataset_pyg

    def declined(self):
        raise EOFError("EOF when reading a line")  # input() without a terminal

    monkeypatch.setattr(dataset_pyg.PygNodePropPredDataset, "download", declined)
    with pytest.raises(DatasetNotFoundError, match="interactive confirmation"):
        load_ogb("ogbn-products", root=tmp_path)
    assert _paths.network_failure() is None


@needs_ogb
def test_network_failure_is_shared_across_loaders(tmp_path, monkeypatch):
    from torch_geometric.datasets import Planetoid
    import ogb.nodeproppred.dataset_pyg as dataset_pyg

    monkeypatch.setattr(Planetoid, "download", lambda self: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setattr(
        dataset_pyg.PygNodePropPredDataset, "download", lambda self: pytest.fail("network tried twice")
    )
    with pytest.raises(DatasetNotFoundError):
        load_planetoid("pubmed", root=tmp_path)
    with pytest.raises(DatasetNotFoundError, match="earlier download failed"):
        load_ogb("ogbn-products", root=tmp_path)


@needs_ogb
def test_ogb_cache_is_never_another_roots_data_set(tmp_path, monkeypatch):
    """The reported bug: a test's tiny ogbn-arxiv mirrored into the cache was later returned
    by load_dataset('ogbn-arxiv') for a root without it, as if it were the real data set."""
    import ogb.nodeproppred.dataset_pyg as dataset_pyg

    attempts = []

    def offline(self):
        attempts.append(self.name)
        raise OSError("offline")

    monkeypatch.setattr(dataset_pyg.PygNodePropPredDataset, "download", offline)
    write_tiny_ogb_graph(tmp_path / "a" / "ogb", num_nodes=30, num_edges=60, seed=1)
    assert load_ogb("ogbn-arxiv", root=tmp_path / "a").num_nodes == 30
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError):
        load_ogb("ogbn-arxiv", root=tmp_path / "empty")
    assert attempts == ["ogbn-arxiv"]
    # another root with another graph under the same name gets its own processing
    write_tiny_ogb_graph(tmp_path / "b" / "ogb", num_nodes=35, num_edges=60, seed=2)
    assert load_ogb("ogbn-arxiv", root=tmp_path / "b").num_nodes == 35
    assert load_ogb("ogbn-arxiv", root=tmp_path / "a").num_nodes == 30
    (entry,) = (cache_dir() / "ogb").glob("ogbn_arxiv@*")
    assert not any(path.is_symlink() for path in entry.rglob("*"))  # small raw files are copied
    _paths.reset_network_failure()
    with pytest.raises(DatasetNotFoundError):  # still not, after root a is gone
        shutil.rmtree(tmp_path / "a")
        load_ogb("ogbn-arxiv", root=tmp_path / "empty")


@needs_ogb
def test_ogb_linked_mirror_of_a_vanished_root_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr("noisygraph.datasets.ogb.COPY_LIMIT", 0)  # link, as for ogbn-products
    write_tiny_ogb_graph(tmp_path / "a" / "ogb", num_nodes=30, num_edges=60)
    load_ogb("ogbn-arxiv", root=tmp_path / "a")
    (entry,) = (cache_dir() / "ogb").glob("ogbn_arxiv@*")
    assert any(path.is_symlink() for path in entry.rglob("*"))
    shutil.rmtree(tmp_path / "a")
    write_tiny_ogb_graph(tmp_path / "b" / "ogb", "ogbn-products", num_nodes=30, num_edges=60)
    load_ogb("ogbn-products", root=tmp_path / "b")  # any OGB load sweeps dangling entries
    assert not entry.exists()


@needs_ogb
def test_ogb_partial_raw_folder_names_the_missing_file(tmp_path, monkeypatch):
    import ogb.nodeproppred.dataset_pyg as dataset_pyg

    monkeypatch.setattr(dataset_pyg.PygNodePropPredDataset, "download", lambda self: pytest.fail("downloaded"))
    folder = write_tiny_ogb_graph(tmp_path / "ogb", num_nodes=20, num_edges=30)
    (folder / "raw" / "node-label.csv.gz").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        load_ogb("ogbn-arxiv", root=tmp_path)
    listed = str(error.value).split("(looked")[0]
    assert "node-label.csv.gz" in listed and "edge.csv.gz" not in listed


@needs_ogb
def test_ogb_unusable_processed_cache_is_rebuilt(tmp_path):
    write_tiny_ogb_graph(tmp_path / "ogb", num_nodes=25, num_edges=40)
    first = load_ogb("ogbn-arxiv", root=tmp_path)
    (processed,) = (cache_dir() / "ogb").glob("ogbn_arxiv@*/ogbn_arxiv/processed/geometric_data_processed.pt")
    processed.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="unusable"):
        second = load_ogb("ogbn-arxiv", root=tmp_path)
    assert torch.equal(first.x, second.x) and torch.equal(first.edge_index, second.edge_index)


def test_bad_names():
    with pytest.raises(ValueError, match="name must be one of"):
        load_planetoid("coraa")
    with pytest.raises(ValueError, match="name must be one of"):
        load_ogb("ogbn-mag")
    with pytest.raises(TypeError, match="name must be a str"):
        load_dataset(3)
