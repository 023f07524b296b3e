// The diffusion op family (CSR rows are targets, PyG convention): spmm, sddmm, diffuse and
// diffuse_adjoint. Schemas: ops/diffusion.cpp; kernels: ops/cpu/diffusion_kernel.cpp and
// ops/cuda/diffusion_kernel.cu, which share the argument checks declared here (each raises a
// ValueError / TypeError naming the argument before any kernel touches memory).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>

#include "ops/common/csr_checks.h"

namespace noisygraph {

// spmm(rowptr, col, value, x): the CSR against x.
CheckedCsr check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                           const std::optional<at::Tensor>& value, const at::Tensor& x);

// sddmm(rowptr, col, a, b): the CSR against b; a is [num_rows, F] with b's F, dtype, device.
CheckedCsr check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& a, const at::Tensor& b);

// A diffusion's checked CSR and contiguous clamp mask.
struct DiffusionArgs {
  CheckedCsr csr;
  std::optional<at::Tensor> clamp_mask;
};

// diffuse(rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip): the CSR against y0
// (square: one row per row of y0), num_steps >= 0, alpha finite in [0, 1], clamp_mask absent
// or bool [N] on y0's device.
DiffusionArgs check_diffuse_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const std::optional<at::Tensor>& value, const at::Tensor& y0,
                                 int64_t num_steps, double alpha,
                                 const std::optional<at::Tensor>& clamp_mask);

// diffuse_adjoint(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask): as diffuse,
// for the transposed CSR against grad.
DiffusionArgs check_diffuse_adjoint_args(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                         const std::optional<at::Tensor>& t_value,
                                         const at::Tensor& grad, int64_t num_steps,
                                         double alpha,
                                         const std::optional<at::Tensor>& clamp_mask);

}  // namespace noisygraph
