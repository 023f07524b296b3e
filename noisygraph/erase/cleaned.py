r"""Detection helping training: ERASE (Chen et al., "ERASE: Error-Resilient Representation
Learning on Graphs for Label Noise Tolerance", CIKM 2024, https://arxiv.org/abs/2312.08852)
trained on the labels confident learning kept (:class:`ConfidentERASE`); the final ERASE step
is the mixin :class:`ERASEOnKeptLabels`, shared with ``noisygraph.detection``'s
``DetectionERASE``.

Confident learning (:class:`~noisygraph.baselines.confident.ConfidentLearning`: :math:`k`-fold
GCN probabilities, the confident joint, pruning by noise rate) flags the training labels it
judges wrong; ERASE then trains with those nodes removed from the training set (or relabelled
to their out-of-sample arg-max with ``relabel=True``), its own label pre-correction and
semantic labels running on what is left.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_int, check_real
from noisygraph.baselines.confident import ConfidentLearning
from noisygraph.erase.trainer import ERASETrainer
from noisygraph.history import History
from noisygraph.nn.erase import ERASE
from noisygraph.protocols import check_fitted_graph


class ERASEOnKeptLabels:
    r"""Mixin of a cleaning :class:`~noisygraph.baselines.Baseline`: its final model is ERASE
    (not a GCN), trained on the training labels the cleaner kept (relabelled ones with the
    cleaner's label). Put it before the cleaner's class in the bases. Its options
    (``erase_lr``, ``erase_epochs``, ``erase_patience``, ``erase_hidden_channels``,
    ``erase_out_channels``, the paper's values by default) are documented with
    :class:`ConfidentERASE`; the rest go to the cleaner.
    """

    def __init__(self, *, erase_lr: float = 1e-3, erase_epochs: int = 400,
                 erase_patience: int = 150, erase_hidden_channels: int = 256,
                 erase_out_channels: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.erase_lr = check_real("erase_lr", erase_lr, low=0.0, low_open=True)
        self.erase_epochs = check_int("erase_epochs", erase_epochs, low=1)
        self.erase_patience = check_int("erase_patience", erase_patience, low=0)
        self.erase_hidden = check_int("erase_hidden_channels", erase_hidden_channels, low=1)
        self.erase_out = check_int("erase_out_channels", erase_out_channels, low=1)
        self.erase: Optional[ERASETrainer] = None

    def train_final(self, data: Data, y_noisy: Tensor, val_target: Tensor, num_classes: int,
                    noise_mask: Optional[Tensor]) -> History:
        cleaned, labels, noise_mask = self.cleaned_data(data, y_noisy, noise_mask)
        seed = self.next_seed()
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:  # ERASE initialises and drops out from the global RNG
                torch.manual_seed(seed)
            model = ERASE(data.num_features, hidden_channels=self.erase_hidden,
                          out_channels=self.erase_out)
            self.erase = ERASETrainer(model, lr=self.erase_lr, epochs=self.erase_epochs,
                                      patience=self.erase_patience, protocol=self.protocol,
                                      device=self.device, seed=seed, verbose=self.verbose)
            history = self.erase.fit(cleaned, y_noisy=labels, noise_mask=noise_mask)
        self._erase_data = cleaned
        return history

    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes ``[N]`` of all nodes of the graph :meth:`fit` trained on
        (``data``: that graph or :obj:`None`, as the other cleaners)."""
        if self.erase is None:
            raise RuntimeError("call fit() before predict()")
        check_fitted_graph(data, self._fitted_graph, type(self).__name__)
        return self.erase.predict(self._erase_data)


class ConfidentERASE(ERASEOnKeptLabels, ConfidentLearning):
    r"""ERASE on the training labels confident learning kept.

    Args:
        erase_lr (float, optional): ERASE's learning rate. (default: ``1e-3``, the paper's)
        erase_epochs (int, optional): ERASE's maximum epochs. (default: ``400``, the paper's)
        erase_patience (int, optional): (default: ``150``, the paper's)
        erase_hidden_channels (int, optional): ERASE encoder's hidden width per head.
            (default: ``256``, the paper's)
        erase_out_channels (int, optional): embedding width. (default: ``512``, the paper's)
        **kwargs: the options of :class:`~noisygraph.baselines.confident.ConfidentLearning`
            (``num_folds``, ``relabel``, the GCN options of the detection step, ``protocol``,
            ``seed``, ``device``, ``verbose``). ERASE's loss and propagation keep
            :class:`~noisygraph.erase.ERASETrainer`'s defaults (the paper's for Cora).
    """
