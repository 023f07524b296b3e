"""local_cluster API, label weights, few-sample labels, bad input, CLI."""
import json

import numpy as np
import pytest
import torch

from noisygraph.cluster import (LocalGraph, estimate_flip_rate, estimate_target_volume, few_sample_labels,
                                label_edge_weights, local_cluster, local_cluster_batch,
                                target_labels, vote_labels)
from noisygraph.ops.local_push import flow_diffusion, ppr_push


def planted_graph(n_blocks=4, block=25, p_in=0.4, p_out=0.01, seed=0):
    """A small stochastic block model: dense blocks, sparse links between them."""
    rng = np.random.default_rng(seed)
    n = n_blocks * block
    y = np.repeat(np.arange(n_blocks), block)
    prob = np.where(y[:, None] == y[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    row, col = np.nonzero(upper)
    edge_index = torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]]))
    return edge_index, torch.tensor(y), n


@pytest.fixture(scope="module")
def planted():
    edge_index, y, n = planted_graph()
    return LocalGraph.from_graph(edge_index, num_nodes=n), y


def test_local_cluster_recovers_a_planted_block(planted):
    g, y = planted
    true = y == 0
    for method in ("flow", "ppr"):
        res = local_cluster(g, seed_node=3, method=method, target_volume=true)
        assert res.f1(true) > 0.9, method
        assert res.conductance < 0.2
        assert res.work["pushes"] > 0 and res.work["edges"] > 0
        assert res.score_nodes.numel() == res.scores.numel() > 0
        assert (res.scores > 0).all()


def test_label_weighting_helps_on_a_weak_block():
    """Blocks barely denser inside than across: the unweighted diffusion cannot see the block,
    the (mostly correct) labels make it visible."""
    edge_index, y, n = planted_graph(n_blocks=3, block=40, p_in=0.25, p_out=0.08, seed=1)
    g = LocalGraph.from_graph(edge_index, num_nodes=n)
    true = y == 0
    generator = torch.Generator().manual_seed(0)
    flip = torch.rand(n, generator=generator) < 0.1
    noisy = true ^ flip
    seeds = [0, 5, 10, 15]
    plain = local_cluster_batch(g, seed_nodes=seeds, target_volume=true)
    weighted = local_cluster_batch(g, seed_nodes=seeds, labels=noisy, target_volume=true)
    f1_plain = np.mean([r.f1(true) for r in plain])
    f1_weighted = np.mean([r.f1(true) for r in weighted])
    assert f1_weighted > f1_plain + 0.1
    assert all(r.weighted for r in weighted) and not any(r.weighted for r in plain)


def test_a_target_above_a_third_of_the_volume_runs_one_feasible_level(planted):
    """Three of four blocks as the target: every default multiple's mass (1.5 x 75 % of the
    volume and up) exceeds the sink capacity, which no flow can settle (the pushes used to run
    to max_pushes and return nearly the whole graph). One level of three quarters of the
    capacity runs instead, converges, and is reported as the selected multiple."""
    graph, y = planted
    target = y < 3
    volume = float(graph.edge_count[target].sum())
    assert 1.5 * volume > graph.total_edges
    res = local_cluster(graph, seed_node=0, target_volume=target, max_pushes=100_000)
    assert not res.hit_push_limit
    assert res.level == pytest.approx(0.75 * graph.total_edges / volume)
    assert res.work["pushes"] < 100_000
    assert 0 < res.nodes.numel() < y.numel()


def test_multiclass_labels_target_each_seeds_class(planted):
    g, y = planted
    results = local_cluster_batch(g, seed_nodes=[0, 30, 60], labels=y)
    for res, seed in zip(results, [0, 30, 60]):
        assert res.f1(y == y[seed]) > 0.9


def test_batch_equals_single_queries(planted):
    g, y = planted
    batch = local_cluster_batch(g, seed_nodes=[1, 40], labels=y == 0, target_volume=100.0)
    single = [local_cluster(g, seed_node=s, labels=y == 0, target_volume=100.0) for s in (1, 40)]
    for a, b in zip(batch, single):
        assert torch.equal(a.nodes, b.nodes)
        assert a.conductance == pytest.approx(b.conductance)
        assert a.work == b.work


def test_seed_set_query(planted):
    g, y = planted
    res = local_cluster(g, seed_node=[0, 1, 2], target_volume=y == 0)
    assert res.seed == [0, 1, 2]
    assert res.f1(y == 0) > 0.9


def test_graph_inputs_are_equivalent(planted):
    edge_index, y, n = planted_graph()
    from torch_geometric.data import Data
    from noisygraph.sparse import Adjacency
    a = local_cluster(Data(edge_index=edge_index, num_nodes=n), seed_node=3, target_volume=200.0)
    b = local_cluster(Adjacency.from_edge_index(edge_index, num_nodes=n), seed_node=3, target_volume=200.0)
    c = local_cluster(edge_index, seed_node=3, target_volume=200.0)
    assert torch.equal(a.nodes, b.nodes) and torch.equal(b.nodes, c.nodes)


