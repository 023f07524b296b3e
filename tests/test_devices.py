"""The public sparse and coding-rate ops on every device: ``cpu`` always, ``cuda`` when a GPU
is visible and the compiled library carries the CUDA kernels (skipped with the reason
otherwise).

On each device the op's result and gradients are compared with the pure-PyTorch reference
evaluated on the CPU in float64 (the ground truth), and on ``cuda`` also with the CPU
kernel at the same dtype. Cases: empty rows (and a graph with no edge at all), a star whose
hub has 10^5 leaves, power-law degrees, K = 64 diffusion steps, float32 and float64, and
F = 1, 3, 64, 130 dense columns (130 is not a multiple of any vector width).

Only public names are used (``noisygraph.ops.spmm`` / ``diffuse``,
``noisygraph.sparse.as_adjacency``, ``noisygraph.nn.CodingRateReductionLoss``); the
references are looked up by name anywhere under :mod:`noisygraph.ops`, so moving their
module does not break these tests.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

import pytest
import torch

import noisygraph
import noisygraph.ops
from noisygraph.nn import CodingRateReductionLoss
from noisygraph.ops import diffuse, spmm
from noisygraph.sparse import Adjacency, as_adjacency

CUDA_KERNELS = torch.cuda.is_available() and noisygraph.backend() == "compiled-cuda"
if not torch.cuda.is_available():
    _NO_CUDA = "no CUDA device visible"
else:
    _NO_CUDA = (f"a GPU is visible but noisygraph.backend() is {noisygraph.backend()!r}: the "
                "library was built without its CUDA kernels (FORCE_CUDA=1 to insist)")
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(not CUDA_KERNELS, reason=_NO_CUDA)),
]
DTYPES = [pytest.param(torch.float32, id="f32"), pytest.param(torch.float64, id="f64")]
WIDTHS = [1, 3, 64, 130]
ALPHA = 0.1


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """One intra-op thread: these graphs are small, and OpenMP's spin-waits on a shared
    machine cost more than the threads gain."""


@functools.cache
def reference(name: str):
    """The reference function ``name`` (e.g. ``"spmm_reference"``) from whichever module
    under :mod:`noisygraph.ops` defines it."""
    for module_name in ("noisygraph.ops.reference", "noisygraph.ops.coding_rate_reference"):
        try:
            return getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            pass
    for info in pkgutil.walk_packages(noisygraph.ops.__path__, "noisygraph.ops."):
        module = importlib.import_module(info.name)
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"no {name} under noisygraph.ops")


# ------------------------------------------------------------------ graphs (built on the CPU)
def _undirected(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.stack([source, target]), torch.stack([target, source])], dim=1)


def empty_rows_graph() -> tuple[torch.Tensor, int]:
    """500 nodes, edges among the first 40 only (460 empty rows and columns), with
    self-loops and duplicate edges."""
    g = torch.Generator().manual_seed(10)
    edges = torch.randint(0, 40, (2, 300), generator=g)
    loops = torch.arange(0, 40, 7)
    return torch.cat([edges, torch.stack([loops, loops]), edges[:, :5]], dim=1), 500


def no_edges_graph() -> tuple[torch.Tensor, int]:
    return torch.empty(2, 0, dtype=torch.long), 9


def star_graph(leaves: int = 100_000) -> tuple[torch.Tensor, int]:
    """A hub (node 0) joined both ways to ``leaves`` leaves: one row of 10^5 nonzeros."""
    return _undirected(torch.zeros(leaves, dtype=torch.long), torch.arange(1, leaves + 1)), \
        leaves + 1


def power_law_graph(num_nodes: int = 3000, num_edges: int = 15_000) -> tuple[torch.Tensor, int]:
    """Undirected graph whose degrees follow a power law: one end of every edge uniform, the
    other drawn with probability proportional to ``rank ** -1.1`` (node ids shuffled)."""
    g = torch.Generator().manual_seed(11)
    weights = torch.arange(1, num_nodes + 1, dtype=torch.float64) ** -1.1
    hubs = torch.randperm(num_nodes, generator=g)[torch.multinomial(weights, num_edges, True,
                                                                    generator=g)]
    return _undirected(torch.randint(0, num_nodes, (num_edges,), generator=g), hubs), num_nodes


GRAPHS = {"empty_rows": empty_rows_graph, "no_edges": no_edges_graph, "star": star_graph,
          "power_law": power_law_graph}


@functools.cache
def graph(kind: str, weighted: bool, normalized: bool) -> Adjacency:
    """A CPU adjacency in float64 (cast per test); ``normalized`` is ``sym``."""
    edge_index, num_nodes = GRAPHS[kind]()
    weight = None
    if weighted:
        g = torch.Generator().manual_seed(12)
        weight = torch.rand(edge_index.size(1), generator=g, dtype=torch.float64) + 0.1
    adj = as_adjacency(edge_index, num_nodes=num_nodes, edge_weight=weight)
    if normalized:
        adj = adj.normalize("sym")
    return adj


def csr(adj: Adjacency, dtype: torch.dtype, device: str, requires_grad: bool = False):
    """``(Adjacency on device with its values in dtype, the value leaf or None)``."""
    value = adj.value
    if value is None:
        return adj.to(device), None
    value = value.detach().to(device, dtype).requires_grad_(requires_grad)
    return Adjacency(adj.rowptr.to(device), adj.col.to(device), value, adj.num_cols), value


def random(shape, dtype, seed, low=-1.0, high=1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype)


TOL = {torch.float32: dict(rtol=1e-4, atol=2e-5), torch.float64: dict(rtol=1e-10, atol=1e-11)}


def assert_close(got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype, scale: float = 1.0):
    """``got`` (any device) against ``want`` (CPU float64); the absolute tolerance is scaled by
    ``scale``, the size of the sums that produced the values."""
    tol = dict(TOL[dtype])
    tol["atol"] *= max(scale, 1.0)
    assert got.dtype == dtype
    torch.testing.assert_close(got.detach().cpu().double(), want.detach().double(), **tol)


def magnitude_sums(adj: Adjacency, x: torch.Tensor) -> torch.Tensor:
    """``S_i = sum_e |w_e| |x_col(e)|`` per output entry: what bounds its rounding error."""
    value = None if adj.value is None else adj.value.abs().double()
    return reference("spmm_reference")(adj.rowptr, adj.col, value, x.abs().double())


def assert_within(got: torch.Tensor, want: torch.Tensor, sums: torch.Tensor, dtype):
    """``|got - want| <= c * S`` entrywise (``c`` = 2e-6 in float32, 1e-13 in float64): the
    hub's 10^5-term sums get room for their rounding, the ordinary rows no more than theirs."""
    c = 2e-6 if dtype == torch.float32 else 1e-13
    assert got.dtype == dtype
    err = (got.detach().cpu().double() - want).abs()
    bound = c * sums + 1e-30
    worst = int((err / bound).argmax()) if err.numel() else 0
    assert bool((err <= bound).all()), (
        f"error {err.flatten()[worst]:.3g} > bound {bound.flatten()[worst]:.3g} at flat "
        f"index {worst}")


