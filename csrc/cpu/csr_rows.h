// Row gathers over a CSR matrix, shared by the CPU kernels of spmm and diffuse.
//
// gather_row(dst, i) computes dst[0:f] = sum_{e in row i} w_e * x[col[e], 0:f]. The columns
// are processed in register blocks whose width is a compile-time multiple of 8 (up to 64),
// so for F = 40 one pass over the row's edges keeps all 40 sums in five AVX2 registers; the
// gathered rows of the next CSR row are prefetched while the current one is summed.
#pragma once
#include <cstdint>

namespace noisygraph {
namespace cpu {

template <int W, bool kWeighted, typename scalar_t, typename index_t>
inline void gather_block(const index_t* __restrict col, const scalar_t* __restrict value,
                         int64_t begin, int64_t end, const scalar_t* __restrict x, int64_t ld,
                         scalar_t* __restrict dst) {
  scalar_t acc[W];
  for (int k = 0; k < W; ++k) acc[k] = scalar_t(0);
  for (int64_t e = begin; e < end; ++e) {
    const scalar_t* __restrict x_row = x + static_cast<int64_t>(col[e]) * ld;
    if constexpr (kWeighted) {
      const scalar_t w = value[e];
      for (int k = 0; k < W; ++k) acc[k] += w * x_row[k];
    } else {
      for (int k = 0; k < W; ++k) acc[k] += x_row[k];
    }
  }
  for (int k = 0; k < W; ++k) dst[k] = acc[k];
}

template <bool kWeighted, typename scalar_t, typename index_t>
inline void gather_wide_block(int width, const index_t* col, const scalar_t* value, int64_t begin,
                              int64_t end, const scalar_t* x, int64_t ld, scalar_t* dst) {
  switch (width) {
#define NOISYGRAPH_BLOCK(W) \
  case W:                   \
    return gather_block<W, kWeighted>(col, value, begin, end, x, ld, dst);
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
      return;
  }
}

template <typename scalar_t, typename index_t>
inline void prefetch_sources(const index_t* col, int64_t begin, int64_t end, const scalar_t* x,
                             int64_t f) {
  const int64_t row_bytes = f * static_cast<int64_t>(sizeof(scalar_t));
  for (int64_t e = begin; e < end; ++e) {
    const char* p = reinterpret_cast<const char*>(x + static_cast<int64_t>(col[e]) * f);
    for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b, 0, 1);
  }
}

// dst[0:f] = sum over row i of (w_e *) x[col[e]]; x has leading dimension f.
template <bool kWeighted, typename scalar_t, typename index_t>
inline void gather_row(const index_t* col, const scalar_t* value, int64_t begin, int64_t end,
                       const scalar_t* x, int64_t f, scalar_t* dst) {
  int64_t c = 0;
  while (f - c >= 8) {
    const int width = static_cast<int>(f - c >= 64 ? 64 : (f - c) / 8 * 8);
    gather_wide_block<kWeighted>(width, col, value, begin, end, x + c, f, dst + c);
    c += width;
  }
  if (f - c >= 4) {
    gather_block<4, kWeighted>(col, value, begin, end, x + c, f, dst + c);
    c += 4;
  }
  if (f - c >= 2) {
    gather_block<2, kWeighted>(col, value, begin, end, x + c, f, dst + c);
    c += 2;
  }
  if (f - c >= 1) gather_block<1, kWeighted>(col, value, begin, end, x + c, f, dst + c);
}

// Calls body(i, dst_row) for every row in [row_begin, row_end) after gathering row i into
// dst + i * f, prefetching the sources of row i + 1 first.
template <bool kWeighted, typename scalar_t, typename index_t, typename Epilogue>
inline void gather_rows(const index_t* rowptr, const index_t* col, const scalar_t* value,
                        const scalar_t* x, int64_t f, int64_t row_begin, int64_t row_end,
                        scalar_t* dst, const uint8_t* skip, Epilogue&& epilogue) {
  for (int64_t i = row_begin; i < row_end; ++i) {
    if (i + 1 < row_end) prefetch_sources(col, rowptr[i + 1], rowptr[i + 2], x, f);
    scalar_t* dst_row = dst + i * f;
    const bool skipped = skip != nullptr && skip[i];
    if (!skipped) gather_row<kWeighted>(col, value, rowptr[i], rowptr[i + 1], x, f, dst_row);
    epilogue(i, dst_row, skipped);
  }
}

}  // namespace cpu
}  // namespace noisygraph
