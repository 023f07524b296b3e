"""Attack suite of the loaders: malformed raw files (written into tmp_path), bad loader
arguments, bad CSBM parameters and bad sampler arguments. Every case must raise a
ValueError/TypeError whose message names the file and line (for files) or the argument."""
from __future__ import annotations

import gzip
import importlib.util
import os
import pathlib
import pickle

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects
from noisygraph.datasets import (
    available_datasets,
    csbm,
    load_adjacency_list,
    load_dataset,
    load_ogb,
    load_planetoid,
    load_text_graph,
    write_tiny_ogb_graph,
)
from noisygraph.loader import UniformNeighborSampler, neighbor_loader

NODES_HEADER = "node\tlabel\ttext\n"
EDGES_HEADER = "src\tdst\n"
CLASSES_HEADER = "label\tname\tdescription\n"
GOOD_NODES = NODES_HEADER + "0\t0\tfirst\n1\t1\tsecond\n"
GOOD_EDGES = EDGES_HEADER + "0\t1\n"
GOOD_CLASSES = CLASSES_HEADER + "0\tA\tclass a\n1\tB\tclass b\n"


def _write(path: pathlib.Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def wfd(root, adj, labels, **kwargs):
    folder = root / "wfd" / "g"
    _write(folder / "adj.txt", adj)
    _write(folder / "labels.txt", labels)
    return load_adjacency_list("g", root=root, **kwargs)


def tag(root, nodes=GOOD_NODES, edges=GOOD_EDGES, classes=GOOD_CLASSES):
    folder = root / "tag" / "t"
    _write(folder / "nodes.tsv", nodes)
    _write(folder / "edges.tsv", edges)
    _write(folder / "classes.tsv", classes)
    return load_text_graph("t", root=root)


def planetoid(root, corrupt=None, content=b"not a pickle"):
    """A tiny, readable Planetoid set for 'cora' (PyG cannot split it: too small), with the file
    ``ind.cora.<corrupt>`` replaced by ``content``."""
    import scipy.sparse as sp

    folder = root / "planetoid"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    items = {
        "x": sp.csr_matrix(rng.integers(0, 2, (2, 4)).astype(np.float32)),
        "allx": sp.csr_matrix(rng.integers(0, 2, (6, 4)).astype(np.float32)),
        "tx": sp.csr_matrix(rng.integers(0, 2, (2, 4)).astype(np.float32)),
        "y": np.eye(2)[[0, 1]],
        "ally": np.eye(2)[[0, 1, 0, 1, 0, 1]],
        "ty": np.eye(2)[[0, 1]],
        "graph": {i: [(i + 1) % 8] for i in range(8)},
    }
    for suffix, value in items.items():
        (folder / f"ind.cora.{suffix}").write_bytes(pickle.dumps(value))
    (folder / "ind.cora.test.index").write_text("6\n7\n")
    if corrupt is not None:
        (folder / f"ind.cora.{corrupt}").write_bytes(content)
    return load_planetoid("cora", root=root)


needs_ogb = importlib.util.find_spec("ogb") is not None


def ogb(root, file, content):
    if not needs_ogb:
        pytest.skip("the optional 'ogb' package is not installed")
    folder = write_tiny_ogb_graph(root / "ogb", "ogbn-arxiv", num_nodes=20, num_edges=40)
    _write(folder / file, content)
    return load_ogb("ogbn-arxiv", root=root)


def with_env(name, value, call):
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        return call()
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def tiny_data():
    return Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)


