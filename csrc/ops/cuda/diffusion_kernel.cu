// CUDA kernels of the diffusion family (schemas: ops/diffusion.cpp): spmm (CSR x dense),
// sddmm (its gradient w.r.t. the edge values), the K-step diffusion with restart and its
// adjoint (see ops/cpu/diffusion_kernel.cpp for the recurrences). Each diffusion step is one
// row-per-warp launch whose epilogue folds in the restart, the clamp mask and the clip; the K
// launches are issued from C++. Compile-checked with nvcc (tools/check_cuda_compile.sh).
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <utility>

#include "ops/common/csr_warp.cuh"
#include "ops/diffusion.h"

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
                     const std::optional<at::Tensor>& value, const at::Tensor& x) {
  const CheckedCsr csr = check_spmm_args(rowptr, col, value, x);
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

template <typename scalar_t>
struct RestartEpilogue {
  const scalar_t* y0;
  const bool* clamp_mask;  // may be null
  scalar_t* out;
  int64_t f;
  scalar_t keep, restart;
  bool clip;
  __device__ bool skips(int64_t row) const { return clamp_mask != nullptr && clamp_mask[row]; }
  __device__ void operator()(int64_t row, int64_t c, scalar_t acc) const {
    const int64_t idx = row * f + c;
    if (skips(row)) {
      out[idx] = y0[idx];
      return;
    }
    scalar_t v = keep * acc + restart * y0[idx];
    if (clip) v = v < scalar_t(0) ? scalar_t(0) : (v > scalar_t(1) ? scalar_t(1) : v);
    out[idx] = v;
  }
};

// One step of the masked adjoint: W = keep * A^T U; acc += C W (or W on the last step);
// the next U is W with the clamped rows zeroed.
template <typename scalar_t>
struct AdjointEpilogue {
  const bool* clamp_mask;
  scalar_t* acc;
  scalar_t* u_next;
  int64_t f;
  scalar_t keep, restart;
  bool last;
  __device__ bool skips(int64_t) const { return false; }
  __device__ void operator()(int64_t row, int64_t c, scalar_t gathered) const {
    const int64_t idx = row * f + c;
    const scalar_t w = keep * gathered;
    if (last || clamp_mask[row]) {
      acc[idx] += w;
      if (!last) u_next[idx] = scalar_t(0);
    } else {
      acc[idx] += restart * w;
      u_next[idx] = w;
    }
  }
};

// num_steps launches of the restart step; the gathers set the flag on invalid input and the
// caller reads it once.
template <typename scalar_t, typename index_t>
void diffuse_steps(const CsrView<scalar_t, index_t>& csr, const at::Tensor& y0,
                   int64_t num_steps, double alpha, const std::optional<at::Tensor>& clamp_mask,
                   bool clip, at::Tensor& out) {
  const int64_t f = y0.size(1);
  auto spare = num_steps > 1 ? at::empty_like(y0) : at::Tensor();
  const scalar_t* src = y0.data_ptr<scalar_t>();
  for (int64_t t = 0; t < num_steps; ++t) {
    at::Tensor& target = (num_steps - 1 - t) % 2 == 0 ? out : spare;
    RestartEpilogue<scalar_t> epilogue{
        y0.data_ptr<scalar_t>(),
        clamp_mask.has_value() ? clamp_mask->data_ptr<bool>() : nullptr,
        target.data_ptr<scalar_t>(),
        f,
        static_cast<scalar_t>(1.0 - alpha),
        static_cast<scalar_t>(alpha),
        clip};
    launch_gather_rows(csr, src, f, epilogue);
    src = target.data_ptr<scalar_t>();
  }
}

template <typename scalar_t, typename index_t>
void masked_adjoint_steps(const CsrView<scalar_t, index_t>& csr, const at::Tensor& g,
                          int64_t num_steps, double alpha, const at::Tensor& mask,
                          at::Tensor& acc) {
  auto keep_rows = mask.logical_not().unsqueeze(-1).to(g.scalar_type());
  acc.copy_(g * (keep_rows * alpha + (1.0 - keep_rows)));
  auto u = g * keep_rows;
  auto u_next = at::empty_like(g);
  const int64_t f = g.size(1);
  for (int64_t t = 0; t < num_steps; ++t) {
    AdjointEpilogue<scalar_t> epilogue{mask.data_ptr<bool>(),
                                       acc.data_ptr<scalar_t>(),
                                       u_next.data_ptr<scalar_t>(),
                                       f,
                                       static_cast<scalar_t>(1.0 - alpha),
                                       static_cast<scalar_t>(alpha),
                                       t == num_steps - 1};
    launch_gather_rows(csr, u.data_ptr<scalar_t>(), f, epilogue);
    std::swap(u, u_next);
  }
}

// Runs `steps(view, out)` (whose gathers check the CSR) unless there is nothing to compute
// (then out = start and the CSR is checked alone), and raises the error, if any, once at the
// end.
template <typename Steps>
at::Tensor run_validated(const CheckedCsr& csr, const at::Tensor& start, bool trivial,
                         const Steps& steps) {
  at::Tensor out = trivial ? start.clone() : at::empty_like(start);
  AT_DISPATCH_FLOATING_TYPES(start.scalar_type(), "diffuse_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "diffuse_cuda_index", [&] {
      at::Tensor flag;
      if (trivial) {
        flag = validate_csr<scalar_t, index_t>(csr);
      } else {
        flag = csr_error_flag(csr.col);
        steps(csr_view<scalar_t, index_t>(csr, flag), out);
      }
      throw_if_csr_error(flag, csr);
    });
  });
  return out;
}

at::Tensor diffuse_cuda(const at::Tensor& rowptr, const at::Tensor& col,
                        const std::optional<at::Tensor>& value, const at::Tensor& y0,
                        int64_t num_steps, double alpha,
                        const std::optional<at::Tensor>& clamp_mask, bool clip) {
  const DiffusionArgs args =
      check_diffuse_args(rowptr, col, value, y0, num_steps, alpha, clamp_mask);
  auto start = y0.contiguous();
  const bool trivial = num_steps == 0 || start.size(0) == 0 || start.size(1) == 0;
  return run_validated(args.csr, start, trivial, [&](const auto& view, at::Tensor& out) {
    diffuse_steps(view, start, num_steps, alpha, args.clamp_mask, clip, out);
  });
}

at::Tensor diffuse_adjoint_cuda(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                const std::optional<at::Tensor>& t_value, const at::Tensor& grad,
                                int64_t num_steps, double alpha,
                                const std::optional<at::Tensor>& clamp_mask) {
  const DiffusionArgs args =
      check_diffuse_adjoint_args(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask);
  auto g = grad.contiguous();
  const bool trivial = num_steps == 0 || g.size(0) == 0 || g.size(1) == 0;
  return run_validated(args.csr, g, trivial, [&](const auto& view, at::Tensor& out) {
    if (args.clamp_mask.has_value())
      masked_adjoint_steps(view, g, num_steps, alpha, *args.clamp_mask, out);
    else
      diffuse_steps(view, g, num_steps, alpha, std::nullopt, false, out);
  });
}

}  // namespace
}  // namespace cuda

namespace {
void register_kernels(torch::Library& m) {
  m.impl("spmm", &cuda::spmm_cuda);
  m.impl("sddmm", &cuda::sddmm_cuda);
  m.impl("diffuse", &cuda::diffuse_cuda);
  m.impl("diffuse_adjoint", &cuda::diffuse_adjoint_cuda);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CUDA, register_kernels)

}  // namespace noisygraph
