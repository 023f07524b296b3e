"""pytest plugin of ``make test-asan``: makes ``noisygraph._C`` the sanitized build of the
extension named by ``NOISYGRAPH_SANITIZED_EXTENSION`` (built into build/asan), loaded before
anything imports noisygraph, so the tests run the Python package of this tree over it."""
import importlib.machinery
import importlib.util
import os
import sys

import torch  # noqa: F401  (loads libc10 and libtorch, which the extension links against)

PATH = os.environ["NOISYGRAPH_SANITIZED_EXTENSION"]
if "noisygraph" in sys.modules:
    raise RuntimeError("noisygraph was imported before the sanitized extension was loaded")
_loader = importlib.machinery.ExtensionFileLoader("noisygraph._C", PATH)
_module = importlib.util.module_from_spec(
    importlib.util.spec_from_file_location("noisygraph._C", PATH, loader=_loader))
_loader.exec_module(_module)
sys.modules["noisygraph._C"] = _module


def pytest_report_header(config):
    return f"sanitized extension: {PATH}"


def pytest_sessionstart(session):
    import noisygraph

    assert noisygraph.backend() == "compiled-cpu", noisygraph.backend()
    assert sys.modules["noisygraph._C"] is _module
