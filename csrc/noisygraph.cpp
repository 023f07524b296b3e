// Operator schemas of the noisygraph library: one m.def per op.
// Backend kernels register themselves in csrc/cpu/*_kernel.cpp and csrc/cuda/*_kernel.cu.
#include <Python.h>
#include <torch/library.h>

extern "C" {
// Importing noisygraph._C loads this shared library, which runs the registrations below.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}
}

TORCH_LIBRARY(noisygraph, m) {
  // out[i] = sum_{e in row i} value[e] * x[col[e]]; value may be absent (all ones).
  m.def("spmm(Tensor rowptr, Tensor col, Tensor? value, Tensor x) -> Tensor");

  // --- coding rates (MCR²; csrc/ops/coding_rate.h) ---
  // total = ½logdet(I + a·zᵀz), per_class[j] = ½logdet(I + b_j·zᵀΠ_j z) for hard labels [N] or
  // soft membership [K, N]; with need_grad also the saved inverses, with need_scale_grad
  // ∂per_class/∂b.
  m.def("coding_rate(Tensor z, Tensor? labels, Tensor? membership, int num_classes, "
        "float total_scale, Tensor class_scale, bool need_grad, bool need_scale_grad) -> "
        "(Tensor total, Tensor per_class, Tensor inverses, Tensor scale_grad)");
  m.def("coding_rate_backward(Tensor grad_total, Tensor grad_per_class, Tensor z, "
        "Tensor? labels, Tensor? membership, int num_classes, float total_scale, "
        "Tensor class_scale, Tensor inverses, bool membership_grad) -> "
        "(Tensor grad_z, Tensor grad_membership)");
}
