"""``noisygraph --help`` and every ``noisygraph <cmd> --help`` answer without importing torch or
torch_geometric (issue 11: help in under a second; ``import torch`` alone takes about 2 s of CPU
on a 2-core machine) and contain no reStructuredText markup."""
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
