#include <ATen/Parallel.h>
#include <torch/library.h>

#include "ops/spmm.h"

namespace noisygraph {
namespace {

template <typename scalar_t>
void spmm_rows(const int64_t* rowptr, const int64_t* col, const scalar_t* value,
               const scalar_t* x, scalar_t* out, int64_t num_rows, int64_t f) {
  at::parallel_for(0, num_rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      scalar_t* out_row = out + i * f;
      for (int64_t k = 0; k < f; ++k) out_row[k] = 0;
      for (int64_t e = rowptr[i]; e < rowptr[i + 1]; ++e) {
        const scalar_t w = value ? value[e] : scalar_t(1);
        const scalar_t* x_row = x + col[e] * f;
        for (int64_t k = 0; k < f; ++k) out_row[k] += w * x_row[k];
      }
    }
  });
}

at::Tensor spmm_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                    const std::optional<at::Tensor>& value, const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 2, "spmm: x must be 2-D");
  const int64_t num_rows = rowptr.numel() - 1;
  auto x_c = x.contiguous();
  auto rowptr_c = rowptr.contiguous();
  auto col_c = col.contiguous();
  auto out = at::empty({num_rows, x.size(1)}, x.options());
  std::optional<at::Tensor> value_c;
  if (value.has_value()) value_c = value->contiguous();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cpu", [&] {
    spmm_rows<scalar_t>(rowptr_c.data_ptr<int64_t>(), col_c.data_ptr<int64_t>(),
                        value_c ? value_c->data_ptr<scalar_t>() : nullptr,
                        x_c.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), num_rows,
                        x.size(1));
  });
  return out;
}

}  // namespace

at::Tensor spmm(const at::Tensor& rowptr, const at::Tensor& col,
                const std::optional<at::Tensor>& value, const at::Tensor& x) {
  return spmm_cpu(rowptr, col, value, x);
}

TORCH_LIBRARY_IMPL(noisygraph, CPU, m) { m.impl("spmm", &spmm_cpu); }

}  // namespace noisygraph
