"""Label-issue detection (``noisygraph.detection``) on tiny CSBM graphs with planted flips."""
import json

import pytest
import torch
from torch_geometric.data import Data

from noisygraph.datasets import csbm
from noisygraph.detection import (EVIDENCE, confident_joint, detect_label_issues,
                                  find_label_issues, fit_weights, graphcleaner_style_detector,
                                  label_quality_scores, out_of_sample_predictions)
from noisygraph.noise import AddLabelNoise

FAST = {"epochs": 40, "hidden_channels": 16}
FOLDS = 3


def _auroc(truth: torch.Tensor, wrongness: torch.Tensor) -> float:
    """Probability that a flipped node outranks a clean one (ties count half)."""
    pos, neg = wrongness[truth], wrongness[~truth]
    greater = (pos.unsqueeze(1) > neg.unsqueeze(0)).double().mean()
    ties = (pos.unsqueeze(1) == neg.unsqueeze(0)).double().mean()
    return float(greater + 0.5 * ties)


@pytest.fixture(scope="module")
def noisy():
    data = csbm(200, num_classes=3, seed=1, train_per_class=40, num_val=30, num_test=30,
                feature_signal=0.8, homophily=0.75, verbose=False)
    return AddLabelNoise("uniform", 0.3, seed=2)(data)


@pytest.fixture(scope="module")
def pred(noisy):
    return out_of_sample_predictions(noisy, seed=0, folds=FOLDS, trainer=FAST)


@pytest.fixture(scope="module")
def issues(noisy, pred):
    return detect_label_issues(noisy, pred_probs=pred)


def test_out_of_sample_own_label_never_used(noisy, pred):
    """Changing one training node's label changes nothing the detector knows about that node:
    its prediction, its neighbours' predictions and its diffusion evidence."""
    node_pos = 7
    node = int(pred.nodes[node_pos])
    labels = noisy.y_noisy.clone()
    labels[node] = (labels[node] + 1) % 3
    other = out_of_sample_predictions(noisy, labels=labels, seed=0, folds=FOLDS,
                                      trainer=FAST)
    assert torch.equal(other.folds, pred.folds)
    assert torch.equal(other.probs[node_pos], pred.probs[node_pos])
    assert torch.equal(other.neighbour_probs[node_pos], pred.neighbour_probs[node_pos])
    # ... while the same change does reach other folds' nodes (the test can fail)
    changed = ~torch.isclose(other.probs, pred.probs).all(dim=1)
    assert changed.any()
    # fixed exponents: the fitted ones are three numbers fitted on all the training nodes
    a = detect_label_issues(noisy, pred_probs=pred, weights=(1, 1, 1, 1))
    b = detect_label_issues(noisy, labels=labels, pred_probs=other, weights=(1, 1, 1, 1))
    assert torch.equal(a.evidence["diffusion"][node_pos], b.evidence["diffusion"][node_pos])
    assert torch.equal(a.combined[node_pos], b.combined[node_pos])


def test_scores_in_unit_interval_and_finds_planted_flips(noisy, issues):
    assert issues.scores.min() >= 0 and issues.scores.max() <= 1
    truth = noisy.noise_flipped[issues.nodes]
    assert truth.float().mean() > 0.15
    assert _auroc(truth, 1 - issues.scores) > 0.85  # chance is 0.5
    flagged = issues.is_issue
    precision = float((flagged & truth).sum() / flagged.sum())
    assert precision > 0.6 and 0.5 * int(truth.sum()) < int(flagged.sum()) < 2 * int(truth.sum())


