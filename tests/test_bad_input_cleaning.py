"""Bad input to the cleaning baselines (issue 12) and their building blocks: every case
raises ValueError/TypeError naming the argument, before any training."""
import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.erase import ConfidentERASE
from noisygraph.baselines.cleaning import (CLEANERS, ConfidentLearning,
                                           PropagationCleaner, PrototypeCleaner,
                                           clean_posterior, confident_joint,
                                           leave_one_out_propagation, prune_by_noise_rate)
from noisygraph.sparse import to_adjacency

LABELS = torch.tensor([0, 1, 0, 1])
PROBS = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
ADJ = to_adjacency(EDGES, num_nodes=4)


def graph(**overrides):
    data = Data(x=torch.randn(4, 3), edge_index=EDGES, y=LABELS.clone(),
                train_mask=torch.tensor([True, True, False, False]),
                val_mask=torch.tensor([False, False, True, False]),
                test_mask=torch.tensor([False, False, False, True]))
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


CASES = [
    # constructors: the shared options and each cleaner's own
    *[BadInput(f"{name}-protocol", lambda c=cls: c(protocol="clean"), ValueError, "protocol")
      for name, cls in CLEANERS.items()],
    *[BadInput(f"{name}-seed", lambda c=cls: c(seed=-1), ValueError, "seed")
      for name, cls in CLEANERS.items()],
    BadInput("cl-epochs", lambda: ConfidentLearning(epochs=0), ValueError, "epochs"),
    BadInput("cl-dropout", lambda: ConfidentLearning(dropout=1.0), ValueError, "dropout"),
    BadInput("cl-lr", lambda: ConfidentLearning(lr=0), ValueError, "lr"),
    BadInput("cl-device", lambda: ConfidentLearning(device="gpu9"), (ValueError, TypeError),
             "device"),
    BadInput("cl-verbose", lambda: ConfidentLearning(verbose="yes"), TypeError, "verbose"),
    BadInput("cl-num-folds", lambda: ConfidentLearning(num_folds=1), ValueError, "num_folds"),
    BadInput("cl-relabel", lambda: ConfidentLearning(relabel=1), TypeError, "relabel"),
    BadInput("cl-min-per-class", lambda: ConfidentLearning(min_per_class=-1), ValueError,
             "min_per_class"),
    BadInput("cpc-pseudo-label", lambda: PrototypeCleaner(pseudo_label="no"), TypeError,
             "pseudo_label"),
    BadInput("cpc-em-iterations", lambda: PrototypeCleaner(em_iterations=0), ValueError,
             "em_iterations"),
    BadInput("lp-threshold", lambda: PropagationCleaner(threshold=1.5), ValueError,
             "threshold"),
    BadInput("lp-action", lambda: PropagationCleaner(action="flip"), ValueError, "action"),
    BadInput("lp-alpha", lambda: PropagationCleaner(alpha=0.0), ValueError, "alpha"),
    BadInput("lp-num-steps", lambda: PropagationCleaner(num_steps=0), ValueError, "num_steps"),
    BadInput("lp-max-flag-fraction-zero", lambda: PropagationCleaner(max_flag_fraction=0.0),
             ValueError, "max_flag_fraction"),
    BadInput("lp-max-flag-fraction-big", lambda: PropagationCleaner(max_flag_fraction=1.5),
             ValueError, "max_flag_fraction"),
    BadInput("lp-max-flag-fraction-type", lambda: PropagationCleaner(max_flag_fraction="1"),
             TypeError, "max_flag_fraction"),
    BadInput("cl-erase-lr", lambda: ConfidentERASE(erase_lr=-1.0), ValueError, "erase_lr"),
    BadInput("cl-erase-epochs", lambda: ConfidentERASE(erase_epochs=0), ValueError,
             "erase_epochs"),
    BadInput("cl-erase-out", lambda: ConfidentERASE(erase_out_channels=0), ValueError,
             "erase_out_channels"),
    # fit: data and labels, checked before anything trains
    BadInput("fit-data-type", lambda: ConfidentLearning().fit({"x": 1}, y_noisy=LABELS),
             TypeError, "data"),
    BadInput("fit-no-labels", lambda: PrototypeCleaner().fit(graph()), ValueError, "y_noisy"),
    BadInput("fit-float-labels", lambda: PropagationCleaner().fit(
        graph(), y_noisy=LABELS.float()), TypeError, "y_noisy"),
    BadInput("fit-label-range", lambda: ConfidentLearning().fit(
        graph(), y_noisy=torch.tensor([0, 5, 0, 1])), ValueError, "y_noisy"),
    BadInput("fit-nan-features", lambda: ConfidentLearning().fit(
        graph(x=torch.full((4, 3), float("nan"))), y_noisy=LABELS), ValueError, "data.x"),
    BadInput("fit-empty-train", lambda: PrototypeCleaner().fit(
        graph(train_mask=torch.zeros(4, dtype=torch.bool)), y_noisy=LABELS), ValueError,
        "train_mask"),
    BadInput("fit-noisy-val-clean", lambda: ConfidentLearning(protocol="noisy-val").fit(
        graph(), y_noisy=LABELS), ValueError, "noisy-val"),
    BadInput("fit-noise-mask-shape", lambda: PropagationCleaner(protocol="noisy-val").fit(
        graph(), y_noisy=LABELS, noise_mask=torch.ones(3, dtype=torch.bool)), ValueError,
        "noise_mask"),
    # the building blocks
    BadInput("joint-probs-type", lambda: confident_joint(LABELS, PROBS.long()), TypeError,
             "probs"),
    BadInput("joint-probs-nan", lambda: confident_joint(
        LABELS, torch.full((4, 2), float("nan"))), ValueError, "probs"),
    BadInput("joint-probs-negative", lambda: confident_joint(LABELS, -PROBS), ValueError,
             "probs"),
    BadInput("joint-labels-float", lambda: confident_joint(LABELS.float(), PROBS), TypeError,
             "labels"),
    BadInput("joint-labels-range", lambda: confident_joint(torch.tensor([0, 1, 2, 0]), PROBS),
             ValueError, "labels"),
    BadInput("joint-length", lambda: confident_joint(LABELS[:3], PROBS), ValueError,
             "labels"),
    BadInput("joint-num-classes", lambda: confident_joint(LABELS, PROBS, 3), ValueError,
             "num_classes"),
    BadInput("joint-calibrate", lambda: confident_joint(LABELS, PROBS, calibrate="yes"),
             TypeError, "calibrate"),
    BadInput("prune-joint-shape", lambda: prune_by_noise_rate(
        LABELS, PROBS, torch.ones(3, 3, dtype=torch.long)), ValueError, "joint"),
    BadInput("prune-min-per-class", lambda: prune_by_noise_rate(
        LABELS, PROBS, torch.ones(2, 2), min_per_class=-2), ValueError, "min_per_class"),
    BadInput("posterior-type", lambda: clean_posterior([0.1, 0.2]), TypeError, "losses"),
    BadInput("posterior-nan", lambda: clean_posterior(torch.tensor([0.1, float("nan")])),
             ValueError, "losses"),
    BadInput("posterior-iterations", lambda: clean_posterior(torch.rand(5), 0), ValueError,
             "num_iterations"),
    BadInput("loo-adj", lambda: leave_one_out_propagation(EDGES, torch.tensor([0]),
                                                          torch.tensor([0]), 2),
             TypeError, "adj"),
    BadInput("loo-nodes", lambda: leave_one_out_propagation(ADJ, torch.tensor([7]),
                                                            torch.tensor([0]), 2),
             ValueError, "nodes"),
    BadInput("loo-labels-shape", lambda: leave_one_out_propagation(
        ADJ, torch.tensor([0, 1]), torch.tensor([0]), 2), TypeError, "labels"),
    BadInput("loo-labels-range", lambda: leave_one_out_propagation(
        ADJ, torch.tensor([0, 1]), torch.tensor([0, 4]), 2), ValueError, "labels"),
    BadInput("loo-alpha", lambda: leave_one_out_propagation(
        ADJ, torch.tensor([0]), torch.tensor([0]), 2, alpha=2.0), ValueError, "alpha"),
    BadInput("loo-chunk", lambda: leave_one_out_propagation(
        ADJ, torch.tensor([0]), torch.tensor([0]), 2, chunk_size=0), ValueError,
        "chunk_size"),
]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)
