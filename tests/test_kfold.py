"""One K-fold out-of-sample implementation (``noisygraph.baselines._kfold``) behind both
confident-learning cleaning and label-issue detection: both give, bit for bit, what their
former separate loops gave (copied here verbatim as the references)."""
import pytest
import torch

from noisygraph.baselines import GCNTrainer
from noisygraph.baselines._kfold import assign_folds, kfold_probs, neighbour_mean
from noisygraph.baselines.cleaning import ConfidentLearning, out_of_sample_probs
from noisygraph.datasets import csbm
from noisygraph.detection import detect_label_issues, out_of_sample_predictions
from noisygraph.detection.oos import random_folds
from noisygraph.noise import AddLabelNoise
from noisygraph.sparse import as_adjacency

FAST = {"epochs": 30, "hidden_channels": 16}


@pytest.fixture(scope="module")
def noisy():
    data = csbm(160, num_classes=3, seed=4, train_per_class=25, num_val=20, num_test=20,
                feature_signal=0.8, homophily=0.75, verbose=False)
    return AddLabelNoise("uniform", 0.3, seed=1)(data)


def _old_detection_oos(data, folds, seed):
    """The loop of ``detection.oos.out_of_sample_predictions`` before the merge."""
    nodes = data.train_mask.nonzero().flatten()
    given = data.y_noisy[nodes]
    num_nodes, num_classes = data.num_nodes, int(data.y_noisy.max()) + 1
    generator = torch.Generator().manual_seed(seed)
    fold_of = torch.empty(nodes.numel(), dtype=torch.long)
    fold_of[torch.randperm(nodes.numel(), generator=generator)] = \
        torch.arange(nodes.numel()) % folds
    full_labels = torch.zeros(num_nodes, dtype=torch.long)
    full_labels[nodes] = given
    adj = as_adjacency(data, num_nodes=num_nodes)
    probs = torch.empty(nodes.numel(), num_classes)
    neighbour = torch.empty(nodes.numel(), num_classes)
    all_probs = torch.zeros(num_nodes, num_classes)
    empty = torch.zeros(0, dtype=torch.long)
    for k in range(folds):
        held = fold_of == k
        result = GCNTrainer(seed=seed + k, **FAST).fit(
            data, train_nodes=nodes[~held], train_labels=full_labels, val_nodes=empty,
            num_classes=num_classes)
        fold_probs = result.probs.detach().cpu().float()
        probs[held] = fold_probs[nodes[held]]
        neighbour[held] = neighbour_mean(adj, fold_probs)[nodes[held]]
        all_probs += fold_probs / folds
    all_probs[nodes] = probs
    return probs, neighbour, all_probs, fold_of


def _old_confident_oos(method, data, nodes, labels, val_labels, num_classes, num_folds):
    """``baselines.confident.out_of_sample_probs`` before the merge."""
    generator = method.generator(labels.device)
    order = torch.randperm(labels.numel(), generator=generator, device=labels.device)
    fold = torch.empty_like(labels)
    for k in range(num_classes):
        members = order[labels[order] == k]
        fold[members] = torch.arange(members.numel(), device=labels.device) % num_folds
    probs = torch.zeros(labels.numel(), num_classes, device=labels.device)
    for f in range(num_folds):
        held = fold == f
        if not bool(held.any()):
            continue
        result = method.fit_gcn(data, labels[~held], val_labels, num_classes,
                                train_nodes=nodes[~held])
        probs[held] = result.probs[nodes[held]]
    return probs


@pytest.mark.parametrize("folds,seed", [(2, 0), (3, 7)])
def test_detection_predictions_unchanged(noisy, folds, seed):
    new = out_of_sample_predictions(noisy, folds=folds, seed=seed, trainer=FAST)
    probs, neighbour, all_probs, fold_of = _old_detection_oos(noisy, folds, seed)
    assert torch.equal(new.folds, fold_of)
    assert torch.equal(new.probs, probs)
    assert torch.equal(new.neighbour_probs, neighbour)
    assert torch.equal(new.all_probs, all_probs)


@pytest.mark.parametrize("seed,num_folds", [(0, 3), (None, 2), (5, 40)])
def test_confident_learning_probs_unchanged(noisy, seed, num_folds):
    """Including the global-RNG path (``seed=None``) and folds left empty by stratification
    (40 folds: more than the nodes of any class)."""
    nodes = noisy.train_mask.nonzero().flatten()
    labels = noisy.y_noisy[nodes]
    results = []
    for oos in (out_of_sample_probs, _old_confident_oos):
        torch.manual_seed(3)
        method = ConfidentLearning(seed=seed, epochs=20, patience=20, hidden_channels=8)
        results.append(oos(method, noisy, nodes, labels, noisy.y, 3, num_folds))
    assert torch.equal(results[0], results[1])


def test_confident_learning_fit_unchanged(noisy):
    """The whole cleaner (probabilities, joint, retrained predictions) is the same as with
    the former loop."""
    import noisygraph.baselines.confident as confident
    outcomes = []
    for oos in (confident.out_of_sample_probs, _old_confident_oos):
        original = confident.out_of_sample_probs
        confident.out_of_sample_probs = oos
        try:
            method = ConfidentLearning(seed=2, epochs=20, patience=20, hidden_channels=8)
            method.fit(noisy)
            outcomes.append((method.probs, method.joint, method.predict()))
        finally:
            confident.out_of_sample_probs = original
    for new, old in zip(*outcomes):
        assert torch.equal(new, old)


def test_detector_on_the_shared_predictions_is_deterministic(noisy):
    pred = out_of_sample_predictions(noisy, folds=3, seed=0, trainer=FAST)
    a = detect_label_issues(noisy, pred_probs=pred)
    b = detect_label_issues(noisy, pred_probs=out_of_sample_predictions(
        noisy, folds=3, seed=0, trainer=FAST))
    assert torch.equal(a.scores, b.scores) and torch.equal(a.is_issue, b.is_issue)


def test_assign_folds():
    g = torch.Generator().manual_seed(9)
    plain = assign_folds(11, 3, g)
    assert torch.equal(plain, random_folds(11, 3, 9))
    assert sorted(torch.bincount(plain).tolist()) == [3, 4, 4]
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    strat = assign_folds(11, 2, torch.Generator().manual_seed(1), labels=labels)
    for k in range(3):  # each class dealt over the folds evenly
        counts = torch.bincount(strat[labels == k], minlength=2)
        assert int(counts.max() - counts.min()) <= 1


def test_kfold_probs_never_scores_a_node_with_its_own_label():
    nodes = torch.tensor([0, 2, 3, 5])
    fold_of = torch.tensor([0, 1, 0, 1])
    seen = []

    def fit(k, held):
        seen.append((k, nodes[~held].tolist()))
        out = torch.zeros(6, 2)
        out[:, k] = 1.0
        return out

    probs, neighbour, all_probs = kfold_probs(fit, nodes, fold_of, 2, average=True)
    assert seen == [(0, [2, 5]), (1, [0, 3])]
    assert probs.tolist() == [[1, 0], [0, 1], [1, 0], [0, 1]]
    assert neighbour is None
    assert all_probs[1].tolist() == [0.5, 0.5] and all_probs[2].tolist() == [0.0, 1.0]
