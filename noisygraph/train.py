"""Shared training pieces: seeding, a per-epoch history that plots itself, model selection
on validation accuracy, and a plain GCN baseline trained with cross-entropy on noisy labels."""
from __future__ import annotations

import copy
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

from noisygraph.metrics import accuracy

PROTOCOLS = ("paper", "noisy-val")


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and PyTorch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def selection_labels(data: Data, y_noisy: Tensor, protocol: str) -> Tensor:
    """The labels model selection may read on the validation nodes: the clean ``data.y``
    under ``"paper"`` (the published protocol), the noisy ``y_noisy`` under ``"noisy-val"``."""
    check_protocol(protocol)
    return data.y if protocol == "paper" else y_noisy


def check_node_data(data: Data, y_noisy: Tensor) -> int:
    """Validates what the trainers read and returns the number of classes."""
    for name in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        if getattr(data, name, None) is None:
            raise ValueError(f"data.{name} is required")
    num_nodes = data.num_nodes
    if data.x.dim() != 2 or data.x.size(0) != num_nodes:
        raise ValueError(f"data.x must have shape [{num_nodes}, F], got {tuple(data.x.shape)}")
    if torch.isnan(data.x).any():
        raise ValueError("data.x contains NaN")
    if not isinstance(y_noisy, Tensor) or y_noisy.shape != (num_nodes,):
        raise ValueError(f"y_noisy must have shape [{num_nodes}]")
    if y_noisy.is_floating_point():
        raise TypeError(f"y_noisy must hold integer classes, got {y_noisy.dtype}")
    for name in ("train_mask", "val_mask", "test_mask"):
        mask = getattr(data, name)
        if mask.dtype != torch.bool or mask.shape != (num_nodes,):
            raise ValueError(f"data.{name} must be a boolean tensor of shape [{num_nodes}]")
        if not bool(mask.any()):
            raise ValueError(f"data.{name} selects no node")
    num_classes = int(getattr(data, "num_classes", 0) or 0)
    num_classes = max(num_classes, int(data.y.max()) + 1, int(y_noisy[data.train_mask].max()) + 1)
    if int(y_noisy[data.train_mask].min()) < 0:
        raise ValueError("y_noisy holds negative training labels")
    return num_classes


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
        if epochs < 1 or patience < 0:
            raise ValueError(f"epochs must be >= 1 and patience >= 0, got {epochs}, {patience}")
        self.hidden_channels, self.dropout = hidden_channels, dropout
        self.lr, self.weight_decay = lr, weight_decay
        self.epochs, self.patience, self.protocol = epochs, patience, protocol
        self.device, self.verbose = device, verbose
        self.model: Optional[torch.nn.Module] = None

    def fit(self, data: Data, y_noisy: Tensor) -> History:
        """Trains on ``y_noisy[data.train_mask]`` and keeps the best-validation weights."""
        from torch_geometric.nn.models import GCN

        num_classes = check_node_data(data, y_noisy)
        device = torch.device(self.device) if self.device is not None else data.x.device
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
