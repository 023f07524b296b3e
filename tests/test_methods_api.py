"""One API across the methods: data first, options keyword-only, data.y_noisy / data.text read
by default, fit + predict, to_dict on every result; the shared GCN trainer's plug-ins."""
import json

import pytest
import torch
from torch_geometric.data import Data

from noisygraph.baselines import GCNTrainer
from noisygraph.erase import ERASETrainer, GCNBaseline
from noisygraph.locle import ClassInfo, Locle, annotate_all, random_gcn
from noisygraph.noise import AddLabelNoise
from test_locle_pipeline import CLASSES, TableAnnotator, noisy_table, planted_graph

pytestmark = pytest.mark.usefixtures("one_thread")


def masked_graph(n=120, seed=0):
    data = planted_graph(n=n, seed=seed)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    for name, part in (("train_mask", order[:40]), ("val_mask", order[40:70]),
                       ("test_mask", order[70:])):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[part] = True
        setattr(data, name, mask)
    return data


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        Locle(30)
    with pytest.raises(TypeError):
        GCNBaseline(64)
    with pytest.raises(TypeError):
        GCNTrainer(64)
    with pytest.raises(TypeError):
        ERASETrainer(torch.nn.Linear(2, 2), 1.0)


def test_zero_sample_weight_equals_dropping_the_node():
    data = masked_graph()
    train = data.train_mask.nonzero().flatten()
    weight = (torch.arange(train.numel()) % 2 == 0).float()
    trainer = GCNTrainer(epochs=30, seed=1)
    weighted = trainer.fit(data, train_nodes=train, train_labels=data.y,
                           sample_weight=weight).probs
    dropped = GCNTrainer(epochs=30, seed=1).fit(data, train_nodes=train[weight > 0],
                                                train_labels=data.y).probs
    everyone = GCNTrainer(epochs=30, seed=1).fit(data, train_nodes=train,
                                                 train_labels=data.y).probs
    torch.testing.assert_close(weighted, dropped, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(weighted, everyone, atol=1e-3)  # the weights did something


def test_loss_and_label_update_plug_in():
    data = masked_graph()
    calls = []

    def loss(logits, labels):
        calls.append(logits.shape)
        return torch.nn.functional.cross_entropy(logits, labels, reduction="none")

    GCNTrainer(epochs=5, seed=0, loss=loss).fit(data)
    assert len(calls) == 5 and calls[0] == (40, 3)
    # a label strategy that relabels every training node as class 0: the model learns it
    always_zero = lambda epoch, logits, labels: torch.zeros_like(labels)  # noqa: E731
    result = GCNTrainer(epochs=60, seed=0, label_update=always_zero).fit(
        data, val_nodes=torch.zeros(data.num_nodes, dtype=torch.bool))
    assert float((result.predict() == 0).float().mean()) > 0.9
    plain = GCNTrainer(epochs=60, seed=0).fit(data, val_nodes=torch.zeros(120, dtype=torch.bool))
    assert float((plain.predict() == 0).float().mean()) < 0.6


def test_gcn_trainer_accepts_every_graph_type():
    scipy = pytest.importorskip("scipy.sparse")
    nx = pytest.importorskip("networkx")
    data = masked_graph()
    kwargs = dict(x=data.x, train_nodes=data.train_mask, train_labels=data.y,
                  val_nodes=data.val_mask, num_classes=3)
    expected = GCNTrainer(epochs=20, seed=0).fit(data).probs
    row, col = data.edge_index
    graph = nx.Graph()
    graph.add_nodes_from(range(data.num_nodes))
    graph.add_edges_from(data.edge_index.T.tolist())
    ones = torch.ones(row.numel())
    for other in (data.edge_index,
                  torch.sparse_coo_tensor(data.edge_index, ones, (120, 120)),
                  scipy.coo_matrix((ones.numpy(), (row.numpy(), col.numpy())), shape=(120, 120)),
                  graph):
        got = GCNTrainer(epochs=20, seed=0).fit(other, **kwargs).probs
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_gcn_baseline_reads_data_y_noisy():
    data = AddLabelNoise("uniform", 0.4, seed=3)(masked_graph())
    assert not torch.equal(data.y_noisy, data.y)
    default = GCNBaseline(epochs=20, patience=20, seed=0, verbose=False)
    history = default.fit(data)
    explicit = GCNBaseline(epochs=20, patience=20, seed=0, verbose=False)
    explicit.fit(data, y_noisy=data.y_noisy)
    assert torch.equal(default.predict(), explicit.predict())
    clean = GCNBaseline(epochs=20, patience=20, seed=0, verbose=False)
    clean.fit(data, y_noisy=data.y)
    assert not torch.equal(default.predict(), clean.predict())  # the noisy labels were read
    json.dumps(history.to_dict())
    json.dumps(default.result.to_dict())
    del data.y_noisy
    with pytest.raises(ValueError, match="y_noisy"):
        GCNBaseline(epochs=2, verbose=False).fit(data)


def test_locle_reads_text_and_classes_from_data():
    data = planted_graph()
    data.text = [f"node {i}" for i in range(data.num_nodes)]
    data.class_names = [c.name for c in CLASSES]
    data.class_descriptions = [c.description for c in CLASSES]
    table = noisy_table(data.y)
    method = Locle(budget=24, svd_dim=4, epochs=30, num_rounds=2, verbose=False)
    implicit = method.fit(data, annotator=TableAnnotator(*table))
    explicit = Locle(budget=24, svd_dim=4, epochs=30, num_rounds=2, verbose=False).fit(
        data, annotator=TableAnnotator(*table), texts=data.text, classes=CLASSES)
    assert torch.equal(implicit.predictions, explicit.predictions)
    assert torch.equal(method.predict(), implicit.predictions)
    json.dumps(implicit.to_dict())
    rand = random_gcn(data, annotator=TableAnnotator(*table), budget=24)
    assert rand.predict().shape == (data.num_nodes,)
    json.dumps(rand.to_dict())
    everyone = annotate_all(data, annotator=TableAnnotator(*table), verbose=False)
    assert torch.equal(everyone.predict(), table[0])
    del data.text
    with pytest.raises(ValueError, match="texts"):
        Locle(budget=24, verbose=False).fit(data, annotator=TableAnnotator(*table))
    assert isinstance(CLASSES[0], ClassInfo)


def test_every_method_reads_data_y_noisy_by_default():
    """The noisy-label rule (docs/architecture.md): AddLabelNoise writes data.y_noisy and
    every method reading noisy labels defaults to it."""
    from noisygraph.cluster import local_cluster
    from noisygraph.nn import ERASE

    data = AddLabelNoise("uniform", 0.4, seed=3)(masked_graph())

    def erase(**kwargs):
        torch.manual_seed(0)
        trainer = ERASETrainer(ERASE(data.num_features, hidden_channels=8, out_channels=8,
                                     heads=2), epochs=2, patience=2, verbose=False)
        trainer.fit(data, **kwargs)
        return trainer.pseudo_labels

    assert torch.equal(erase(), erase(y_noisy=data.y_noisy))
    assert not torch.equal(erase(), erase(y_noisy=data.y))

    gcn = GCNTrainer(epochs=10, seed=0).fit(data).probs
    torch.testing.assert_close(gcn, GCNTrainer(epochs=10, seed=0).fit(
        data, train_labels=data.y_noisy).probs)
    assert not torch.allclose(gcn, GCNTrainer(epochs=10, seed=0).fit(
        data, train_labels=data.y).probs)

    seed = int(data.edge_index[0, 0])
    by_default = local_cluster(data, seed_node=seed)
    assert by_default.weighted  # graph.y_noisy reweighted the graph
    explicit = local_cluster(data, seed_node=seed, labels=data.y_noisy)
    assert torch.equal(by_default.nodes, explicit.nodes)
    del data.y_noisy
    assert not local_cluster(data, seed_node=seed).weighted
    with pytest.raises(ValueError, match="y_noisy"):
        ERASETrainer(ERASE(data.num_features, hidden_channels=8, out_channels=8, heads=2),
                     epochs=1, verbose=False).fit(data)


def test_add_label_noise_takes_labels_and_sets_nothing():
    from noisygraph.noise import add_label_noise

    data = masked_graph()
    noise = add_label_noise(data.y, "uniform", 0.4, mask=data.train_mask, seed=3)
    assert not hasattr(data, "y_noisy") and noise.y_noisy.shape == data.y.shape
    with pytest.raises(TypeError, match="AddLabelNoise"):
        add_label_noise(data, "uniform", 0.4)
