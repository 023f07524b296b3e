"""Label-noise models: rates, transition structure, samplers, reproducibility, the ERASE draw."""
import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from noisygraph.noise import (FEATURE_NOISE_KINDS, NOISE_KINDS, AddLabelNoise, LabelNoiseModel,
                              add_label_noise)

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


ANNOTATOR_PROBS = torch.softmax(2 * torch.randn(N, K, generator=torch.Generator().manual_seed(9),
                                                dtype=torch.float64), dim=1)


def _noise(y, kind, rate, x=None, **kwargs):
    return add_label_noise(y, kind, rate, x=x if kind in FEATURE_NOISE_KINDS else None,
                           annotator_probs=ANNOTATOR_PROBS if kind == "annotator" else None,
                           **kwargs)


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("rate", [0.1, 0.45])
def test_independent_rate_within_tolerance(labels, features, kind, rate):
    noise = _noise(labels, kind, rate, x=features, seed=3)
    expected = rate
    if kind in FEATURE_NOISE_KINDS:  # mean of N(rate, 0.1^2) truncated to [0, 1]
        from scipy.stats import truncnorm

        expected = truncnorm.mean(-rate / 0.1, (1 - rate) / 0.1, loc=rate, scale=0.1)
    if kind == "annotator":  # mean of min(1, rate e_i / mean(e)), e_i = 1 - p_i[y_i]
        error = 1 - ANNOTATOR_PROBS[torch.arange(N), labels]
        expected = float((rate * error / error.mean()).clamp(max=1).mean())
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


