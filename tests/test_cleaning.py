"""The cleaning baselines (issue 12): confident learning's joint and pruning, the CPC-style
prototype cleaner, the label-propagation cleaner and CL + ERASE on a small noisy CSBM with
planted flips; the shared interface."""
import pytest
import torch

from noisygraph.baselines.cleaning import (CLEANERS, ConfidentLearning, PropagationCleaner,
                                           PrototypeCleaner, clean_posterior, confident_joint,
                                           leave_one_out_propagation, prune_by_noise_rate)
from noisygraph.baselines.confident import cap_flags_per_class
from noisygraph.datasets import csbm
from noisygraph.noise import LabelNoiseModel, add_label_noise
from noisygraph.sparse import as_adjacency

FAST = dict(epochs=80, patience=30, hidden_channels=16)


def noisy_graph(kind="uniform", rate=0.4, seed=0):
    data = csbm(num_nodes=300, num_classes=3, avg_degree=6, homophily=0.85, num_features=16,
                feature_signal=1.5, seed=seed, train_per_class=20, num_val=40, num_test=150)
    noise = add_label_noise(data.y, kind, rate, mask=data.train_mask, seed=seed,
                            sampler="exact")
    data.y_noisy = noise.y_noisy
    return data, noise.flipped


# ---------------------------------------------------------------- confident joint
def random_probs(n=150, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(2 * torch.randn(n, k, generator=g), dim=1)
    return torch.randint(0, k, (n,), generator=g), probs


def test_calibrated_joint_sums_to_n_and_rows_to_label_counts():
    labels, probs = random_probs()
    joint = confident_joint(labels, probs)
    assert joint.dtype == torch.long and joint.shape == (4, 4)
    assert int(joint.sum()) == labels.numel()
    assert torch.equal(joint.sum(dim=1), torch.bincount(labels, minlength=4))


def test_uncalibrated_joint_counts_confident_guesses():
    # thresholds: class 0 mean p0 over label-0 nodes = 0.75, class 1 mean p1 = 0.5
    labels = torch.tensor([0, 0, 1, 1])
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.8, 0.2], [0.2, 0.8]])
    # node 0 -> 0 (only p0 >= 0.75); node 1: p0 0.6 < 0.75, p1 0.4 < 0.5 -> not counted;
    # node 2: p0 0.8 >= 0.75 only -> (1, 0); node 3: p1 0.8 -> (1, 1)
    assert confident_joint(labels, probs, calibrate=False).tolist() == [[1, 0], [1, 1]]


def test_joint_matches_cleanlab():
    count = pytest.importorskip("cleanlab.count")
    for seed in range(5):
        labels, probs = random_probs(seed=seed)
        ours = confident_joint(labels, probs).numpy()
        theirs = count.compute_confident_joint(labels.numpy(), probs.numpy())
        assert (ours == theirs).all()


def test_prune_by_noise_rate_removes_largest_margins():
    labels = torch.tensor([0, 0, 0, 1, 1])
    probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.45, 0.55], [0.2, 0.8], [0.3, 0.7]])
    joint = torch.tensor([[2, 1], [0, 2]])  # one label-0 node is really class 1
    flagged = prune_by_noise_rate(labels, probs, joint)
    assert flagged.tolist() == [False, True, False, False, False]  # margin 0.4 beats 0.1
    # never below min_per_class: 3 label-0 nodes, 3 claimed wrong, 1 must stay
    assert int(prune_by_noise_rate(labels, probs, torch.tensor([[0, 3], [0, 2]])).sum()) == 2


def test_clean_posterior_separates_two_groups():
    losses = torch.tensor([0.1, 0.12, 0.09, 0.11, 2.0, 2.2, 1.9])
    post = clean_posterior(losses)
    assert bool((post[:4] > 0.9).all()) and bool((post[4:] < 0.1).all())
    assert torch.equal(clean_posterior(torch.tensor([0.3, 1.0])), torch.ones(2))


