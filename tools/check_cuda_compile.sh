#!/usr/bin/env bash
# Compile-checks every csrc/ops/cuda/*.cu with nvcc against the installed torch's headers
# (-c, no link), for machines without a GPU. Usage: tools/check_cuda_compile.sh [python]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${1:-$ROOT/.venv/bin/python}"
NVCC="${NVCC:-${CUDA_HOME:-/usr/local/cuda}/bin/nvcc}"
[ -x "$NVCC" ] || { echo "nvcc not found at $NVCC (set NVCC or CUDA_HOME)" >&2; exit 2; }
mapfile -t INCLUDES < <("$PYTHON" -c "
from torch.utils.cpp_extension import include_paths
import sysconfig
for p in include_paths() + [sysconfig.get_paths()['include']]:
    print(p)")
FLAGS=(-std=c++20 -O3 --expt-relaxed-constexpr -DWITH_CUDA -I"$ROOT/csrc")
for inc in "${INCLUDES[@]}"; do FLAGS+=(-I"$inc"); done
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
# A CPU-only torch wheel ships c10/cuda headers without the header its CUDA build generates;
# supply the generated configuration (shared-library build) so the headers parse.
if ! "$PYTHON" -c "import torch, os, sys; sys.exit(not os.path.exists(os.path.join(
    os.path.dirname(torch.__file__), 'include/c10/cuda/impl/cuda_cmake_macros.h')))"; then
  mkdir -p "$OUT/include/c10/cuda/impl"
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' \
    > "$OUT/include/c10/cuda/impl/cuda_cmake_macros.h"
  FLAGS+=(-I"$OUT/include")
fi
status=0
for src in "$ROOT"/csrc/ops/cuda/*.cu; do
  if "$NVCC" "${FLAGS[@]}" -c "$src" -o "$OUT/$(basename "$src").o"; then
    echo "ok      $(basename "$src")"
  else
    echo "FAILED  $(basename "$src")"
    status=1
  fi
done
exit $status
