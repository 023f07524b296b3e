import pytest
import torch

from noisygraph.nn import CodingRateReductionLoss


def dense_erase_loss(z, labels, num_classes, gamma1, gamma2, eps):
    """The official release's formulation: W = Zᵀ, a K×N×N diagonal membership tensor."""
    w = z.t()
    p, m = w.shape
    pi = torch.zeros(num_classes, m, m, dtype=z.dtype)
    pi[labels, torch.arange(m), torch.arange(m)] = 1.0
    eye = torch.eye(p, dtype=z.dtype)
    discrimn = torch.logdet(eye + gamma1 * p / (m * eps) * w @ w.t()) / 2.0
    compress = 0.0
    for j in range(num_classes):
        tr = torch.trace(pi[j]) + 1e-8
        compress = compress + torch.logdet(eye + p / (tr * eps) * w @ pi[j] @ w.t()) * tr / m
    compress = compress / 2.0
    return -gamma2 * discrimn + gamma1 * compress, discrimn, compress


@pytest.mark.parametrize("num_nodes,dim", [(40, 6), (12, 20)])
def test_loss_matches_official_dense_formulation(num_nodes, dim):
    torch.manual_seed(0)
    z = torch.randn(num_nodes, dim, dtype=torch.float64)
    z = z / z.abs().sum(dim=1, keepdim=True)
    labels = torch.randint(0, 4, (num_nodes,))
    labels[:2] = 3  # class 3 non-empty; class sizes vary
    z_ours = z.clone().requires_grad_()
    out = CodingRateReductionLoss(gamma1=1.0, gamma2=2.0, eps=0.05).parts(z_ours, labels, 4)
    z_ref = z.clone().requires_grad_()
    loss, discrimn, compress = dense_erase_loss(z_ref, labels, 4, 1.0, 2.0, 0.05)
    torch.testing.assert_close(out.loss, loss)
    torch.testing.assert_close(out.total, discrimn)
    torch.testing.assert_close(out.compress, compress)
    torch.testing.assert_close(out.per_class.sum(), out.compress)
    out.loss.backward()
    loss.backward()
    torch.testing.assert_close(z_ours.grad, z_ref.grad)


def test_empty_class_contributes_zero():
    torch.manual_seed(1)
    z = torch.randn(30, 5, dtype=torch.float64)
    labels = torch.randint(0, 2, (30,))
    out = CodingRateReductionLoss().parts(z, labels, num_classes=3)
    assert out.per_class.shape == (3,)
    assert out.per_class[2].item() == 0.0
    assert torch.isfinite(out.loss)


def test_one_hot_memberships_equal_hard_labels_and_get_gradients():
    torch.manual_seed(2)
    z = torch.randn(25, 8, dtype=torch.float64)
    labels = torch.randint(0, 3, (25,))
    hard = CodingRateReductionLoss(1.0, 2.0, 0.1).parts(z, labels, 3)
    membership = torch.nn.functional.one_hot(labels, 3).to(z.dtype).requires_grad_()  # [N, K]
    soft = CodingRateReductionLoss(1.0, 2.0, 0.1).parts(z, membership, 3)
    torch.testing.assert_close(soft.loss, hard.loss)
    torch.testing.assert_close(soft.per_class, hard.per_class)
    soft.loss.backward()
    assert membership.grad is not None and membership.grad.abs().sum() > 0


