"""Locle's use of the shared GCN trainer: model selection on held-out annotations only."""
from __future__ import annotations

import torch
from torch import Tensor

from noisygraph._validation import check_fraction
from noisygraph.baselines import GCNTrainer

#: epochs without held-out improvement before a Locle GCN stops (set by the developer; no
#: comparison on any score is recorded for it)
PATIENCE = 50


def split_holdout(nodes: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Random (seeded) split of annotated ``nodes`` into training and held-out parts
    (``round(val_fraction * len(nodes))`` held out)."""
    check_fraction("val_fraction", val_fraction, high_open=True)
    generator = torch.Generator().manual_seed(seed)
    order = nodes[torch.randperm(nodes.numel(), generator=generator)]
    num_val = int(round(val_fraction * nodes.numel()))
    return order[num_val:], order[:num_val]


def gcn_trainer(seed: int, hidden_channels: int = 64, epochs: int = 200,
                device=None) -> GCNTrainer:
    """The GCN every Locle method trains: Kipf & Welling's optimiser settings, the epoch with
    the best held-out agreement kept (ties: the lower held-out loss); on ``device`` (default:
    the features' device)."""
    return GCNTrainer(hidden_channels=hidden_channels, epochs=epochs, patience=PATIENCE,
                      tie_break="val-loss", seed=seed, device=device)
