import os
import pathlib

import pytest
import torch

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory):
    """No test writes into the user's real cache (``~/.cache/noisygraph/processed``): unless
    the caller set ``NOISYGRAPH_CACHE`` (CI sets its own folder, which is honoured), the whole
    session uses a temporary one. Tests that need a cache of their own still set it with
    ``monkeypatch.setenv``."""
    if os.environ.get("NOISYGRAPH_CACHE"):
        yield pathlib.Path(os.environ["NOISYGRAPH_CACHE"])
        return
    path = tmp_path_factory.mktemp("noisygraph-cache")
    os.environ["NOISYGRAPH_CACHE"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("NOISYGRAPH_CACHE", None)


@pytest.fixture(scope="session")
def data_root() -> pathlib.Path:
    """The real data sets: ``NOISYGRAPH_DATA`` if set, else ``../shared/data``."""
    root = pathlib.Path(os.environ.get("NOISYGRAPH_DATA", SHARED_DATA))
    if not root.exists():
        pytest.skip(f"data root {root} not present")
    return root


@pytest.fixture
def one_thread():
    """Tiny graphs: one intra-op thread avoids OpenMP spin-waits on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    """Runs the test with one and with two intra-op threads (kernels split rows by thread)."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)
