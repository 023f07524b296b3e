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
}
