r"""Graph-aware label-issue detection: which labels of the training nodes look wrong.

Up to four pieces of evidence, each a class distribution of every training node :math:`i`
(the first three are out of sample: none of them ever reads :math:`i`'s own label):

* **model** :math:`\mathbf{p}_i`: the GCN of the fold that did not train on :math:`i`'s
  label (:func:`~noisygraph.detection.out_of_sample_predictions`), cleanlab's ``pred_probs``;
* **diffusion** :math:`\mathbf{d}_i`: the given labels of the *other* folds' training nodes
  diffused over the graph (personalised-PageRank steps
  :math:`\mathbf{Y}_{t+1} = (1-\alpha)\hat{\mathbf{A}}\mathbf{Y}_t + \alpha\mathbf{Y}_0`,
  :func:`noisygraph.ops.diffuse` over :math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}\mathbf{A}
  \mathbf{D}^{-1/2}`), row-normalised: what the labelled neighbourhood says;
* **neighbours** :math:`\mathbf{n}_i`: the mean of that fold model's predictions over
  :math:`i`'s neighbours (GraphCleaner's neighbourhood agreement of predictions, Li et al.,
  "GraphCleaner: Detecting Mislabelled Samples in Popular Graph Learning Benchmarks",
  ICML 2023, https://arxiv.org/abs/2306.00015); available when the predictions come from
  :func:`out_of_sample_predictions` (not from a bare ``pred_probs`` tensor);
* **embedding** :math:`\mathbf{e}_i` (optional, with ``embeddings``): ERASE-embedding class
  consistency, the softmax of the cosine of :math:`i`'s embedding with the class prototypes
  of the other folds' training nodes (:mod:`noisygraph.detection.embedding`; the embeddings
  themselves may have been trained with :math:`i`'s label, as :func:`erase_embeddings`'s
  are).

**Ranking (a fixed rule, chosen a priori, never fitted on any label).** A product of
experts with equal weights: every distribution is first mixed with the uniform one,
:math:`\tilde{\mathbf{q}} = (1-\epsilon)\mathbf{q} + \epsilon/C` (:math:`\epsilon = 0.05`,
so no expert can veto a class alone), then

.. math::
    \mathbf{c}_i \propto \prod_e \tilde{\mathbf{q}}^{(e)}_i{}^{w_e}, \qquad
    s_i = c_{i,\tilde{y}_i} \in [0, 1],

with :math:`w_e = 1` for each evidence present (``weights`` changes them;
``weights="fitted"`` uses the fitted exponents below for the ranking too). :math:`s_i` is
the node's *label quality score* (cleanlab's self-confidence of the combined distribution;
1 = the label looks right).

**How many issues (estimated from the data, never from the true noise count).** The
confident joint of Northcutt et al., "Confident Learning: Estimating Uncertainty in Dataset
Labels", JAIR 2021 (https://arxiv.org/abs/1911.00068), exactly as cleanlab computes it
(:func:`confident_joint`): class thresholds :math:`t_j` = mean of :math:`q_{i,j}` over the
nodes labelled :math:`j`; node :math:`i` counts towards :math:`(\tilde{y}_i, y^*_i)` with
:math:`y^*_i = \arg\max_{j: q_{i,j} \ge t_j} q_{i,j}`; calibrated to the label counts. In
every given class :math:`j` the :math:`\sum_{k\ne j} \hat{Q}_{jk}` nodes of lowest score
:math:`s_i` are flagged (cleanlab's ``prune_by_class``). A confident joint needs a
*calibrated* :math:`\mathbf{q}`, and the equal-weight product is not (its exponents sum to
3 or 4: too sharp, so it over-counts). So by default (``count="fitted"``) :math:`\mathbf{q}` is
the product of experts with exponents :math:`w_e = e^{\theta_e}` fitted
(:func:`fit_weights`) to maximise the mean log-likelihood of the *given* labels,
:math:`\frac1n\sum_i \log q_{i,\tilde y_i}` — every evidence row is out of sample for its
node (the embedding evidence's in its prototypes), so this is an out-of-fold likelihood,
the criterion that calibrates cleanlab's own ``pred_probs`` (a model fitted to the noisy
labels); no true label enters it. The
exponents are fitted on all the training nodes at once, so a node's own label reaches its
count only through them. ``count="model"`` counts from the GCN's probabilities alone
(cleanlab's count on the same ``pred_probs``), ``count="combined"`` from :math:`\mathbf{c}`.

Every fixed number here (the equal weights, :math:`\epsilon = 0.05`, the diffusion's
:math:`\alpha = 0.1` and 10 steps, APPNP's defaults, the 5 folds, cleanlab's, the
embedding evidence's :math:`\tau = 0.1`) was set before any measurement, not tuned on
Cora or DBLP. The choice of the ``count`` default
(``"fitted"``) was made looking at detection metrics on seed 0 of the benchmark (see
``BENCHMARKS.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import torch
from torch import Tensor

from noisygraph._validation import (check_choice, check_features, check_int,
                                    check_probabilities, check_real)
from noisygraph.baselines.confident import confident_joint as baselines_confident_joint
from noisygraph.baselines.confident import lowest_per_class
from noisygraph.detection.embedding import embedding_evidence
from noisygraph.detection.oos import (OutOfSamplePredictions, out_of_sample_predictions,
                                      random_folds, training_nodes_and_labels)
from noisygraph.ops.diffusion import diffuse
from noisygraph.sparse import as_adjacency

#: the orders :func:`find_label_issues` can rank its flagged nodes by
RANKINGS = ("self_confidence", "normalized_margin")
#: the distributions the number of issues can be counted from (``count``)
COUNTS = ("model", "combined", "fitted")
#: the evidences, in the order of ``weights``
EVIDENCE = ("model", "diffusion", "neighbours", "embedding")
UNIFORM_MIX = 0.05


@dataclass
class LabelIssues:
    """Outcome of :func:`detect_label_issues`.

    Attributes:
        num_nodes (int): :math:`N`.
        nodes (torch.Tensor): ``[n]`` training node ids, ascending.
        labels (torch.Tensor): ``[n]`` their given labels.
        scores (torch.Tensor): ``[n]`` label quality scores in ``[0, 1]`` (1 = looks right).
        is_issue (torch.Tensor): ``[n]`` bool, the flagged nodes.
        combined (torch.Tensor): ``[n, C]`` the combined distribution :math:`\\mathbf{c}`.
        evidence (dict): ``name -> [n, C]`` each evidence used (of :data:`EVIDENCE`).
        confident_joint (torch.Tensor): ``[C, C]`` calibrated estimate of the counts of
            (given label, true label) among the training nodes (of the ``count``
            distribution).
        weights (dict): ``name -> w_e`` the exponents of the ranking.
    """

    num_nodes: int
    nodes: Tensor
    labels: Tensor
    scores: Tensor
    is_issue: Tensor
    combined: Tensor
    evidence: dict[str, Tensor] = field(default_factory=dict)
    confident_joint: Optional[Tensor] = None
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def mask(self) -> Tensor:
        """``[N]`` bool: ``True`` on the flagged nodes (``False`` off the training nodes)."""
        out = torch.zeros(self.num_nodes, dtype=torch.bool)
        out[self.nodes[self.is_issue]] = True
        return out

    @property
    def num_issues(self) -> int:
        return int(self.is_issue.sum())

    @property
    def estimated_noise_rate(self) -> float:
        """Fraction of the training nodes flagged."""
        return self.num_issues / self.nodes.numel()

    @property
    def predicted_labels(self) -> Tensor:
        """``[n]`` the most likely class of each training node under :math:`\\mathbf{c}`."""
        return self.combined.argmax(dim=1)

    def ranked_indices(self, by: str = "self_confidence") -> Tensor:
        """Node ids of the flagged nodes, most likely wrong first (``by``: one of
        :data:`RANKINGS`)."""
        by = check_choice("by", by, RANKINGS)
        order = torch.argsort(_ranking_key(self.combined, self.labels, by), stable=True)
        return self.nodes[order[self.is_issue[order]]]

    def to_dict(self) -> dict[str, Any]:
        return {"num_nodes": self.num_nodes, "nodes": self.nodes.tolist(),
                "labels": self.labels.tolist(), "scores": self.scores.tolist(),
                "is_issue": self.is_issue.tolist(), "num_issues": self.num_issues,
                "estimated_noise_rate": self.estimated_noise_rate,
                "predicted_labels": self.predicted_labels.tolist(),
                "evidence": sorted(self.evidence), "weights": dict(self.weights),
                "confident_joint": None if self.confident_joint is None
                else self.confident_joint.tolist()}


def _ranking_key(combined: Tensor, labels: Tensor, by: str) -> Tensor:
    """Ascending key: low = most likely mislabelled."""
    own = combined.gather(1, labels.unsqueeze(1)).squeeze(1)
    if by == "self_confidence":
        return own
    others = combined.scatter(1, labels.unsqueeze(1), -1.0).max(dim=1).values
    return own - others


def confident_joint(probs: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    r"""Calibrated confident joint :math:`\hat{Q}` ``[C, C]`` (rows: given label, columns:
    estimated true label) of Northcutt et al., as ``cleanlab.count.compute_confident_joint``
    (``calibrate=True``) defines it: class thresholds :math:`t_j - 10^{-6}`, the arg-max
    among the classes that reach their threshold, diagonal at least 1; each row scaled to
    the number of nodes with that given label, the whole to :math:`n`, then rounded keeping
    each row's total (largest remainders). Returned as float64 integers: the one
    implementation, :func:`noisygraph.baselines.confident.confident_joint`, in this module's
    argument order."""
    return baselines_confident_joint(labels, probs, num_classes).double()


def fit_weights(evidence: Sequence[Tensor], labels: Tensor) -> Tensor:
    r"""``[E]`` exponents :math:`w_e \ge 0` of the product of experts that maximise the mean
    log-likelihood of the *given* labels, :math:`\frac1n \sum_i \log c_{i,\tilde y_i}`
    (every evidence row is out of sample for its node, so this is an out-of-fold
    likelihood; no true label is involved). :math:`w_e = e^{\theta_e}`, L-BFGS from
    :math:`w = 1`. ``evidence``: the uniform-mixed ``[n, C]`` log-distributions."""
    logs = torch.stack([e.double() for e in evidence])
    theta = torch.zeros(logs.size(0), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([theta], max_iter=100, line_search_fn="strong_wolfe")
    index = labels.unsqueeze(1)

    def closure():
        optimizer.zero_grad()
        log_c = torch.log_softmax((theta.exp().view(-1, 1, 1) * logs).sum(dim=0), dim=1)
        loss = -log_c.gather(1, index).mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    return theta.detach().exp()


def flag_by_class(scores: Tensor, labels: Tensor, joint: Tensor) -> Tensor:
    """``[n]`` bool: in each given class :math:`j`, the ``round(off-diagonal mass of row j)``
    nodes of lowest score (cleanlab's ``prune_by_class``)."""
    off_diagonal = joint.sum(dim=1) - joint.diagonal()
    counts = torch.tensor([round(float(mass)) for mass in off_diagonal])
    return lowest_per_class(scores, labels, counts)


def diffusion_evidence(data: Any, nodes: Tensor, labels: Tensor, folds: Tensor,
                       num_classes: int, *, alpha: float = 0.1, steps: int = 10) -> Tensor:
    r"""``[n, C]``: for the nodes of fold :math:`k`, the given labels of the other folds'
    training nodes diffused over the graph (see the module docstring), row-normalised
    (uniform where no labelled node reaches)."""
    num_nodes = int(data.num_nodes)
    adj = as_adjacency(data, num_nodes=num_nodes).normalize("sym")
    out = torch.empty(nodes.numel(), num_classes)
    for k in torch.unique(folds).tolist():
        held = folds == k
        y0 = torch.zeros(num_nodes, num_classes)
        y0[nodes[~held], labels[~held]] = 1.0
        out[held] = diffuse(adj, y0, steps, alpha).cpu()[nodes[held]]
    mass = out.sum(dim=1, keepdim=True)
    return torch.where(mass > 0, out / mass.clamp_min(1e-30),
                       torch.full_like(out, 1.0 / num_classes))


def _product(logs: Sequence[Tensor], exponents: Tensor) -> Tensor:
    """``[n, C]`` the normalised product of the experts ``exp(logs)`` with ``exponents``."""
    return torch.softmax(sum(float(w) * q for w, q in zip(exponents, logs)), dim=1)


def _check_weights(weights: Union[str, Sequence[float]]) -> Union[str, tuple[float, ...]]:
    if isinstance(weights, str):
        return check_choice("weights", weights, ("fitted",))
    if not isinstance(weights, (tuple, list)) or len(weights) != len(EVIDENCE):
        raise TypeError(f"weights must be 'fitted' or a tuple of {len(EVIDENCE)} numbers "
                        f"{EVIDENCE}, got {weights!r}")
    out = tuple(check_real(f"weights[{i}]", w, low=0.0) for i, w in enumerate(weights))
    if not any(out):
        raise ValueError("weights must not all be 0")
    return out


def detect_label_issues(data: Any, *, pred_probs: Union[Tensor, OutOfSamplePredictions,
                                                        None] = None,
                        labels: Optional[Tensor] = None, train_nodes: Optional[Tensor] = None,
                        weights: Union[str, Sequence[float]] = (1.0, 1.0, 1.0, 1.0),
                        count: str = "fitted", folds: int = 5,
                        seed: int = 0, diffusion_alpha: float = 0.1,
                        diffusion_steps: int = 10,
                        embeddings: Optional[Tensor] = None,
                        embedding_temperature: float = 0.1,
                        trainer: Optional[dict[str, Any]] = None) -> LabelIssues:
    r"""Scores every training node's given label and flags the likely wrong ones (see the
    module docstring for the evidence, the fixed combination rule and the estimated count).

    Args:
        data (torch_geometric.data.Data): the graph (``edge_index``; ``x`` when
            ``pred_probs`` is not given).
        pred_probs (torch.Tensor or OutOfSamplePredictions, optional): out-of-sample
            probabilities of the training nodes, ``[n_train, C]`` in ascending node order
            (then the ``"neighbours"`` evidence is left out), or the result of
            :func:`out_of_sample_predictions`. (default: :obj:`None`: computed here by
            ``folds``-fold cross-validation with the shared GCN)
        labels (torch.Tensor, optional): ``[N]`` given labels. (default: ``data.y_noisy``,
            else ``data.y``)
        train_nodes (torch.Tensor, optional): mask or ids of the labelled nodes.
            (default: ``data.train_mask``)
        weights (tuple of float or str, optional): exponents :math:`w_e` of the
            ``("model", "diffusion", "neighbours", "embedding")`` evidences in the ranking,
            each :math:`\ge 0` (an evidence that is not available is left out whatever its
            weight), or ``"fitted"`` (:func:`fit_weights`). (default: ``(1, 1, 1, 1)``)
        count (str, optional): the distribution whose confident joint gives the number of
            issues per class: ``"fitted"`` (the product of experts with fitted exponents),
            ``"model"`` (the GCN's probabilities, cleanlab's count) or ``"combined"`` (the
            ranking's :math:`\mathbf{c}`). (default: ``"fitted"``)
        folds (int, optional): :math:`K` of the cross-validation and of the diffusion.
            (default: ``5``)
        seed (int, optional): seeds the folds and the models. (default: ``0``)
        diffusion_alpha (float, optional): restart probability :math:`\alpha \in (0, 1]`.
            (default: ``0.1``, APPNP's)
        diffusion_steps (int, optional): diffusion steps. (default: ``10``, APPNP's)
        embeddings (torch.Tensor, optional): ``[N, p]`` node embeddings for the
            ``"embedding"`` evidence, e.g. :func:`~noisygraph.detection.erase_embeddings`.
            (default: :obj:`None`: no embedding evidence)
        embedding_temperature (float, optional): :math:`\tau > 0` of the embedding
            evidence. (default: ``0.1``)
        trainer (dict, optional): :class:`~noisygraph.baselines.GCNTrainer` options.
    """
    num_nodes, nodes, given, num_classes = training_nodes_and_labels(data, labels, train_nodes)
    weights = _check_weights(weights)
    count = check_choice("count", count, COUNTS)
    fixed = dict(zip(EVIDENCE, weights)) if isinstance(weights, tuple) else None
    folds = check_int("folds", folds, low=2, high=nodes.numel())
    seed = check_int("seed", seed, low=0)
    alpha = check_real("diffusion_alpha", diffusion_alpha, low=0.0, high=1.0, low_open=True)
    steps = check_int("diffusion_steps", diffusion_steps, low=1, high=10_000)
    temperature = check_real("embedding_temperature", embedding_temperature, low=0.0,
                             low_open=True)
    if embeddings is not None:
        embeddings = check_features("embeddings", embeddings, num_rows=num_nodes)
    if pred_probs is None:
        pred_probs = out_of_sample_predictions(data, labels=labels, train_nodes=train_nodes,
                                               folds=folds, seed=seed, trainer=trainer)
    computed = isinstance(pred_probs, OutOfSamplePredictions)
    if computed and (not torch.equal(pred_probs.nodes, nodes)
                     or not torch.equal(pred_probs.labels, given)):
        raise ValueError("pred_probs were computed for other training nodes or labels")
    # more columns than the labels' classes: classes no training node carries
    evidence: dict[str, Tensor] = {"model": check_probabilities(
        "pred_probs", pred_probs.probs if computed else pred_probs, num_classes, atol=1e-3,
        num_rows=nodes.numel(), min_columns=True).float()}
    num_classes = evidence["model"].size(1)
    if computed:
        fold_of = pred_probs.folds
        if fixed is None or fixed["neighbours"] > 0:
            evidence["neighbours"] = pred_probs.neighbour_probs.float()
    else:
        fold_of = random_folds(nodes.numel(), folds, seed)
    if fixed is None or fixed["diffusion"] > 0:
        evidence["diffusion"] = diffusion_evidence(data, nodes, given, fold_of, num_classes,
                                                   alpha=alpha, steps=steps)
    if embeddings is not None and (fixed is None or fixed["embedding"] > 0):
        evidence["embedding"] = embedding_evidence(embeddings, nodes, given, fold_of,
                                                   num_classes, temperature=temperature)
    names = [name for name in EVIDENCE if name in evidence]
    if fixed is not None and not any(fixed[name] for name in names):
        raise ValueError(f"weights {weights} weigh only evidence that is not available here "
                         "(\"neighbours\" needs pred_probs from out_of_sample_predictions, "
                         "\"embedding\" needs embeddings)")
    logs = [torch.log((1 - UNIFORM_MIX) * evidence[name] + UNIFORM_MIX / num_classes)
            for name in names]
    fitted = fit_weights(logs, given) if fixed is None or count == "fitted" else None
    exponents = fitted if fixed is None else torch.tensor(
        [fixed[name] for name in names], dtype=torch.float64)
    combined = _product(logs, exponents)
    scores = combined.gather(1, given.unsqueeze(1)).squeeze(1).clamp(0.0, 1.0)
    counted = {"model": evidence["model"], "combined": combined}.get(count)
    joint = confident_joint(_product(logs, fitted) if counted is None else counted, given,
                            num_classes)
    is_issue = flag_by_class(scores, given, joint)
    return LabelIssues(num_nodes, nodes, given, scores, is_issue, combined, evidence,
                       joint.float(), {name: float(w) for name, w in zip(names, exponents)})


def find_label_issues(data: Any, *, pred_probs: Union[Tensor, OutOfSamplePredictions,
                                                      None] = None,
                      return_indices_ranked_by: Optional[str] = None,
                      **options: Any) -> Tensor:
    r"""cleanlab-style entry point: the training nodes whose given label is likely wrong.

    Takes the arguments of :func:`detect_label_issues` (``labels``, ``train_nodes``,
    ``weights``, ``count``, ``folds``, ``seed``, ``diffusion_alpha``, ``diffusion_steps``,
    ``embeddings``, ``embedding_temperature``, ``trainer``).

    Args:
        data (torch_geometric.data.Data): the graph.
        pred_probs (torch.Tensor or OutOfSamplePredictions, optional): see
            :func:`detect_label_issues`. (default: :obj:`None`, computed)
        return_indices_ranked_by (str, optional): :obj:`None` returns a bool mask ``[N]``
            (``False`` off the training nodes); ``"self_confidence"`` or
            ``"normalized_margin"`` return the node ids of the flagged nodes, most likely
            wrong first. (default: :obj:`None`)
    """
    if return_indices_ranked_by is not None:
        check_choice("return_indices_ranked_by", return_indices_ranked_by, RANKINGS)
    result = detect_label_issues(data, pred_probs=pred_probs, **options)
    if return_indices_ranked_by is None:
        return result.mask
    return result.ranked_indices(return_indices_ranked_by)


def label_quality_scores(data: Any, *, pred_probs: Union[Tensor, OutOfSamplePredictions,
                                                         None] = None,
                         **options: Any) -> Tensor:
    r"""``[n_train]`` label quality scores in ``[0, 1]`` of the training nodes in ascending
    node order (1 = the label looks right): :math:`s_i` of the module docstring. Takes the
    arguments of :func:`detect_label_issues`."""
    return detect_label_issues(data, pred_probs=pred_probs, **options).scores

