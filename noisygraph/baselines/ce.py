r"""Plain cross-entropy training of the shared GCN under the evaluation protocols of learning
with noisy labels (the GCN baseline of every ERASE table), and :class:`RobustBaseline`, the
interface every robust-training baseline of :mod:`noisygraph.baselines` follows::

    method = SomeMethod(*, <its options>, protocol="paper", seed=None, device=None,
                        verbose=False)
    history = method.fit(data, *, y_noisy=None, noise_mask=None)   # -> History
    pred = method.predict()                                          # [N] classes
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool
from noisygraph.baselines.gcn import GCNResult, GCNTrainer
from noisygraph.history import History
from noisygraph.metrics import accuracy
from noisygraph.protocols import check_protocol, fit_inputs

#: ``callback(epoch, logits [N, C], loss)`` handed to the final :class:`GCNTrainer`
Callback = Callable[[int, Tensor, float], None]


class RobustBaseline:
    r"""The shared shape of the baselines: options keyword-only, ``fit(data, *, y_noisy,
    noise_mask) -> History``, ``predict()``. ``fit`` checks the data against the protocol
    (:func:`~noisygraph.protocols.check_node_data`), picks the validation labels model
    selection may read (clean ``data.y`` under ``"paper"``, the noisy ones under
    ``"noisy-val"``) and hands them to :meth:`_fit`, which each method overrides; the
    per-epoch history records the final model's training.

    Args:
        hidden_channels (int, optional): GCN hidden width. (default: ``64``)
        dropout (float, optional): (default: ``0.5``, Kipf & Welling's)
        lr (float, optional): Adam learning rate. (default: ``0.01``, Kipf & Welling's)
        weight_decay (float, optional): (default: ``5e-4``, Kipf & Welling's)
        epochs (int, optional): maximum epochs. (default: ``400``, as ERASE's trainer)
        patience (int, optional): epochs without a better validation accuracy before
            stopping. (default: ``150``, as ERASE's trainer)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        seed (int, optional): seeds initialisation and dropout of every GCN the method
            trains, without touching the global RNG; :obj:`None` draws from the global RNG.
            (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): show progress bars. (default: :obj:`False`)
    """

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = False):
        check_protocol(protocol)
        self.protocol = protocol
        self._gcn = dict(hidden_channels=hidden_channels, dropout=dropout, lr=lr,
                         weight_decay=weight_decay, epochs=epochs, patience=patience,
                         seed=seed, device=device, verbose=check_bool("verbose", verbose))
        self.trainer = self.gcn_trainer()  # validates the shared options at construction
        self.result: Optional[GCNResult] = None

    def gcn_trainer(self, **plugins: Any) -> GCNTrainer:
        """A :class:`GCNTrainer` with the method's shared options and the given plug-ins."""
        return GCNTrainer(**self._gcn, **plugins)

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
                :func:`~noisygraph.protocols.check_noisy_validation`).
                (default: :obj:`None`, ``data.noise_mask`` when set)

        Returns:
            History: per-epoch ``loss``, ``train_acc``/``val_acc``/``test_acc``, the selected
            epoch and its test accuracy.
        """
        data, y_noisy, val_target, num_classes = fit_inputs(data, y_noisy, self.protocol,
                                                            noise_mask, self.trainer.device)
        history, clock = History(), [time.perf_counter()]

        def log(epoch: int, logits: Tensor, loss: float) -> None:
            pred = logits.argmax(dim=1)
            now = time.perf_counter()
            history.log(epoch=epoch, loss=loss, train_acc=accuracy(pred, data.y, data.train_mask),
                        val_acc=accuracy(pred, val_target, data.val_mask),
                        test_acc=accuracy(pred, data.y, data.test_mask), seconds=now - clock[0])
            clock[0] = now

        self.result = self._fit(data, y_noisy, val_target, num_classes, log)
        history.best_epoch, history.best_val_acc = self.result.epoch, self.result.val_accuracy
        history.test_acc = accuracy(self.result.predict(), data.y, data.test_mask)
        return history

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        """Plain training of :attr:`trainer` on the noisy training labels (methods override
        this, reading no label but ``y_noisy`` on the training nodes and ``val_target``)."""
        return self.fit_gcn(self.trainer, data, y_noisy, val_target, num_classes, callback)

    @staticmethod
    def fit_gcn(trainer: GCNTrainer, data: Data, y_noisy: Tensor, val_target: Tensor,
                num_classes: int, callback: Optional[Callback] = None, **kwargs: Any
                ) -> GCNResult:
        """``trainer.fit`` on the training nodes' noisy labels, selecting on ``val_target``
        (``kwargs`` override, e.g. other training nodes or an augmented graph)."""
        options = dict(train_nodes=data.train_mask, train_labels=y_noisy,
                       val_nodes=data.val_mask, val_labels=val_target, num_classes=num_classes,
                       callback=callback)
        options.update(kwargs)
        return trainer.fit(data, **options)

    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes of all nodes of the graph :meth:`fit` trained on."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        return self.result.predict()


class GCNBaseline(RobustBaseline):
    r"""A 2-layer GCN trained with cross-entropy on the noisy training labels,
    :math:`\min_\theta \frac{1}{n}\sum_{i \in \mathcal{L}} -\log p_\theta(\tilde y_i \mid
    \mathbf{X}, \mathbf{A})`, the epoch selected on the validation labels of the protocol
    (clean under ``"paper"``, noisy under ``"noisy-val"``, as
    :class:`~noisygraph.erase.ERASETrainer`); training stops after ``patience`` epochs without
    a better validation accuracy. Registered as ``"ce"`` (alias ``"gcn"``) in
    :data:`noisygraph.baselines.METHODS`; the options are :class:`RobustBaseline`'s.
    """
