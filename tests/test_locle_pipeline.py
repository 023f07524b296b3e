"""The Locle pipeline and its baselines on a small synthetic text graph (no sentence model)."""
import json

import pytest
import torch
from torch_geometric.data import Data

from noisygraph.locle import (Annotation, Annotator, ClassInfo, Locle, RecordedAnnotator,
                              SimulatedAnnotator, annotate_all, llm_gnn, random_gcn,
                              save_annotations)

pytestmark = pytest.mark.usefixtures("one_thread")


CLASSES = [ClassInfo("Red", "red things"), ClassInfo("Green", "green things"),
           ClassInfo("Blue", "blue things")]


def planted_graph(n=180, k=3, p_in=0.08, p_out=0.005, seed=0):
    """A stochastic block model with noisy class-mean features."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    same = y.unsqueeze(0) == y.unsqueeze(1)
    prob = torch.where(same, torch.tensor(p_in), torch.tensor(p_out))
    upper = torch.triu(torch.rand(n, n, generator=generator) < prob, diagonal=1)
    adj = upper | upper.T
    edge_index = adj.nonzero().T.contiguous()
    x = torch.eye(k)[y] + 0.9 * torch.randn(n, k, generator=generator)
    x = torch.cat([x, 0.1 * torch.randn(n, 5, generator=generator)], dim=1)
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=n)


class TableAnnotator(Annotator):
    """Answers from a fixed table given at construction (never looks at data.y)."""

    def __init__(self, answers: torch.Tensor, confidence: torch.Tensor):
        super().__init__()
        self.answers, self.confidence = answers.clone(), confidence.clone()
        self.asked: list[int] = []

    def _annotate(self, texts, node_ids, classes, verbose):
        self.asked.extend(node_ids)
        self._account(queries=len(node_ids))
        return [Annotation(i, int(self.answers[i]), float(self.confidence[i]),
                           top_k=[(int(self.answers[i]), float(self.confidence[i]))], tokens=10)
                for i in node_ids]


def noisy_table(y, accuracy=0.8, seed=1):
    generator = torch.Generator().manual_seed(seed)
    wrong = torch.rand(y.numel(), generator=generator) > accuracy
    shift = torch.randint(1, 3, (y.numel(),), generator=generator)
    answers = torch.where(wrong, (y + shift) % 3, y)
    confidence = torch.where(wrong, 0.4, 0.8) + 0.2 * torch.rand(y.numel(), generator=generator)
    return answers, confidence


def texts_of(data):
    return [f"node {i}" for i in range(data.num_nodes)]


def small_locle(budget=30, **kw):
    kw.setdefault("epochs", 40)
    return Locle(budget=budget, svd_dim=4, verbose=False, **kw)


def test_locle_respects_budget_and_reports_rounds():
    data = planted_graph()
    annotator = TableAnnotator(*noisy_table(data.y))
    # the pre-search ensemble and pseudo-labels: the DBLP-chosen defaults (ensemble_decay
    # 0.01 = the refinement round alone) score 58 % on this toy graph, whose 8-d noisy
    # features make the rewired graph's similarity links mostly wrong
    locle = small_locle(30, pseudo_ratio=3.0, ensemble_decay=0.5)
    result = locle.fit(data, annotator=annotator, texts=texts_of(data), classes=CLASSES)
    assert torch.equal(locle.predict(), result.predictions)
    assert torch.equal(locle.predict(data), result.predictions)
    with pytest.raises(ValueError, match="data must be None or the graph fit"):
        locle.predict(planted_graph(n=90))  # another graph: refused, not these predictions
    assert result.queries == 30 == len(annotator.asked) == len(set(annotator.asked))
    assert result.tokens == 300 and result.cost_usd == 0.0
    assert result.predictions.shape == (180,)
    assert [row["round"] for row in result.rounds] == [0, 1, 2, 3, 4, "refine"]
    assert result.rounds[-2]["queries"] == 30
    assert result.pseudo_nodes.numel() == 3 * 3 * 4  # round(3.0 * 3 questions) x 4 rounds
    assert not set(result.pseudo_nodes.tolist()) & set(annotator.asked)
    score = result.score(data.y)
    assert 0.0 <= score["accuracy"] <= 1.0
    assert all("accuracy" in row for row in score["rounds"])
    # planted structure + 80 %-correct annotations: far above chance (1/3)
    assert score["accuracy"] > 0.6


def test_predictions_do_not_depend_on_ground_truth():
    data = planted_graph()
    table = noisy_table(data.y)
    first = small_locle(30, seed=3, num_rounds=3).fit(data, annotator=TableAnnotator(*table), texts=texts_of(data), classes=CLASSES)
    permuted = data.clone()
    permuted.y = data.y[torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(9))]
    second = small_locle(30, seed=3, num_rounds=3).fit(permuted, annotator=TableAnnotator(*table), texts=texts_of(data), classes=CLASSES)
    assert torch.equal(first.predictions, second.predictions)
    assert torch.equal(first.probs, second.probs)
    assert [r for r in first.rounds] == [r for r in second.rounds]
    # ...while the score does change
    assert first.score(data.y)["accuracy"] != second.score(permuted.y)["accuracy"]
    # and a graph without any y works the same
    del permuted.y
    third = small_locle(30, seed=3, num_rounds=3).fit(permuted, annotator=TableAnnotator(*table), texts=texts_of(data), classes=CLASSES)
    assert torch.equal(first.predictions, third.predictions)


def test_bad_input_is_rejected_clearly():
    data = planted_graph(n=60)
    annotator = TableAnnotator(*noisy_table(data.y))
    with pytest.raises(ValueError, match="budget .* at least the number of classes"):
        small_locle(2).fit(data, annotator=annotator, texts=texts_of(data), classes=CLASSES)
    with pytest.raises(ValueError, match="texts has 59 entries for 60 nodes"):
        small_locle(10).fit(data, annotator=annotator, texts=texts_of(data)[:-1], classes=CLASSES)
    with pytest.raises(ValueError, match="at least two classes"):
        small_locle(10).fit(data, annotator=annotator, texts=texts_of(data), classes=[])
    with pytest.raises(ValueError, match="budget"):
        Locle(budget=0)
    with pytest.raises(TypeError, match="budget"):
        Locle(budget=3.5)
    with pytest.raises(TypeError, match="annotator"):
        small_locle(10).fit(data, annotator="gpt", texts=texts_of(data), classes=CLASSES)
    with pytest.raises(ValueError, match="texts .* and node_ids .* same length"):
        annotator.annotate(["a", "b"], [0], CLASSES)
    with pytest.raises(ValueError, match="distinct"):
        annotator.annotate(["a"], [0], ["x", "X"])


def test_baselines_spend_their_budget():
    data = planted_graph()
    texts = texts_of(data)
    table = noisy_table(data.y)
    everyone = annotate_all(None, annotator=TableAnnotator(*table), texts=texts, classes=CLASSES, verbose=False)
    assert everyone.queries == 180 and torch.equal(everyone.predictions, table[0])
    rand = random_gcn(data, annotator=TableAnnotator(*table), budget=30, x=data.x, texts=texts, classes=CLASSES, verbose=False)
    dens = llm_gnn(data, annotator=TableAnnotator(*table), budget=30, x=data.x, texts=texts, classes=CLASSES, svd_dim=4,
                   verbose=False)
    assert rand.queries == 30 and dens.queries == 30
    assert rand.predictions.shape == dens.predictions.shape == (180,)
    with pytest.raises(ValueError, match="budget"):
        random_gcn(data, annotator=TableAnnotator(*table), budget=2, x=data.x, texts=texts, classes=CLASSES)


def test_simulated_annotator_accuracy_and_determinism():
    y = torch.arange(3000) % 3
    sim = SimulatedAnnotator(y, accuracy=0.7, seed=5)
    nodes = list(range(3000))
    answers = sim.annotate(["t"] * 3000, nodes, CLASSES, verbose=False)
    accuracy = sum(a.label == int(y[a.node]) for a in answers) / 3000
    assert abs(accuracy - 0.7) < 0.03
    # the answer for a node does not depend on the batch it is asked in
    again = sim.annotate(["t"] * 3, [2999, 7, 11], CLASSES, verbose=False)
    assert [a.label for a in again] == [answers[2999].label, answers[7].label, answers[11].label]
    correct_conf = [a.confidence for a in answers if a.label == int(y[a.node])]
    wrong_conf = [a.confidence for a in answers if a.label != int(y[a.node])]
    assert sum(correct_conf) / len(correct_conf) > sum(wrong_conf) / len(wrong_conf)
    with pytest.raises(ValueError, match="accuracy"):
        SimulatedAnnotator(y, 1.5)


def test_recorded_annotator_round_trip(tmp_path):
    answers = [Annotation(0, 2, 0.75, top_k=[(2, 0.75), (0, 0.2)], tokens=12),
               Annotation(3, 0, 0.5, top_k=[(0, 0.5)]), Annotation(4, -1, 0.0, error="x")]
    path = tmp_path / "answers.jsonl"
    save_annotations(path, answers, CLASSES)
    recorded = RecordedAnnotator(path)
    again = recorded.annotate(["a", "b", "c"], [0, 3, 4], CLASSES, verbose=False)
    assert [a.label for a in again] == [2, 0, -1]
    assert again[0].confidence == pytest.approx(0.75) and again[0].tokens == 12
    assert again[0].top_k == [(2, pytest.approx(0.75)), (0, pytest.approx(0.2))]
    assert again[2].error == "no recorded answer"
    # JSON list form, label by index, unknown label
    path.write_text(json.dumps([{"node": 1, "label": 1, "confidence": 60},
                                {"node": 2, "label": "Purple", "confidence": 99}]))
    answers = RecordedAnnotator(path).annotate(["a", "b"], [1, 2], CLASSES, verbose=False)
    assert answers[0].label == 1 and answers[1].label == -1 and "Purple" in answers[1].error
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        RecordedAnnotator(path)


def test_default_search_never_reads_ground_truth():
    """The label-free default search (noisygraph.locle.tuning) chooses the same options and
    scores every trial the same when data.y is permuted or absent (Locle and the baselines)."""
    from noisygraph.locle import tuning

    data = planted_graph()
    table = noisy_table(data.y)
    grid = {"filter_fraction": [0.0, 0.3], "pseudo_ratio": [0.0, 3.0]}
    start = {"filter_fraction": 0.3, "pseudo_ratio": 3.0, "num_rounds": 2, "epochs": 30,
             "svd_dim": 4}

    def search(graph):
        return tuning.label_free_search("locle", graph, texts_of(data), CLASSES,
                                        TableAnnotator(*table), data.x, start=start, grid=grid,
                                        budgets=[24], seeds=[5], heldout_size=40, heldout_seed=1)

    first, answers = search(data)
    for method, options in [("llm-gnn", {"filter_fraction": [0.0, 0.3]}),
                            ("random", {"val_fraction": [0.1, 0.3]})]:
        results = []
        for graph in (data, Data(edge_index=data.edge_index, num_nodes=data.num_nodes,
                                 y=data.y.flip(0))):
            start_options = {name: values[-1] for name, values in options.items()}
            if method == "llm-gnn":
                start_options["svd_dim"] = 4
            results.append(tuning.label_free_search(
                method, graph, texts_of(data), CLASSES, TableAnnotator(*table), data.x,
                start=start_options, grid=options, budgets=[24], seeds=[5], heldout_size=40,
                heldout_seed=1)[0].to_dict())
        assert results[0] == results[1]
    permuted = data.clone()
    permuted.y = data.y[torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(9))]
    second, _ = search(permuted)
    del permuted.y
    third, _ = search(permuted)
    assert first.to_dict() == second.to_dict() == third.to_dict()
    assert len(first.trials) == 3  # start, filter 0.0, one pseudo value (the start is cached)
    assert len(answers) == 40
    # the held-out nodes were never asked about by the method: excluded from selection
    run = tuning.method_runner("locle", data, texts_of(data), CLASSES, TableAnnotator(*table),
                               data.x)
    heldout = tuning.draw_heldout(data.num_nodes, 40, 1)
    annotator = TableAnnotator(*table)
    Locle(budget=24, svd_dim=4, epochs=30, num_rounds=2, verbose=False).fit(data, annotator=annotator, texts=texts_of(data), classes=CLASSES, exclude=heldout)
    assert not set(annotator.asked) & set(heldout.tolist())
    assert run({"num_rounds": 2, "epochs": 30, "svd_dim": 4}, 24, 5, heldout).shape == (180,)


def test_coordinate_search_keeps_a_value_only_on_strict_improvement():
    from noisygraph.locle.tuning import Trial, coordinate_search

    table = {0: 0.5, 1: 0.7, 2: 0.7, 3: 0.6}
    seen = []

    def evaluate(config):
        seen.append(dict(config))
        return Trial(config, table[config["a"]] + (0.1 if config["b"] else 0.0))

    result = coordinate_search(evaluate, {"a": 0, "b": False}, {"a": [0, 1, 2, 3], "b": [True, False]})
    assert result.chosen == {"a": 1, "b": True}  # 2 ties with 1: the earlier one stays
    assert len(seen) == len({str(c) for c in seen}) == 5
    with pytest.raises(ValueError, match="start"):
        coordinate_search(evaluate, {"a": 0}, {"b": [True]})


def test_heldout_agreement_weights_by_confidence():
    from noisygraph.locle.tuning import heldout_agreement

    answers = [Annotation(0, 1, 0.9), Annotation(1, 0, 0.1), Annotation(2, -1, 0.0)]
    predictions = torch.tensor([1, 1, 0])
    assert heldout_agreement(predictions, answers) == pytest.approx(0.9)
    assert heldout_agreement(predictions, answers, weighted=False) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="usable"):
        heldout_agreement(predictions, answers[2:])


@pytest.mark.parametrize("repeated", [False, True])
def test_gcn_matches_pyg_gcn_forward_and_gradients(repeated):
    """The trainer's 2-layer GCN (precomputed A·X, transposed-CSR backward) computes what
    torch_geometric.nn.GCN computes, and the same gradients; on a multigraph too (repeated
    edges, whose messages GCNConv sums: the CSR sums them)."""
    from torch_geometric.nn import GCN

    from noisygraph.baselines.gcn import GCN as OurGCN, _transpose, gcn_adjacency
    from noisygraph.sparse import to_adjacency

    data = planted_graph(n=40)
    directed = data.edge_index[:, ::2]  # an asymmetric graph: the transpose matters
    if repeated:  # every third edge twice more, and a self-loop twice
        loops = torch.tensor([[5, 5], [5, 5]])
        directed = torch.cat([directed, directed[:, ::3], directed[:, ::3], loops], dim=1)
    weight = torch.rand(directed.size(1), generator=torch.Generator().manual_seed(2)) + 0.1
    ours = OurGCN(data.x.size(1), 16, 3, dropout=0.0)
    theirs = GCN(data.x.size(1), 16, num_layers=2, out_channels=3, dropout=0.0)
    with torch.no_grad():
        theirs.convs[0].lin.weight.copy_(ours.lin1.weight)
        theirs.convs[0].bias.copy_(ours.bias1)
        theirs.convs[1].lin.weight.copy_(ours.lin2.weight)
        theirs.convs[1].bias.copy_(ours.bias2)
    adj = gcn_adjacency(to_adjacency(directed, edge_weight=weight, num_nodes=40))
    out = ours.output(adj, _transpose(adj), ours.hidden(adj @ data.x))
    expected = theirs(data.x, directed, edge_weight=weight)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    out.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(ours.lin1.weight.grad, theirs.convs[0].lin.weight.grad,
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.lin2.weight.grad, theirs.convs[1].lin.weight.grad,
                               rtol=1e-4, atol=1e-5)
