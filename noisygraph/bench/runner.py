r"""One benchmark protocol for every method: a grid of cells, each trained once and cached.

A *cell* is one (data set, method, noise kind, nominal rate, run). Every cell follows the
protocol :func:`protocol_text` states (and ``to_dict()`` records):

* **split**: the data set's own ``train_mask`` / ``val_mask`` / ``test_mask`` (Cora: the
  Planetoid public split); a data set without one (the text graph DBLP) gets a random split,
  :data:`RANDOM_SPLIT` = 20 % train / 20 % val / 60 % test, drawn once with the grid's
  ``seed`` before any training (:func:`prepare_dataset`; the fractions were fixed before any
  measurement, not tuned); accuracy is on the clean test labels;
* **features**: the data set's ``x``; a text graph without one (DBLP) gets the offline
  sentence embeddings of its node texts (all-MiniLM-L6-v2, 384-d, L2-normalised, the
  features Locle uses, :func:`~noisygraph.locle.embed_texts`, cached on disk);
* **noise**: one :class:`~noisygraph.noise.LabelNoiseModel` per (data set, noise, rate, run),
  seeded with ``seed + 100 run`` and shared by every method (with ``noise_draw="once"``: one
  per (data set, noise, rate), seeded with ``seed`` and shared by every run too, as the ERASE
  release draws its noisy labels once), corrupts the training labels
  (and under ``"noisy-val"`` then the validation labels not in the training mask, same model,
  stream continued, :class:`~noisygraph.noise.AddLabelNoise` with ``on="train+val"``);
  the realised rate on the training (and validation) nodes is recorded per cell;
* **model selection**: on clean validation labels (``"paper"``) or on the noisy ones
  (``"noisy-val"``);
* **training seed**: ``seed + 100 run`` for every method (``seed_everything`` before it is
  built, and its ``seed=`` argument).

Each finished cell is appended to a JSON-lines cache keyed by the SHA-256 of its full
configuration (data fingerprint, method, its revision and options, noise, sampler, rate,
run, seeds, protocol, device), so an interrupted benchmark continues where it stopped and a
changed configuration never reuses an old result. With ``jobs > 1`` the cells run in that many
spawned processes (each with ``threads`` torch threads); every cell seeds all its RNGs, so
the results do not depend on ``jobs`` (for a given ``threads``).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
from torch_geometric.data import Data
from tqdm.auto import tqdm

from noisygraph._validation import check_bool, check_choice, check_int, check_real
from noisygraph.bench.methods import build_method, get_method
from noisygraph.noise import (NOISE_KINDS, NOISE_SAMPLERS, PER_NODE_NOISE_KINDS,
                              AddLabelNoise)
from noisygraph.random import seed_everything
from noisygraph_cli.choices import NOISE_DRAWS, PROTOCOLS

#: Bumped when a cell's record changes meaning; part of every cache key (2: the key holds
#: the method's :attr:`~noisygraph.baselines.Method.revision`).
CACHE_FORMAT = 2
#: The annotator of ``"annotator"`` noise (part of those cells' keys).
ANNOTATOR = "embedding:all-MiniLM-L6-v2"
#: What the features of a text graph without any are (:func:`prepare_dataset`); the data
#: fingerprint holds this recipe, not their values
EMBEDDED_FEATURES = "all-MiniLM-L6-v2 sentence embeddings of the node texts"

#: (train, val) fractions of the random split of a data set without one; the rest is test
RANDOM_SPLIT = (0.2, 0.2)

DataSource = Union[str, Data]


class GridError(ValueError):
    """A data set of the grid cannot take one of its noise kinds, or lacks labels or a split
    (raised before any cell runs; the message starts with the argument's name)."""


@dataclass(frozen=True)
class Cell:
    """One training of the grid (its ``config`` is the cache key's content)."""

    dataset: str
    method: str
    noise: str
    rate: float
    run: int
    config: dict = field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        text = json.dumps(self.config, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(data: Data, *, recipes: Optional[dict] = None) -> str:
    """SHA-256 over the graph, features, labels, split and node texts of ``data`` (the cache
    keys change when the data set does). An attribute named in ``recipes`` (name -> text)
    counts by its recipe, dtype and shape instead of its values: features the runner derives
    itself (sentence embeddings of the node texts, whose last bits differ between CPUs) keep
    one key on every machine."""
    recipes = recipes or {}
    digest = hashlib.sha256()
    text = getattr(data, "text", None)
    if text is not None:
        digest.update("\0".join(text).encode())
    for name in ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask"):
        value = getattr(data, name, None)
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().contiguous()
            digest.update(f"{value.dtype}{tuple(value.shape)}".encode())
            if name in recipes:
                digest.update(f"recipe:{recipes[name]}".encode())
            else:
                digest.update(value.numpy().tobytes() if value.dtype != torch.bfloat16
                              else value.float().numpy().tobytes())
    return digest.hexdigest()


def protocol_text(protocol: str, sampler: str, seed: int, *,
                  notes: Sequence[str] = (), noise_draw: str = "per-run") -> str:
    """One paragraph stating the protocol every cell followed (``notes``: one sentence per
    data set prepared by :func:`prepare_dataset`, appended)."""
    selection = ("clean validation labels" if protocol == "paper" else
                 "noisy validation labels (corrupted by the same noise model as the training labels)")
    where = "training labels" if protocol == "paper" else "training and validation labels"
    split = " (a random one where it has none, stated below)" if any("split" in n for n in notes) else ""
    draws = ("one noise draw per (data set, noise, rate, run) seeded with "
             f"{seed} + 100 run and shared by all methods" if noise_draw == "per-run" else
             f"one noise draw per (data set, noise, rate) seeded with {seed} and shared by all "
             "methods and runs (the ERASE release's draw)")
    return (f"Protocol `{protocol}`: each data set's own train/val/test split{split}; label noise on the "
            f"{where} only (sampler `{sampler}`), {draws}; model selection on "
            f"{selection}; training seed {seed} + 100 run; test accuracy on clean labels, "
            "mean ± population std over the runs; realised noise rate = fraction of the "
            "corrupted nodes whose label changed, averaged over the runs."
            + "".join(f" {note}." for note in notes))


# ------------------------------------------------------------------ one cell

_LOADED: dict = {}


def _load(source: DataSource, root) -> Data:
    """The data set of ``source`` (a ``load_dataset`` name, loaded once per process, or a
    ``Data``)."""
    if isinstance(source, Data):
        return source
    key = (source, None if root is None else str(root))
    if key not in _LOADED:
        from noisygraph.datasets import load_dataset
        _LOADED[key] = load_dataset(source, root=root)
    return _LOADED[key]


class PreparedDataset(NamedTuple):
    """A data set ready for the benchmark (:func:`prepare_dataset`)."""

    #: the graph the cells train on
    data: Data
    #: one sentence per change made, for the protocol text
    notes: list
    #: attribute name -> recipe, for each attribute derived here rather than given (the
    #: ``recipes`` of :func:`fingerprint`)
    recipes: dict


def prepare_dataset(data: Data, name: str, *, seed: int) -> PreparedDataset:
    """``data`` ready for the benchmark, one sentence per change made, and the recipe of each
    attribute derived here: a text graph without features gets its node texts' sentence
    embeddings as ``x`` (:func:`~noisygraph.locle.embed_texts`, the offline all-MiniLM-L6-v2
    model Locle uses; recipe :data:`EMBEDDED_FEATURES`); a graph with labels but no
    ``train_mask`` / ``val_mask`` / ``test_mask`` gets a random split of :data:`RANDOM_SPLIT`
    (PyG's :class:`~torch_geometric.transforms.RandomNodeSplit`, seeded with ``seed``, drawn
    here, once, before any cell). A graph with all of them is returned as is (the same
    object)."""
    from noisygraph.bench.annotator import is_text_graph

    notes, recipes = [], {}
    if getattr(data, "x", None) is None and is_text_graph(data):
        from noisygraph.locle.text import embed_texts

        data = copy.copy(data)
        data.x = embed_texts(data.text, verbose=False)
        recipes["x"] = EMBEDDED_FEATURES
        notes.append(f"{name}: features = the {EMBEDDED_FEATURES} ({data.x.size(1)}-d, "
                     "L2-normalised, as Locle)")
    masks = ("train_mask", "val_mask", "test_mask")
    if getattr(data, "y", None) is not None and all(getattr(data, m, None) is None for m in masks):
        from torch_geometric.transforms import RandomNodeSplit

        train, val = RANDOM_SPLIT
        data = copy.copy(data)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            data = RandomNodeSplit(split="train_rest", num_val=val,
                                   num_test=1.0 - train - val)(data)
        counts = [int(getattr(data, m).sum()) for m in masks]
        notes.append(f"{name}: no split of its own; a random split seeded with {seed}, drawn "
                     f"once before any training: {train:.0%} train / {val:.0%} val / "
                     f"{1 - train - val:.0%} test ({counts[0]} / {counts[1]} / {counts[2]} "
                     "nodes; fractions fixed before any measurement)")
    return PreparedDataset(data, notes, recipes)


def corrupt(data: Data, noise: str, rate: float, *, protocol: str, sampler: str,
            seed: int) -> tuple[Data, float, Optional[float]]:
    """A shallow copy of ``data`` with ``y_noisy`` / ``noise_mask`` of the protocol, the
    realised training rate and (under ``"noisy-val"``) validation rate."""
    on = "train+val" if protocol == "noisy-val" else "train"
    noisy = AddLabelNoise(noise, rate, on=on, seed=seed, sampler=sampler)(copy.copy(data))
    flipped = noisy.noise_flipped.cpu()

    def realised(mask) -> float:
        mask = mask.cpu()
        return float(flipped[mask].double().mean()) if bool(mask.any()) else 0.0

    val = realised(data.val_mask & ~data.train_mask) if protocol == "noisy-val" else None
    return noisy, realised(data.train_mask), val


def make_cell(dataset: str, data_fingerprint: str, method: str, noise: str, rate: float,
              run: int, *, sampler: str, protocol: str, seed: int,
              noise_draw: str = "per-run", options: Optional[dict] = None,
              device=None) -> Cell:
    """The cell of run ``run`` of (``dataset``, ``method``, ``noise``, ``rate``): training
    seed ``seed + 100 run``, noise seed ``seed + 100 run`` (``noise_draw="per-run"``) or
    ``seed`` (``"once"``); ``options`` go to the method (:obj:`None` values: its defaults).
    The arguments are those :func:`run_benchmark` checked; its cells are built here."""
    noise_seed = seed + 100 * run if noise_draw == "per-run" else seed
    config = {"format": CACHE_FORMAT, "dataset": dataset, "data": data_fingerprint,
              "method": method, "revision": get_method(method).revision,
              "options": dict(options or {}), "noise": noise, "rate": rate,
              "sampler": sampler, "protocol": protocol, "run": run, "seed": seed + 100 * run,
              "noise_seed": noise_seed,
              "annotator": ANNOTATOR if noise == "annotator" else None,
              "device": None if device is None else str(device)}
    return Cell(dataset, method, noise, rate, run, config)


def run_cell(cell: Cell, source: DataSource, root=None) -> dict:
    """Trains ``cell`` and returns its record (the config, the test accuracy in %, the
    realised rates, the selected epoch, seconds)."""
    config = cell.config
    data = _load(source, root)
    noisy, train_rate, val_rate = corrupt(data, cell.noise, cell.rate,
                                          protocol=config["protocol"],
                                          sampler=config["sampler"], seed=config["noise_seed"])
    seed_everything(config["seed"])
    method = build_method(cell.method, protocol=config["protocol"], seed=config["seed"],
                          device=config["device"], verbose=False, **config["options"])
    start = time.perf_counter()
    history = method.fit(noisy, y_noisy=noisy.y_noisy, noise_mask=noisy.noise_mask)
    seconds = time.perf_counter() - start
    return {"key": cell.key, **config, "accuracy": 100.0 * float(history.test_acc),
            "realised_rate": train_rate, "realised_val_rate": val_rate,
            "best_epoch": int(history.best_epoch),
            "epochs_run": len(history.metrics.get("epoch", [])),
            "seconds": seconds, "seconds_per_epoch": history.seconds_per_epoch, "torch_threads": torch.get_num_threads()}


def _init_worker(threads: Optional[int]) -> None:
    if threads:
        torch.set_num_threads(threads)


def _run_in_worker(cell: Cell, source: DataSource, root) -> dict:
    return run_cell(cell, source, root)


# ------------------------------------------------------------------ the grid

def read_cache(path: Optional[os.PathLike]) -> dict:
    """The records of the JSON-lines cache ``path`` by key (a torn last line, from an
    interrupt mid-write, is ignored; :obj:`None` or a missing file: no records)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    records = {}
    if path is None or not os.path.exists(path):
        return records
    with open(path) as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "key" in record:
                records[record["key"]] = record
    return records


def _append(path: Optional[os.PathLike], record: dict) -> None:
    if path is None:
        return
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` returns.

    Attributes:
        protocol (str): the protocol paragraph (:func:`protocol_text`).
        config (dict): the grid's configuration.
        records (list[dict]): one record per cell, in grid order.
        cached (int): how many of them came from the cache.
    """

    protocol: str
    config: dict
    records: list
    cached: int = 0

    @property
    def complete(self) -> bool:
        return len(self.records) == self.config["num_cells"]

    def summary(self) -> list:
        """Per (data set, method, noise, rate): accuracies, mean ± population std, realised
        rates and seconds per run, in grid order."""
        groups: dict = defaultdict(list)
        for record in self.records:
            groups[(record["dataset"], record["method"], record["noise"], record["rate"])].append(record)
        rows = []
        for (dataset, method, noise, rate), records in groups.items():
            accuracies = [r["accuracy"] for r in records]
            val_rates = [r["realised_val_rate"] for r in records if r["realised_val_rate"] is not None]
            rows.append({"dataset": dataset, "method": method, "noise": noise, "rate": rate,
                         "runs": len(records), "accuracies": accuracies,
                         "accuracy_mean": float(np.mean(accuracies)),
                         "accuracy_std": float(np.std(accuracies)),
                         "realised_rate": float(np.mean([r["realised_rate"] for r in records])),
                         "realised_val_rate": float(np.mean(val_rates)) if val_rates else None,
                         "seconds_per_run": float(np.mean([r["seconds"] for r in records]))})
        return rows

    def to_markdown(self) -> str:
        """One table per data set: every method of the grid as a row, every (noise, rate) as a
        column, ``mean ± std (runs)`` of the test accuracy (%; one run: ``mean (1)``, no
        spread), the method's mean training seconds over all its runs, the realised noise rate of each column below.
        A cell with no finished run is ``—``, never a number; fewer runs than the grid's show
        in the count."""
        rows = self.summary()
        config = self.config
        lines = [self.protocol]
        columns = [(n, r) for n in config["noise"] for r in config["rates"]]
        for dataset in config["datasets"]:
            by = {(r["method"], r["noise"], r["rate"]): r for r in rows if r["dataset"] == dataset}
            mine = [r for r in self.records if r["dataset"] == dataset]
            lines += ["", f"**{dataset}**, protocol `{config['protocol']}`: test accuracy (%), "
                          f"mean ± population std (finished runs of {config['runs']})", "",
                      "| method | " + " | ".join(f"{n} {r:.0%}" for n, r in columns)
                      + " | s/run |", "| --- |" + " --- |" * (len(columns) + 1)]
            for method in config["methods"]:
                cells = [by.get((method, n, r)) for n, r in columns]
                text = [_cell_text(c) for c in cells]
                seconds = [r["seconds"] for r in mine if r["method"] == method]
                per_run = f"{np.mean(seconds):.1f}" if seconds else "—"
                lines.append(f"| {method} | " + " | ".join(text) + f" | {per_run} |")
            realised = [_realised_text([x for x in mine if x["noise"] == n and x["rate"] == r])
                        for n, r in columns]
            label = ("realised rate (train / val)" if config["protocol"] == "noisy-val"
                     else "realised rate")
            lines.append(f"| {label} | " + " | ".join(realised) + " | |")
            missing = sum((m, n, r) not in by for m in config["methods"] for n, r in columns)
            short = sum(0 < c["runs"] < config["runs"] for c in by.values())
            if missing or short:
                lines += ["", f"{missing} of {len(config['methods']) * len(columns)} cells not "
                              f"run (—), {short} with fewer than {config['runs']} runs."]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "config": self.config, "complete": self.complete,
                "cells_cached": self.cached, "summary": self.summary(),
                "cells": self.records}

    def plot(self, path: os.PathLike) -> None:
        """Accuracy against the nominal noise rate, one row of panels per data set, one panel
        per noise kind, the protocol in the title
        (:func:`noisygraph.plotting.plot_accuracy_vs_rate`)."""
        from noisygraph.plotting import plot_accuracy_vs_rate
        plot_accuracy_vs_rate(self.summary(), path, datasets=self.config["datasets"],
                              noise=self.config["noise"], methods=self.config["methods"],
                              title=f"protocol {self.config['protocol']}")


def _cell_text(row: Optional[dict]) -> str:
    """``mean ± std (runs)`` of a summary row; one run has no spread: ``mean (1)``; no row:
    ``—``."""
    if row is None:
        return "—"
    if row["runs"] == 1:
        return f"{row['accuracy_mean']:.2f} (1)"
    return f"{row['accuracy_mean']:.2f} ± {row['accuracy_std']:.2f} ({row['runs']})"


def _realised_text(records: list) -> str:
    """The realised training (and validation) rate of one (noise, rate) column: the mean over
    its runs (every method of a run saw the same noisy labels), ``—`` with no run."""
    by_run = {r["run"]: r for r in records}
    if not by_run:
        return "—"
    text = f"{np.mean([r['realised_rate'] for r in by_run.values()]):.1%}"
    val = [r["realised_val_rate"] for r in by_run.values() if r["realised_val_rate"] is not None]
    return text + (f" / {np.mean(val):.1%}" if val else "")


def _dataset_names(datasets) -> list:
    if isinstance(datasets, (str, Data)) or not isinstance(datasets, (Sequence, Mapping)):
        raise TypeError("datasets must be a sequence of names or a mapping name -> Data")
    items = list(datasets.items()) if isinstance(datasets, Mapping) else [
        (name, name) for name in datasets]
    if not items:
        raise ValueError("datasets must not be empty")
    for name, source in items:
        if not isinstance(name, str) or not isinstance(source, (str, Data)):
            raise TypeError("datasets must be names, or a mapping from names to Data objects")
    return items


def _check_list(name: str, values, check) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty sequence, got {values!r}")
    checked = [check(value) for value in values]
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} must not repeat a value, got {list(values)!r}")
    return checked


