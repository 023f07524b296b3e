"""The ``noisygraph data`` subcommand (called through its configure/run pair)."""
import argparse

import pytest

from noisygraph.commands import data as command


def _run(argv):
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command.run(parser.parse_args(argv))


def test_list_names_the_root_and_its_data_sets(data_root, capsys):
    assert _run(["list", "--root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert str(data_root) in out and "coauthor_cs" in out and "csbm" in out


def test_show_with_paper_noise_prints_the_realised_rate(data_root, capsys):
    assert _run(["show", "Cora", "--root", str(data_root), "--noise", "pair", "--rate", "0.5",
                 "--sampler", "paper", "--seed", "123"]) == 0
    out = capsys.readouterr().out
    assert "2,708 nodes" in out and "10,556 directed edges" in out
    assert "realised 54.3%" in out


def test_show_csbm_and_errors(capsys):
    assert _run(["show", "csbm", "--num-nodes", "500", "--noise", "uniform", "--on", "all", "--sampler", "exact",
                 "--rate", "0.2"]) == 0
    assert "realised 20.0%" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="give a data set name"):
        _run(["show"])
