"""Seeding: one call seeds every random number generator a run draws from.

(A module named for its one job, as ``torch.random``; a ``utils`` module would invite
unrelated helpers.)"""
from __future__ import annotations

import random

import numpy as np
import torch

from noisygraph._validation import check_int


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and PyTorch (all devices) with an int ``seed >= 0``."""
    seed = check_int("seed", seed, low=0)
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
