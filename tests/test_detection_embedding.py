"""The ERASE-embedding class-consistency evidence of ``detect_label_issues`` and the trainer
mode it needs (``ERASETrainer(select_epoch=False)``: no validation label read)."""
import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.datasets import csbm
from noisygraph.detection import (detect_label_issues, embedding_evidence, erase_embeddings,
                                  out_of_sample_predictions)
from noisygraph.erase import ERASE, ERASETrainer
from noisygraph.noise import AddLabelNoise
from noisygraph.protocols import check_node_data

FOLDS = 3


def _auroc(truth: torch.Tensor, wrongness: torch.Tensor) -> float:
    pos, neg = wrongness[truth], wrongness[~truth]
    return float((pos.unsqueeze(1) > neg.unsqueeze(0)).double().mean()
                 + 0.5 * (pos.unsqueeze(1) == neg.unsqueeze(0)).double().mean())


@pytest.fixture(scope="module")
def noisy():
    data = csbm(150, num_classes=3, seed=3, train_per_class=30, num_val=20, num_test=20,
                num_features=16, feature_signal=0.8, homophily=0.75, verbose=False)
    return AddLabelNoise("uniform", 0.3, seed=4)(data)


@pytest.fixture(scope="module")
def pred(noisy):
    return out_of_sample_predictions(noisy, seed=0, folds=FOLDS,
                                     trainer={"epochs": 30, "hidden_channels": 16})


def _oracle_embeddings(data: Data) -> torch.Tensor:
    """Embeddings that are the one-hot true class (plus a constant): the answer is known."""
    return torch.cat([torch.nn.functional.one_hot(data.y, 3).float(),
                      torch.ones(data.num_nodes, 1)], dim=1)


def test_oracle_embeddings_rank_every_flip_first(noisy, pred):
    """With embeddings that encode the true class, the embedding evidence alone separates
    the flipped labels from the clean ones perfectly, and joins the default ranking."""
    truth = noisy.noise_flipped[pred.nodes]
    assert 0 < int(truth.sum()) < truth.numel()
    alone = detect_label_issues(noisy, pred_probs=pred, weights=(0, 0, 0, 1),
                                embeddings=_oracle_embeddings(noisy))
    assert _auroc(truth, 1 - alone.scores) == 1.0
    assert sorted(alone.evidence) == ["embedding", "model"]  # the model's rows always kept
    without = detect_label_issues(noisy, pred_probs=pred)
    with_oracle = detect_label_issues(noisy, pred_probs=pred,
                                      embeddings=_oracle_embeddings(noisy))
    assert "embedding" in with_oracle.evidence and "embedding" not in without.evidence
    assert with_oracle.weights["embedding"] == 1.0
    assert _auroc(truth, 1 - with_oracle.scores) > _auroc(truth, 1 - without.scores)


def test_zero_weight_leaves_the_embedding_out(noisy, pred):
    a = detect_label_issues(noisy, pred_probs=pred, weights=(1, 1, 1, 0),
                            embeddings=_oracle_embeddings(noisy))
    b = detect_label_issues(noisy, pred_probs=pred)
    assert "embedding" not in a.evidence
    assert torch.equal(a.scores, b.scores) and torch.equal(a.is_issue, b.is_issue)


def test_weights_on_unavailable_evidence_only_is_an_error(noisy, pred):
    """(0, 0, 0, 1) without embeddings would rank by nothing (all scores 1/C): refused."""
    with pytest.raises(ValueError, match="weights"):
        detect_label_issues(noisy, pred_probs=pred, weights=(0, 0, 0, 1))
    with pytest.raises(ValueError, match="weights"):  # a bare tensor has no neighbours
        detect_label_issues(noisy, pred_probs=pred.probs, weights=(0, 0, 1, 0))


def test_embedding_evidence_never_reads_the_nodes_own_label(noisy, pred):
    """The prototypes of fold k come from the other folds: changing a node's label changes
    its own evidence row not at all, and some other fold's rows."""
    z = torch.randn(noisy.num_nodes, 8, generator=torch.Generator().manual_seed(0))
    labels = pred.labels.clone()
    base = embedding_evidence(z, pred.nodes, labels, pred.folds, 3)
    labels[5] = (labels[5] + 1) % 3
    changed = embedding_evidence(z, pred.nodes, labels, pred.folds, 3)
    assert torch.equal(base[5], changed[5])
    assert not torch.equal(base[pred.folds != pred.folds[5]],
                           changed[pred.folds != pred.folds[5]])
    assert torch.allclose(base.sum(dim=1), torch.ones(base.size(0)))


def test_class_absent_from_the_other_folds_gets_similarity_zero():
    nodes = torch.arange(4)
    labels = torch.tensor([0, 0, 1, 1])
    folds = torch.tensor([0, 1, 0, 1])
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    out = embedding_evidence(z, nodes, labels, folds, 3, temperature=1.0)  # class 2: nobody
    expected = torch.softmax(torch.tensor([1.0, 0.0, 0.0]), dim=0)
    assert torch.allclose(out[0], expected)
    assert torch.allclose(out[2], expected[[1, 0, 2]])


