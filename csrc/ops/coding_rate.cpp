// Coding-rate terms of the MCR² loss. Hard labels: rows grouped by class with an O(N)
// counting sort, one GEMM per class (each row of z enters exactly one Gram; the total Gram is
// their sum), one batched Cholesky for all p×p terms, the n×n (Sylvester) form for classes
// with fewer rows than p, and a backward that reuses the factorizations with one fused GEMM
// per class. Soft memberships: one weighted Gram per class over its support. Memory beyond
// the input: O(K·p² + N·p); no N×N or K×N×N tensor. What the backward needs is saved as
// inverses (LAPACK potri from the forward's Cholesky factors: M⁻¹ for a p×p term, S⁻¹ for an
// n×n term), so every backward product is one GEMM; MKL's triangular solves (trsm, potrs) run
// several times below its GEMM rate on this CPU, so the backward uses none.
//
// Apart from the counting sort, every step is an ATen call (index_select, mm into slices of
// a preallocated batch, linalg_cholesky_ex, cholesky_inverse), so the
// heavy lifting runs in the BLAS/LAPACK threads of the build (MKL here) and the same
// functions serve CUDA tensors: the op is registered once, under CompositeExplicitAutograd,
// for every device (its autograd formula and fake kernel: noisygraph/ops/coding_rate.py).
#include <torch/library.h>

#include <limits>
#include <string>
#include <vector>

#include "ops/coding_rate.h"
#include "ops/common/csr_checks.h"

