// Row-per-warp CSR gathers shared by the CUDA kernels of spmm and diffuse, and the device
// side of the CSR validation (ops/common/csr_checks.h).
//
// One warp owns one CSR row; lane k sums column c0 + k of the gathered rows, so every edge
// reads one coalesced segment of x. The epilogue functor decides what is written.
//
// Validation without a per-launch host sync (ops/common/csr_checks.h): the kernels check every row
// pointer and column index where they read it (a bad row is read as empty, a bad column
// index as column 0, so no input makes them read or write out of bounds) and set a device
// flag on any violation, including a non-finite value; validate_csr does the same checks
// alone for paths that launch no gather. The op reads the flag once, after all its launches
// (throw_if_csr_error), and raises the exact error.
#pragma once
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include "ops/common/csr_checks.h"

namespace noisygraph {
namespace cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

// The matrix as the kernels see it, with the checks they apply where they read it.
template <typename scalar_t, typename index_t>
struct CsrView {
  const index_t* rowptr;
  const index_t* col;
  const scalar_t* value;  // nullptr: unit weights
  int64_t num_rows, num_cols, nnz;
  int* error;  // set to 1 on any violation

  __device__ void flag() const { *error = 1; }
  // [begin, end) of row `row`; empty (and flagged) when its pointers are out of order or
  // range, or when the first pointer is not 0 or the last not nnz.
  __device__ void row_range(int64_t row, int64_t& begin, int64_t& end) const {
    begin = rowptr[row];
    end = rowptr[row + 1];
    const bool ok = begin >= 0 && begin <= end && end <= nnz && (row != 0 || begin == 0) &&
                    (row != num_rows - 1 || end == nnz);
    if (!ok) {
      flag();
      begin = end = 0;
    }
  }
  // col[e] when it lies in [0, num_cols) (num_cols >= 1 when nnz >= 1: check_csr), else 0,
  // flagged.
  __device__ int64_t column(int64_t e) const {
    const int64_t j = col[e];
    if (j >= 0 && j < num_cols) return j;
    flag();
    return 0;
  }
  __device__ scalar_t weight(int64_t e) const {
    if (value == nullptr) return scalar_t(1);
    const scalar_t w = value[e];
    if (!isfinite(w)) flag();
    return w;
  }
};

template <typename scalar_t, typename index_t>
CsrView<scalar_t, index_t> csr_view(const CheckedCsr& csr, const at::Tensor& flag) {
  return {csr.rowptr.data_ptr<index_t>(), csr.col.data_ptr<index_t>(),
          csr.value.has_value() ? csr.value->data_ptr<scalar_t>() : nullptr,
          csr.num_rows, csr.num_cols, csr.col.numel(), flag.data_ptr<int>()};
}

// One thread per row: the checks of the gathers, without gathering.
template <typename scalar_t, typename index_t>
__global__ void validate_csr_kernel(CsrView<scalar_t, index_t> csr) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (row >= csr.num_rows) return;
  int64_t begin, end;
  csr.row_range(row, begin, end);
  for (int64_t e = begin; e < end; ++e) {
    csr.column(e);
    csr.weight(e);
  }
}

// Checks the matrix on the device (no host sync), for ops that launch no gather; returns the
// flag for throw_if_csr_error.
template <typename scalar_t, typename index_t>
at::Tensor validate_csr(const CheckedCsr& csr) {
  at::Tensor flag = csr_error_flag(csr.col);
  if (csr.num_rows > 0) {
    const int threads = 256;
    const int64_t blocks = (csr.num_rows + threads - 1) / threads;
    validate_csr_kernel<scalar_t, index_t>
        <<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
            csr_view<scalar_t, index_t>(csr, flag));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  return flag;
}

// Rows the epilogue skips (clamp mask) are not gathered, but their entries are checked.
template <typename scalar_t, typename index_t, typename Epilogue>
__global__ void gather_rows_kernel(CsrView<scalar_t, index_t> csr,
                                   const scalar_t* __restrict__ x, int64_t f,
                                   Epilogue epilogue) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= csr.num_rows) return;
  int64_t begin, end;
  csr.row_range(row, begin, end);
  const bool skipped = epilogue.skips(row);
  if (skipped) {
    for (int64_t e = begin + lane; e < end; e += kWarp) {
      csr.column(e);
      csr.weight(e);
    }
  }
  for (int64_t c = lane; c < f; c += kWarp) {
    scalar_t acc = 0;
    if (!skipped) {
      for (int64_t e = begin; e < end; ++e) acc += csr.weight(e) * x[csr.column(e) * f + c];
    }
    epilogue(row, c, acc);
  }
}

// Launches the gather over every row (f >= 1).
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