def test_mask_and_indices_consistent(noisy, pred, issues):
    mask = find_label_issues(noisy, pred_probs=pred)
    assert mask.shape == (noisy.num_nodes,) and mask.dtype == torch.bool
    assert not mask[~noisy.train_mask].any()
    assert torch.equal(mask, issues.mask)
    for by in ("self_confidence", "normalized_margin"):
        ranked = find_label_issues(noisy, pred_probs=pred, return_indices_ranked_by=by)
        assert sorted(ranked.tolist()) == mask.nonzero().flatten().tolist()
    ranked = issues.ranked_indices("self_confidence")
    position = {int(n): i for i, n in enumerate(issues.nodes)}
    scores = [float(issues.scores[position[int(n)]]) for n in ranked]
    assert scores == sorted(scores)
    quality = label_quality_scores(noisy, pred_probs=pred)
    assert torch.equal(quality, issues.scores)


def test_to_dict_of_every_result(noisy, pred, issues):
    for result in (pred, issues, graphcleaner_style_detector(noisy, pred)):
        json.dumps(result.to_dict())
    d = issues.to_dict()
    # the embedding evidence only with embeddings
    assert d["num_issues"] == int(issues.is_issue.sum()) and sorted(d["evidence"]) == sorted(
        EVIDENCE[:3])


def test_graph_evidence_helps_over_model_alone(noisy, pred):
    """With uninformative (uniform) model probabilities the model alone ranks at chance; the
    graph evidence must still rank the planted flips well above it."""
    uniform = torch.full((pred.nodes.numel(), 3), 1 / 3)
    truth = noisy.noise_flipped[pred.nodes]
    model_only = detect_label_issues(noisy, pred_probs=uniform, weights=(1, 0, 0, 0))
    with_graph = detect_label_issues(noisy, pred_probs=uniform, folds=FOLDS)
    assert _auroc(truth, 1 - model_only.scores) == pytest.approx(0.5)
    assert _auroc(truth, 1 - with_graph.scores) > 0.75


def test_plain_pred_probs_tensor_and_default_path(noisy, pred):
    from_tensor = detect_label_issues(noisy, pred_probs=pred.probs, folds=FOLDS)
    assert sorted(from_tensor.evidence) == ["diffusion", "model"]
    computed = detect_label_issues(noisy, folds=FOLDS, trainer=FAST)  # computes pred_probs
    assert torch.equal(computed.scores, detect_label_issues(noisy, pred_probs=pred).scores)


def test_count_is_estimated_not_given():
    """No noise: few flags; heavy noise: many (the count follows the data)."""
    data = csbm(200, num_classes=3, seed=5, train_per_class=40, num_val=30, num_test=30,
                feature_signal=1.0, homophily=0.85, verbose=False)
    clean = detect_label_issues(data, labels=data.y, folds=FOLDS, trainer=FAST)
    noisy = detect_label_issues(AddLabelNoise("uniform", 0.4, seed=0)(data), folds=FOLDS,
                                trainer=FAST)
    assert clean.num_issues < 0.1 * clean.nodes.numel()
    assert noisy.num_issues > 3 * max(clean.num_issues, 1)


def test_confident_joint_rows_sum_to_given_counts():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.1, 0.9]])
    labels = torch.tensor([0, 0, 1, 1])
    joint = confident_joint(probs, labels, 2)
    assert torch.allclose(joint.sum(dim=1), torch.tensor([2.0, 2.0], dtype=torch.float64))
    assert joint[0, 1] > 0 and joint[1, 0] > 0


def test_graphcleaner_style_baseline_beats_chance(noisy, pred):
    result = graphcleaner_style_detector(noisy, pred)
    truth = noisy.noise_flipped[result.nodes]
    assert result.scores.min() >= 0 and result.scores.max() <= 1
    assert _auroc(truth, 1 - result.scores) > 0.75


def test_confident_joint_matches_cleanlab():
    count = pytest.importorskip("cleanlab.count")
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        probs = torch.softmax(2 * torch.randn(80, 4, generator=generator), dim=1).double()
        labels = torch.randint(0, 4, (80,), generator=generator)
        ours = confident_joint(probs, labels, 4).long().numpy()
        theirs = count.compute_confident_joint(labels.numpy(), probs.numpy(), calibrate=True)
        assert (ours == theirs).all()


