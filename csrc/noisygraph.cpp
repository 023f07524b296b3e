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
  // --- local clustering (cluster area): strongly-local push diffusions and sweep cut, CPU only,
  // no autograd. Variable-size outputs are concatenated with a [B+1] pointer per query;
  // work is [B, 2] int64 (pushes, edges scanned). See csrc/ops/local_diffusion.h.
  m.def("local_flow_diffusion(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float eps, float omega, int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_push(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float alpha, float eps, int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_sweep_cut(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor score_ptr, Tensor score_nodes, Tensor scores, float total_volume, bool normalize) -> (Tensor, Tensor, Tensor, Tensor)");
  m.def("local_flow_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, Tensor multiples, float eps, float omega, int max_pushes, float total_volume) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, Tensor tolerances, float alpha, int max_pushes, float total_volume) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  // --- end local clustering
}
