"""Build the noisygraph C++/CUDA extension against the installed torch.

Environment switches:
    FORCE_CPU=1      never compile the CUDA sources.
    FORCE_CUDA=1     compile the CUDA sources even if torch reports no GPU build.
    NOISYGRAPH_NATIVE=0  do not tune for the build machine's CPU (``-march=native``).
"""
import glob
import os

import torch
from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension


def _want_cuda() -> bool:
    if os.environ.get("FORCE_CPU", "0") == "1":
        return False
    if os.environ.get("FORCE_CUDA", "0") == "1":
        return True
    return torch.version.cuda is not None and CUDA_HOME is not None


def _extension():
    root = os.path.dirname(os.path.abspath(__file__))
    sources = sorted(glob.glob(os.path.join(root, "csrc", "*.cpp")))
    sources += sorted(glob.glob(os.path.join(root, "csrc", "cpu", "*.cpp")))
    cxx = ["-O3", "-fopenmp", "-std=c++17"]
    if os.environ.get("NOISYGRAPH_NATIVE", "1") == "1":
        cxx.append("-march=native")
    kwargs = dict(
        include_dirs=[os.path.join(root, "csrc")],
        extra_link_args=["-fopenmp"],
    )
    if _want_cuda():
        sources += sorted(glob.glob(os.path.join(root, "csrc", "cuda", "*.cu")))
        return CUDAExtension(
            "noisygraph._C",
            [os.path.relpath(s, root) for s in sources],
            define_macros=[("WITH_CUDA", None)],
            extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "--expt-relaxed-constexpr"]},
            **kwargs,
        )
    return CppExtension(
        "noisygraph._C",
        [os.path.relpath(s, root) for s in sources],
        extra_compile_args={"cxx": cxx},
        **kwargs,
    )


setup(
    ext_modules=[_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
)
