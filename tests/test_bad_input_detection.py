"""Bad input to ``noisygraph.detection``: every case raises ValueError/TypeError naming the
argument."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.datasets import csbm
from noisygraph.detection import (DetectionERASE, DetectionGCN, OutOfSamplePredictions,
                                  detect_label_issues,
                                  find_label_issues, graphcleaner_style_detector,
                                  label_quality_scores, out_of_sample_predictions)
from noisygraph.noise import AddLabelNoise

DATA = AddLabelNoise("uniform", 0.2, seed=0)(
    csbm(60, num_classes=3, seed=0, train_per_class=5, num_val=10, num_test=10, verbose=False))
N_TRAIN = int(DATA.train_mask.sum())
PROBS = torch.full((N_TRAIN, 3), 1 / 3)
NAN_PROBS = PROBS.clone()
NAN_PROBS[0, 0] = float("nan")
UNNORMALISED = PROBS * 2
FAKE_PRED = OutOfSamplePredictions(torch.arange(N_TRAIN), torch.zeros(N_TRAIN, dtype=torch.long),
                                   PROBS, PROBS, torch.full((60, 3), 1 / 3),
                                   torch.zeros(N_TRAIN, dtype=torch.long))


def _no_labels():
    data = DATA.clone()
    del data.y_noisy, data.y
    return data


def _no_train_mask():
    data = DATA.clone()
    del data.train_mask
    return data


CASES = [
    BadInput("pred-probs-wrong-type", lambda: detect_label_issues(DATA, pred_probs=[[0.5]]),
             TypeError, "pred_probs"),
    BadInput("pred-probs-int", lambda: detect_label_issues(
        DATA, pred_probs=torch.ones(N_TRAIN, 3, dtype=torch.long)), TypeError, "pred_probs"),
    BadInput("pred-probs-wrong-rows", lambda: detect_label_issues(
        DATA, pred_probs=torch.full((N_TRAIN + 1, 3), 1 / 3)), ValueError, "pred_probs"),
    BadInput("pred-probs-nan", lambda: detect_label_issues(DATA, pred_probs=NAN_PROBS),
             ValueError, "pred_probs"),
    BadInput("pred-probs-unnormalised", lambda: detect_label_issues(
        DATA, pred_probs=UNNORMALISED), ValueError, "pred_probs"),
    BadInput("pred-other-nodes", lambda: detect_label_issues(DATA, pred_probs=FAKE_PRED),
             ValueError, "pred_probs"),
    BadInput("labels-float", lambda: detect_label_issues(
        DATA, labels=torch.zeros(60), pred_probs=PROBS), TypeError, "labels"),
    BadInput("labels-short", lambda: detect_label_issues(
        DATA, labels=torch.zeros(5, dtype=torch.long), pred_probs=PROBS), ValueError,
        "labels"),
    BadInput("labels-negative", lambda: detect_label_issues(
        DATA, labels=torch.full((60,), -1), pred_probs=PROBS), ValueError, "labels"),
    BadInput("labels-missing", lambda: detect_label_issues(_no_labels(), pred_probs=PROBS),
             ValueError, "labels"),
    BadInput("train-nodes-missing", lambda: detect_label_issues(_no_train_mask(),
                                                                pred_probs=PROBS),
             ValueError, "train_nodes"),
    BadInput("train-nodes-out-of-range", lambda: detect_label_issues(
        DATA, train_nodes=torch.tensor([0, 99]), pred_probs=PROBS), ValueError,
        "train_nodes"),
    BadInput("train-nodes-one", lambda: detect_label_issues(
        DATA, train_nodes=torch.tensor([0]), pred_probs=PROBS), ValueError, "train_nodes"),
    BadInput("weights-length", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                           weights=(1, 1)),
             TypeError, "weights"),
    BadInput("weights-negative", lambda: detect_label_issues(
        DATA, pred_probs=PROBS, weights=(1, -1, 1, 1)), ValueError, "weights"),
    BadInput("weights-zero", lambda: detect_label_issues(
        DATA, pred_probs=PROBS, weights=(0, 0, 0, 0)), ValueError, "weights"),
    BadInput("weights-unknown-name", lambda: detect_label_issues(
        DATA, pred_probs=PROBS, weights="learned"), ValueError, "weights"),
    BadInput("count-unknown", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                          count="oracle"),
             ValueError, "count"),
    BadInput("folds-one", lambda: detect_label_issues(DATA, pred_probs=PROBS, folds=1),
             ValueError, "folds"),
    BadInput("folds-too-many", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                           folds=N_TRAIN + 1),
             ValueError, "folds"),
    BadInput("folds-float", lambda: out_of_sample_predictions(DATA, folds=2.5), TypeError,
             "folds"),
    BadInput("seed-negative", lambda: detect_label_issues(DATA, pred_probs=PROBS, seed=-1),
             ValueError, "seed"),
    BadInput("alpha-zero", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                       diffusion_alpha=0.0),
             ValueError, "diffusion_alpha"),
    BadInput("alpha-nan", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                      diffusion_alpha=float("nan")),
             ValueError, "diffusion_alpha"),
    BadInput("steps-zero", lambda: detect_label_issues(DATA, pred_probs=PROBS,
                                                       diffusion_steps=0),
             ValueError, "diffusion_steps"),
    BadInput("ranked-by-unknown", lambda: find_label_issues(
        DATA, pred_probs=PROBS, return_indices_ranked_by="entropy"), ValueError,
        "return_indices_ranked_by"),
    BadInput("trainer-not-dict", lambda: out_of_sample_predictions(DATA, trainer=[1]),
             TypeError, "trainer"),
    BadInput("trainer-seed", lambda: out_of_sample_predictions(DATA, trainer={"seed": 1}),
             ValueError, "seed"),
    BadInput("trainer-bad-option", lambda: out_of_sample_predictions(
        DATA, trainer={"epochs": 0}), ValueError, "epochs"),
    BadInput("scores-bad-option", lambda: label_quality_scores(DATA, pred_probs=PROBS,
                                                               folds=0),
             ValueError, "folds"),
    BadInput("pred-probs-1d", lambda: detect_label_issues(
        DATA, pred_probs=torch.full((N_TRAIN,), 1 / 3)), ValueError, "pred_probs"),
    BadInput("pred-probs-too-few-classes", lambda: detect_label_issues(
        DATA, pred_probs=torch.full((N_TRAIN, 2), 1 / 2)), ValueError, "pred_probs"),
    BadInput("pred-probs-sparse", lambda: detect_label_issues(
        DATA, pred_probs=PROBS.to_sparse()), TypeError, "pred_probs"),
    BadInput("detect-gcn-weighting", lambda: DetectionGCN(weighting="drop"), ValueError,
             "weighting"),
    BadInput("detect-gcn-folds", lambda: DetectionGCN(folds=1), ValueError, "folds"),
    BadInput("detect-gcn-cap-zero", lambda: DetectionGCN(max_flag_fraction=0.0), ValueError,
             "max_flag_fraction"),
    BadInput("detect-gcn-cap-above-one", lambda: DetectionGCN(max_flag_fraction=1.5),
             ValueError, "max_flag_fraction"),
    BadInput("detect-gcn-cap-type", lambda: DetectionGCN(max_flag_fraction="half"), TypeError,
             "max_flag_fraction"),
    BadInput("detect-erase-cap-nan", lambda: DetectionERASE(max_flag_fraction=float("nan")),
             ValueError, "max_flag_fraction"),
    BadInput("detect-gcn-detector-type", lambda: DetectionGCN(detector=[("count", "model")]),
             TypeError, "detector"),
    BadInput("detect-gcn-detector-seed", lambda: DetectionGCN(detector={"seed": 3}),
             ValueError, "detector"),
    BadInput("detect-gcn-detector-option", lambda: DetectionGCN(
        seed=0, epochs=2, detector={"count": "all"}).fit(DATA), ValueError, "count"),
    BadInput("detect-gcn-gcn-option", lambda: DetectionGCN(lr=0.0), ValueError, "lr"),
    BadInput("detect-erase-weighting", lambda: DetectionERASE(weighting="quality"),
             TypeError, "weighting"),
    BadInput("detect-erase-lr", lambda: DetectionERASE(erase_lr=-1.0), ValueError,
             "erase_lr"),
    BadInput("graphcleaner-pred-type", lambda: graphcleaner_style_detector(DATA, PROBS),
             TypeError, "pred"),
    BadInput("graphcleaner-hops", lambda: graphcleaner_style_detector(DATA, FAKE_PRED,
                                                                      hops=0),
             ValueError, "hops"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
