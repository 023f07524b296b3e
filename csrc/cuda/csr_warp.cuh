// Row-per-warp CSR gathers shared by the CUDA kernels of spmm and diffuse, and the device
// side of the CSR validation (ops/csr_checks.h).
//
// One warp owns one CSR row; lane k sums column c0 + k of the gathered rows, so every edge
// reads one coalesced segment of x. The epilogue functor decides what is written.
//
// Validation without a per-launch host sync: validate_csr (one coalesced pass over rowptr,
// col and value) sets a device flag on any violation; the gather kernels that follow on the
// same stream read that flag first and write nothing but zeros if it is set, and they also
// bounds-check every row pointer and column index they read, so no input makes them read
// or write out of bounds. The op reads the flag once, after all its launches
// (throw_if_csr_error), and raises the exact error.
#pragma once
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include "ops/csr_checks.h"

namespace noisygraph {
namespace cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

// The validated matrix as the kernels see it.
template <typename scalar_t, typename index_t>
struct CsrView {
  const index_t* rowptr;
  const index_t* col;
  const scalar_t* value;  // nullptr: unit weights
  int64_t num_rows, num_cols, nnz;
  const int* error;  // set by validate_csr_kernel: the gathers then do nothing

  // [begin, end) of row `row`, or an empty range when the pointers are out of order/range.
  __device__ void row_range(int64_t row, int64_t& begin, int64_t& end) const {
    begin = rowptr[row];
    end = rowptr[row + 1];
    if (begin < 0 || begin > end || end > nnz) begin = end = 0;
  }
  __device__ bool col_ok(int64_t j) const { return j >= 0 && j < num_cols; }
};

template <typename scalar_t, typename index_t>
CsrView<scalar_t, index_t> csr_view(const CheckedCsr& csr, const at::Tensor& flag) {
  return {csr.rowptr.data_ptr<index_t>(), csr.col.data_ptr<index_t>(),
          csr.value.has_value() ? csr.value->data_ptr<scalar_t>() : nullptr,
          csr.num_rows, csr.num_cols, csr.col.numel(), flag.data_ptr<int>()};
}

// Grid-stride pass: rowptr[0] == 0, rowptr non-decreasing, rowptr[-1] == nnz, every col in
// [0, num_cols), every value finite. Sets *error = 1 on any violation.
template <typename scalar_t, typename index_t>
__global__ void validate_csr_kernel(const index_t* __restrict__ rowptr,
                                    const index_t* __restrict__ col,
                                    const scalar_t* __restrict__ value, int64_t num_rows,
                                    int64_t num_cols, int64_t nnz, int* error) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t count = num_rows + 1 > nnz ? num_rows + 1 : nnz;
  bool bad = false;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    if (i <= num_rows) {
      const int64_t r = rowptr[i];
      if (i == 0) bad |= r != 0;
      if (i == num_rows) bad |= r != nnz;
      else bad |= r > static_cast<int64_t>(rowptr[i + 1]);
    }
    if (i < nnz) {
      const int64_t j = col[i];
      bad |= j < 0 || j >= num_cols;
      if (value != nullptr) bad |= !isfinite(value[i]);
    }
  }
  if (bad) *error = 1;
}

template <typename scalar_t, typename index_t>
void launch_validate_csr(const CsrView<scalar_t, index_t>& csr, int* error) {
  const int threads = 256;
  const int64_t count = csr.num_rows + 1 > csr.nnz ? csr.num_rows + 1 : csr.nnz;
  const int64_t wanted = (count + threads - 1) / threads;
  const int blocks = static_cast<int>(wanted < 4096 ? (wanted > 0 ? wanted : 1) : 4096);
  validate_csr_kernel<scalar_t, index_t>
      <<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
          csr.rowptr, csr.col, csr.value, csr.num_rows, csr.num_cols, csr.nnz, error);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// Validates the matrix on the device (no host sync): returns the flag for throw_if_csr_error.
template <typename scalar_t, typename index_t>
at::Tensor validate_csr(const CheckedCsr& csr) {
  at::Tensor flag = csr_error_flag(csr.col);
  launch_validate_csr(csr_view<scalar_t, index_t>(csr, flag), flag.data_ptr<int>());
  return flag;
}

template <typename scalar_t, typename index_t, typename Epilogue>
__global__ void gather_rows_kernel(CsrView<scalar_t, index_t> csr,
                                   const scalar_t* __restrict__ x, int64_t f,
                                   Epilogue epilogue) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= csr.num_rows) return;
  int64_t begin = 0, end = 0;
  if (*csr.error == 0) csr.row_range(row, begin, end);  // invalid input: write zeros only
  const bool skipped = epilogue.skips(row);
  for (int64_t c = lane; c < f; c += kWarp) {
    scalar_t acc = 0;
    if (!skipped) {
      for (int64_t e = begin; e < end; ++e) {
        const int64_t j = csr.col[e];
        if (!csr.col_ok(j)) continue;
        const scalar_t w = csr.value != nullptr ? csr.value[e] : scalar_t(1);
        acc += w * x[j * f + c];
      }
    }
    epilogue(row, c, acc);
  }
}

template <typename scalar_t, typename index_t, typename Epilogue>
void launch_gather_rows(const CsrView<scalar_t, index_t>& csr, const scalar_t* x, int64_t f,
                        const Epilogue& epilogue) {
  if (csr.num_rows == 0 || f == 0) return;
  const int threads = kWarp * kWarpsPerBlock;
  const int64_t blocks = (csr.num_rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  gather_rows_kernel<scalar_t, index_t, Epilogue>
      <<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(csr, x, f, epilogue);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace noisygraph
