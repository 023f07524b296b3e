"""Optional dependencies: imported where they are needed, with an error naming the extra.

``pip install noisygraph`` installs the core (torch, PyG, numpy, scipy, tqdm, matplotlib);
the extras of ``pyproject.toml`` add the rest: ``ogb`` (OGB loaders), ``text`` (the offline
sentence model for Locle), ``bench`` (networkx, for the benchmarks and the clustering example), ``metis``
(pymetis, for ``Adjacency.reorder('metis')``).
"""
from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``import module``, or an ``ImportError`` saying which extra installs it.

    Args:
        module (str): the module to import, e.g. ``"sentence_transformers"``.
        extra (str): the extra of the ``noisygraph`` distribution that installs it.
        purpose (str): what needs it, e.g. ``"load_ogb"``.

    Raises:
        ImportError: ``module`` is not installed (or fails to import); the message names the
            package, the extra and the command that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{purpose} needs the optional package '{module.split('.')[0]}', which is not "
                          f"installed: pip install \"noisygraph[{extra}]\" ({error})") from None