# ------------------------------------------------------------------ spmm
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind", list(GRAPHS))
def test_spmm_matches_reference(device, dtype, width, weighted, kind):
    adj = graph(kind, weighted, normalized=False)
    x = random((adj.num_cols, width), dtype, seed=width)
    if not weighted:  # small integers: every sum is exact in float32 too, in any order
        x = torch.round(2 * x)
    want = reference("spmm_reference")(adj.rowptr, adj.col, adj.value, x.double())
    live, _ = csr(adj, dtype, device)
    got = spmm(live, x.to(device))
    assert got.device.type == device and got.shape == (adj.num_rows, width)
    if weighted:
        sums = magnitude_sums(adj, x)
        assert_within(got, want, sums, dtype)
    else:
        assert torch.equal(got.cpu().double(), want)
    if kind == "empty_rows":  # rows without an edge are exactly zero, also on the GPU
        assert not got[40:].any()
    if device != "cpu":
        cpu = spmm(csr(adj, dtype, "cpu")[0], x).double()
        if weighted:
            assert_within(got, cpu, 2 * sums, dtype)
        else:
            assert torch.equal(got.cpu().double(), cpu)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_spmm_reads_non_contiguous_input(device, dtype):
    adj = graph("power_law", True, normalized=False)
    wide = random((adj.num_cols, 10), dtype, seed=3)
    x = wide[:, ::3]  # strided columns
    assert not x.is_contiguous()
    live, _ = csr(adj, dtype, device)
    got = spmm(live, x.to(device))
    want = reference("spmm_reference")(adj.rowptr, adj.col, adj.value, x.double())
    assert_within(got, want, magnitude_sums(adj, x), dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind,width", [("empty_rows", 1), ("empty_rows", 130), ("star", 3),
                                        ("power_law", 1), ("power_law", 130)])
