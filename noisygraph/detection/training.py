r"""Detection helping training: a GCN (``"detect-gcn"``, :class:`DetectionGCN`) or ERASE
(``"detect-erase"``, :class:`DetectionERASE`) trained on the training labels that the
graph-aware detector :func:`~noisygraph.detection.detect_label_issues` keeps.

**Idea.** Confident-learning cleaning (``"cl"``, ``"cl-erase"``) judges each training label
from the out-of-sample GCN probabilities alone. The graph-aware detector also asks the
labelled neighbourhood (the other folds' labels diffused over the graph) and the node's
neighbours' out-of-sample predictions, combines the three by a fixed product of experts and
estimates how many labels of each class are wrong from the confident joint of a calibrated
combination (see :mod:`noisygraph.detection.core`). The flagged nodes are then

* removed from the training set (``weighting="remove"``, the default), at most a fraction
  ``max_flag_fraction`` of one given class's labels (those of lowest score), or
* kept, each node's cross-entropy term weighted by its label quality score
  :math:`s_i \in [0, 1]` (``weighting="quality"``, GCN only):
  :math:`\mathcal{L} = \sum_i s_i \, \mathrm{CE}(f(x)_i, \tilde y_i) / \sum_i s_i`,

and the final model trains on the rest under the method's protocol (clean or noisy
validation labels for model selection). The detector reads only the noisy training labels,
never a validation or test label.

Defaults (fixed before any measurement, none tuned): removal; the detector's own defaults
(5 folds of :class:`~noisygraph.baselines.GCNTrainer` at its defaults, equal-weight ranking,
``count="fitted"``); the final GCN's options are :class:`~noisygraph.baselines.Baseline`'s,
ERASE's the paper's (:class:`~noisygraph.erase.ConfidentERASE`'s).

**The cap (revision 2)** answers a failure diagnosed on Cora, its test accuracy in view: with
20 labels per class under 40 % pair noise the detector's flags are hardly more precise than
the noise rate (42-45 %), it flags 82-84 of the 140 labels (56 are wrong), and removing them
left some true classes with 1-2 correct labels (test accuracy 29.4-55.1 %). The half is the
value of :class:`~noisygraph.baselines.PropagationCleaner`'s cap, fixed a priori for the same
reason (more than half of one class flagged is likelier to be the class than its noise), not
searched; it was checked on contextual SBM graphs only before it became the default: on 24
Cora-shaped graphs (``benchmarks/csbm_flag_cap.py``) the mean test accuracy was 89.61 % with
the cap and 88.50 % without (plain GCN 88.02 %).
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_choice, check_int, check_real
from noisygraph.baselines.base import Baseline, CleaningOutcome
from noisygraph.baselines.confident import cap_flags_per_class
from noisygraph.baselines.gcn import GCNResult
from noisygraph.detection.core import LabelIssues, detect_label_issues
from noisygraph.erase.cleaned import ERASEOnKeptLabels

#: how :class:`DetectionGCN` uses the detector's verdict
WEIGHTINGS = ("remove", "quality")
#: :func:`detect_label_issues` options the method sets itself
_OWN = ("data", "pred_probs", "labels", "train_nodes", "folds", "seed")


class DetectionGCN(Baseline):
    r"""A GCN trained on the labels graph-aware label-issue detection keeps (see the module
    docstring).

    Args:
        weighting (str, optional): ``"remove"`` drops the flagged training nodes;
            ``"quality"`` keeps every node and weights its loss by its label quality score.
            (default: ``"remove"``)
        max_flag_fraction (float, optional): most labels of one given class that may be
            removed, a fraction in ``(0, 1]`` (``1``: every flagged node is removed); the
            flagged nodes of lowest score go first. Ignored by ``weighting="quality"``.
            (default: ``0.5``)
        folds (int, optional): :math:`K \ge 2` of the detector's cross-validation; more than
            the training nodes is taken as one fold per node. (default: ``5``)
        detector (dict, optional): further keyword options of
            :func:`~noisygraph.detection.detect_label_issues` (``weights``, ``count``,
            ``diffusion_alpha``, ``diffusion_steps``, ``trainer``).
            (default: :obj:`None`, its defaults)
        **kwargs: the final GCN's options, ``protocol``, ``seed``, ``device``, ``verbose`` of
            :class:`~noisygraph.baselines.Baseline`. The detector's fold models are seeded
            by the method's first seed (drawn from the global RNG when ``seed`` is
            :obj:`None`), the final GCN by the next one.
    """

    seed_step = 1  # as the other cleaners: the detector gets seed, the final GCN seed + 1
    #: (revision 1: every flagged node removed, no cap per class)
    revision = 2

    def __init__(self, *, weighting: str = "remove", max_flag_fraction: float = 0.5,
                 folds: int = 5, detector: Optional[dict[str, Any]] = None, **kwargs):
        super().__init__(**kwargs)
        self.weighting = check_choice("weighting", weighting, WEIGHTINGS)
        self.max_flag_fraction = check_real("max_flag_fraction", max_flag_fraction, low=0.0,
                                            high=1.0, low_open=True)
        self.folds = check_int("folds", folds, low=2)
        if detector is None:
            detector = {}
        if not isinstance(detector, dict):
            raise TypeError(f"detector must be a dict of detect_label_issues options, got "
                            f"{type(detector).__name__}")
        taken = sorted(set(detector) & set(_OWN))
        if taken:
            raise ValueError(f"detector must not set {', '.join(taken)} (the method sets it)")
        self.detector = dict(detector)
        self.issues: Optional[LabelIssues] = None

    def clean(self, data: Data, y_noisy: Tensor, nodes: Tensor, val_labels: Tensor,
              num_classes: int) -> CleaningOutcome:
        seed = self.next_seed()
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)))
        options = dict(self.detector)
        if self.device is not None:
            options["trainer"] = dict(options.get("trainer") or {}, device=self.device)
        self.issues = detect_label_issues(data, labels=y_noisy, train_nodes=nodes,
                                          folds=min(self.folds, nodes.numel()), seed=seed,
                                          **options)
        # the detector's nodes are ascending, as train_mask.nonzero()'s
        flagged = self.issues.is_issue.to(nodes.device)
        scores = self.issues.scores.to(nodes.device)
        if self.weighting == "quality":
            return CleaningOutcome(nodes, flagged, y_noisy[nodes], torch.ones_like(flagged),
                                   scores=scores)
        removed = cap_flags_per_class(flagged, scores, y_noisy[nodes], self.max_flag_fraction)
        return CleaningOutcome(nodes, removed, y_noisy[nodes], ~removed, scores=scores)

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback) -> GCNResult:
        if self.weighting == "quality":
            return self.fit_gcn(data, y_noisy, val_target, num_classes, callback=callback,
                                sample_weight=self.cleaning.scores)
        return super()._fit(data, y_noisy, val_target, num_classes, callback)


class DetectionERASE(ERASEOnKeptLabels, DetectionGCN):
    r"""ERASE trained on the labels graph-aware label-issue detection keeps: the flagged
    training nodes are removed (see the module docstring), ERASE's own label pre-correction
    and semantic labels run on the rest.

    Args:
        erase_lr, erase_epochs, erase_patience, erase_hidden_channels, erase_out_channels:
            ERASE's options, as :class:`~noisygraph.erase.ConfidentERASE`'s (the paper's
            values by default).
        max_flag_fraction (float, optional): most labels of one given class that may be
            removed. (default: ``0.5``)
        folds (int, optional): :math:`K \ge 2` of the detector (at most one fold per
            training node). (default: ``5``)
        detector (dict, optional): further :func:`detect_label_issues` options.
            (default: :obj:`None`)
        **kwargs: ``protocol``, ``seed``, ``device``, ``verbose``. No ``weighting``: ERASE
            trains on the kept labels only.
    """

    def __init__(self, **kwargs):
        if "weighting" in kwargs:
            raise TypeError("DetectionERASE takes no weighting (it removes the flagged "
                            "nodes)")
        super().__init__(**kwargs)


#: command-line name -> class (joins the benchmark runner's registry)
METHODS = {"detect-gcn": DetectionGCN, "detect-erase": DetectionERASE}
