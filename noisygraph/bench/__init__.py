"""One benchmark runner for every noisy-label method: a grid of (data set, method, noise kind,
rate, run) cells under one stated protocol, cached per cell, run in parallel processes
(``noisygraph bench`` on the command line; see ``docs/bench.md``)."""
from noisygraph.bench.annotator import annotator_probabilities, is_text_graph
from noisygraph.bench.methods import (METHODS, ERASEMethod, build_method, get_method,
                                      method_registry)
from noisygraph.bench.runner import (BenchmarkResult, Cell, GridError, corrupt, protocol_text,
                                     read_cache, run_benchmark, run_cell)

__all__ = ["METHODS", "BenchmarkResult", "annotator_probabilities", "is_text_graph", "Cell", "ERASEMethod", "GridError", "build_method",
           "corrupt", "get_method", "method_registry", "protocol_text", "read_cache",
           "run_benchmark", "run_cell"]
