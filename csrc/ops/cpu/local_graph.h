// The graph of the local-push CPU kernels (local_push_kernel.cpp, max_flow_kernel.cpp): the
// input tensors after their O(1) checks (ContiguousGraph) and the raw view every query reads,
// whose entries are checked where a query first reads them (GraphView).
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <optional>
#include <utility>

#include "ops/common/csr_checks.h"

namespace noisygraph {

// Read-only view of the graph shared by all threads. The O(1) checks ran when it was built
// (ContiguousGraph); the entries are checked where a query first reads them, so a query
// costs only its explored volume: the row pointers, column indices and weights of a row the
// first time the query scans it (Workspace::row), the degree (and sink) of a node the first
// time the query touches it (Workspace::local). A violation raises a ValueError naming the
// argument and the index.
struct GraphView {
  const char* op;
  const int64_t* rowptr;
  const int64_t* col;
  const double* value;   // nullptr: unit weights
  const double* degree;
  const double* sink;    // nullptr: the op has no sinks
  int64_t num_nodes;
  int64_t nnz;

  double weight(int64_t e) const { return value ? value[e] : 1.0; }
  // Row v: 0 <= rowptr[v] <= rowptr[v + 1] <= nnz, its column indices in [0, N), its weights
  // finite and >= 0.
  void check_row(int64_t v) const {
    const int64_t begin = rowptr[v], end = rowptr[v + 1];
    TORCH_CHECK_VALUE(0 <= begin && begin <= end && end <= nnz, op, ": rowptr[", v, "] = ",
                      begin, " and rowptr[", v + 1, "] = ", end,
                      " do not delimit a row inside [0, nnz = ", nnz,
                      "] (rowptr must be non-decreasing)");
    for (int64_t e = begin; e < end; ++e) {
      TORCH_CHECK_VALUE(0 <= col[e] && col[e] < num_nodes, op, ": col[", e, "] = ", col[e],
                        " is outside [0, ", num_nodes, ")");
      TORCH_CHECK_VALUE(value == nullptr || (value[e] >= 0.0 && std::isfinite(value[e])), op,
                        ": value[", e, "] = ", value[e], " must be finite and >= 0");
    }
  }
  // Node v's degree (and sink) finite and >= 0.
  void check_node(int64_t v) const {
    TORCH_CHECK_VALUE(degree[v] >= 0.0 && std::isfinite(degree[v]), op, ": degree[", v,
                      "] = ", degree[v], " must be finite and >= 0");
    if (sink != nullptr) {
      TORCH_CHECK_VALUE(sink[v] >= 0.0 && std::isfinite(sink[v]), op, ": sink[", v, "] = ",
                        sink[v], " must be finite and >= 0");
    }
  }
};

// rowptr and col: dense (strided) int64 CPU tensors (TypeError / ValueError naming them).
inline void check_int64_csr(const char* op, const at::Tensor& rowptr, const at::Tensor& col) {
  for (const auto& [name, t] : {std::pair<const char*, const at::Tensor*>{"rowptr", &rowptr},
                                {"col", &col}}) {
    TORCH_CHECK_TYPE(t->layout() == at::kStrided, op, ": ", name,
                     " must be a dense (strided) tensor, got layout ", t->layout());
    check_cpu(op, name, *t);
    TORCH_CHECK_TYPE(t->scalar_type() == at::kLong, op, ": ", name, " must be int64, got ",
                     t->scalar_type());
  }
}

// The graph's tensors as contiguous copies, kept alive for the raw view into them, after the
// O(1) checks: CPU, strided, int64 rowptr [N + 1] with rowptr[0] == 0 and rowptr[N] == nnz,
// int64 col [nnz], float64 value [nnz] (or absent), float64 degree (and sink) [N]. Their
// entries are checked where they are read (GraphView).
struct ContiguousGraph {
  at::Tensor rowptr, col, degree, sink;
  std::optional<at::Tensor> value;
  GraphView view;

  ContiguousGraph(const char* op, const at::Tensor& rowptr_, const at::Tensor& col_,
                  const std::optional<at::Tensor>& value_, const at::Tensor& degree_,
                  const std::optional<at::Tensor>& sink_) {
    check_int64_csr(op, rowptr_, col_);
    TORCH_CHECK_VALUE(rowptr_.dim() == 1 && rowptr_.numel() >= 1, op,
                      ": rowptr must be 1-D with at least one entry, got shape ",
                      rowptr_.sizes());
    TORCH_CHECK_VALUE(col_.dim() == 1, op, ": col must be 1-D, got shape ", col_.sizes());
    rowptr = rowptr_.contiguous();
    col = col_.contiguous();
    const int64_t n = rowptr.numel() - 1;
    const int64_t nnz = col.numel();
    const int64_t* rp = rowptr.data_ptr<int64_t>();
    TORCH_CHECK_VALUE(rp[0] == 0, op, ": rowptr[0] = ", rp[0], ", expected 0");
    TORCH_CHECK_VALUE(rp[n] == nnz, op, ": rowptr[", n, "] = ", rp[n],
                      " must equal nnz = len(col) = ", nnz);
    if (value_.has_value()) value = check_float64_vector(op, "value", *value_, nnz, Entries::kShapeOnly);
    degree = check_float64_vector(op, "degree", degree_, n, Entries::kShapeOnly);
    if (sink_.has_value()) sink = check_float64_vector(op, "sink", *sink_, n, Entries::kShapeOnly);
    view = GraphView{op,
                     rp,
                     col.data_ptr<int64_t>(),
                     value.has_value() ? value->data_ptr<double>() : nullptr,
                     degree.data_ptr<double>(),
                     sink.defined() ? sink.data_ptr<double>() : nullptr,
                     n,
                     nnz};
  }
};

}  // namespace noisygraph