def test_count_model_is_cleanlabs_rule(noisy, pred):
    """``count="model"``: in each given class, as many flags as the off-diagonal mass of
    cleanlab's calibrated confident joint of the model's probabilities."""
    count = pytest.importorskip("cleanlab.count")
    result = detect_label_issues(noisy, pred_probs=pred, count="model")
    joint = count.compute_confident_joint(pred.labels.numpy(), pred.probs.double().numpy(),
                                          calibrate=True)
    for j in range(3):
        expected = int(joint[j].sum() - joint[j, j])
        assert int(result.is_issue[result.labels == j].sum()) == expected
    other = detect_label_issues(noisy, pred_probs=pred, count="combined")
    assert not torch.equal(other.confident_joint, result.confident_joint)


def test_fit_weights_prefers_the_informative_evidence():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (300,), generator=generator)
    right = torch.rand(300, generator=generator) < 0.8
    guess = torch.where(right, labels, (labels + 1) % 3)
    informative = torch.log(0.1 + 0.7 * torch.nn.functional.one_hot(guess, 3).float())
    noise = torch.log_softmax(torch.randn(300, 3, generator=generator), dim=1)
    weights = fit_weights([informative, noise], labels)
    assert weights.min() >= 0 and weights[0] > 3 * weights[1]
    assert torch.equal(weights, fit_weights([informative, noise], labels))


def test_fitted_weights_deterministic_and_reported(noisy, pred):
    a = detect_label_issues(noisy, pred_probs=pred, weights="fitted")
    b = detect_label_issues(noisy, pred_probs=pred, weights="fitted")
    assert torch.equal(a.scores, b.scores) and torch.equal(a.is_issue, b.is_issue)
    assert sorted(a.weights) == sorted(EVIDENCE[:3]) and min(a.weights.values()) >= 0
    equal = detect_label_issues(noisy, pred_probs=pred)  # default: equal exponents
    assert equal.weights == {name: 1.0 for name in EVIDENCE[:3]}
    assert not torch.equal(a.scores, equal.scores)
    # the default count comes from the fitted product: the same joint as weights="fitted"
    assert torch.equal(equal.confident_joint, a.confident_joint)


def test_fitted_count_flags_fewer_than_the_sharp_product(noisy, pred):
    """The equal-weight product (exponents summing to 3) is sharper than the fitted one and
    its confident joint counts more issues."""
    sharp = detect_label_issues(noisy, pred_probs=pred, count="combined")
    default = detect_label_issues(noisy, pred_probs=pred)
    assert torch.equal(default.scores, sharp.scores)  # same ranking, other count
    assert default.num_issues < sharp.num_issues


def test_known_answer_two_cliques():
    """Two disconnected 12-cliques labelled 0 and 1, two labels flipped in each; with an
    uninformative model the labelled neighbourhood alone must flag exactly the four flips."""
    nodes = torch.arange(24)
    block = nodes // 12
    pairs = (block.unsqueeze(0) == block.unsqueeze(1)) & \
        (nodes.unsqueeze(0) != nodes.unsqueeze(1))
    labels = block.clone()
    flipped = torch.tensor([0, 5, 12, 17])
    labels[flipped] = 1 - labels[flipped]
    data = Data(edge_index=pairs.nonzero().t(), num_nodes=24, y_noisy=labels,
                train_mask=torch.ones(24, dtype=torch.bool))
    uniform = torch.full((24, 2), 0.5)
    for count in ("combined", "fitted"):
        result = detect_label_issues(data, pred_probs=uniform, folds=3, count=count)
        assert result.mask.nonzero().flatten().tolist() == flipped.tolist()
        assert result.scores[flipped].max() < result.scores[
            torch.ones(24, dtype=torch.bool).index_fill_(0, flipped, False)].min()
