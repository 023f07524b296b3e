r"""The one GCN trainer: a 2-layer GCN (Kipf & Welling, "Semi-Supervised Classification with
Graph Convolutional Networks", ICLR 2017, https://arxiv.org/abs/1609.02907) trained on
(possibly noisy) labels of some nodes, with model selection on the labels of others.

It serves ERASE's GCN baseline, Locle and its baselines, and the robust-training baselines:
the per-node ``loss``, the ``sample_weight`` of each training node and a ``label_update``
strategy (labels re-estimated from the model's own predictions each epoch) plug in; the
selection rule (ties broken by the first epoch or by the lower validation loss) and the
patience are options. With ``batch_size`` it trains on mini-batches of sampled
neighbourhoods (:class:`NeighborBatches`) and evaluates by exact full-graph inference.
"""
from __future__ import annotations

import contextlib
import copy
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.sampler import NodeSamplerInput
from tqdm.auto import tqdm

from noisygraph._validation import (check_bool, check_choice, check_device, check_fanouts,
                                    check_finite, check_int, check_node_ids, check_real)
from noisygraph.loader import UniformNeighborSampler
from noisygraph.protocols import check_fitted_graph
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
    # a multigraph's repeated edges summed (PyG's GCNConv sums their messages): torch's CSR
    # takes each (row, column) once
    norm = adj.normalize("sym", add_self_loops=True).summed_duplicates()
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

    def transform(self, h: Tensor) -> Tensor:
        r"""The second layer before its propagation: :math:`\mathrm{dropout}(h)\mathbf{W}_2`."""
        return self.lin2(F.dropout(h, self.dropout, self.training))

    def output(self, adj: Tensor, adj_t: Optional[Tensor], h: Tensor) -> Tensor:
        return _Propagate.apply(adj, adj_t, self.transform(h)) + self.bias2


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


