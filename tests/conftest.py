import os
import pathlib

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> pathlib.Path:
    """The real data sets: ``NOISYGRAPH_DATA`` if set, else ``../shared/data``."""
    root = pathlib.Path(os.environ.get("NOISYGRAPH_DATA", SHARED_DATA))
    if not root.exists():
        pytest.skip(f"data root {root} not present")
    return root
