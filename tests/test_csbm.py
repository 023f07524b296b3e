"""CSBM generator: structure, degree and homophily statistics, features, splits, errors."""
import numpy as np
import pytest
import torch

from noisygraph.datasets import csbm, load_dataset
from noisygraph.datasets.csbm import _triangle_decode


def _within_fraction(data):
    row, col = data.edge_index
    return float((data.y[row] == data.y[col]).float().mean())


def test_shapes_and_simple_undirected_graph():
    data = csbm(3000, num_classes=4, avg_degree=8, homophily=0.7, num_features=16, seed=1)
    assert data.x.shape == (3000, 16) and data.x.dtype == torch.float32
    assert data.y.shape == (3000,) and data.num_classes == 4
    row, col = data.edge_index
    assert (row != col).all()
    keys = row * 3000 + col
    assert torch.equal(keys, torch.unique(keys))  # sorted, no duplicates
    assert torch.equal(torch.sort(col * 3000 + row).values, keys)  # symmetric
    assert torch.bincount(data.y).tolist() == [750] * 4


def test_degree_and_homophily_match_the_request():
    data = csbm(20000, num_classes=5, avg_degree=10.0, homophily=0.8, num_features=0, seed=0)
    degree = data.edge_index.size(1) / data.num_nodes
    assert abs(degree - 10.0) < 0.15  # E ~ Binomial: std of the mean degree ~ 0.03
    assert abs(_within_fraction(data) - 0.8) < 0.01
    assert data.x is None


def test_p_in_p_out_parametrisation():
    data = csbm(2000, num_classes=2, p_in=0.01, p_out=0.001, num_features=4, seed=3)
    within_pairs = 2 * (1000 * 999 / 2)
    cross_pairs = 1000 * 1000
    row, col = data.edge_index
    same = data.y[row] == data.y[col]
    assert abs(int(same.sum()) / 2 - 0.01 * within_pairs) < 5 * np.sqrt(0.01 * within_pairs)
    assert abs(int((~same).sum()) / 2 - 0.001 * cross_pairs) < 5 * np.sqrt(0.001 * cross_pairs)
    assert data.p_in == 0.01 and data.p_out == 0.001


def test_dense_corner_cases():
    complete = csbm(30, num_classes=3, p_in=1.0, p_out=1.0, num_features=2, train_per_class=1, num_val=3, num_test=3)
    assert complete.edge_index.size(1) == 30 * 29
    empty = csbm(30, num_classes=3, p_in=0.0, p_out=0.0, num_features=2, train_per_class=1, num_val=3, num_test=3)
    assert empty.edge_index.shape == (2, 0)
    separated = csbm(300, num_classes=3, homophily=1.0, avg_degree=5, train_per_class=1, num_val=3, num_test=3)
    assert _within_fraction(separated) == 1.0


def test_features_carry_class_signal():
    data = csbm(4000, num_classes=4, num_features=32, feature_signal=2.0, seed=5)
    means = torch.stack([data.x[data.y == c].mean(0) for c in range(4)])
    assert torch.allclose(means.norm(dim=1), torch.full((4,), 2.0), atol=0.05)
    nearest = torch.cdist(data.x, means).argmin(1)
    assert (nearest == data.y).float().mean() > 0.95
    noise_only = csbm(4000, num_classes=4, num_features=32, feature_signal=0.0, seed=5)
    assert noise_only.x.norm(dim=1).mean() == pytest.approx(1.0, abs=0.05)


def test_masks_like_planetoid():
    data = csbm(5000, num_classes=5, train_per_class=20, num_val=500, num_test=1000, seed=2)
    assert torch.bincount(data.y[data.train_mask]).tolist() == [20] * 5
    assert int(data.val_mask.sum()) == 500 and int(data.test_mask.sum()) == 1000
    assert not (data.train_mask & data.val_mask).any() and not (data.val_mask & data.test_mask).any()


def test_seeded_and_class_sizes():
    kwargs = dict(num_classes=3, class_sizes=[1000, 300, 200], num_val=200, num_test=400)
    a = csbm(1500, seed=9, **kwargs)
    b = csbm(1500, seed=9, **kwargs)
    c = csbm(1500, seed=10, **kwargs)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.edge_index, c.edge_index)
    assert torch.bincount(a.y).tolist() == [1000, 300, 200]


def test_load_dataset_dispatches_csbm():
    data = load_dataset("CSBM", num_nodes=1000, num_classes=3, seed=0, num_val=100, num_test=200)
    assert data.num_nodes == 1000 and data.num_classes == 3


def test_triangle_decode_round_trips_large_indices():
    n = 10_000_000
    k = np.array([0, 1, 2, 3, 12345678901, n * (n - 1) // 2 - 1, n * (n - 1) // 2 - 2], dtype=np.int64)
    i, j = _triangle_decode(k)
    assert (j < i).all() and (j >= 0).all() and (i < n).all()
    assert np.array_equal(i * (i - 1) // 2 + j, k)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_classes=1), "num_classes must be >= 2"),
        (dict(num_nodes=3, num_classes=5), "num_nodes must be >= num_classes"),
        (dict(homophily=1.5), "homophily"),
        (dict(avg_degree=-1.0), "avg_degree"),
        (dict(avg_degree=float("nan")), "avg_degree"),
        (dict(feature_signal=-1.0), "feature_signal"),
        (dict(num_features=-2), "num_features"),
        (dict(class_sizes=[10, 10]), "class_sizes must hold"),
        (dict(class_sizes=[500, 500, 500, 500, 0]), "class_sizes must be positive"),
        (dict(p_in=0.1), "both p_in and p_out"),
        (dict(p_in=1.5, p_out=0.1), r"p_in must be a finite number in \[0.0, 1.0\]"),
        (dict(num_nodes=50, avg_degree=40.0, train_per_class=1, num_val=1, num_test=1), "too small"),
        (dict(train_per_class=500), "train_per_class=500 exceeds"),
        (dict(num_val=1500), "num_val=1500"),
    ],
)
def test_bad_input(kwargs, message):
    arguments = dict(num_nodes=2000, num_classes=5)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        csbm(**arguments)


def test_bad_types():
    with pytest.raises(TypeError, match="num_nodes must be an int"):
        csbm(1000.0)
