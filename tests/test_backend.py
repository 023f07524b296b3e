import torch

import noisygraph


def test_backend_names_a_known_path():
    assert noisygraph.backend() in {"compiled-cpu", "compiled-cuda", "reference"}


def test_compiled_library_registers_ops():
    if noisygraph.backend() == "reference":
        return
    assert hasattr(torch.ops.noisygraph, "spmm")
