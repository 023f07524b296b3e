
import pytest
import torch

import noisygraph
from noisygraph import _ops
from noisygraph.ops import coding_rate
from noisygraph.ops._reference.coding_rate import (
    coding_rate_hard_reference,
    coding_rate_soft_reference,
)

compiled = pytest.mark.skipif(noisygraph.backend() == "reference",
                              reason="compiled library not built")

# (N, p, K): N > p with large and small classes, p > N (every term in the small form),
# classes on both sides of p, a single class.
SHAPES = [(60, 8, 3), (10, 16, 3), (40, 12, 4), (25, 5, 1)]
TOL = {torch.float64: dict(rtol=1e-9, atol=1e-9), torch.float32: dict(rtol=2e-4, atol=2e-4)}


def make_inputs(num_nodes, dim, num_classes, dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(num_nodes, dim, generator=gen, dtype=torch.float64) / dim ** 0.5
    labels = torch.randint(0, num_classes, (num_nodes,), generator=gen)
    labels[0] = num_classes - 1
    class_scale = torch.rand(num_classes, generator=gen, dtype=torch.float64) * 2 + 0.5
    return z.to(dtype), labels, class_scale.to(dtype)


def weighted_sum(total, per_class):
    weights = torch.linspace(0.5, 1.5, per_class.numel(), dtype=per_class.dtype)
    return 1.3 * total + (weights * per_class).sum()


def value_and_grads(fn, inputs):
    inputs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    total, per_class = fn(*inputs)
    differentiable = [x for x in inputs if x.requires_grad]
    grads = torch.autograd.grad(weighted_sum(total, per_class), differentiable)
    return total, per_class, grads


@compiled
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_hard_labels_match_reference(shape, dtype):
    z, labels, class_scale = make_inputs(*shape, dtype)
    num_classes = shape[2]
    ours = value_and_grads(lambda z_, b_: coding_rate(z_, labels, num_classes, 0.7, b_),
                           [z, class_scale])
    ref = value_and_grads(
        lambda z_, b_: coding_rate_hard_reference(z_, labels, num_classes, 0.7, b_),
        [z, class_scale])
    for a, b in zip([ours[0], ours[1], *ours[2]], [ref[0], ref[1], *ref[2]]):
        torch.testing.assert_close(a, b, **TOL[dtype])


@compiled
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_soft_memberships_match_reference(shape, dtype):
    z, _, class_scale = make_inputs(*shape, dtype)
    num_nodes, _, num_classes = shape
    gen = torch.Generator().manual_seed(5)
    membership = torch.rand(num_classes, num_nodes, generator=gen, dtype=torch.float64)
    membership[0, : num_nodes // 2] = 0.0  # rows outside a class's support
    membership = membership.to(dtype)
    ours = value_and_grads(lambda z_, m_, b_: coding_rate(z_, m_, num_classes, 0.7, b_),
                           [z, membership, class_scale])
    ref = value_and_grads(lambda z_, m_, b_: coding_rate_soft_reference(z_, m_, 0.7, b_),
                          [z, membership, class_scale])
    for a, b in zip([ours[0], ours[1], *ours[2]], [ref[0], ref[1], *ref[2]]):
        torch.testing.assert_close(a, b, **TOL[dtype])


@pytest.mark.parametrize("shape", SHAPES)
def test_one_hot_memberships_equal_hard_labels(shape):
    z, labels, class_scale = make_inputs(*shape, torch.float64)
    num_classes = shape[2]
    one_hot = torch.nn.functional.one_hot(labels, num_classes).t().to(z.dtype)
    hard = value_and_grads(lambda z_: coding_rate(z_, labels, num_classes, 0.7, class_scale),
                           [z])
    soft = value_and_grads(lambda z_: coding_rate(z_, one_hot, num_classes, 0.7, class_scale),
                           [z])
    for a, b in zip([hard[0], hard[1], *hard[2]], [soft[0], soft[1], *soft[2]]):
        torch.testing.assert_close(a, b)


def test_sylvester_small_form_value():
    # p > N: ½logdet(I_p + a·ZᵀZ) must equal ½logdet(I_N + a·ZZᵀ), and the class term of a
    # one-member class is ½log(1 + b‖z‖²).
    z, _, _ = make_inputs(6, 20, 1, torch.float64)
    labels = torch.tensor([0, 1, 1, 1, 1, 1])
    total, per_class = coding_rate(z, labels, 2, total_scale=0.9, class_scale=2.0)
    small = 0.5 * torch.logdet(torch.eye(6, dtype=z.dtype) + 0.9 * z @ z.t())
    torch.testing.assert_close(total, small)
    torch.testing.assert_close(per_class[0], 0.5 * torch.log1p(2.0 * z[0].pow(2).sum()))


@pytest.mark.parametrize("num_nodes,dim", [(40, 6), (5, 9)])
def test_empty_and_singleton_classes(num_nodes, dim):
    z, _, _ = make_inputs(num_nodes, dim, 1, torch.float64)
    labels = torch.zeros(num_nodes, dtype=torch.long)
    labels[3] = 2  # class 1 empty, class 2 has one member
    z.requires_grad_()
    total, per_class = coding_rate(z, labels, 3, 0.5, 1.5)
    assert per_class[1].item() == 0.0
    torch.testing.assert_close(per_class[2], 0.5 * torch.log1p(1.5 * z[3].detach().pow(2).sum()))
    (per_class[1] + per_class[2]).backward()
    expected = torch.zeros_like(z)
    expected[3] = 1.5 * z[3].detach() / (1 + 1.5 * z[3].detach().pow(2).sum())
    torch.testing.assert_close(z.grad, expected)


@compiled
@pytest.mark.parametrize("shape", [(16, 3, 2), (6, 9, 2)])
def test_gradcheck_hard(shape):
    z, labels, class_scale = make_inputs(*shape, torch.float64)
    z.requires_grad_()
    class_scale.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z_, b_: coding_rate(z_, labels, shape[2], 0.8, b_), (z, class_scale))


@compiled
@pytest.mark.parametrize("shape", [(10, 3, 2), (4, 6, 2)])
def test_gradcheck_soft(shape):
    z, _, class_scale = make_inputs(*shape, torch.float64)
    # positive memberships: finite differences must stay inside the non-negative domain
    # (rows outside a class's support are covered by the reference comparison above)
    membership = torch.rand(shape[2], shape[0], dtype=torch.float64) + 0.1
    for x in (z, membership, class_scale):
        x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda z_, m_, b_: coding_rate(z_, m_, shape[2], 0.8, b_), (z, membership, class_scale))


