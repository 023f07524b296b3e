// CPU kernels of spmm (CSR x dense) and sddmm (its gradient w.r.t. the edge values).
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "cpu/csr_rows.h"
#include "ops/csr_checks.h"
#include "ops/spmm.h"

namespace noisygraph {
namespace cpu {

at::Tensor spmm_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                    const std::optional<at::Tensor>& value, const at::Tensor& x,
                    const std::optional<at::Tensor>& t_rowptr, const std::optional<at::Tensor>& t_col,
                    const std::optional<at::Tensor>& t_perm) {
  const CheckedCsr csr = check_spmm_args(rowptr, col, value, x, t_rowptr, t_col, t_perm);
  const int64_t f = x.size(1);
  auto x_c = x.contiguous();
  auto out = at::empty({csr.num_rows, f}, x.options());
  if (f == 0) {  // no kernel reads the matrix
    check_csr_content(csr);
    return out;
  }
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "spmm_cpu_index", [&] {
      auto no_epilogue = [](int64_t, scalar_t*, bool) {};
      const bool valid = parallel_gather</*kCheck=*/true, scalar_t, index_t>(
          csr, x_c.data_ptr<scalar_t>(), f, out.data_ptr<scalar_t>(), nullptr, no_epilogue);
      if (!valid) throw_csr_error(csr);
    });
  });
  return out;
}

at::Tensor sddmm_cpu(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                     const at::Tensor& b) {
  const CheckedCsr csr = check_sddmm_args(rowptr, col, a, b);
  const int64_t f = a.size(1);
  auto a_c = a.contiguous();
  auto b_c = b.contiguous();
  auto out = at::zeros({csr.col.numel()}, a.options());
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "sddmm_cpu_index", [&] {
      const auto rows = csr_rows<scalar_t, index_t>(csr);
      const scalar_t* ap = a_c.data_ptr<scalar_t>();
      const scalar_t* bp = b_c.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      std::atomic<bool> bad{false};
      at::parallel_for(0, csr.num_rows, kRowGrain, [&](int64_t begin, int64_t end) {
        bool ok = true;
        for (int64_t i = begin; i < end; ++i) {
          const scalar_t* a_row = ap + i * f;
          int64_t row_begin, row_end;
          ok &= rows.row(i, row_begin, row_end);
          for (int64_t e = row_begin; e < row_end; ++e) {
            const scalar_t* b_row = bp + rows.column(e, ok) * f;
            scalar_t dot = 0;
            for (int64_t k = 0; k < f; ++k) dot += a_row[k] * b_row[k];
            op[e] = dot;
          }
        }
        if (!ok) bad.store(true, std::memory_order_relaxed);
      });
      if (bad.load(std::memory_order_relaxed)) throw_csr_error(csr);
    });
  });
  return out;
}

}  // namespace cpu

namespace {
void register_kernels(torch::Library& m) {
  m.impl("spmm", &cpu::spmm_cpu);
  m.impl("sddmm", &cpu::sddmm_cpu);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CPU, register_kernels)

}  // namespace noisygraph
