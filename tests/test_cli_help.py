"""``noisygraph --help`` and every ``noisygraph <cmd> --help`` answer without importing torch or
torch_geometric (issue 11: help in under a second; ``import torch`` alone takes about 2 s of CPU
on a 2-core machine) and contain no reStructuredText markup."""
import argparse
import re
import subprocess
import sys

import pytest

import noisygraph_cli

HEAVY = ("torch", "torch_geometric", "numpy", "noisygraph")

# Run --help in a fresh interpreter, then list the heavy modules it had imported.
PROBE = """
import sys
import noisygraph_cli
try:
    noisygraph_cli.main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print('HEAVY', heavy, file=sys.stderr)
"""


def _help(*argv: str) -> tuple[str, list[str]]:
    code = PROBE.format(heavy=set(HEAVY))
    done = subprocess.run([sys.executable, "-c", code, *argv, "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    heavy_line = [line for line in done.stderr.splitlines() if line.startswith("HEAVY ")]
    assert len(heavy_line) == 1, done.stderr
    return done.stdout, eval(heavy_line[0][len("HEAVY "):])


@pytest.mark.parametrize("command", [None, *noisygraph_cli.SUBCOMMANDS])
def test_help_imports_neither_torch_nor_the_library(command):
    out, heavy = _help(*([command] if command else []))
    assert out.startswith("usage: noisygraph")
    assert heavy == [], f"--help imported {heavy}"


@pytest.mark.parametrize("command", list(noisygraph_cli.SUBCOMMANDS))
def test_help_has_no_rst_markup(command):
    out, _ = _help(command)
    assert not re.search(r"``|:(func|class|mod|meth):`", out), out


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "noisygraph_cli", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: noisygraph")


def _subparsers():
    parser = noisygraph_cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


@pytest.mark.parametrize("command", list(noisygraph_cli.SUBCOMMANDS))
def test_every_flag_with_a_default_says_it(command):
    sub = _subparsers()[command]
    missing = [action.option_strings[0] for action in sub._actions
               if action.option_strings and action.default not in (None, False, argparse.SUPPRESS)
               and "default" not in (action.help or "")]
    assert missing == [], f"{command}: no default shown for {missing}"


@pytest.mark.parametrize("command,flag,default", [
    ("erase", "--runs", "10"), ("erase", "--patience", "150"), ("erase", "--rate", "0.4"),
    ("erase", "--seed", "123"), ("cluster", "--rate", "0.0"), ("locle", "--budget", "320"),
    ("data", "--rate", "0.2"),
])
def test_help_text_shows_the_default(command, flag, default):
    out, _ = _help(command)
    options = out[out.index("options:"):]
    entry = re.search(rf"^  {re.escape(flag)}\b(.*?)(?=^  -|\Z)", options, re.M | re.S)
    assert entry is not None, options
    assert f"default: {default}" in " ".join(entry.group(1).split()), entry.group(0)


def test_shared_flags_mean_the_same_everywhere():
    """--seed is an RNG seed (an int) wherever it exists, --noise a noise kind, --rate a float;
    cluster's seed nodes are --node."""
    from noisygraph_cli.choices import NOISE_KINDS

    for name, sub in _subparsers().items():
        flags = {s: a for a in sub._actions for s in a.option_strings}
        if "--seed" in flags:
            assert flags["--seed"].type is int and "random seed" in flags["--seed"].help, name
        if "--noise" in flags:
            assert tuple(flags["--noise"].choices) == NOISE_KINDS, name
        if "--rate" in flags:
            assert flags["--rate"].type is float, name
        for shared in ("--threads", "--json", "--root"):
            if shared in flags:
                assert flags[shared].default is None, (name, shared)
    cluster = {s for a in _subparsers()["cluster"]._actions for s in a.option_strings}
    assert {"--node", "--seed", "--rate", "--root", "--threads", "--json"} <= cluster
    assert "--noise-seed" not in cluster


@pytest.mark.parametrize("argv", [
    ["erase", "--rate", "2"], ["erase", "--runs", "0"], ["erase", "--threads", "0"],
    ["cluster", "--dataset", "cora", "--node", "0", "--rate", "0.7"],
    ["cluster", "--dataset", "cora", "--node", "x"],
    ["data", "show", "Cora", "--noise", "pair", "--rate", "2"],
    ["locle", "--budget", "0"], ["locle", "--seed", "-1"],
])
def test_a_flag_error_needs_no_torch(argv):
    """The cheap checks come first in validate(): a bad number is reported without importing
    torch (the library is imported only by the checks that need it, e.g. data-set names)."""
    code = ("import sys\nimport noisygraph_cli\nstatus = noisygraph_cli.main(sys.argv[1:])\n"
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r})\n"
            "print('HEAVY', heavy, 'STATUS', status, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=60)
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"noisygraph {argv[0]}: error: --"), lines
    assert lines[1] == "HEAVY [] STATUS 2", lines
