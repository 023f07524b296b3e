"""The ``noisygraph data`` subcommand, through ``noisygraph_cli.main`` (validate, then run)."""
import pytest

import noisygraph_cli as cli
from noisygraph_cli import data as command


def _main(argv):
    return cli.main(["data"] + argv)


def test_list_names_the_root_and_its_data_sets(data_root, capsys):
    assert _main(["list", "--root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert str(data_root) in out and "coauthor_cs" in out and "csbm" in out


def test_show_with_paper_noise_prints_the_realised_rate(data_root, capsys):
    assert _main(["show", "Cora", "--root", str(data_root), "--noise", "pair", "--rate", "0.5",
                  "--sampler", "paper", "--seed", "123"]) == 0
    out = capsys.readouterr().out
    assert "2,708 nodes" in out and "10,556 directed edges" in out
    assert "realised 54.3%" in out


def test_show_csbm(capsys):
    assert _main(["show", "csbm", "--num-nodes", "500", "--noise", "uniform", "--on", "all", "--sampler", "exact",
                  "--rate", "0.2"]) == 0
    assert "realised 20.0%" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["show"], "name"),
        (["show", "  "], "name"),
        (["list", "Cora"], "name"),
        (["list", "--noise", "pair"], "--noise"),
        (["list", "--seed", "3"], "--seed"),
        (["show", "Cora", "--rate", "0.3"], "--rate"),  # no --noise: the flag would do nothing
        (["show", "Cora", "--noise", "pair", "--rate", "1.0"], "--rate"),
        (["show", "Cora", "--noise", "pair", "--rate", "-0.1"], "--rate"),
        (["show", "Cora", "--noise", "pair", "--rate", "nan"], "--rate"),
        (["show", "Cora", "--noise", "pair", "--rate", "inf"], "--rate"),
        (["show", "Cora", "--noise", "pair", "--seed", "-3"], "--seed"),
        (["show", "Cora", "--noise", "pair", "--seed", str(2**32)], "--seed"),
        (["show", "Cora", "--noise", "instance", "--sampler", "paper"], "--sampler"),
        (["show", "csbm", "--num-nodes", "0"], "--num-nodes"),
        (["show", "csbm", "--num-nodes", "99"], "--num-nodes"),
        (["show", "Cora", "--num-nodes", "500"], "--num-nodes"),
        (["show", "Cora", "--root", "/nonexistent/noisygraph-data"], "--root"),
    ],
)
def test_bad_flags_are_one_line_and_status_2_before_loading(argv, flag, capsys, monkeypatch):
    monkeypatch.setattr("noisygraph.datasets.load_dataset", lambda *a, **k: pytest.fail("loaded data"))
    assert _main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"noisygraph data: error: {flag}: ") and err.count("\n") == 1


def test_a_data_root_variable_pointing_nowhere_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NOISYGRAPH_DATA", str(tmp_path / "absent"))
    assert _main(["list"]) == 2
    assert capsys.readouterr().err.startswith("noisygraph data: error: NOISYGRAPH_DATA: ")
    assert _main(["show", "csbm", "--num-nodes", "200"]) == 0  # the generator reads no root


def test_missing_and_malformed_data_are_one_line(tmp_path, capsys):
    assert _main(["show", "coauthor_cs", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "adj.txt" in err and "NOISYGRAPH_DATA" in err
    folder = tmp_path / "wfd" / "broken"
    folder.mkdir(parents=True)
    (folder / "adj.txt").write_text("2\n1\n")
    (folder / "labels.txt").write_text("1\nx\n")
    assert _main(["show", "broken", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "labels.txt line 2" in err
    assert _main(["show", "no_such_graph", "--root", str(tmp_path)]) == 2
    assert "unknown data set name" in capsys.readouterr().err


def test_instance_noise_without_features_is_reported(data_root, capsys):
    assert _main(["show", "coauthor_cs", "--root", str(data_root), "--noise", "instance", "--on", "all"]) == 2
    assert "'instance' noise needs x" in capsys.readouterr().err


def test_validate_is_registered():
    parser = cli.build_parser()
    args = parser.parse_args(["data", "show", "Cora"])
    assert args._validate is command.validate