def test_leave_one_out_propagation_ignores_own_label():
    # path 0-1-2, labelled 0 and 2: node 0 receives only node 2's label, and vice versa
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    mass = leave_one_out_propagation(as_adjacency(edge_index, num_nodes=3),
                                     torch.tensor([0, 2]), torch.tensor([0, 1]), 2)
    assert mass[0, 0] == 0 and mass[0, 1] > 0 and mass[1, 1] == 0 and mass[1, 0] > 0
    # chunking does not change the result
    chunked = leave_one_out_propagation(as_adjacency(edge_index, num_nodes=3),
                                        torch.tensor([0, 2]), torch.tensor([0, 1]), 2,
                                        chunk_size=1)
    assert torch.allclose(mass, chunked)


def test_cap_keeps_the_most_suspicious_flags_of_each_class():
    labels = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1])
    flagged = torch.tensor([True, True, True, True, False, True, False, False])
    scores = torch.tensor([0.3, 0.1, 0.2, 0.1, 0.0, 0.9, 0.5, 0.5])
    capped = cap_flags_per_class(flagged, scores, labels, 0.5)
    # class 0: 5 labels, at most 2 flags: the two of score 0.1 (node 4 was never flagged)
    # class 1: 3 labels, at most 1 flag: node 5 stays flagged
    assert capped.tolist() == [False, True, False, True, False, True, False, False]
    assert torch.equal(cap_flags_per_class(flagged, scores, labels, 1.0), flagged)
    assert not cap_flags_per_class(flagged, scores, labels, 0.1).any()


def test_propagation_cleaner_never_flags_more_than_its_cap_of_a_class():
    """Every label of class 1 sits in a clique where, leaving it out, label 0 is the
    majority: uncapped, the cleaner flags (and drops) the whole class; capped, half of it."""
    # three cliques of 12 nodes, true classes 0, 1, 0, chained by two edges
    edges = []
    for block in range(3):
        nodes = range(12 * block, 12 * block + 12)
        edges += [(i, j) for i in nodes for j in nodes if i != j]
    edges += [(11, 12), (12, 11), (23, 24), (24, 23)]
    edge_index = torch.tensor(edges).t()
    y = torch.tensor([0] * 12 + [1] * 12 + [0] * 12)
    from torch_geometric.data import Data
    data = Data(x=torch.randn(36, 4, generator=torch.Generator().manual_seed(0)),
                edge_index=edge_index, y=y, num_nodes=36)
    data.train_mask = torch.zeros(36, dtype=torch.bool)
    data.train_mask[[0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19]] = True
    data.val_mask = torch.zeros(36, dtype=torch.bool)
    data.val_mask[[4, 20, 30]] = True
    data.test_mask = ~(data.train_mask | data.val_mask)
    # clique 1 holds 12-15 mislabelled 0 and 16-19 labelled 1 (the only labels of class 1)
    data.y_noisy = y.clone()
    data.y_noisy[[12, 13, 14, 15]] = 0
    options = dict(seed=0, epochs=5, patience=5, hidden_channels=8, threshold=0.4)
    free = PropagationCleaner(max_flag_fraction=1.0, **options)
    free.fit(data)
    capped = PropagationCleaner(**options)
    capped.fit(data)
    labels = data.y_noisy[capped.cleaning.nodes]
    assert free.cleaning.flagged[labels == 1].all()
    for c in (0, 1):
        members = labels == c
        assert int(capped.cleaning.flagged[members].sum()) <= members.sum() // 2
    assert int(capped.cleaning.keep[labels == 1].sum()) == 2
    assert not (capped.cleaning.flagged & ~free.cleaning.flagged).any()
    assert capped.to_dict()["max_flag_fraction"] == 0.5


# ---------------------------------------------------------------- cleaning planted flips
@pytest.mark.parametrize("method,kind,min_precision", [
    (ConfidentLearning, "uniform", 0.7), (PrototypeCleaner, "uniform", 0.7),
    (PropagationCleaner, "uniform", 0.5), (ConfidentLearning, "pair", 0.6),
    (PrototypeCleaner, "pair", 0.6)])