def test_label_edge_weights_schemes():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    g = LocalGraph.from_graph(edge_index, num_nodes=4)
    labels = torch.tensor([True, True, False, False])
    row, col = g.edges()
    target = label_edge_weights(g, labels, weighting="target", cross_weight=0.1)
    agree = label_edge_weights(g, labels, weighting="agree", cross_weight=0.1)
    for r, c, wt, wa in zip(row.tolist(), col.tolist(), target.tolist(), agree.tolist()):
        both_in = labels[r] and labels[c]
        assert wt == pytest.approx(1.0 if both_in else 0.1)
        assert wa == pytest.approx(1.0 if labels[r] == labels[c] else 0.1)
    classes = torch.tensor([2, 2, 0, 1])
    assert torch.equal(target_labels(classes, 4, seed=0), labels)
    assert torch.equal(target_labels(classes, 4, target=0), torch.tensor([False, False, True, False]))


def test_vote_labels_outvotes_isolated_errors_and_keeps_ties():
    clique = [(i, j) for i in range(5) for j in range(5) if i != j]
    pairs = clique + [(5, 6), (6, 5)]  # a 5-clique, an edge, an isolated node 7
    edge_index = torch.tensor(pairs).t()
    g = LocalGraph.from_graph(edge_index, num_nodes=8)
    labels = torch.tensor([True, True, True, True, False, True, False, True])
    voted = vote_labels(g, labels)
    assert voted[:5].all()  # the clique outvotes node 4
    assert voted[5] and not voted[6]  # a 1-1 tie keeps each node's own label
    assert voted[7]  # isolated: unchanged
    assert torch.equal(vote_labels(g, labels, rounds=0), labels)
    with pytest.raises(ValueError, match="vote_rounds"):
        vote_labels(g, labels, rounds=-1)
    with pytest.raises(TypeError, match="vote_rounds"):
        local_cluster(g, seed_node=0, labels=labels, vote_rounds=1.5)


def test_vote_labels_weighs_votes_by_edge_weight():
    edge_index = torch.tensor([[0, 1, 0, 2], [1, 0, 2, 0]])
    g = LocalGraph.from_graph(edge_index, num_nodes=3, edge_weight=torch.tensor(
        [10.0, 10.0, 1.0, 1.0]))
    # node 0 (label 0, self weight 5.5) hears 1 with weight 10 and 0 with weight 1: 10/16.5
    assert vote_labels(g, torch.tensor([False, True, False]))[0]
    assert not vote_labels(g.with_weights(None), torch.tensor([False, True, False]))[0]


def test_vote_labels_halves_the_errors_of_noisy_labels_on_a_homophilous_graph():
    edge_index, y, n = planted_graph(n_blocks=4, block=50, p_in=0.3, p_out=0.005, seed=3)
    g = LocalGraph.from_graph(edge_index, num_nodes=n)
    true = y == 0
    flip = torch.rand(n, generator=torch.Generator().manual_seed(0)) < 0.2
    noisy = true ^ flip
    errors = int((noisy != true).sum())
    assert errors > 20
    assert int((vote_labels(g, noisy) != true).sum()) < errors / 2
    # the default weighting votes first; vote_rounds=0 weights the raw labels
    row, col = g.edges()
    voted = vote_labels(g, noisy)
    assert torch.equal(label_edge_weights(g, noisy) == 1, voted[row] & voted[col])
    assert torch.equal(label_edge_weights(g, noisy, vote_rounds=0) == 1, noisy[row] & noisy[col])


def test_target_volume_estimate_inverts_symmetric_noise():
    edge_index, y, n = planted_graph(n_blocks=4, block=200, p_in=0.05, p_out=0.005, seed=2)
    g = LocalGraph.from_graph(edge_index, num_nodes=n)
    true = y == 0
    generator = torch.Generator().manual_seed(1)
    noisy = true ^ (torch.rand(n, generator=generator) < 0.2)
    estimate = estimate_target_volume(g, [0], noisy, noise_rate=0.2)
    true_volume = float(g.edge_count[true].sum())
    assert abs(estimate - true_volume) < 0.2 * true_volume
    naive = estimate_target_volume(g, [0], noisy, noise_rate=0.0)
    assert abs(naive - true_volume) > abs(estimate - true_volume)
    # without the rate: estimated from the share of edges whose endpoints' labels differ,
    # biased upwards by the edges across the true boundary (11 % of the edges here)
    row, col = g.edges()
    boundary = float((true[row] != true[col]).double().mean())
    assert estimate_flip_rate(g, true) == pytest.approx(0.5 * (1 - (1 - 2 * boundary) ** 0.5))
    assert 0.2 <= estimate_flip_rate(g, noisy) <= 0.26
    blind = estimate_target_volume(g, [0], noisy)
    assert abs(blind - true_volume) < 0.2 * true_volume
    for bad, error in ((0.5, ValueError), (-0.1, ValueError), (True, TypeError)):
        with pytest.raises(error, match="noise_rate"):
            estimate_target_volume(g, [0], noisy, noise_rate=bad)
        with pytest.raises(error, match="noise_rate"):
            local_cluster(g, seed_node=0, labels=noisy, noise_rate=bad)


