"""What the cleaning baselines share: the split of the training nodes into kept / relabelled /
dropped ones (:class:`CleaningOutcome`), and :class:`CleaningMethod`, the ``fit`` / ``predict``
shell (protocol checks, a cleaning step, a final GCN on the cleaned labels) every cleaner
follows, as :class:`~noisygraph.erase.GCNBaseline` does."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool, check_device, check_int, check_real
from noisygraph.baselines.gcn import GCNResult, GCNTrainer
from noisygraph.baselines.ce import GCNBaseline
from noisygraph.history import History
from noisygraph.protocols import check_protocol, fit_inputs


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


class CleaningMethod(ABC):
    r"""The shell of a cleaning baseline: ``fit`` checks the data against the protocol,
    runs the subclass's :meth:`clean` on the noisy training labels, then trains a 2-layer
    GCN (:class:`~noisygraph.baselines.GCNTrainer`) on what the cleaner kept, the epoch
    selected on the protocol's validation labels (clean under ``"paper"``, noisy under
    ``"noisy-val"``). Every GCN a cleaner trains on the way selects its epoch the same way.

    Args:
        hidden_channels, dropout, lr, weight_decay: the GCNs' (defaults ``64``, ``0.5``,
            ``0.01``, ``5e-4``: Kipf & Welling's, as :class:`~noisygraph.erase.GCNBaseline`).
        epochs (int, optional): maximum epochs of each GCN. (default: ``400``)
        patience (int, optional): (default: ``150``, as :class:`~noisygraph.erase.GCNBaseline`)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        seed (int, optional): seeds every GCN (GCN :math:`i` of a run gets ``seed + i``) and
            the cleaner's own draws, leaving the global RNG alone; :obj:`None` draws from the
            global RNG. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): progress bars. (default: :obj:`False`)
    """

    def __init__(self, *, hidden_channels: int = 64, dropout: float = 0.5, lr: float = 0.01,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = False):
        check_protocol(protocol)
        self.protocol = protocol
        self.gcn_options = dict(
            hidden_channels=check_int("hidden_channels", hidden_channels, low=1),
            dropout=check_real("dropout", dropout, low=0.0, high=1.0, high_open=True),
            lr=check_real("lr", lr, low=0.0, low_open=True),
            weight_decay=check_real("weight_decay", weight_decay, low=0.0),
            epochs=check_int("epochs", epochs, low=1),
            patience=check_int("patience", patience, low=0))
        self.seed = check_int("seed", seed, low=0, optional=True)
        self.device = check_device("device", device)
        self.verbose = check_bool("verbose", verbose)
        self.cleaning: Optional[CleaningOutcome] = None
        self.result: Optional[GCNResult] = None
        self.final = None
        self._trainers = 0

    def trainer(self, **overrides) -> GCNTrainer:
        """A fresh :class:`GCNTrainer` with this method's options (the next seed)."""
        seed = None if self.seed is None else self.seed + self._trainers
        self._trainers += 1
        return GCNTrainer(**{**self.gcn_options, **overrides}, seed=seed, device=self.device,
                          verbose=self.verbose)

    def generator(self, device: torch.device) -> Optional[torch.Generator]:
        """The cleaner's own RNG (seeded from ``seed``), or :obj:`None` (global RNG)."""
        if self.seed is None:
            return None
        generator = torch.Generator(device=device)
        generator.manual_seed(self.seed + 7919)
        return generator

    @abstractmethod
    def clean(self, data: Data, y_noisy: Tensor, nodes: Tensor, val_labels: Tensor,
              num_classes: int) -> CleaningOutcome:
        """The cleaner's verdict on the training nodes ``nodes`` (each subclass defines it)."""

    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Cleans ``y_noisy[data.train_mask]``, then trains the final model on the result.

        Args:
            data (Data): the graph with ``x``, ``edge_index``, clean ``y`` (scoring; selection
                under ``"paper"``) and the three masks.
            y_noisy (torch.Tensor, optional): ``[N]`` noisy labels. (default: ``data.y_noisy``)
            noise_mask (torch.Tensor, optional): ``[N]`` bool, the nodes whose labels were
                drawn from a noise model; ``"noisy-val"`` requires it to cover the validation
                nodes (see :func:`~noisygraph.erase.protocols.check_noisy_validation`).
                (default: :obj:`None`, ``data.noise_mask`` when set)

        Returns:
            History: per-epoch ``loss``, ``train_acc``/``val_acc``/``test_acc`` of the final
            model, its selected epoch and test accuracy. :attr:`cleaning` holds the
            :class:`CleaningOutcome`.
        """
        data, y_noisy, val_target, num_classes = fit_inputs(data, y_noisy, self.protocol,
                                                            noise_mask, self.device)
        self._trainers = 0
        nodes = data.train_mask.nonzero().view(-1)
        self.cleaning = self.clean(data, y_noisy, nodes, val_target, num_classes)
        if not bool(self.cleaning.keep.any()):  # never train on nothing: keep every label
            self.cleaning.keep = torch.ones_like(self.cleaning.keep)
        return self.train_final(data, y_noisy, val_target, num_classes, noise_mask)

    def train_final(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
                    noise_mask: Optional[Tensor]) -> History:
        """The final model: :class:`~noisygraph.erase.GCNBaseline` on the kept nodes (the
        training mask) with the cleaned labels (``val_target``: the protocol's)."""
        cleaned, labels, noise_mask = self.cleaned_data(data, y_noisy, noise_mask)
        seed = None if self.seed is None else self.seed + self._trainers
        self.final = GCNBaseline(**self.gcn_options, protocol=self.protocol, seed=seed,
                                 device=self.device, verbose=self.verbose)
        history = self.final.fit(cleaned, y_noisy=labels, noise_mask=noise_mask)
        self.result = self.final.result
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
        """Predicted classes ``[N]`` of all nodes of the graph :meth:`fit` trained on."""
        if self.result is None:
            raise RuntimeError("call fit() before predict()")
        return self.result.predict()

    def fit_gcn(self, data: Data, nodes: Tensor, labels: Tensor, val_labels: Tensor,
                num_classes: int, **overrides) -> tuple[GCNResult, GCNTrainer]:
        """One GCN of the cleaning step on ``labels`` of ``nodes`` (epoch selected on the
        protocol's validation labels); returns its result and trainer (whose ``model`` is
        the selected model)."""
        trainer = self.trainer(**overrides)
        result = trainer.fit(data, train_nodes=nodes, train_labels=labels,
                             val_nodes=data.val_mask, val_labels=val_labels,
                             num_classes=num_classes)
        return result, trainer
