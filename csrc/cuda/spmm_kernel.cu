// CUDA kernels of spmm (CSR x dense) and sddmm (its gradient w.r.t. the edge values).
// Compile-checked with nvcc (tools/check_cuda_compile.sh); not yet run on a GPU.
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "cuda/csr_warp.cuh"
#include "ops/csr_checks.h"
#include "ops/spmm.h"

namespace noisygraph {
namespace cuda {
namespace {

template <typename scalar_t>
struct StoreEpilogue {
  scalar_t* out;
  int64_t f;
  __device__ bool skips(int64_t) const { return false; }
  __device__ void operator()(int64_t row, int64_t c, scalar_t acc) const { out[row * f + c] = acc; }
};

// One warp per CSR row; each lane sums a strided slice of the dot product per edge.
template <typename scalar_t, typename index_t>
__global__ void sddmm_kernel(const index_t* __restrict__ rowptr, const index_t* __restrict__ col,
                             const scalar_t* __restrict__ a, const scalar_t* __restrict__ b,
                             int64_t num_rows, int64_t f, scalar_t* __restrict__ out) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= num_rows) return;
  for (int64_t e = rowptr[row]; e < rowptr[row + 1]; ++e) {
    const scalar_t* b_row = b + static_cast<int64_t>(col[e]) * f;
    scalar_t partial = 0;
    for (int64_t c = lane; c < f; c += kWarp) partial += a[row * f + c] * b_row[c];
    for (int offset = kWarp / 2; offset > 0; offset /= 2)
      partial += __shfl_down_sync(0xffffffff, partial, offset);
    if (lane == 0) out[e] = partial;
  }
}

at::Tensor spmm_cuda(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& x,
                    const std::optional<at::Tensor>& /*t_rowptr (backward only)*/,
                    const std::optional<at::Tensor>& /*t_col*/, const std::optional<at::Tensor>& /*t_perm*/) {
  check_csr("spmm", rowptr, col, value, x);
  const int64_t num_rows = rowptr.numel() - 1;
  const int64_t f = x.size(1);
  auto x_c = x.contiguous();
  auto rowptr_c = rowptr.contiguous();
  auto col_c = col.contiguous();
  auto value_c = value.has_value() ? std::optional<at::Tensor>(value->contiguous()) : std::nullopt;
  auto out = at::empty({num_rows, f}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(col.scalar_type(), "spmm_cuda_index", [&] {
      launch_gather_rows(rowptr_c.data_ptr<index_t>(), col_c.data_ptr<index_t>(),
                         value_c ? value_c->data_ptr<scalar_t>() : nullptr,
                         x_c.data_ptr<scalar_t>(), num_rows, f,
                         StoreEpilogue<scalar_t>{out.data_ptr<scalar_t>(), f});
    });
  });
  return out;
}

at::Tensor sddmm_cuda(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                      const at::Tensor& b) {
  check_csr("sddmm", rowptr, col, std::nullopt, a);
  check_csr("sddmm", rowptr, col, std::nullopt, b);
  TORCH_CHECK(a.size(1) == b.size(1), "sddmm: a and b need the same number of columns");
  TORCH_CHECK(a.size(0) == rowptr.numel() - 1, "sddmm: a must have one row per CSR row");
  TORCH_CHECK(a.scalar_type() == b.scalar_type(), "sddmm: a and b must share a dtype");
  const int64_t num_rows = rowptr.numel() - 1;
  const int64_t f = a.size(1);
  auto a_c = a.contiguous();
  auto b_c = b.contiguous();
  auto rowptr_c = rowptr.contiguous();
  auto col_c = col.contiguous();
  auto out = at::zeros({col.numel()}, a.options());
  if (num_rows == 0 || col.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(col.scalar_type(), "sddmm_cuda_index", [&] {
      const int threads = kWarp * kWarpsPerBlock;
      const int64_t blocks = (num_rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
      sddmm_kernel<scalar_t, index_t><<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
          rowptr_c.data_ptr<index_t>(), col_c.data_ptr<index_t>(), a_c.data_ptr<scalar_t>(),
          b_c.data_ptr<scalar_t>(), num_rows, f, out.data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return out;
}

}  // namespace
}  // namespace cuda

TORCH_LIBRARY_IMPL(noisygraph, CUDA, m) {
  m.impl("spmm", &cuda::spmm_cuda);
  m.impl("sddmm", &cuda::sddmm_cuda);
}

}  // namespace noisygraph
