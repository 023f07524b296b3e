// The diffusion op family: its schemas (one TORCH_LIBRARY_FRAGMENT) and the argument checks
// its CPU and CUDA kernels share (ops/cpu/diffusion_kernel.cpp, ops/cuda/diffusion_kernel.cu).
// Autograd formulas and fake kernels: noisygraph/ops/diffusion.py.
#include "ops/diffusion.h"

#include <torch/library.h>

#include <utility>

TORCH_LIBRARY_FRAGMENT(noisygraph, m) {
  // CSR rows are targets; rowptr/col are int32 or int64; value absent means all ones.
  // Every call validates its CSR (rowptr from 0 to nnz, non-decreasing; col in [0, rows of
  // the dense input); value finite, any sign) -- see ops/common/csr_checks.h.
  // out[i] = sum_{e in row i} value[e] * x[col[e]]
  m.def("spmm(Tensor rowptr, Tensor col, Tensor? value, Tensor x) -> Tensor");
  // out[e] = <a[row(e)], b[col[e]]>: the gradient of spmm w.r.t. value.
  m.def("sddmm(Tensor rowptr, Tensor col, Tensor a, Tensor b) -> Tensor");
  // num_steps fused steps of Y <- (1 - alpha) A Y + alpha Y0; clamp_mask rows stay at Y0;
  // clip clamps the other rows to [0, 1] after every step.
  m.def(
      "diffuse(Tensor rowptr, Tensor col, Tensor? value, Tensor y0, int num_steps, "
      "float alpha, Tensor? clamp_mask=None, bool clip=False) -> Tensor");
  // d diffuse / d y0 applied to grad (no clip), given the TRANSPOSED CSR.
  m.def(
      "diffuse_adjoint(Tensor t_rowptr, Tensor t_col, Tensor? t_value, Tensor grad, "
      "int num_steps, float alpha, Tensor? clamp_mask) -> Tensor");
}

namespace noisygraph {

namespace {

// a [num_rows, F] and b [num_cols, F] share F, dtype and device.
void check_sddmm_rows(const char* op, const CheckedCsr& csr, const at::Tensor& a,
                      const at::Tensor& b) {
  TORCH_CHECK_TYPE(a.scalar_type() == b.scalar_type(), op, ": a and b must share a dtype, got ",
                   a.scalar_type(), " and ", b.scalar_type());
  TORCH_CHECK_VALUE(a.device() == b.device(), op, ": a is on ", a.device(), " but b on ",
                    b.device());
  TORCH_CHECK_VALUE(a.size(0) == csr.num_rows, op, ": a must have one row per CSR row (",
                    csr.num_rows, "), got ", a.size(0));
  TORCH_CHECK_VALUE(a.size(1) == b.size(1), op,
                    ": a and b need the same number of columns, got ", a.size(1), " and ",
                    b.size(1));
}

// num_steps >= 0, alpha finite in [0, 1], clamp_mask absent or bool [num_rows] on dense's
// device; the adjacency must be square with one row per row of `dense`. Returns the
// contiguous clamp mask.
std::optional<at::Tensor> check_diffusion(const CheckedCsr& csr, const at::Tensor& dense,
                                          int64_t num_steps, double alpha,
                                          const std::optional<at::Tensor>& clamp_mask) {
  const char* op = csr.op;
  const char* dense_name = csr.dense_name;
  TORCH_CHECK_VALUE(csr.num_rows == dense.size(0), op, ": the adjacency has ", csr.num_rows,
                    " rows but ", dense_name, " has ", dense.size(0),
                    " (a diffusion needs a square adjacency with one row per node)");
  TORCH_CHECK_VALUE(num_steps >= 0, op, ": num_steps must be >= 0, got ", num_steps);
  check_real(op, "alpha", alpha, 0.0, 1.0, false, false);
  if (!clamp_mask.has_value()) return std::nullopt;
  check_strided(op, "clamp_mask", *clamp_mask);
  TORCH_CHECK_TYPE(clamp_mask->scalar_type() == at::kBool, op, ": clamp_mask must be bool, got ",
                   clamp_mask->scalar_type());
  TORCH_CHECK_VALUE(clamp_mask->dim() == 1 && clamp_mask->numel() == csr.num_rows, op,
                    ": clamp_mask must have shape [", csr.num_rows, "], got ",
                    clamp_mask->sizes());
  TORCH_CHECK_VALUE(clamp_mask->device() == dense.device(), op, ": clamp_mask is on ",
                    clamp_mask->device(), " but ", dense_name, " on ", dense.device());
  return clamp_mask->contiguous();
}

}  // namespace

CheckedCsr check_spmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                           const std::optional<at::Tensor>& value, const at::Tensor& x) {
  return check_csr("spmm", rowptr, col, value, x, "x");
}

CheckedCsr check_sddmm_args(const at::Tensor& rowptr, const at::Tensor& col,
                            const at::Tensor& a, const at::Tensor& b) {
  check_dense("sddmm", "a", a);
  CheckedCsr csr = check_csr("sddmm", rowptr, col, std::nullopt, b, "b");
  check_sddmm_rows("sddmm", csr, a, b);
  return csr;
}

DiffusionArgs check_diffuse_args(const at::Tensor& rowptr, const at::Tensor& col,
                                 const std::optional<at::Tensor>& value, const at::Tensor& y0,
                                 int64_t num_steps, double alpha,
                                 const std::optional<at::Tensor>& clamp_mask) {
  CheckedCsr csr = check_csr("diffuse", rowptr, col, value, y0, "y0");
  auto mask = check_diffusion(csr, y0, num_steps, alpha, clamp_mask);
  return {std::move(csr), std::move(mask)};
}

DiffusionArgs check_diffuse_adjoint_args(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                                         const std::optional<at::Tensor>& t_value,
                                         const at::Tensor& grad, int64_t num_steps,
                                         double alpha,
                                         const std::optional<at::Tensor>& clamp_mask) {
  CheckedCsr csr = check_csr("diffuse_adjoint", t_rowptr, t_col, t_value, grad, "grad",
                             CsrNames{"t_rowptr", "t_col", "t_value"});
  auto mask = check_diffusion(csr, grad, num_steps, alpha, clamp_mask);
  return {std::move(csr), std::move(mask)};
}

}  // namespace noisygraph
