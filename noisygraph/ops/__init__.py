"""Typed wrappers of noisygraph's ops: compiled kernels when built, references otherwise."""
from noisygraph.ops.diffusion import diffuse, spmm

__all__ = ["spmm", "diffuse"]
