// CUDA registration of the coding-rate op. The implementation (csrc/cpu/coding_rate_kernel.cpp)
// is written with ATen calls only — index_select, mm into slices, batched linalg_cholesky_ex,
// cholesky_inverse, cholesky_solve — so on CUDA tensors it runs on cuBLAS/cuSOLVER unchanged.
// Compile-checked with nvcc; not yet run on a GPU.
#include <torch/library.h>

#include "ops/coding_rate.h"
#include "ops/csr_checks.h"

namespace noisygraph {

namespace {
void register_kernels(torch::Library& m) {
  m.impl("coding_rate", &coding_rate_forward);
  m.impl("coding_rate_backward", &coding_rate_backward);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CUDA, register_kernels)

}  // namespace noisygraph
