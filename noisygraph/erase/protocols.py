"""Moved to :mod:`noisygraph.protocols` (shared by ERASE and the baselines); re-exported here
so ``noisygraph.erase.protocols`` keeps working."""
from noisygraph.protocols import (PROTOCOLS, check_node_data, check_noisy_validation,
                                  check_protocol, noisy_labels, selection_labels)

__all__ = ["PROTOCOLS", "check_node_data", "check_noisy_validation", "check_protocol",
           "noisy_labels", "selection_labels"]
