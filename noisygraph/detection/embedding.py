r"""ERASE-embedding class consistency: the fourth, optional evidence of
:func:`~noisygraph.detection.detect_label_issues`.

ERASE (Chen et al., "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise
Tolerance", CIKM 2024, https://arxiv.org/abs/2312.08852) trains its encoder with the maximal
coding rate reduction loss on *denoised* pseudo-labels (the training labels pre-corrected over
the graph, then mixed with the embeddings' own class prototypes and propagated), so that the
classes occupy near-orthogonal subspaces. A node whose given label is wrong tends to sit in
its true class's subspace; its embedding then disagrees with the prototype of its given
class. The evidence is, for a training node :math:`i` of fold :math:`k`,

.. math::
    \mathbf{m}^{(k)}_j = \frac{\sum_{l \notin k,\ \tilde y_l = j} \bar{\mathbf{z}}_l}
        {\big\|\sum_{l \notin k,\ \tilde y_l = j} \bar{\mathbf{z}}_l\big\|}, \qquad
    e_{i,j} = \mathrm{softmax}_j\big(\bar{\mathbf{z}}_i^\top \mathbf{m}^{(k)}_j / \tau\big),

with :math:`\bar{\mathbf{z}} = \mathbf{z} / \|\mathbf{z}\|` and the prototypes
:math:`\mathbf{m}^{(k)}_j` built from the *other* folds' training nodes and their given labels
only (a class none of them carries gets the zero vector: similarity 0). :math:`\tau = 0.1` was
fixed before any measurement (a class-consistent node has cosine about 0.7 more with its own
prototype than with the others, odds :math:`e^{7}`, as sharp as a confident classifier).

**What is out of sample.** The prototypes never read node :math:`i`'s label; the embeddings
may have: :func:`erase_embeddings` trains one ERASE encoder on all the given training labels
(one fit, not one per fold; ERASE trains on its pseudo-labels, not on the given labels
directly). Any ``[N, p]`` embeddings may be passed instead (e.g. those of a fitted
:class:`~noisygraph.erase.ERASETrainer`, :meth:`~noisygraph.erase.ERASETrainer.embed_graph`).
"""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_features, check_int, check_real
from noisygraph.detection.oos import training_nodes_and_labels

__all__ = ["embedding_evidence", "erase_embeddings"]


def embedding_evidence(embeddings: Tensor, nodes: Tensor, labels: Tensor, folds: Tensor,
                       num_classes: int, *, temperature: float = 0.1) -> Tensor:
    r"""``[n, C]``: each training node's class-consistency distribution :math:`\mathbf{e}_i`
    (see the module docstring).

    Args:
        embeddings (torch.Tensor): ``[N, p]`` embeddings of every node, finite.
        nodes (torch.Tensor): ``[n]`` training node ids.
        labels (torch.Tensor): ``[n]`` their given labels in ``[0, C)``.
        folds (torch.Tensor): ``[n]`` the fold of each training node.
        num_classes (int): :math:`C`.
        temperature (float, optional): :math:`\tau > 0`. (default: ``0.1``)
    """
    temperature = check_real("temperature", temperature, low=0.0, low_open=True)
    z = F.normalize(check_features("embeddings", embeddings).detach().cpu(), dim=1)
    out = torch.empty(nodes.numel(), num_classes)
    for k in torch.unique(folds).tolist():
        held = folds == k
        sums = torch.zeros(num_classes, z.size(1)).index_add_(0, labels[~held],
                                                              z[nodes[~held]])
        prototypes = F.normalize(sums, dim=1)  # a class no other-fold node carries: zero
        out[held] = torch.softmax(z[nodes[held]] @ prototypes.T / temperature, dim=1)
    return out


def erase_embeddings(data: Any, *, labels: Optional[Tensor] = None,
                     train_nodes: Optional[Tensor] = None, seed: int = 0, epochs: int = 400,
                     hidden_channels: int = 256, out_channels: int = 512, lr: float = 1e-3,
                     device=None, verbose: bool = False) -> Tensor:
    r"""``[N, out_channels]`` embeddings of every node by an ERASE encoder trained on the given
    training labels with no model selection: :class:`~noisygraph.erase.ERASETrainer` with
    ``select_epoch=False`` (all ``epochs`` run, the last one is kept), so that no validation,
    test or true label is read. The encoder's options are the paper's.

    Args:
        data (torch_geometric.data.Data): the graph, with ``x`` and ``edge_index``.
        labels (torch.Tensor, optional): ``[N]`` given labels. (default: ``data.y_noisy``,
            else ``data.y``)
        train_nodes (torch.Tensor, optional): mask or ids of the labelled nodes.
            (default: ``data.train_mask``)
        seed (int, optional): seeds the encoder's initialisation and dropout. (default: ``0``)
        epochs (int, optional): training epochs. (default: ``400``, the paper's maximum)
        hidden_channels (int, optional): hidden width per head. (default: ``256``)
        out_channels (int, optional): embedding width :math:`p`. (default: ``512``)
        lr (float, optional): Adam learning rate. (default: ``1e-3``)
        device (str or torch.device, optional): (default: the features' device)
        verbose (bool, optional): show a progress bar. (default: :obj:`False`)
    """
    from noisygraph.erase.trainer import ERASETrainer
    from noisygraph.nn.erase import ERASE
    num_nodes, nodes, given, num_classes = training_nodes_and_labels(data, labels, train_nodes)
    seed = check_int("seed", seed, low=0)
    hidden_channels = check_int("hidden_channels", hidden_channels, low=1)
    out_channels = check_int("out_channels", out_channels, low=1)
    verbose = check_bool("verbose", verbose)
    x = getattr(data, "x", None)
    if x is None:
        raise ValueError("data.x is required")
    # a graph that carries only what the trainer may read: the given training labels
    y = torch.zeros(num_nodes, dtype=torch.long)
    y[nodes] = given
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[nodes] = True
    graph = Data(x=x, edge_index=getattr(data, "edge_index", None), y=y.to(x.device),
                 train_mask=mask.to(x.device), num_nodes=num_nodes)
    graph.num_classes = num_classes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ERASE(check_features("data.x", x).size(1), hidden_channels=hidden_channels,
                      out_channels=out_channels)
        trainer = ERASETrainer(model, lr=lr, epochs=epochs, select_epoch=False, device=device,
                               seed=seed, verbose=verbose)
        trainer.fit(graph, y_noisy=graph.y)
    return trainer.embed_graph(graph).cpu()
