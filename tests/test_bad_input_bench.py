"""Bad input to the benchmark runner, its registry and the new noise kinds: every case raises
ValueError/TypeError naming the argument, before any cell trains."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.bench import (ERASEMethod, annotator_probabilities, build_method, get_method,
                              read_cache, run_benchmark)
from noisygraph.datasets import csbm
from noisygraph.noise import LabelNoiseModel

DATA = csbm(60, num_classes=3, num_features=4, seed=0, train_per_class=4, num_val=12, num_test=20)
GRAPHS = {"csbm": DATA}
PROBS = torch.full((60, 3), 1 / 3, dtype=torch.float64)


def bench(**overrides):
    arguments = dict(datasets=GRAPHS, methods=["gcn"], rates=[0.2], runs=1, verbose=False)
    arguments.update(overrides)
    return lambda: run_benchmark(arguments.pop("datasets"), arguments.pop("methods"), **arguments)


CASES = [
    BadInput("datasets-str", bench(datasets="Cora"), TypeError, "datasets"),
    BadInput("datasets-empty", bench(datasets=[]), ValueError, "datasets"),
    BadInput("datasets-bad-value", bench(datasets={"a": 3}), TypeError, "datasets"),
    BadInput("methods-unknown", bench(methods=["nope"]), ValueError, "methods"),
    BadInput("methods-empty", bench(methods=[]), ValueError, "methods"),
    BadInput("methods-repeated", bench(methods=["gcn", "gcn"]), ValueError, "methods"),
    BadInput("noise-unknown", bench(noise=["bogus"]), ValueError, "noise"),
    BadInput("rates-above-one", bench(rates=[1.5]), ValueError, "rates"),
    BadInput("rates-nan", bench(rates=[float("nan")]), ValueError, "rates"),
    BadInput("rates-str", bench(rates="0.2"), ValueError, "rates"),
    BadInput("runs-zero", bench(runs=0), ValueError, "runs"),
    BadInput("protocol-unknown", bench(protocol="clean"), ValueError, "protocol"),
    BadInput("sampler-unknown", bench(sampler="magic"), ValueError, "sampler"),
    BadInput("sampler-paper-per-node", bench(noise=["instance_noisygl"], sampler="paper"),
             ValueError, "sampler"),
    BadInput("seed-negative", bench(seed=-1), ValueError, "seed"),
    BadInput("seed-overflow", bench(seed=2**32 - 50, runs=2), ValueError, "seed"),
    BadInput("epochs-zero", bench(epochs=0), ValueError, "epochs"),
    BadInput("patience-negative", bench(patience=-1), ValueError, "patience"),
    BadInput("jobs-zero", bench(jobs=0), ValueError, "jobs"),
    BadInput("threads-zero", bench(threads=0), ValueError, "threads"),
    BadInput("verbose-str", bench(verbose="yes"), TypeError, "verbose"),
    # open() would take an int for a file descriptor, and read and append to it
    BadInput("cache-int", bench(cache=3), TypeError, "cache"),
    BadInput("read-cache-int", lambda: read_cache(3), TypeError, "path"),
    BadInput("erase-fit-not-data", lambda: ERASEMethod(seed=0, verbose=False).fit(DATA.x),
             TypeError, "data"),
    BadInput("annotator-not-text", bench(noise=["annotator"]), ValueError, "noise"),
    BadInput("get-method-unknown", lambda: get_method("nope"), ValueError, "method"),
    BadInput("build-method-option", lambda: build_method("gcn", protocol="paper", seed=0,
                                                         gamma1=1.0), ValueError, "gamma1"),
    BadInput("annotator-probabilities-not-text", lambda: annotator_probabilities(DATA),
             ValueError, "text graph"),
    BadInput("annotator-probs-missing", lambda: LabelNoiseModel("annotator", 0.2, 3),
             ValueError, "annotator_probs"),
    BadInput("annotator-probs-columns", lambda: LabelNoiseModel(
        "annotator", 0.2, 4, annotator_probs=PROBS), ValueError, "annotator_probs"),
    BadInput("annotator-probs-rows-sum", lambda: LabelNoiseModel(
        "annotator", 0.2, 3, annotator_probs=2 * PROBS), ValueError, "annotator_probs"),
    BadInput("annotator-probs-negative", lambda: LabelNoiseModel(
        "annotator", 0.2, 3, annotator_probs=PROBS - 1), ValueError, "annotator_probs"),
    BadInput("annotator-probs-int", lambda: LabelNoiseModel(
        "annotator", 0.2, 3, annotator_probs=torch.ones(60, 3, dtype=torch.long)), TypeError,
        "annotator_probs"),
    BadInput("annotator-probs-rows", lambda: LabelNoiseModel(
        "annotator", 0.2, 3, annotator_probs=PROBS[:10]).sample(DATA.y), ValueError,
        "annotator_probs"),
    BadInput("noisygl-no-x", lambda: LabelNoiseModel("instance_noisygl", 0.2, 3), ValueError,
             "x"),
    BadInput("noisygl-x-rows", lambda: LabelNoiseModel(
        "instance_noisygl", 0.2, 3, x=DATA.x[:10]).sample(DATA.y), ValueError, "x"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
