// CPU kernels of spmm (CSR x dense) and sddmm (its gradient w.r.t. the edge values).
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "cpu/csr_rows.h"
#include "ops/csr_checks.h"
#include "ops/spmm.h"

namespace noisygraph {
namespace cpu {

// Rows per parallel_for task: large enough to amortise scheduling, small enough to balance.
constexpr int64_t kRowGrain = 1024;

at::Tensor spmm_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                    const std::optional<at::Tensor>& value, const at::Tensor& x,
                    const std::optional<at::Tensor>& t_rowptr, const std::optional<at::Tensor>& t_col,
                    const std::optional<at::Tensor>& t_perm) {
  const CheckedCsr csr = check_csr("spmm", rowptr, col, value, x, "x");
  check_transpose_args("spmm", t_rowptr, t_col, t_perm, csr, x);  // read by the backward only
  const int64_t num_rows = csr.num_rows;
  const int64_t f = x.size(1);
  auto x_c = x.contiguous();
  auto out = at::empty({num_rows, f}, x.options());
  if (num_rows == 0 || f == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "spmm_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "spmm_cpu_index", [&] {
      const index_t* rp = csr.rowptr.data_ptr<index_t>();
      const index_t* cp = csr.col.data_ptr<index_t>();
      const scalar_t* xp = x_c.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      auto no_epilogue = [](int64_t, scalar_t*, bool) {};
      if (csr.value.has_value()) {
        const scalar_t* vp = csr.value->data_ptr<scalar_t>();
        at::parallel_for(0, num_rows, kRowGrain, [&](int64_t begin, int64_t end) {
          gather_rows<true>(rp, cp, vp, xp, f, begin, end, op, nullptr, no_epilogue);
        });
      } else {
        at::parallel_for(0, num_rows, kRowGrain, [&](int64_t begin, int64_t end) {
          gather_rows<false>(rp, cp, static_cast<const scalar_t*>(nullptr), xp, f, begin, end,
                             op, nullptr, no_epilogue);
        });
      }
    });
  });
  return out;
}

at::Tensor sddmm_cpu(const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& a,
                     const at::Tensor& b) {
  check_dense("sddmm", "a", a);
  const CheckedCsr csr = check_csr("sddmm", rowptr, col, std::nullopt, b, "b");
  check_sddmm_rows("sddmm", csr, a, b);
  const int64_t num_rows = csr.num_rows;
  const int64_t f = a.size(1);
  auto a_c = a.contiguous();
  auto b_c = b.contiguous();
  auto out = at::zeros({csr.col.numel()}, a.options());
  if (num_rows == 0 || csr.col.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "sddmm_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "sddmm_cpu_index", [&] {
      const index_t* rp = csr.rowptr.data_ptr<index_t>();
      const index_t* cp = csr.col.data_ptr<index_t>();
      const scalar_t* ap = a_c.data_ptr<scalar_t>();
      const scalar_t* bp = b_c.data_ptr<scalar_t>();
      scalar_t* op = out.data_ptr<scalar_t>();
      at::parallel_for(0, num_rows, kRowGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const scalar_t* a_row = ap + i * f;
          for (int64_t e = rp[i]; e < rp[i + 1]; ++e) {
            const scalar_t* b_row = bp + static_cast<int64_t>(cp[e]) * f;
            scalar_t dot = 0;
            for (int64_t k = 0; k < f; ++k) dot += a_row[k] * b_row[k];
            op[e] = dot;
          }
        }
      });
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
