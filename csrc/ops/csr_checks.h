// Argument checks shared by the CPU and CUDA kernels of the sparse diffusion ops.
#pragma once
#include <ATen/ATen.h>

#include <optional>

namespace noisygraph {

inline void check_csr(const char* op, const at::Tensor& rowptr, const at::Tensor& col,
                      const std::optional<at::Tensor>& value, const at::Tensor& dense) {
  TORCH_CHECK(rowptr.dim() == 1 && rowptr.numel() >= 1, op,
              ": rowptr must be 1-D with at least one entry, got shape ", rowptr.sizes());
  TORCH_CHECK(col.dim() == 1, op, ": col must be 1-D, got shape ", col.sizes());
  TORCH_CHECK(rowptr.scalar_type() == col.scalar_type(), op,
              ": rowptr and col must share one index dtype, got ", rowptr.scalar_type(),
              " and ", col.scalar_type());
  TORCH_CHECK(col.scalar_type() == at::kInt || col.scalar_type() == at::kLong, op,
              ": indices must be int32 or int64, got ", col.scalar_type());
  TORCH_CHECK(dense.dim() == 2, op, ": dense input must be 2-D [num_nodes, F], got shape ",
              dense.sizes());
  TORCH_CHECK(dense.scalar_type() == at::kFloat || dense.scalar_type() == at::kDouble, op,
              ": dense input must be float32 or float64, got ", dense.scalar_type());
  TORCH_CHECK(rowptr.device() == dense.device() && col.device() == dense.device(), op,
              ": all tensors must be on one device");
  if (rowptr.device().is_cpu()) {  // cheap on CPU; on a GPU it would synchronise
    TORCH_CHECK(rowptr[0].item<int64_t>() == 0 &&
                    rowptr[rowptr.numel() - 1].item<int64_t>() == col.numel(),
                op, ": rowptr must start at 0 and end at nnz = ", col.numel());
  }
  if (value.has_value()) {
    TORCH_CHECK(value->dim() == 1 && value->numel() == col.numel(), op,
                ": value must have shape [nnz] = [", col.numel(), "], got ", value->sizes());
    TORCH_CHECK(value->scalar_type() == dense.scalar_type(), op,
                ": value dtype ", value->scalar_type(), " differs from the dense dtype ",
                dense.scalar_type());
    TORCH_CHECK(value->device() == dense.device(), op, ": value is on another device");
  }
}

inline void check_diffusion(const char* op, int64_t num_rows, const at::Tensor& dense,
                            int64_t num_steps, double alpha,
                            const std::optional<at::Tensor>& clamp_mask) {
  TORCH_CHECK(num_rows == dense.size(0), op, ": the adjacency has ", num_rows,
              " rows but the dense input has ", dense.size(0));
  TORCH_CHECK(num_steps >= 0, op, ": num_steps must be >= 0, got ", num_steps);
  TORCH_CHECK(alpha >= 0.0 && alpha <= 1.0, op, ": alpha must lie in [0, 1], got ", alpha);
  if (clamp_mask.has_value()) {
    TORCH_CHECK(clamp_mask->scalar_type() == at::kBool, op, ": clamp_mask must be bool, got ",
                clamp_mask->scalar_type());
    TORCH_CHECK(clamp_mask->dim() == 1 && clamp_mask->numel() == num_rows, op,
                ": clamp_mask must have shape [", num_rows, "], got ", clamp_mask->sizes());
    TORCH_CHECK(clamp_mask->device() == dense.device(), op, ": clamp_mask is on another device");
  }
}

}  // namespace noisygraph