# --- the ERASE release's draw (legacy NumPy, seed 123) --------------------------------------------------

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
        (dict(rate=1.5), "rate"),
        (dict(rate=-0.1), "rate"),
        (dict(rate=float("nan")), "rate"),
        (dict(kind="gaussian"), "kind"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),  # TypeError
        (dict(sampler="fancy"), "sampler"),
        (dict(kind="instance"), "x is required"),
        (dict(kind="instance", x=torch.ones(3, 2)), "x must be"),
        (dict(kind="instance", sampler="paper", x=torch.ones(6, 2)), "paper"),
        (dict(mask=torch.ones(6)), "mask must be a bool"),  # TypeError
        (dict(mask=torch.ones(5, dtype=torch.bool)), r"mask must have shape \[6\]"),
        (dict(num_classes=1), "num_classes"),
        (dict(num_classes=2), r"y must lie in \[0, num_classes=2\)"),
        (dict(y=torch.tensor([0, 1, -1])), "y must lie"),
        (dict(y=torch.tensor([0.0, 1.0])), "integer class"),  # TypeError
        (dict(y=torch.zeros(2, 3, dtype=torch.long)), "1-D"),
        (dict(y=torch.zeros(4, dtype=torch.long)), "num_classes must be >= 2"),
        (dict(kind="instance", x=torch.full((6, 2), float("nan"))), "finite"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    arguments = dict(y=torch.tensor([0, 1, 2, 0, 1, 2]), kind="uniform", rate=0.2)
    arguments.update(kwargs)
    # a wrong type or dtype is a TypeError, a wrong value or shape a ValueError (one rule,
    # noisygraph._validation's); the bad-input table in test_bad_input_erase.py pins which
    with pytest.raises((ValueError, TypeError), match=message):
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


def test_rate_one_flips_every_masked_label(labels):
    mask = torch.arange(N) < 1000
    for kind in ("uniform", "pair", "random"):
        noise = add_label_noise(labels, kind, 1.0, mask=mask, seed=0, sampler="exact")
        assert noise.realised_rate == 1.0 and torch.equal(noise.flipped, mask)


# --- one noise model, several masks ---------------------------------------------------------

# sha256 prefixes of y_noisy computed with the code before LabelNoiseModel existed
# (commit 5a5c6ba): the noise model must reproduce every one of them bit for bit.
_BEFORE = {
    "uniform/independent/0.2": "b7f42a97c093bf41", "uniform/independent/0.45": "7f87aaa9ccaae310",
    "uniform/exact/0.2": "4aee2d7751a5973c", "uniform/exact/0.45": "bc3bd2cbb144194a",
    "uniform/paper/0.2": "eda16754e1104368", "uniform/paper/0.45": "1bc65c18e5d7dc9b",
    "pair/independent/0.2": "581ecbb613122ac3", "pair/independent/0.45": "631885439f290d24",
    "pair/exact/0.2": "3779c03796abfe36", "pair/exact/0.45": "69f6b9b745307ee8",
    "pair/paper/0.2": "4edf2f1c0a7b6ec6", "pair/paper/0.45": "9e012654198bbdf9",
    "pair_cyclic/independent/0.2": "a868384e0d882a3a", "pair_cyclic/independent/0.45": "2e4190591d254943",
    "pair_cyclic/exact/0.2": "bbdc6b5275f4560f", "pair_cyclic/exact/0.45": "ae1b95564753886f",
    "pair_cyclic/paper/0.2": "257a33bfc1df280c", "pair_cyclic/paper/0.45": "62854527e0e15152",
    "random/independent/0.2": "a65df58e17045c16", "random/independent/0.45": "7aa9e8fcb4f4db58",
    "random/exact/0.2": "4aec95d156f02d48", "random/exact/0.45": "b1bb55b7a2080ae7",
    "random/paper/0.2": "7a42cf772c9743dd", "random/paper/0.45": "6e71e3a600f80afa",
    "instance/independent/0.2": "c69e8f50e313890a", "instance/independent/0.45": "62e332a5b12a5cf6",
    "instance/exact/0.2": "d6758a7b762c8c6d", "instance/exact/0.45": "f5b0870a7ff70903",
}
# Cora's 140 training labels, seed 123: the labels behind every `paper`-protocol cell of
# benchmarks/results/erase.md (paper draw and exact rates), computed before the change.
_CORA_BEFORE = {
    "uniform/paper/0.1": "c7a0bfc6d31f1e4a", "uniform/paper/0.2": "74feb0123875e655",
    "uniform/paper/0.3": "61f139376ecd21f2", "uniform/paper/0.4": "df07baf6ade94735",
    "uniform/paper/0.5": "3bffab998a70d510", "uniform/exact/0.1": "be6d2c3c085338db",
    "uniform/exact/0.2": "92e6aa93ef455151", "uniform/exact/0.3": "277b2db954e94282",
    "uniform/exact/0.4": "65a7d1239426d2e2", "uniform/exact/0.5": "9926cbfd0126d92e",
    "pair/paper/0.1": "18e7a88dfbcc682d", "pair/paper/0.2": "8a38eb343e06090f",
    "pair/paper/0.3": "559e91eb9ebc504e", "pair/paper/0.4": "86f7b01eddc9576e",
    "pair/paper/0.5": "94df672724a6e1c6", "pair/exact/0.1": "7b2d834678e2d772",
    "pair/exact/0.2": "3c81fb96f1503ad7", "pair/exact/0.3": "25275a2e150e242e",
    "pair/exact/0.4": "bedc5328c3a1f26d", "pair/exact/0.5": "e9b60b50c3dad919",
}


def _fingerprint(y):
    import hashlib

    return hashlib.sha256(y.numpy().astype(np.int64).tobytes()).hexdigest()[:16]


def test_labels_bit_identical_to_before_the_noise_model():
    y = torch.from_numpy(np.random.default_rng(2024).integers(0, 6, 1500))
    x = torch.from_numpy(np.random.default_rng(2025).standard_normal((1500, 8))).float()
    mask = torch.from_numpy(np.random.default_rng(2026).random(1500) < 0.3)
    for key, expected in _BEFORE.items():
        kind, sampler, rate = key.split("/")
        noise = add_label_noise(y, kind, float(rate), mask=mask, seed=77, sampler=sampler,
                                x=x if kind == "instance" else None)
        assert _fingerprint(noise.y_noisy) == expected, key


def test_cora_training_labels_bit_identical_to_before(data_root):
    from noisygraph.datasets import load_planetoid

    data = load_planetoid("cora", root=data_root)
    for key, expected in _CORA_BEFORE.items():
        kind, sampler, rate = key.split("/")
        model = LabelNoiseModel(kind, float(rate), data.num_classes, seed=123, sampler=sampler)
        assert _fingerprint(model.sample(data.y, data.train_mask).y_noisy) == expected, key


@pytest.mark.parametrize("sampler", ["independent", "exact", "paper"])
@pytest.mark.parametrize("kind", ["uniform", "pair", "random", "instance"])
def test_first_sample_is_add_label_noise_and_val_follows_the_same_model(labels, features, kind, sampler):
    if kind == "instance" and sampler == "paper":
        pytest.skip("no paper draw for instance noise")
    x = features if kind == "instance" else None
    train = torch.arange(N) < 4000
    val = (torch.arange(N) >= 4000) & (torch.arange(N) < 12000)
    model = LabelNoiseModel(kind, 0.35, K, seed=5, sampler=sampler, x=x)
    first = model.sample(labels, train)
    alone = add_label_noise(labels, kind, 0.35, mask=train, seed=5, sampler=sampler, x=x)
    assert torch.equal(first.y_noisy, alone.y_noisy)
    second = model.sample(labels, val)
    assert torch.equal(second.mask, val) and torch.equal(first.mask, train)
    assert torch.equal(second.y_noisy[~val], labels[~val])
    if kind != "instance":
        assert torch.equal(first.nominal_transition, second.nominal_transition)
        # the validation flips follow the same transition (8000 nodes: within 0.04 per entry)
        assert torch.allclose(second.transition, second.nominal_transition, atol=0.04)
        support = second.nominal_transition > 0
        assert (second.transition[~support] == 0).all()
    if sampler == "exact":
        assert int(second.flipped.sum()) == round(0.35 * int(val.sum()))


def test_pair_noise_on_val_uses_the_training_partners():
    # Fails on the old noisy-val (validation drawn with seed + 1: new partners).
    y = torch.from_numpy(np.random.default_rng(3).integers(0, 7, 4000))
    train, val = torch.arange(4000) < 1000, torch.arange(4000) >= 1000
    for sampler in ("paper", "independent", "exact"):
        model = LabelNoiseModel("pair", 0.4, 7, seed=123, sampler=sampler)
        first, second = model.sample(y, train), model.sample(y, val)
        partners_train = {(int(a), int(b)) for a, b in zip(y[first.flipped], first.y_noisy[first.flipped])}
        partners_val = {(int(a), int(b)) for a, b in zip(y[second.flipped], second.y_noisy[second.flipped])}
        assert len(partners_train) == 7 and partners_train == partners_val, sampler
        old_val = add_label_noise(y, "pair", 0.4, mask=val, seed=124, sampler=sampler)
        old = {(int(a), int(b)) for a, b in zip(y[old_val.flipped], old_val.y_noisy[old_val.flipped])}
        assert old != partners_train  # what the seed + 1 draw did


def test_paper_sampler_val_continues_the_release_stream():
    # train nodes before val nodes (the Planetoid layout): train then val = one draw on the union
    y = torch.from_numpy(np.random.default_rng(4).integers(0, 5, 900))
    train, val = torch.arange(900) < 140, (torch.arange(900) >= 140) & (torch.arange(900) < 640)
    for kind in ("uniform", "pair"):
        model = LabelNoiseModel(kind, 0.3, 5, seed=123, sampler="paper")
        both = model.sample_each(y, [train, val])
        union = add_label_noise(y, kind, 0.3, mask=train | val, seed=123, sampler="paper")
        assert torch.equal(both.y_noisy, union.y_noisy) and torch.equal(both.mask, train | val)
        assert both.realised_rate == pytest.approx(union.realised_rate)


def test_sample_each_rejects_overlap_and_bad_masks():
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    model = LabelNoiseModel("uniform", 0.5, 3)
    a = torch.tensor([True, True, False, False, False, False])
    with pytest.raises(ValueError, match="disjoint"):
        model.sample_each(y, [a, a])
    with pytest.raises(TypeError, match="masks"):
        model.sample_each(y, a)
    with pytest.raises(TypeError, match=r"masks\[1\]"):
        model.sample_each(y, [a, torch.ones(6)])


def test_transform_train_val_keeps_train_labels_and_records_mask():
    data = _toy_data()
    only_train = AddLabelNoise("pair", 0.3, on="train", seed=9, sampler="exact")(_toy_data())
    both = AddLabelNoise("pair", 0.3, on="train+val", seed=9, sampler="exact")(data)
    assert torch.equal(both.y_noisy[data.train_mask], only_train.y_noisy[data.train_mask])
    assert torch.equal(both.noise_mask, data.train_mask | data.val_mask)
    assert torch.equal(only_train.noise_mask, data.train_mask)
    assert int(both.noise_flipped[data.val_mask].sum()) == round(0.3 * 500)
