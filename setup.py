"""Build the noisygraph C++/CUDA extension against the installed torch.

Environment switches:
    FORCE_CPU=1      never compile the CUDA sources.
    FORCE_CUDA=1     compile the CUDA sources even if torch reports no GPU build.
    NOISYGRAPH_NATIVE=0  do not tune for the build machine's CPU (``-march=native``).
    NOISYGRAPH_NO_EXTENSION=1  install the Python package only (the Makefile's editable
                     install; it compiles the extension separately with ``build_ext --inplace``
                     into the persistent build/ folder, so unchanged sources never recompile).
    NOISYGRAPH_SANITIZE=1  build the CPU sources with AddressSanitizer and
                     UndefinedBehaviorSanitizer (``make test-asan`` does this into build/asan,
                     leaving the normal build alone; never compiles CUDA).
"""
import glob
import os
import sys

try:
    import torch
except ImportError:
    # pip's default isolated build sees none of the installed packages, and pulling torch in as
    # a build requirement would compile against a second (often CUDA) torch: refuse, and say how.
    sys.exit(
        "noisygraph compiles against the torch that is already installed, and none is importable "
        "here (pip's isolated build hides it): install torch first, the CPU or CUDA build you want "
        "(e.g. pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu; see "
        "https://pytorch.org/get-started/locally/), then pip install --no-build-isolation .  "
        "(`make` does both)"
    )
from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension


SANITIZE = os.environ.get("NOISYGRAPH_SANITIZE", "0") == "1"
SANITIZER_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                   "-fno-sanitize-recover=undefined"]


def _want_cuda() -> bool:
    if SANITIZE or os.environ.get("FORCE_CPU", "0") == "1":
        return False
    if os.environ.get("FORCE_CUDA", "0") == "1":
        return True
    return torch.version.cuda is not None and CUDA_HOME is not None


def _extension():
    root = os.path.dirname(os.path.abspath(__file__))
    # csrc/library.cpp (module init), csrc/ops/<family>.cpp (schemas, shared checks, ATen-only
    # ops), csrc/ops/common/ (CSR checks), csrc/ops/cpu/<family>_kernel.cpp
    sources = [os.path.join(root, "csrc", "library.cpp")]
    for folder in (("ops",), ("ops", "common"), ("ops", "cpu")):
        sources += sorted(glob.glob(os.path.join(root, "csrc", *folder, "*.cpp")))
    cxx = ["-O3", "-fopenmp", "-std=c++20"]
    if os.environ.get("NOISYGRAPH_NATIVE", "1") == "1":
        cxx.append("-march=native")
    link = ["-fopenmp"]
    if SANITIZE:
        cxx = ["-O1", "-g"] + cxx[1:] + SANITIZER_FLAGS
        link += SANITIZER_FLAGS
    kwargs = dict(
        include_dirs=[os.path.join(root, "csrc")],
        extra_link_args=link,
    )
    if _want_cuda():
        sources += sorted(glob.glob(os.path.join(root, "csrc", "ops", "cuda", "*.cu")))
        return CUDAExtension(
            "noisygraph._C",
            [os.path.relpath(s, root) for s in sources],
            define_macros=[("WITH_CUDA", None)],
            extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "-std=c++20", "--expt-relaxed-constexpr"]},
            **kwargs,
        )
    return CppExtension(
        "noisygraph._C",
        [os.path.relpath(s, root) for s in sources],
        extra_compile_args={"cxx": cxx},
        **kwargs,
    )


setup(
    ext_modules=[] if os.environ.get("NOISYGRAPH_NO_EXTENSION", "0") == "1" else [_extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
)
