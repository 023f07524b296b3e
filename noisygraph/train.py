"""Shared training pieces: seeding, a per-epoch history that plots itself, model selection
on validation accuracy, and a plain GCN baseline trained with cross-entropy on noisy labels."""
from __future__ import annotations

import copy
import numbers
import random
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from noisygraph._validation import check_bool, check_choice, check_device, check_int, check_real
from noisygraph.metrics import accuracy

from noisygraph_cli.choices import PROTOCOLS  # defined once, torch-free


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and PyTorch (all devices) with an int ``seed >= 0``."""
    seed = check_int("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def check_protocol(protocol: str) -> None:
    check_choice("protocol", protocol, PROTOCOLS)


def selection_labels(data: Data, y_noisy: Tensor, protocol: str) -> Tensor:
    """The labels model selection may read on the validation nodes: the clean ``data.y``
    under ``"paper"`` (the published protocol), the noisy ``y_noisy`` under ``"noisy-val"``."""
    check_protocol(protocol)
    return data.y if protocol == "paper" else y_noisy


def _check_class_vector(name: str, value, num_nodes: int) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class indices, got "
                        f"{type(value).__name__}")
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer classes, got {value.dtype}")
    if value.shape != (num_nodes,):
        raise ValueError(f"{name} must have shape [{num_nodes}], got {tuple(value.shape)}")


def _check_bool_mask(name: str, mask, num_nodes: int) -> None:
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"{name} must be a bool tensor, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if mask.shape != (num_nodes,):
        raise ValueError(f"{name} must have shape [{num_nodes}], got {tuple(mask.shape)}")


def check_node_data(data: Data, y_noisy: Tensor, protocol: str = "paper",
                    noise_mask: Optional[Tensor] = None) -> int:
    """Validates what the trainers read (once per ``fit``) and returns the number of
    classes :math:`K` (``data.num_classes`` when set, else ``data.y.max() + 1``).

    Checks ``data.x`` (finite, ``[N, F]``), ``data.edge_index`` (integer ``[2, E]``, node
    ids in ``[0, N)``), ``data.y`` (integer ``[N]`` in ``[0, K)``), the three masks (bool
    ``[N]``, non-empty), ``y_noisy`` (integer ``[N]``, in ``[0, K)`` on the training nodes and,
    under ``"noisy-val"``, on the validation nodes) and, under ``"noisy-val"``, that the
    validation labels really are noisy (:func:`check_noisy_validation`).
    """
    check_protocol(protocol)
    if not isinstance(data, Data):
        raise TypeError(f"data must be a torch_geometric.data.Data, got {type(data).__name__}")
    for name in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        if getattr(data, name, None) is None:
            raise ValueError(f"data.{name} is required")
    x = data.x
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
        raise ValueError(f"data.x must be a floating-point [N, F] tensor, got "
                         f"{getattr(x, 'dtype', type(x).__name__)} of shape "
                         f"{tuple(getattr(x, 'shape', ()))}")
    num_nodes = x.size(0)
    if num_nodes == 0:
        raise ValueError("data.x has no rows (the graph has no node)")
    if data.num_nodes != num_nodes:
        raise ValueError(f"data.x must have one row per node ({data.num_nodes}), got {num_nodes}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("data.x must be finite (found NaN or inf)")
    edge_index = data.edge_index
    if (not isinstance(edge_index, Tensor) or edge_index.is_floating_point()
            or edge_index.is_complex() or edge_index.dtype == torch.bool):
        raise TypeError(f"data.edge_index must be an integer tensor, got "
                        f"{getattr(edge_index, 'dtype', type(edge_index).__name__)}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"data.edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f"data.edge_index holds node ids outside [0, {num_nodes})")
    _check_class_vector("data.y", data.y, num_nodes)
    _check_class_vector("y_noisy", y_noisy, num_nodes)
    for name in ("train_mask", "val_mask", "test_mask"):
        mask = getattr(data, name)
        _check_bool_mask(f"data.{name}", mask, num_nodes)
        if not bool(mask.any()):
            raise ValueError(f"data.{name} selects no node")
    stored = getattr(data, "num_classes", None)
    if stored is not None:
        if isinstance(stored, bool) or not isinstance(stored, numbers.Integral) or stored < 1:
            raise ValueError(f"data.num_classes must be a positive int, got {stored!r}")
        stored = int(stored)
    y_min, y_max = int(data.y.min()), int(data.y.max())
    num_classes = stored if stored is not None else y_max + 1
    if y_min < 0 or y_max >= num_classes:
        raise ValueError(f"data.y must lie in [0, data.num_classes={num_classes}), found "
                         f"{y_min if y_min < 0 else y_max}")
    if num_classes < 2:
        raise ValueError(f"data.y must have at least 2 classes, got {num_classes}")
    read = data.train_mask | data.val_mask if protocol == "noisy-val" else data.train_mask
    where = "training and validation" if protocol == "noisy-val" else "training"
    labels = y_noisy[read]
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"y_noisy must lie in [0, {num_classes}) on the {where} nodes, found "
                         f"{int(labels.min()) if int(labels.min()) < 0 else int(labels.max())}")
    if protocol == "noisy-val":
        check_noisy_validation(data, y_noisy, noise_mask)
    return num_classes


def check_noisy_validation(data: Data, y_noisy: Tensor,
                           noise_mask: Optional[Tensor] = None) -> None:
    """Under ``protocol="noisy-val"`` model selection reads ``y_noisy[val_mask]``: makes sure
    those labels were corrupted, so that selection never silently sees clean labels.

    The evidence is the record of which nodes went through the noise model: ``noise_mask``,
    else ``data.noise_mask`` (set by :class:`~noisygraph.noise.AddLabelNoise`; the
    ``mask`` of a :class:`~noisygraph.noise.LabelNoise`). With a record, every validation
    node must be in it (a validation node that happened not to flip is fine), and ``y_noisy``
    must equal ``data.y`` outside it. Without a record, ``y_noisy`` must differ from
    ``data.y`` on at least one validation node.

    Raises:
        ValueError: naming ``protocol`` and ``y_noisy`` (or ``noise_mask``).
    """
    num_nodes = data.val_mask.numel()
    hint = ("corrupt the validation nodes with the same noise model (LabelNoiseModel.sample "
            "on data.val_mask after data.train_mask, or AddLabelNoise(on='train+val')) and "
            "pass its mask as noise_mask= (or set data.noise_mask)")
    source = "noise_mask"
    if noise_mask is None:
        noise_mask, source = getattr(data, "noise_mask", None), "data.noise_mask"
    if noise_mask is not None:
        _check_bool_mask(source, noise_mask, num_nodes)
        noise_mask = noise_mask.to(data.val_mask.device)
        missing = int((data.val_mask & ~noise_mask).sum())
        if missing:
            raise ValueError(f"protocol='noisy-val' selects on noisy validation labels, but "
                             f"{source} says {missing} of the {int(data.val_mask.sum())} "
                             f"validation labels in y_noisy were not corrupted: {hint}")
        if bool(((y_noisy != data.y) & ~noise_mask).any()):
            raise ValueError(f"y_noisy differs from data.y outside {source}: the record does "
                             "not describe these labels (pass the mask of the noise that "
                             "produced y_noisy)")
        return
    if bool((y_noisy[data.val_mask] == data.y[data.val_mask]).all()):
        raise ValueError("protocol='noisy-val' selects on y_noisy[val_mask], but y_noisy "
                         "equals the clean data.y on every validation node, so selection "
                         f"would read clean labels: {hint}. (With such a record a small "
                         "validation set where no label happened to flip is accepted.)")


@dataclass
class History:
    """Per-epoch metrics of one training run and the model-selection outcome.

    Attributes:
        metrics (dict[str, list[float]]): one list per metric (``"epoch"``, ``"loss"``,
            ``"train_acc"``, ``"val_acc"``, ``"test_acc"``, ``"seconds"``, ...).
        best_epoch (int): epoch with the best validation accuracy (first one on ties).
        best_val_acc (float): that validation accuracy.
        test_acc (float): test accuracy at ``best_epoch``.
    """

    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    best_val_acc: float = -1.0
    test_acc: float = float("nan")

    def log(self, **values: float) -> None:
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def update_best(self, epoch: int, val_acc: float, test_acc: float) -> bool:
        """Records the epoch if its validation accuracy beats the best so far."""
        if val_acc > self.best_val_acc:
            self.best_epoch, self.best_val_acc, self.test_acc = epoch, val_acc, test_acc
            return True
        return False

    @property
    def seconds_per_epoch(self) -> float:
        seconds = self.metrics.get("seconds", [])
        return float(np.mean(seconds)) if seconds else float("nan")

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "best_epoch": self.best_epoch,
                "best_val_acc": self.best_val_acc, "test_acc": self.test_acc}

    def plot(self, path: str, title: Optional[str] = None) -> None:
        """Saves accuracy curves (left) and loss parts (right) to ``path`` (any format
        matplotlib writes)."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = self.metrics.get("epoch", [])
        loss_keys = [k for k in ("loss", "total", "compress") if k in self.metrics]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for key in ("train_acc", "val_acc", "test_acc"):
            if key in self.metrics:
                axes[0].plot(epochs, [100 * v for v in self.metrics[key]], label=key)
        axes[0].axvline(self.best_epoch, color="gray", linestyle="--", label="selected epoch")
        axes[0].set(xlabel="epoch", ylabel="accuracy (%)")
        axes[0].legend()
        for key in loss_keys:
            axes[1].plot(epochs, self.metrics[key], label=key)
        axes[1].set(xlabel="epoch", ylabel="loss")
        axes[1].legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