def test_few_sample_labels_learn_separable_classes():
    generator = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(50)
    x = torch.nn.functional.one_hot(y, 3).float() * 3 + torch.randn(150, 3, generator=generator)
    predicted, train = few_sample_labels(x, y, per_class=3, seed=0, return_train=True)
    assert train.numel() == 9
    assert torch.equal(predicted[train], y[train])
    assert (predicted == y).float().mean() > 0.9
    with pytest.raises(ValueError, match="per_class"):
        few_sample_labels(x, y, per_class=0)


# ---------------------------------------------------------------------------- bad input
def test_bad_seeds(planted):
    g, y = planted
    with pytest.raises(ValueError, match="seed"):
        local_cluster(g, seed_node=10_000)
    with pytest.raises(ValueError, match="seed"):
        local_cluster(g, seed_node=-1)
    with pytest.raises(TypeError, match="seed"):
        local_cluster(g, seed_node=1.5)
    edge_index = torch.tensor([[0, 1], [1, 0]])
    isolated = LocalGraph.from_graph(edge_index, num_nodes=3)
    with pytest.raises(ValueError, match="isolated"):
        local_cluster(isolated, seed_node=2)
    with pytest.raises(ValueError, match="isolated"):
        flow_diffusion(isolated, 2, 1.0)


def test_bad_weights_and_graphs():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    with pytest.raises(ValueError, match="edge_weight"):
        LocalGraph.from_graph(edge_index, torch.tensor([1.0, 1.0, -1.0, -1.0]))
    with pytest.raises(ValueError, match="symmetric"):
        LocalGraph.from_graph(edge_index, torch.tensor([1.0, 2.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="undirected"):
        LocalGraph.from_graph(torch.tensor([[0, 1], [1, 2]]))
    g = LocalGraph.from_graph(edge_index)
    with pytest.raises(ValueError, match="edge_weight"):
        g.with_weights(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="edge_weight"):
        g.with_weights(torch.tensor([1.0, -2.0, 1.0, 1.0]))


def test_bad_labels_and_options(planted):
    g, y = planted
    with pytest.raises(ValueError, match="labels"):
        local_cluster(g, seed_node=0, labels=y[:-1])
    with pytest.raises(TypeError, match="labels"):
        local_cluster(g, seed_node=0, labels=y.float())
    with pytest.raises(ValueError, match="method"):
        local_cluster(g, seed_node=0, method="spectral")
    with pytest.raises(ValueError, match="weighting"):
        local_cluster(g, seed_node=0, labels=y, weighting="all")
    with pytest.raises(ValueError, match="cross_weight"):
        local_cluster(g, seed_node=0, labels=y, cross_weight=2.0)
    with pytest.raises(ValueError, match="target_volume"):
        local_cluster(g, seed_node=0, target_volume=-3.0)
    with pytest.raises(ValueError, match="omega"):
        local_cluster(g, seed_node=0, omega=2.5)
    with pytest.raises(ValueError, match="eps"):
        flow_diffusion(g, 0, 10.0, eps=0.0)
    with pytest.raises(ValueError, match="source_mass"):
        flow_diffusion(g, 0, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        ppr_push(g, 0, alpha=0.0)
    with pytest.raises(ValueError, match="max_pushes"):
        flow_diffusion(g, 0, 10.0, max_pushes=-1)
    with pytest.raises(ValueError, match="sink"):
        flow_diffusion(g, 0, 10.0, sink=torch.ones(3))


# ---------------------------------------------------------------------------- CLI
def test_cli_on_coauthor_cs(data_root, tmp_path, monkeypatch, capsys):
    from noisygraph_cli import main
    if not (data_root / "wfd" / "coauthor_cs").exists():
        pytest.skip("coauthor_cs not present")
    monkeypatch.setenv("NOISYGRAPH_DATA", str(data_root))
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "one.json"
    assert main(["cluster", "--dataset", "coauthor_cs", "--node", "0", "--rate", "0.2",
                 "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    for key in ("size", "conductance", "f1", "ms", "work"):
        assert key in record
    assert record["f1"] > 0.5
    many = tmp_path / "many.json"
    assert main(["cluster", "--dataset", "coauthor_cs", "--node", "random:2", "--node", "5",
                 "--method", "ppr", "--weighting", "none", "--json", str(many)]) == 0
    payload = json.loads(many.read_text())
    assert len(payload["results"]) == 3 and "f1_mean" in payload and "ms_median" in payload
    assert "conductance" in capsys.readouterr().out
    assert all(r["hit_push_limit"] is False for r in payload["results"])
    assert main(["cluster", "--dataset", "coauthor_cs", "--node", "99999999"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--node" in err and "[0, 18333)" in err