def test_spmm_gradients_match_reference(device, width, kind):
    """Gradients w.r.t. ``x`` (a transposed product) and the edge values (an SDDMM)."""
    dtype = torch.float64
    adj = graph(kind, True, normalized=False)
    x = random((adj.num_cols, width), dtype, seed=4)
    upstream = random((adj.num_rows, width), dtype, seed=5)

    def grads_on(dev):
        live, value = csr(adj, dtype, dev, requires_grad=True)
        x_dev = x.to(dev).requires_grad_()
        return torch.autograd.grad(spmm(live, x_dev), [value, x_dev], upstream.to(dev))

    value_ref = adj.value.detach().clone().requires_grad_()
    x_ref = x.clone().requires_grad_()
    want = torch.autograd.grad(
        reference("spmm_reference")(adj.rowptr, adj.col, value_ref, x_ref), [value_ref, x_ref],
        upstream)
    got = grads_on(device)
    for g, w in zip(got, want):
        assert_close(g, w, dtype, scale=1e3)
    if device != "cpu":
        for g, c in zip(got, grads_on("cpu")):
            assert_close(g, c, dtype, scale=1e3)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_spmm_gradcheck(device, weighted):
    edge_index, _ = empty_rows_graph()
    keep = (edge_index < 12).all(0)  # a 15-node graph with 3 empty rows: small for gradcheck
    small = as_adjacency(edge_index[:, keep], num_nodes=15,
                         edge_weight=random(int(keep.sum()), torch.float64, 6, 0.1, 1.1)
                         if weighted else None)
    x = random((15, 3), torch.float64, seed=7).to(device).requires_grad_()
    if not weighted:
        live = small.to(device)
        assert torch.autograd.gradcheck(lambda x: spmm(live, x), (x,))
        return
    value = small.value.to(device).requires_grad_()
    rowptr, col = small.rowptr.to(device), small.col.to(device)
    assert torch.autograd.gradcheck(lambda v, x: spmm(Adjacency(rowptr, col, v, 15), x),
                                    (value, x))


# ------------------------------------------------------------------ diffuse
VARIANTS = {  # id: (mask_mode, clip)
    "plain": (None, False),
    "zero_mask": ("zero", False),
    "clamp_mask": ("clamp", False),
    "clip": (None, True),
    "clamp_mask_clip": ("clamp", True),
}


def diffusion_inputs(adj: Adjacency, width: int, dtype: torch.dtype, variant: str):
    mask_mode, clip = VARIANTS[variant]
    y0 = random((adj.num_rows, width), dtype, seed=20 + width, low=-0.25, high=1.25)
    g = torch.Generator().manual_seed(21)
    mask = None if mask_mode is None else torch.rand(adj.num_rows, generator=g) < 0.3
    return y0, mask, mask_mode, clip


