"""The evaluation protocols of learning with noisy labels: which labels model selection may
read, and the checks that a run's data and noisy labels fit the protocol (once per ``fit``).

Under ``"paper"`` (the published protocol of ERASE and most noisy-label papers) the epoch is
selected on the clean validation labels; under ``"noisy-val"`` on noisy validation labels drawn
by the same noise model as the training labels, so no ground truth is read before scoring.
"""
from __future__ import annotations

import numbers
from typing import Any, NamedTuple, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from noisygraph._validation import check_bool_mask, check_choice, check_class_labels
from noisygraph_cli.choices import PROTOCOLS  # the names shared with the CLI, defined once


def check_protocol(protocol: str) -> None:
    check_choice("protocol", protocol, PROTOCOLS)


def noisy_labels(data: Any, y_noisy: Optional[Tensor] = None) -> Tensor:
    """The noisy labels a method trains on: ``y_noisy`` when given, else ``data.y_noisy``
    (set by the transform :class:`~noisygraph.noise.AddLabelNoise`; the function
    :func:`~noisygraph.noise.add_label_noise` returns its labels and sets nothing)."""
    if y_noisy is not None:
        return y_noisy
    stored = getattr(data, "y_noisy", None)
    if stored is None:
        raise ValueError("y_noisy is required: pass y_noisy= or put the noisy labels on "
                         "data.y_noisy (AddLabelNoise does; add_label_noise returns them)")
    return stored


