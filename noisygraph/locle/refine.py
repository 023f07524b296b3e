"""Label refinement: a rewired graph linking nodes to similar labelled nodes, and the
replacement of an annotator label by the GNN's when the annotator is the less confident."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import coalesce

from noisygraph._validation import check_features, check_fraction, check_int
from noisygraph.locle.selection import percentile_rank


def rewire(edge_index: Tensor, features: Tensor, labelled: Tensor, num_neighbours: int = 3,
           drop_fraction: float = 0.1) -> tuple[Tensor, Tensor]:
    r"""Rewired, weighted graph for refinement.

    Every edge :math:`(u, v)` gets the weight :math:`\max(0, \cos(\mathbf{f}_u, \mathbf{f}_v))`;
    the ``drop_fraction`` weakest edges are dropped; every node is linked (both directions)
    to its ``num_neighbours`` most similar labelled nodes, weighted by their similarity.
    (Locle learns the edge weights; here they are the feature cosine similarities.)

    Args:
        edge_index (torch.Tensor): ``[2, E]``.
        features (torch.Tensor): ``[N, F]`` node features (text embeddings).
        labelled (torch.Tensor): ids of the labelled nodes.
        num_neighbours (int): similar labelled nodes linked to each node. (default: ``3``)
        drop_fraction (float): fraction of the weakest original edges dropped. (default: ``0.1``)

    Returns:
        (edge_index ``[2, E']``, edge_weight ``[E']``), coalesced, symmetric.
    """
    check_fraction("drop_fraction", drop_fraction, high_open=True)
    check_int("num_neighbours", num_neighbours, low=0)
    features = check_features("features", features)
    n = features.size(0)
    labelled = torch.as_tensor(labelled).flatten()
    if labelled.is_floating_point() or labelled.dtype == torch.bool:
        raise TypeError(f"labelled must hold integer node ids, got {labelled.dtype}")
    if labelled.numel() and (int(labelled.min()) < 0 or int(labelled.max()) >= n):
        raise ValueError(f"labelled must be node ids in [0, {n})")
    unit = F.normalize(features.float(), dim=1)
    weight = (unit[edge_index[0]] * unit[edge_index[1]]).sum(1).clamp(min=0)
    if edge_index.size(1) and drop_fraction > 0:
        threshold = torch.quantile(weight, drop_fraction)
        keep = weight > threshold
        edge_index, weight = edge_index[:, keep], weight[keep]
    labelled = labelled.long()
    k = min(num_neighbours, labelled.numel())
    if k > 0:
        sims = unit @ unit[labelled].T
        sims[labelled, torch.arange(labelled.numel())] = -float("inf")  # no self-links
        top, index = sims.topk(k, dim=1)
        source = labelled[index].flatten()
        target = torch.arange(n).repeat_interleave(k)
        valid = torch.isfinite(top.flatten())
        new = torch.stack([source[valid], target[valid]])
        new_weight = top.flatten()[valid].clamp(min=0)
        edge_index = torch.cat([edge_index, new, new.flip(0)], dim=1)
        weight = torch.cat([weight, new_weight, new_weight])
    return coalesce(edge_index, weight, num_nodes=n, reduce="max")


def replace_labels(labels: Tensor, confidence: Tensor, model_probs: Tensor) -> tuple[Tensor, Tensor]:
    r"""Replaces an annotator label by the model's prediction where they disagree and the
    annotator is the less confident one, rank-wise: the percentile of the annotator's
    confidence among all annotations is below the percentile of the model's confidence
    among the model's confidences on the same nodes (percentiles make the two confidence
    scales comparable).

    Args:
        labels (torch.Tensor): annotator labels ``[L]``.
        confidence (torch.Tensor): annotator confidences ``[L]``.
        model_probs (torch.Tensor): model predictions for the same nodes ``[L, C]``, made
            by models that did not train on them (cross-fitted).

    Returns:
        (refined labels ``[L]``, boolean mask of the replaced ones).
    """
    if not (isinstance(model_probs, Tensor) and model_probs.dim() == 2
            and labels.dim() == 1 and confidence.shape == labels.shape
            and model_probs.size(0) == labels.numel()):
        raise ValueError("labels [L], confidence [L] and model_probs [L, C] must describe the "
                         "same nodes")
    model_conf, model_label = model_probs.max(dim=1)
    replaced = (model_label != labels) & (percentile_rank(confidence) < percentile_rank(model_conf))
    return torch.where(replaced, model_label, labels), replaced
