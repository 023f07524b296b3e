// The coding-rate op family (MCR²): coding_rate and coding_rate_backward, written with ATen
// calls only and defined, registered (once, for every device) and given their schemas in
// ops/coding_rate.cpp.
#pragma once
#include <ATen/ATen.h>
#include <optional>
#include <tuple>

namespace noisygraph {

// Coding-rate terms of the MCR² loss for z [N, p] and exactly one of
//   labels     [N] int64 in [0, num_classes)   (hard assignment), or
//   membership [K, N] non-negative floating    (soft assignment, class j's Gram is
//                                               zᵀ diag(membership[j]) z):
//   total        = ½ logdet(I + total_scale · zᵀz)
//   per_class[j] = ½ logdet(I + class_scale[j] · zᵀ Π_j z)
// Returns (total [], per_class [K], inverses, scale_grad). When need_grad is true,
// inverses [K + 1, p, p] holds, per term (slot 0: total, slot 1 + j: class j), M⁻¹ for a term
// evaluated in the p×p form, or, for a term evaluated in the small form (n < p rows),
// (I_n + b·Y Yᵀ)⁻¹ in its top-left n×n block; otherwise it is [0, p, p]. When need_scale_grad is true,
// scale_grad[j] = ∂ per_class[j] / ∂ class_scale[j], otherwise it is empty. Written with ATen calls only, so the same code serves CPU and CUDA tensors.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> coding_rate_forward(
    const at::Tensor& z, const std::optional<at::Tensor>& labels,
    const std::optional<at::Tensor>& membership, int64_t num_classes, double total_scale,
    const at::Tensor& class_scale, bool need_grad, bool need_scale_grad);

// Gradients of grad_total · total + Σ_j grad_per_class[j] · per_class[j] w.r.t. z and (when
// membership_grad) w.r.t. membership; grad_membership is empty otherwise. Never forms an
// N×N or K×N×N tensor.
std::tuple<at::Tensor, at::Tensor> coding_rate_backward(
    const at::Tensor& grad_total, const at::Tensor& grad_per_class, const at::Tensor& z,
    const std::optional<at::Tensor>& labels, const std::optional<at::Tensor>& membership,
    int64_t num_classes, double total_scale, const at::Tensor& class_scale,
    const at::Tensor& inverses, bool membership_grad);

}  // namespace noisygraph
