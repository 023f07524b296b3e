import os
import pathlib

import pytest
import torch

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
