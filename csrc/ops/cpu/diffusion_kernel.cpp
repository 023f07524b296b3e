// CPU kernels of the diffusion family (schemas: ops/diffusion.cpp): spmm (CSR x dense),
// sddmm (its gradient w.r.t. the edge values), the fused K-step diffusion with restart and
// its adjoint.
//
// Forward:  Y_{t+1} = (1 - a) A Y_t + a Y_0 on rows outside the clamp mask M, Y_{t+1} = Y_0
// on rows inside it (optionally clipped to [0, 1]). Two ping-pong buffers, the restart folded
// into the write of each row, and the last step written straight into the output.
//
// Adjoint (w.r.t. Y_0, no clip): with B = (1 - a) diag(1 - M) A and C = diag(a (1 - M) + M),
// Y_K = (B^K + sum_{t<K} B^t C) Y_0, so for G = dL/dY_K
//     dL/dY_0 = W_K + C sum_{t<K} W_t,   W_0 = G,  W_{t+1} = (1 - a) A^T (1 - M) W_t.
// Without a mask this is the forward recurrence over A^T started at G, which is what runs.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "ops/common/csr_checks.h"
#include "ops/common/csr_rows.h"
#include "ops/diffusion.h"

namespace noisygraph {
namespace cpu {
namespace {
at::Tensor spmm_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                    const std::optional<at::Tensor>& value, const at::Tensor& x) {
  const CheckedCsr csr = check_spmm_args(rowptr, col, value, x);
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

// One step's gathers over all rows. The first step's check the matrix as they read it
// (ops/common/csr_rows.h) and raise if it is invalid; the later steps read the same, now
// validated, matrix without checks.
template <typename scalar_t, typename index_t, typename Epilogue>
void step(bool first, const CheckedCsr& csr, const scalar_t* src, int64_t f, scalar_t* dst,
          const uint8_t* skip, const Epilogue& epilogue) {
  if (!first) {
    parallel_gather</*kCheck=*/false, scalar_t, index_t>(csr, src, f, dst, skip, epilogue);
  } else if (!parallel_gather</*kCheck=*/true, scalar_t, index_t>(csr, src, f, dst, skip,
                                                                  epilogue)) {
    throw_csr_error(csr);
  }
}

at::Tensor diffuse_forward(const CheckedCsr& csr, const at::Tensor& y0, int64_t num_steps,
                           double alpha, const std::optional<at::Tensor>& clamp_mask, bool clip) {
  const int64_t n = y0.size(0);
  const int64_t f = y0.size(1);
  if (num_steps == 0 || n == 0 || f == 0) {  // no kernel reads the matrix
    check_csr_content(csr);
    return y0.clone();
  }
  auto out = at::empty_like(y0);
  auto spare = num_steps > 1 ? at::empty_like(y0) : at::Tensor();
  const uint8_t* skip =
      clamp_mask.has_value() ? reinterpret_cast<const uint8_t*>(clamp_mask->data_ptr<bool>())
                             : nullptr;
  AT_DISPATCH_FLOATING_TYPES(y0.scalar_type(), "diffuse_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(csr.col.scalar_type(), "diffuse_cpu_index", [&] {
      const scalar_t* start = y0.data_ptr<scalar_t>();
      const scalar_t keep = static_cast<scalar_t>(1.0 - alpha);
      const scalar_t restart = static_cast<scalar_t>(alpha);
      auto epilogue = [&](int64_t i, scalar_t* row, bool clamped) {
        const scalar_t* y0_row = start + i * f;
        if (clamped) {
          std::copy(y0_row, y0_row + f, row);
        } else if (clip) {
          for (int64_t k = 0; k < f; ++k)
            row[k] = std::min(std::max(keep * row[k] + restart * y0_row[k], scalar_t(0)),
                              scalar_t(1));
        } else {
          for (int64_t k = 0; k < f; ++k) row[k] = keep * row[k] + restart * y0_row[k];
        }
      };
      const scalar_t* src = start;
      for (int64_t t = 0; t < num_steps; ++t) {
        // The step that writes `out` is the last one; the buffers alternate backwards from it.
        at::Tensor& target = (num_steps - 1 - t) % 2 == 0 ? out : spare;
        scalar_t* dst = target.data_ptr<scalar_t>();
        step<scalar_t, index_t>(t == 0, csr, src, f, dst, skip, epilogue);
        src = dst;
      }
    });
  });
  return out;
}

