"""Label-noise models: rates, transition structure, samplers, reproducibility, the ERASE draw."""
import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from noisygraph.noise import NOISE_KINDS, AddLabelNoise, add_label_noise

K = 5
N = 20000


@pytest.fixture(scope="module")
def labels():
    return torch.from_numpy(np.random.default_rng(7).integers(0, K, N))


@pytest.fixture(scope="module")
def features(labels):
    rng = np.random.default_rng(8)
    means = rng.standard_normal((K, 16))
    return torch.from_numpy(means[labels.numpy()] + 0.8 * rng.standard_normal((N, 16))).float()


def _noise(y, kind, rate, x=None, **kwargs):
    return add_label_noise(y, kind, rate, x=x if kind == "instance" else None, **kwargs)


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("rate", [0.1, 0.45])
def test_independent_rate_within_tolerance(labels, features, kind, rate):
    noise = _noise(labels, kind, rate, x=features, seed=3)
    expected = rate
    if kind == "instance":  # mean of N(rate, 0.1^2) truncated to [0, 1]
        from scipy.stats import truncnorm

        expected = truncnorm.mean(-rate / 0.1, (1 - rate) / 0.1, loc=rate, scale=0.1)
    # 4 standard deviations of a binomial proportion
    assert abs(noise.realised_rate - expected) < 4 * math.sqrt(expected * (1 - expected) / N)
    assert torch.equal(noise.flipped, noise.y_noisy != labels)
    assert noise.realised_rate == pytest.approx(float(noise.flipped.float().mean()))


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_exact_sampler_flips_exactly_round_rn(labels, features, kind):
    mask = torch.zeros(N, dtype=torch.bool)
    mask[::7] = True
    count = int(mask.sum())
    for rate in (0.0, 0.13, 0.5, 0.9):
        noise = _noise(labels, kind, rate, x=features, mask=mask, seed=1, sampler="exact")
        assert int(noise.flipped.sum()) == round(rate * count)
        assert not noise.flipped[~mask].any()
        assert noise.realised_rate == pytest.approx(round(rate * count) / count)


@pytest.mark.parametrize("sampler", ["independent", "exact", "paper"])
@pytest.mark.parametrize("kind", ["uniform", "pair", "pair_cyclic", "random"])
def test_reproducible_by_seed(labels, kind, sampler):
    mask = torch.arange(N) < 3000
    a = add_label_noise(labels, kind, 0.3, mask=mask, seed=11, sampler=sampler)
    b = add_label_noise(labels, kind, 0.3, mask=mask, seed=11, sampler=sampler)
    c = add_label_noise(labels, kind, 0.3, mask=mask, seed=12, sampler=sampler)
    assert torch.equal(a.y_noisy, b.y_noisy) and torch.equal(a.nominal_transition, b.nominal_transition)
    assert not torch.equal(a.y_noisy, c.y_noisy)


def test_instance_reproducible_by_seed(labels, features):
    a = add_label_noise(labels, "instance", 0.3, seed=5, x=features)
    b = add_label_noise(labels, "instance", 0.3, seed=5, x=features)
    assert torch.equal(a.y_noisy, b.y_noisy) and a.nominal_transition is None


def test_uniform_transition(labels):
    noise = add_label_noise(labels, "uniform", 0.4, seed=0)
    nominal = noise.nominal_transition
    assert torch.allclose(nominal.diagonal(), torch.full((K,), 0.6, dtype=torch.float64))
    off = nominal[~torch.eye(K, dtype=torch.bool)]
    assert torch.allclose(off, torch.full_like(off, 0.1))
    assert torch.allclose(noise.transition, nominal, atol=0.03)
    assert torch.allclose(noise.transition.sum(1), torch.ones(K, dtype=torch.float64))


def test_pair_cyclic_only_flips_to_previous_class(labels):
    noise = add_label_noise(labels, "pair_cyclic", 0.3, seed=0)
    expected_support = torch.eye(K, dtype=torch.bool) | torch.eye(K, dtype=torch.bool).roll(-1, dims=1)
    assert expected_support[0, K - 1] and expected_support[3, 2]  # i -> i - 1 (mod K)
    assert (noise.transition[~expected_support] == 0).all()
    assert (noise.transition[expected_support] > 0).all()
    assert torch.equal(noise.y_noisy[noise.flipped], (labels[noise.flipped] - 1) % K)