def test_cleaner_finds_planted_flips(method, kind, min_precision):
    data, flipped = noisy_graph(kind)
    cleaner = method(seed=0, **FAST)
    cleaner.fit(data)
    outcome = cleaner.cleaning
    truth = flipped[outcome.nodes]
    hits = int((outcome.flagged & truth).sum())
    base = float(truth.float().mean())  # 0.4: the precision of flagging at random
    assert hits / max(int(outcome.flagged.sum()), 1) >= min_precision > base
    assert hits >= 0.3 * int(truth.sum())
    # the final training set holds a smaller share of wrong labels than the noisy one
    kept_wrong = outcome.keep & (outcome.labels != data.y[outcome.nodes])
    assert float(kept_wrong.sum()) / float(outcome.keep.sum()) < base - 0.1


def test_cleaning_beats_gcn_on_the_noisy_labels():
    # pair noise at 40 % on a graph with weak features: the plain GCN follows the swaps
    from noisygraph.erase import GCNBaseline
    data = csbm(num_nodes=400, num_classes=4, avg_degree=6, homophily=0.8, num_features=16,
                feature_signal=1.0, seed=1, train_per_class=20, num_val=60, num_test=200)
    data.y_noisy = add_label_noise(data.y, "pair", 0.4, mask=data.train_mask, seed=1,
                                   sampler="exact").y_noisy
    gcn = GCNBaseline(seed=0, verbose=False, **FAST).fit(data).test_acc
    # measured: GCN 72.0 %, cl 84.0, cpc 99.0, lp-clean 87.0
    for name in ("cl", "cpc", "lp-clean"):
        assert CLEANERS[name](seed=0, **FAST).fit(data).test_acc > gcn + 0.03, name


# ---------------------------------------------------------------- interface
@pytest.mark.parametrize("name", sorted(CLEANERS))
def test_interface_and_determinism(name):
    data, _ = noisy_graph()
    options = dict(seed=3, **FAST)
    if name == "cl-erase":
        options.update(erase_epochs=3, erase_patience=3, erase_hidden_channels=8,
                       erase_out_channels=8, num_folds=2)
    method = CLEANERS[name](**options)
    with pytest.raises(RuntimeError, match="fit"):
        method.predict()
    history = method.fit(data)
    pred = method.predict()
    assert pred.shape == (data.num_nodes,) and pred.dtype == torch.long
    assert 0.0 <= history.test_acc <= 1.0 and history.metrics["epoch"]
    first = method.cleaning.to_dict()
    assert first["num_flagged"] == len(method.cleaning.label_issues.tolist())
    again = CLEANERS[name](**options)
    again.fit(data)
    assert torch.equal(again.predict(), pred)
    assert again.cleaning.to_dict() == first


def test_noisy_val_protocol_reads_noisy_validation_labels():
    data, _ = noisy_graph()
    model = LabelNoiseModel("uniform", 0.4, 3, seed=0)
    noise = model.sample_each(data.y, [data.train_mask, data.val_mask])
    with pytest.raises(ValueError, match="noisy-val"):
        ConfidentLearning(protocol="noisy-val", **FAST).fit(data, y_noisy=data.y.clone())
    cleaner = ConfidentLearning(protocol="noisy-val", seed=0, **FAST)
    history = cleaner.fit(data, y_noisy=noise.y_noisy, noise_mask=noise.mask)
    # the selected epoch's validation accuracy is measured against the noisy labels
    clean_val = float((cleaner.predict()[data.val_mask] == data.y[data.val_mask]).float().mean())
    noisy_val = float((cleaner.predict()[data.val_mask]
                       == noise.y_noisy[data.val_mask]).float().mean())
    assert history.best_val_acc == pytest.approx(noisy_val)
    assert noisy_val != clean_val
