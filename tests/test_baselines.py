"""The robust-training baselines of noisygraph.baselines: each loss against a hand-computed
value, each method against plain cross-entropy on a noisy CSBM graph (fixed seeds), the shared
interface (fit -> History, predict, to_dict, keyword-only options) and the trainer plug-ins
they need (step_loss, networks)."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from noisygraph.baselines.cleaning import CleaningMethod, ConfidentLearning, PrototypeCleaner
from noisygraph.baselines import (METHODS, Baseline, CoTeaching, ELR, ELRLoss, ForwardCorrection,
                                  GCNBaseline, GCNEnsemble, GCNTrainer, NRGNNLite,
                                  RobustBaseline, coteaching_loss, estimate_transition,
                                  forward_corrected_loss, keep_rate, noise_rate,
                                  propagated_features, similar_labelled_edges,
                                  symmetric_cross_entropy)
from noisygraph.datasets import csbm
from noisygraph.history import History
from noisygraph.noise import add_label_noise

pytestmark = pytest.mark.usefixtures("one_thread")


def small_graph(seed=0, rate=0.3):
    data = csbm(160, num_classes=3, avg_degree=6, homophily=0.8, num_features=16, seed=seed,
                train_per_class=10, num_val=40, num_test=80)
    noise = add_label_noise(data.y, "uniform", rate, mask=data.train_mask, seed=seed)
    data.y_noisy, data.noise_mask = noise.y_noisy, noise.mask
    return data


# --- the losses, by hand -------------------------------------------------------------------

def test_symmetric_cross_entropy_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]])           # p = (1/4, 3/4)
    value = symmetric_cross_entropy(logits, torch.tensor([1]), alpha=0.1, beta=1.0)
    assert value.item() == pytest.approx(0.1 * -math.log(0.75) + 4 * 0.25, rel=1e-6)
    value = symmetric_cross_entropy(logits, torch.tensor([0]), alpha=2.0, beta=0.5,
                                    log_zero=-6.0)
    assert value.item() == pytest.approx(2.0 * -math.log(0.25) + 0.5 * 6 * 0.75, rel=1e-6)


def test_forward_corrected_loss_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]])           # p = (1/4, 3/4)
    transition = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    # (p T) = (0.25*0.8 + 0.75*0.4, 0.25*0.2 + 0.75*0.6) = (0.5, 0.5)
    value = forward_corrected_loss(logits, torch.tensor([0]), transition)
    assert value.item() == pytest.approx(math.log(2.0), rel=1e-6)
    identity = forward_corrected_loss(logits, torch.tensor([1]), torch.eye(2))
    assert identity.item() == pytest.approx(F.cross_entropy(logits, torch.tensor([1])).item())


def test_estimate_transition_anchors():
    probs = torch.tensor([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5]])
    # argmax anchors: node 0 for class 0, node 2 for class 1
    torch.testing.assert_close(estimate_transition(probs, quantile=1.0), probs[[0, 2]])
    # quantile 0.5 (median 0.5 of column 0, 0.5 of column 1): the largest at or below it
    torch.testing.assert_close(estimate_transition(probs, quantile=0.5), probs[[4, 4]])
    transition = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    assert noise_rate(transition, torch.tensor([0.5, 0.5])) == pytest.approx(0.3)


def test_coteaching_schedule_and_exchange_by_hand():
    assert keep_rate(0, 0.4, 10) == 1.0
    assert keep_rate(5, 0.4, 10) == pytest.approx(0.8)
    assert keep_rate(50, 0.4, 10) == pytest.approx(0.6)
    labels = torch.tensor([0, 0, 1, 1])
    logits = torch.randn(2, 4, 2, generator=torch.Generator().manual_seed(0))
    ce = torch.stack([F.cross_entropy(z, labels, reduction="none") for z in logits])
    # keep 1/2 over all nodes: each network's two smallest losses train the other one
    first, second = ce[0].argsort()[:2], ce[1].argsort()[:2]
    expected = ce[1][first].mean() + ce[0][second].mean()
    value = coteaching_loss(logits, labels, 0.5, per_class=False)
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    # per class: the smaller of each class's two
    pick = lambda row: torch.tensor([int(row[:2].argmin()), 2 + int(row[2:].argmin())])  # noqa
    expected = ce[1][pick(ce[0])].mean() + ce[0][pick(ce[1])].mean()
    value = coteaching_loss(logits, labels, 0.5, per_class=True)
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="logits"):
        coteaching_loss(logits[0], labels, 0.5)


def test_elr_loss_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]])           # p = (1/4, 3/4)
    loss = ELRLoss(1, 2, beta=0.7, lam=3.0)
    ce = -math.log(0.75)
    # step 1: t = 0.3 p, <p, t> = 0.3 (1/16 + 9/16)
    assert loss(logits, torch.tensor([1])).item() == pytest.approx(
        ce + 3 * math.log(1 - 0.3 * 10 / 16), rel=1e-5)
    # step 2: t = 0.7 * 0.3 p + 0.3 p = 0.51 p
    assert loss(logits, torch.tensor([1])).item() == pytest.approx(
        ce + 3 * math.log(1 - 0.51 * 10 / 16), rel=1e-5)
    warm = ELRLoss(1, 2, warmup=1)
    assert warm(logits, torch.tensor([1])).item() == pytest.approx(ce, rel=1e-6)
    assert warm(logits, torch.tensor([1])).item() < ce      # the regulariser is on
    with pytest.raises(ValueError, match="logits"):
        warm(torch.zeros(3, 2), torch.tensor([0, 1, 1]))


def test_similar_labelled_edges():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0], [-1.0, 0.0]])
    labelled, unlabelled = torch.tensor([0, 1]), torch.tensor([2, 3, 4])
    edge_index, weight = similar_labelled_edges(x, labelled, unlabelled, candidates=1,
                                                min_similarity=0.5)
    pairs = {tuple(e) for e in edge_index.T.tolist()}
    assert pairs == {(2, 0), (0, 2), (3, 1), (1, 3)}         # node 4 is similar to no one
    assert torch.all(weight > 0.99)


def test_propagated_features_by_hand():
    from torch_geometric.data import Data
    # the path 0 - 1 - 2: with self-loops the degrees are 2, 3, 2
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    data = Data(x=x, edge_index=edge_index, num_nodes=3)
    dense = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    scale = torch.tensor([2.0, 3.0, 2.0]).rsqrt()
    norm = scale[:, None] * dense * scale[None, :]
    torch.testing.assert_close(propagated_features(data, hops=0), x)
    torch.testing.assert_close(propagated_features(data, hops=2), norm @ norm @ x)


@pytest.fixture(scope="module")
def cora_shaped_csbm():
    """Two seeds of a CSBM in Cora's shape (2,708 nodes, 7 classes, 140 labels, degree 3.9,
    homophily 0.8) with weak features, uniform 40 % and pair 30 % noise: 18 unlabelled nodes
    per label, where links to the labelled nodes turn them into hubs (seeds not used when
    choosing NRGNN-lite's defaults)."""
    graphs = []
    for seed, (kind, rate) in ((50, ("uniform", 0.4)), (51, ("pair", 0.3))):
        data = csbm(2708, num_classes=7, avg_degree=3.9, homophily=0.8, num_features=64,
                    feature_signal=0.3, seed=seed, train_per_class=20, num_val=500,
                    num_test=1000)
        data.y_noisy = add_label_noise(data.y, kind, rate, mask=data.train_mask,
                                       seed=seed).y_noisy
        graphs.append(data)
    return graphs


def test_nrgnn_lite_does_not_collapse_with_many_unlabelled_nodes(cora_shaped_csbm):
    """The defaults of before (50 links of raw-feature cosine per unlabelled node) made each
    labelled node a hub of hundreds of weak links; on Cora the GCN then collapsed to 28-57 %
    where CE had 65-77 %. Measured here: CE 85.2 %, NRGNN-lite 91.8 %, the old
    defaults 82.8 % (below CE: this test fails on them)."""
    ce = mean_accuracy(GCNBaseline, cora_shaped_csbm)
    nrgnn = mean_accuracy(NRGNNLite, cora_shaped_csbm)
    assert nrgnn >= ce, (nrgnn, ce)


# --- the methods beat (or match) plain cross-entropy on a noisy graph ----------------------

@pytest.fixture(scope="module")
def noisy_csbm():
    """Two seeds of a 4-class CSBM with weak features and 50 % uniform noise on the 80
    training labels (realised 49 % and 42 %), where plain CE overfits the wrong labels."""
    graphs = []
    for seed in range(2):
        data = csbm(600, num_classes=4, avg_degree=8, homophily=0.6, num_features=32,
                    feature_signal=0.5, seed=seed, train_per_class=20, num_val=200,
                    num_test=300)
        data.y_noisy = add_label_noise(data.y, "uniform", 0.5, mask=data.train_mask,
                                       seed=seed).y_noisy
        graphs.append(data)
    return graphs


def mean_accuracy(cls, graphs):
    return sum(cls(seed=0).fit(data).test_acc for data in graphs) / len(graphs)


@pytest.fixture(scope="module")
def ce_accuracy(noisy_csbm):
    return mean_accuracy(GCNBaseline, noisy_csbm)


@pytest.mark.parametrize("name,margin", [("forward", 0.0), ("sce", 0.02),
                                         ("coteaching", 0.01), ("nrgnn-lite", 0.05),
                                         ("elr", 0.0)])
def test_method_beats_cross_entropy(name, margin, noisy_csbm, ce_accuracy):
    """Measured (mean of the two graphs): CE 83.0 %, SCE 86.8, Co-teaching 84.5, NRGNN-lite
    91.3, ELR 83.0, forward at least CE's; each must keep a margin over CE (a broken loss or
    selection falls below it; ELR, whose regulariser starts at CE's selected epoch, must not
    lose)."""
    accuracy = mean_accuracy(METHODS[name], noisy_csbm)
    assert accuracy >= ce_accuracy + margin, (name, accuracy, ce_accuracy)


# --- the interface -------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(METHODS))
def test_interface(name):
    data = small_graph()
    method = METHODS[name](epochs=15, patience=15, seed=0)
    assert isinstance(method, Baseline)
    assert method.to_dict()["seed"] == 0 and "best_epoch" not in method.to_dict()
    with pytest.raises(RuntimeError, match="fit"):
        method.predict()
    history = method.fit(data)
    assert isinstance(history, History)
    assert len(history.metrics["epoch"]) >= 1
    pred = method.predict()
    assert pred.shape == (data.num_nodes,) and pred.dtype == torch.long
    assert 0.0 <= history.test_acc <= 1.0
    json.dumps(history.to_dict())
    record = json.loads(json.dumps(method.to_dict()))
    assert record["method"] == METHODS[name].__name__ and record["epochs"] == 15
    assert record["best_epoch"] == history.best_epoch and record["test_acc"] == history.test_acc
    # the same seed gives the same run
    again = METHODS[name](epochs=15, patience=15, seed=0).fit(data)
    assert again.test_acc == history.test_acc
    with pytest.raises(TypeError):
        METHODS[name](64)


@pytest.mark.parametrize("name", sorted(set(METHODS) - {"gcn"}))
def test_noisy_val_protocol(name):
    data = small_graph()
    noise = add_label_noise(data.y, "uniform", 0.3, mask=data.train_mask | data.val_mask,
                            seed=1)
    method = METHODS[name](epochs=10, patience=10, seed=0, protocol="noisy-val")
    history = method.fit(data, y_noisy=noise.y_noisy, noise_mask=noise.mask)
    assert history.best_val_acc >= 0.0
    with pytest.raises(ValueError, match="noisy-val"):
        METHODS[name](epochs=2, protocol="noisy-val").fit(data, y_noisy=data.y_noisy,
                                                        noise_mask=data.noise_mask)


def test_methods_registry():
    assert METHODS["gcn"] is METHODS["ce"] is GCNBaseline
    assert {"ce", "forward", "sce", "coteaching", "elr", "nrgnn-lite"} <= set(METHODS)
    from noisygraph.erase import GCNBaseline as old
    from noisygraph.erase.history import History as old_history
    from noisygraph.erase.protocols import check_node_data
    from noisygraph.protocols import check_node_data as new
    assert old is GCNBaseline and old_history is History and check_node_data is new


def test_estimates_are_recorded():
    data = small_graph(rate=0.4)
    forward = ForwardCorrection(epochs=30, patience=30, seed=0)
    forward.fit(data)
    assert forward.transition.shape == (3, 3)
    torch.testing.assert_close(forward.transition.sum(1), torch.ones(3))
    coteaching = CoTeaching(epochs=30, patience=30, seed=0)
    coteaching.fit(data)
    assert 0.0 <= coteaching.forget_rate_ <= 0.5
    given = CoTeaching(forget_rate=0.25, epochs=5, patience=5, seed=0)
    given.fit(data)
    assert given.forget_rate_ == 0.25
    elr = ELR(epochs=30, patience=30, seed=0)
    elr.fit(data)
    ce = GCNBaseline(epochs=30, patience=30, seed=0).fit(data)
    assert elr.warmup_ == ce.best_epoch
    nrgnn = NRGNNLite(epochs=30, patience=30, seed=0, confidence=0.0)
    nrgnn.fit(data)
    assert nrgnn.num_added_edges > 0
    assert nrgnn.num_pseudo_labels == int((~data.train_mask & ~data.val_mask).sum())


# --- the trainer plug-ins ------------------------------------------------------------------

def test_two_networks_combine_their_probabilities():
    logits = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    expected = torch.softmax(logits, dim=-1).mean(0)
    torch.testing.assert_close(GCNEnsemble.combine(logits).exp(), expected)
    data = small_graph()
    seen = []

    def step_loss(epoch, logits, labels):
        seen.append((epoch, tuple(logits.shape)))
        return F.cross_entropy(logits[0], labels) + F.cross_entropy(logits[1], labels)

    result = GCNTrainer(epochs=3, patience=3, seed=0, networks=2, step_loss=step_loss).fit(
        data, val_nodes=data.val_mask, val_labels=data.y)
    assert seen == [(1, (2, 30, 3)), (2, (2, 30, 3)), (3, (2, 30, 3))]
    torch.testing.assert_close(result.probs.sum(1), torch.ones(data.num_nodes))


def test_gcn_trainer_predicts_its_own_graph_only():
    data = small_graph()
    trainer = GCNTrainer(epochs=3, patience=3, seed=0)
    result = trainer.fit(data, val_nodes=data.val_mask, val_labels=data.y)
    assert torch.equal(trainer.predict(), result.predict())
    assert torch.equal(trainer.predict(data), result.predict())
    with pytest.raises(ValueError, match="data must be None or the graph fit"):
        trainer.predict(small_graph(seed=1))  # same size, other graph: refused


def test_step_loss_rules():
    with pytest.raises(ValueError, match="step_loss"):
        GCNTrainer(step_loss=lambda e, z, y: z.sum(), loss=lambda z, y: z.sum(1))
    with pytest.raises(ValueError, match="label_update"):
        GCNTrainer(networks=2, label_update=lambda e, z, y: y)
    data = small_graph()
    with pytest.raises(ValueError, match="sample_weight"):
        GCNTrainer(epochs=1, step_loss=lambda e, z, y: z.sum()).fit(
            data, sample_weight=torch.ones(30))


def test_one_base_class_for_every_baseline():
    """The robust-training baselines and the cleaners are one class (the old names are that
    class), and every method the runner knows is a ``Method``."""
    from noisygraph.baselines import Method
    from noisygraph.bench import method_registry

    assert RobustBaseline is CleaningMethod is Baseline
    assert all(issubclass(kind, Baseline) for kind in METHODS.values())
    assert all(issubclass(kind, Method) for kind in method_registry().values())
    with pytest.raises(TypeError, match="abstract"):
        Method()


def test_seed_step_robust_same_seed_cleaners_seed_plus_i(monkeypatch):
    """Every GCN of a robust baseline gets ``seed``; GCN i of a cleaner ``seed + i`` (the
    seeding their recorded figures were measured with)."""
    seeds = []
    original = GCNTrainer.__init__

    def spy(self, **options):
        seeds.append(options["seed"])
        original(self, **options)

    monkeypatch.setattr(GCNTrainer, "__init__", spy)
    data = small_graph()
    ForwardCorrection(epochs=3, patience=3, seed=5).fit(data)
    assert seeds == [5, 5]
    seeds.clear()
    ConfidentLearning(num_folds=3, epochs=3, patience=3, seed=5).fit(data)
    assert seeds == [5, 6, 7, 8]  # three folds, then the final GCN
    seeds.clear()
    PrototypeCleaner(epochs=3, patience=3, seed=5).fit(data)
    assert seeds == [5, 6]