def test_erase_embeddings_read_only_the_given_training_labels(noisy):
    """Deterministic for a seed; the clean labels, the validation and test masks play no
    part (the graph the trainer sees carries the given training labels only)."""
    a = erase_embeddings(noisy, seed=1, epochs=3, hidden_channels=8, out_channels=16)
    assert a.shape == (noisy.num_nodes, 16) and bool(torch.isfinite(a).all())
    other = noisy.clone()
    other.y = torch.zeros_like(noisy.y)
    del other.val_mask, other.test_mask
    b = erase_embeddings(other, seed=1, epochs=3, hidden_channels=8, out_channels=16)
    assert torch.equal(a, b)
    c = erase_embeddings(noisy, seed=2, epochs=3, hidden_channels=8, out_channels=16)
    assert not torch.equal(a, c)


def _trainer(**options) -> ERASETrainer:
    torch.manual_seed(0)
    return ERASETrainer(ERASE(16, hidden_channels=8, out_channels=16), verbose=False,
                        **options)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_trainer_without_selection_runs_every_epoch_and_keeps_the_last(noisy, batch_size):
    trainer = _trainer(epochs=4, patience=0, select_epoch=False, batch_size=batch_size, seed=0)
    bare = Data(x=noisy.x, edge_index=noisy.edge_index, y=noisy.y_noisy,
                train_mask=noisy.train_mask)
    history = trainer.fit(bare, y_noisy=noisy.y_noisy)
    assert history.metrics["epoch"] == [1.0, 2.0, 3.0, 4.0] and history.best_epoch == 4
    assert "val_acc" not in history.metrics  # no validation label was read
    assert trainer.predict(bare).shape == (noisy.num_nodes,)
    assert trainer.embed_graph(bare).shape == (noisy.num_nodes, 16)


def test_check_node_data_without_validation_needs_only_the_training_mask(noisy):
    bare = Data(x=noisy.x, edge_index=noisy.edge_index, y=noisy.y, train_mask=noisy.train_mask)
    assert check_node_data(bare, noisy.y_noisy, validation=False) == 3
    with pytest.raises(ValueError, match="val_mask"):
        check_node_data(bare, noisy.y_noisy)


_DATA = AddLabelNoise("uniform", 0.2, seed=0)(
    csbm(60, num_classes=3, seed=0, train_per_class=5, num_val=10, num_test=10,
         num_features=8, verbose=False))
_PROBS = torch.full((15, 3), 1 / 3)
_NAN = torch.zeros(60, 4)
_NAN[0, 0] = float("nan")

CASES = [
    BadInput("embeddings-not-tensor", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embeddings=[[0.0]]), TypeError, "embeddings"),
    BadInput("embeddings-wrong-rows", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embeddings=torch.zeros(59, 4)), ValueError, "embeddings"),
    BadInput("embeddings-1d", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embeddings=torch.zeros(60)), ValueError, "embeddings"),
    BadInput("embeddings-integer", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embeddings=torch.zeros(60, 4, dtype=torch.long)),
        TypeError, "embeddings"),
    BadInput("embeddings-nan", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embeddings=_NAN), ValueError, "embeddings"),
    BadInput("embedding-temperature-zero", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embedding_temperature=0.0), ValueError,
        "embedding_temperature"),
    BadInput("embedding-temperature-bool", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, embedding_temperature=True), TypeError,
        "embedding_temperature"),
    BadInput("weights-three-entries", lambda: detect_label_issues(
        _DATA, pred_probs=_PROBS, weights=(1, 1, 1)), TypeError, "weights"),
    BadInput("evidence-temperature-negative", lambda: embedding_evidence(
        torch.zeros(60, 4), torch.arange(3), torch.zeros(3, dtype=torch.long),
        torch.arange(3), 3, temperature=-1.0), ValueError, "temperature"),
    BadInput("erase-embeddings-seed-negative", lambda: erase_embeddings(_DATA, seed=-1),
             ValueError, "seed"),
    BadInput("erase-embeddings-epochs-zero", lambda: erase_embeddings(_DATA, epochs=0),
             ValueError, "epochs"),
    BadInput("erase-embeddings-width-zero", lambda: erase_embeddings(_DATA, out_channels=0),
             ValueError, "out_channels"),
    BadInput("erase-embeddings-verbose-int", lambda: erase_embeddings(_DATA, verbose=1),
             TypeError, "verbose"),
    BadInput("erase-embeddings-no-features", lambda: erase_embeddings(
        Data(edge_index=_DATA.edge_index, y=_DATA.y, train_mask=_DATA.train_mask,
             num_nodes=60)), ValueError, "data.x"),
    BadInput("trainer-select-epoch-int", lambda: _trainer(select_epoch=1), TypeError,
             "select_epoch"),
    BadInput("trainer-select-epoch-distributed", lambda: _trainer(
        select_epoch=False, distributed=True, batch_size=8), ValueError, "select_epoch"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    assert_rejects(case)
