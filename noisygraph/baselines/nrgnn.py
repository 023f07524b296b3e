r"""A structure-aware baseline on NRGNN's two core ideas, after Dai et al., "NRGNN: Learning a
Label Noise-Resistant Graph Neural Network on Sparsely and Noisily Labeled Graphs" (KDD 2021,
https://arxiv.org/abs/2106.04714): link unlabelled nodes to similar labelled ones, so that
labels (and their errors) meet more evidence, and train on the confident pseudo-labels of
unlabelled nodes given by a first network on that augmented graph."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce

from noisygraph._validation import check_int, check_real
from noisygraph.baselines.base import Baseline, Callback
from noisygraph.baselines.gcn import GCNResult, gcn_adjacency
from noisygraph.sparse import as_adjacency

#: rows of the similarity matrix computed at once (bounds the memory to ``CHUNK x n_labelled``)
CHUNK = 4096


def similar_labelled_edges(x: Tensor, labelled: Tensor, unlabelled: Tensor, *,
                           candidates: int = 10, min_similarity: float = 0.1
                           ) -> tuple[Tensor, Tensor]:
    r"""Edges from each unlabelled node to its ``candidates`` most similar labelled nodes by
    the cosine of the rows of ``x``, kept where the cosine is at least ``min_similarity``.

    Returns:
        (torch.Tensor, torch.Tensor): ``edge_index`` ``[2, E]`` (both directions) and the
        cosines ``[E]`` as edge weights.
    """
    x = F.normalize(x.float(), dim=1)
    anchors = x[labelled]
    k = min(candidates, labelled.numel())
    sources, targets, weights = [], [], []
    for start in range(0, unlabelled.numel(), CHUNK):
        rows = unlabelled[start:start + CHUNK]
        sim, idx = (x[rows] @ anchors.T).topk(k, dim=1)
        keep = sim >= min_similarity
        sources.append(rows[:, None].expand(-1, k)[keep])
        targets.append(labelled[idx[keep]])
        weights.append(sim[keep])
    src, dst, weight = torch.cat(sources), torch.cat(targets), torch.cat(weights)
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]), weight.repeat(2)


def propagated_features(data: Data, *, hops: int) -> Tensor:
    r""":math:`\hat{\mathbf{A}}^{h}\mathbf{X}` with GCN's propagation matrix :math:`\hat{\mathbf{A}}`
    (:func:`~noisygraph.baselines.gcn.gcn_adjacency` of ``data.edge_index``, unit weights) and
    :math:`h` = ``hops`` (``0``: the features themselves)."""
    x = data.x.float()
    if hops == 0:
        return x
    adj = gcn_adjacency(as_adjacency(data.edge_index, num_nodes=data.num_nodes)).to(x.device)
    for _ in range(hops):
        x = adj @ x
    return x


class NRGNNLite(Baseline):
    r"""NRGNN's core ideas on the shared GCN (a simplified NRGNN, not its full model):

    1. *Augmented graph:* each unlabelled node is linked to its ``candidates`` most similar
       labelled nodes, weight = the cosine of their rows of
       :math:`\hat{\mathbf{A}}^{h}\mathbf{X}` (:func:`propagated_features`, :math:`h` =
       ``hops``), links below ``min_similarity`` dropped (:func:`similar_labelled_edges`);
       the original edges keep weight 1. NRGNN instead weights its candidate links with an
       edge predictor (the inner product of a 2-layer GCN encoding of the nodes, trained
       jointly with the classifier to reconstruct the graph) and prunes them below
       ``t_small``; we keep its encoder's two propagations but neither its weights nor its
       training, and drop NRGNN's edge-reconstruction loss and its links between unlabelled
       and pseudo-labelled nodes.
    2. *Pseudo-labels:* a first GCN, trained with cross-entropy on the noisy labels over the
       augmented graph (selected under the protocol), labels the unlabelled nodes (neither
       training nor validation nodes, so selection reads only its own labels) whose
       confidence :math:`\max_c p_c` is at least ``confidence``.
    3. A second GCN on the augmented graph minimises
       :math:`\frac{\sum_{i\in\mathcal L}\mathrm{CE}_i + \beta\sum_{j\in\mathcal P}\mathrm{CE}_j}
       {|\mathcal L| + \beta|\mathcal P|}` over the labelled nodes :math:`\mathcal L` (noisy
       labels) and the pseudo-labelled ones :math:`\mathcal P`.

    After fit, :attr:`num_added_edges` and :attr:`num_pseudo_labels` say what was added.

    ``candidates`` and ``hops`` were chosen on synthetic noisy CSBM graphs only (three
    families, 16 graphs, none a test graph; ``docs/baselines.md``): with NRGNN's ``n_p = 50``
    links of raw-feature cosine, every labelled node became a hub of hundreds of weak links
    and the GCN collapsed (Cora 28-57 %); ten links on :math:`\hat{\mathbf{A}}^2\mathbf{X}`
    gave the best mean accuracy there.

    Args:
        candidates (int, optional): labelled nodes linked to each unlabelled node. (default:
            ``10``, chosen on CSBM graphs among 1, 2, 5, 10 and NRGNN's ``n_p = 50``)
        hops (int, optional): propagations :math:`h` of the features the cosine reads;
            ``0``: the raw features. (default: ``2``, the depth of NRGNN's GCN edge encoder)
        min_similarity (float, optional): smallest kept edge weight, in ``[-1, 1]``.
            (default: ``0.1``, NRGNN's ``t_small``, there applied to the predicted weights)
        confidence (float, optional): pseudo-label threshold in ``[0, 1]``. (default:
            ``0.8``, NRGNN's ``p_u``)
        pseudo_weight (float, optional): :math:`\beta`, ``>= 0``. (default: ``1.0``, NRGNN's
            ``beta``)
        **options: :class:`~noisygraph.baselines.Baseline`'s.
    """

    #: 2: ten links per unlabelled node on the cosine of :math:`\hat{\mathbf{A}}^2\mathbf{X}`
    #: (revision 1: fifty on the raw features)
    revision = 2

    def __init__(self, *, candidates: int = 10, hops: int = 2, min_similarity: float = 0.1,
                 confidence: float = 0.8, pseudo_weight: float = 1.0, **options):
        super().__init__(**options)
        self.candidates = check_int("candidates", candidates, low=1)
        self.hops = check_int("hops", hops, low=0)
        self.min_similarity = check_real("min_similarity", min_similarity, low=-1.0, high=1.0)
        self.confidence = check_real("confidence", confidence, low=0.0, high=1.0)
        self.pseudo_weight = check_real("pseudo_weight", pseudo_weight, low=0.0)
        self.num_added_edges: Optional[int] = None
        self.num_pseudo_labels: Optional[int] = None

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        labelled = data.train_mask.nonzero().flatten()
        unlabelled = (~data.train_mask).nonzero().flatten()
        added, added_weight = similar_labelled_edges(
            propagated_features(data, hops=self.hops), labelled, unlabelled,
            candidates=self.candidates,
            min_similarity=self.min_similarity)
        ones = torch.ones(data.edge_index.size(1), device=added.device)
        # an added pair that is already an edge keeps the edge's weight 1
        edge_index, edge_weight = coalesce(torch.cat([data.edge_index, added], dim=1),
                                           torch.cat([ones, added_weight]),
                                           num_nodes=data.num_nodes, reduce="max")
        self.num_added_edges = edge_index.size(1) - coalesce(
            data.edge_index, num_nodes=data.num_nodes).size(1)
        graph = Data(x=data.x, edge_index=edge_index,
                     train_mask=data.train_mask, val_mask=data.val_mask,
                     num_nodes=data.num_nodes)
        first = self.fit_gcn(graph, y_noisy, val_target, num_classes, edge_weight=edge_weight)
        confidence, pseudo = first.probs.max(dim=1)
        chosen = (confidence >= self.confidence) & ~data.train_mask & ~data.val_mask
        self.num_pseudo_labels = int(chosen.sum())
        labels = torch.where(data.train_mask, y_noisy, pseudo)
        nodes = data.train_mask | chosen
        weight = torch.where(data.train_mask[nodes], 1.0, self.pseudo_weight)
        return self.fit_gcn(graph, y_noisy, val_target, num_classes, callback=callback,
                            train_nodes=nodes, train_labels=labels,
                            sample_weight=weight, edge_weight=edge_weight)
