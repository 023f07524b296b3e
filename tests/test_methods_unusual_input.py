"""Every benchmarkable method on valid but unusual input: a class rare or absent among the
(noisy) training labels, a multigraph (repeated edges and self-loops, which PyG allows), and
float64 features. Each trains and predicts one valid class per node; float64 features give
the predictions of the same features in float32 (the methods compute in float32)."""
import copy
import functools

import pytest
import torch

from noisygraph.bench import build_method, method_registry
from noisygraph.datasets import csbm
from noisygraph.noise import AddLabelNoise

DATA = AddLabelNoise("uniform", 0.2, seed=0)(csbm(90, num_classes=3, num_features=6, seed=0,
                                                  train_per_class=10, num_val=15,
                                                  num_test=30, verbose=False))
TRAIN = DATA.train_mask.nonzero().view(-1)
SHORT = {"epochs": 8, "patience": 8}
#: the options that shorten each method's training (every model it trains: the detector's
#: folds, ERASE after a cleaner)
OPTIONS = {"cl-erase": dict(erase_epochs=8, erase_patience=8, **SHORT),
           "detect-erase": dict(erase_epochs=8, erase_patience=8, detector={"trainer": SHORT},
                                **SHORT),
           "detect-gcn": dict(detector={"trainer": SHORT}, **SHORT)}


def _build(name: str):
    """The method with short training where it takes epochs / patience."""
    try:
        return build_method(name, protocol="paper", seed=0, **OPTIONS.get(name, SHORT))
    except ValueError:  # a method without those options (label propagation)
        return build_method(name, protocol="paper", seed=0)


def _rare_class(count: int):
    """The graph with class 2 kept on only ``count`` training nodes (the rest of its training
    nodes relabelled 0)."""
    data = copy.copy(DATA)
    y = DATA.y_noisy.clone()
    rare = TRAIN[y[TRAIN] == 2]
    y[rare[count:]] = 0
    data.y_noisy = y
    assert int((y[TRAIN] == 2).sum()) == count
    return data


def _multigraph():
    data = copy.copy(DATA)
    loops = torch.arange(0, DATA.num_nodes, 7).repeat(2, 1)
    data.edge_index = torch.cat([DATA.edge_index, DATA.edge_index[:, ::4], loops, loops], dim=1)
    return data


def _float64():
    data = copy.copy(DATA)
    data.x = DATA.x.double()
    return data


GRAPHS = {"two-labels-of-a-class": lambda: _rare_class(2),
          "a-class-absent": lambda: _rare_class(0),
          "repeated-edges": _multigraph, "float64-features": _float64}


def _fit(name, data):
    method = _build(name)
    method.fit(data)
    pred = method.predict()
    assert pred.shape == (DATA.num_nodes,) and pred.dtype == torch.long
    assert int(pred.min()) >= 0 and int(pred.max()) < 3
    return method, pred


@functools.lru_cache(maxsize=None)
def _fitted_on_data(name):
    return _fit(name, DATA)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("name", sorted(method_registry()))
def test_unusual_but_valid_input_trains_and_predicts(name, graph):
    _, pred = _fit(name, GRAPHS[graph]())
    if graph == "float64-features":
        assert torch.equal(pred, _fitted_on_data(name)[1])


@pytest.mark.parametrize("name", sorted(method_registry()))
def test_predict_reads_the_graph_it_is_given_or_refuses_it(name):
    """``predict(data)``: the graph fit trained on (or an equal copy) gives the fitted
    predictions; another graph is a ValueError for a transductive method, never the training
    graph's predictions passed off as its own. ERASE (inductive: encoder and probe apply to
    any graph with the same features) classifies the other graph's nodes."""
    method, pred = _fitted_on_data(name)
    assert torch.equal(method.predict(copy.copy(DATA)), pred)
    other = csbm(60, num_classes=3, num_features=6, seed=1, train_per_class=5, num_val=10,
                 num_test=10, verbose=False)
    if name == "erase":
        assert method.predict(other).shape == (60,)
        return
    with pytest.raises(ValueError, match="data must be None or the graph fit"):
        method.predict(other)
