// CUDA kernels of the K-step diffusion with restart and of its adjoint (see
// csrc/cpu/diffuse_kernel.cpp for the recurrences). Each step is one row-per-warp launch
// whose epilogue folds in the restart, the clamp mask and the clip; the K launches are
// issued from C++. Compile-checked with nvcc (tools/check_cuda_compile.sh); not yet run on a GPU.
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <utility>

#include "cuda/csr_warp.cuh"
#include "ops/csr_checks.h"
#include "ops/spmm.h"

namespace noisygraph {
namespace cuda {
namespace {

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

at::Tensor diffuse_steps(const at::Tensor& rowptr, const at::Tensor& col,
                         const std::optional<at::Tensor>& value, const at::Tensor& y0,
                         int64_t num_steps, double alpha,
                         const std::optional<at::Tensor>& clamp_mask, bool clip) {
  const int64_t n = y0.size(0);
  const int64_t f = y0.size(1);
  if (num_steps == 0 || n == 0 || f == 0) return y0.clone();
  auto out = at::empty_like(y0);
  auto spare = num_steps > 1 ? at::empty_like(y0) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(y0.scalar_type(), "diffuse_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(col.scalar_type(), "diffuse_cuda_index", [&] {
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
        launch_gather_rows(rowptr.data_ptr<index_t>(), col.data_ptr<index_t>(),
                           value ? value->data_ptr<scalar_t>() : nullptr, src, n, f, epilogue);
        src = target.data_ptr<scalar_t>();
      }
    });
  });
  return out;
}

at::Tensor diffuse_cuda(const at::Tensor& rowptr, const at::Tensor& col,
                        const std::optional<at::Tensor>& value, const at::Tensor& y0,
                        int64_t num_steps, double alpha,
                        const std::optional<at::Tensor>& clamp_mask, bool clip,
                    const std::optional<at::Tensor>& /*t_rowptr (backward only)*/,
                    const std::optional<at::Tensor>& /*t_col*/, const std::optional<at::Tensor>& /*t_perm*/) {
  check_csr("diffuse", rowptr, col, value, y0);
  check_diffusion("diffuse", rowptr.numel() - 1, y0, num_steps, alpha, clamp_mask);
  auto value_c = value.has_value() ? std::optional<at::Tensor>(value->contiguous()) : std::nullopt;
  auto mask_c =
      clamp_mask.has_value() ? std::optional<at::Tensor>(clamp_mask->contiguous()) : std::nullopt;
  return diffuse_steps(rowptr.contiguous(), col.contiguous(), value_c, y0.contiguous(),
                       num_steps, alpha, mask_c, clip);
}

at::Tensor diffuse_adjoint_cuda(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                const std::optional<at::Tensor>& t_value, const at::Tensor& grad,
                                int64_t num_steps, double alpha,
                                const std::optional<at::Tensor>& clamp_mask) {
  check_csr("diffuse_adjoint", t_rowptr, t_col, t_value, grad);
  check_diffusion("diffuse_adjoint", t_rowptr.numel() - 1, grad, num_steps, alpha, clamp_mask);
  auto rowptr = t_rowptr.contiguous();
  auto col = t_col.contiguous();
  auto value =
      t_value.has_value() ? std::optional<at::Tensor>(t_value->contiguous()) : std::nullopt;
  auto g = grad.contiguous();
  if (!clamp_mask.has_value())
    return diffuse_steps(rowptr, col, value, g, num_steps, alpha, std::nullopt, false);
  const int64_t n = g.size(0);
  const int64_t f = g.size(1);
  if (num_steps == 0 || n == 0 || f == 0) return g.clone();
  auto mask = clamp_mask->contiguous();
  auto keep_rows = mask.logical_not().unsqueeze(-1).to(g.scalar_type());
  auto acc = g * (keep_rows * alpha + (1.0 - keep_rows));
  auto u = g * keep_rows;
  auto u_next = at::empty_like(g);
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "diffuse_adjoint_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(col.scalar_type(), "diffuse_adjoint_cuda_index", [&] {
      for (int64_t t = 0; t < num_steps; ++t) {
        AdjointEpilogue<scalar_t> epilogue{mask.data_ptr<bool>(),
                                           acc.data_ptr<scalar_t>(),
                                           u_next.data_ptr<scalar_t>(),
                                           f,
                                           static_cast<scalar_t>(1.0 - alpha),
                                           static_cast<scalar_t>(alpha),
                                           t == num_steps - 1};
        launch_gather_rows(rowptr.data_ptr<index_t>(), col.data_ptr<index_t>(),
                           value ? value->data_ptr<scalar_t>() : nullptr,
                           u.data_ptr<scalar_t>(), n, f, epilogue);
        std::swap(u, u_next);
      }
    });
  });
  return acc;
}

}  // namespace
}  // namespace cuda

TORCH_LIBRARY_IMPL(noisygraph, CUDA, m) {
  m.impl("diffuse", &cuda::diffuse_cuda);
  m.impl("diffuse_adjoint", &cuda::diffuse_adjoint_cuda);
}

}  // namespace noisygraph