@compiled
@pytest.mark.parametrize("hard", [True, False])
def test_opcheck(hard):
    z, labels, class_scale = make_inputs(20, 6, 3, torch.float64)
    membership = torch.rand(3, 20, dtype=torch.float64)
    z.requires_grad_()
    class_scale.requires_grad_()
    args = (z, labels if hard else None, None if hard else membership.requires_grad_(), 3, 0.5,
            class_scale, True, True)
    torch.library.opcheck(torch.ops.noisygraph.coding_rate.default, args)


def test_reference_path_needs_no_compiled_library(monkeypatch):
    z, labels, class_scale = make_inputs(20, 6, 3, torch.float64)
    expected = coding_rate(z, labels, 3, 0.5, class_scale)
    monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    torch.testing.assert_close(tuple(coding_rate(z, labels, 3, 0.5, class_scale)), tuple(expected))


def test_inferred_num_classes_and_scalar_class_scale():
    z, labels, _ = make_inputs(20, 4, 3, torch.float64)
    total, per_class = coding_rate(z, labels)
    assert per_class.shape == (int(labels.max()) + 1,)
    _, per_class_tensor = coding_rate(z, labels, class_scale=torch.ones(per_class.numel(),
                                                                          dtype=z.dtype))
    torch.testing.assert_close(per_class, per_class_tensor)


