"""Typed wrappers of noisygraph's ops: compiled kernels when built, references otherwise."""
from noisygraph.ops.diffusion import diffuse, spmm
from noisygraph.ops.coding_rate import CodingRates, coding_rate

__all__ = ["spmm", "diffuse", "coding_rate", "CodingRates"]
