// Input validation shared by every noisygraph op (CPU and CUDA kernels).
//
// Rule: an op checks its arguments before it touches their memory, and bad input raises
// c10::ValueError / c10::TypeError (Python: ValueError / TypeError) whose message starts with
// the op's name and names the argument as the op's schema spells it.
//
// Costs: the checks of tensor ranks, dtypes, devices and lengths are O(1). The content checks
// of a CSR matrix (check_csr) are one parallel O(N + nnz) pass on CPU; on CUDA they are
// fused into the kernels (every row pointer and column index is bounds-checked where it is
// read, a violation sets a device flag, and the op reads that flag once after its launches and
// then reports the first violation exactly, from a host copy). The content checks of the
// small per-query arrays (pointers, node ids, masses) are O(length of the array).
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

// How an op's schema names the three tensors of one CSR matrix (and the dense input whose
// rows are its columns), for the error messages.
struct CsrNames {
  const char* rowptr = "rowptr";
  const char* col = "col";
  const char* value = "value";
};

// A CSR matrix whose structure has been validated, as contiguous tensors.
struct CheckedCsr {
  at::Tensor rowptr, col;
  std::optional<at::Tensor> value;
  int64_t num_rows = 0;
  int64_t num_cols = 0;
};

// Validates a dense 2-D floating input of an op: rank 2 (ValueError), float32/float64
// (TypeError).
void check_dense(const char* op, const char* name, const at::Tensor& dense);

// Validates (rowptr, col, value) as the CSR matrix multiplying the dense input `dense`
// (named `dense_name`), whose rows are the matrix's columns:
//   rowptr  1-D int32/int64 with at least one entry, rowptr[0] == 0, non-decreasing,
//           rowptr[-1] == nnz = len(col);
//   col     1-D, rowptr's dtype, every entry in [0, dense.size(0));
//   value   absent, or 1-D [nnz] in dense's dtype with every entry finite (any sign);
//   all on dense's device.
// On CPU every check runs here (one parallel pass); on CUDA only the O(1) ones, the kernel
// guards do the rest (see csr_error_flag / throw_if_csr_error). Returns contiguous tensors.
CheckedCsr check_csr(const char* op, const at::Tensor& rowptr, const at::Tensor& col,
                     const std::optional<at::Tensor>& value, const at::Tensor& dense,
                     const char* dense_name, const CsrNames& names = {});

// The O(N + nnz) content checks of check_csr on CPU tensors (contiguous, dtypes already
// checked): throws a ValueError naming the first violation.
void check_csr_content_cpu(const char* op, const at::Tensor& rowptr, const at::Tensor& col,
                           const std::optional<at::Tensor>& value, int64_t num_cols,
                           const char* dense_name, const CsrNames& names);

// A zeroed int32 flag on `like`'s device that the CUDA kernels set to 1 on any violation.
at::Tensor csr_error_flag(const at::Tensor& like);

// Reads the flag (one device-to-host copy, after the kernels that set it) and, when it is
// set, re-runs the content checks on host copies to raise the exact ValueError.
void throw_if_csr_error(const char* op, const at::Tensor& flag, const CheckedCsr& csr,
                        const char* dense_name, const CsrNames& names);

// The optional transposed CSR (t_rowptr, t_col, t_perm) that the forward ops accept for their
// autograd backward (they do not read it; the backward's own ops validate it when they do):
// O(1) checks of rank, integer dtype, device and lengths ([num_cols + 1], [nnz], [nnz]).
void check_transpose_args(const char* op, const std::optional<at::Tensor>& t_rowptr,
                          const std::optional<at::Tensor>& t_col,
                          const std::optional<at::Tensor>& t_perm, const CheckedCsr& csr,
                          const at::Tensor& dense);

// sddmm's dense inputs: a [num_rows, F] and b [num_cols, F] share F, dtype and device.
void check_sddmm_rows(const char* op, const CheckedCsr& csr, const at::Tensor& a,
                      const at::Tensor& b);

// num_steps >= 0, alpha finite in [0, 1], clamp_mask absent or bool [num_rows] on dense's
// device; the adjacency must be square with one row per row of `dense`. Returns the
// contiguous clamp mask.
std::optional<at::Tensor> check_diffusion(const char* op, const CheckedCsr& csr,
                                          const at::Tensor& dense, const char* dense_name,
                                          int64_t num_steps, double alpha,
                                          const std::optional<at::Tensor>& clamp_mask);

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