class GCNBaseline:
    r"""A 2-layer GCN (PyG's :class:`~torch_geometric.nn.models.GCN`) trained with
    cross-entropy on the noisy training labels; the baseline every ERASE table shows.

    Model selection uses the same protocol as :class:`~noisygraph.nn.ERASETrainer`.

    Args:
        hidden_channels (int, optional): hidden width. (default: ``64``)
        dropout (float, optional): dropout. (default: ``0.5``)
        lr (float, optional): Adam learning rate. (default: ``0.01``)
        weight_decay (float, optional): Adam weight decay. (default: ``5e-4``)
        epochs (int, optional): maximum epochs. (default: ``400``)
        patience (int, optional): stop after this many epochs without a better validation
            accuracy. (default: ``150``)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): show a progress bar. (default: :obj:`True`)
    """

    def __init__(self, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 protocol: str = "paper", device=None, verbose: bool = True):
        check_protocol(protocol)
        self.hidden_channels = check_int("hidden_channels", hidden_channels, low=1)
        self.dropout = check_real("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.lr = check_real("lr", lr, low=0.0, low_open=True)
        self.weight_decay = check_real("weight_decay", weight_decay, low=0.0)
        self.epochs = check_int("epochs", epochs, low=1)
        self.patience = check_int("patience", patience, low=0)
        self.protocol = protocol
        self.device = check_device("device", device)
        self.verbose = check_bool("verbose", verbose)
        self.model: Optional[torch.nn.Module] = None

    def fit(self, data: Data, y_noisy: Tensor, noise_mask: Optional[Tensor] = None) -> History:
        """Trains on ``y_noisy[data.train_mask]`` and keeps the best-validation weights.

        Args:
            data (Data): the graph with ``x``, ``edge_index``, clean ``y`` (scoring; selection
                under ``"paper"``) and the three masks.
            y_noisy (torch.Tensor): ``[N]`` noisy labels.
            noise_mask (torch.Tensor, optional): ``[N]`` bool, the nodes whose labels in
                ``y_noisy`` were drawn from a noise model; ``"noisy-val"`` requires it to
                cover the validation nodes (see :func:`check_noisy_validation`).
                (default: :obj:`None`, ``data.noise_mask`` when set)
        """
        from torch_geometric.nn.models import GCN

        num_classes = check_node_data(data, y_noisy, self.protocol, noise_mask)
        device = self.device if self.device is not None else data.x.device
        data, y_noisy = data.to(device), y_noisy.to(device)
        val_target = selection_labels(data, y_noisy, self.protocol)
        self.model = GCN(data.num_features, self.hidden_channels, num_layers=2,
                         out_channels=num_classes, dropout=self.dropout).to(device)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        history, best_state = History(), None
        bar = tqdm(range(1, self.epochs + 1), desc="GCN", disable=not self.verbose, leave=False)
        for epoch in bar:
            start = time.perf_counter()
            self.model.train()
            optimizer.zero_grad()
            out = self.model(data.x, data.edge_index)
            loss = F.cross_entropy(out[data.train_mask], y_noisy[data.train_mask])
            loss.backward()
            optimizer.step()
            pred = self.predict(data)
            train_acc = accuracy(pred, data.y, data.train_mask)
            val_acc = accuracy(pred, val_target, data.val_mask)
            test_acc = accuracy(pred, data.y, data.test_mask)
            history.log(epoch=epoch, loss=loss.item(), train_acc=train_acc, val_acc=val_acc,
                        test_acc=test_acc, seconds=time.perf_counter() - start)
            if history.update_best(epoch, val_acc, test_acc):
                best_state = copy.deepcopy(self.model.state_dict())
            bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{val_acc:.3f}")
            if epoch - history.best_epoch > self.patience:
                break
        self.model.load_state_dict(best_state)
        return history

    @torch.no_grad()
    def predict(self, data: Data) -> Tensor:
        """Predicted classes of all nodes."""
        if self.model is None:
            raise RuntimeError("call fit() before predict()")
        self.model.eval()
        return self.model(data.x, data.edge_index).argmax(dim=1)
