"""`import noisygraph` alone registers every op's autograd and fake kernel: in a fresh
interpreter that imports nothing else from the package, ``torch.library.opcheck`` (schema,
autograd registration, fake-tensor and AOT-dispatch tests) passes for every compiled op."""
import subprocess
import sys
import textwrap

import pytest
import torch

import noisygraph

SCRIPT = textwrap.dedent("""
    import sys
    import torch
    import noisygraph

    ops = torch.ops.noisygraph
    f64 = dict(dtype=torch.float64)
    # an undirected 6-cycle with a chord, CSR (rows are targets), symmetric weights
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3)]
    pairs = sorted(edges + [(j, i) for i, j in edges])
    rowptr = torch.zeros(7, dtype=torch.long)
    for i, _ in pairs:
        rowptr[i + 1] += 1
    rowptr = rowptr.cumsum(0)
    col = torch.tensor([j for _, j in pairs])
    value = torch.tensor([1.0 + ((i + j) % 3) for i, j in pairs], **f64)
    degree = torch.zeros(6, **f64).index_add_(0, torch.tensor([i for i, _ in pairs]), value)
    count = torch.bincount(torch.tensor([i for i, _ in pairs]), minlength=6).double()
    x = torch.rand(6, 3, **f64, requires_grad=True)
    w = value.clone().requires_grad_()
    mask = torch.tensor([True, False, False, True, False, False])
    checked = []

    def check(name, args):
        torch.library.opcheck(getattr(ops, name).default, args)
        checked.append(name)

    check("spmm", (rowptr, col, w, x))
    check("spmm", (rowptr, col, None, x.detach().float()))
    check("sddmm", (rowptr, col, x.detach(), x.detach()))
    check("diffuse", (rowptr, col, w, x, 3, 0.2, mask, False))
    check("diffuse", (rowptr, col, None, x, 3, 0.2, None, True))
    check("diffuse_adjoint", (rowptr, col, value, x.detach(), 3, 0.2, mask))
    labels = torch.tensor([0, 1, 0, 1, 2, 2])
    scale = torch.full((3,), 0.5, **f64, requires_grad=True)
    check("coding_rate", (x, labels, None, 3, 0.5, scale, True, True))
    check("coding_rate", (x, None, torch.rand(3, 6, **f64), 3, 0.5, scale, True, True))
    ptr, nodes, mass = torch.tensor([0, 1, 2]), torch.tensor([0, 4]), torch.tensor([5.0, 4.0], **f64)
    graph = (rowptr, col, value, degree)
    volume = float(degree.sum())
    check("local_flow_diffusion", (*graph, count, ptr, nodes, mass, 1e-4, 1.5, 1000))
    check("local_ppr_push", (*graph, ptr, nodes, mass, 0.1, 1e-4, 1000))
    check("local_sweep_cut", (*graph, ptr, nodes, mass, volume, True))
    check("local_flow_cluster", (*graph, count, ptr, nodes, mass,
                                 torch.tensor([1.5, 3.0], **f64), 1e-4, 1.5, 1000, volume))
    check("local_ppr_cluster", (*graph, ptr, nodes, mass, torch.tensor([1e-2, 1e-3], **f64),
                                0.1, 1000, volume))
    check("local_pnorm_diffusion", (*graph, count, ptr, nodes, mass, 4.0, 1e-4, 1000))
    check("local_pnorm_cluster", (*graph, count, ptr, nodes, mass,
                                  torch.tensor([1.5, 3.0], **f64), 4.0, 1e-4, 1000, volume))
    check("local_max_flow", (rowptr, col, value, 0, 3, 0.0, 10**6))
    check("local_mqi", (*graph, torch.tensor([0, 1]), volume, 50, 10**6))
    check("local_flow_improve", (*graph, torch.tensor([0, 1]), volume, 0.3, 50, 10**6))
    print(" ".join(sorted(set(checked))))
""")

ALL_OPS = {"spmm", "sddmm", "diffuse", "diffuse_adjoint", "coding_rate", "local_flow_diffusion",
           "local_ppr_push", "local_sweep_cut", "local_flow_cluster", "local_ppr_cluster",
           "local_max_flow", "local_mqi", "local_flow_improve", "local_pnorm_diffusion",
           "local_pnorm_cluster"}


@pytest.mark.skipif(noisygraph.backend() == "reference", reason="compiled library not built")
def test_bare_import_registers_every_fake_kernel():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(result.stdout.split()) == ALL_OPS
    # every operator of the library is in the list (coding_rate_backward is exercised by
    # coding_rate's autograd test)
    names = {name.split("::")[1].split(".")[0] for name in torch._C._dispatch_get_all_op_names()
             if name.startswith("noisygraph::")}
    assert names - {"coding_rate_backward"} == ALL_OPS