at::Tensor diffuse_masked_adjoint(const CheckedCsr& t_csr, const at::Tensor& grad,
                                  int64_t num_steps, double alpha, const at::Tensor& clamp_mask) {
  const int64_t n = grad.size(0);
  const int64_t f = grad.size(1);
  if (num_steps == 0 || n == 0 || f == 0) {  // no kernel reads the matrix
    check_csr_content(t_csr);
    return grad.clone();
  }
  auto keep_rows = clamp_mask.logical_not().unsqueeze(-1).to(grad.scalar_type());
  // acc = C G (becomes the output), u = (1 - M) W_t (what the next step gathers).
  auto acc = grad * (keep_rows * alpha + (1.0 - keep_rows));
  auto u = grad * keep_rows;
  auto u_next = at::empty_like(grad);
  const bool* mask = clamp_mask.data_ptr<bool>();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "diffuse_adjoint_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(t_csr.col.scalar_type(), "diffuse_adjoint_cpu_index", [&] {
      scalar_t* acc_p = acc.data_ptr<scalar_t>();
      const scalar_t keep = static_cast<scalar_t>(1.0 - alpha);
      const scalar_t restart = static_cast<scalar_t>(alpha);
      for (int64_t t = 0; t < num_steps; ++t) {
        const bool last = t == num_steps - 1;
        scalar_t* dst = u_next.data_ptr<scalar_t>();
        auto epilogue = [&](int64_t i, scalar_t* row, bool) {
          scalar_t* acc_row = acc_p + i * f;
          if (last) {
            for (int64_t k = 0; k < f; ++k) acc_row[k] += keep * row[k];
          } else if (mask[i]) {
            for (int64_t k = 0; k < f; ++k) {
              acc_row[k] += keep * row[k];
              row[k] = 0;
            }
          } else {
            for (int64_t k = 0; k < f; ++k) {
              row[k] *= keep;
              acc_row[k] += restart * row[k];
            }
          }
        };
        step<scalar_t, index_t>(t == 0, t_csr, u.data_ptr<scalar_t>(), f, dst, nullptr,
                                epilogue);
        std::swap(u, u_next);
      }
    });
  });
  return acc;
}

at::Tensor diffuse_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                       const std::optional<at::Tensor>& value, const at::Tensor& y0,
                       int64_t num_steps, double alpha,
                       const std::optional<at::Tensor>& clamp_mask, bool clip) {
  const DiffusionArgs args =
      check_diffuse_args(rowptr, col, value, y0, num_steps, alpha, clamp_mask);
  return diffuse_forward(args.csr, y0.contiguous(), num_steps, alpha, args.clamp_mask, clip);
}

at::Tensor diffuse_adjoint_cpu(const at::Tensor& t_rowptr, const at::Tensor& t_col,
                               const std::optional<at::Tensor>& t_value, const at::Tensor& grad,
                               int64_t num_steps, double alpha,
                               const std::optional<at::Tensor>& clamp_mask) {
  const DiffusionArgs args =
      check_diffuse_adjoint_args(t_rowptr, t_col, t_value, grad, num_steps, alpha, clamp_mask);
  if (!args.clamp_mask.has_value())
    return diffuse_forward(args.csr, grad.contiguous(), num_steps, alpha, std::nullopt, false);
  return diffuse_masked_adjoint(args.csr, grad.contiguous(), num_steps, alpha, *args.clamp_mask);
}

}  // namespace
}  // namespace cpu

namespace {
void register_kernels(torch::Library& m) {
  m.impl("spmm", &cpu::spmm_cpu);
  m.impl("sddmm", &cpu::sddmm_cpu);
  m.impl("diffuse", &cpu::diffuse_cpu);
  m.impl("diffuse_adjoint", &cpu::diffuse_adjoint_cpu);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CPU, register_kernels)

}  // namespace noisygraph
