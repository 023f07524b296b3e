"""The benchmark runner (``noisygraph.bench``) and ``noisygraph bench``: one protocol for every
method, per-cell cache (resume re-runs nothing, a changed configuration reuses nothing),
``jobs`` independent results, the Markdown table and the plot, and bad flags (one line, exit 2)."""
import json

import pytest
import torch

import noisygraph.baselines
import noisygraph.bench
import noisygraph_cli
from noisygraph.bench import (METHODS, GridError, build_method, get_method, method_registry,
                              run_benchmark)
from noisygraph.bench import runner
from noisygraph.datasets import csbm
from noisygraph.erase import GCNBaseline, History

DATA = csbm(240, num_classes=3, num_features=16, seed=0, train_per_class=10, num_val=60,
            num_test=100)
GRID = dict(noise=["uniform"], rates=[0.2, 0.4], runs=2, epochs=5, patience=5, threads=1,
            verbose=False)
METHOD_NAMES = ["gcn", "erase"]


def _accuracies(result):
    return [(r["method"], r["rate"], r["run"], r["accuracy"], r["realised_rate"])
            for r in result.records]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The whole 8-cell grid, run once in this process with a cache."""
    cache = tmp_path_factory.mktemp("bench") / "cells.jsonl"
    return run_benchmark({"csbm": DATA}, METHOD_NAMES, cache=cache, **GRID), cache


def test_grid_records_every_cell_with_its_protocol(full):
    result, cache = full
    assert result.complete and len(result.records) == 8 and result.cached == 0
    assert len(cache.read_text().splitlines()) == 8
    for record in result.records:
        assert 0.0 <= record["accuracy"] <= 100.0
        assert record["realised_rate"] == pytest.approx(record["rate"], abs=0.5 / 30)
        assert record["seed"] == 123 + 100 * record["run"]
        assert record["realised_val_rate"] is None  # paper protocol: clean validation
    assert "clean validation labels" in result.protocol
    by_cell = {}
    for record in result.records:  # every method saw the same noisy draw
        by_cell.setdefault((record["rate"], record["run"]), set()).add(record["realised_rate"])
    assert all(len(rates) == 1 for rates in by_cell.values())


def test_resume_reruns_nothing(full, monkeypatch):
    result, cache = full

    def forbidden(*args, **kwargs):
        raise AssertionError("a cached cell was trained again")

    monkeypatch.setattr(runner, "run_cell", forbidden)
    again = run_benchmark({"csbm": DATA}, METHOD_NAMES, cache=cache, **GRID)
    assert again.cached == 8 and _accuracies(again) == _accuracies(result)


def test_interrupted_run_continues_with_only_the_missing_cells(full, tmp_path, monkeypatch):
    result, _ = full
    cache = tmp_path / "cells.jsonl"

    def stop_after_three(partial):
        if len(partial.records) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_benchmark({"csbm": DATA}, METHOD_NAMES, cache=cache, on_record=stop_after_three,
                      **GRID)
    assert len(cache.read_text().splitlines()) == 3
    trained = []
    real = runner.run_cell
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a: trained.append(cell) or real(cell, *a))
    resumed = run_benchmark({"csbm": DATA}, METHOD_NAMES, cache=cache, **GRID)
    assert resumed.cached == 3 and len(trained) == 5
    assert _accuracies(resumed) == _accuracies(result)  # deterministic per cell


def test_changed_configuration_reuses_nothing(full, monkeypatch):
    _, cache = full
    trained = []
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a: trained.append(cell) or {
        "key": cell.key, **cell.config, "accuracy": 50.0, "realised_rate": 0.2,
        "realised_val_rate": None, "best_epoch": 1, "epochs_run": 1, "seconds": 0.0})
    grid = dict(GRID, epochs=6)
    changed = run_benchmark({"csbm": DATA}, ["gcn"], cache=cache, **grid)
    assert changed.cached == 0 and len(trained) == 4
    other_data = csbm(240, num_classes=3, num_features=16, seed=1, train_per_class=10,
                      num_val=60, num_test=100)
    trained.clear()
    assert run_benchmark({"csbm": other_data}, ["gcn"], cache=cache, **GRID).cached == 0
    assert len(trained) == 4


def test_two_jobs_give_the_results_of_one(full):
    result, _ = full
    parallel = run_benchmark({"csbm": DATA}, METHOD_NAMES, jobs=2, **GRID)
    assert _accuracies(parallel) == _accuracies(result)


def test_markdown_table_and_plot(full, tmp_path):
    result, _ = full
    table = result.to_markdown()
    assert table.startswith("Protocol `paper`")
    assert "| method | uniform 20% | uniform 40% | s/run |" in table
    for method in METHOD_NAMES:
        row = next(line for line in table.splitlines() if line.startswith(f"| {method} |"))
        assert row.count("±") == 2 and "(2)" in row
    assert "| realised rate | 20.0% | 40.0% | |" in table
    path = tmp_path / "acc.png"
    result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = result.to_dict()["summary"]
    assert len(summary) == 4 and {row["runs"] for row in summary} == {2}


def test_noisy_val_records_the_validation_rate():
    result = run_benchmark({"csbm": DATA}, ["gcn"], protocol="noisy-val",
                           **dict(GRID, rates=[0.4], runs=1))
    record = result.records[0]
    assert record["realised_val_rate"] == pytest.approx(0.4, abs=0.5 / 60)
    assert "noisy validation labels" in result.protocol
    assert "realised rate (train / val)" in result.to_markdown()


def test_a_graph_without_features_or_split_is_a_grid_error():
    for name in ("x", "val_mask"):
        bare = DATA.clone()
        del bare[name]
        with pytest.raises(GridError, match=f"datasets: 'bare' has no {name}"):
            run_benchmark({"bare": bare}, ["gcn"], rates=[0.2], runs=1)


# ------------------------------------------------------------------ the registry

def test_registry_has_the_methods_and_adds_baselines_methods(monkeypatch):
    assert METHODS["gcn"] is GCNBaseline and {"gcn", "erase"} <= set(method_registry())

    class Stub(GCNBaseline):
        pass

    monkeypatch.setattr(noisygraph.baselines, "METHODS", {"stub": Stub, "gcn": Stub},
                        raising=False)
    registry = method_registry()
    assert registry["stub"] is Stub and registry["gcn"] is GCNBaseline  # first name wins
    assert isinstance(build_method("stub", protocol="paper", seed=0, epochs=3), Stub)


def test_every_registered_method_follows_the_interface():
    torch.set_num_threads(1)
    from noisygraph.noise import AddLabelNoise

    data = AddLabelNoise("uniform", 0.2, seed=0)(DATA.clone())
    for name in method_registry():
        method = build_method(name, protocol="paper", seed=0, epochs=2, patience=1)
        history = method.fit(data, y_noisy=data.y_noisy, noise_mask=data.noise_mask)
        assert isinstance(history, History), name
        assert method.predict().shape == data.y.shape, name


def test_unknown_method_and_option_are_rejected():
    with pytest.raises(ValueError, match="methods: unknown method 'nope'"):
        get_method("nope")
    with pytest.raises(ValueError, match="gcn.*no option gamma1"):
        build_method("gcn", protocol="paper", seed=0, gamma1=1.0)


# ------------------------------------------------------------------ the command

def test_command_writes_json_markdown_plot_and_reuses_its_cache(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["bench", "--methods", "gcn", "--datasets", "Cora", "--rates", "0.2", "--runs", "1",
            "--epochs", "3", "--threads", "1", "--quiet", "--cache", str(tmp_path / "c.jsonl"),
            "--json", f"{out}.json", "--markdown", f"{out}.md", "--plot", f"{out}.png"]
    assert noisygraph_cli.main(argv) == 0
    first = json.loads((tmp_path / "bench.json").read_text())
    assert first["complete"] and first["cells_cached"] == 0
    assert first["summary"][0]["realised_rate"] == pytest.approx(0.2, abs=0.01)
    assert "Protocol `paper`" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").stat().st_size > 0
    assert "| gcn |" in capsys.readouterr().out
    assert noisygraph_cli.main(argv) == 0
    second = json.loads((tmp_path / "bench.json").read_text())
    assert second["cells_cached"] == 1 and second["cells"] == first["cells"]


BAD_FLAGS = [
    (["--rates", "1.5"], "--rates: must be <= 1.0"),
    (["--rates", "nan"], "--rates: must be a finite number"),
    (["--rates", "0.2", "0.2"], "--rates: repeats 0.2"),
    (["--runs", "0"], "--runs: must be >= 1"),
    (["--jobs", "0"], "--jobs: must be >= 1"),
    (["--epochs", "0"], "--epochs: must be >= 1"),
    (["--patience", "-1"], "--patience: must be >= 0"),
    (["--threads", "0"], "--threads: must be >= 1"),
    (["--seed", "-1"], "--seed: must be in [0, 2**32)"),
    (["--methods", "nope"], "--methods: unknown method 'nope'"),
    (["--methods", "gcn", "gcn"], "--methods: repeats gcn"),
    (["--datasets", "nowhere"], "--datasets: unknown data set 'nowhere'"),
    (["--datasets", "csbm"], "--datasets: csbm needs generator sizes"),
    (["--noise", "instance", "--sampler", "paper"], "--sampler: paper reproduces"),
    (["--noise", "annotator", "--sampler", "paper"], "--sampler: paper reproduces"),
    (["--json", "/nonexistent/folder/x.json"], "--json: folder"),
    (["--cache", "/nonexistent/folder/c.jsonl"], "--cache: folder"),
]


def test_annotator_noise_on_a_graph_without_texts_is_one_line_exit_2(capsys):
    assert noisygraph_cli.main(["bench", "--methods", "gcn", "--noise", "annotator",
                                "--runs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == ("noisygraph bench: error: --noise: 'annotator' needs a text graph (node texts "
                   "and class names, e.g. dblp); 'Cora' has none\n")


@pytest.mark.parametrize("flags,message", BAD_FLAGS, ids=[m.split(":")[0] + "-" + f[-1]
                                                          for f, m in BAD_FLAGS])
def test_bad_flags_are_one_line_exit_2(flags, message, capsys, monkeypatch):
    monkeypatch.setattr(noisygraph.bench, "run_benchmark", lambda *a, **k: pytest.fail("ran"))
    assert noisygraph_cli.main(["bench", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"noisygraph bench: error: {message}"), err
