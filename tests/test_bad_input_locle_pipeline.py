"""Bad input to the Locle pipeline, its baselines, building blocks and the default search:
every case raises ValueError/TypeError naming the argument."""
import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.locle import Annotation, Annotator, ClassInfo, Locle, llm_gnn, random_gcn
from noisygraph.locle.refine import rewire
from noisygraph.locle.selection import critical_nodes, entropy_change_filter, kmeans
from noisygraph.locle.tuning import coordinate_search, draw_heldout, heldout_agreement

N = 12
CLASSES = [ClassInfo("A"), ClassInfo("B")]
TEXTS = [f"node {i}" for i in range(N)]
EDGES = torch.tensor([[i for i in range(N - 1)] + [i + 1 for i in range(N - 1)],
                      [i + 1 for i in range(N - 1)] + [i for i in range(N - 1)]])
X = torch.randn(N, 3, generator=torch.Generator().manual_seed(0))


class Never(Annotator):
    """Fails the test if asked anything: bad input must be rejected before any question."""

    def _annotate(self, texts, node_ids, classes, verbose):
        raise AssertionError("the annotator was asked despite bad input")


def graph(**changes):
    data = Data(edge_index=EDGES.clone(), num_nodes=N)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def fit(data=None, x=X, exclude=None, texts=TEXTS, annotator=None, budget=4):
    return Locle(budget=budget, verbose=False).fit(graph() if data is None else data, annotator=annotator or Never(), texts=texts, classes=CLASSES, x=x, exclude=exclude)


nan_x = X.clone()
nan_x[3, 1] = float("nan")

CASES = [
    BadInput("budget-zero", lambda: Locle(budget=0), ValueError, "budget"),
    BadInput("budget-float", lambda: Locle(budget=3.5), TypeError, "budget"),
    BadInput("budget-bool", lambda: Locle(budget=True), TypeError, "budget"),
    BadInput("rounds-zero", lambda: Locle(budget=10, num_rounds=0), ValueError, "num_rounds"),
    BadInput("initial-fraction-zero", lambda: Locle(budget=10, initial_fraction=0.0), ValueError,
             "initial_fraction"),
    BadInput("filter-fraction-one", lambda: Locle(budget=10, filter_fraction=1.0), ValueError,
             "filter_fraction"),
    BadInput("filter-fraction-nan", lambda: Locle(budget=10, filter_fraction=float("nan")), ValueError,
             "filter_fraction"),
    BadInput("pseudo-ratio-negative", lambda: Locle(budget=10, pseudo_ratio=-1.0), ValueError,
             "pseudo_ratio"),
    BadInput("pseudo-ratio-inf", lambda: Locle(budget=10, pseudo_ratio=float("inf")), ValueError,
             "pseudo_ratio"),
    BadInput("pseudo-per-round-negative", lambda: Locle(budget=10, pseudo_per_round=-2), ValueError,
             "pseudo_per_round"),
    BadInput("ensemble-decay-zero", lambda: Locle(budget=10, ensemble_decay=0.0), ValueError,
             "ensemble_decay"),
    BadInput("val-fraction-one", lambda: Locle(budget=10, val_fraction=1.0), ValueError, "val_fraction"),
    BadInput("epochs-float", lambda: Locle(budget=10, epochs=2.5), TypeError, "epochs"),
    BadInput("refine-string", lambda: Locle(budget=10, refine="yes"), TypeError, "refine"),
    BadInput("fit-x-nan", lambda: fit(x=nan_x), ValueError, "x"),
    BadInput("fit-x-rows", lambda: fit(x=X[:-1]), ValueError, r"x must have shape"),
    BadInput("fit-edge-index-out-of-range",
             lambda: fit(graph(edge_index=torch.tensor([[0, 40], [40, 0]]))), ValueError,
             "edge_index"),
    BadInput("fit-edge-index-float", lambda: fit(graph(edge_index=EDGES.float())), TypeError,
             "edge_index"),
    BadInput("fit-exclude-out-of-range", lambda: fit(exclude=torch.tensor([0, N])), ValueError,
             "exclude"),
    BadInput("fit-exclude-float", lambda: fit(exclude=torch.tensor([0.5])), TypeError, "exclude"),
    BadInput("fit-budget-over-allowed", lambda: fit(exclude=torch.arange(10), budget=4),
             ValueError, "budget"),
    BadInput("fit-texts-not-str", lambda: fit(texts=list(range(N))), TypeError, "texts"),
    BadInput("fit-annotator-wrong-type", lambda: fit(annotator="gpt"), TypeError, "annotator"),
    BadInput("random-budget-negative",
             lambda: random_gcn(graph(), annotator=Never(), budget=-1, x=X, texts=TEXTS, classes=CLASSES), ValueError, "budget"),
    BadInput("random-val-fraction-negative",
             lambda: random_gcn(graph(), annotator=Never(), budget=4, x=X, texts=TEXTS, classes=CLASSES, val_fraction=-0.1),
             ValueError, "val_fraction"),
    BadInput("llm-gnn-filter-fraction",
             lambda: llm_gnn(graph(), annotator=Never(), budget=4, x=X, texts=TEXTS, classes=CLASSES, filter_fraction=1.5),
             ValueError, "filter_fraction"),
    BadInput("filter-label-out-of-range",
             lambda: entropy_change_filter(torch.tensor([0, 2]), torch.ones(2), 2, 0.5),
             ValueError, "labels"),
    BadInput("critical-nodes-negative-query",
             lambda: critical_nodes(EDGES, torch.full((N, 2), 0.5), torch.arange(N), -1, 0),
             ValueError, "num_query"),
    BadInput("kmeans-clusters-float", lambda: kmeans(X, 2.0), TypeError, "num_clusters"),
    BadInput("rewire-labelled-out-of-range", lambda: rewire(EDGES, X, torch.tensor([N])),
             ValueError, "labelled"),
    BadInput("heldout-size-over-nodes", lambda: draw_heldout(N, N + 1, 0), ValueError, "size"),
    BadInput("agreement-2d-predictions",
             lambda: heldout_agreement(torch.zeros(N, 2), [Annotation(0, 1, 0.5)]), ValueError,
             "predictions"),
    BadInput("search-start-misses-option",
             lambda: coordinate_search(lambda c: None, {"a": 1}, {"b": [1]}), ValueError, "start"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
