"""``noisygraph detect``: bad flags end in one line and exit status 2 before any data is read;
a small run on Cora writes its JSON."""
import json

import pytest

import noisygraph_cli


@pytest.mark.parametrize("argv,flag", [
    (["--rate", "0.2"], "--noise"),
    (["--noise", "uniform"], "--rate"),
    (["--noise", "uniform", "--rate", "1.5"], "--rate"),
    (["--train-fraction", "1.0"], "--train-fraction"),
    (["--folds", "1"], "--folds"),
    (["--epochs", "0"], "--epochs"),
    (["--erase-epochs", "0"], "--erase-epochs"),
    (["--seed", "-1"], "--seed"),
    (["--threads", "0"], "--threads"),
])
def test_bad_flags(argv, flag, capsys):
    status = noisygraph_cli.main(["detect", "--dataset", "Cora", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith(f"noisygraph detect: error: {flag}")


def test_small_run_writes_json(tmp_path, capsys):
    out = tmp_path / "out.json"
    status = noisygraph_cli.main(["detect", "--dataset", "Cora", "--noise", "uniform", "--rate",
                                  "0.3", "--folds", "2", "--epochs", "20", "--threads", "1",
                                  "--json", str(out)])
    assert status == 0
    assert "training labels flagged" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["num_train"] == 140 and 0 < record["num_issues"] < 140
    assert record["evaluation"]["auroc"] > 0.6
    assert len(record["flagged_nodes"]) == record["num_issues"]


def test_erase_embedding_evidence_flag(tmp_path, capsys):
    out = tmp_path / "out.json"
    status = noisygraph_cli.main(["detect", "--dataset", "Cora", "--noise", "uniform", "--rate",
                                  "0.3", "--folds", "2", "--epochs", "20", "--erase-epochs", "3",
                                  "--threads", "1", "--json", str(out)])
    assert status == 0
    record = json.loads(out.read_text())
    assert record["erase_epochs"] == 3 and 0 < record["num_issues"] < 140