def test_no_grad_forward_matches():
    z, labels, class_scale = make_inputs(30, 5, 3, torch.float64)
    with torch.no_grad():
        a = coding_rate(z, labels, 3, 0.5, class_scale)
    b = coding_rate(z.requires_grad_(), labels, 3, 0.5, class_scale)
    torch.testing.assert_close(a.total, b.total.detach())


@pytest.mark.parametrize("call,error,match", [
    (lambda z, y: coding_rate(z, torch.full_like(y, 3), 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, y - 1, 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, y[:-1], 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, y.float(), 3), TypeError, "assignment"),
    (lambda z, y: coding_rate(z, torch.rand(3, 7), 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, -torch.rand(3, 10), 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, torch.rand(2, 10), 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z, torch.zeros(2, 3, 10), 3), ValueError, "assignment"),
    (lambda z, y: coding_rate(z[0], y, 3), ValueError, "z"),
    (lambda z, y: coding_rate(z[:0], y[:0], 3), ValueError, "z"),
    (lambda z, y: coding_rate(z.long(), y, 3), TypeError, "z"),
    (lambda z, y: coding_rate(z.index_fill(0, torch.tensor([2]), float("nan")), y, 3),
     ValueError, "z"),
    (lambda z, y: coding_rate(z, y, 0), ValueError, "num_classes"),
    (lambda z, y: coding_rate(z, y, 3, total_scale=-1.0), ValueError, "total_scale"),
    (lambda z, y: coding_rate(z, y, 3, class_scale=-0.1), ValueError, "class_scale"),
    (lambda z, y: coding_rate(z, y, 3, class_scale=torch.ones(2)), ValueError, "class_scale"),
    (lambda z, y: coding_rate(z, y, 3, class_scale=float("inf")), ValueError, "class_scale"),
])
def test_bad_input_names_the_argument(call, error, match):
    z = torch.randn(10, 4)
    y = torch.arange(10) % 3
    with pytest.raises(error, match=match):
        call(z, y)


@compiled
def test_non_positive_definite_error_is_clear():
    z = torch.full((4, 2), 1e6, dtype=torch.float32)
    z[:, 1] = -1e6 * (1 + 1e-7)  # nearly rank one, huge scale: float32 Cholesky fails
    labels = torch.zeros(4, dtype=torch.long)
    with pytest.raises(RuntimeError, match="positive definite"):
        coding_rate(z, labels, 1, total_scale=1e30, class_scale=1e30)


@pytest.mark.skipif(noisygraph.backend() != "compiled-cuda", reason="needs the CUDA kernels and a GPU")
@pytest.mark.parametrize("hard", [True, False])
def test_cuda_matches_cpu(hard):
    z, labels, class_scale = make_inputs(300, 16, 4, torch.float64)
    assignment = labels if hard else torch.rand(4, 300, dtype=torch.float64)
    cpu = value_and_grads(lambda z_: coding_rate(z_, assignment, 4, 0.7, class_scale), [z])
    cuda = value_and_grads(
        lambda z_: coding_rate(z_, assignment.cuda(), 4, 0.7, class_scale.cuda()), [z.cuda()])
    for a, b in zip([cpu[0], cpu[1], *cpu[2]], [cuda[0], cuda[1], *cuda[2]]):
        torch.testing.assert_close(a, b.cpu())


# ------------------------------------------------------------------ second-order gradients
@compiled
@pytest.mark.parametrize("hard", [True, False])
def test_gradgradcheck(hard):
    """The compiled backward op has no derivative of its own: under create_graph the VJP is
    taken through the reference terms, so a gradient of a gradient is exact, not zero."""
    z, labels, class_scale = make_inputs(7, 3, 2, torch.float64)
    z.requires_grad_()
    class_scale.requires_grad_()
    if hard:
        assert torch.autograd.gradgradcheck(
            lambda z_, b_: weighted_sum(*coding_rate(z_, labels, 2, 0.8, b_)), (z, class_scale))
        return
    membership = (torch.rand(2, 7, dtype=torch.float64) + 0.2).requires_grad_()
    assert torch.autograd.gradgradcheck(
        lambda z_, m_, b_: weighted_sum(*coding_rate(z_, m_, 2, 0.8, b_)),
        (z, membership, class_scale))


