// Public C++ signatures of the sparse diffusion ops (CSR rows are targets, PyG convention).
#pragma once
#include <ATen/ATen.h>

#include <optional>

namespace noisygraph {

// out[i] = sum_{e in row i} value[e] * x[col[e]]; value absent means all ones.
// t_rowptr/t_col/t_perm (the transposed CSR) are read by the autograd backward only.
at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& x,
                const std::optional<at::Tensor>& t_rowptr, const std::optional<at::Tensor>& t_col,
                const std::optional<at::Tensor>& t_perm);

// out[e] = <a[row(e)], b[col[e]]> for every nonzero e (the gradient of spmm w.r.t. value).
at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                 const at::Tensor& b);

// K fused steps of Y <- (1 - alpha) * A Y + alpha * Y0; rows in clamp_mask are kept at Y0;
// clip clamps every other row to [0, 1] after each step.
at::Tensor diffuse(const at::Tensor& rowptr, const at::Tensor& col,
                   const std::optional<at::Tensor>& value, const at::Tensor& y0,
                   int64_t num_steps, double alpha, const std::optional<at::Tensor>& clamp_mask,
                   bool clip, const std::optional<at::Tensor>& t_rowptr,
                   const std::optional<at::Tensor>& t_col, const std::optional<at::Tensor>& t_perm);

// Vector-Jacobian product of diffuse (without clip) w.r.t. y0, given the TRANSPOSED CSR.
at::Tensor diffuse_adjoint(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                           const std::optional<at::Tensor>& t_value, const at::Tensor& grad,
                           int64_t num_steps, double alpha,
                           const std::optional<at::Tensor>& clamp_mask);

}  // namespace noisygraph
