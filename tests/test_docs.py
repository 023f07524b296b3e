"""Every code block of README.md and docs/*.md runs as written.

* ```` ```python ```` blocks of one file run in order in one namespace (one fresh interpreter
  per file), as a user pasting them one after the other would;
* ```` ```bash ```` / ```` ```sh ```` blocks run with ``bash -euo pipefail``, with the
  virtual environment's ``bin/`` first on ``PATH`` (so ``noisygraph`` is the installed CLI);
* a block that cannot run here says so in an HTML comment on the line right above it,
  with a reason: ``<!-- docs-test: skip (needs an OpenAI key) -->``;
* blocks of other languages (``text``, none) are output samples and are not run.

Everything runs in a temporary working directory with a fresh ``HOME`` (nothing lands in the
checkout or the user's home), ``NOISYGRAPH_DATA`` pointing at the test data root and
``NOISYGRAPH_CACHE`` at the test session's cache folder. A failure names the file, the block's first line,
the block and the end of its output.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN_LANGUAGES = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]*\S[^)]*)\)\s*-->")
MARKER = re.compile(r"<!--\s*docs-test\b")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^`\s]*)[^`]*$")
BLOCK_TIMEOUT_S = 300

@dataclass
class Block:
    path: pathlib.Path
    line: int  # 1-based line of the first line of code
    language: str  # the fence's info string, lower case
    code: str
    skip: Optional[str]  # the reason, when marked not-run

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def parse_blocks(path: pathlib.Path) -> list[Block]:
    """The fenced code blocks of ``path``, with the skip reason of the comment right above.

    Raises:
        ValueError: an unterminated fence, or a ``docs-test`` comment that is not a well-formed
            skip with a reason (so a typo never silently runs or skips a block).
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            if MARKER.search(lines[index]) and not SKIP.search(lines[index]):
                raise ValueError(f"{path}:{index + 1}: malformed docs-test comment {lines[index].strip()!r}; "
                                 "write <!-- docs-test: skip (reason) -->")
            index += 1
            continue
        fence, start = match.group("fence"), index
        end = next((j for j in range(index + 1, len(lines)) if lines[j].strip().startswith(fence)
                    and not lines[j].strip().strip(fence[0])), None)
        if end is None:
            raise ValueError(f"{path}:{start + 1}: code block never closed")
        above = lines[start - 1] if start else ""
        skip = SKIP.search(above)
        indent = len(match.group("indent"))
        code = "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines[start + 1:end])
        blocks.append(Block(path, start + 2, match.group("info").lower(), code + "\n",
                            skip.group("reason").strip() if skip else None))
        index = end + 1
    return blocks


# Runs the python blocks of one file in one namespace; the code is padded so that tracebacks
# carry the Markdown file's own line numbers.
_DRIVER = r"""
import json, sys, traceback
blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for block in blocks:
    print(f"--- running {block['where']}", flush=True)
    code = compile("\n" * (block["line"] - 1) + block["code"], block["file"], "exec")
    try:
        exec(code, namespace)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED-BLOCK {block['where']}", flush=True)
        sys.exit(1)
"""


def _environment(tmp_path: pathlib.Path, data_root: pathlib.Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        NOISYGRAPH_DATA=str(data_root),
        # the session's cache (tests/conftest.py): Cora and the other graphs are processed once
        NOISYGRAPH_CACHE=os.environ.get("NOISYGRAPH_CACHE") or str(tmp_path / "cache"),
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=f"{REPO}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(REPO),
    )
    return env


def _excerpt(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _blocks_to_run(path: pathlib.Path, language: str) -> list[Block]:
    return [block for block in parse_blocks(path) if RUN_LANGUAGES.get(block.language) == language]


def _id(path: pathlib.Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", DOC_FILES, ids=_id)
def test_python_blocks_run(path, tmp_path, data_root):
    blocks = [block for block in _blocks_to_run(path, "python") if block.skip is None]
    if not blocks:
        pytest.skip(f"{_id(path)} has no python block to run")
    payload = [{"where": block.where, "file": str(block.path), "line": block.line, "code": block.code}
               for block in blocks]
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(payload), cwd=work,
                            env=_environment(tmp_path, data_root), capture_output=True, text=True,
                            timeout=BLOCK_TIMEOUT_S * len(blocks))
    if result.returncode != 0:
        failed = re.search(r"FAILED-BLOCK (\S+)", result.stdout)
        where = failed.group(1) if failed else "(before the first block)"
        code = next((block.code for block in blocks if block.where == where), "")
        pytest.fail(f"python block at {where} failed:\n{code}\n--- output:\n"
                    f"{_excerpt(result.stdout + result.stderr)}", pytrace=False)


def _bash_cases():
    cases = []
    for path in DOC_FILES:
        for block in _blocks_to_run(path, "bash"):
            marks = [pytest.mark.skip(reason=f"{block.where}: {block.skip}")] if block.skip else []
            cases.append(pytest.param(block, id=block.where, marks=marks))
    return cases


@pytest.mark.parametrize("block", _bash_cases())
def test_bash_blocks_run(block, tmp_path, data_root):
    work = tmp_path / "work"
    work.mkdir()
    try:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=work,
                                env=_environment(tmp_path, data_root), capture_output=True, text=True,
                                timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bash block at {block.where} ran past {BLOCK_TIMEOUT_S} s:\n{block.code}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"bash block at {block.where} exited with status {result.returncode}:\n{block.code}\n"
                    f"--- output:\n{_excerpt(result.stdout + result.stderr)}", pytrace=False)


# --- the collector itself -------------------------------------------------------------------------

def test_parser_reads_fences_languages_and_skip_reasons(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("text\n```python\nx = 1\n```\n<!-- docs-test: skip (needs a GPU) -->\n```bash\nmake\n```\n"
                   "```text\noutput\n```\n")
    blocks = parse_blocks(doc)
    assert [(b.language, b.line, b.code, b.skip) for b in blocks] == [
        ("python", 3, "x = 1\n", None), ("bash", 7, "make\n", "needs a GPU"), ("text", 10, "output\n", None)]


@pytest.mark.parametrize("comment", ["<!-- docs-test: skip -->", "<!-- docs-test: skip () -->",
                                     "<!-- docs-test: run -->"])
def test_parser_rejects_a_skip_without_a_reason(tmp_path, comment):
    doc = tmp_path / "doc.md"
    doc.write_text(f"{comment}\n```bash\nmake\n```\n")
    with pytest.raises(ValueError, match="malformed docs-test comment"):
        parse_blocks(doc)


def test_parser_rejects_an_unclosed_fence(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```python\nx = 1\n")
    with pytest.raises(ValueError, match="never closed"):
        parse_blocks(doc)


def test_every_doc_parses_and_no_block_is_left_unmarked():
    """Every doc parses; every bash/python block either runs or says why not."""
    for path in DOC_FILES:
        for block in parse_blocks(path):
            if block.skip is not None:
                assert RUN_LANGUAGES.get(block.language), f"{block.where}: a skip marker on a {block.language!r} block"


def test_docs_point_only_at_files_users_have():
    """No doc sends a reader to the project's internal files."""
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for needle in ("ANCHORS.md", "../shared", "shared/data"):
            assert needle not in text, f"{_id(path)} mentions {needle}"
