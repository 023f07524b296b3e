// Row-per-warp CSR gathers shared by the CUDA kernels of spmm and diffuse.
//
// One warp owns one CSR row; lane k sums column c0 + k of the gathered rows, so every edge
// reads one coalesced segment of x. The epilogue functor decides what is written.
#pragma once
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>

namespace noisygraph {
namespace cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;

template <typename scalar_t, typename index_t, typename Epilogue>
__global__ void gather_rows_kernel(const index_t* __restrict__ rowptr,
                                   const index_t* __restrict__ col,
                                   const scalar_t* __restrict__ value,
                                   const scalar_t* __restrict__ x, int64_t num_rows, int64_t f,
                                   Epilogue epilogue) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= num_rows) return;
  const int64_t begin = rowptr[row];
  const int64_t end = rowptr[row + 1];
  for (int64_t c = lane; c < f; c += kWarp) {
    scalar_t acc = 0;
    if (!epilogue.skips(row)) {
      for (int64_t e = begin; e < end; ++e) {
        const scalar_t w = value != nullptr ? value[e] : scalar_t(1);
        acc += w * x[static_cast<int64_t>(col[e]) * f + c];
      }
    }
    epilogue(row, c, acc);
  }
}

template <typename scalar_t, typename index_t, typename Epilogue>
void launch_gather_rows(const index_t* rowptr, const index_t* col, const scalar_t* value,
                        const scalar_t* x, int64_t num_rows, int64_t f,
                        const Epilogue& epilogue) {
  if (num_rows == 0 || f == 0) return;
  const int threads = kWarp * kWarpsPerBlock;
  const int64_t blocks = (num_rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  gather_rows_kernel<scalar_t, index_t, Epilogue>
      <<<blocks, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(rowptr, col, value, x,
                                                                 num_rows, f, epilogue);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace cuda
}  // namespace noisygraph