class NeighborBatches:
    r"""Mini-batches of sampled neighbourhoods for the 2-layer :class:`GCN`, with the full
    graph's normalisation.

    :meth:`logits` samples the in-edges of the seed nodes (hop 1, at most
    ``num_neighbors[0]`` per node) and of the nodes so reached (hop 2, ``num_neighbors[1]``)
    with :class:`~noisygraph.loader.UniformNeighborSampler` (uniform, without replacement;
    ``-1``: all), then runs each layer only on the nodes a later layer reads (the first on
    the seeds and their hop-1 neighbours, the second on the seeds). A layer replaces the
    full-graph propagation :math:`(\hat{\mathbf{A}}\mathbf{H})_i` by

    .. math::
        \hat{A}_{ii}\,\mathbf{h}_i + \frac{n_i}{k_i} \sum_{j \in S_i} \hat{A}_{ij}\,
        \mathbf{h}_j,

    with :math:`\hat{\mathbf{A}}` the whole graph's :func:`gcn_adjacency`, :math:`n_i` the
    in-edges of :math:`i` other than its self-loop and :math:`S_i` the :math:`k_i =
    \min(\text{fan-out}, n_i)` sampled ones: the neighbour-sampling estimator of Chen, Zhu and
    Song, "Stochastic Training of Graph Convolutional Networks with Variance Reduction", ICML
    2018 (https://arxiv.org/abs/1710.10568), unbiased for a given :math:`\mathbf{H}` and
    exact with ``-1``. PyG's ``NeighborLoader`` + ``GCNConv`` instead normalise on the
    sampled subgraph (a seed's degree becomes its sample count + 1, a last-hop node's 1), an
    operator that differs from the full-graph one the model is evaluated with
    (:meth:`GCNTrainer.fit` scores by exact full-graph inference); we keep the evaluated
    operator, so that with full neighbourhoods a batch's step is the full-batch step on its
    seeds.

    Args:
        adj (torch.Tensor): :math:`\hat{\mathbf{A}}` as :func:`gcn_adjacency` returns it.
        num_neighbors (Sequence[int]): fan-out of the two hops (positive or ``-1``).
    """

    def __init__(self, adj: Tensor, num_neighbors: Sequence[int]):
        self.num_neighbors = check_fanouts("num_neighbors", num_neighbors, length=2,
                                           allow_zero=False)
        rowptr, col, value = adj.crow_indices(), adj.col_indices(), adj.values()
        num_nodes = adj.size(0)
        row = torch.repeat_interleave(torch.arange(num_nodes, device=rowptr.device),
                                      rowptr.diff())
        loop = row == col
        self.self_weight = torch.zeros(num_nodes, dtype=value.dtype, device=value.device
                                       ).index_add_(0, row[loop], value[loop])
        off = ~loop
        del loop
        self.degree = torch.bincount(row[off], minlength=num_nodes)
        del row
        self.value = value[off]
        sampled_rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        torch.cumsum(self.degree.cpu(), 0, out=sampled_rowptr[1:])
        self.sampler = UniformNeighborSampler.from_csr(sampled_rowptr, col[off].cpu(),
                                                       self.num_neighbors)

    def _propagate(self, h: Tensor, node: Tensor, source: Tensor, target: Tensor,
                   weight: Tensor, rows: int) -> Tensor:
        """The estimated propagation at the first ``rows`` batch nodes (``h``: every batch
        node's; the edges' targets lie among those rows)."""
        out = h[:rows] * self.self_weight[node[:rows], None]
        return out.index_add(0, target, h[source] * weight[:, None])

    def logits(self, model: GCN, x: Tensor, seeds: Tensor) -> Tensor:
        """The logits ``[len(seeds), C]`` of ``model`` (in its current mode) at ``seeds``
        from one sampled neighbourhood."""
        out = self.sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds.cpu()))
        device = self.value.device
        node, source, target, edge = (t.to(device) for t in (out.node, out.row, out.col,
                                                               out.edge))
        fanout = torch.repeat_interleave(torch.tensor(self.num_neighbors, device=device),
                                         torch.tensor(out.num_sampled_edges, device=device))
        degree = self.degree[node[target]]
        kept = torch.where(fanout < 0, degree, torch.minimum(degree, fanout))
        weight = self.value[edge] * (degree / kept).to(self.value.dtype)
        seeds_count, first = out.num_sampled_nodes[0], sum(out.num_sampled_nodes[:2])
        hop1 = out.num_sampled_edges[0]
        h = model.hidden(self._propagate(x[node], node, source, target, weight, first))
        z = model.transform(h)
        return self._propagate(z, node, source[:hop1], target[:hop1], weight[:hop1],
                               seeds_count) + model.bias2


