"""Moved to :mod:`noisygraph.history` (shared by ERASE and the baselines); re-exported here so
``noisygraph.erase.history`` keeps working."""
from noisygraph.history import History

__all__ = ["History"]
