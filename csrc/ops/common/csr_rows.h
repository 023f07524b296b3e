// Row gathers over a CSR matrix, shared by the CPU kernels of spmm and diffuse.
//
// gather_row(dst, i) computes dst[0:f] = sum_{e in row i} w_e * x[col[e], 0:f]. The columns
// are processed in register blocks whose width is a compile-time multiple of 8 (up to 64),
// so for F = 40 one pass over the row's edges keeps all 40 sums in five AVX2 registers; the
// gathered rows of the next CSR row are prefetched while the current one is summed.
//
// The gathers validate the matrix as they read it (ops/common/csr_checks.h): every row's pointers
// must satisfy 0 <= rowptr[i] <= rowptr[i + 1] <= nnz, every column index must lie in
// [0, num_cols) and every value must be finite. A violation never leads to an out-of-bounds
// access (a bad row is read as empty, a bad column index as column 0) and is reported: the
// gathers return false, and the op then raises the exact error (throw_csr_error). Reading the
// indices here costs a compare per edge instead of a second pass over col and value; an op
// that gathers the same matrix several times (diffuse: one gather per step) checks it in
// the first gather only (kCheck = false afterwards: the matrix is then known valid).
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ops/common/csr_checks.h"

namespace noisygraph {
namespace cpu {

// Rows per parallel_for task: large enough to amortise scheduling, small enough to balance.
constexpr int64_t kRowGrain = 1024;

inline bool not_finite(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & 0x7f800000u) == 0x7f800000u;
}
inline bool not_finite(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
}

// The raw arrays of a CSR matrix whose O(1) checks passed (check_csr).
template <typename scalar_t, typename index_t>
struct CsrRows {
  const index_t* rowptr;
  const index_t* col;
  const scalar_t* value;  // nullptr: unit weights
  int64_t num_cols;       // >= 1 whenever nnz >= 1 (check_csr)
  int64_t nnz;

  // Row i's nonzeros [begin, end); false (and an empty row) when its pointers are invalid.
  template <bool kCheck = true>
  bool row(int64_t i, int64_t& begin, int64_t& end) const {
    begin = rowptr[i];
    end = rowptr[i + 1];
    if constexpr (!kCheck) return true;
    const bool ok = 0 <= begin && begin <= end && end <= nnz;
    if (!ok) begin = end = 0;
    return ok;
  }
  // col[e] if it lies in [0, num_cols), else 0 with ok = false (branch-free).
  template <bool kCheck = true>
  int64_t column(int64_t e, bool& ok) const {
    const int64_t j = col[e];
    if constexpr (!kCheck) return j;
    const bool in_range = static_cast<uint64_t>(j) < static_cast<uint64_t>(num_cols);
    ok &= in_range;
    return in_range ? j : 0;
  }
  // Whether the column indices (and values) of [begin, end) are valid, without gathering.
  bool entries_valid(int64_t begin, int64_t end) const {
    bool ok = true;
    for (int64_t e = begin; e < end; ++e) {
      column(e, ok);
      if (value != nullptr) ok &= !not_finite(value[e]);
    }
    return ok;
  }
};

template <typename scalar_t, typename index_t>
CsrRows<scalar_t, index_t> csr_rows(const CheckedCsr& csr) {
  return {csr.rowptr.data_ptr<index_t>(), csr.col.data_ptr<index_t>(),
          csr.value.has_value() ? csr.value->data_ptr<scalar_t>() : nullptr, csr.num_cols,
          csr.col.numel()};
}

template <int W, bool kWeighted, bool kCheck, typename scalar_t, typename index_t>
inline bool gather_block(const CsrRows<scalar_t, index_t>& a, int64_t begin, int64_t end,
                         const scalar_t* __restrict x, int64_t ld, scalar_t* __restrict dst) {
  scalar_t acc[W];
  for (int k = 0; k < W; ++k) acc[k] = scalar_t(0);
  bool ok = true;
  for (int64_t e = begin; e < end; ++e) {
    const scalar_t* __restrict x_row = x + a.template column<kCheck>(e, ok) * ld;
    if constexpr (kWeighted) {
      const scalar_t w = a.value[e];
      if constexpr (kCheck) ok &= !not_finite(w);
      for (int k = 0; k < W; ++k) acc[k] += w * x_row[k];
    } else {
      for (int k = 0; k < W; ++k) acc[k] += x_row[k];
    }
  }
  for (int k = 0; k < W; ++k) dst[k] = acc[k];
  return ok;
}

template <bool kWeighted, bool kCheck, typename scalar_t, typename index_t>
inline bool gather_wide_block(int width, const CsrRows<scalar_t, index_t>& a, int64_t begin,
                              int64_t end, const scalar_t* x, int64_t ld, scalar_t* dst) {
  switch (width) {
#define NOISYGRAPH_BLOCK(W) \
  case W:                   \
    return gather_block<W, kWeighted, kCheck>(a, begin, end, x, ld, dst);
    NOISYGRAPH_BLOCK(8)
    NOISYGRAPH_BLOCK(16)
    NOISYGRAPH_BLOCK(24)
    NOISYGRAPH_BLOCK(32)
    NOISYGRAPH_BLOCK(40)
    NOISYGRAPH_BLOCK(48)
    NOISYGRAPH_BLOCK(56)
    NOISYGRAPH_BLOCK(64)
#undef NOISYGRAPH_BLOCK
    default:
      return true;
  }
}

template <bool kCheck, typename scalar_t, typename index_t>
inline void prefetch_sources(const CsrRows<scalar_t, index_t>& a, int64_t begin, int64_t end,
                             const scalar_t* x, int64_t f) {
  const int64_t row_bytes = f * static_cast<int64_t>(sizeof(scalar_t));
  bool ignored = true;  // the gather itself reports bad indices
  for (int64_t e = begin; e < end; ++e) {
    const char* p = reinterpret_cast<const char*>(x + a.template column<kCheck>(e, ignored) * f);
    for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b, 0, 1);
  }
}

