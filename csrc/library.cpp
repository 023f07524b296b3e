// The noisygraph operator library: the Python module init and the library's one TORCH_LIBRARY
// block. Each op family declares its own schemas in a TORCH_LIBRARY_FRAGMENT
// (ops/diffusion.cpp, ops/coding_rate.cpp, ops/local_push.cpp); its kernels register
// themselves per device in ops/cpu/<family>_kernel.cpp and ops/cuda/<family>_kernel.cu.
#include <Python.h>
#include <torch/library.h>

extern "C" {
// Importing noisygraph._C loads this shared library, which runs every registration.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}
}

TORCH_LIBRARY(noisygraph, m) {}
