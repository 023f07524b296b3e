"""The GCN baseline of every ERASE table, under ERASE's evaluation protocols, on the shared
:class:`~noisygraph.baselines.GCNTrainer`."""
from __future__ import annotations

import time
from typing import Optional

from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool
from noisygraph.baselines import GCNResult, GCNTrainer
from noisygraph.erase.history import History
from noisygraph.erase.protocols import (check_node_data, check_protocol, noisy_labels,
                                        selection_labels)
from noisygraph.metrics import accuracy


class GCNBaseline:
    r"""A 2-layer GCN trained with cross-entropy on the noisy training labels, the epoch
    selected on the validation labels of the protocol (clean under ``"paper"``, noisy under
    ``"noisy-val"``, as :class:`~noisygraph.erase.ERASETrainer`); training stops after
    ``patience`` epochs without a better validation accuracy.

    Args:
        hidden_channels (int, optional): hidden width. (default: ``64``)
        dropout (float, optional): dropout. (default: ``0.5``)
        lr (float, optional): Adam learning rate. (default: ``0.01``)
        weight_decay (float, optional): Adam weight decay. (default: ``5e-4``)
        epochs (int, optional): maximum epochs. (default: ``400``, as ERASE's trainer)
        patience (int, optional): (default: ``150``, as ERASE's trainer)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        seed (int, optional): seeds initialisation and dropout without touching the global
            RNG; :obj:`None` draws from the global RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): show a progress bar. (default: :obj:`True`)
    """

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = True):
        check_protocol(protocol)
        self.protocol = protocol
        self.trainer = GCNTrainer(hidden_channels=hidden_channels, dropout=dropout, lr=lr,
                                  weight_decay=weight_decay, epochs=epochs, patience=patience,
                                  seed=seed, device=device, verbose=check_bool("verbose", verbose))
        self.result: Optional[GCNResult] = None

    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Trains on ``y_noisy[data.train_mask]`` and keeps the best-validation model.

        Args:
            data (Data): the graph with ``x``, ``edge_index``, clean ``y`` (scoring; selection
                under ``"paper"``) and the three masks.
            y_noisy (torch.Tensor, optional): ``[N]`` noisy labels. (default: ``data.y_noisy``)
            noise_mask (torch.Tensor, optional): ``[N]`` bool, the nodes whose labels in
                ``y_noisy`` were drawn from a noise model; ``"noisy-val"`` requires it to
                cover the validation nodes (see
                :func:`~noisygraph.erase.protocols.check_noisy_validation`).
                (default: :obj:`None`, ``data.noise_mask`` when set)

        Returns:
            History: per-epoch ``loss``, ``train_acc``/``val_acc``/``test_acc``, the selected
            epoch and its test accuracy.
        """
        y_noisy = noisy_labels(data, y_noisy)
        num_classes = check_node_data(data, y_noisy, self.protocol, noise_mask)
        device = self.trainer.device if self.trainer.device is not None else data.x.device
        data, y_noisy = data.to(device), y_noisy.to(device)
        val_target = selection_labels(data, y_noisy, self.protocol)
        history, clock = History(), [time.perf_counter()]

        def log(epoch: int, logits: Tensor, loss: float) -> None:
            pred = logits.argmax(dim=1)
            now = time.perf_counter()
            history.log(epoch=epoch, loss=loss, train_acc=accuracy(pred, data.y, data.train_mask),
                        val_acc=accuracy(pred, val_target, data.val_mask),
                        test_acc=accuracy(pred, data.y, data.test_mask), seconds=now - clock[0])
            clock[0] = now

        self.result = self.trainer.fit(data, train_nodes=data.train_mask, train_labels=y_noisy,
                                       val_nodes=data.val_mask, val_labels=val_target,
                                       num_classes=num_classes, callback=log)
        history.best_epoch, history.best_val_acc = self.result.epoch, self.result.val_accuracy
        history.test_acc = accuracy(self.result.predict(), data.y, data.test_mask)
        return history

    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes of all nodes of the graph :meth:`fit` trained on."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        return self.result.predict()
