"""ERASE: label propagation against dense references, the linear probe against scikit-learn,
the encoder, the trainers (full batch, mini-batch, robustness cases) and the command line."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

from noisygraph.datasets import csbm
from noisygraph.loader import UniformNeighborSampler, neighbor_loader
from noisygraph.noise import add_label_noise
from noisygraph.erase import ERASE, ERASETrainer, GCNBaseline, History
from noisygraph.nn import LogisticRegression
from noisygraph.erase.trainer import sparse_features
from noisygraph.nn.label_denoise import (class_prototypes, lazy_propagation_operator,
                                         precorrect_labels, semantic_labels)
from noisygraph.sparse import to_adjacency
from noisygraph.random import seed_everything
from torch_geometric.sampler import NodeSamplerInput


def tiny_graph(num_nodes=12, seed=0, isolated=(10, 11)):
    """A random undirected graph with some isolated nodes."""
    gen = torch.Generator().manual_seed(seed)
    edges = torch.randint(0, num_nodes - len(isolated), (2, 30), generator=gen)
    edges = edges[:, edges[0] != edges[1]]
    edge_index = torch.unique(torch.cat([edges, edges.flip(0)], 1), dim=1)
    return edge_index


def dense_col_normalised(edge_index, num_nodes, keep=None):
    a = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    a[edge_index[1], edge_index[0]] = 1.0
    if keep is not None:
        a = a * keep.double().unsqueeze(0) * keep.double().unsqueeze(1)
    deg = a.sum(0)
    return a / torch.where(deg > 0, deg, torch.ones_like(deg)).unsqueeze(0)


def small_model(in_channels):
    return ERASE(in_channels, hidden_channels=16, out_channels=16, heads=2)


# ---------------------------------------------------------------- label propagation
def test_lazy_operator_matches_dense():
    edge_index = tiny_graph()
    adj = to_adjacency(edge_index, num_nodes=12).normalize("col")
    op = lazy_propagation_operator(adj, 0.3).to_dense(torch.float64)
    expected = 0.7 * dense_col_normalised(edge_index, 12) + 0.3 * torch.eye(12, dtype=torch.float64)
    torch.testing.assert_close(op, expected, rtol=1e-6, atol=1e-6)


def test_precorrect_matches_dense_reference():
    edge_index = tiny_graph()
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    train = torch.zeros(12, dtype=torch.bool)
    train[[0, 1, 2, 3, 4, 5, 10]] = True  # node 10 is isolated
    alpha, steps = 0.6, 5
    out = precorrect_labels(y, edge_index, train, 3, alpha=alpha, num_steps=steps)
    a1 = dense_col_normalised(edge_index, 12, keep=train)
    ref = F.one_hot(y, 3).double() * train.double().unsqueeze(1)
    for _ in range(steps):  # restart to the current labels, as the official release
        ref = (1 - alpha) * a1 @ ref + alpha * ref
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)
    assert torch.all(out[~train] == 0)
    assert out[10].argmax() == y[10]  # an isolated training node keeps its label


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.8])
def test_label_propagation_precorrection_follows_the_release_alpha(alpha):
    # The release's ogbn-arxiv script calls PyG's LabelPropagation(num_layers=T, alpha=alpha)
    # with the training mask; PyG: out = clamp(alpha * A_sym @ out + (1 - alpha) * out0).
    # At alpha != 0.5 this fails on the old behaviour (PyG alpha = 1 - alpha).
    edge_index = tiny_graph()
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    train = torch.zeros(12, dtype=torch.bool)
    train[[0, 1, 2, 3, 4, 5, 10]] = True
    steps = 7
    out = precorrect_labels(y, edge_index, train, 3, alpha, steps, method="label-propagation")
    dense = torch.zeros(12, 12, dtype=torch.float64)
    dense[edge_index[1], edge_index[0]] = 1.0
    d = dense.sum(1).clamp(min=1).rsqrt()
    sym = d.unsqueeze(1) * dense * d.unsqueeze(0)
    y0 = F.one_hot(y, 3).double() * train.double().unsqueeze(1)
    ref = y0
    for _ in range(steps):  # restart to the initial labels; alpha weighs the propagated term
        ref = (alpha * sym @ ref + (1 - alpha) * y0).clamp(0, 1)
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)
    assert (out[~train].sum(1) > 0).any()  # non-training rows are filled
    pyg = pytest.importorskip("torch_geometric.nn")
    released = pyg.LabelPropagation(num_layers=steps, alpha=alpha)(y, edge_index, mask=train)
    torch.testing.assert_close(out, released, rtol=1e-5, atol=1e-6)
    if alpha != 0.5:  # the old mapping (PyG alpha = 1 - alpha) gives something else
        old = pyg.LabelPropagation(num_layers=steps, alpha=1 - alpha)(y, edge_index, mask=train)
        assert (out - old).abs().max() > 1e-2
    with pytest.raises(ValueError, match="method"):
        precorrect_labels(y, edge_index, train, 3, method="dense")


def test_semantic_labels_match_dense_reference():
    edge_index = tiny_graph(seed=3)
    gen = torch.Generator().manual_seed(1)
    z = torch.rand(12, 5, generator=gen)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    train = torch.zeros(12, dtype=torch.bool)
    train[:6] = True
    alpha, beta, steps = 0.6, 0.6, 5
    y_pre = precorrect_labels(y, edge_index, train, 3, alpha, steps)
    op = lazy_propagation_operator(to_adjacency(edge_index, num_nodes=12).normalize("col"), alpha)
    out = semantic_labels(z, y_pre, op, train, beta=beta, num_steps=steps)

    zd = z.double()
    denoised = y_pre[train].argmax(1)
    protos = torch.stack([zd[train][denoised == k].mean(0) for k in range(3)])
    cos = (zd @ protos.t()) / (zd.norm(dim=1, keepdim=True) * protos.norm(dim=1).unsqueeze(0))
    ref = torch.softmax(beta * y_pre.double() + (1 - beta) * cos.abs(), dim=1)
    a = dense_col_normalised(edge_index, 12)
    for _ in range(steps):
        ref = (1 - alpha) * a @ ref + alpha * ref
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)


def test_empty_class_gets_zero_prototype_and_finite_labels():
    z = torch.rand(6, 4)
    protos = class_prototypes(z, torch.tensor([0, 0, 2, 2, 2, 0]), 3)
    assert torch.all(protos[1] == 0)
    edge_index = tiny_graph(num_nodes=6, isolated=(5,))
    train = torch.tensor([True, True, True, False, False, False])
    y_pre = precorrect_labels(torch.tensor([0, 0, 2, 1, 1, 1]), edge_index, train, 3)
    op = lazy_propagation_operator(to_adjacency(edge_index, num_nodes=6).normalize("col"), 0.6)
    out = semantic_labels(z, y_pre, op, train)
    assert out.shape == (6, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("kwargs, error", [
    (dict(alpha=1.5), ValueError), (dict(num_steps=-1), ValueError),
    (dict(num_classes=2), ValueError), (dict(train_mask=torch.ones(6)), TypeError),
    (dict(train_mask=torch.zeros(6, dtype=torch.bool)), ValueError),
])
def test_precorrect_rejects_bad_input(kwargs, error):
    args = dict(y_noisy=torch.tensor([0, 1, 2, 0, 1, 2]), graph=tiny_graph(6, isolated=()),
                train_mask=torch.ones(6, dtype=torch.bool), num_classes=3)
    args.update(kwargs)
    with pytest.raises(error):
        precorrect_labels(**args)


# ---------------------------------------------------------------- logistic regression
def test_logistic_regression_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    gen = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(120, 10, generator=gen), dim=1)
    y = (x[:, 0] * 3 + x[:, 1]).gt(0).long() + (x[:, 2] > 0.3).long()
    ours = LogisticRegression(10, 3, max_iter=500).fit(x, y)
    ref = sklearn.LogisticRegression(max_iter=1000, tol=1e-8).fit(x.numpy(), y.numpy())
    np.testing.assert_allclose(ours.linear.weight.detach().numpy(), ref.coef_, atol=2e-3)
    assert (ours.predict(x).numpy() == ref.predict(x.numpy())).mean() == 1.0


def test_logistic_regression_warm_start_and_bad_input():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, 4, generator=gen), torch.randint(0, 3, (50,), generator=gen)
    model = LogisticRegression(4, 3).fit(x, y)
    before = model.objective(x, y).item()
    model.fit(x, y, max_iter=5)  # warm start from the optimum stays there
    assert model.objective(x, y).item() == pytest.approx(before, rel=1e-4)
    with pytest.raises(ValueError, match="labels outside"):
        model.fit(x, y + 3)
    with pytest.raises(ValueError, match="x must have shape"):
        model.fit(torch.randn(50, 5), y)
    with pytest.raises(ValueError, match="C must be"):
        LogisticRegression(4, 3, C=0)


# ---------------------------------------------------------------- encoder
def test_erase_encoder_shapes_sparse_input_and_chunked_inference():
    seed_everything(0)
    data = csbm(num_nodes=80, num_classes=3, num_features=12, seed=0, train_per_class=5,
                num_val=10, num_test=20)
    data.x = data.x.clamp_min(0.5) - 0.5  # make the features sparse-ish
    model = ERASE(12, hidden_channels=8, out_channels=6, heads=2)
    assert "ERASE(12, 6, hidden=8, heads=2" in repr(model)
    model.eval()
    z = model(data.x, data.edge_index)
    assert z.shape == (80, 6) and torch.all(z >= 0)
    torch.testing.assert_close(model(sparse_features(data.x, 1.0), data.edge_index), z)
    torch.testing.assert_close(model.inference(data.x, data.edge_index, chunk_size=7), z,
                               rtol=1e-5, atol=1e-6)
    before = model.conv2.lin.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, model.conv2.lin.weight)


def test_erase_encoder_rejects_bad_sizes_and_wraps_custom_encoder():
    with pytest.raises(ValueError, match="divisible"):
        ERASE(10, hidden_channels=10, heads=3)
    from torch_geometric.nn.models import GCN
    model = ERASE(0, encoder=GCN(5, 8, num_layers=2, out_channels=4))
    assert model(torch.randn(6, 5), tiny_graph(6, isolated=())).shape == (6, 4)
    assert "encoder=GCN" in repr(model)


# ---------------------------------------------------------------- sampler
def test_uniform_neighbor_sampler_respects_fanout_and_graph():
    edge_index = tiny_graph(num_nodes=40, isolated=(), seed=5)
    edge_index = torch.cat([edge_index, torch.randint(0, 40, (2, 200))], 1)
    sampler = UniformNeighborSampler(edge_index, 40, [3, 2], torch.Generator().manual_seed(0))
    seeds = torch.tensor([4, 9, 17])
    out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds))
    assert torch.equal(out.node[:3], seeds)
    assert out.node.unique().numel() == out.node.numel()
    edges = set(map(tuple, edge_index.t().tolist()))
    sampled = torch.stack([out.node[out.row], out.node[out.col]])
    assert all(tuple(e) in edges for e in sampled.t().tolist())
    assert torch.equal(edge_index[:, out.edge], sampled)
    first_hop = torch.bincount(out.col[:out.num_sampled_edges[0]], minlength=3)
    in_degree = torch.bincount(edge_index[1], minlength=40)[seeds]
    assert torch.equal(first_hop[:3], torch.minimum(in_degree, torch.tensor(3)))
    with pytest.raises(ValueError, match="num_neighbors"):
        UniformNeighborSampler(edge_index, 40, [0])


# ---------------------------------------------------------------- training
def noisy_csbm(seed=0, **kwargs):
    params = dict(num_nodes=600, num_classes=4, avg_degree=8, homophily=0.9, num_features=32,
                  feature_signal=2.0, seed=seed, train_per_class=20, num_val=100, num_test=300)
    params.update(kwargs)
    data = csbm(**params)
    noise = add_label_noise(data.y, "pair", 0.4, mask=data.train_mask, seed=seed,
                            sampler="exact")
    return data, noise.y_noisy


def test_erase_beats_gcn_on_noisy_csbm():
    data, y_noisy = noisy_csbm(seed=0)
    seed_everything(0)
    trainer = ERASETrainer(ERASE(32, hidden_channels=32, out_channels=32, heads=4), epochs=60,
                           patience=60, verbose=False)
    history = trainer.fit(data, y_noisy=y_noisy)
    seed_everything(0)
    gcn = GCNBaseline(epochs=60, patience=60, verbose=False).fit(data, y_noisy=y_noisy)
    assert history.test_acc > gcn.test_acc + 0.03, (history.test_acc, gcn.test_acc)
    assert history.test_acc > 0.9
    pred = trainer.predict(data)  # the selected epoch's encoder and probe
    assert float((pred[data.test_mask] == data.y[data.test_mask]).float().mean()) == \
        pytest.approx(history.test_acc)
    assert set(history.metrics) >= {"loss", "total", "compress", "val_acc", "test_acc"}


@pytest.mark.parametrize("name", ["cl-erase", "detect-erase"])
def test_erase_on_cleaned_labels_beats_gcn_on_noisy_csbm(name):
    """ERASE on the labels confident learning / the graph-aware detector keeps, on the graph
    above (measured: GCN 89.0 %, cl-erase 100.0 %, detect-erase 99.7 %)."""
    from noisygraph.bench import get_method
    data, y_noisy = noisy_csbm(seed=0)
    data.y_noisy = y_noisy
    seed_everything(0)
    gcn = GCNBaseline(epochs=60, patience=60, verbose=False).fit(data, y_noisy=y_noisy)
    seed_everything(0)
    method = get_method(name)(seed=0, epochs=60, patience=60, erase_epochs=60,
                              erase_patience=60, erase_hidden_channels=32,
                              erase_out_channels=32)
    assert method.fit(data).test_acc > gcn.test_acc + 0.03


def test_mini_batch_training_runs_and_learns():
    data, y_noisy = noisy_csbm(seed=1, num_nodes=400, num_val=50, num_test=150)
    seed_everything(1)
    trainer = ERASETrainer(small_model(32), epochs=3, patience=3, batch_size=64, lr=1e-2,
                           max_batches_per_epoch=4,
                           inference_chunk_size=100, seed=1, verbose=False)
    history = trainer.fit(data, y_noisy=y_noisy)
    assert len(history.metrics["epoch"]) == 3
    assert history.test_acc > 0.5  # 4 classes: chance is 0.25


def test_robust_to_empty_class_isolated_nodes_and_many_classes():
    data = csbm(num_nodes=700, num_classes=70, avg_degree=2, num_features=16, seed=2,
                train_per_class=2, num_val=70, num_test=140)
    data.num_classes = 70
    assert (torch.bincount(data.edge_index[0], minlength=700) == 0).any()  # isolated nodes
    y_noisy = data.y.clone()
    y_noisy[data.train_mask & (data.y == 5)] = 6  # class 5 has no training label left
    seed_everything(2)
    for precorrection in ("train-subgraph", "label-propagation"):
        history = ERASETrainer(small_model(16), epochs=2, patience=2, verbose=False,
                               precorrection=precorrection).fit(data, y_noisy=y_noisy)
        assert np.isfinite(history.metrics["loss"]).all()


@pytest.mark.parametrize("kwargs, error", [
    (dict(protocol="clean"), ValueError), (dict(alpha=2.0), ValueError),
    (dict(epochs=0), ValueError), (dict(batch_size=0), ValueError),
    (dict(precorrection="dense"), ValueError),
])
def test_trainer_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        ERASETrainer(small_model(4), **kwargs)


def test_trainer_rejects_bad_data():
    data, y_noisy = noisy_csbm(num_nodes=200, num_val=20, num_test=20)
    trainer = ERASETrainer(small_model(32), epochs=1, verbose=False)
    with pytest.raises(ValueError, match="y_noisy must have shape"):
        trainer.fit(data, y_noisy=y_noisy[:-1])
    bad = data.clone()
    bad.x[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        trainer.fit(bad, y_noisy=y_noisy)
    with pytest.raises(RuntimeError, match="fit"):
        ERASETrainer(small_model(32)).predict(data)


def test_history_plot(tmp_path):
    history = History()
    for epoch in range(1, 4):
        history.log(epoch=epoch, loss=-epoch, train_acc=0.5, val_acc=0.4 + epoch / 10,
                    test_acc=0.5)
        history.update_best(epoch, 0.4 + epoch / 10, 0.5)
    assert history.best_epoch == 3
    history.plot(str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000


# ---------------------------------------------------------------- OGB format and CLI
def test_mini_batch_on_tiny_ogb_graph(tmp_path):
    pytest.importorskip("ogb")
    from noisygraph.datasets import load_dataset
    from noisygraph.datasets.ogb import write_tiny_ogb_graph
    write_tiny_ogb_graph(tmp_path / "ogb", "ogbn-arxiv", num_nodes=60, num_edges=150,
                         num_features=8, seed=0)
    data = load_dataset("ogbn-arxiv", root=tmp_path)
    noise = add_label_noise(data.y, "uniform", 0.2, mask=data.train_mask, seed=0,
                            num_classes=data.num_classes, sampler="exact")
    seed_everything(0)
    history = ERASETrainer(small_model(8), epochs=2, patience=2, batch_size=16,
                           verbose=False).fit(data, y_noisy=noise.y_noisy)
    assert len(history.metrics["epoch"]) == 2


def test_cli_writes_json(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_DATA", str(data_root))
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    from noisygraph_cli import main
    out = tmp_path / "out.json"
    assert main(["erase", "--dataset", "Cora", "--noise", "pair", "--rate", "0.4",
                 "--sampler", "paper", "--runs", "2", "--epochs", "2", "--method", "gcn",
                 "--protocol", "noisy-val", "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    for key in ("accuracy_mean", "accuracy_std", "accuracies", "seconds_per_epoch", "protocol",
                "method", "dataset", "noise", "rate", "realised_rate"):
        assert key in result
    assert result["realised_rate"] == pytest.approx(0.4)  # the release's draw: 56 of 140
    assert 0.3 < result["realised_val_rate"] < 0.5  # the same model on the 500 val labels
    assert len(result["accuracies"]) == 2 and result["seeds"] == [123, 223]
    assert result["complete"] is True and result["runs_finished"] == 2


# ---------------------------------------------------------------- the noisy-val protocol
def _small_split(seed=0):
    data = csbm(num_nodes=300, num_classes=3, avg_degree=6, num_features=8, seed=seed,
                train_per_class=10, num_val=60, num_test=100)
    data.num_classes = 3
    return data


TRAINERS = [
    ("erase", lambda protocol: ERASETrainer(small_model(8), epochs=2, patience=2,
                                            protocol=protocol, verbose=False)),
    ("gcn", lambda protocol: GCNBaseline(epochs=2, patience=2, protocol=protocol,
                                         verbose=False)),
]


@pytest.mark.parametrize("name, make", TRAINERS, ids=[t[0] for t in TRAINERS])
def test_noisy_val_with_clean_validation_labels_is_an_error(name, make):
    # Fails on the old behaviour: noisy-val silently selected on the clean validation labels.
    data = _small_split()
    train_only = add_label_noise(data.y, "uniform", 0.4, mask=data.train_mask, seed=0,
                                 sampler="exact")
    with pytest.raises(ValueError, match=r"noisy-val.*y_noisy"):
        make("noisy-val").fit(data, y_noisy=train_only.y_noisy)
    with pytest.raises(ValueError, match="noise_mask"):  # a record that leaves val out
        make("noisy-val").fit(data, y_noisy=train_only.y_noisy, noise_mask=train_only.mask)
    make("paper").fit(data, y_noisy=train_only.y_noisy)  # the paper protocol is fine with it


@pytest.mark.parametrize("name, make", TRAINERS, ids=[t[0] for t in TRAINERS])
def test_noisy_val_accepts_recorded_noise_even_without_flips(name, make):
    from noisygraph.noise import AddLabelNoise
    data = AddLabelNoise("pair", 0.3, on="train+val", seed=1, sampler="exact")(_small_split())
    make("noisy-val").fit(data, y_noisy=data.y_noisy)  # data.noise_mask covers val
    # rate 0: no validation label flipped, but the record says they went through the model
    clean = AddLabelNoise("pair", 0.0, on="train+val", seed=1)(_small_split())
    assert torch.equal(clean.y_noisy, clean.y)
    make("noisy-val").fit(clean, y_noisy=clean.y_noisy)
    # without any record the same labels are refused
    del clean.noise_mask
    with pytest.raises(ValueError, match="noisy-val"):
        make("noisy-val").fit(clean, y_noisy=clean.y_noisy)


def test_noisy_val_rejects_a_record_that_does_not_describe_y_noisy():
    from noisygraph.noise import AddLabelNoise
    data = AddLabelNoise("uniform", 0.3, on="train+val", seed=1, sampler="exact")(_small_split())
    y_noisy = data.y_noisy.clone()
    y_noisy[data.test_mask] = (data.y[data.test_mask] + 1) % 3
    with pytest.raises(ValueError, match="outside data.noise_mask"):
        GCNBaseline(epochs=1, protocol="noisy-val", verbose=False).fit(data, y_noisy=y_noisy)


def _erase_args(*extra):
    import argparse

    from noisygraph_cli import erase as command
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return parser.parse_args(["--quiet", *extra])


def test_cli_noisy_val_draws_val_from_the_training_noise_model():
    from noisygraph_cli import erase as command
    data = csbm(num_nodes=3000, num_classes=6, num_features=4, seed=0, train_per_class=60,
                num_val=1200, num_test=300)
    data.num_classes = 6
    for sampler in ("paper", "exact", "independent"):
        args = _erase_args("--noise", "pair", "--rate", "0.4", "--sampler", sampler,
                           "--protocol", "noisy-val")
        noisy = command.corrupt(data, args, 123)
        paper = command.corrupt(data, _erase_args("--noise", "pair", "--rate", "0.4",
                                                  "--sampler", sampler), 123)
        # training labels identical to the paper protocol's
        assert torch.equal(noisy.y_noisy[data.train_mask], paper.y_noisy[data.train_mask])
        assert torch.equal(noisy.noise_mask, data.train_mask | data.val_mask)
        flipped = noisy.y_noisy != data.y
        pairs = {}
        for mask in (data.train_mask, data.val_mask):
            where = flipped & mask
            pairs[len(pairs)] = {(int(a), int(b)) for a, b in zip(data.y[where], noisy.y_noisy[where])}
        assert len(pairs[0]) == 6 and pairs[0] == pairs[1], sampler  # one partner per class
        assert 0.3 < noisy.val_rate < 0.5 and noisy.train_rate == paper.train_rate


def test_cli_interrupt_keeps_finished_runs(tmp_path, monkeypatch, capsys):
    from noisygraph_cli import main
    from noisygraph_cli import erase as command
    data = _small_split()
    monkeypatch.setattr(command, "load", lambda args: data)
    calls = {"fit": 0}
    original = GCNBaseline.fit

    def fit(self, *args, **kwargs):
        calls["fit"] += 1
        if calls["fit"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GCNBaseline, "fit", fit)
    out = tmp_path / "runs.json"
    assert main(["erase", "--method", "gcn", "--runs", "5", "--epochs", "2", "--quiet",
                 "--json", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["noisygraph erase: interrupted"]
    result = json.loads(out.read_text())
    assert result["complete"] is False and result["runs_finished"] == 2 and result["runs"] == 5
    assert len(result["accuracies"]) == 2 and result["seeds"] == [123, 223]
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]  # no temporary file left
    calls["fit"] = -10
    assert main(["erase", "--method", "gcn", "--runs", "2", "--epochs", "2", "--quiet",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["complete"] is True and result["runs_finished"] == 2


# ---------------------------------------------------------------- the release's ogbn-arxiv path
def test_label_propagation_semantic_labels_follow_the_release():
    # The release's ogbn-arxiv script: Y_all[train] = Y_pre[train], 0 elsewhere;
    # Y_all = beta * Y_all + (1 - beta) * |cos(z, prototypes)|; then PyG's
    # LabelPropagation(num_layers=T, alpha=alpha)(Y_all, edge_index, mask=train).
    from noisygraph.nn import label_propagation_semantic_labels
    pyg = pytest.importorskip("torch_geometric.nn")
    edge_index = tiny_graph(seed=3)
    z = torch.rand(12, 5, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    train = torch.zeros(12, dtype=torch.bool)
    train[:6] = True
    alpha, beta, steps = 0.6, 0.5, 50
    y_pre = precorrect_labels(y, edge_index, train, 3, alpha, steps, method="label-propagation")
    out = label_propagation_semantic_labels(z, y_pre, edge_index, train, alpha, beta, steps)
    denoised = y_pre[train].argmax(1)
    protos = torch.stack([z[train][denoised == k].mean(0) for k in range(3)])
    cos = (F.normalize(z, dim=1) @ F.normalize(protos, dim=1).t()).abs()
    y_all = torch.zeros(12, 3)
    y_all[train] = y_pre[train]
    y_all = beta * y_all + (1 - beta) * cos
    ref = pyg.LabelPropagation(num_layers=steps, alpha=alpha)(y_all, edge_index, mask=train)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    # the lazy semantic labels are something else (softmax, no restart)
    op = lazy_propagation_operator(to_adjacency(edge_index, num_nodes=12).normalize("col"), alpha)
    assert (semantic_labels(z, y_pre, op, train, beta, steps) - out).abs().max() > 1e-2
    with pytest.raises(ValueError, match="beta"):
        label_propagation_semantic_labels(z, y_pre, edge_index, train, beta=1.5)


class _RowCountingLoss(torch.nn.Module):
    """The trainer's MCR² loss, recording the number of rows of every call."""

    def __init__(self):
        super().__init__()
        from noisygraph.nn import CodingRateReductionLoss
        self.inner, self.rows = CodingRateReductionLoss(), []

    def parts(self, z, labels, num_classes):
        self.rows.append(z.size(0))
        return self.inner.parts(z, labels, num_classes)


def test_release_arxiv_path_samples_training_seeds_and_keeps_its_labels():
    data, y_noisy = noisy_csbm(seed=1, num_nodes=400, num_val=50, num_test=150)
    num_train = int(data.train_mask.sum())  # 80
    loss = _RowCountingLoss()
    seed_everything(1)
    trainer = ERASETrainer(small_model(32), epochs=2, patience=2, batch_size=32, lr=1e-2,
                           alpha=0.6, beta=0.5, num_steps=50, precorrection="label-propagation",
                           semantic_propagation="label-propagation", seed_nodes="train",
                           loss=loss, inference_chunk_size=100, seed=1, verbose=False)
    history = trainer.fit(data, y_noisy=y_noisy)
    assert loss.rows == [32, 32, 16] * 2  # one pass over the 80 training nodes per epoch
    assert sum(loss.rows) == 2 * num_train
    # 50 steps of label propagation with restart keep the classes (4 classes, 40 % pair
    # noise); the lazy propagation washes them out (here: 45 % agreement, 52 % test)
    agreement = (trainer.pseudo_labels[data.train_mask] == data.y[data.train_mask]).float()
    assert agreement.mean() > 0.55
    assert history.test_acc > 0.8
