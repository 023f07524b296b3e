// C++ entry points of the sparse diffusion ops (csrc/ops/spmm.h): calls through the
// dispatcher, so they run the kernel of whatever device the tensors live on.
#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/spmm.h"

namespace noisygraph {
namespace {

template <typename Signature>
c10::TypedOperatorHandle<Signature> op_handle(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

}  // namespace

at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& x,
                const std::optional<at::Tensor>& t_rowptr, const std::optional<at::Tensor>& t_col,
                const std::optional<at::Tensor>& t_perm) {
  static auto op = op_handle<decltype(spmm)>("noisygraph::spmm");
  return op.call(rowptr, col, value, x, t_rowptr, t_col, t_perm);
}

at::Tensor sddmm(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                 const at::Tensor& b) {
  static auto op = op_handle<decltype(sddmm)>("noisygraph::sddmm");
  return op.call(rowptr, col, a, b);
}

at::Tensor diffuse(const at::Tensor& rowptr, const at::Tensor& col,
                   const std::optional<at::Tensor>& value, const at::Tensor& y0,
                   int64_t num_steps, double alpha, const std::optional<at::Tensor>& clamp_mask,
                   bool clip, const std::optional<at::Tensor>& t_rowptr,
                   const std::optional<at::Tensor>& t_col, const std::optional<at::Tensor>& t_perm) {
  static auto op = op_handle<decltype(diffuse)>("noisygraph::diffuse");
  return op.call(rowptr, col, value, y0, num_steps, alpha, clamp_mask, clip, t_rowptr, t_col,
                 t_perm);
}

at::Tensor diffuse_adjoint(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                           const std::optional<at::Tensor>& t_value, const at::Tensor& grad,
                           int64_t num_steps, double alpha,
                           const std::optional<at::Tensor>& clamp_mask) {
  static auto op = op_handle<decltype(diffuse_adjoint)>("noisygraph::diffuse_adjoint");
  return op.call(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask);
}

}  // namespace noisygraph
