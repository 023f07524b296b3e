"""The runner's ``noise_draw``: ``"per-run"`` (run r's noisy labels seeded with seed + 100 r,
the default, cache keys unchanged) or ``"once"`` (one draw seeded with ``seed`` shared by every
run and method: the ERASE release's protocol, which ``benchmarks/repro_erase.py`` runs through
the runner's own cells)."""
import json

import pytest

import noisygraph_cli
from noisygraph.bench import run_benchmark
from noisygraph.bench.runner import CACHE_FORMAT, make_cell
from noisygraph.datasets import csbm

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = csbm(200, num_classes=3, num_features=8, seed=0, train_per_class=10, num_val=40,
            num_test=80)
GRID = dict(noise=["uniform"], rates=[0.4], runs=3, epochs=3, patience=3, threads=1,
            verbose=False)


def _y_noisy_of_each_run(noise_draw, monkeypatch):
    from noisygraph.bench import runner

    seen = {}
    original = runner.corrupt

    def spy(data, noise, rate, *, protocol, sampler, seed):
        noisy, train, val = original(data, noise, rate, protocol=protocol, sampler=sampler,
                                     seed=seed)
        seen.setdefault(seed, noisy.y_noisy.clone())
        return noisy, train, val

    monkeypatch.setattr(runner, "corrupt", spy)
    result = run_benchmark({"g": DATA}, ["gcn"], noise_draw=noise_draw, **GRID)
    return result, seen


def test_once_shares_one_draw_over_the_runs(monkeypatch):
    result, seen = _y_noisy_of_each_run("once", monkeypatch)
    assert [r["noise_seed"] for r in result.records] == [123, 123, 123]
    assert [r["seed"] for r in result.records] == [123, 223, 323]
    assert list(seen) == [123]
    assert len({r["realised_rate"] for r in result.records}) == 1
    assert "seeded with 123 and shared by all methods and runs" in result.protocol
    assert result.config["noise_draw"] == "once"


def test_per_run_draws_differ(monkeypatch):
    result, seen = _y_noisy_of_each_run("per-run", monkeypatch)
    assert [r["noise_seed"] for r in result.records] == [123, 223, 323]
    assert list(seen) == [123, 223, 323]
    assert not all((seen[123] == seen[s]).all() for s in (223, 323))
    assert "seeded with 123 + 100 run" in result.protocol


def test_per_run_cell_config_is_the_one_recorded_before():
    """The per-run draw's config, field by field (what the cache key hashes)."""
    cell = make_cell("Cora", "f00", "gcn", "pair", 0.2, 2, sampler="exact", protocol="paper",
                     seed=5, options={"epochs": None, "patience": None})
    assert cell.config == {"format": CACHE_FORMAT, "dataset": "Cora", "data": "f00",
                           "method": "gcn", "revision": 1,
                           "options": {"epochs": None, "patience": None},
                           "noise": "pair", "rate": 0.2, "sampler": "exact",
                           "protocol": "paper", "run": 2, "seed": 205, "noise_seed": 205,
                           "annotator": None, "device": None}
    once = make_cell("Cora", "f00", "gcn", "pair", 0.2, 2, sampler="exact", protocol="paper",
                     seed=5, noise_draw="once")
    assert once.config["noise_seed"] == 5 and once.config["seed"] == 205
    assert once.key != cell.key


def test_a_new_method_revision_never_reuses_an_old_cell(monkeypatch):
    """A method whose defaults changed (a higher ``revision``) gets new cache keys."""
    from noisygraph.baselines import GCNBaseline
    old = make_cell("Cora", "f00", "gcn", "pair", 0.2, 0, sampler="exact", protocol="paper",
                    seed=5)
    monkeypatch.setattr(GCNBaseline, "revision", 2)
    new = make_cell("Cora", "f00", "gcn", "pair", 0.2, 0, sampler="exact", protocol="paper",
                    seed=5)
    assert new.config["revision"] == 2 and new.key != old.key
    assert make_cell("Cora", "f00", "nrgnn-lite", "pair", 0.2, 0, sampler="exact",
                     protocol="paper", seed=5).config["revision"] == 2


def test_bad_noise_draw_is_rejected():
    with pytest.raises(ValueError, match="noise_draw"):
        run_benchmark({"g": DATA}, ["gcn"], noise_draw="twice", **GRID)


def test_command_noise_draw_once(tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "--methods", "gcn", "--datasets", "Cora", "--rates", "0.4", "--runs", "2",
            "--sampler", "paper", "--noise-draw", "once", "--epochs", "2", "--threads", "1",
            "--quiet", "--cache", str(tmp_path / "c.jsonl"), "--json", str(out)]
    assert noisygraph_cli.main(argv) == 0
    report = json.loads(out.read_text())
    assert [c["noise_seed"] for c in report["cells"]] == [123, 123]
    assert "the ERASE release's draw" in report["protocol"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:  # argparse's choices: usage line, status 2
        noisygraph_cli.main(argv[:argv.index("once")] + ["sometimes"]
                            + argv[argv.index("once") + 1:])
    assert info.value.code == 2 and "--noise-draw" in capsys.readouterr().err
