// CUDA kernels of spmm (CSR x dense) and sddmm (its gradient w.r.t. the edge values).
// Compile-checked with nvcc (tools/check_cuda_compile.sh); not yet run on a GPU.
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "cuda/csr_warp.cuh"
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

// One warp per CSR row; each lane sums a strided slice of the dot product per edge. The
// indices are checked where read (CsrView).
template <typename scalar_t, typename index_t>
__global__ void sddmm_kernel(CsrView<scalar_t, index_t> csr, const scalar_t* __restrict__ a,
                             const scalar_t* __restrict__ b, int64_t f,
                             scalar_t* __restrict__ out) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= csr.num_rows) return;
  int64_t begin, end;
  csr.row_range(row, begin, end);
  for (int64_t e = begin; e < end; ++e) {
    const scalar_t* b_row = b + csr.column(e) * f;
    scalar_t partial = 0;
    for (int64_t c = lane; c < f; c += kWarp) partial += a[row * f + c] * b_row[c];
    for (int offset = kWarp / 2; offset > 0; offset /= 2)
      partial += __shfl_down_sync(0xffffffff, partial, offset);
    if (lane == 0) out[e] = partial;
  }
}

at::Tensor spmm_cuda(const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& x,
                     const std::optional<at::Tensor>& t_rowptr,
                     const std::optional<at::Tensor>& t_col,
                     const std::optional<at::Tensor>& t_perm) {
  const CheckedCsr csr = check_spmm_args(rowptr, col, value, x, t_rowptr, t_col, t_perm);
  const int64_t f = x.size(1);
  auto x_c = x.contiguous();
  auto out = at::empty({csr.num_rows, f}, x.options());
  if (csr.num_rows == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "spmm_cuda_index", [&] {
      at::Tensor flag;
      if (f == 0) {  // no gather: check alone
        flag = validate_csr<scalar_t, index_t>(csr);
      } else {
        flag = csr_error_flag(csr.col);
        launch_gather_rows(csr_view<scalar_t, index_t>(csr, flag), x_c.data_ptr<scalar_t>(), f,
                           StoreEpilogue<scalar_t>{out.data_ptr<scalar_t>(), f});
      }
      throw_if_csr_error(flag, csr);
    });
  });
  return out;
}

at::Tensor sddmm_cuda(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                      const at::Tensor& b) {
  const CheckedCsr csr = check_sddmm_args(rowptr, col, a, b);
  const int64_t f = a.size(1);
  auto a_c = a.contiguous();
  auto b_c = b.contiguous();
  auto out = at::zeros({csr.col.numel()}, a.options());
  if (csr.num_rows == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "sddmm_cuda_index", [&] {
      at::Tensor flag = csr_error_flag(csr.col);
      const int threads = kWarp * kWarpsPerBlock;
      const int64_t blocks = (csr.num_rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
      sddmm_kernel<scalar_t, index_t><<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
          csr_view<scalar_t, index_t>(csr, flag), a_c.data_ptr<scalar_t>(),
          b_c.data_ptr<scalar_t>(), f, out.data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      throw_if_csr_error(flag, csr);
    });
  });
  return out;
}

}  // namespace
}  // namespace cuda

namespace {
void register_kernels(torch::Library& m) {
  m.impl("spmm", &cuda::spmm_cuda);
  m.impl("sddmm", &cuda::sddmm_cuda);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CUDA, register_kernels)

}  // namespace noisygraph
