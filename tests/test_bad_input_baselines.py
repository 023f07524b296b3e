"""Bad options and data given to the robust-training baselines: each rejected with a
ValueError/TypeError naming the argument."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.baselines import (METHODS, CoTeaching, ELR, ForwardCorrection, GCNTrainer,
                                  NRGNNLite, SymmetricCrossEntropy, estimate_transition)
from noisygraph.datasets import csbm


def graph():
    data = csbm(60, num_classes=3, avg_degree=4, seed=0, train_per_class=5, num_val=15,
                num_test=20)
    data.y_noisy = data.y.clone()
    return data


CASES = [
    BadInput("forward-quantile-0", lambda: ForwardCorrection(quantile=0.0), ValueError,
             "quantile"),
    BadInput("forward-quantile-str", lambda: ForwardCorrection(quantile="1"), TypeError,
             "quantile"),
    BadInput("transition-probs-1d", lambda: estimate_transition(torch.ones(3)), TypeError,
             "probs"),
    BadInput("sce-alpha-0", lambda: SymmetricCrossEntropy(alpha=0.0), ValueError, "alpha"),
    BadInput("sce-beta-negative", lambda: SymmetricCrossEntropy(beta=-1.0), ValueError,
             "beta"),
    BadInput("sce-log-zero-positive", lambda: SymmetricCrossEntropy(log_zero=1.0),
             ValueError, "log_zero"),
    BadInput("sce-alpha-nan", lambda: SymmetricCrossEntropy(alpha=float("nan")), ValueError,
             "alpha"),
    BadInput("coteaching-forget-1", lambda: CoTeaching(forget_rate=1.0), ValueError,
             "forget_rate"),
    BadInput("coteaching-warmup-0", lambda: CoTeaching(warmup=0), ValueError, "warmup"),
    BadInput("coteaching-warmup-float", lambda: CoTeaching(warmup=1.5), TypeError, "warmup"),
    BadInput("coteaching-max-forget", lambda: CoTeaching(max_forget_rate=1.5), ValueError,
             "max_forget_rate"),
    BadInput("coteaching-per-class", lambda: CoTeaching(per_class=1), TypeError, "per_class"),
    BadInput("elr-beta-1", lambda: ELR(beta=1.0), ValueError, "beta"),
    BadInput("elr-lam-negative", lambda: ELR(lam=-1.0), ValueError, "lam"),
    BadInput("elr-warmup-negative", lambda: ELR(warmup=-1), ValueError, "warmup"),
    BadInput("nrgnn-candidates-0", lambda: NRGNNLite(candidates=0), ValueError, "candidates"),
    BadInput("nrgnn-hops-negative", lambda: NRGNNLite(hops=-1), ValueError, "hops"),
    BadInput("nrgnn-hops-float", lambda: NRGNNLite(hops=1.5), TypeError, "hops"),
    BadInput("nrgnn-similarity-2", lambda: NRGNNLite(min_similarity=2.0), ValueError,
             "min_similarity"),
    BadInput("nrgnn-confidence", lambda: NRGNNLite(confidence=1.5), ValueError, "confidence"),
    BadInput("nrgnn-pseudo-weight", lambda: NRGNNLite(pseudo_weight=-0.1), ValueError,
             "pseudo_weight"),
    BadInput("trainer-networks-0", lambda: GCNTrainer(networks=0), ValueError, "networks"),
    BadInput("trainer-step-loss", lambda: GCNTrainer(step_loss=3), TypeError, "step_loss"),
    # GCNTrainer.fit reads x itself (the methods check data.x before): NaN features, and
    # float64 ones beyond float32's range, would give NaN logits silently
    BadInput("trainer-x-nan", lambda: GCNTrainer(epochs=1, verbose=False).fit(
        graph(), x=torch.full((60, 8), float("nan"))), ValueError, "x"),
    BadInput("trainer-x-float64-overflow", lambda: GCNTrainer(epochs=1, verbose=False).fit(
        graph(), x=torch.full((60, 8), 1e300, dtype=torch.float64)), ValueError, "x"),
]
for _name, _cls in sorted(METHODS.items()):
    CASES += [
        BadInput(f"{_name}-protocol", lambda c=_cls: c(protocol="clean"), ValueError,
                 "protocol"),
        BadInput(f"{_name}-epochs", lambda c=_cls: c(epochs=0), ValueError, "epochs"),
        BadInput(f"{_name}-seed", lambda c=_cls: c(seed=-1), ValueError, "seed"),
        BadInput(f"{_name}-verbose", lambda c=_cls: c(verbose="yes"), TypeError, "verbose"),
        BadInput(f"{_name}-device", lambda c=_cls: c(device="tpu:9"), (ValueError, TypeError),
                 "device"),
        BadInput(f"{_name}-y-noisy-float",
                 lambda c=_cls: c(epochs=1).fit(graph(), y_noisy=torch.zeros(60)), TypeError,
                 "y_noisy"),
        BadInput(f"{_name}-y-noisy-range",
                 lambda c=_cls: c(epochs=1).fit(graph(), y_noisy=torch.full((60,), 7)),
                 ValueError, "y_noisy"),
        BadInput(f"{_name}-data", lambda c=_cls: c(epochs=1).fit(
            "graph", y_noisy=torch.zeros(60, dtype=torch.long)), TypeError, "data"),
        BadInput(f"{_name}-no-y-noisy", lambda c=_cls: c(epochs=1).fit("graph"), ValueError,
                 "y_noisy"),
    ]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def test_unknown_option_is_rejected():
    for cls in set(METHODS.values()):
        with pytest.raises(TypeError, match="unknown_option"):
            cls(unknown_option=1)
