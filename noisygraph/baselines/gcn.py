r"""The one GCN trainer: a 2-layer GCN (Kipf & Welling, "Semi-Supervised Classification with
Graph Convolutional Networks", ICLR 2017, https://arxiv.org/abs/1609.02907) trained on
(possibly noisy) labels of some nodes, with model selection on the labels of others.

It serves ERASE's GCN baseline, Locle and its baselines, and the robust-training baselines:
the per-node ``loss``, the ``sample_weight`` of each training node and a ``label_update``
strategy (labels re-estimated from the model's own predictions each epoch) plug in; the
selection rule (ties broken by the first epoch or by the lower validation loss) and the
patience are options.
"""
from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear
from tqdm.auto import tqdm

from noisygraph._validation import (check_bool, check_choice, check_device, check_int,
                                    check_node_ids, check_real)
from noisygraph.sparse import Adjacency, as_adjacency

#: how :class:`GCNTrainer` breaks ties between epochs of equal validation accuracy
TIE_BREAKS = ("first", "val-loss")

#: ``loss(logits [n, C], labels [n]) -> [n]``: the per-node training loss
NodeLoss = Callable[[Tensor, Tensor], Tensor]
#: ``label_update(epoch, logits [n, C] (detached), labels [n]) -> labels [n]``: the training
#: labels of this epoch's step
LabelUpdate = Callable[[int, Tensor, Tensor], Tensor]
#: ``step_loss(epoch, logits, labels) -> scalar``: the whole training objective of one step
#: (logits of the training nodes: ``[n, C]``, or ``[k, n, C]`` with ``networks=k``)
StepLoss = Callable[[int, Tensor, Tensor], Tensor]
#: ``callback(epoch, logits [N, C], loss)``: called with the evaluation-mode logits of every
#: node after each optimizer step (``loss``: that step's training loss)
EpochCallback = Callable[[int, Tensor, float], None]


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """Per-node cross-entropy (the default ``loss``)."""
    return F.cross_entropy(logits, labels, reduction="none")


def gcn_adjacency(adj: Adjacency) -> Tensor:
    r"""GCN's propagation matrix
    :math:`\hat{\mathbf{A}} = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A} + \mathbf{I})
    \tilde{\mathbf{D}}^{-1/2}` (remaining self-loops of weight 1, as PyG's ``GCNConv``) as a
    float32 ``torch.sparse_csr`` tensor (rows are targets), built once per training."""
    norm = adj.normalize("sym", add_self_loops=True)
    return _csr(norm.rowptr, norm.col, norm.weights(torch.float32), adj.num_rows)


