// Input validation shared by every noisygraph op (see ops/csr_checks.h).
#include "ops/common/csr_checks.h"

#include <ATen/Dispatch.h>

#include <cmath>

namespace noisygraph {
namespace {

bool is_index_dtype(at::ScalarType t) { return t == at::kInt || t == at::kLong; }


template <typename index_t>
void check_first_last(const char* op, const index_t* rp, int64_t num_rows, int64_t nnz,
                      const CsrNames& names) {
  TORCH_CHECK_VALUE(rp[0] == 0, op, ": ", names.rowptr, "[0] = ", rp[0], ", expected 0");
  TORCH_CHECK_VALUE(static_cast<int64_t>(rp[num_rows]) == nnz, op, ": ", names.rowptr, "[",
                    num_rows, "] = ", rp[num_rows], " must equal nnz = len(", names.col,
                    ") = ", nnz);
}

// The full content checks, sequential, raising at the first violation.
template <typename index_t>
void check_index_content(const char* op, const index_t* rp, const index_t* col,
                         int64_t num_rows, int64_t nnz, int64_t num_cols,
                         const char* dense_name, const CsrNames& names) {
  check_first_last(op, rp, num_rows, nnz, names);
  for (int64_t i = 0; i < num_rows; ++i) {
    TORCH_CHECK_VALUE(rp[i] <= rp[i + 1], op, ": ", names.rowptr, " must be non-decreasing, but ",
                      names.rowptr, "[", i, "] = ", rp[i], " > ", names.rowptr, "[", i + 1,
                      "] = ", rp[i + 1]);
  }
  for (int64_t e = 0; e < nnz; ++e) {
    TORCH_CHECK_VALUE(col[e] >= 0 && static_cast<int64_t>(col[e]) < num_cols, op, ": ",
                      names.col, "[", e, "] = ", col[e], " is outside [0, ", num_cols,
                      ") (the rows of ", dense_name, ")");
  }
}

template <typename scalar_t>
void check_value_content(const char* op, const scalar_t* value, int64_t nnz,
                         const CsrNames& names) {
  for (int64_t e = 0; e < nnz; ++e) {
    TORCH_CHECK_VALUE(std::isfinite(value[e]), op, ": ", names.value, "[", e, "] = ", value[e],
                      " is not finite");
  }
}

}  // namespace

void check_strided(const char* op, const char* name, const at::Tensor& t) {
  TORCH_CHECK_TYPE(t.layout() == at::kStrided, op, ": ", name,
                   " must be a dense (strided) tensor, got layout ", t.layout());
}

void check_dense(const char* op, const char* name, const at::Tensor& dense) {
  check_strided(op, name, dense);
  TORCH_CHECK_TYPE(dense.scalar_type() == at::kFloat || dense.scalar_type() == at::kDouble, op,
                   ": ", name, " must be float32 or float64, got ", dense.scalar_type());
  TORCH_CHECK_VALUE(dense.dim() == 2, op, ": ", name, " must be 2-D [num_nodes, F], got shape ",
                    dense.sizes());
}

void check_csr_content(const CheckedCsr& csr) {
  const char* op = csr.op;
  const CsrNames& names = csr.names;
  const char* dense_name = csr.dense_name;
  const auto rowptr = csr.rowptr.cpu(), col = csr.col.cpu();
  const int64_t nnz = col.numel();
  AT_DISPATCH_INDEX_TYPES(rowptr.scalar_type(), "check_csr", [&] {
    check_index_content(op, rowptr.data_ptr<index_t>(), col.data_ptr<index_t>(), csr.num_rows,
                        nnz, csr.num_cols, dense_name, names);
  });
  if (csr.value.has_value()) {
    const auto value = csr.value->cpu();
    AT_DISPATCH_FLOATING_TYPES(value.scalar_type(), "check_csr_value", [&] {
      check_value_content(op, value.data_ptr<scalar_t>(), nnz, names);
    });
  }
}

void throw_csr_error(const CheckedCsr& csr) {
  check_csr_content(csr);
  TORCH_CHECK_VALUE(false, csr.op, ": invalid CSR input (", csr.names.rowptr, ", ",
                    csr.names.col, ", ", csr.names.value, ")");
}

CheckedCsr check_csr(const char* op, const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& dense,
                     const char* dense_name, const CsrNames& names) {
  check_dense(op, dense_name, dense);
  check_strided(op, names.rowptr, rowptr);
  check_strided(op, names.col, col);
  TORCH_CHECK_TYPE(is_index_dtype(rowptr.scalar_type()), op, ": ", names.rowptr,
                   " must be int32 or int64, got ", rowptr.scalar_type());
  TORCH_CHECK_TYPE(col.scalar_type() == rowptr.scalar_type(), op, ": ", names.col,
                   " must have the dtype of ", names.rowptr, " (", rowptr.scalar_type(),
                   "), got ", col.scalar_type());
  TORCH_CHECK_VALUE(rowptr.dim() == 1 && rowptr.numel() >= 1, op, ": ", names.rowptr,
                    " must be 1-D with at least one entry, got shape ", rowptr.sizes());
  TORCH_CHECK_VALUE(col.dim() == 1, op, ": ", names.col, " must be 1-D, got shape ",
                    col.sizes());
  TORCH_CHECK_VALUE(rowptr.device() == dense.device() && col.device() == dense.device(), op,
                    ": ", names.rowptr, " (", rowptr.device(), ") and ", names.col, " (",
                    col.device(), ") must be on the device of ", dense_name, " (",
                    dense.device(), ")");
  if (value.has_value()) {
    check_strided(op, names.value, *value);
    TORCH_CHECK_TYPE(value->scalar_type() == dense.scalar_type(), op, ": ", names.value,
                     " must have the dtype of ", dense_name, " (", dense.scalar_type(),
                     "), got ", value->scalar_type());
    TORCH_CHECK_VALUE(value->dim() == 1 && value->numel() == col.numel(), op, ": ",
                      names.value, " must have shape [nnz] = [", col.numel(), "], got ",
                      value->sizes());
    TORCH_CHECK_VALUE(value->device() == dense.device(), op, ": ", names.value, " is on ",
                      value->device(), " but ", dense_name, " on ", dense.device());
  }
  CheckedCsr csr{rowptr.contiguous(), col.contiguous(),
                 value.has_value() ? std::optional<at::Tensor>(value->contiguous())
                                   : std::nullopt,
                 rowptr.numel() - 1, dense.size(0), op, names, dense_name};
  if (csr.num_rows == 0 || (csr.num_cols == 0 && col.numel() > 0)) {
    // No kernel would read these (no rows; or no column any index could name): check here.
    check_csr_content(csr);
  } else if (dense.is_cpu()) {
    AT_DISPATCH_INDEX_TYPES(csr.rowptr.scalar_type(), "check_csr", [&] {
      check_first_last(op, csr.rowptr.data_ptr<index_t>(), csr.num_rows, csr.col.numel(), names);
    });
  }
  return csr;
}

at::Tensor csr_error_flag(const at::Tensor& like) {
  return at::zeros({1}, like.options().dtype(at::kInt));
}

void throw_if_csr_error(const at::Tensor& flag, const CheckedCsr& csr) {
  if (flag.item<int32_t>() != 0) throw_csr_error(csr);
}

void check_real(const char* op, const char* name, double value, double low, double high,
                bool low_open, bool high_open) {
  const bool above = low_open ? value > low : value >= low;
  const bool below = high_open ? value < high : value <= high;
  TORCH_CHECK_VALUE(std::isfinite(value) && above && below, op, ": ", name, " = ", value,
                    " must be a finite number in ", low_open ? "(" : "[", low, ", ", high,
                    high_open ? ")" : "]");
}

void check_cpu(const char* op, const char* name, const at::Tensor& t) {
  TORCH_CHECK_VALUE(t.device().is_cpu(), op, ": ", name, " must be a CPU tensor, got one on ",
                    t.device(), " (the local diffusions run on CPU only)");
}

at::Tensor check_ptr(const char* op, const char* name, const at::Tensor& ptr, int64_t length,
                     const char* target) {
  check_strided(op, name, ptr);
  check_cpu(op, name, ptr);
  TORCH_CHECK_TYPE(ptr.scalar_type() == at::kLong, op, ": ", name, " must be int64, got ",
                   ptr.scalar_type());
  TORCH_CHECK_VALUE(ptr.dim() == 1 && ptr.numel() >= 1, op, ": ", name,
                    " must be 1-D with at least one entry, got shape ", ptr.sizes());
  auto c = ptr.contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  const int64_t last = c.numel() - 1;
  TORCH_CHECK_VALUE(p[0] == 0, op, ": ", name, "[0] = ", p[0], ", expected 0");
  for (int64_t q = 0; q < last; ++q) {
    TORCH_CHECK_VALUE(p[q] <= p[q + 1], op, ": ", name, " must be non-decreasing, but ", name,
                      "[", q, "] = ", p[q], " > ", name, "[", q + 1, "] = ", p[q + 1]);
  }
  TORCH_CHECK_VALUE(p[last] == length, op, ": ", name, "[", last, "] = ", p[last],
                    " must equal len(", target, ") = ", length);
  return c;
}

at::Tensor check_node_ids(const char* op, const char* name, const at::Tensor& ids,
                          int64_t num_nodes) {
  check_strided(op, name, ids);
  check_cpu(op, name, ids);
  TORCH_CHECK_TYPE(ids.scalar_type() == at::kLong, op, ": ", name, " must be int64, got ",
                   ids.scalar_type());
  TORCH_CHECK_VALUE(ids.dim() == 1, op, ": ", name, " must be 1-D, got shape ", ids.sizes());
  auto c = ids.contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  for (int64_t k = 0; k < c.numel(); ++k) {
    TORCH_CHECK_VALUE(p[k] >= 0 && p[k] < num_nodes, op, ": ", name, "[", k, "] = ", p[k],
                      " is outside [0, ", num_nodes, ") (the graph's nodes)");
  }
  return c;
}

at::Tensor check_float64_vector(const char* op, const char* name, const at::Tensor& t,
                                int64_t length, Entries entries) {
  check_strided(op, name, t);
  check_cpu(op, name, t);
  TORCH_CHECK_TYPE(t.scalar_type() == at::kDouble, op, ": ", name, " must be float64, got ",
                   t.scalar_type());
  TORCH_CHECK_VALUE(t.dim() == 1 && t.numel() == length, op, ": ", name, " must have shape [",
                    length, "], got ", t.sizes());
  auto c = t.contiguous();
  if (entries == Entries::kShapeOnly) return c;
  const bool nonnegative = entries == Entries::kFiniteNonnegative;
  const double* p = c.data_ptr<double>();
  for (int64_t k = 0; k < length; ++k) {
    TORCH_CHECK_VALUE(std::isfinite(p[k]) && (!nonnegative || p[k] >= 0.0), op, ": ", name,
                      "[", k, "] = ", p[k], " must be finite", nonnegative ? " and >= 0" : "");
  }
  return c;
}

}  // namespace noisygraph