// dst[0:f] = sum over row [begin, end) of (w_e *) x[col[e]]; x has leading dimension f.
// Returns false if an index or value was invalid.
template <bool kWeighted, bool kCheck, typename scalar_t, typename index_t>
inline bool gather_row(const CsrRows<scalar_t, index_t>& a, int64_t begin, int64_t end,
                       const scalar_t* x, int64_t f, scalar_t* dst) {
  bool ok = true;
  int64_t c = 0;
  while (f - c >= 8) {
    const int width = static_cast<int>(f - c >= 64 ? 64 : (f - c) / 8 * 8);
    ok &= gather_wide_block<kWeighted, kCheck>(width, a, begin, end, x + c, f, dst + c);
    c += width;
  }
  if (f - c >= 4) {
    ok &= gather_block<4, kWeighted, kCheck>(a, begin, end, x + c, f, dst + c);
    c += 4;
  }
  if (f - c >= 2) {
    ok &= gather_block<2, kWeighted, kCheck>(a, begin, end, x + c, f, dst + c);
    c += 2;
  }
  if (f - c >= 1) ok &= gather_block<1, kWeighted, kCheck>(a, begin, end, x + c, f, dst + c);
  return ok;
}

// Calls epilogue(i, dst_row, skipped) for every row in [row_begin, row_end) after gathering
// row i into dst + i * f (rows with skip[i] are not gathered, only validated), prefetching
// the sources of row i + 1 first. Returns false if the matrix was invalid in these rows
// (kCheck = false: the caller knows it is valid).
template <bool kWeighted, bool kCheck, typename scalar_t, typename index_t, typename Epilogue>
inline bool gather_rows(const CsrRows<scalar_t, index_t>& a, const scalar_t* x, int64_t f,
                        int64_t row_begin, int64_t row_end, scalar_t* dst, const uint8_t* skip,
                        Epilogue&& epilogue) {
  bool ok = true;
  int64_t begin = 0, end = 0;
  if (row_begin < row_end) ok &= a.template row<kCheck>(row_begin, begin, end);
  for (int64_t i = row_begin; i < row_end; ++i) {
    int64_t next_begin = 0, next_end = 0;
    if (i + 1 < row_end) {
      ok &= a.template row<kCheck>(i + 1, next_begin, next_end);
      prefetch_sources<kCheck>(a, next_begin, next_end, x, f);
    }
    scalar_t* dst_row = dst + i * f;
    const bool skipped = skip != nullptr && skip[i];
    if (skipped) {
      if constexpr (kCheck) ok &= a.entries_valid(begin, end);
    } else {
      ok &= gather_row<kWeighted, kCheck>(a, begin, end, x, f, dst_row);
    }
    epilogue(i, dst_row, skipped);
    begin = next_begin;
    end = next_end;
  }
  return ok;
}