def diffusion_reference(adj: Adjacency, y0, num_steps, mask, mask_mode, clip, value=None):
    """The reference diffusion in float64 on the CPU (of ``y0`` as given: a float32 ``y0``
    is widened exactly)."""
    start = y0.double()
    if mask_mode == "zero":
        start = start * mask.double().unsqueeze(-1)
    clamp = mask if mask_mode == "clamp" else None
    value = adj.value if value is None else value
    return reference("diffuse_reference")(adj.rowptr, adj.col, value, start, num_steps, ALPHA,
                                          clamp, clip)


def run_diffuse(adj: Adjacency, y0, num_steps, mask, mask_mode, clip, device, dtype):
    live, _ = csr(adj, dtype, device)
    mask = None if mask is None else mask.to(device)
    return diffuse(live, y0.to(device), num_steps, ALPHA, mask=mask,
                   mask_mode=mask_mode or "zero", clip=clip)


# The star's 10^5-entry row is exercised at every width by spmm (the same row gather runs in
# every diffusion step); its diffusions use narrow signals to keep the CPU reference fast.
DIFFUSION_CASES = [(kind, width) for kind in GRAPHS for width in WIDTHS
                   if kind != "star" or width <= 3]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind,width", DIFFUSION_CASES)
def test_diffuse_matches_reference(device, dtype, width, variant, kind):
    adj = graph(kind, True, normalized=True)
    y0, mask, mask_mode, clip = diffusion_inputs(adj, width, dtype, variant)
    want = diffusion_reference(adj, y0, 6, mask, mask_mode, clip)
    got = run_diffuse(adj, y0, 6, mask, mask_mode, clip, device, dtype)
    assert got.device.type == device and got.shape == y0.shape
    assert_close(got, want, dtype, scale=2.0)
    if mask_mode == "clamp":  # clamped rows hold Y_0 exactly
        assert torch.equal(got[mask.to(device)].cpu(), y0[mask])
    if device != "cpu":
        cpu = run_diffuse(adj, y0, 6, mask, mask_mode, clip, "cpu", dtype)
        assert_close(got, cpu.double(), dtype, scale=2.0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", ["plain", "clamp_mask_clip"])
@pytest.mark.parametrize("kind,width", [("star", 3), ("power_law", 3), ("power_law", 130)])
def test_diffuse_many_steps(device, dtype, width, variant, kind):
    """K = 64 fused steps: the result stays within the per-step rounding of the reference."""
    adj = graph(kind, True, normalized=True)
    y0, mask, mask_mode, clip = diffusion_inputs(adj, width, dtype, variant)
    want = diffusion_reference(adj, y0, 64, mask, mask_mode, clip)
    got = run_diffuse(adj, y0, 64, mask, mask_mode, clip, device, dtype)
    assert torch.isfinite(got).all()
    assert_close(got, want, dtype, scale=10.0)
    if device != "cpu":
        cpu = run_diffuse(adj, y0, 64, mask, mask_mode, clip, "cpu", dtype)
        assert_close(got, cpu.double(), dtype, scale=10.0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("variant", ["plain", "clamp_mask", "clip", "clamp_mask_clip"])
@pytest.mark.parametrize("kind,width", [("empty_rows", 1), ("empty_rows", 64), ("star", 1),
                                        ("power_law", 1), ("power_law", 64)])
def test_diffuse_gradients_match_reference(device, width, variant, kind):
    """Gradients w.r.t. ``y0`` (the fused adjoint kernel when nothing else is needed) and
    w.r.t. ``y0`` and the edge values together (the replayed recurrence)."""
    dtype = torch.float64
    adj = graph(kind, True, normalized=True)
    y0, mask, mask_mode, clip = diffusion_inputs(adj, width, dtype, variant)
    upstream = random(y0.shape, dtype, seed=22)
    steps = 5

    value_ref = adj.value.detach().clone().requires_grad_()
    y0_ref = y0.clone().requires_grad_()
    out_ref = diffusion_reference(adj, y0_ref, steps, mask, mask_mode, clip, value_ref)
    want = torch.autograd.grad(out_ref, [y0_ref, value_ref], upstream)

    def grads_on(dev, with_value):
        live, value = csr(adj, dtype, dev, requires_grad=with_value)
        y0_dev = y0.to(dev).requires_grad_()
        out = diffuse(live, y0_dev, steps, ALPHA, mask=None if mask is None else mask.to(dev),
                      mask_mode=mask_mode or "zero", clip=clip)
        return torch.autograd.grad(out, [y0_dev] + ([value] if with_value else []),
                                   upstream.to(dev))

    for with_value in (False, True):
        got = grads_on(device, with_value)
        for g, w in zip(got, want):
            assert_close(g, w, dtype, scale=10.0)
        if device != "cpu":
            for g, c in zip(got, grads_on("cpu", with_value)):
                assert_close(g, c, dtype, scale=10.0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_diffuse_gradcheck(device, variant):
    edge_index, _ = empty_rows_graph()
    keep = (edge_index < 12).all(0)
    weight = random(int(keep.sum()), torch.float64, 23, 0.1, 1.1)
    small = as_adjacency(edge_index[:, keep], num_nodes=15, edge_weight=0.3 * weight)
    mask_mode, clip = VARIANTS[variant]
    mask = (torch.arange(15) % 3 == 0).to(device) if mask_mode else None
    # well inside (0, 1), away from the clip's kinks
    y0 = random((15, 2), torch.float64, 24, 0.2, 0.8).to(device).requires_grad_()
    value = small.value.detach().to(device).requires_grad_()
    rowptr, col = small.rowptr.to(device), small.col.to(device)

    def run(y0, value):
        return diffuse(Adjacency(rowptr, col, value, 15), y0, 4, 0.25, mask=mask,
                       mask_mode=mask_mode or "zero", clip=clip)

    assert torch.autograd.gradcheck(run, (y0, value))
    assert torch.autograd.gradcheck(lambda y0: run(y0, value.detach()), (y0,))


# ------------------------------------------------------------------ coding-rate loss
GAMMA1, GAMMA2, EPS = 1.0, 2.0, 0.05
NUM_CLASSES = 5


def loss_inputs(num_nodes: int, dim: int, dtype: torch.dtype, soft: bool):
    """ERASE-like embeddings (rows L1-normalised) and labels with class 4 empty (hard) or
    soft targets ``[N, K]`` (a softmax of random logits)."""
    g = torch.Generator().manual_seed(30 + dim)
    z = torch.randn(num_nodes, dim, generator=g, dtype=torch.float64)
    z = torch.nn.functional.normalize(z, p=1, dim=1).to(dtype)
    if soft:
        targets = torch.softmax(2 * torch.randn(num_nodes, NUM_CLASSES, generator=g,
                                                dtype=torch.float64), dim=1)
        return z, targets.to(dtype)
    labels = torch.randint(0, NUM_CLASSES - 1, (num_nodes,), generator=g)
    labels[:3] = 0  # class 0 non-empty even for tiny N
    return z, labels


def reference_loss(z: torch.Tensor, assignment: torch.Tensor) -> torch.Tensor:
    r""":math:`-\gamma_2 R + \gamma_1 \sum_j \frac{n_j}{m} R_j` on the reference rates."""
    m, p = z.shape
    total_scale = GAMMA1 * p / (m * EPS)
    if assignment.is_floating_point():
        membership = assignment.t()
        sizes = membership.sum(1) + 1e-8
        total, rates = reference("coding_rate_soft_reference")(z, membership, total_scale,
                                                               p / (sizes * EPS))
    else:
        sizes = torch.bincount(assignment, minlength=NUM_CLASSES).to(z.dtype) + 1e-8
        total, rates = reference("coding_rate_hard_reference")(z, assignment, NUM_CLASSES,
                                                               total_scale, p / (sizes * EPS))
    return -GAMMA2 * total + GAMMA1 * (sizes / m * rates).sum()


LOSS_TOL = {torch.float32: dict(rtol=2e-3, atol=2e-3), torch.float64: dict(rtol=1e-8, atol=1e-8)}


def loss_and_grads(z, assignment, device, dtype):
    z = z.to(device, dtype).requires_grad_()
    assignment = assignment.to(device)
    wanted = [z]
    if assignment.is_floating_point():
        assignment = assignment.to(dtype).requires_grad_()
        wanted.append(assignment)
    loss = CodingRateReductionLoss(GAMMA1, GAMMA2, EPS)(z, assignment, NUM_CLASSES)
    return [loss] + list(torch.autograd.grad(loss, wanted))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", WIDTHS)
@pytest.mark.parametrize("num_nodes", [40, 2000])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_coding_rate_loss_matches_reference(device, dtype, dim, num_nodes, soft):
    """Value and gradients (w.r.t. ``z`` and soft targets); N = 40 < p = 64, 130 puts every
    class in the small ``n_j x n_j`` form, N = 2000 in the ``p x p`` form."""
    z, assignment = loss_inputs(num_nodes, dim, torch.float64, soft)
    z_ref = z.clone().requires_grad_()
    wanted = [z_ref]
    a_ref = assignment
    if soft:
        a_ref = assignment.clone().requires_grad_()
        wanted.append(a_ref)
    loss_ref = reference_loss(z_ref, a_ref)
    want = [loss_ref] + list(torch.autograd.grad(loss_ref, wanted))
    got = loss_and_grads(z, assignment, device, dtype)
    # gradients w.r.t. z scale with the row count (z rows are L1-normalised); compare them
    # relative to their largest entry
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.device.type == device and g.dtype == dtype
        scale = 1.0 if i == 0 else float(w.abs().max())
        tol = {k: v * (1.0 if k == "rtol" else max(scale, 1e-3))
               for k, v in LOSS_TOL[dtype].items()}
        torch.testing.assert_close(g.detach().cpu().double(), w.detach(), **tol)
    if device != "cpu":
        for g, c in zip(got, loss_and_grads(z, assignment, "cpu", dtype)):
            torch.testing.assert_close(g.detach().cpu(), c.detach(),
                                       **{k: 5 * v for k, v in LOSS_TOL[dtype].items()})


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_coding_rate_loss_gradcheck(device, soft):
    z, assignment = loss_inputs(12, 3, torch.float64, soft)
    z = z.to(device).requires_grad_()
    loss_fn = CodingRateReductionLoss(GAMMA1, GAMMA2, EPS)
    if not soft:
        labels = assignment.to(device)
        assert torch.autograd.gradcheck(lambda z: loss_fn(z, labels, NUM_CLASSES), (z,))
        return
    targets = assignment.to(device).requires_grad_()
    assert torch.autograd.gradcheck(lambda z, t: loss_fn(z, t, NUM_CLASSES), (z, targets))


# ------------------------------------------------------------------ mixed devices
@pytest.mark.skipif(not CUDA_KERNELS, reason=_NO_CUDA)
def test_cuda_inputs_on_another_device_are_rejected_by_name():
    adj = graph("empty_rows", True, normalized=True)  # on the CPU
    y0 = torch.rand(adj.num_rows, 3, device="cuda")
    with pytest.raises(ValueError, match="y0"):
        diffuse(adj, y0, 2, ALPHA)
    with pytest.raises(ValueError, match="x"):
        spmm(adj, y0)
    with pytest.raises(ValueError, match="mask"):
        diffuse(adj.to("cuda"), y0, 2, ALPHA, mask=torch.ones(adj.num_rows, dtype=torch.bool))
    z = torch.rand(10, 4, device="cuda")
    with pytest.raises(ValueError, match="assignment"):
        CodingRateReductionLoss()(z, torch.zeros(10, dtype=torch.long))
