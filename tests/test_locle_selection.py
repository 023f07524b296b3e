"""Selection, filtering and refinement building blocks of Locle on small graphs."""
import pytest
import torch

from noisygraph.locle.refine import replace_labels, rewire
from noisygraph.locle.selection import (critical_nodes, density_select, entropy,
                                        entropy_change_filter, kmeans, label_disharmonicity,
                                        propagate_features, truncated_svd)


def path_graph(n):
    src = torch.arange(n - 1)
    return torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], dim=1)


def dense_walk(edge_index, n):
    a = torch.zeros(n, n, dtype=torch.double)
    a[edge_index[1], edge_index[0]] = 1.0
    deg = a.sum(1, keepdim=True)
    return torch.where(deg > 0, a / deg.clamp(min=1), a)


def test_propagate_features_matches_dense_formula():
    edge_index = torch.cat([path_graph(6), torch.tensor([[0, 3], [3, 0]])], dim=1)
    x = torch.randn(7, 3, dtype=torch.double)  # node 6 is isolated
    p = dense_walk(edge_index, 7)
    expected = x + 0.7 * p @ x + 0.49 * p @ p @ x
    torch.testing.assert_close(propagate_features(edge_index, x, alpha=0.7), expected)
    torch.testing.assert_close(propagate_features(edge_index, x, alpha=0.7, num_hops=0), x)
    with pytest.raises(ValueError, match="alpha"):
        propagate_features(edge_index, x, alpha=1.5)


def blobs(sizes, dim=5, spread=0.05, seed=0):
    generator = torch.Generator().manual_seed(seed)
    centres = torch.eye(dim)[:len(sizes)] * 5
    points = [centres[k] + spread * torch.randn(s, dim, generator=generator)
              for k, s in enumerate(sizes)]
    return torch.cat(points), torch.cat([torch.full((s,), k) for k, s in enumerate(sizes)])


def test_kmeans_recovers_separated_blobs():
    x, truth = blobs([30, 20, 10])
    assignment, centroids = kmeans(x, 3, seed=1)
    # same partition up to renaming
    for k in range(3):
        assert assignment[truth == k].unique().numel() == 1
    assert assignment.unique().numel() == 3 and centroids.shape == (3, 5)
    with pytest.raises(ValueError, match="num_clusters"):
        kmeans(x, 0)


def test_density_select_spreads_by_cluster_size_and_picks_central_nodes():
    x, truth = blobs([60, 30, 10])
    x[0] += 3.0  # an outlier of cluster 0: never among the densest
    picked = density_select(x, 10, 3, seed=0)
    assert picked.numel() == 10 and picked.unique().numel() == 10
    assert torch.bincount(truth[picked], minlength=3).tolist() == [6, 3, 1]
    assert 0 not in picked.tolist()
    excluded = torch.zeros(100, dtype=torch.bool)
    excluded[picked] = True
    again = density_select(x, 10, 3, seed=0, exclude=excluded)
    assert not set(again.tolist()) & set(picked.tolist())
    with pytest.raises(ValueError, match="num_select"):
        density_select(x, 101, 3)


def test_truncated_svd_keeps_the_dominant_subspace():
    generator = torch.Generator().manual_seed(0)
    low_rank = torch.randn(50, 2, generator=generator) @ torch.randn(2, 8, generator=generator)
    projected = truncated_svd(low_rank, 2)
    assert projected.shape == (50, 2)
    # U S of a rank-2 matrix reproduces its Gram matrix
    torch.testing.assert_close(projected @ projected.T, low_rank @ low_rank.T, atol=1e-4, rtol=1e-4)


def test_label_disharmonicity_matches_formula():
    edge_index = path_graph(4)
    probs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    p = dense_walk(edge_index, 4).float()
    expected = ((torch.eye(4) - p) @ probs).abs().sum(1)
    torch.testing.assert_close(label_disharmonicity(edge_index, probs), expected)
    # a node agreeing with all its neighbours is perfectly harmonious
    assert label_disharmonicity(edge_index, probs)[0] == 0
    assert label_disharmonicity(edge_index, probs)[1] > 0


def test_critical_nodes_queries_uncertain_and_pseudo_labels_confident():
    edge_index = path_graph(8)
    probs = torch.tensor([[0.99, 0.01]] * 4 + [[0.5, 0.5], [0.02, 0.98], [0.6, 0.4], [0.1, 0.9]])
    query, pseudo = critical_nodes(edge_index, probs, torch.arange(8), 2, 2)
    assert set(query.tolist()).isdisjoint(pseudo.tolist())
    assert 4 in query.tolist()  # maximal entropy at a class boundary
    assert set(pseudo.tolist()) <= {0, 1, 2}  # confident interior of a uniform region
    # candidates restrict the choice; asking for more than there is caps
    query, pseudo = critical_nodes(edge_index, probs, torch.tensor([5, 6]), 5, 5)
    assert sorted(query.tolist()) == [5, 6] and pseudo.numel() == 0


def test_entropy_change_filter_drops_low_confidence_of_majority_class():
    labels = torch.tensor([0] * 8 + [1, 2])
    confidence = torch.tensor([0.9, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.2, 0.9])
    keep = entropy_change_filter(labels, confidence, 3, drop_fraction=0.1)
    assert keep.sum() == 9
    assert not keep[1]  # low confidence AND over-represented class, not node 8 (rare class)
    assert entropy_change_filter(labels, confidence, 3, 0.0).all()
    with pytest.raises(ValueError, match="drop_fraction"):
        entropy_change_filter(labels, confidence, 3, 1.0)


def test_entropy_values():
    torch.testing.assert_close(entropy(torch.tensor([[0.5, 0.5], [1.0, 0.0]])),
                               torch.tensor([0.6931472, 0.0]))


def test_rewire_links_to_similar_labelled_nodes_and_drops_weak_edges():
    features = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 0.05]])
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    graph, weight = rewire(edge_index, features, labelled=torch.tensor([0, 2]),
                           num_neighbours=1, drop_fraction=0.3)
    edges = set(map(tuple, graph.T.tolist()))
    assert (1, 2) not in edges and (2, 1) not in edges  # the weakest (dissimilar) edge is gone
    assert (0, 4) in edges and (4, 0) in edges          # node 4 linked to similar labelled 0
    assert (2, 3) in edges and (3, 2) in edges
    assert all((b, a) in edges for a, b in edges)
    assert (weight >= 0).all() and weight.numel() == graph.size(1)


def test_replace_labels_only_when_annotator_is_less_confident():
    labels = torch.tensor([0, 0, 1, 1])
    confidence = torch.tensor([0.9, 0.1, 0.8, 0.3])
    model = torch.tensor([[0.4, 0.6], [0.05, 0.95], [0.2, 0.8], [0.55, 0.45]])
    refined, replaced = replace_labels(labels, confidence, model)
    assert replaced.tolist() == [False, True, False, False]
    assert refined.tolist() == [0, 1, 1, 1]