def test_pair_has_one_partner_per_class(labels):
    for seed in range(5):
        noise = add_label_noise(labels, "pair", 0.3, seed=seed)
        nominal, empirical = noise.nominal_transition, noise.transition
        off = nominal * (1 - torch.eye(K, dtype=torch.float64))
        assert ((off > 0).sum(1) == 1).all() and torch.allclose(off.sum(1), torch.full((K,), 0.3, dtype=torch.float64))
        assert ((empirical > 0) == (nominal > 0)).all()


def test_random_rows_are_distributions_over_other_classes(labels):
    noise = add_label_noise(labels, "random", 0.3, seed=2)
    nominal = noise.nominal_transition
    assert torch.allclose(nominal.sum(1), torch.ones(K, dtype=torch.float64))
    assert torch.allclose(nominal.diagonal(), torch.full((K,), 0.7, dtype=torch.float64))
    off = nominal[~torch.eye(K, dtype=torch.bool)]
    assert (off > 0).all() and off.std() > 0.005  # random, not uniform
    assert torch.allclose(noise.transition, nominal, atol=0.03)


def test_instance_targets_follow_feature_similarity():
    # class 0 sits next to class 1 and far from classes 2, 3: its flips must go to class 1
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 1.0], [0.3, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    y = torch.from_numpy(rng.integers(0, 4, 4000))
    x = torch.from_numpy(means[y.numpy()] + 0.05 * rng.standard_normal((4000, 2))).float()
    noise = add_label_noise(y, "instance", 0.4, seed=0, x=x)
    from_zero = noise.y_noisy[noise.flipped & (y == 0)]
    assert from_zero.numel() > 100 and (from_zero == 1).float().mean() > 0.9
    assert abs(noise.realised_rate - 0.4) < 0.05


def test_mask_limits_corruption(labels):
    mask = torch.zeros(N, dtype=torch.bool)
    mask[:500] = True
    noise = add_label_noise(labels, "uniform", 0.5, mask=mask, seed=0)
    assert torch.equal(noise.y_noisy[~mask], labels[~mask])
    assert noise.realised_rate == pytest.approx(float(noise.flipped[:500].float().mean()))
    counts = torch.bincount(labels[mask], minlength=K)
    assert noise.transition.sum() == pytest.approx(float((counts > 0).sum()))


@pytest.mark.parametrize("sampler", ["independent", "exact", "paper"])
def test_empty_mask_changes_nothing(sampler):
    y = torch.tensor([0, 1, 2, 0])
    noise = add_label_noise(y, "pair", 0.4, mask=torch.zeros(4, dtype=torch.bool), sampler=sampler)
    assert torch.equal(noise.y_noisy, y) and noise.realised_rate == 0.0
    assert (noise.transition == 0).all()


def test_numpy_scalar_rate_is_accepted(labels):
    a = add_label_noise(labels, "uniform", np.float32(0.25), seed=0)
    b = add_label_noise(labels, "uniform", 0.25, seed=0)
    assert torch.equal(a.y_noisy, b.y_noisy)


def test_zero_rate_changes_nothing(labels):
    for sampler in ("independent", "exact", "paper"):
        noise = add_label_noise(labels, "pair", 0.0, seed=0, sampler=sampler)
        assert torch.equal(noise.y_noisy, labels) and noise.realised_rate == 0.0
        assert torch.allclose(noise.transition, torch.eye(K, dtype=torch.float64))


def test_output_keeps_dtype_and_absent_class_gives_zero_row():
    y = torch.tensor([0, 0, 1, 1, 3, 3], dtype=torch.int32)
    noise = add_label_noise(y, "uniform", 0.5, seed=0, num_classes=4)
    assert noise.y_noisy.dtype == torch.int32
    assert noise.transition.shape == (4, 4) and (noise.transition[2] == 0).all()


# --- the ERASE release's draw (ANCHORS.md) --------------------------------------------------

def test_paper_sampler_reproduces_erase_realised_rates_on_cora(data_root):
    from noisygraph.datasets import load_planetoid

    data = load_planetoid("cora", root=data_root)
    expected = {
        "uniform": [5.7, 15.0, 20.0, 30.0, 40.7],
        "pair": [5.7, 15.7, 25.0, 40.0, 54.3],
    }
    for kind, rates in expected.items():
        realised = [
            round(100 * add_label_noise(data.y, kind, r, mask=data.train_mask, seed=123, sampler="paper").realised_rate, 1)
            for r in (0.1, 0.2, 0.3, 0.4, 0.5)
        ]
        assert realised == rates, kind


def test_paper_sampler_is_numpy_choice_per_node():
    # the release draws np.random.choice(K, p=T[y_i]) node by node after seeding; check the
    # vectorised draw equals that loop, partners included
    y = torch.from_numpy(np.random.default_rng(1).integers(0, 6, 300))
    ours = add_label_noise(y, "pair", 0.35, seed=99, sampler="paper")
    state = np.random.RandomState(99)
    matrix = np.eye(6) * 0.65
    classes = np.arange(6)
    for i in range(6):
        matrix[i, state.choice(classes[classes != i])] = 0.35
    loop = [state.choice(6, p=matrix[label]) for label in y.numpy()]
    assert ours.y_noisy.tolist() == loop
    assert np.allclose(ours.nominal_transition.numpy(), matrix)


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(rate=1.0), "rate"),
        (dict(rate=-0.1), "rate"),
        (dict(rate=float("nan")), "rate"),
        (dict(kind="gaussian"), "kind"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(sampler="fancy"), "sampler"),
        (dict(kind="instance"), "x is required"),
        (dict(kind="instance", x=torch.ones(3, 2)), "x must be"),
        (dict(kind="instance", sampler="paper", x=torch.ones(6, 2)), "paper"),
        (dict(mask=torch.ones(6)), "mask must be a bool"),
        (dict(mask=torch.ones(5, dtype=torch.bool)), "mask must have the shape"),
        (dict(num_classes=1), "num_classes"),
        (dict(num_classes=2), r"y must lie in \[0, num_classes=2\)"),
        (dict(y=torch.tensor([0, 1, -1])), "y must lie"),
        (dict(y=torch.tensor([0.0, 1.0])), "integer class"),
        (dict(y=torch.zeros(2, 3, dtype=torch.long)), "1-D"),
        (dict(y=torch.zeros(4, dtype=torch.long)), "num_classes must be >= 2"),
        (dict(kind="instance", x=torch.full((6, 2), float("nan"))), "finite"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    arguments = dict(y=torch.tensor([0, 1, 2, 0, 1, 2]), kind="uniform", rate=0.2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        add_label_noise(**arguments)


def test_y_must_be_a_tensor():
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        add_label_noise([0, 1], "uniform", 0.1)


# --- transform --------------------------------------------------------------------------------

def _toy_data():
    y = torch.from_numpy(np.random.default_rng(0).integers(0, 3, 3000))
    train = torch.zeros(3000, dtype=torch.bool)
    train[:1000] = True
    val = torch.zeros(3000, dtype=torch.bool)
    val[1000:1500] = True
    return Data(y=y, train_mask=train, val_mask=val, x=torch.randn(3000, 4), num_nodes=3000)


@pytest.mark.parametrize("on, corrupted", [("train", 1000), ("train+val", 1500), ("all", 3000)])
def test_transform_sets_noisy_labels(on, corrupted):
    data = AddLabelNoise("uniform", 0.3, on=on, seed=4, sampler="exact")(_toy_data())
    assert int(data.noise_flipped.sum()) == round(0.3 * corrupted)
    assert not data.noise_flipped[corrupted:].any()
    assert data.noise_rate == pytest.approx(round(0.3 * corrupted) / corrupted)
    assert data.noise_transition.shape == (3, 3)
    assert torch.equal(data.y_noisy != data.y, data.noise_flipped)


def test_transform_instance_and_repr():
    transform = AddLabelNoise("instance", 0.2, seed=0)
    data = transform(_toy_data())
    assert data.y_noisy.shape == (3000,) and "noise_nominal_transition" not in data
    assert "instance" in repr(transform)


def test_transform_bad_input():
    with pytest.raises(ValueError, match="on must be"):
        AddLabelNoise("uniform", 0.1, on="test")
    with pytest.raises(ValueError, match="kind"):
        AddLabelNoise("gauss", 0.1)
    data = _toy_data()
    del data.val_mask
    with pytest.raises(ValueError, match="val_mask"):
        AddLabelNoise("uniform", 0.1, on="train+val")(data)
