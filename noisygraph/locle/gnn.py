"""GCN training on annotator labels, with model selection on held-out annotations only."""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.utils import add_remaining_self_loops

from noisygraph._validation import check_fraction
from noisygraph.sparse import Adjacency


@dataclass
class TrainedGCN:
    """Outcome of :func:`train_gcn`.

    Attributes:
        probs (torch.Tensor): softmax predictions of every node ``[N, C]``.
        val_accuracy (float): accuracy on the held-out annotated nodes (agreement with the
            annotator, not with ground truth); ``nan`` without a validation split.
        epoch (int): the selected epoch (the number of optimizer steps behind the returned
            weights).
    """

    probs: Tensor
    val_accuracy: float
    epoch: int


def split_holdout(nodes: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Random (seeded) split of annotated ``nodes`` into training and held-out parts
    (``round(val_fraction * len(nodes))`` held out)."""
    check_fraction("val_fraction", val_fraction, high_open=True)
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
    return _csr(adj.rowptr, adj.col, adj.value.float(), num_nodes)


def _csr(rowptr: Tensor, col: Tensor, value: Tensor, num_nodes: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(rowptr, col, value, size=(num_nodes, num_nodes),
                                       check_invariants=True)


def _transpose(adj: Tensor) -> Tensor:
    """The transpose of a CSR matrix, again in CSR (for the backward pass)."""
    rowptr, col, value = adj.crow_indices(), adj.col_indices(), adj.values()
    pattern = Adjacency(rowptr, col, value)
    transposed, _ = pattern.transpose()
    return _csr(transposed.rowptr, transposed.col, transposed.value, adj.size(0))


class _Propagate(torch.autograd.Function):
    """``adj @ h`` whose backward is ``adj_t @ grad`` with a precomputed transpose (torch's
    own CSR backward transposes the matrix again at every step)."""

    @staticmethod
    def forward(ctx, adj: Tensor, adj_t: Tensor, h: Tensor) -> Tensor:
        ctx.adj_t = adj_t
        return adj @ h

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, None, ctx.adj_t @ grad


class _GCN(torch.nn.Module):
    r"""The 2-layer GCN of Kipf & Welling,
    :math:`\hat{\mathbf{A}}\,\mathrm{dropout}(\mathrm{ReLU}(\hat{\mathbf{A}}\mathbf{X}
    \mathbf{W}_1 + \mathbf{b}_1))\mathbf{W}_2 + \mathbf{b}_2`, initialised as PyG's
    ``GCNConv`` (Glorot weights, zero biases). The first layer reads the precomputed
    :math:`\hat{\mathbf{A}}\mathbf{X}` (:math:`\hat{\mathbf{A}}(\mathbf{X}\mathbf{W}_1) =
    (\hat{\mathbf{A}}\mathbf{X})\mathbf{W}_1`), so no epoch propagates the first layer; the
    held-out nodes are scored from the training pass's activations, so an epoch multiplies by
    the large feature matrix twice (forward, weight gradient) instead of three times."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, dropout: float):
        super().__init__()
        self.lin1 = Linear(in_channels, hidden, bias=False, weight_initializer="glorot")
        self.lin2 = Linear(hidden, out_channels, bias=False, weight_initializer="glorot")
        self.bias1 = torch.nn.Parameter(torch.zeros(hidden))
        self.bias2 = torch.nn.Parameter(torch.zeros(out_channels))
        self.dropout = dropout

    def hidden(self, ax: Tensor) -> Tensor:
        return torch.relu(self.lin1(ax) + self.bias1)

    def output(self, adj: Tensor, adj_t: Tensor, h: Tensor) -> Tensor:
        h = F.dropout(h, self.dropout, self.training)
        return _Propagate.apply(adj, adj_t, self.lin2(h)) + self.bias2


def train_gcn(x: Tensor, edge_index: Tensor, train_nodes: Tensor, train_labels: Tensor,
              num_classes: int, val_nodes: Optional[Tensor] = None,
              val_labels: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None,
              sample_weight: Optional[Tensor] = None, hidden: int = 64, dropout: float = 0.5,
              lr: float = 0.01, weight_decay: float = 5e-4, epochs: int = 200,
              patience: int = 50, seed: int = 0) -> TrainedGCN:
    r"""Trains a 2-layer GCN (hidden width ``hidden``, ReLU, dropout, Adam) with
    cross-entropy on ``train_labels`` and returns the model of the epoch with the best
    accuracy on the held-out annotations ``val_labels`` (ties: lower held-out loss); without
    held-out nodes, the model after the last epoch.

    The held-out nodes are scored at the start of each epoch, before its optimizer step,
    from the same first-layer activations the step uses (no second forward pass).

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
        hidden (int): hidden width. (default: ``64``, Locle's)
        dropout (float): (default: ``0.5``, Kipf & Welling's)
        lr (float): Adam learning rate. (default: ``0.01``, Kipf & Welling's)
        weight_decay (float): (default: ``5e-4``, Kipf & Welling's)
        epochs (int): at most. (default: ``200``, Kipf & Welling's)
        patience (int): epochs without held-out improvement before stopping. (default: ``50``)
        seed (int): initialisation and dropout seed. (default: ``0``)
    """
    if train_nodes.numel() == 0:
        raise ValueError("train_nodes is empty: nothing to train on")
    if train_nodes.numel() != train_labels.numel():
        raise ValueError("train_nodes and train_labels differ in length")
    has_val = val_nodes is not None and val_nodes.numel() > 0
    adj = gcn_adjacency(edge_index, x.size(0), edge_weight)
    adj_t = _transpose(adj)
    ax = adj @ x.float()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _GCN(x.size(1), hidden, num_classes, dropout)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        weights = None if sample_weight is None else sample_weight.float()
        best = (-1.0, float("inf"))
        best_state, best_epoch, since = None, 0, 0
        for epoch in range(epochs):
            model.train()
            h = model.hidden(ax)
            if has_val:
                model.eval()
                with torch.no_grad():
                    out = model.output(adj, adj_t, h.detach())[val_nodes]
                    key = (float((out.argmax(1) == val_labels).float().mean()),
                           float(F.cross_entropy(out, val_labels)))
                model.train()
                if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
                    best, best_epoch, since = key, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    since += 1
                    if since >= patience:
                        break
            optimizer.zero_grad()
            out = model.output(adj, adj_t, h)
            loss = F.cross_entropy(out[train_nodes], train_labels, reduction="none")
            loss = (loss * weights).sum() / weights.sum() if weights is not None else loss.mean()
            loss.backward()
            optimizer.step()
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            probs = torch.softmax(model.output(adj, adj_t, model.hidden(ax)), dim=1)
    return TrainedGCN(probs, best[0] if has_val else float("nan"),
                      best_epoch if has_val else epochs)