namespace noisygraph {
namespace {

std::vector<double> host_doubles(const at::Tensor& t) {
  auto c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<int64_t> host_longs(const at::Tensor& t) {
  auto c = t.detach().to(at::kCPU, at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

std::string term_name(int64_t term) {
  return term == 0 ? std::string("the total term") : "class " + std::to_string(term - 1);
}

// Lower Cholesky factors of a batch of matrices, with an error naming the failing term.
at::Tensor cholesky_checked(const at::Tensor& m, const std::vector<int64_t>& terms) {
  auto [factor, info] = at::linalg_cholesky_ex(m);
  auto bad = host_longs(info);
  for (size_t i = 0; i < bad.size(); ++i) {
    TORCH_CHECK(bad[i] == 0, "coding_rate: I + scale * Gram of ", term_name(terms[i]),
                " is not positive definite in ", m.scalar_type(),
                " (Cholesky failed at pivot ", bad[i],
                "); the scale times the norm of z is too large for this precision — use "
                "float64 or a smaller scale");
  }
  return factor;
}

// ½ logdet(L Lᵀ) = Σ log diag(L), over the last two dims.
at::Tensor half_logdet(const at::Tensor& factor) {
  return factor.diagonal(0, -2, -1).log().sum(-1);
}

// Rows of each class grouped contiguously: classes with at least p rows ("large", p×p form)
// first, then the others ("small", n×n form), each group in ascending class order. The small
// classes' rows form one block, so their share of the total Gram is a single GEMM.
struct Partition {
  at::Tensor perm;              // [N] row ids in grouped order
  std::vector<int64_t> start;   // per class, offset into perm
  std::vector<int64_t> count;   // per class, number of rows
  std::vector<int64_t> large;   // ids of large classes, ascending
  std::vector<int64_t> small;   // ids of non-empty small classes, ascending
  int64_t small_start = 0;      // offset of the small-class block
};

Partition partition_by_label(const at::Tensor& labels_in, int64_t num_classes, int64_t p) {
  Partition part;
  const auto labels = labels_in.contiguous();
  part.count = host_longs(at::bincount(labels, {}, num_classes));
  for (int64_t j = 0; j < num_classes; ++j) {
    if (part.count[j] >= p) part.large.push_back(j);
    else if (part.count[j] > 0) part.small.push_back(j);
  }
  part.start.assign(num_classes, 0);
  int64_t offset = 0;
  for (int64_t j : part.large) { part.start[j] = offset; offset += part.count[j]; }
  part.small_start = offset;
  for (int64_t j : part.small) { part.start[j] = offset; offset += part.count[j]; }
  if (labels.is_cpu()) {
    // Counting sort: one sequential O(N) pass, rows of a class keep their order.
    part.perm = at::empty_like(labels);
    auto next = part.start;
    const int64_t* label = labels.data_ptr<int64_t>();
    int64_t* perm = part.perm.data_ptr<int64_t>();
    for (int64_t i = 0; i < labels.numel(); ++i) perm[next[label[i]]++] = i;
  } else {
    // Same order via a stable sort on (group, class).
    std::vector<int64_t> key_shift(num_classes, num_classes);
    for (int64_t j : part.large) key_shift[j] = 0;
    auto shift = at::tensor(key_shift, at::kLong).to(labels.device());
    auto key = labels + shift.index_select(0, labels);
    part.perm = std::get<1>(at::sort(key, /*stable=*/true, /*dim=*/0, /*descending=*/false));
  }
  return part;
}

// Rows of class j of the soft assignment (positive membership) and the square roots of their
// memberships: class j's Gram is (w ⊙ z_s)ᵀ (w ⊙ z_s).
std::pair<at::Tensor, at::Tensor> support_of(const at::Tensor& membership_row) {
  auto rows = at::nonzero(membership_row > 0).view(-1);
  return {rows, membership_row.index_select(0, rows).sqrt()};
}

// One coding-rate term evaluated in the small form: ½ logdet(I_n + b·Y Yᵀ), its Cholesky
// factor and (optionally) ∂/∂b = ½ tr(S⁻¹ Y Yᵀ).
struct SmallTerm {
  at::Tensor value;
  at::Tensor factor;
  at::Tensor scale_grad;
};

SmallTerm small_term(const at::Tensor& y, double scale, int64_t term, bool need_scale_grad) {
  auto s = at::mm(y, y.t()).mul_(scale);
  s.diagonal().add_(1.0);
  auto factor = cholesky_checked(s.unsqueeze(0), {term}).squeeze(0);
  SmallTerm out{half_logdet(factor), factor, at::Tensor()};
  if (need_scale_grad) {
    // tr(S⁻¹ Y Yᵀ) = ‖L⁻¹ Y‖²_F
    out.scale_grad = 0.5 * at::linalg_solve_triangular(factor, y, /*upper=*/false).square().sum();
  }
  return out;
}

// M⁻¹ = (L Lᵀ)⁻¹ for a batch of lower Cholesky factors (LAPACK potri: about p³ flops, a
// third of a triangular solve against I followed by a GEMM, and measured 2-4x faster than
// that on this machine's one thread).
at::Tensor inverse_from_cholesky(const at::Tensor& factor) {
  return at::cholesky_inverse(factor, /*upper=*/false);
}

// The forward's S⁻¹ of a term evaluated in the small form: stored in the top-left n×n block of
// that term's slot (n < p, so it fits).
at::Tensor saved_small_inverse(const at::Tensor& inverses, int64_t term, int64_t n) {
  return inverses[term].narrow(0, 0, n).narrow(1, 0, n);
}

// b·S⁻¹Y = b·Y·M⁻¹ for a term in the small form, from S⁻¹ (S = I + b·Y Yᵀ): one GEMM.
at::Tensor small_term_grad(const at::Tensor& y, double scale, const at::Tensor& inverse) {
  return at::mm(inverse, y).mul_(scale);
}

bool is_floating(const at::Tensor& t) {
  return t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble;
}

void check_same_device(const char* op, const char* name, const at::Tensor& t,
                       const at::Tensor& z) {
  TORCH_CHECK_VALUE(t.device() == z.device(), op, ": ", name, " is on ", t.device(),
                    " but z on ", z.device());
}

// Shapes, dtypes and devices (O(1)), then the entries (O(N·p + K·N), small next to the
// O(N·p²) Grams): z finite; labels in [0, num_classes); membership finite and >= 0;
// class_scale finite and >= 0. Non-strided tensors are rejected with a TypeError.
void check_inputs(const char* op, const at::Tensor& z, const std::optional<at::Tensor>& labels,
                  const std::optional<at::Tensor>& membership, int64_t num_classes,
                  double total_scale, const at::Tensor& class_scale) {
  for (const auto& [name, t] : {std::pair<const char*, const at::Tensor*>{"z", &z},
                                {"class_scale", &class_scale}}) {
    TORCH_CHECK_TYPE(t->layout() == at::kStrided, op, ": ", name,
                     " must be a dense (strided) tensor, got layout ", t->layout());
  }
  TORCH_CHECK_TYPE(is_floating(z), op, ": z must be float32 or float64, got ", z.scalar_type());
  TORCH_CHECK_VALUE(z.dim() == 2, op, ": z must be 2-D [N, p], got shape ", z.sizes());
  TORCH_CHECK_VALUE(labels.has_value() != membership.has_value(), op,
                    ": pass exactly one of labels and membership");
  TORCH_CHECK_VALUE(num_classes >= 1, op, ": num_classes must be >= 1, got ", num_classes);
  check_real(op, "total_scale", total_scale, 0.0, std::numeric_limits<double>::infinity(),
             false, true);
  TORCH_CHECK_TYPE(is_floating(class_scale), op, ": class_scale must be float32 or float64, got ",
                   class_scale.scalar_type());
  TORCH_CHECK_VALUE(class_scale.dim() == 1 && class_scale.size(0) == num_classes, op,
                    ": class_scale must have shape [num_classes] = [", num_classes, "], got ",
                    class_scale.sizes());
  check_same_device(op, "class_scale", class_scale, z);
  const auto scale = class_scale.detach();
  if (!(at::isfinite(scale).all().item<bool>() && (scale >= 0).all().item<bool>())) {
    const int64_t j = at::nonzero(~(at::isfinite(scale) & (scale >= 0)))[0][0].item<int64_t>();
    TORCH_CHECK_VALUE(false, op, ": class_scale[", j, "] = ", scale[j].item<double>(),
                      " must be finite and >= 0");
  }
  if (z.numel() > 0 && !at::isfinite(z.detach()).all().item<bool>()) {
    const auto bad = at::nonzero(~at::isfinite(z.detach()))[0];
    TORCH_CHECK_VALUE(false, op, ": z[", bad[0].item<int64_t>(), ", ", bad[1].item<int64_t>(),
                      "] is not finite");
  }
  if (labels.has_value()) {
    TORCH_CHECK_TYPE(labels->layout() == at::kStrided, op,
                     ": labels must be a dense (strided) tensor, got layout ", labels->layout());
    TORCH_CHECK_TYPE(labels->scalar_type() == at::kLong, op, ": labels must be int64, got ",
                     labels->scalar_type());
    TORCH_CHECK_VALUE(labels->dim() == 1 && labels->size(0) == z.size(0), op,
                      ": labels must have shape [N] = [", z.size(0), "], got ", labels->sizes());
    check_same_device(op, "labels", *labels, z);
    if (labels->numel() > 0) {
      const auto outside = (*labels < 0) | (*labels >= num_classes);
      if (outside.any().item<bool>()) {
        const int64_t i = at::nonzero(outside)[0][0].item<int64_t>();
        TORCH_CHECK_VALUE(false, op, ": labels[", i, "] = ", (*labels)[i].item<int64_t>(),
                          " is outside [0, num_classes = ", num_classes, ")");
      }
    }
  } else {
    TORCH_CHECK_TYPE(membership->layout() == at::kStrided, op,
                     ": membership must be a dense (strided) tensor, got layout ",
                     membership->layout());
    TORCH_CHECK_TYPE(membership->scalar_type() == z.scalar_type(), op,
                     ": membership must have z's dtype (", z.scalar_type(), "), got ",
                     membership->scalar_type());
    TORCH_CHECK_VALUE(membership->dim() == 2 && membership->size(0) == num_classes &&
                          membership->size(1) == z.size(0),
                      op, ": membership must have shape [num_classes, N] = [", num_classes,
                      ", ", z.size(0), "], got ", membership->sizes());
    check_same_device(op, "membership", *membership, z);
    const auto m = membership->detach();
    if (m.numel() > 0) {
      const auto bad = ~(at::isfinite(m) & (m >= 0));
      if (bad.any().item<bool>()) {
        const auto where = at::nonzero(bad)[0];
        const int64_t j = where[0].item<int64_t>(), i = where[1].item<int64_t>();
        TORCH_CHECK_VALUE(false, op, ": membership[", j, ", ", i, "] = ", m[j][i].item<double>(),
                          " must be finite and >= 0");
      }
    }
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> coding_rate_forward(
    const at::Tensor& z_in, const std::optional<at::Tensor>& labels,
    const std::optional<at::Tensor>& membership_in, int64_t num_classes, double total_scale,
    const at::Tensor& class_scale, bool need_grad, bool need_scale_grad) {
  check_inputs("coding_rate", z_in, labels, membership_in, num_classes, total_scale, class_scale);
  const auto z = z_in.contiguous();
  const int64_t n = z.size(0), p = z.size(1);
  const auto opts = z.options();
  const auto scale = host_doubles(class_scale);
  const bool total_large = n >= p;

  std::vector<at::Tensor> values(num_classes + 1);  // slot 0: total, 1 + j: class j
  std::vector<at::Tensor> scale_grads(num_classes + 1);
  // Terms in the p×p form: their Gram matrices are written into one batch.
  std::vector<int64_t> batch_terms;
  std::vector<double> batch_scales;

  std::vector<int64_t> large_classes;
  Partition part;
  at::Tensor small_rows;  // hard labels: the rows of all small classes, grouped by class
  at::Tensor membership;
  auto class_rows = [&](int64_t j) {  // hard labels: rows of class j
    if (part.count[j] < p) return small_rows.narrow(0, part.start[j] - part.small_start, part.count[j]);
    return z.index_select(0, part.perm.narrow(0, part.start[j], part.count[j]));
  };
  if (labels.has_value()) {
    part = partition_by_label(*labels, num_classes, p);
    small_rows = z.index_select(0, part.perm.narrow(0, part.small_start, n - part.small_start));
    large_classes = part.large;
  } else {
    membership = membership_in->contiguous();
    for (int64_t j = 0; j < num_classes; ++j) {
      // number of rows with positive membership decides the form
      if ((membership[j] > 0).sum().item<int64_t>() >= p) large_classes.push_back(j);
    }
  }
  if (total_large) { batch_terms.push_back(0); batch_scales.push_back(total_scale); }
  for (int64_t j : large_classes) { batch_terms.push_back(1 + j); batch_scales.push_back(scale[j]); }

  const int64_t batch = static_cast<int64_t>(batch_terms.size());
  auto grams = at::empty({batch, p, p}, opts);
  const int64_t first_class = total_large ? 1 : 0;
  for (int64_t i = first_class; i < batch; ++i) {
    const int64_t j = batch_terms[i] - 1;
    if (labels.has_value()) {
      auto rows = class_rows(j);
      auto out = grams[i];
      at::mm_out(out, rows.t(), rows);
    } else {
      auto [rows, weight] = support_of(membership[j]);
      auto y = z.index_select(0, rows) * weight.unsqueeze(1);
      auto out = grams[i];
      at::mm_out(out, y.t(), y);
    }
  }
  if (total_large) {
    if (labels.has_value()) {
      // Hard labels partition the rows: the total Gram is the sum of the class Grams.
      auto total_gram = grams[0];
      if (batch > 1) at::sum_out(total_gram, grams.narrow(0, 1, batch - 1), {0});
      else total_gram.zero_();
      if (small_rows.size(0) > 0) total_gram.addmm_(small_rows.t(), small_rows);
    } else {
      auto total_gram = grams[0];
      at::mm_out(total_gram, z.t(), z);
    }
  }
  at::Tensor inverses = need_grad ? at::zeros({num_classes + 1, p, p}, opts)
                                  : at::empty({0, p, p}, opts);
  if (batch > 0) {
    auto scales = at::tensor(batch_scales, at::kDouble).to(opts);
    auto m = grams * scales.view({-1, 1, 1});  // grams kept for ∂/∂b
    m.diagonal(0, -2, -1).add_(1.0);
    auto factor = cholesky_checked(m, batch_terms);
    auto logdets = half_logdet(factor);
    at::Tensor grads;
    if (need_grad || need_scale_grad) {
      auto inv = inverse_from_cholesky(factor);
      // ∂/∂b ½logdet(I + b·G) = ½ tr(M⁻¹ G)
      if (need_scale_grad) grads = 0.5 * (inv * grams).sum({-2, -1});
      if (need_grad) {
        inverses.index_copy_(0, at::tensor(batch_terms, at::kLong).to(z.device()), inv);
      }
    }
    for (int64_t i = 0; i < batch; ++i) {
      values[batch_terms[i]] = logdets[i];
      if (need_scale_grad) scale_grads[batch_terms[i]] = grads[i];
    }
  }
  // Terms in the small form.
  auto save_small_inverse = [&](int64_t term, const at::Tensor& factor) {
    if (need_grad) {
      saved_small_inverse(inverses, term, factor.size(0)).copy_(inverse_from_cholesky(factor));
    }
  };
  if (!total_large) {
    auto term = small_term(z, total_scale, 0, false);
    values[0] = term.value;
    save_small_inverse(0, term.factor);
  }
  auto small_class = [&](int64_t j, const at::Tensor& y) {
    auto term = small_term(y, scale[j], 1 + j, need_scale_grad);
    values[1 + j] = term.value;
    scale_grads[1 + j] = term.scale_grad;
    save_small_inverse(1 + j, term.factor);
  };
  if (labels.has_value()) {
    for (int64_t j : part.small) small_class(j, class_rows(j));
  } else {
    std::vector<bool> is_large(num_classes, false);
    for (int64_t j : large_classes) is_large[j] = true;
    for (int64_t j = 0; j < num_classes; ++j) {
      if (is_large[j]) continue;
      auto [rows, weight] = support_of(membership[j]);
      if (rows.size(0) == 0) continue;
      small_class(j, z.index_select(0, rows) * weight.unsqueeze(1));
    }
  }
  auto zero = at::zeros({}, opts);
  for (auto& v : values) if (!v.defined()) v = zero;
  auto per_class = at::stack(at::TensorList(values).slice(1));
  at::Tensor scale_grad = at::empty({0}, opts);
  if (need_scale_grad) {
    // An empty class: ∂/∂b ½ logdet(I + b·0) = 0.
    for (auto& g : scale_grads) if (!g.defined()) g = zero;
    scale_grad = at::stack(at::TensorList(scale_grads).slice(1));
  }
  return {values[0], per_class, inverses, scale_grad};
}

std::tuple<at::Tensor, at::Tensor> coding_rate_backward(
    const at::Tensor& grad_total, const at::Tensor& grad_per_class, const at::Tensor& z_in,
    const std::optional<at::Tensor>& labels, const std::optional<at::Tensor>& membership_in,
    int64_t num_classes, double total_scale, const at::Tensor& class_scale,
    const at::Tensor& inverses, bool membership_grad) {
  const char* op = "coding_rate_backward";
  check_inputs(op, z_in, labels, membership_in, num_classes, total_scale, class_scale);
  const auto z = z_in.contiguous();
  const int64_t n = z.size(0), p = z.size(1);
  const auto opts = z.options();
  for (const auto& [name, t] :
       {std::pair<const char*, const at::Tensor*>{"grad_total", &grad_total},
        {"grad_per_class", &grad_per_class},
        {"inverses", &inverses}}) {
    TORCH_CHECK_TYPE(t->layout() == at::kStrided, op, ": ", name,
                     " must be a dense (strided) tensor, got layout ", t->layout());
    TORCH_CHECK_TYPE(is_floating(*t), op, ": ", name, " must be float32 or float64, got ",
                     t->scalar_type());
    check_same_device(op, name, *t, z);
  }
  TORCH_CHECK_VALUE(grad_total.numel() == 1, op, ": grad_total must hold one number, got shape ",
                    grad_total.sizes());
  TORCH_CHECK_VALUE(grad_per_class.dim() == 1 && grad_per_class.size(0) == num_classes, op,
                    ": grad_per_class must have shape [num_classes] = [", num_classes, "], got ",
                    grad_per_class.sizes());
  TORCH_CHECK_TYPE(inverses.scalar_type() == z.scalar_type(), op,
                   ": inverses must have z's dtype (", z.scalar_type(), "), got ",
                   inverses.scalar_type());
  TORCH_CHECK_VALUE(inverses.dim() == 3 && inverses.size(0) == num_classes + 1 &&
                        inverses.size(1) == p && inverses.size(2) == p,
                    op, ": inverses must have shape [num_classes + 1, p, p] = [",
                    num_classes + 1, ", ", p, ", ", p, "], got ", inverses.sizes(),
                    " (run the forward with need_grad=True)");
  const auto scale = host_doubles(class_scale);
  const double g_total = host_doubles(grad_total)[0];
  const auto g_class = host_doubles(grad_per_class);
  const bool total_large = n >= p;
  const double total_coef = g_total * total_scale;  // ∂/∂Z of g·½logdet(I + aZᵀZ) = g·a·Z·M⁻¹
  at::Tensor total_kernel;                            // g·a·M_T⁻¹ (p×p form)
  if (total_large) total_kernel = inverses[0] * total_coef;
  at::Tensor grad_membership = at::empty({0}, opts);

  at::Tensor grad_z;
  if (labels.has_value()) {
    // Rows are gathered class by class and their gradients scattered straight back, so no
    // second full copy of z is alive at any time.
    auto part = partition_by_label(*labels, num_classes, p);
    auto rows_of = [&](int64_t start, int64_t count) {
      return std::make_pair(part.perm.narrow(0, start, count),
                            z.index_select(0, part.perm.narrow(0, start, count)));
    };
    grad_z = at::empty_like(z);
    at::Tensor kernel = part.large.empty() ? at::Tensor() : at::empty({p, p}, opts);
    for (int64_t j : part.large) {
      // total and class term share the rows: one GEMM with the combined kernel
      at::add_out(kernel, total_kernel, inverses[1 + j], g_class[j] * scale[j]);
      auto [ids, rows] = rows_of(part.start[j], part.count[j]);
      grad_z.index_copy_(0, ids, at::mm(rows, kernel));
    }
    if (part.small_start < n) {
      auto [ids, small_rows] = rows_of(part.small_start, n - part.small_start);
      auto small_grad = total_large ? at::mm(small_rows, total_kernel) : at::zeros_like(small_rows);
      for (int64_t j : part.small) {
        const double coef = g_class[j];
        if (coef == 0.0 || scale[j] == 0.0) continue;
        const int64_t offset = part.start[j] - part.small_start;
        auto rows = small_rows.narrow(0, offset, part.count[j]);
        auto inverse = saved_small_inverse(inverses, 1 + j, part.count[j]);
        small_grad.narrow(0, offset, part.count[j]).addmm_(inverse, rows, 1.0, coef * scale[j]);
      }
      grad_z.index_copy_(0, ids, small_grad);
    }
  } else {
    const auto membership = membership_in->contiguous();
    grad_z = total_large ? at::mm(z, total_kernel) : at::zeros_like(z);
    if (membership_grad) grad_membership = at::zeros({num_classes, n}, opts);
    for (int64_t j = 0; j < num_classes; ++j) {
      const double coef = g_class[j];
      if (coef == 0.0 || scale[j] == 0.0) continue;
      auto [rows, weight] = support_of(membership[j]);
      const int64_t count = rows.size(0);
      if (count >= p) {
        auto kernel = inverses[1 + j] * scale[j];  // b·M⁻¹
        if (membership_grad) {
          auto u = at::mm(z, kernel);  // b·z_i·M⁻¹ for every row
          grad_z.addcmul_(u, membership[j].unsqueeze(1), coef);
          grad_membership[j].copy_((u * z).sum(1) * (0.5 * coef));
        } else {
          auto zr = z.index_select(0, rows);
          auto u = at::mm(zr, kernel) * membership[j].index_select(0, rows).unsqueeze(1);
          grad_z.index_add_(0, rows, u, coef);
        }
        continue;
      }
      at::Tensor inverse;
      if (count > 0) {
        auto zr = z.index_select(0, rows);
        auto y = zr * weight.unsqueeze(1);
        inverse = saved_small_inverse(inverses, 1 + j, count);
        auto dy = small_term_grad(y, scale[j], inverse);  // b·S⁻¹Y = w ⊙ (b·z·M⁻¹)
        grad_z.index_add_(0, rows, dy * weight.unsqueeze(1), coef);
        if (membership_grad) {
          grad_membership[j].index_copy_(0, rows, (dy * zr).sum(1) / weight * (0.5 * coef));
        }
      }
      if (membership_grad && count < n) {
        // Rows outside the support: b·z M⁻¹ zᵀ = b‖z‖² − b²·(Yz)ᵀ S⁻¹ (Yz) (Woodbury).
        auto outside = at::nonzero(membership[j] <= 0).view(-1);
        auto zo = z.index_select(0, outside);
        auto quad = (zo * zo).sum(1) * scale[j];
        if (count > 0) {
          auto y = z.index_select(0, rows) * weight.unsqueeze(1);
          auto v = at::mm(y, zo.t());  // [count, outside]
          quad = quad - (v * at::mm(inverse, v)).sum(0) * (scale[j] * scale[j]);
        }
        grad_membership[j].index_copy_(0, outside, quad * (0.5 * coef));
      }
    }
  }
  if (!total_large && total_coef != 0.0) {
    grad_z.add_(small_term_grad(z, total_scale, saved_small_inverse(inverses, 0, n)), g_total);
  }
  return {grad_z, grad_membership};
}

}  // namespace noisygraph

TORCH_LIBRARY_FRAGMENT(noisygraph, m) {
  // total = ½logdet(I + a·zᵀz), per_class[j] = ½logdet(I + b_j·zᵀΠ_j z) for hard labels [N]
  // or soft membership [K, N]; with need_grad also the saved inverses, with need_scale_grad
  // ∂per_class/∂b (see ops/coding_rate.h).
  m.def("coding_rate(Tensor z, Tensor? labels, Tensor? membership, int num_classes, "
        "float total_scale, Tensor class_scale, bool need_grad, bool need_scale_grad) -> "
        "(Tensor total, Tensor per_class, Tensor inverses, Tensor scale_grad)");
  m.def("coding_rate_backward(Tensor grad_total, Tensor grad_per_class, Tensor z, "
        "Tensor? labels, Tensor? membership, int num_classes, float total_scale, "
        "Tensor class_scale, Tensor inverses, bool membership_grad) -> "
        "(Tensor grad_z, Tensor grad_membership)");
}

// ATen calls only: one registration serves every device (and the sparse layouts, whose
// inputs the checks reject with a TypeError naming the argument).
TORCH_LIBRARY_IMPL(noisygraph, CompositeExplicitAutograd, m) {
  m.impl("coding_rate", &noisygraph::coding_rate_forward);
  m.impl("coding_rate_backward", &noisygraph::coding_rate_backward);
}
