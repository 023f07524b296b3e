"""What the commands print and write for a person (issue 11): ERASE beside the GCN baseline on
the same noisy labels, the selected epoch labelled, progress bars without test accuracy, the
cluster table's time column labelled, JSON floats to a stated precision."""
import json
import math

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from noisygraph.datasets import csbm
from noisygraph_cli import _common
from noisygraph_cli import erase as erase_command
from noisygraph_cli import main


@pytest.fixture
def small_erase(monkeypatch):
    data = csbm(num_nodes=300, num_classes=3, avg_degree=6, num_features=8, seed=0,
                train_per_class=10, num_val=60, num_test=100)
    data.num_classes = 3
    monkeypatch.setattr(erase_command, "load", lambda args: data)
    return data


def test_erase_prints_the_gcn_baseline_and_the_selected_epoch(small_erase, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["erase", "--runs", "2", "--epochs", "3", "--patience", "3", "--rate", "0.3",
                 "--json", str(out)]) == 0
    captured = capsys.readouterr()
    runs = [line for line in captured.out.splitlines() if line.startswith("run ")]
    assert len(runs) == 2 and all("ERASE test" in line and "GCN baseline" in line
                                  and "(same noisy labels)" in line for line in runs)
    assert "selected epoch " in captured.out and " of 3 run (best clean validation accuracy)" in captured.out
    assert "gcn (baseline, same noisy labels)" in captured.out  # the summary table's row
    result = json.loads(out.read_text())
    assert result["baseline"]["method"] == "gcn" and len(result["baseline"]["accuracies"]) == 2
    assert result["baseline"]["accuracy_mean"] == pytest.approx(
        sum(result["baseline"]["accuracies"]) / 2, abs=1e-4)
    # The progress bars show validation accuracy, never test accuracy.
    assert "val=" in captured.err and "test=" not in captured.err


def test_no_baseline_skips_it(small_erase, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["erase", "--runs", "1", "--epochs", "2", "--no-baseline", "--protocol",
                 "noisy-val", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "GCN baseline" not in text and "baseline" not in text
    assert "(best noisy validation accuracy)" in text
    assert json.loads(out.read_text())["baseline"] is None


def test_gcn_method_has_no_second_baseline(small_erase, tmp_path, capsys):
    assert main(["erase", "--runs", "1", "--epochs", "2", "--method", "gcn"]) == 0
    text = capsys.readouterr().out
    assert "GCN test" in text and "GCN baseline" not in text


def test_json_floats_are_rounded_to_the_stated_digits(small_erase, tmp_path, capsys):
    assert _common.round_floats(71.29999995231628) == 71.3
    assert _common.round_floats({"a": [0.123456789, 3], "b": (1e-9 / 3,)}) == {
        "a": [0.123457, 3], "b": [3.33333e-10]}
    assert math.isnan(_common.round_floats(float("nan")))
    out = tmp_path / "out.json"
    assert main(["erase", "--runs", "1", "--epochs", "2", "--quiet", "--json", str(out)]) == 0

    def floats(value):
        if isinstance(value, float):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from floats(item)
        elif isinstance(value, list):
            for item in value:
                yield from floats(item)

    written = list(floats(json.loads(out.read_text())))
    assert written and all(float(f"{v:.{_common.JSON_DIGITS}g}") == v for v in written)


def _two_blocks() -> Data:
    """Two 10-node cliques joined by one edge."""
    edges = [(i, j) for block in (range(10), range(10, 20)) for i in block for j in block
             if i < j] + [(0, 10)]
    return Data(edge_index=to_undirected(torch.tensor(edges).t()),
                y=torch.tensor([0] * 10 + [1] * 10), num_nodes=20)


@pytest.mark.parametrize("nodes,footnote", [
    (["--node", "1", "--node", "2"], "divided by its seed nodes"),
    (["--node", "1"], "wall time of the seed node's query"),
])
def test_cluster_table_says_what_its_time_column_is(monkeypatch, capsys, nodes, footnote):
    import noisygraph.datasets

    monkeypatch.setattr(noisygraph.datasets, "load_dataset", lambda *a, **k: _two_blocks())
    assert main(["cluster", "--dataset", "blocks", *nodes]) == 0
    out = capsys.readouterr().out
    assert "ms/seed*" in out and footnote in out


def test_locle_rounds_bar_ends_at_the_last_round(capsys):
    from test_locle_pipeline import CLASSES, TableAnnotator, noisy_table, planted_graph, texts_of

    from noisygraph.locle import Locle

    data = planted_graph()
    Locle(budget=30, num_rounds=5, svd_dim=4, epochs=5, verbose=True).fit(
        data, texts=texts_of(data), classes=CLASSES, annotator=TableAnnotator(*noisy_table(data.y)))
    err = capsys.readouterr().err
    assert "locle rounds" in err and "5/5" in err


def test_text_embedding_names_itself_and_its_cache(monkeypatch, tmp_path, capsys):
    from noisygraph.locle import text

    class FakeModel:
        def encode(self, texts, **kwargs):
            return torch.ones(len(texts), 384)

    monkeypatch.setattr(text, "load_sentence_model", lambda name: FakeModel())
    out = text.embed_texts(["a", "b", "c"], cache_path=tmp_path, verbose=True)
    assert out.shape == (3, 384)
    err = capsys.readouterr().err
    assert f"embedding 3 texts with {text.DEFAULT_MODEL}, once (cached in {tmp_path})" in err
    text.embed_texts(["a", "b", "c"], cache_path=tmp_path, verbose=True)  # from the cache
    assert "embedding" not in capsys.readouterr().err
