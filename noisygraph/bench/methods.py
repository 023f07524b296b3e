"""The methods :mod:`noisygraph.bench` can run, looked up by name.

Every method is a :class:`noisygraph.baselines.Method`, one interface::

    method = Kind(*, protocol="paper", seed=0, device=None, verbose=False, **options)
    history = method.fit(data, y_noisy=..., noise_mask=...)   # -> noisygraph.history.History
    pred = method.predict()                                   # classes of every node
    record = method.to_dict()                                 # options, selected epoch

:data:`METHODS` holds the ones defined here (``"gcn"``: :class:`~noisygraph.baselines.GCNBaseline`;
``"cl-erase"``: :class:`~noisygraph.erase.ConfidentERASE`;
``"erase"``: :class:`ERASEMethod`). :func:`method_registry` adds every entry of
``noisygraph.baselines.METHODS`` (the robust-training and cleaning baselines) and of
``noisygraph.detection.METHODS`` (``"detect-gcn"``, ``"detect-erase"``: training on the labels
the graph-aware detector keeps), so a method registered there is benchmarked without a change
here.
"""
from __future__ import annotations

import importlib
import inspect
from typing import Optional

from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_type
from noisygraph.baselines import GCNBaseline, Method
from noisygraph.erase import ERASE, ConfidentERASE, ERASETrainer
from noisygraph.history import History
from noisygraph.random import seed_everything

#: Packages whose ``METHODS`` dict (name -> class) joins the registry when it exists.
REGISTRY_PACKAGES = ("noisygraph.baselines", "noisygraph.detection")


class ERASEMethod(Method):
    r"""ERASE (:class:`~noisygraph.erase.ERASETrainer` on a fresh
    :class:`~noisygraph.nn.ERASE` encoder) behind the benchmark interface: the encoder is
    built in :meth:`fit`, once the number of features is known.

    Args:
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        seed (int, optional): :meth:`fit` seeds every RNG with it
            (:func:`~noisygraph.random.seed_everything`) before building the encoder, as
            ``noisygraph erase`` does per run; :obj:`None` leaves the RNGs alone.
            (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        verbose (bool, optional): progress bar. (default: :obj:`True`)
        **options: any other :class:`~noisygraph.erase.ERASETrainer` argument (``epochs``,
            ``patience``, ``gamma1``, ...); its defaults are the release's Cora values.
    """

    def __init__(self, *, protocol: str = "paper", seed: Optional[int] = None, device=None,
                 verbose: bool = True, **options):
        super().__init__(protocol=protocol, seed=seed, device=device, verbose=verbose)
        self.options = dict(options, protocol=self.protocol, seed=self.seed, device=self.device,
                            verbose=self.verbose)
        self.trainer: Optional[ERASETrainer] = None
        self._data: Optional[Data] = None

    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Builds the encoder for ``data.num_features`` and trains it
        (:meth:`~noisygraph.erase.ERASETrainer.fit`)."""
        check_type("data", data, Data)
        if self.seed is not None:
            seed_everything(self.seed)
        self.trainer = ERASETrainer(ERASE(data.num_features), **self.options)
        self._data = data
        self.history = self.trainer.fit(data, y_noisy=y_noisy, noise_mask=noise_mask)
        return self.history

    def predict(self, data: Optional[Data] = None) -> Tensor:
        """Predicted classes of all nodes (of ``data``, default the graph :meth:`fit` saw)."""
        if self.trainer is None:
            raise RuntimeError("call fit() before predict()")
        return self.trainer.predict(data if data is not None else self._data)

    def to_dict(self) -> dict:
        """:meth:`~noisygraph.baselines.Method.to_dict` plus the trainer options given."""
        record = super().to_dict()
        record.update({key: value for key, value in self.options.items()
                       if value is None or isinstance(value, (bool, int, float, str))})
        return record


#: The methods defined in this package's dependencies, by name.
METHODS = {"gcn": GCNBaseline, "erase": ERASEMethod, "cl-erase": ConfidentERASE}


def method_registry() -> dict:
    """Every benchmarkable method, name -> class: :data:`METHODS`, then the ``METHODS`` of
    each package of :data:`REGISTRY_PACKAGES` that has one (a name already taken keeps its
    first class)."""
    registry = dict(METHODS)
    for package in REGISTRY_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError as error:
            if error.name != package:
                raise
            continue
        for name, kind in getattr(module, "METHODS", {}).items():
            registry.setdefault(name, kind)
    return registry


def get_method(name: str):
    """The class registered under ``name``.

    Raises:
        ValueError: ``name`` is not registered (the message lists the registered names).
    """
    registry = method_registry()
    if not isinstance(name, str) or name not in registry:
        raise ValueError(f"methods: unknown method {name!r} (known: {', '.join(sorted(registry))})")
    return registry[name]


def build_method(name: str, *, protocol: str, seed: int, device=None, verbose: bool = False,
                 **options):
    """An instance of method ``name`` with the shared arguments and ``options`` (those whose
    value is :obj:`None` are left to the method's defaults).

    Raises:
        ValueError: unknown ``name``, or an option the method does not take.
    """
    kind = get_method(name)
    options = {key: value for key, value in options.items() if value is not None}
    parameters = inspect.signature(kind).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(key for key in options if key not in parameters and not takes_any)
    if unknown:
        raise ValueError(f"method {name!r} takes no option {', '.join(unknown)}")
    return kind(protocol=protocol, seed=seed, device=device, verbose=verbose, **options)
