"""The CLI's shared ending rules: a UsageError from validate() is one line and status 2,
raised before run() does any work; Ctrl-C is one line and status 130."""
import argparse

import pytest

import noisygraph_cli as cli
from noisygraph_cli._common import UsageError, check_number


def _fake_command(monkeypatch, validate, run):
    def build_parser():
        parser = argparse.ArgumentParser(prog="noisygraph")
        parser.set_defaults(command="fake", _validate=validate, _run=run)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)


def test_usage_error_is_one_line_status_2_before_run(monkeypatch, capsys):
    ran = []

    def validate(args):
        raise UsageError("--rate", "must be finite")

    _fake_command(monkeypatch, validate, lambda args: ran.append(1))
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err == "noisygraph fake: error: --rate: must be finite\n"
    assert ran == []


def test_ctrl_c_is_one_line_status_130(monkeypatch, capsys):
    def run(args):
        raise KeyboardInterrupt

    _fake_command(monkeypatch, None, run)
    assert cli.main([]) == 130
    assert capsys.readouterr().err == "noisygraph fake: interrupted\n"


@pytest.mark.parametrize("value,bounds", [(float("inf"), {}), (float("nan"), {}),
                                          (-1.0, {"low": 0.0}), (0.0, {"low": 0.0, "low_open": True}),
                                          (2.0, {"high": 1.0}), (1.0, {"high": 1.0, "high_open": True})])
def test_check_number_rejects(value, bounds):
    with pytest.raises(UsageError, match="--x"):
        check_number(value, "--x", **bounds)


def test_check_number_accepts_bounds():
    check_number(0.0, "--x", low=0.0, high=1.0)
    check_number(1.0, "--x", low=0.0, high=1.0)