def _same_tensor(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.shape != b.shape:
        return False
    return a.dtype == b.dtype and torch.equal(a.cpu(), b.cpu())


def check_fitted_graph(data: Any, fitted: Any, method: str) -> None:
    """The ``data`` of a transductive method's ``predict(data)``: :obj:`None` or the graph
    ``fit`` trained on (the same object, or a ``Data`` with the same number of nodes, equal
    ``x`` and ``edge_index``). Another graph is a ``ValueError``: its predictions would be
    those of the training graph's nodes, silently."""
    if data is None or data is fitted:
        return
    same = (isinstance(data, Data) and isinstance(fitted, Data)
            and data.num_nodes == fitted.num_nodes
            and _same_tensor(getattr(data, "x", None), getattr(fitted, "x", None))
            and _same_tensor(getattr(data, "edge_index", None),
                             getattr(fitted, "edge_index", None)))
    if not same:
        raise ValueError(f"data must be None or the graph fit() trained on: {method} is "
                         "transductive (it predicts the nodes of that graph, read whole); "
                         "fit it on the other graph to classify its nodes")


def selection_labels(data: Data, y_noisy: Tensor, protocol: str) -> Tensor:
    """The labels model selection may read on the validation nodes: the clean ``data.y``
    under ``"paper"`` (the published protocol), the noisy ``y_noisy`` under ``"noisy-val"``."""
    check_protocol(protocol)
    return data.y if protocol == "paper" else y_noisy


def check_node_data(data: Data, y_noisy: Tensor, protocol: str = "paper",
                    noise_mask: Optional[Tensor] = None, *, validation: bool = True) -> int:
    """Validates what the trainers read (once per ``fit``) and returns the number of
    classes :math:`K` (``data.num_classes`` when set, else ``data.y.max() + 1``).

    Checks ``data.x`` (finite, ``[N, F]``), that ``data.edge_index`` is present (its dtype,
    shape and ids are checked once, by the trainer's one graph conversion,
    :func:`~noisygraph.sparse.as_adjacency`), ``data.y`` (integer ``[N]`` in ``[0, K)``),
    the three masks (bool ``[N]``, non-empty), ``y_noisy`` (integer ``[N]``, in ``[0, K)`` on the training nodes and,
    under ``"noisy-val"``, on the validation nodes) and, under ``"noisy-val"``, that the
    validation labels really are noisy (:func:`check_noisy_validation`). With
    ``validation=False`` (a trainer that selects no epoch) only ``train_mask`` is required
    and the protocol's validation checks are skipped.
    """
    check_protocol(protocol)
    if not isinstance(data, Data):
        raise TypeError(f"data must be a torch_geometric.data.Data, got {type(data).__name__}")
    masks = ("train_mask", "val_mask", "test_mask") if validation else ("train_mask",)
    for name in ("x", "edge_index", "y") + masks:
        if getattr(data, name, None) is None:
            raise ValueError(f"data.{name} is required")
    x = data.x
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
        raise ValueError(f"data.x must be a floating-point [N, F] tensor, got "
                         f"{getattr(x, 'dtype', type(x).__name__)} of shape "
                         f"{tuple(getattr(x, 'shape', ()))}")
    num_nodes = x.size(0)
    if num_nodes == 0:
        raise ValueError("data.x has no rows (the graph has no node)")
    if data.num_nodes != num_nodes:
        raise ValueError(f"data.x must have one row per node ({data.num_nodes}), got {num_nodes}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("data.x must be finite (found NaN or inf)")
    check_class_labels("data.y", data.y, num_nodes)
    check_class_labels("y_noisy", y_noisy, num_nodes)
    for name in masks:
        mask = getattr(data, name)
        check_bool_mask(f"data.{name}", mask, num_nodes)
        if not bool(mask.any()):
            raise ValueError(f"data.{name} selects no node")
    stored = getattr(data, "num_classes", None)
    if stored is not None:
        if isinstance(stored, bool) or not isinstance(stored, numbers.Integral) or stored < 1:
            raise ValueError(f"data.num_classes must be a positive int, got {stored!r}")
        stored = int(stored)
    y_min, y_max = int(data.y.min()), int(data.y.max())
    num_classes = stored if stored is not None else y_max + 1
    if y_min < 0 or y_max >= num_classes:
        raise ValueError(f"data.y must lie in [0, data.num_classes={num_classes}), found "
                         f"{y_min if y_min < 0 else y_max}")
    if num_classes < 2:
        raise ValueError(f"data.y must have at least 2 classes, got {num_classes}")
    noisy_val = validation and protocol == "noisy-val"
    read = data.train_mask | data.val_mask if noisy_val else data.train_mask
    where = "training and validation" if noisy_val else "training"
    labels = y_noisy[read]
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"y_noisy must lie in [0, {num_classes}) on the {where} nodes, found "
                         f"{int(labels.min()) if int(labels.min()) < 0 else int(labels.max())}")
    if noisy_val:
        check_noisy_validation(data, y_noisy, noise_mask)
    return num_classes


def check_noisy_validation(data: Data, y_noisy: Tensor,
                           noise_mask: Optional[Tensor] = None) -> None:
    """Under ``protocol="noisy-val"`` model selection reads ``y_noisy[val_mask]``: makes sure
    those labels were corrupted, so that selection never silently sees clean labels.

    The evidence is the record of which nodes went through the noise model: ``noise_mask``,
    else ``data.noise_mask`` (set by :class:`~noisygraph.noise.AddLabelNoise`; the
    ``mask`` of a :class:`~noisygraph.noise.LabelNoise`). With a record, every validation
    node must be in it (a validation node that happened not to flip is fine), and ``y_noisy``
    must equal ``data.y`` outside it. Without a record, ``y_noisy`` must differ from
    ``data.y`` on at least one validation node.

    Raises:
        ValueError: naming ``protocol`` and ``y_noisy`` (or ``noise_mask``).
    """
    num_nodes = data.val_mask.numel()
    hint = ("corrupt the validation nodes with the same noise model (LabelNoiseModel.sample "
            "on data.val_mask after data.train_mask, or AddLabelNoise(on='train+val')) and "
            "pass its mask as noise_mask= (or set data.noise_mask)")
    source = "noise_mask"
    if noise_mask is None:
        noise_mask, source = getattr(data, "noise_mask", None), "data.noise_mask"
    if noise_mask is not None:
        check_bool_mask(source, noise_mask, num_nodes)
        noise_mask = noise_mask.to(data.val_mask.device)
        missing = int((data.val_mask & ~noise_mask).sum())
        if missing:
            raise ValueError(f"protocol='noisy-val' selects on noisy validation labels, but "
                             f"{source} says {missing} of the {int(data.val_mask.sum())} "
                             f"validation labels in y_noisy were not corrupted: {hint}")
        if bool(((y_noisy != data.y) & ~noise_mask).any()):
            raise ValueError(f"y_noisy differs from data.y outside {source}: the record does "
                             "not describe these labels (pass the mask of the noise that "
                             "produced y_noisy)")
        return
    if bool((y_noisy[data.val_mask] == data.y[data.val_mask]).all()):
        raise ValueError("protocol='noisy-val' selects on y_noisy[val_mask], but y_noisy "
                         "equals the clean data.y on every validation node, so selection "
                         f"would read clean labels: {hint}. (With such a record a small "
                         "validation set where no label happened to flip is accepted.)")


class FitInputs(NamedTuple):
    """What a method's ``fit`` trains on, checked and on its device (see :func:`fit_inputs`)."""

    data: Data
    y_noisy: Tensor
    val_target: Tensor
    num_classes: int


def fit_inputs(data: Data, y_noisy: Optional[Tensor], protocol: str,
               noise_mask: Optional[Tensor] = None, device=None, *,
               validation: bool = True) -> FitInputs:
    """The one prologue of every method's ``fit`` (ERASE's trainer and the baselines): the
    noisy labels (:func:`noisy_labels`), the data checked against the protocol
    (:func:`check_node_data`), data and labels moved to ``device`` (default: the features'
    device) and the labels model selection may read (:func:`selection_labels`)."""
    y_noisy = noisy_labels(data, y_noisy)
    num_classes = check_node_data(data, y_noisy, protocol, noise_mask, validation=validation)
    device = device if device is not None else data.x.device
    data, y_noisy = data.to(device), y_noisy.to(device)
    return FitInputs(data, y_noisy, selection_labels(data, y_noisy, protocol), num_classes)
