"""Bad ``annotator_probs`` (the annotator's class probabilities of ``"annotator"`` noise) are
rejected by the one check, ``noisygraph._validation.check_probabilities``, at every entry
point: a wrong type, layout or dtype is a ``TypeError``, a wrong shape or value a
``ValueError``, the argument named."""
import numpy as np
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph._validation import check_probabilities
from noisygraph.noise import AddLabelNoise, LabelNoiseModel, add_label_noise

N, K = 12, 3
Y = torch.arange(N) % K
GOOD = torch.full((N, K), 1.0 / K, dtype=torch.float64)

BAD = [
    ("list", GOOD.tolist(), TypeError),
    ("numpy", GOOD.numpy(), TypeError),
    ("int-tensor", torch.ones(N, K, dtype=torch.long), TypeError),
    ("bool-tensor", torch.ones(N, K, dtype=torch.bool), TypeError),
    ("sparse", GOOD.to_sparse(), TypeError),
    ("1-d", GOOD[:, 0].contiguous(), ValueError),
    ("3-d", GOOD[None], ValueError),
    ("wrong-columns", torch.full((N, K + 1), 1.0 / (K + 1), dtype=torch.float64), ValueError),
    ("nan", torch.where(torch.arange(N)[:, None] == 0, float("nan"), GOOD), ValueError),
    ("inf", torch.where(torch.arange(N)[:, None] == 0, float("inf"), GOOD), ValueError),
    ("negative", GOOD - torch.tensor([[0.5, 0.0, 0.0]] + [[0.0] * K] * (N - 1),
                                     dtype=torch.float64), ValueError),
    ("rows-not-summing-to-1", 2 * GOOD, ValueError),
]


def _entry_points(probs):
    def transform():
        data = __import__("torch_geometric").data.Data(y=Y, train_mask=torch.ones(N, dtype=torch.bool),
                                                       annotator_probs=probs, num_nodes=N)
        return AddLabelNoise("annotator", 0.3, seed=0)(data)

    return {
        "check": lambda: check_probabilities("annotator_probs", probs, K),
        "model": lambda: LabelNoiseModel("annotator", 0.3, K, seed=0, annotator_probs=probs),
        "function": lambda: add_label_noise(Y, "annotator", 0.3, seed=0, annotator_probs=probs),
        "transform": transform,
    }


CASES = [BadInput(f"{entry}-{name}", call, error, "annotator_probs")
         for name, probs, error in BAD
         for entry, call in _entry_points(probs).items()]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def test_wrong_type_is_a_type_error_not_a_value_error():
    """The old private check in noise.py answered a non-tensor with ValueError."""
    with pytest.raises(TypeError, match="annotator_probs") as info:
        add_label_noise(Y, "annotator", 0.3, seed=0, annotator_probs=np.full((N, K), 1 / K))
    assert not isinstance(info.value, ValueError)


def test_good_probabilities_pass_and_come_back_as_float64_on_cpu():
    probs = check_probabilities("annotator_probs", GOOD.float(), K)
    assert probs.dtype == torch.float64 and probs.device.type == "cpu"
    torch.testing.assert_close(probs, GOOD)
    noise = add_label_noise(Y, "annotator", 0.5, seed=0, annotator_probs=GOOD.float())
    assert noise.y_noisy.shape == Y.shape