def _csr(rowptr: Tensor, col: Tensor, value: Tensor, num_nodes: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(rowptr, col, value, size=(num_nodes, num_nodes),
                                       check_invariants=True)


def _transpose(adj: Tensor) -> Tensor:
    """The transpose of a CSR matrix, again in CSR (for the backward pass)."""
    pattern = Adjacency(adj.crow_indices(), adj.col_indices(), adj.values())
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


class GCN(torch.nn.Module):
    r"""The 2-layer GCN
    :math:`\hat{\mathbf{A}}\,\mathrm{dropout}(\mathrm{ReLU}(\hat{\mathbf{A}}\mathbf{X}
    \mathbf{W}_1 + \mathbf{b}_1))\mathbf{W}_2 + \mathbf{b}_2`, initialised as PyG's
    ``GCNConv`` (Glorot weights, zero biases). The first layer reads the precomputed
    :math:`\hat{\mathbf{A}}\mathbf{X}` (:math:`\hat{\mathbf{A}}(\mathbf{X}\mathbf{W}_1) =
    (\hat{\mathbf{A}}\mathbf{X})\mathbf{W}_1`), so no epoch propagates the first layer; the
    validation nodes are scored from the training pass's activations, so an epoch multiplies
    by the large feature matrix twice (forward, weight gradient) instead of three times."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 dropout: float):
        super().__init__()
        self.lin1 = Linear(in_channels, hidden_channels, bias=False, weight_initializer="glorot")
        self.lin2 = Linear(hidden_channels, out_channels, bias=False,
                           weight_initializer="glorot")
        self.bias1 = torch.nn.Parameter(torch.zeros(hidden_channels))
        self.bias2 = torch.nn.Parameter(torch.zeros(out_channels))
        self.dropout = dropout

    def hidden(self, ax: Tensor) -> Tensor:
        return torch.relu(self.lin1(ax) + self.bias1)

    def output(self, adj: Tensor, adj_t: Tensor, h: Tensor) -> Tensor:
        h = F.dropout(h, self.dropout, self.training)
        return _Propagate.apply(adj, adj_t, self.lin2(h)) + self.bias2


class GCNEnsemble(torch.nn.Module):
    r"""``k`` independently initialised :class:`GCN` s trained side by side (Co-teaching's
    two networks): :meth:`output` gives their logits ``[k, N, C]`` (one propagation of the
    concatenated second-layer features), :meth:`combine` the log of their mean softmax, which
    model selection and the predictions read."""

    def __init__(self, networks: int, in_channels: int, hidden_channels: int,
                 out_channels: int, dropout: float):
        super().__init__()
        self.nets = torch.nn.ModuleList(GCN(in_channels, hidden_channels, out_channels, dropout)
                                        for _ in range(networks))

    def hidden(self, ax: Tensor) -> Tensor:
        return torch.stack([net.hidden(ax) for net in self.nets])

    def output(self, adj: Tensor, adj_t: Tensor, h: Tensor) -> Tensor:
        z = torch.cat([net.lin2(F.dropout(h[i], net.dropout, net.training))
                       for i, net in enumerate(self.nets)], dim=1)
        z = _Propagate.apply(adj, adj_t, z).view(z.size(0), len(self.nets), -1)
        return z.transpose(0, 1) + torch.stack([net.bias2 for net in self.nets])[:, None]

    @staticmethod
    def combine(logits: Tensor) -> Tensor:
        return torch.logsumexp(torch.log_softmax(logits, dim=-1), dim=0) - math.log(logits.size(0))


@dataclass
class GCNResult:
    """Outcome of :meth:`GCNTrainer.fit`.

    Attributes:
        probs (torch.Tensor): softmax predictions of every node ``[N, C]`` (selected model).
        epoch (int): the selected epoch (optimizer steps behind the returned weights; the
            last epoch without validation nodes).
        val_accuracy (float): accuracy on the validation labels at that epoch (agreement with
            whatever labels were given there; ``nan`` without validation nodes).
        epochs_run (int): optimizer steps taken before stopping.
    """

    probs: Tensor
    epoch: int
    val_accuracy: float
    epochs_run: int

    def predict(self) -> Tensor:
        """Predicted class of every node ``[N]``."""
        return self.probs.argmax(dim=1)

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "val_accuracy": self.val_accuracy,
                "epochs_run": self.epochs_run, "predictions": self.predict().tolist()}


def _labels_at(name: str, labels: Any, nodes: Tensor, num_nodes: int, num_classes: int,
               device: torch.device) -> Tensor:
    """The labels of ``nodes``: ``labels`` holds one per node (``[N]``) or one per entry of
    ``nodes``; each must lie in ``[0, num_classes)``."""
    if not isinstance(labels, Tensor) or labels.is_floating_point() or labels.is_complex() \
            or labels.dtype == torch.bool or labels.dim() != 1:
        raise TypeError(f"{name} must be a 1-D integer tensor of classes, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    labels = labels.to(device=device, dtype=torch.long)
    if labels.numel() == num_nodes:
        labels = labels[nodes]
    elif labels.numel() != nodes.numel():
        raise ValueError(f"{name} has {labels.numel()} entries for {nodes.numel()} nodes "
                         f"(give one per node [{num_nodes}] or one per selected node)")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes}) on the selected nodes")
    return labels


class GCNTrainer:
    r"""Trains a 2-layer :class:`GCN` (ReLU, dropout, Adam) on the labels of the training
    nodes and keeps the model of the epoch with the best accuracy on the validation labels
    (ties: the first such epoch, or the lower validation loss with ``tie_break="val-loss"``);
    without validation nodes, the model after the last epoch. The model after each optimizer
    step is one candidate (and the initial one); training stops once ``patience`` candidates
    in a row brought no improvement.

    Each step minimises :math:`\sum_i w_i \ell(f(x)_i, y_i) / \sum_i w_i` over the training
    nodes (:math:`w`: ``sample_weight``, else 1; :math:`\ell`: ``loss``, else cross-entropy;
    :math:`y`: the given labels, or what ``label_update`` makes of them each epoch).

    Args:
        hidden_channels (int, optional): hidden width. (default: ``64``)
        dropout (float, optional): dropout before the second layer, in ``[0, 1)``.
            (default: ``0.5``, Kipf & Welling's)
        lr (float, optional): Adam learning rate. (default: ``0.01``, Kipf & Welling's)
        weight_decay (float, optional): Adam weight decay. (default: ``5e-4``, Kipf &
            Welling's)
        epochs (int, optional): optimizer steps at most. (default: ``200``, Kipf & Welling's)
        patience (int, optional): candidates in a row without improvement before stopping.
            (default: ``50``)
        tie_break (str, optional): ``"first"`` or ``"val-loss"``. (default: ``"first"``)
        loss (callable, optional): ``loss(logits, labels) -> [n]`` per-node losses.
            (default: :func:`cross_entropy`)
        label_update (callable, optional): ``label_update(epoch, logits, labels) -> labels``
            (logits of the training nodes, detached), the labels of each step.
            (default: :obj:`None`, the given labels throughout)
        step_loss (callable, optional): ``step_loss(epoch, logits, labels) -> scalar``, the
            whole objective of each step (replaces ``loss`` and ``sample_weight``; e.g. a
            per-epoch sample selection such as Co-teaching's). (default: :obj:`None`)
        networks (int, optional): train ``networks`` independently initialised GCNs side by
            side (:class:`GCNEnsemble`); ``step_loss`` then sees their logits ``[k, n, C]``
            (without it each network minimises its own mean loss), and selection and
            predictions read the mean of their softmax outputs. (default: ``1``)
        seed (int, optional): seeds initialisation and dropout in a forked RNG (the global
            RNG is left as it was); :obj:`None` draws from the global RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the features' device)
        verbose (bool, optional): show a progress bar. (default: :obj:`False`)
    """

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 200, patience: int = 50,
                 tie_break: str = "first", loss: Optional[NodeLoss] = None,
                 label_update: Optional[LabelUpdate] = None,
                 step_loss: Optional[StepLoss] = None, networks: int = 1,
                 seed: Optional[int] = None, device=None, verbose: bool = False):
        self.hidden_channels = check_int("hidden_channels", hidden_channels, low=1)
        self.dropout = check_real("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.lr = check_real("lr", lr, low=0.0, low_open=True)
        self.weight_decay = check_real("weight_decay", weight_decay, low=0.0)
        self.epochs = check_int("epochs", epochs, low=1)
        self.patience = check_int("patience", patience, low=0)
        self.tie_break = check_choice("tie_break", tie_break, TIE_BREAKS)
        for name, value in (("loss", loss), ("label_update", label_update),
                            ("step_loss", step_loss)):
            if value is not None and not callable(value):
                raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
        if step_loss is not None and loss is not None:
            raise ValueError("step_loss replaces loss: give one of them")
        self.networks = check_int("networks", networks, low=1)
        if self.networks > 1 and label_update is not None:
            raise ValueError("label_update needs networks=1 (one model's predictions)")
        self.loss = loss if loss is not None else cross_entropy
        self.label_update = label_update
        self.step_loss = step_loss
        self.seed = check_int("seed", seed, low=0, optional=True)
        self.device = check_device("device", device)
        self.verbose = check_bool("verbose", verbose)
        self.model: Optional[GCN] = None
        self.result: Optional[GCNResult] = None

    def fit(self, data: Any, *, x: Optional[Tensor] = None, train_nodes: Optional[Tensor] = None,
            train_labels: Optional[Tensor] = None, val_nodes: Optional[Tensor] = None,
            val_labels: Optional[Tensor] = None, sample_weight: Optional[Tensor] = None,
            edge_weight: Optional[Tensor] = None, num_classes: Optional[int] = None,
            callback: Optional[EpochCallback] = None) -> GCNResult:
        """Trains on ``data`` (a PyG ``Data``, or any graph :func:`~noisygraph.sparse.as_adjacency`
        accepts, with ``x`` given).

        Args:
            data: the graph; a ``Data`` also supplies ``x``, the labels (``y_noisy``, else
                ``y``) and the masks (``train_mask``, ``val_mask``) not given here.
            x (torch.Tensor, optional): node features ``[N, F]``. (default: ``data.x``)
            train_nodes (torch.Tensor, optional): bool mask ``[N]`` or node ids.
                (default: ``data.train_mask``)
            train_labels (torch.Tensor, optional): one label per node ``[N]`` or per training
                node. (default: ``data.y_noisy``, else ``data.y``)
            val_nodes (torch.Tensor, optional): mask or ids of the validation nodes.
                (default: ``data.val_mask`` when ``data`` has one, else none)
            val_labels (torch.Tensor, optional): their labels, per node or per validation
                node. (default: the training labels' source)
            sample_weight (torch.Tensor, optional): ``[n_train]`` finite weights ``>= 0``.
            edge_weight (torch.Tensor, optional): ``[E]`` with an ``edge_index`` graph.
            num_classes (int, optional): :math:`C`. (default: ``data.num_classes`` when set,
                else the largest label + 1)
            callback (callable, optional): ``callback(epoch, logits, loss)`` after each step.
        """
        x = getattr(data, "x", None) if x is None else x
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
            raise TypeError("x must be a floating [N, F] tensor (or data.x one), got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        device = self.device if self.device is not None else x.device
        adj = as_adjacency(data, num_nodes=x.size(0), edge_weight=edge_weight).to(device)
        num_nodes = x.size(0)
        labels = getattr(data, "y_noisy", None)
        labels = getattr(data, "y", None) if labels is None else labels
        train_nodes = getattr(data, "train_mask", None) if train_nodes is None else train_nodes
        if train_nodes is None:
            raise ValueError("train_nodes is required (data has no train_mask)")
        if val_nodes is None:
            val_nodes = getattr(data, "val_mask", None)
        train = check_node_ids("train_nodes", train_nodes, num_nodes).to(device)
        if train.numel() == 0:
            raise ValueError("train_nodes is empty: nothing to train on")
        train_labels = labels if train_labels is None else train_labels
        if train_labels is None:
            raise ValueError("train_labels is required (data has neither y_noisy nor y)")
        if num_classes is None:
            num_classes = getattr(data, "num_classes", None)
            if not isinstance(num_classes, int):
                num_classes = int(train_labels.max()) + 1
        num_classes = check_int("num_classes", num_classes, low=1)
        train_y = _labels_at("train_labels", train_labels, train, num_nodes, num_classes,
                             device)
        val = None
        if val_nodes is not None:
            val = check_node_ids("val_nodes", val_nodes, num_nodes).to(device)
            if val_labels is None:
                val_labels = labels if labels is not None else train_labels
            val_y = _labels_at("val_labels", val_labels, val, num_nodes, num_classes, device)
            if val.numel() == 0:
                val = None
        weight = None
        if sample_weight is not None and self.step_loss is not None:
            raise ValueError("sample_weight is ignored by step_loss: weigh inside step_loss")
        if sample_weight is not None:
            if not isinstance(sample_weight, Tensor) or sample_weight.shape != (train.numel(),):
                raise ValueError(f"sample_weight must be a tensor of shape [{train.numel()}] "
                                 "(one per training node)")
            weight = sample_weight.to(device=device, dtype=torch.float32)
            if not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()) \
                    or float(weight.sum()) <= 0:
                raise ValueError("sample_weight must be finite, >= 0 and not all 0")
        self.result = self._train(gcn_adjacency(adj), x.to(device).float(), train, train_y,
                                  num_classes, val, val_y if val is not None else None,
                                  weight, callback)
        return self.result

    def _train(self, adj: Tensor, x: Tensor, train: Tensor, train_y: Tensor, num_classes: int,
               val: Optional[Tensor], val_y: Optional[Tensor], weight: Optional[Tensor],
               callback: Optional[EpochCallback]) -> GCNResult:
        adj_t = _transpose(adj)
        ax = adj @ x
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=self.seed is not None):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            model = (GCN(x.size(1), self.hidden_channels, num_classes, self.dropout)
                     if self.networks == 1 else
                     GCNEnsemble(self.networks, x.size(1), self.hidden_channels, num_classes,
                                 self.dropout)).to(x.device)
            combine = (lambda z: z) if self.networks == 1 else GCNEnsemble.combine
            optimizer = torch.optim.Adam(model.parameters(), lr=self.lr,
                                         weight_decay=self.weight_decay)
            best, best_state, best_epoch, since = (-1.0, float("inf")), None, 0, 0
            last_loss, epoch = float("nan"), 0
            bar = tqdm(total=self.epochs, desc="GCN", disable=not self.verbose, leave=False)
            for epoch in range(self.epochs + 1):
                model.train()
                h = model.hidden(ax)
                if val is not None or callback is not None:
                    model.eval()
                    with torch.no_grad():
                        out = combine(model.output(adj, adj_t, h.detach()))
                    model.train()
                    if callback is not None and epoch > 0:
                        callback(epoch, out, last_loss)
                if val is not None:
                    out = out[val]
                    key = (float((out.argmax(1) == val_y).float().mean()),
                           float(F.cross_entropy(out, val_y)) if self.tie_break == "val-loss"
                           else 0.0)
                    if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1]):
                        best, best_epoch, since = key, epoch, 0
                        best_state = copy.deepcopy(model.state_dict())
                    else:
                        since += 1
                        if since >= self.patience:
                            break
                if epoch == self.epochs:
                    break
                out = model.output(adj, adj_t, h)[..., train, :]
                labels = train_y if self.label_update is None else self.label_update(
                    epoch + 1, out.detach(), train_y)
                optimizer.zero_grad()
                if self.step_loss is not None:
                    loss = self.step_loss(epoch + 1, out, labels)
                else:
                    losses = torch.stack([self.loss(o, labels) for o in out]) \
                        if self.networks > 1 else self.loss(out, labels)
                    loss = (losses * weight).sum(-1) / weight.sum() if weight is not None \
                        else losses.mean(-1)
                    loss = loss.sum()
                loss.backward()
                optimizer.step()
                last_loss = loss.item() if callback is not None or self.verbose else last_loss
                bar.update(1)
                if self.verbose:
                    bar.set_postfix(loss=f"{last_loss:.3f}")
            bar.close()
            if best_state is not None:
                model.load_state_dict(best_state)
            model.eval()
            with torch.no_grad():
                probs = torch.softmax(combine(model.output(adj, adj_t, model.hidden(ax))), dim=1)
        self.model = model
        return GCNResult(probs, best_epoch if val is not None else epoch,
                         best[0] if val is not None else float("nan"), epoch)

    def predict(self, data: Any = None) -> Tensor:
        """Predicted classes of every node of the graph :meth:`fit` trained on (the model
        reads the whole graph, so ``data`` must be that graph or :obj:`None`)."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        return self.result.predict()