// The scheduling unit of parallel_gather: a block of consecutive rows holding about
// kBlockCost edges plus rows (a row costs one unit besides its edges: its pointers, restart
// row and written row).
constexpr int64_t kBlockCost = 1 << 15;

// The first row of each of `blocks` blocks of about equal cost (edges + rows), and num_rows
// at the end: bisection on rowptr[i] + i (increasing for a valid matrix), then made
// non-decreasing from 0 to num_rows, so that the blocks cover every row exactly once even
// when rowptr is invalid (whose rows the gathers then report).
template <typename index_t>
inline std::vector<int64_t> block_starts(const index_t* rowptr, int64_t num_rows, int64_t nnz,
                                         int64_t blocks) {
  std::vector<int64_t> starts(blocks + 1, num_rows);
  const double total = static_cast<double>(nnz) + static_cast<double>(num_rows);
  starts[0] = 0;
  for (int64_t b = 1; b < blocks; ++b) {
    const double target = static_cast<double>(b) * total / static_cast<double>(blocks);
    int64_t low = 0, high = num_rows;  // the first row i with rowptr[i] + i >= target
    while (low < high) {
      const int64_t mid = low + (high - low) / 2;
      if (static_cast<double>(rowptr[mid]) + static_cast<double>(mid) < target)
        low = mid + 1;
      else
        high = mid;
    }
    starts[b] = std::max(low, starts[b - 1]);
  }
  return starts;
}

// Runs gather_rows over all rows in parallel, weighted or not: blocks of about kBlockCost
// edges plus rows, which the threads claim in order from a shared counter (balanced by
// edges, not rows, and a thread the OS parks holds up one block, not half of the rows).
// Returns false if the matrix was invalid anywhere (the caller raises with throw_csr_error);
// with kCheck = false (a matrix an earlier gather of the same call validated) it does not
// check and returns true.
template <bool kCheck, typename scalar_t, typename index_t, typename Epilogue>
bool parallel_gather(const CheckedCsr& csr, const scalar_t* x, int64_t f, scalar_t* dst,
                     const uint8_t* skip, const Epilogue& epilogue) {
  const auto a = csr_rows<scalar_t, index_t>(csr);
  const int64_t n = csr.num_rows;
  const int64_t cost = a.nnz + n;
  const int64_t blocks = cost / kBlockCost + 1;
  const std::vector<int64_t> starts = block_starts(a.rowptr, n, a.nnz, blocks);
  std::atomic<int64_t> next{0};
  std::atomic<bool> bad{false};
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    bool ok = true;
    for (int64_t b = next.fetch_add(1, std::memory_order_relaxed); b < blocks;
         b = next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t begin = starts[b], end = starts[b + 1];
      ok &= a.value != nullptr
                ? gather_rows<true, kCheck>(a, x, f, begin, end, dst, skip, epilogue)
                : gather_rows<false, kCheck>(a, x, f, begin, end, dst, skip, epilogue);
    }
    if (!ok) bad.store(true, std::memory_order_relaxed);
  });
  return !bad.load(std::memory_order_relaxed);
}

}  // namespace cpu
}  // namespace noisygraph