def check_noise_fits(data: Data, dataset: str, noise: str) -> None:
    """Raises :class:`GridError` when ``data`` cannot be benchmarked (no features, labels or
    split) or ``noise`` cannot corrupt it (``"annotator"`` on a graph without texts)."""
    from noisygraph.bench.annotator import is_text_graph

    for name in ("x", "y", "train_mask", "val_mask", "test_mask"):
        if getattr(data, name, None) is None:
            raise GridError(f"datasets: {dataset!r} has no {name}; the benchmark needs node "
                            "features, labels and a train/val/test split")
    if noise == "annotator" and not is_text_graph(data):
        raise GridError(f"noise: 'annotator' needs a text graph (node texts and class names, "
                        f"e.g. dblp); {dataset!r} has none")


def run_benchmark(datasets, methods: Sequence[str], *, noise: Sequence[str] = ("uniform",),
                  rates: Sequence[float] = (0.2, 0.4), runs: int = 5, protocol: str = "paper",
                  sampler: str = "exact", noise_draw: str = "per-run", seed: int = 123,
                  epochs: Optional[int] = None,
                  patience: Optional[int] = None, device: Optional[str] = None,
                  root=None, cache: Optional[os.PathLike] = None, jobs: int = 1,
                  threads: Optional[int] = None, verbose: bool = True,
                  on_record=None, train: bool = True) -> BenchmarkResult:
    r"""Runs (or reads from ``cache``) every cell of the grid ``datasets`` × ``methods`` ×
    ``noise`` × ``rates`` × ``runs`` under one protocol (see the module docstring).

    Args:
        datasets (Sequence[str] or Mapping[str, Data]): :func:`~noisygraph.datasets.load_dataset`
            names, or names mapped to graphs (their content enters the cache key).
        methods (Sequence[str]): names of :func:`~noisygraph.bench.method_registry`.
        noise (Sequence[str], optional): noise kinds. (default: ``("uniform",)``)
        rates (Sequence[float], optional): nominal rates in ``[0, 1]``. (default: ``(0.2, 0.4)``)
        runs (int, optional): runs per cell, run ``r`` seeded with ``seed + 100 r``.
            (default: ``5``)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        sampler (str, optional): noise sampler (:mod:`noisygraph.noise`); ``"exact"`` makes
            the realised training rate the nominal one up to rounding; ``"paper"`` is the
            ERASE release's seeded draw. (default: ``"exact"``)
        noise_draw (str, optional): ``"per-run"`` (run ``r``'s noise seeded with
            ``seed + 100 r``) or ``"once"`` (one draw seeded with ``seed`` for every run, the
            ERASE release's protocol). (default: ``"per-run"``)
        seed (int, optional): base seed in :math:`[0, 2^{32} - 100\,\text{runs})`. (default: ``123``)
        epochs, patience (int, optional): passed to every method when given.
            (default: :obj:`None`, each method's defaults)
        device (str, optional): torch device of every method. (default: :obj:`None`, the data's)
        root (path, optional): data root for the names. (default: :obj:`None`)
        cache (path, optional): JSON-lines file of finished cells, read first and appended
            to; :obj:`None` keeps nothing. (default: :obj:`None`)
        jobs (int, optional): parallel processes (spawned). (default: ``1``, in this process)
        threads (int, optional): torch threads per process. (default: :obj:`None`: in this
            process torch's choice; in each worker ``cpu_count // jobs``)
        verbose (bool, optional): a progress bar over the cells. (default: :obj:`True`)
        on_record (callable, optional): called with the :class:`BenchmarkResult` of the
            records so far after each cell (e.g. to rewrite a JSON file). (default: :obj:`None`)
        train (bool, optional): train the cells missing from ``cache``; :obj:`False` trains
            nothing and reports the cached cells only (the tables show the others as missing).
            (default: :obj:`True`)

    Returns:
        BenchmarkResult: the records, the protocol, ``summary()``, ``to_markdown()``,
        ``plot(path)``, ``to_dict()``.
    """
    items = _dataset_names(datasets)
    methods = _check_list("methods", methods, lambda m: (get_method(m), m)[1])
    noise = _check_list("noise", noise, lambda n: check_choice("noise", n, NOISE_KINDS))
    rates = _check_list("rates", rates, lambda r: check_real("rates", r, low=0.0, high=1.0))
    runs = check_int("runs", runs, low=1)
    protocol = check_choice("protocol", protocol, PROTOCOLS)
    sampler = check_choice("sampler", sampler, NOISE_SAMPLERS)
    noise_draw = check_choice("noise_draw", noise_draw, NOISE_DRAWS)
    seed = check_int("seed", seed, low=0)
    if seed + 100 * (runs - 1) >= 2**32:
        raise ValueError(f"seed must satisfy seed + 100 (runs - 1) < 2**32, got {seed}")
    epochs = check_int("epochs", epochs, low=1, optional=True)
    patience = check_int("patience", patience, low=0, optional=True)
    jobs = check_int("jobs", jobs, low=1)
    threads = check_int("threads", threads, low=1, optional=True)
    if cache is not None and not isinstance(cache, (str, os.PathLike)):
        # an int would be taken for a file descriptor by open()
        raise TypeError(f"cache must be a str or os.PathLike, got {type(cache).__name__}")
    verbose = check_bool("verbose", verbose)
    train = check_bool("train", train)
    if sampler == "paper" and any(n in PER_NODE_NOISE_KINDS for n in noise):
        raise ValueError("sampler 'paper' reproduces class-conditional draws; it has no "
                         "per-node noise kind (instance, instance_noisygl, annotator)")

    # every data set loaded and checked before the first cell
    sources, fingerprints = {}, {}
    notes: list = []
    for name, source in items:
        data = _load(source, root)
        prepared = prepare_dataset(data, name, seed=seed)
        if prepared.notes:
            data = source = prepared.data
            notes += prepared.notes
        for kind in noise:
            check_noise_fits(data, name, kind)
        if "annotator" in noise:  # computed once here, shipped to the workers with the graph
            from noisygraph.bench.annotator import annotator_probabilities
            data = copy.copy(data)
            data.annotator_probs = annotator_probabilities(data)
            source = data
        sources[name] = source
        fingerprints[name] = fingerprint(data, recipes=prepared.recipes)
    options = {"epochs": epochs, "patience": patience}
    cells = [make_cell(name, fingerprints[name], method, kind, rate, run, sampler=sampler,
                       protocol=protocol, seed=seed, noise_draw=noise_draw, options=options,
                       device=device)
             for name, _ in items for method in methods for kind in noise for rate in rates
             for run in range(runs)]
    grid = {"datasets": [name for name, _ in items], "methods": methods, "noise": noise,
            "rates": rates, "runs": runs, "protocol": protocol, "sampler": sampler,
            "noise_draw": noise_draw, "seed": seed, "options": options,
            "device": None if device is None else str(device),
            "jobs": jobs, "threads": threads, "num_cells": len(cells)}
    text = protocol_text(protocol, sampler, seed, notes=notes, noise_draw=noise_draw)

    cached = read_cache(cache)
    done = {cell.key: cached[cell.key] for cell in cells if cell.key in cached}
    todo = [cell for cell in cells if cell.key not in done] if train else []
    result = BenchmarkResult(text, grid, [], cached=len(done))

    def finish(record: dict) -> None:
        done[record["key"]] = record
        _append(cache, record)
        result.records = [done[c.key] for c in cells if c.key in done]
        if on_record is not None:
            on_record(result)

    result.records = [done[c.key] for c in cells if c.key in done]
    bar = tqdm(total=len(cells), initial=len(done), desc="bench", unit="cell",
               disable=not verbose)
    try:
        if jobs == 1 or len(todo) <= 1:
            previous = torch.get_num_threads()
            if threads:
                torch.set_num_threads(threads)
            try:
                for cell in todo:
                    bar.set_postfix_str(f"{cell.dataset} {cell.method} {cell.noise} {cell.rate:g} run {cell.run}")
                    finish(run_cell(cell, sources[cell.dataset], root))
                    bar.update()
            finally:
                torch.set_num_threads(previous)
        else:
            _run_parallel(todo, sources, root, jobs, threads, finish, bar)
    finally:
        bar.close()
    return result


def _run_parallel(todo, sources, root, jobs, threads, finish, bar) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    per_worker = threads or max(1, (os.cpu_count() or 1) // jobs)
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(per_worker,))
    try:
        pending = {executor.submit(_run_in_worker, cell, sources[cell.dataset], root)
                   for cell in todo}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                finish(future.result())
                bar.update()
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)