@pytest.mark.parametrize("hard", [True, False])
def test_hessian_vector_product_matches_reference(hard):
    z, labels, class_scale = make_inputs(20, 5, 3, torch.float64)
    assignment = labels if hard else torch.rand(3, 20, dtype=torch.float64)
    v = torch.randn_like(z)

    def hvp(fn):
        z_ = z.clone().requires_grad_()
        (g,) = torch.autograd.grad(weighted_sum(*fn(z_)), z_, create_graph=True)
        (h,) = torch.autograd.grad((g * v).sum(), z_)
        return h

    ours = hvp(lambda z_: coding_rate(z_, assignment, 3, 0.7, class_scale))
    if hard:
        want = hvp(lambda z_: coding_rate_hard_reference(z_, labels, 3, 0.7, class_scale))
    else:
        want = hvp(lambda z_: coding_rate_soft_reference(z_, assignment, 0.7, class_scale))
    assert want.abs().max() > 1e-3
    torch.testing.assert_close(ours, want)


def test_int32_labels_are_accepted():
    z, labels, class_scale = make_inputs(20, 5, 3, torch.float64)
    torch.testing.assert_close(tuple(coding_rate(z, labels.int(), 3, 0.7, class_scale)),
                               tuple(coding_rate(z, labels, 3, 0.7, class_scale)))


@compiled
def test_raw_backward_op_refuses_to_be_differentiated_instead_of_returning_zeros():
    z, labels, class_scale = make_inputs(10, 3, 2, torch.float64)
    z.requires_grad_()
    ops = torch.ops.noisygraph
    _, _, inverses, _ = ops.coding_rate(z.detach(), labels, None, 2, 1.0, class_scale, True,
                                        False)
    grad_z, _ = ops.coding_rate_backward(torch.ones((), dtype=z.dtype),
                                         torch.ones(2, dtype=z.dtype), z, labels, None, 2, 1.0,
                                         class_scale, inverses, False)
    with pytest.raises(RuntimeError, match="no derivative of its own"):
        torch.autograd.grad(grad_z.sum(), z)


@compiled
def test_saved_inverses_are_inverses_of_both_forms():
    # The forward saves what the backward multiplies by: M⁻¹ = (I_p + b·ZⱼᵀZⱼ)⁻¹ for a term in
    # the p×p form, S⁻¹ = (I_n + b·ZⱼZⱼᵀ)⁻¹ in the top-left n×n block for one in the small
    # form (not a Cholesky factor, which the backward would have to solve with).
    z, _, _ = make_inputs(30, 6, 2, torch.float64)
    labels = torch.tensor([0] * 26 + [1] * 4)  # class 0: 26 rows >= p, class 1: 4 rows < p
    class_scale = torch.tensor([0.7, 1.9], dtype=torch.float64)
    _, _, inverses, _ = torch.ops.noisygraph.coding_rate(z, labels, None, 2, 0.4, class_scale,
                                                         True, False)
    eye = lambda n: torch.eye(n, dtype=z.dtype)  # noqa: E731
    torch.testing.assert_close(inverses[0], torch.linalg.inv(eye(6) + 0.4 * z.t() @ z))
    z0, z1 = z[:26], z[26:]
    torch.testing.assert_close(inverses[1], torch.linalg.inv(eye(6) + 0.7 * z0.t() @ z0))
    torch.testing.assert_close(inverses[2, :4, :4], torch.linalg.inv(eye(4) + 1.9 * z1 @ z1.t()))
