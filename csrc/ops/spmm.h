#pragma once
#include <ATen/ATen.h>
#include <optional>

namespace noisygraph {

// CSR sparse (rowptr, col, value) times dense x: out = A @ x.
at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& x);

}  // namespace noisygraph
