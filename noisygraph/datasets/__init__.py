"""Data sets: real graphs read offline from a data root, and a synthetic CSBM generator.

See ``docs/data.md``. Raw files come from ``data_root()`` (``$NOISYGRAPH_DATA``); everything
derived is written to ``cache_dir()`` (``$NOISYGRAPH_CACHE``).
"""
from noisygraph.datasets._parse import DataFormatError
from noisygraph.datasets._paths import DatasetNotFoundError, cache_dir, data_root
from noisygraph.datasets.adjacency_list import load_adjacency_list
from noisygraph.datasets.csbm import csbm
from noisygraph.datasets.gnn_benchmark import load_gnn_benchmark
from noisygraph.datasets.ogb import load_ogb, write_ogb_graph, write_tiny_ogb_graph
from noisygraph.datasets.planetoid import load_planetoid
from noisygraph.datasets.registry import available_datasets, known_datasets, load_dataset
from noisygraph.datasets.text_graph import load_text_graph

__all__ = [
    "DataFormatError",
    "DatasetNotFoundError",
    "available_datasets",
    "cache_dir",
    "csbm",
    "data_root",
    "known_datasets",
    "load_adjacency_list",
    "load_dataset",
    "load_gnn_benchmark",
    "load_ogb",
    "load_planetoid",
    "load_text_graph",
    "write_ogb_graph",
    "write_tiny_ogb_graph",
]
