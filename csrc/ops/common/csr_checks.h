// Input validation shared by every noisygraph op (CPU and CUDA kernels).
//
// Rule: an op checks its arguments before it touches their memory, and bad input raises
// c10::ValueError / c10::TypeError (Python: ValueError / TypeError) whose message starts with
// the op's name and names the argument as the op's schema spells it.
//
// Costs: the checks of tensor ranks, dtypes, devices and lengths are O(1). The content checks
// of a CSR matrix (row pointers in order from 0 to nnz, column indices in range, values
// finite) are fused into the kernels that read it, on CPU (ops/common/csr_rows.h) and on
// CUDA (ops/common/csr_warp.cuh): every row pointer and column index is bounds-checked where it is read
// (a compare per edge, no second pass over the arrays), an invalid one is never used to index
// memory, and the op raises the exact error after its loop (throw_csr_error re-reads the
// arrays once, sequentially, to name the first violation). Paths on which no kernel reads the
// matrix call check_csr_content instead. The content checks of the small per-query arrays
// (pointers, node ids, masses) are O(length of the array).
#pragma once
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <optional>

// Registers `register_fn(m)` (a function of torch::Library&) for a backend and for its sparse
// layouts, so that a sparse tensor reaches the kernel's checks (a TypeError naming the
// argument) rather than the dispatcher's NotImplementedError.
#define NOISYGRAPH_REGISTER_WITH_SPARSE(BACKEND, register_fn)             \
  TORCH_LIBRARY_IMPL(noisygraph, BACKEND, m) { register_fn(m); }          \
  TORCH_LIBRARY_IMPL(noisygraph, Sparse##BACKEND, m) { register_fn(m); }  \
  TORCH_LIBRARY_IMPL(noisygraph, SparseCsr##BACKEND, m) { register_fn(m); }

namespace noisygraph {

// How an op's schema names the three tensors of one CSR matrix, for the error messages.
struct CsrNames {
  const char* rowptr = "rowptr";
  const char* col = "col";
  const char* value = "value";
};

// A CSR matrix that passed check_csr, as contiguous tensors (its entries are checked by the
// kernels that read them), with what the error messages need: the op, the argument names
// and the name of the dense input whose rows are the matrix's columns.
struct CheckedCsr {
  at::Tensor rowptr, col;
  std::optional<at::Tensor> value;
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  const char* op = "";
  CsrNames names;
  const char* dense_name = "";
};

// Validates (rowptr, col, value) as the CSR matrix multiplying the dense input `dense`
// (named `dense_name`; 2-D float32/float64), whose rows are the matrix's columns:
//   rowptr  1-D int32/int64 with at least one entry, rowptr[0] == 0, non-decreasing,
//           rowptr[-1] == nnz = len(col);
//   col     1-D, rowptr's dtype, every entry in [0, dense.size(0));
//   value   absent, or 1-D [nnz] in dense's dtype with every entry finite (any sign);
//   all on dense's device.
// Here: the O(1) checks, and on CPU rowptr[0] and rowptr[-1]; the entries are checked by the
// kernels as they read them (or here, in full, when no kernel will: no rows, or no columns).
CheckedCsr check_csr(const char* op, const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& dense,
                     const char* dense_name, const CsrNames& names = {});

// The full content checks of a CSR (any device; CUDA tensors are copied to the host), one
// sequential pass that raises a ValueError naming the first violation: for ops that do not
// read the matrix (e.g. zero steps) and to explain a kernel's report.
void check_csr_content(const CheckedCsr& csr);

// What an op calls when its kernels reported an invalid matrix: raises the exact error.
[[noreturn]] void throw_csr_error(const CheckedCsr& csr);

// A zeroed int32 flag on `like`'s device that the CUDA kernels set to 1 on any violation.
at::Tensor csr_error_flag(const at::Tensor& like);

// Reads the flag (one device-to-host copy, after the kernels that set it) and raises the
// exact error when it is set.
void throw_if_csr_error(const at::Tensor& flag, const CheckedCsr& csr);

// The checks of a dense input, for an op's own argument checks: a strided tensor; a 2-D
// float32/float64 one (rank: ValueError, dtype: TypeError).
void check_strided(const char* op, const char* name, const at::Tensor& t);
void check_dense(const char* op, const char* name, const at::Tensor& dense);

// ------------------------------------------------------------------ scalars
// `value` is finite and lies in the interval from low to high (each end open or closed).
void check_real(const char* op, const char* name, double value, double low, double high,
                bool low_open, bool high_open);

// ------------------------------------------------------------------ small arrays (O(length))
// 1-D int64 pointer into an array of `length` entries: ptr[0] == 0, non-decreasing,
// ptr[-1] == length (`target` names the array it indexes).
at::Tensor check_ptr(const char* op, const char* name, const at::Tensor& ptr, int64_t length,
                     const char* target);

// 1-D int64 node ids, every entry in [0, num_nodes). Returns the contiguous tensor.
at::Tensor check_node_ids(const char* op, const char* name, const at::Tensor& ids,
                          int64_t num_nodes);

// What check_float64_vector requires of every entry (kShapeOnly: nothing, O(1); the local
// diffusions check degree and sink entries where they read them, to stay strongly local).
enum class Entries { kShapeOnly, kFinite, kFiniteNonnegative };

// 1-D float64 CPU tensor of `length` entries whose entries satisfy `entries`. Returns the
// contiguous tensor.
at::Tensor check_float64_vector(const char* op, const char* name, const at::Tensor& t,
                                int64_t length, Entries entries);

// Every listed tensor lives on the CPU.
void check_cpu(const char* op, const char* name, const at::Tensor& t);

}  // namespace noisygraph
