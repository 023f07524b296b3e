"""Every benchmarkable method on noisy labels where a class is rare or absent among the
training labels (a user's graph with a rare class, or noise that flipped a class away): it
trains, and predicts one valid class per node; nothing fails on a per-class statistic of
fewer than a handful of nodes."""
import pytest
import torch

from noisygraph.bench import build_method, method_registry
from noisygraph.datasets import csbm
from noisygraph.noise import AddLabelNoise

DATA = AddLabelNoise("uniform", 0.2, seed=0)(csbm(90, num_classes=3, num_features=6, seed=0,
                                                  train_per_class=10, num_val=15,
                                                  num_test=30, verbose=False))
TRAIN = DATA.train_mask.nonzero().view(-1)


def _labels(rare_count: int) -> torch.Tensor:
    """``y_noisy`` with class 2 kept on only ``rare_count`` training nodes (the rest of its
    training nodes relabelled 0)."""
    y = DATA.y_noisy.clone()
    rare = TRAIN[y[TRAIN] == 2]
    y[rare[rare_count:]] = 0
    return y


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


@pytest.mark.parametrize("rare_count", [0, 2])
@pytest.mark.parametrize("name", sorted(method_registry()))
def test_a_rare_or_absent_class_trains_and_predicts(name, rare_count):
    y_noisy = _labels(rare_count)
    assert int((y_noisy[TRAIN] == 2).sum()) == rare_count
    method = _build(name)
    method.fit(DATA, y_noisy=y_noisy)
    pred = method.predict()
    assert pred.shape == (DATA.num_nodes,) and pred.dtype == torch.long
    assert int(pred.min()) >= 0 and int(pred.max()) < 3
