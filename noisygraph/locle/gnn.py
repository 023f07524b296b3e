"""GCN training on annotator labels, with model selection on held-out annotations only."""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCN
from torch_geometric.utils import add_remaining_self_loops

from noisygraph.sparse import Adjacency


@dataclass
class TrainedGCN:
    """Outcome of :func:`train_gcn`.

    Attributes:
        probs (torch.Tensor): softmax predictions of every node ``[N, C]``.
        val_accuracy (float): accuracy on the held-out annotated nodes (agreement with the
            annotator, not with ground truth); ``nan`` without a validation split.
        epoch (int): the selected epoch.
    """

    probs: Tensor
    val_accuracy: float
    epoch: int


def split_holdout(nodes: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Random (seeded) split of annotated ``nodes`` into training and held-out parts."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    generator = torch.Generator().manual_seed(seed)
    order = nodes[torch.randperm(nodes.numel(), generator=generator)]
    num_val = int(round(val_fraction * nodes.numel()))
    return order[num_val:], order[:num_val]


def gcn_adjacency(edge_index: Tensor, num_nodes: int,
                  edge_weight: Optional[Tensor] = None) -> Tensor:
    r"""GCN's propagation matrix
    :math:`\hat{\mathbf{A}} = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A} + \mathbf{I})
    \tilde{\mathbf{D}}^{-1/2}` as a ``torch.sparse_csr`` tensor (rows are targets), built once
    per training instead of once per forward pass."""
    edge_index, edge_weight = add_remaining_self_loops(edge_index, edge_weight, fill_value=1.0,
                                                       num_nodes=num_nodes)
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1))
    adj = Adjacency.from_edge_index(edge_index, edge_weight.float(), num_nodes).normalize("sym")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(adj.rowptr, adj.col, adj.value.float(),
                                       size=(num_nodes, num_nodes), check_invariants=True)


def train_gcn(x: Tensor, edge_index: Tensor, train_nodes: Tensor, train_labels: Tensor,
              num_classes: int, val_nodes: Optional[Tensor] = None,
              val_labels: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None,
              sample_weight: Optional[Tensor] = None, hidden: int = 64, dropout: float = 0.5,
              lr: float = 0.01, weight_decay: float = 5e-4, epochs: int = 200,
              patience: int = 50, seed: int = 0) -> TrainedGCN:
    r"""Trains a 2-layer GCN (``torch_geometric.nn.GCN``) with cross-entropy on
    ``train_labels`` and returns the model of the epoch with the best accuracy on the
    held-out annotations ``val_labels`` (ties: lower held-out loss); without held-out nodes,
    the last epoch.

    Args:
        x (torch.Tensor): node features ``[N, F]``.
        edge_index (torch.Tensor): ``[2, E]``.
        train_nodes (torch.Tensor): node ids with a training label.
        train_labels (torch.Tensor): their labels.
        num_classes (int): :math:`C`.
        val_nodes (torch.Tensor, optional): held-out annotated nodes.
        val_labels (torch.Tensor, optional): their (annotator) labels.
        edge_weight (torch.Tensor, optional): ``[E]`` weights.
        sample_weight (torch.Tensor, optional): per-training-node loss weights.
        hidden (int): hidden width. (default: ``64``)
        dropout (float): (default: ``0.5``)
        lr (float): Adam learning rate. (default: ``0.01``)
        weight_decay (float): (default: ``5e-4``)
        epochs (int): at most. (default: ``200``)
        patience (int): epochs without held-out improvement before stopping. (default: ``50``)
        seed (int): initialisation and dropout seed. (default: ``0``)
    """
    if train_nodes.numel() == 0:
        raise ValueError("train_nodes is empty: nothing to train on")
    if train_nodes.numel() != train_labels.numel():
        raise ValueError("train_nodes and train_labels differ in length")
    has_val = val_nodes is not None and val_nodes.numel() > 0
    adj = gcn_adjacency(edge_index, x.size(0), edge_weight)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GCN(x.size(1), hidden, num_layers=2, out_channels=num_classes, dropout=dropout,
                    normalize=False)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        weights = None if sample_weight is None else sample_weight.float()
        best = (-1.0, float("inf"))
        best_state, best_epoch, since = None, 0, 0
        for epoch in range(epochs):
            model.train()
            optimizer.zero_grad()
            out = model(x, adj)
            loss = F.cross_entropy(out[train_nodes], train_labels, reduction="none")
            loss = (loss * weights).sum() / weights.sum() if weights is not None else loss.mean()
            loss.backward()
            optimizer.step()
            if not has_val:
                continue
            model.eval()
            with torch.no_grad():
                out = model(x, adj)[val_nodes]
                key = (float((out.argmax(1) == val_labels).float().mean()),
                       float(F.cross_entropy(out, val_labels)))
            if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
                best, best_state, best_epoch, since = key, copy.deepcopy(model.state_dict()), epoch, 0
            else:
                since += 1
                if since >= patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            probs = torch.softmax(model(x, adj), dim=1)
    return TrainedGCN(probs, best[0] if has_val else float("nan"),
                      best_epoch if has_val else epochs - 1)