def cases(root: pathlib.Path) -> list[BadInput]:
    """The table; ``root`` is the test's tmp_path (nothing is written until a case runs)."""
    base = dict(num_nodes=200, num_classes=2, train_per_class=1, num_val=0, num_test=0)

    def graph(**kwargs):
        return csbm(**{**base, **kwargs})

    return [
        # --- wfd/: adj.txt + labels.txt ----------------------------------------------------------
        BadInput("adj-id-above-N", lambda: wfd(root, "2\n5\n", "1\n1\n"), ValueError,
                 r"adj\.txt line 2: neighbour id 5 outside 1\.\.2"),
        BadInput("adj-id-zero", lambda: wfd(root, "2\n0\n", "1\n1\n"), ValueError, r"adj\.txt line 2: neighbour id 0"),
        BadInput("adj-non-integer", lambda: wfd(root, "2\n1 x\n", "1\n1\n"), ValueError, r"adj\.txt line 2: .*'x'"),
        BadInput("adj-negative", lambda: wfd(root, "2\n-1\n", "1\n1\n"), ValueError, r"adj\.txt line 2: .*'-1'"),
        BadInput("adj-float", lambda: wfd(root, "2\n1.0\n", "1\n1\n"), ValueError, r"adj\.txt line 2: .*'1\.0'"),
        BadInput("adj-too-large", lambda: wfd(root, "2 99999999999999999999\n1\n", "1\n1\n"), ValueError,
                 r"adj\.txt line 1: .*too large"),
        BadInput("adj-not-ascii", lambda: wfd(root, b"2\n1\xff\n", "1\n1\n"), ValueError, r"adj\.txt line 2"),
        BadInput("adj-more-lines-than-labels", lambda: wfd(root, "2\n1\n\n", "1\n1\n"), ValueError,
                 r"adj\.txt: has 3 lines but .*labels\.txt has 2"),
        BadInput("adj-truncated-asymmetric", lambda: wfd(root, "2 3\n1\n\n", "1\n1\n1\n"), ValueError,
                 r"adj\.txt line 1: node 1 lists neighbour 3, but line 3 .*not symmetric"),
        BadInput("adj-asymmetric-later-line", lambda: wfd(root, "2\n1 3\n\n", "1\n1\n1\n"), ValueError,
                 r"adj\.txt line 2: node 2 lists neighbour 3"),
        BadInput("labels-zero", lambda: wfd(root, "2\n1\n", "0\n1\n"), ValueError, r"labels\.txt line 1: classes are 1-based"),
        BadInput("labels-non-integer", lambda: wfd(root, "2\n1\n", "1\nA\n"), ValueError, r"labels\.txt line 2: .*'A'"),
        BadInput("labels-two-per-line", lambda: wfd(root, "2\n1\n", "1 2\n1\n"), ValueError,
                 r"labels\.txt line 1: expected one class per line, got 2"),
        BadInput("labels-empty-line", lambda: wfd(root, "2\n1\n", "1\n\n1\n"), ValueError,
                 r"labels\.txt line 2: expected one class per line, got 0"),
        BadInput("labels-empty-file", lambda: wfd(root, "", ""), ValueError, r"labels\.txt: the file is empty"),
        BadInput("wfd-symmetrize-not-bool", lambda: wfd(root, "2\n1\n", "1\n1\n", symmetrize="yes"), TypeError,
                 "symmetrize"),
        # --- tag/: nodes.tsv, edges.tsv, classes.tsv ----------------------------------------------
        BadInput("edges-extra-column", lambda: tag(root, edges=EDGES_HEADER + "0\t1\n1\t0\t1\n"), ValueError,
                 r"edges\.tsv line 3: expected 2 tab-separated columns \(src, dst\), got 3"),
        # 4 tokens: the old reader re-paired them silently into the edges (0, 1), (1, 0)
        BadInput("edges-extra-column-repaired", lambda: tag(root, edges=EDGES_HEADER + "0\t1\t1\n0\n"), ValueError,
                 r"edges\.tsv line 2: expected 2 tab-separated columns \(src, dst\), got 3"),
        BadInput("edges-one-column", lambda: tag(root, edges=EDGES_HEADER + "0\t1\n1\n"), ValueError,
                 r"edges\.tsv line 3: expected 2 .*got 1"),
        BadInput("edges-empty-line", lambda: tag(root, edges=EDGES_HEADER + "0\t1\n\n1\t0\n"), ValueError,
                 r"edges\.tsv line 3: expected 2 .*got 0"),
        BadInput("edges-non-integer", lambda: tag(root, edges=EDGES_HEADER + "0\tb\n"), ValueError,
                 r"edges\.tsv line 2: a node id must be a non-negative integer, got 'b'"),
        BadInput("edges-negative", lambda: tag(root, edges=EDGES_HEADER + "0\t-1\n"), ValueError,
                 r"edges\.tsv line 2: .*'-1'"),
        BadInput("edges-id-out-of-range", lambda: tag(root, edges=EDGES_HEADER + "0\t1\n1\t9\n"), ValueError,
                 r"edges\.tsv line 3: node id 9 outside 0\.\.1"),
        BadInput("edges-wrong-header", lambda: tag(root, edges="source\ttarget\n0\t1\n"), ValueError,
                 r"edges\.tsv line 1: expected the header 'src\\\\tdst'"),
        BadInput("nodes-wrong-header", lambda: tag(root, nodes="id\tlabel\ttext\n0\t0\ta\n"), ValueError,
                 r"nodes\.tsv line 1: expected the header"),
        BadInput("nodes-too-few-columns", lambda: tag(root, nodes=NODES_HEADER + "0\t0\ta\n1\t0\n"), ValueError,
                 r"nodes\.tsv line 3: expected 3 tab-separated columns \(node, label, text\), got 2"),
        BadInput("nodes-id-not-integer", lambda: tag(root, nodes=NODES_HEADER + "zero\t0\ta\n"), ValueError,
                 r"nodes\.tsv line 2: column 'node' must be a non-negative integer, got 'zero'"),
        BadInput("nodes-duplicate-id", lambda: tag(root, nodes=NODES_HEADER + "0\t0\ta\n0\t1\tb\n"), ValueError,
                 r"nodes\.tsv line 3: .*expected 1, got 0 \(a duplicate of line 2\)"),
        BadInput("nodes-id-gap", lambda: tag(root, nodes=NODES_HEADER + "0\t0\ta\n2\t1\tb\n"), ValueError,
                 r"nodes\.tsv line 3: .*expected 1, got 2 \(out of order\)"),
        BadInput("nodes-label-outside-classes", lambda: tag(root, nodes=NODES_HEADER + "0\t0\ta\n1\t2\tb\n"), ValueError,
                 r"nodes\.tsv line 3: label 2 is not a class of classes\.tsv \(0\.\.1\)"),
        BadInput("nodes-label-not-integer", lambda: tag(root, nodes=NODES_HEADER + "0\tA\ta\n"), ValueError,
                 r"nodes\.tsv line 2: column 'label'"),
        BadInput("nodes-empty-text", lambda: tag(root, nodes=NODES_HEADER + "0\t0\ta\n1\t1\t  \n"), ValueError,
                 r"nodes\.tsv line 3: the node text is empty"),
        BadInput("nodes-invalid-utf8", lambda: tag(root, nodes=NODES_HEADER.encode() + b"0\t0\ta\n1\t1\t\xff\xfe\n"),
                 ValueError, r"nodes\.tsv line 3: byte 0xff is not valid utf-8"),
        BadInput("nodes-no-rows", lambda: tag(root, nodes=NODES_HEADER, edges=EDGES_HEADER), ValueError,
                 r"nodes\.tsv: no node rows"),
        BadInput("classes-ids-not-in-order", lambda: tag(root, classes=CLASSES_HEADER + "1\tA\ta\n0\tB\tb\n"), ValueError,
                 r"classes\.tsv line 2: class ids must be 0\.\.1 in row order"),
        BadInput("classes-duplicate-name", lambda: tag(root, classes=CLASSES_HEADER + "0\tA\ta\n1\tA \tb\n"), ValueError,
                 r"classes\.tsv line 3: class name 'A' repeats line 2"),
        BadInput("classes-empty-name", lambda: tag(root, classes=CLASSES_HEADER + "0\tA\ta\n1\t\tb\n"), ValueError,
                 r"classes\.tsv line 3: the class name is empty"),
        BadInput("classes-no-rows", lambda: tag(root, classes=CLASSES_HEADER), ValueError, r"classes\.tsv: no class rows"),
        # --- planetoid/: PyG's pickles --------------------------------------------------------------
        BadInput("planetoid-corrupt-pickle", lambda: planetoid(root, "x"), ValueError,
                 r"ind\.cora\.x: is not a readable Planetoid pickle"),
        BadInput("planetoid-truncated-graph", lambda: planetoid(root, "graph", pickle.dumps({0: [1]})[:-3]), ValueError,
                 r"ind\.cora\.graph: is not a readable Planetoid pickle"),
        BadInput("planetoid-test-index-text", lambda: planetoid(root, "test.index", b"6\nseven\n"), ValueError,
                 r"ind\.cora\.test\.index line 2: .*'seven'"),
        BadInput("planetoid-not-the-release", lambda: planetoid(root), ValueError,
                 r"planetoid: the Cora raw files do not fit together"),
        # --- ogb/: ogb's raw layout -------------------------------------------------------------------
        BadInput("ogb-corrupt-gzip", lambda: ogb(root, "raw/node-label.csv.gz", b"\x1f\x8b garbage"), ValueError,
                 r"raw/node-label\.csv\.gz: is not a complete gzip file"),
        BadInput("ogb-split-index-out-of-range", lambda: ogb(root, "split/time/test.csv.gz", gzip.compress(b"3\n500\n")),
                 ValueError, r"split/time/test\.csv\.gz: node index outside 0\.\.19"),
        # --- loader arguments --------------------------------------------------------------------------
        BadInput("load-dataset-name-int", lambda: load_dataset(3), TypeError, "name must be a str"),
        BadInput("load-dataset-name-empty", lambda: load_dataset("  "), ValueError, "name must be a non-empty"),
        BadInput("load-dataset-unknown-name", lambda: load_dataset("no_such_graph", root=root), ValueError,
                 "unknown data set name 'no_such_graph'"),
        BadInput("load-dataset-root-int", lambda: load_dataset("cora", root=5), TypeError, "root must be a str"),
        BadInput("load-dataset-root-missing", lambda: load_dataset("cora", root=root / "absent"), ValueError,
                 r"root=.*absent' is not an existing folder"),
        BadInput("load-dataset-root-is-a-file", lambda: (_write(root / "f", "x"), load_dataset("dblp", root=root / "f")),
                 ValueError, r"root=.* is not an existing folder"),
        BadInput("load-dataset-root-empty", lambda: load_dataset("cora", root=""), ValueError, "root must be a non-empty"),
        BadInput("load-dataset-csbm-root-missing", lambda: load_dataset("csbm", root=root / "absent", num_nodes=100),
                 ValueError, "root="),
        BadInput("load-dataset-unknown-keyword", lambda: (wfd(root, "2\n1\n", "1\n1\n"), load_dataset("g", root=root, bogus=1)),
                 TypeError, "bogus"),
        BadInput("data-env-missing", lambda: with_env("NOISYGRAPH_DATA", str(root / "absent"), lambda: load_dataset("cora")),
                 ValueError, "NOISYGRAPH_DATA="),
        BadInput("cache-env-is-a-file", lambda: (_write(root / "cachefile", "x"), with_env(
            "NOISYGRAPH_CACHE", str(root / "cachefile"), lambda: wfd(root, "2\n1\n", "1\n1\n"))), ValueError,
            "NOISYGRAPH_CACHE="),
        BadInput("adjacency-name-with-separator", lambda: load_adjacency_list("../g", root=root), ValueError,
                 "name must be a folder name"),
        BadInput("adjacency-name-dotdot", lambda: load_adjacency_list("..", root=root), ValueError, "name must be a folder"),
        BadInput("text-graph-name-none", lambda: load_text_graph(None, root=root), TypeError, "name must be a str"),
        BadInput("planetoid-unknown-name", lambda: load_planetoid("coraa", root=root), ValueError, "name must be one of"),
        BadInput("planetoid-normalize-not-bool", lambda: load_planetoid("cora", root=root, normalize_features="yes"),
                 TypeError, "normalize_features"),
        BadInput("ogb-unknown-name", lambda: load_ogb("ogbn-mag", root=root), ValueError, "name must be one of"),
        BadInput("available-datasets-root-int", lambda: available_datasets(3), TypeError, "root must be"),
        # --- CSBM parameters ------------------------------------------------------------------------
        BadInput("csbm-num-nodes-zero", lambda: graph(num_nodes=0), ValueError, "num_nodes"),
        BadInput("csbm-num-nodes-float", lambda: graph(num_nodes=200.0), TypeError, "num_nodes must be an int"),
        BadInput("csbm-num-nodes-bool", lambda: graph(num_nodes=True), TypeError, "num_nodes must be an int"),
        BadInput("csbm-num-nodes-huge", lambda: graph(num_nodes=2**40), ValueError, r"num_nodes must be in \[1, "),
        BadInput("csbm-num-nodes-below-classes", lambda: graph(num_nodes=3, num_classes=5), ValueError,
                 "num_nodes must be >= num_classes"),
        BadInput("csbm-num-classes-one", lambda: graph(num_classes=1), ValueError, "num_classes must be >= 2"),
        BadInput("csbm-num-classes-str", lambda: graph(num_classes="2"), TypeError, "num_classes"),
        BadInput("csbm-avg-degree-inf", lambda: graph(avg_degree=float("inf")), ValueError, "avg_degree"),
        BadInput("csbm-avg-degree-negative", lambda: graph(avg_degree=-1.0), ValueError, "avg_degree"),
        BadInput("csbm-avg-degree-str", lambda: graph(avg_degree="10"), TypeError, "avg_degree"),
        BadInput("csbm-avg-degree-too-dense", lambda: graph(avg_degree=500.0), ValueError, "avg_degree=500"),
        BadInput("csbm-homophily-nan", lambda: graph(homophily=float("nan")), ValueError, "homophily"),
        BadInput("csbm-homophily-above-one", lambda: graph(homophily=1.01), ValueError, "homophily"),
        BadInput("csbm-homophily-negative", lambda: graph(homophily=-0.1), ValueError, "homophily"),
        BadInput("csbm-feature-signal-inf", lambda: graph(feature_signal=float("inf")), ValueError, "feature_signal"),
        BadInput("csbm-feature-signal-negative", lambda: graph(feature_signal=-1.0), ValueError, "feature_signal"),
        BadInput("csbm-num-features-negative", lambda: graph(num_features=-1), ValueError, "num_features"),
        BadInput("csbm-num-features-float", lambda: graph(num_features=8.0), TypeError, "num_features"),
        BadInput("csbm-seed-negative", lambda: graph(seed=-1), ValueError, "seed"),
        BadInput("csbm-seed-float", lambda: graph(seed=1.5), TypeError, "seed"),
        BadInput("csbm-p-in-nan", lambda: graph(p_in=float("nan"), p_out=0.1), ValueError, "p_in"),
        BadInput("csbm-p-out-above-one", lambda: graph(p_in=0.1, p_out=2.0), ValueError, "p_out"),
        BadInput("csbm-p-in-alone", lambda: graph(p_in=0.1), ValueError, "p_in and p_out"),
        BadInput("csbm-class-sizes-float", lambda: graph(class_sizes=[100.5, 99.5]), TypeError, "class_sizes"),
        BadInput("csbm-class-sizes-sum", lambda: graph(class_sizes=[100, 99]), ValueError, "class_sizes"),
        BadInput("csbm-class-sizes-length", lambda: graph(class_sizes=[200]), ValueError, "class_sizes"),
        BadInput("csbm-class-sizes-str", lambda: graph(class_sizes="100,100"), TypeError, "class_sizes"),
        BadInput("csbm-train-per-class-negative", lambda: graph(train_per_class=-1), ValueError, "train_per_class"),
        BadInput("csbm-train-per-class-too-many", lambda: graph(train_per_class=150), ValueError, "train_per_class=150"),
        BadInput("csbm-num-val-float", lambda: graph(num_val=2.0), TypeError, "num_val"),
        BadInput("csbm-num-test-too-many", lambda: graph(num_test=500), ValueError, "num_test=500"),
        BadInput("csbm-verbose-str", lambda: graph(verbose="yes"), TypeError, "verbose"),
        # --- neighbour sampling ------------------------------------------------------------------------
        BadInput("loader-fanout-zero", lambda: neighbor_loader(tiny_data(), [0], 2), ValueError, "num_neighbors"),
        BadInput("loader-fanout-str", lambda: neighbor_loader(tiny_data(), "5", 2), TypeError, "num_neighbors"),
        BadInput("loader-fanout-empty", lambda: neighbor_loader(tiny_data(), [], 2), ValueError, "num_neighbors"),
        BadInput("loader-batch-size-zero", lambda: neighbor_loader(tiny_data(), [2], 0), ValueError, "batch_size"),
        BadInput("loader-batch-size-float", lambda: neighbor_loader(tiny_data(), [2], 2.0), TypeError, "batch_size"),
        BadInput("loader-input-nodes-out-of-range", lambda: neighbor_loader(tiny_data(), [2], 2, torch.tensor([0, 9])),
                 ValueError, "input_nodes"),
        BadInput("loader-input-mask-length", lambda: neighbor_loader(tiny_data(), [2], 2, torch.ones(5, dtype=torch.bool)),
                 ValueError, "input_nodes"),
        BadInput("loader-input-nodes-float", lambda: neighbor_loader(tiny_data(), [2], 2, torch.tensor([0.0])),
                 ValueError, "input_nodes"),
        BadInput("loader-data-not-data", lambda: neighbor_loader({"edge_index": None}, [2], 2), TypeError, "data"),
        BadInput("loader-edge-index-out-of-range", lambda: neighbor_loader(
            Data(edge_index=torch.tensor([[0], [7]]), num_nodes=3), [2], 2), ValueError, "edge_index"),
        BadInput("loader-seed-negative", lambda: neighbor_loader(tiny_data(), [2], 2, seed=-1), ValueError, "seed"),
        BadInput("sampler-edge-index-float", lambda: UniformNeighborSampler(torch.zeros(2, 3), 3, [2]), TypeError,
                 "edge_index"),
        BadInput("sampler-edge-index-shape", lambda: UniformNeighborSampler(torch.zeros(3, 3, dtype=torch.long), 3, [2]),
                 ValueError, "edge_index"),
        BadInput("sampler-num-nodes-negative", lambda: UniformNeighborSampler(torch.zeros(2, 0, dtype=torch.long), -1, [2]),
                 ValueError, "num_nodes"),
        BadInput("sampler-generator-type", lambda: UniformNeighborSampler(tiny_data().edge_index, 3, [2], generator=3),
                 TypeError, "generator"),
    ]


CASE_IDS = [case.id for case in cases(pathlib.Path("/nonexistent"))]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_rejects(case_id, tmp_path, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    (case,) = [case for case in cases(tmp_path / "root") if case.id == case_id]
    (tmp_path / "root").mkdir()
    assert_rejects(case)


def test_the_table_is_unique():
    assert len(CASE_IDS) == len(set(CASE_IDS)) >= 30