class _Selection:
    """Model selection on the validation labels: the best (accuracy, -loss) candidate's
    weights and epoch, and the candidates in a row without improvement."""

    def __init__(self, val_y: Tensor, tie_break: str, patience: int):
        self.val_y, self.tie_break, self.patience = val_y, tie_break, patience
        self.best, self.state, self.epoch, self.since = (-1.0, float("inf")), None, 0, 0

    def update(self, model: torch.nn.Module, epoch: int, out: Tensor) -> bool:
        """Scores the candidate of ``epoch`` (``out``: its validation logits); whether
        training should stop."""
        key = (float((out.argmax(1) == self.val_y).float().mean()),
               float(F.cross_entropy(out, self.val_y)) if self.tie_break == "val-loss"
               else 0.0)
        if key[0] > self.best[0] or (key[0] == self.best[0] and key[1] < self.best[1]):
            self.best, self.epoch, self.since = key, epoch, 0
            self.state = copy.deepcopy(model.state_dict())
            return False
        self.since += 1
        return self.since >= self.patience


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
        batch_size (int, optional): train on mini-batches of this many training nodes
            (shuffled each epoch) with sampled neighbourhoods (:class:`NeighborBatches`:
            each layer runs only on the nodes a later one reads, full-graph
            normalisation); an epoch is then one pass over the training nodes, one Adam step
            per batch, and the candidates (validation scores, ``callback``, predictions) come
            from exact full-graph inference (two sparse products over the whole graph, no
            per-edge tensor of it). Not with ``step_loss``, ``label_update`` or
            ``networks > 1``. (default: :obj:`None`, full batch)
        num_neighbors (Sequence[int], optional): fan-out of the two hops in mini-batch
            training, each positive or ``-1`` (all neighbours); needs ``batch_size``.
            (default: :obj:`None`, ``(5, 5)`` with ``batch_size``: ERASE's trainer default,
            the fan-out of the ERASE release's ogbn-arxiv recipe)
        seed (int, optional): seeds initialisation, dropout and (mini-batch) the batches'
            order and sampling in a forked RNG (the global RNG is left as it was);
            :obj:`None` draws from the global RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the features' device)
        verbose (bool, optional): show a progress bar. (default: :obj:`False`)
    """

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 200, patience: int = 50,
                 tie_break: str = "first", loss: Optional[NodeLoss] = None,
                 label_update: Optional[LabelUpdate] = None,
                 step_loss: Optional[StepLoss] = None, networks: int = 1,
                 batch_size: Optional[int] = None,
                 num_neighbors: Optional[Sequence[int]] = None,
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
        self.batch_size = check_int("batch_size", batch_size, low=1, optional=True)
        if self.batch_size is None:
            if num_neighbors is not None:
                raise ValueError("num_neighbors needs batch_size (mini-batch training)")
            self.num_neighbors = None
        else:
            self.num_neighbors = check_fanouts(
                "num_neighbors", (5, 5) if num_neighbors is None else num_neighbors,
                length=2, allow_zero=False)
            for name, given in (("step_loss", step_loss is not None),
                                ("label_update", label_update is not None),
                                ("networks", self.networks > 1)):
                if given:
                    raise ValueError(f"{name} needs full-batch training (batch_size=None)")
        self.loss = loss if loss is not None else cross_entropy
        self.label_update = label_update
        self.step_loss = step_loss
        self.seed = check_int("seed", seed, low=0, optional=True)
        self.device = check_device("device", device)
        self.verbose = check_bool("verbose", verbose)
        self.model: Optional[GCN] = None
        self.result: Optional[GCNResult] = None
        self._fitted_graph: Any = None

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
        self._fitted_graph = data
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
        x = x.to(device).float()
        check_finite("x (as float32)", x)  # NaN, or float64 beyond float32's range
        train_loop = self._train if self.batch_size is None else self._train_mini_batch
        self.result = train_loop(gcn_adjacency(adj), x, train, train_y,
                                 num_classes, val, val_y if val is not None else None,
                                 weight, callback)
        return self.result

    def _objective(self, out: Tensor, labels: Tensor, weight: Optional[Tensor]) -> Tensor:
        """The mean (or ``weight``-weighted mean) per-node loss of each network, summed."""
        losses = torch.stack([self.loss(o, labels) for o in out]) \
            if self.networks > 1 else self.loss(out, labels)
        loss = (losses * weight).sum(-1) / weight.sum() if weight is not None \
            else losses.mean(-1)
        return loss.sum()

    def _train(self, adj: Tensor, x: Tensor, train: Tensor, train_y: Tensor, num_classes: int,
               val: Optional[Tensor], val_y: Optional[Tensor], weight: Optional[Tensor],
               callback: Optional[EpochCallback]) -> GCNResult:
        adj_t = _transpose(adj)
        ax = adj @ x
        with self._seeded(x.device):
            model, optimizer, selection, bar = self._start(x, num_classes, val_y)
            combine = (lambda z: z) if self.networks == 1 else GCNEnsemble.combine
            last_loss, epoch = float("nan"), 0
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
                if selection is not None and selection.update(model, epoch, out[val]):
                    break
                if epoch == self.epochs:
                    break
                out = model.output(adj, adj_t, h)[..., train, :]
                labels = train_y if self.label_update is None else self.label_update(
                    epoch + 1, out.detach(), train_y)
                optimizer.zero_grad()
                loss = self.step_loss(epoch + 1, out, labels) if self.step_loss is not None \
                    else self._objective(out, labels, weight)
                loss.backward()
                optimizer.step()
                last_loss = loss.item() if callback is not None or self.verbose else last_loss
                self._progress(bar, last_loss)
            bar.close()
            probs = self._final_probs(model, selection, combine, adj, adj_t, ax)
        return self._result(model, probs, selection, epoch)

    def _progress(self, bar: tqdm, loss: float) -> None:
        bar.update(1)
        if self.verbose:
            bar.set_postfix(loss=f"{loss:.3f}")

    @contextlib.contextmanager
    def _seeded(self, device: torch.device):
        """A forked RNG seeded with ``seed`` (the global RNG without a seed)."""
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=self.seed is not None):
            if self.seed is not None:
                torch.manual_seed(self.seed)
            yield

    def _start(self, x: Tensor, num_classes: int, val_y: Optional[Tensor]) -> tuple:
        """A fresh model (one GCN or the ensemble), its Adam, the selection (``None``
        without validation labels) and the progress bar."""
        model = (GCN(x.size(1), self.hidden_channels, num_classes, self.dropout)
                 if self.networks == 1 else
                 GCNEnsemble(self.networks, x.size(1), self.hidden_channels, num_classes,
                             self.dropout)).to(x.device)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        selection = _Selection(val_y, self.tie_break, self.patience) \
            if val_y is not None else None
        bar = tqdm(total=self.epochs, desc="GCN", disable=not self.verbose, leave=False)
        return model, optimizer, selection, bar

    def _final_probs(self, model: torch.nn.Module, selection: Optional[_Selection],
                     combine: Callable[[Tensor], Tensor], adj: Tensor, adj_t: Optional[Tensor],
                     ax: Tensor) -> Tensor:
        """Every node's softmax predictions of the selected candidate (full graph)."""
        if selection is not None and selection.state is not None:
            model.load_state_dict(selection.state)
        model.eval()
        with torch.no_grad():
            return torch.softmax(combine(model.output(adj, adj_t, model.hidden(ax))), dim=1)

    def _result(self, model: torch.nn.Module, probs: Tensor, selection: Optional[_Selection],
                epoch: int) -> GCNResult:
        self.model = model
        if selection is None:
            return GCNResult(probs, epoch, float("nan"), epoch)
        return GCNResult(probs, selection.epoch, selection.best[0], epoch)

    def _train_mini_batch(self, adj: Tensor, x: Tensor, train: Tensor, train_y: Tensor,
                          num_classes: int, val: Optional[Tensor], val_y: Optional[Tensor],
                          weight: Optional[Tensor],
                          callback: Optional[EpochCallback]) -> GCNResult:
        """:meth:`_train` with ``batch_size``: one Adam step per mini-batch of sampled
        neighbourhoods; candidates scored by exact full-graph inference after each epoch."""
        batches = NeighborBatches(adj, self.num_neighbors)
        ax = adj @ x  # the first layer's full-graph input, for the exact inference
        identity = lambda z: z  # noqa: E731
        with self._seeded(x.device):
            model, optimizer, selection, bar = self._start(x, num_classes, val_y)
            last_loss, epoch = float("nan"), 0
            for epoch in range(self.epochs + 1):
                if val is not None or callback is not None:
                    model.eval()
                    with torch.no_grad():
                        out = model.output(adj, None, model.hidden(ax))
                    if callback is not None and epoch > 0:
                        callback(epoch, out, last_loss)
                    if selection is not None and selection.update(model, epoch, out[val]):
                        break
                    del out
                if epoch == self.epochs:
                    break
                model.train()
                order = torch.randperm(train.numel(), device=train.device)
                last_loss = 0.0
                for start in range(0, train.numel(), self.batch_size):
                    position = order[start:start + self.batch_size]
                    logits = batches.logits(model, x, train[position])
                    loss = self._objective(logits, train_y[position],
                                           None if weight is None else weight[position])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    last_loss += loss.item() * position.numel() / train.numel()
                self._progress(bar, last_loss)
            bar.close()
            probs = self._final_probs(model, selection, identity, adj, None, ax)
        return self._result(model, probs, selection, epoch)

    def predict(self, data: Any = None) -> Tensor:
        """Predicted classes of every node of the graph :meth:`fit` trained on (the model
        reads the whole graph, so ``data`` must be that graph or :obj:`None`; another one is a
        ``ValueError``)."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        check_fitted_graph(data, self._fitted_graph, type(self).__name__)
        return self.result.predict()
