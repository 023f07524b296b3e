"""Detection helping training (issue 12 item 5): ``detect-gcn`` / ``detect-erase`` train on
the labels the graph-aware detector keeps."""
import pytest
import torch

from noisygraph.baselines import GCNBaseline
from noisygraph.baselines.confident import cap_flags_per_class
from noisygraph.bench import get_method
from noisygraph.datasets import csbm
from noisygraph.detection import (DetectionERASE, DetectionGCN, detect_label_issues)
from noisygraph.noise import add_label_noise

FAST = dict(epochs=80, patience=30, hidden_channels=16)
DETECTOR = {"trainer": {"epochs": 40, "hidden_channels": 16}}


def weak_feature_graph():
    """The graph of ``test_cleaning.py``'s cleaners-beat-GCN test (pair noise at 40 % on weak
    features: the plain GCN follows the swaps), reused unchanged."""
    data = csbm(num_nodes=400, num_classes=4, avg_degree=6, homophily=0.8, num_features=16,
                feature_signal=1.0, seed=1, train_per_class=20, num_val=60, num_test=200)
    noise = add_label_noise(data.y, "pair", 0.4, mask=data.train_mask, seed=1,
                            sampler="exact")
    data.y_noisy = noise.y_noisy
    return data, noise.flipped


@pytest.fixture(scope="module")
def graph():
    return weak_feature_graph()


def test_registered_in_the_runner():
    assert get_method("detect-gcn") is DetectionGCN
    assert get_method("detect-erase") is DetectionERASE


def test_detect_gcn_beats_gcn_on_the_noisy_labels(graph):
    """At the detector's own defaults (5 folds of the default GCN trainer)."""
    data, _ = graph
    gcn = GCNBaseline(seed=0, verbose=False, **FAST).fit(data).test_acc
    ours = DetectionGCN(seed=0, **FAST).fit(data).test_acc
    assert ours > gcn + 0.03


def test_cleaning_is_the_detectors_verdict(graph):
    """Uncapped, the removed nodes are exactly ``detect_label_issues``' flags (same seed,
    same options); they hold a larger share of wrong labels than the training set (0.52 vs
    0.40 on this hard graph with the short detector GCNs)."""
    data, flipped = graph
    method = DetectionGCN(seed=4, detector=DETECTOR, max_flag_fraction=1.0, **FAST)
    method.fit(data)
    outcome = method.cleaning
    issues = detect_label_issues(data, seed=4, **DETECTOR)
    assert torch.equal(outcome.flagged, issues.is_issue)
    assert torch.equal(outcome.keep, ~issues.is_issue)
    assert torch.equal(outcome.scores, issues.scores)
    truth = flipped[outcome.nodes]
    assert float(truth[outcome.flagged].float().mean()) > float(truth.float().mean()) + 0.1
    # the final GCN trained on the kept nodes only
    assert method.to_dict()["num_kept"] == int((~issues.is_issue).sum())


def test_default_cap_removes_at_most_half_of_a_class(graph):
    """At the default ``max_flag_fraction=0.5`` the removed nodes are the detector's flags
    capped per given class: the lowest-scored flags of each class, never more than half of
    its labels; a class the detector flags more than half of loses exactly half."""
    data, _ = graph
    method = DetectionGCN(seed=4, detector=DETECTOR, **FAST)
    method.fit(data)
    outcome = method.cleaning
    issues = detect_label_issues(data, seed=4, **DETECTOR)
    labels = data.y_noisy[outcome.nodes]
    assert torch.equal(outcome.flagged, cap_flags_per_class(issues.is_issue, issues.scores,
                                                            labels, 0.5))
    assert not bool((outcome.flagged & ~issues.is_issue).any())
    for c in range(int(labels.max()) + 1):
        members = labels == c
        removed, flagged = int(outcome.flagged[members].sum()), int(issues.is_issue[members].sum())
        assert removed == min(flagged, int(members.sum()) // 2)
        kept_scores = outcome.scores[members & issues.is_issue & ~outcome.flagged]
        removed_scores = outcome.scores[members & outcome.flagged]
        if kept_scores.numel():  # the flags it keeps are the less suspicious ones
            assert float(kept_scores.min()) >= float(removed_scores.max())
    # on this graph the detector over-flags some class, so the cap binds
    assert int(outcome.flagged.sum()) < int(issues.is_issue.sum())


def test_quality_weighting_keeps_every_node(graph):
    data, _ = graph
    method = DetectionGCN(seed=2, weighting="quality", detector=DETECTOR, **FAST)
    method.fit(data)
    assert bool(method.cleaning.keep.all())
    # low-quality labels count less: the weighted fit differs from the unweighted one
    plain = GCNBaseline(seed=3, verbose=False, **FAST)
    plain.fit(data)
    assert not torch.equal(method.predict(), plain.predict())


def test_deterministic_and_interface(graph):
    data, _ = graph
    options = dict(seed=7, detector=DETECTOR, folds=3, **FAST)
    first = DetectionGCN(**options)
    with pytest.raises(RuntimeError, match="fit"):
        first.predict()
    first.fit(data)
    second = DetectionGCN(**options)
    second.fit(data)
    assert torch.equal(first.predict(), second.predict())
    record = first.to_dict()
    assert record["weighting"] == "remove" and record["folds"] == 3
    assert record["num_flagged"] == int(first.cleaning.flagged.sum())


def test_detect_erase_trains_erase_on_the_kept_labels(graph):
    data, _ = graph
    method = DetectionERASE(seed=0, detector=DETECTOR, folds=2, erase_epochs=3,
                            erase_patience=3, erase_hidden_channels=8, erase_out_channels=8)
    history = method.fit(data)
    pred = method.predict()
    assert pred.shape == (data.num_nodes,) and 0.0 <= history.test_acc <= 1.0
    kept = method._erase_data.train_mask
    assert int(kept.sum()) == int(method.cleaning.keep.sum()) < int(data.train_mask.sum())
