r"""The one interface of every noisy-label method the benchmark runs, and the one base class of
the baselines.

:class:`Method` is the interface (options keyword-only; the shared ``protocol``, ``seed``,
``device``, ``verbose`` checked once; ``fit(data, *, y_noisy=None, noise_mask=None) ->
History``, ``predict()``, ``to_dict()``)::

    method = SomeMethod(*, <its options>, protocol="paper", seed=None, device=None,
                        verbose=False)
    history = method.fit(data, y_noisy=None, noise_mask=None)   # -> History
    pred = method.predict()                                      # [N] classes
    record = method.to_dict()                                    # options, what fit found

:class:`Baseline` is every baseline of :data:`noisygraph.baselines.METHODS` (the robust-training
ones and the cleaners; ``RobustBaseline`` and ``CleaningMethod`` are its other names): an
optional cleaning step (:meth:`Baseline.clean`, :class:`CleaningOutcome`), then the final GCN
training (:meth:`Baseline._fit`, plain cross-entropy unless a method overrides it) on what the
cleaner kept, recorded per epoch in a :class:`~noisygraph.history.History`.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_device, check_int, check_real
from noisygraph.baselines.gcn import GCNResult, GCNTrainer
from noisygraph.history import History
from noisygraph.metrics import accuracy
from noisygraph.protocols import check_fitted_graph, check_protocol, fit_inputs, selection_labels

#: ``callback(epoch, logits [N, C], loss)`` handed to the final :class:`GCNTrainer`
Callback = Callable[[int, Tensor, float], None]


class Method(ABC):
    r"""The interface every benchmarked method follows (the baselines through
    :class:`Baseline`, ERASE through :class:`noisygraph.bench.ERASEMethod`).

    Args:
        protocol (str, optional): ``"paper"`` (model selection on clean validation labels) or
            ``"noisy-val"`` (on noisy ones). (default: ``"paper"``)
        seed (int, optional): seeds what the method draws; :obj:`None` draws from the global
            RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): show progress bars. (default: :obj:`False`)
    """

    #: Bumped whenever the method's defaults or training change what it computes; part of
    #: every ``noisygraph bench`` cache key, so a cell of the older method is never reused.
    revision: ClassVar[int] = 1

    def __init__(self, *, protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = False):
        check_protocol(protocol)
        self.protocol = protocol
        self.seed = check_int("seed", seed, low=0, optional=True)
        self.device = check_device("device", device)
        self.verbose = check_bool("verbose", verbose)
        self.history: Optional[History] = None

    @abstractmethod
    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Trains on ``y_noisy[data.train_mask]`` (default ``data.y_noisy``) and returns the
        per-epoch :class:`~noisygraph.history.History`."""

    @abstractmethod
    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes ``[N]`` of all nodes."""

    def to_dict(self) -> dict[str, Any]:
        """The method's class, its options and fitted scalars (every public attribute that is
        a number, a string, a flag or :obj:`None`), and the selected epoch and test accuracy
        once :meth:`fit` ran; JSON-ready."""
        record: dict[str, Any] = {"method": type(self).__name__}
        for name, value in vars(self).items():
            if name.startswith("_") or name == "history":
                continue
            if value is None or isinstance(value, (bool, int, float, str)):
                record[name] = value
            elif isinstance(value, torch.device):
                record[name] = str(value)
        if self.history is not None:
            record["best_epoch"] = self.history.best_epoch
            record["test_acc"] = self.history.test_acc
        return record


@dataclass
class CleaningOutcome:
    """What a cleaner made of the training labels.

    Attributes:
        nodes (torch.Tensor): ids of the training nodes ``[n]`` (in ``train_mask`` order).
        flagged (torch.Tensor): bool ``[n]``, the nodes whose label the cleaner judged wrong.
        labels (torch.Tensor): ``[n]`` the labels the final model trains on (the noisy label,
            or the cleaner's replacement where it relabelled).
        keep (torch.Tensor): bool ``[n]``, the nodes the final model trains on.
        scores (torch.Tensor, optional): ``[n]`` label-quality scores in ``[0, 1]`` (low:
            likely wrong), when the cleaner computes them.
    """

    nodes: Tensor
    flagged: Tensor
    labels: Tensor
    keep: Tensor
    scores: Optional[Tensor] = None

    @property
    def label_issues(self) -> Tensor:
        """Ids of the flagged training nodes."""
        return self.nodes[self.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes.tolist(), "flagged": self.flagged.tolist(),
                "labels": self.labels.tolist(), "keep": self.keep.tolist(),
                "num_flagged": int(self.flagged.sum()), "num_kept": int(self.keep.sum())}


class Baseline(Method):
    r"""The shell of every baseline: ``fit`` checks the data against the protocol
    (:func:`~noisygraph.protocols.fit_inputs`) and picks the validation labels model
    selection may read (clean ``data.y`` under ``"paper"``, the noisy ones under
    ``"noisy-val"``); a cleaner's :meth:`clean` then judges the noisy training labels
    (:class:`CleaningOutcome`; the training set shrinks to the kept nodes, relabelled ones
    take the cleaner's label), and :meth:`_fit` trains the final 2-layer GCN
    (:class:`~noisygraph.baselines.GCNTrainer`) on the result, each method's loss or
    networks plugged in; its epochs are recorded in the returned
    :class:`~noisygraph.history.History`. Every GCN trained on the way selects its epoch on
    the protocol's validation labels.

    Seeds: the GCNs of one fit get ``seed + seed_step * i`` (GCN :math:`i`): the
    robust-training baselines (``seed_step = 0``) give every GCN ``seed`` (the same
    initialisation under different losses), the cleaners (``seed_step = 1``) ``seed + i``
    (their folds and the final model start differently); both as their recorded figures
    were measured. A cleaner's own draws (:meth:`generator`) come from ``seed + 7919``.

    Args:
        hidden_channels (int, optional): GCN hidden width. (default: ``64``)
        dropout (float, optional): (default: ``0.5``, Kipf & Welling's)
        lr (float, optional): Adam learning rate. (default: ``0.01``, Kipf & Welling's)
        weight_decay (float, optional): (default: ``5e-4``, Kipf & Welling's)
        epochs (int, optional): maximum epochs of each GCN. (default: ``400``, as ERASE's
            trainer)
        patience (int, optional): epochs without a better validation accuracy before
            stopping. (default: ``150``, as ERASE's trainer)
        batch_size (int, optional): train every GCN on mini-batches of this many training
            nodes with sampled neighbourhoods (:class:`~noisygraph.baselines.GCNTrainer`'s
            mini-batch mode; a method's per-node loss then sees one batch at a time). The
            methods whose training needs every training node at each step (Co-teaching's
            two networks and per-epoch selection, ELR's per-node running targets) have
            ``mini_batch = False`` and reject it. (default: :obj:`None`, full batch)
        num_neighbors (Sequence[int], optional): fan-out of the two hops with
            ``batch_size``. (default: :obj:`None`, the trainer's ``(5, 5)``)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        seed (int, optional): seeds initialisation and dropout of every GCN the method
            trains (see above) and a cleaner's draws, without touching the global RNG;
            :obj:`None` draws from the global RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): show progress bars. (default: :obj:`False`)
    """

    #: seed offset between the successive GCNs of one fit (see the class docstring)
    seed_step: int = 0
    #: whether the method's GCNs may train in mini-batches (``batch_size``)
    mini_batch: bool = True

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 batch_size: Optional[int] = None,
                 num_neighbors: Optional[Sequence[int]] = None,
                 protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = False):
        super().__init__(protocol=protocol, seed=seed, device=device, verbose=verbose)
        self.gcn_options = dict(
            hidden_channels=check_int("hidden_channels", hidden_channels, low=1),
            dropout=check_real("dropout", dropout, low=0.0, high=1.0, high_open=True),
            lr=check_real("lr", lr, low=0.0, low_open=True),
            weight_decay=check_real("weight_decay", weight_decay, low=0.0),
            epochs=check_int("epochs", epochs, low=1),
            patience=check_int("patience", patience, low=0))
        if batch_size is not None and not self.mini_batch:
            raise ValueError(f"batch_size: {type(self).__name__} trains on every training "
                             "node at each step (full batch only)")
        if batch_size is not None or num_neighbors is not None:
            checked = GCNTrainer(batch_size=batch_size, num_neighbors=num_neighbors)
            self.gcn_options.update(batch_size=checked.batch_size,
                                    num_neighbors=checked.num_neighbors)
        self.cleaning: Optional[CleaningOutcome] = None
        self.result: Optional[GCNResult] = None
        self._fitted_graph: Optional[Data] = None
        self._trainers = 0

    # ------------------------------------------------------------- building blocks

    def next_seed(self) -> Optional[int]:
        """The seed of the next GCN of this fit (see the class docstring)."""
        seed = None if self.seed is None else self.seed + self.seed_step * self._trainers
        self._trainers += 1
        return seed

    def gcn_trainer(self, **plugins: Any) -> GCNTrainer:
        """A fresh :class:`GCNTrainer` with the method's GCN options, the next seed and the
        given plug-ins (``loss=``, ``step_loss=``, ``networks=``, ...)."""
        return GCNTrainer(**self.gcn_options, **plugins, seed=self.next_seed(),
                          device=self.device, verbose=self.verbose)

    def fit_gcn(self, data: Data, labels: Tensor, val_target: Tensor, num_classes: int, *,
                trainer: Optional[GCNTrainer] = None, **options: Any) -> GCNResult:
        """``trainer.fit`` (default: a fresh :meth:`gcn_trainer`) on ``labels`` of the
        training nodes, selecting on ``val_target`` of the validation nodes; ``options``
        override :meth:`GCNTrainer.fit`'s arguments (``train_nodes=``, ``callback=``,
        ``edge_weight=``, ``sample_weight=``, ...)."""
        trainer = self.gcn_trainer() if trainer is None else trainer
        arguments = dict(train_nodes=data.train_mask, train_labels=labels,
                         val_nodes=data.val_mask, val_labels=val_target,
                         num_classes=num_classes)
        arguments.update(options)
        return trainer.fit(data, **arguments)

    def generator(self, device: torch.device) -> Optional[torch.Generator]:
        """The cleaner's own RNG (seeded from ``seed``), or :obj:`None` (global RNG)."""
        if self.seed is None:
            return None
        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed + 7919)
        return generator

    # ------------------------------------------------------------- the steps of fit

    def clean(self, data: Data, y_noisy: Tensor, nodes: Tensor, val_labels: Tensor,
              num_classes: int) -> Optional[CleaningOutcome]:
        """The cleaner's verdict on the training nodes ``nodes`` (the cleaners override
        this); :obj:`None`, the default, trains on every noisy label as given."""
        return None

    def _fit(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
             callback: Optional[Callback]) -> GCNResult:
        """The final model: plain cross-entropy on the training nodes' labels (methods
        override this, reading no label but ``y_noisy`` on the training nodes and
        ``val_target``)."""
        return self.fit_gcn(data, y_noisy, val_target, num_classes, callback=callback)

    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Cleans ``y_noisy[data.train_mask]`` (cleaners), then trains the final model on the
        result and keeps its best-validation epoch.

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
            History: per-epoch ``loss``, ``train_acc``/``val_acc``/``test_acc`` of the final
            model, the selected epoch and its test accuracy. :attr:`cleaning` holds a
            cleaner's :class:`CleaningOutcome`.
        """
        self._fitted_graph = data
        data, y_noisy, val_target, num_classes = fit_inputs(data, y_noisy, self.protocol,
                                                            noise_mask, self.device)
        self._trainers = 0
        nodes = data.train_mask.nonzero().view(-1)
        self.cleaning = self.clean(data, y_noisy, nodes, val_target, num_classes)
        if self.cleaning is not None and not bool(self.cleaning.keep.any()):
            self.cleaning.keep = torch.ones_like(self.cleaning.keep)  # never train on nothing
        self.history = self.train_final(data, y_noisy, val_target, num_classes, noise_mask)
        return self.history

    def train_final(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
                    noise_mask: Optional[Tensor]) -> History:
        """:meth:`_fit` on the cleaned data (:meth:`cleaned_data`; the data as given without
        a cleaning step), each epoch logged."""
        if self.cleaning is not None:
            data, y_noisy, noise_mask = self.cleaned_data(data, y_noisy, noise_mask)
            val_target = selection_labels(data, y_noisy, self.protocol)
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

    def cleaned_data(self, data: Data, y_noisy: Tensor, noise_mask: Optional[Tensor]
                     ) -> tuple[Data, Tensor, Optional[Tensor]]:
        """``data`` with ``train_mask`` reduced to the kept nodes, the labels with the
        cleaner's replacements, and the noise record extended to the training nodes (their
        labels are the noisy ones, whatever the cleaner made of them)."""
        outcome = self.cleaning
        cleaned = data.clone()
        cleaned.train_mask = data.train_mask.clone()
        cleaned.train_mask[outcome.nodes[~outcome.keep]] = False
        labels = y_noisy.clone()
        labels[outcome.nodes] = outcome.labels
        cleaned.y_noisy = labels
        record = noise_mask if noise_mask is not None else getattr(data, "noise_mask", None)
        if record is not None:
            record = record.to(data.train_mask.device) | data.train_mask
        return cleaned, labels, record

    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes ``[N]`` of all nodes of the graph :meth:`fit` trained on
        (``data``: that graph or :obj:`None`; the method is transductive, another graph is a
        ``ValueError``)."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        check_fitted_graph(data, self._fitted_graph, type(self).__name__)
        return self.result.predict()

    def to_dict(self) -> dict[str, Any]:
        """:meth:`Method.to_dict` plus the GCN options and, for a cleaner, how many training
        labels it flagged and kept."""
        record = super().to_dict()
        record.update(self.gcn_options)
        if self.cleaning is not None:
            record["num_flagged"] = int(self.cleaning.flagged.sum())
            record["num_kept"] = int(self.cleaning.keep.sum())
        return record


#: the names of the baselines' one base class before the merge
RobustBaseline = CleaningMethod = Baseline
