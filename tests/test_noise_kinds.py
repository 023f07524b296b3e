"""The noise kinds users know from other benchmarks: NoisyGL's instance-dependent noise
(``"instance_noisygl"``) and annotator-made wrong labels (``"annotator"``, as BeGIN's LLM noise,
from the offline embedding annotator on text graphs)."""
import pytest
import torch

from noisygraph.bench import GridError, run_benchmark
from noisygraph.bench.annotator import annotator_probabilities
from noisygraph.datasets import csbm
from noisygraph.noise import NOISE_KINDS, AddLabelNoise, LabelNoiseModel, add_label_noise

DATA = csbm(3000, num_classes=4, num_features=12, seed=0, train_per_class=10, num_val=50,
            num_test=100)
K = 4


def _probs(seed=0, n=3000):
    generator = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(n, K, generator=generator, dtype=torch.float64), dim=1)


PROBS = _probs()


def test_the_kinds_are_listed():
    assert {"instance_noisygl", "annotator"} <= set(NOISE_KINDS)


@pytest.mark.parametrize("rate", [0.2, 0.4])
def test_noisygl_realised_rate_close_to_nominal(rate):
    noise = add_label_noise(DATA.y, "instance_noisygl", rate, seed=1, x=DATA.x)
    # q_i ~ N(r, 0.1) truncated to [0, 1]: the mean stays within 0.01 of r here; the binomial
    # spread on 3000 nodes is about 0.009
    assert abs(noise.realised_rate - rate) < 0.04
    exact = add_label_noise(DATA.y, "instance_noisygl", rate, seed=1, x=DATA.x, sampler="exact")
    assert int(exact.flipped.sum()) == round(rate * 3000)


def test_noisygl_is_deterministic_per_seed_and_differs_across_seeds():
    first = add_label_noise(DATA.y, "instance_noisygl", 0.3, seed=5, x=DATA.x)
    again = add_label_noise(DATA.y, "instance_noisygl", 0.3, seed=5, x=DATA.x)
    other = add_label_noise(DATA.y, "instance_noisygl", 0.3, seed=6, x=DATA.x)
    assert torch.equal(first.y_noisy, again.y_noisy)
    assert not torch.equal(first.y_noisy, other.y_noisy)
    assert first.nominal_transition is None


def test_noisygl_targets_follow_the_projection_of_the_features():
    # scaled features make softmax(x W[y]) an argmax: every flipped node must go to
    # argmax_{k != y} x_i W[y_i], computed here independently of the sampler
    x = 1000 * DATA.x
    model = LabelNoiseModel("instance_noisygl", 0.5, K, seed=3, x=x)
    noise = model.sample(DATA.y)
    logits = torch.einsum("nf,nfk->nk", x.double(), model._projection[DATA.y])
    logits[torch.arange(3000), DATA.y] = -float("inf")
    top2 = logits.topk(2, dim=1).values
    clear = noise.flipped & (top2[:, 0] - top2[:, 1] > 30)  # the runner-up has odds < e^-30
    assert clear.sum() > 1000
    assert torch.equal(noise.y_noisy[clear], logits.argmax(dim=1)[clear])


def test_noisygl_needs_features_and_no_paper_sampler():
    with pytest.raises(ValueError, match="x is required"):
        LabelNoiseModel("instance_noisygl", 0.2, K)
    with pytest.raises(ValueError, match="sampler='paper'"):
        LabelNoiseModel("instance_noisygl", 0.2, K, x=DATA.x, sampler="paper")


@pytest.mark.parametrize("rate", [0.2, 0.4])
def test_annotator_realised_rate_close_to_nominal(rate):
    noise = add_label_noise(DATA.y, "annotator", rate, seed=1, annotator_probs=PROBS)
    assert abs(noise.realised_rate - rate) < 0.04
    exact = add_label_noise(DATA.y, "annotator", rate, seed=1, annotator_probs=PROBS,
                            sampler="exact")
    assert int(exact.flipped.sum()) == round(rate * 3000)


def test_annotator_flips_where_it_errs_to_what_it_would_answer():
    error = 1 - PROBS[torch.arange(3000), DATA.y]
    noise = add_label_noise(DATA.y, "annotator", 0.3, seed=2, annotator_probs=PROBS)
    assert error[noise.flipped].mean() > error.mean() + 0.05
    # an annotator sure of one wrong class per node: every flip goes there
    wrong = (DATA.y + 1 + torch.arange(3000) % (K - 1)) % K
    sure = torch.full((3000, K), 0.0, dtype=torch.float64)
    sure[torch.arange(3000), wrong] = 0.9
    sure[torch.arange(3000), DATA.y] += 0.1
    forced = add_label_noise(DATA.y, "annotator", 0.5, seed=2, annotator_probs=sure)
    assert forced.flipped.any()
    assert torch.equal(forced.y_noisy[forced.flipped], wrong[forced.flipped])


def test_annotator_is_deterministic_per_seed():
    first = add_label_noise(DATA.y, "annotator", 0.3, seed=5, annotator_probs=PROBS)
    again = add_label_noise(DATA.y, "annotator", 0.3, seed=5, annotator_probs=PROBS)
    other = add_label_noise(DATA.y, "annotator", 0.3, seed=6, annotator_probs=PROBS)
    assert torch.equal(first.y_noisy, again.y_noisy)
    assert not torch.equal(first.y_noisy, other.y_noisy)


def test_add_label_noise_transform_reads_annotator_probs():
    data = DATA.clone()
    data.annotator_probs = PROBS
    out = AddLabelNoise("annotator", 0.3, seed=5)(data)
    expected = add_label_noise(DATA.y, "annotator", 0.3, mask=DATA.train_mask, seed=5,
                               annotator_probs=PROBS)
    assert torch.equal(out.y_noisy, expected.y_noisy)
    bare = DATA.clone()
    with pytest.raises(ValueError, match="annotator_probs is required"):
        AddLabelNoise("annotator", 0.3)(bare)


def _text_graph():
    data = csbm(60, num_classes=3, num_features=8, seed=0, train_per_class=5, num_val=15,
                num_test=20)
    topics = ["query optimisation in relational databases", "frequent pattern mining",
              "reinforcement learning agents"]
    data.text = [f"a paper on {topics[int(c)]}, number {i}" for i, c in enumerate(data.y)]
    data.class_names = ["Database", "Data Mining", "AI"]
    return data


def test_annotator_probabilities_on_a_text_graph_only(tmp_path, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path))
    data = _text_graph()
    probs = annotator_probabilities(data)
    assert probs.shape == (60, 3)
    assert torch.allclose(probs.sum(dim=1), torch.ones(60, dtype=probs.dtype))
    assert (probs.argmax(dim=1) == data.y).double().mean() > 0.5  # the annotator reads the texts
    with pytest.raises(ValueError, match="text graph"):
        annotator_probabilities(DATA)
    result = run_benchmark({"text": data}, ["gcn"], noise=["annotator"], rates=[0.4], runs=1,
                           epochs=3, verbose=False)
    assert result.records[0]["realised_rate"] == pytest.approx(0.4, abs=0.5 / 15)
    assert result.records[0]["annotator"]
    with pytest.raises(GridError, match="noise: 'annotator' needs a text graph"):
        run_benchmark({"csbm": DATA}, ["gcn"], noise=["annotator"], rates=[0.2], runs=1)
