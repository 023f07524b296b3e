"""The cleaning baselines, by the names the benchmark runner uses: each cleans the noisy
training labels, then trains a GCN on the result (ERASE on cleaned labels is
:class:`noisygraph.erase.ConfidentERASE`, ``"cl-erase"``); all share the
interface ``Method(*, options, protocol=, seed=, device=, verbose=)``, ``fit(data, *,
y_noisy=None, noise_mask=None) -> History``, ``predict() -> [N]``."""
from noisygraph.baselines.base import CleaningMethod, CleaningOutcome
from noisygraph.baselines.confident import (ConfidentLearning, confident_joint,
                                            out_of_sample_probs, prune_by_noise_rate)
from noisygraph.baselines.propagation_cleaner import (PropagationCleaner,
                                                      leave_one_out_propagation)
from noisygraph.baselines.prototype import PrototypeCleaner, clean_posterior

#: name -> class of every cleaning baseline
CLEANERS = {
    "cl": ConfidentLearning,
    "cpc": PrototypeCleaner,
    "lp-clean": PropagationCleaner,
}

__all__ = ["CLEANERS", "CleaningMethod", "CleaningOutcome",
           "ConfidentLearning", "PropagationCleaner", "PrototypeCleaner", "clean_posterior",
           "confident_joint", "leave_one_out_propagation", "out_of_sample_probs",
           "prune_by_noise_rate"]