def test_loss_decreases_when_classes_are_separated():
    torch.manual_seed(3)
    labels = torch.arange(60) % 3
    centers = torch.eye(3, 6, dtype=torch.float64)
    separated = centers[labels] + 0.01 * torch.randn(60, 6, dtype=torch.float64)
    mixed = torch.randn(60, 6, dtype=torch.float64) * 0.3
    loss_fn = CodingRateReductionLoss()
    assert loss_fn(separated, labels, 3) < loss_fn(mixed, labels, 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(eps=0.0), "eps"), (dict(eps=-1.0), "eps"), (dict(gamma1=-1.0), "gamma1"),
    (dict(gamma2=float("nan")), "gamma2"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CodingRateReductionLoss(**kwargs)


def test_bad_inputs_name_the_argument():
    loss_fn = CodingRateReductionLoss()
    z = torch.randn(10, 4)
    with pytest.raises(ValueError, match="assignment"):
        loss_fn(z, torch.full((10,), 5), num_classes=3)
    with pytest.raises(ValueError, match="assignment"):
        loss_fn(z, torch.zeros(9, dtype=torch.long), num_classes=3)
    with pytest.raises(ValueError, match="z"):
        loss_fn(torch.full((10, 4), float("nan")), torch.zeros(10, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="z"):
        loss_fn(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 1)


def test_forward_is_a_scalar_that_backpropagates():
    torch.manual_seed(4)
    z = torch.randn(20, 5, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 3, (20,))
    loss_fn = CodingRateReductionLoss()
    loss = loss_fn(z, labels)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0
    torch.testing.assert_close(loss, loss_fn.parts(z, labels).loss)
    loss.backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_int32_labels_equal_int64_labels():
    torch.manual_seed(5)
    z = torch.randn(20, 5, dtype=torch.float64)
    labels = torch.randint(0, 3, (20,))
    loss_fn = CodingRateReductionLoss()
    torch.testing.assert_close(loss_fn(z, labels.int()), loss_fn(z, labels))


def test_soft_targets_are_rows_per_node():
    z = torch.randn(10, 4)
    loss_fn = CodingRateReductionLoss()
    with pytest.raises(ValueError, match=r"assignment.*\[10, K\]"):
        loss_fn(z, torch.full((3, 10), 1 / 3))  # the old [K, N] layout
    with pytest.raises(ValueError, match="num_classes"):
        loss_fn(z, torch.full((10, 3), 1 / 3), num_classes=4)
    with pytest.raises(TypeError, match="assignment"):
        loss_fn(z, torch.ones(10, 3, dtype=torch.long))


def test_ignore_index_leaves_rows_out():
    torch.manual_seed(6)
    z = torch.randn(30, 5, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 3, (30,))
    ignored = torch.zeros(30, dtype=torch.bool)
    ignored[::4] = True
    loss_fn = CodingRateReductionLoss()
    with_ignored = loss_fn.parts(z, labels.masked_fill(ignored, -100), 3)
    kept = loss_fn.parts(z[~ignored], labels[~ignored], 3)
    for got, want in zip(with_ignored, kept):
        torch.testing.assert_close(got, want)
    with_ignored.loss.backward()
    assert (z.grad[ignored] == 0).all() and (z.grad[~ignored] != 0).any()
    custom = CodingRateReductionLoss(ignore_index=7)(z, labels.masked_fill(ignored, 7), 3)
    torch.testing.assert_close(custom, kept.loss)
    with pytest.raises(ValueError, match="assignment"):  # no ignore label: -100 is invalid
        CodingRateReductionLoss(ignore_index=None)(z, labels.masked_fill(ignored, -100), 3)
    with pytest.raises(ValueError, match="ignore_index"):
        loss_fn(z, torch.full((30,), -100))
    with pytest.raises(TypeError, match="ignore_index"):
        CodingRateReductionLoss(ignore_index=1.5)


def test_repr():
    assert repr(CodingRateReductionLoss(1.0, 3.0, 0.01)) == \
        "CodingRateReductionLoss(gamma1=1.0, gamma2=3.0, eps=0.01)"


def _host_syncs(monkeypatch, call) -> int:
    """How many times ``call()`` reads a tensor's value on the host (``item``, ``tolist``,
    ``bool``/``int``/``float`` of a tensor): each is a device synchronisation on a GPU."""
    count = [0]
    for name in ("item", "tolist", "__bool__", "__int__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            count[0] += 1
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    try:
        call()
    finally:
        monkeypatch.undo()
    return count[0]


def test_ignore_index_check_adds_no_host_sync(monkeypatch):
    torch.manual_seed(0)
    z, labels = torch.randn(30, 4), torch.arange(30) % 3
    plain = _host_syncs(monkeypatch, lambda: CodingRateReductionLoss(ignore_index=None)(z, labels))
    checked = _host_syncs(monkeypatch, lambda: CodingRateReductionLoss()(z, labels))
    assert checked == plain  # the ignore label is looked for in the label-range sync
    assert plain <= 2  # z's finiteness and the label range
