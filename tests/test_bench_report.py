"""The benchmark's report: a table shows every cell of the grid, a missing one as ``—`` (never
a number), one run without a spread, the run counts and the protocol; ``train=False`` /
``noisygraph bench --report`` builds the tables from the cache alone; the plot has one panel
per (data set, noise kind) and the run counts in its legend."""
import json

import matplotlib.colors
import matplotlib.figure
import pytest

import noisygraph_cli
from noisygraph.bench import run_benchmark
from noisygraph.bench import runner
from noisygraph.datasets import csbm

DATA = csbm(120, num_classes=3, num_features=8, seed=0, train_per_class=10, num_val=30,
            num_test=60)
ACCURACY = {"gcn": 60.0, "erase": 70.0}


def _fake_cell(cell, *args):
    """A record without training: accuracy = the method's base + run + 10 * rate."""
    val = 0.25 if cell.config["protocol"] == "noisy-val" else None
    return {"key": cell.key, **cell.config,
            "accuracy": ACCURACY[cell.method] + cell.run + 10 * cell.rate,
            "realised_rate": cell.rate, "realised_val_rate": val, "best_epoch": 1,
            "epochs_run": 1, "seconds": 2.0 + cell.run}


@pytest.fixture()
def fake(monkeypatch):
    trained = []
    monkeypatch.setattr(runner, "run_cell", lambda cell, *a: trained.append(cell) or _fake_cell(cell))
    return trained


def _grid(cache, **changes):
    grid = dict(noise=["uniform", "pair"], rates=[0.2, 0.4], runs=2, threads=1, verbose=False,
                cache=cache)
    grid.update(changes)
    return grid


def _row(table, name):
    return next(line for line in table.splitlines() if line.startswith(f"| {name} |"))


def test_report_shows_missing_cells_as_missing_and_trains_nothing(fake, tmp_path):
    cache = tmp_path / "cells.jsonl"
    # cached: gcn, uniform only, 20 % with two runs and 40 % with one
    run_benchmark({"g": DATA}, ["gcn"], **_grid(cache, noise=["uniform"], rates=[0.2]))
    run_benchmark({"g": DATA}, ["gcn"], **_grid(cache, noise=["uniform"], rates=[0.4], runs=1))
    assert len(fake) == 3
    fake.clear()
    result = run_benchmark({"g": DATA}, ["gcn", "erase"], train=False, **_grid(cache))
    assert fake == [] and not result.complete and result.cached == 3
    table = result.to_markdown()
    assert "**g**, protocol `paper`: test accuracy (%)" in table
    assert "| method | uniform 20% | uniform 40% | pair 20% | pair 40% | s/run |" in table
    # two runs: mean ± population std; one run: no spread; not run: a dash, never a number
    assert _row(table, "gcn") == "| gcn | 62.50 ± 0.50 (2) | 64.00 (1) | — | — | 2.3 |"
    assert _row(table, "erase") == "| erase | — | — | — | — | — |"  # kept, not dropped
    assert _row(table, "realised rate") == "| realised rate | 20.0% | 40.0% | — | — | |"
    assert "6 of 8 cells not run (—), 1 with fewer than 2 runs." in table


def test_complete_table_has_no_missing_note_and_noisy_val_shows_both_rates(fake, tmp_path):
    result = run_benchmark({"g": DATA}, ["gcn"], protocol="noisy-val",
                           **_grid(tmp_path / "c.jsonl", noise=["uniform"]))
    protocol, table = result.to_markdown().split("\n", 1)
    assert protocol.startswith("Protocol `noisy-val`")
    assert "protocol `noisy-val`" in table and "not run" not in table and "—" not in table
    assert _row(table, "realised rate (train / val)") == \
        "| realised rate (train / val) | 20.0% / 25.0% | 40.0% / 25.0% | |"


def test_report_command_trains_nothing_and_writes_the_partial_tables(fake, tmp_path, capsys):
    cache = tmp_path / "cells.jsonl"
    run_benchmark({"Cora": "Cora"}, ["gcn"], **_grid(cache, noise=["uniform"], rates=[0.2],
                                                     runs=1))
    fake.clear()
    out = tmp_path / "r"
    argv = ["bench", "--methods", "gcn", "erase", "--datasets", "Cora", "--noise", "uniform",
            "--rates", "0.2", "--runs", "1", "--threads", "1", "--cache", str(cache), "--report",
            "--json", f"{out}.json", "--markdown", f"{out}.md"]
    assert noisygraph_cli.main(argv) == 0
    assert fake == []
    printed = capsys.readouterr().out
    assert "1 of 1 cells read from" in printed and "1 of the grid's 2 not run" in printed
    markdown = (tmp_path / "r.md").read_text()
    assert _row(markdown, "gcn") == "| gcn | 62.00 (1) | 2.0 |"
    assert _row(markdown, "erase") == "| erase | — | — |"
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["complete"] is False and len(record["cells"]) == 1


def test_report_without_its_cache_file_is_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "none.jsonl"
    assert noisygraph_cli.main(["bench", "--methods", "gcn", "--runs", "1", "--report",
                                "--cache", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == (f"noisygraph bench: error: --cache: no file {str(missing)!r} to report "
                   "(--report trains nothing)\n")


def test_plot_has_a_panel_per_dataset_and_noise_and_run_counts_in_its_legend(fake, tmp_path,
                                                                              monkeypatch):
    cache = tmp_path / "cells.jsonl"
    run_benchmark({"g": DATA}, ["gcn"], **_grid(cache, noise=["uniform"]))
    run_benchmark({"g": DATA}, ["erase"], **_grid(cache, noise=["uniform"], rates=[0.2], runs=1))
    result = run_benchmark({"g": DATA}, ["gcn", "erase"], train=False, **_grid(cache))
    figures = []
    real = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: figures.append(fig) or real(fig, *a, **k))
    path = tmp_path / "acc.png"
    result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = figures
    panels = [axis for axis in fig.axes if axis.get_title()]
    assert [axis.get_title() for axis in panels] == ["g, uniform noise", "g, pair noise"]
    assert fig._suptitle.get_text() == "protocol paper"
    assert [t.get_text() for t in panels[1].texts] == ["not run"]  # no pair cell finished
    assert list(panels[0].get_xticks()) == [20.0, 40.0]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["gcn (2 runs)", "erase (1 run)"]


def test_plot_gives_eleven_methods_eleven_colours(tmp_path, monkeypatch):
    from noisygraph.plotting import plot_accuracy_vs_rate
    methods = [f"m{i}" for i in range(11)]
    summary = [{"dataset": "g", "noise": "uniform", "method": m, "rate": rate, "runs": 1,
                "accuracy_mean": 50.0 + i, "accuracy_std": 0.0}
               for i, m in enumerate(methods) for rate in (0.2, 0.4)]
    figures = []
    real = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: figures.append(fig) or real(fig, *a, **k))
    plot_accuracy_vs_rate(summary, str(tmp_path / "acc.png"))
    (fig,) = figures
    colours = {tuple(matplotlib.colors.to_rgba(line.get_color()))
               for line in fig.axes[0].get_lines() if len(line.get_xdata()) == 2}
    assert len(colours) == 11
