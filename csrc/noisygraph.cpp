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
  // --- sparse diffusion (csrc/cpu/spmm_kernel.cpp, diffuse_kernel.cpp; csrc/cuda/) ---------
  // CSR rows are targets; rowptr/col are int32 or int64; value absent means all ones.
  // Every call validates its CSR (rowptr from 0 to nnz, non-decreasing; col in [0, rows of
  // the dense input); value finite, any sign) -- see csrc/ops/csr_checks.h.
  // The optional t_rowptr/t_col/t_perm are the transposed CSR and the map from its nonzeros
  // to ours (Adjacency.transpose()); only the backward reads them (else it transposes itself).
  // out[i] = sum_{e in row i} value[e] * x[col[e]]
  m.def(
      "spmm(Tensor rowptr, Tensor col, Tensor? value, Tensor x, Tensor? t_rowptr=None, "
      "Tensor? t_col=None, Tensor? t_perm=None) -> Tensor");
  // out[e] = <a[row(e)], b[col[e]]>: the gradient of spmm w.r.t. value.
  m.def("sddmm(Tensor rowptr, Tensor col, Tensor a, Tensor b) -> Tensor");
  // num_steps fused steps of Y <- (1 - alpha) A Y + alpha Y0; clamp_mask rows stay at Y0;
  // clip clamps the other rows to [0, 1] after every step.
  m.def(
      "diffuse(Tensor rowptr, Tensor col, Tensor? value, Tensor y0, int num_steps, "
      "float alpha, Tensor? clamp_mask=None, bool clip=False, Tensor? t_rowptr=None, "
      "Tensor? t_col=None, Tensor? t_perm=None) -> Tensor");
  // d diffuse / d y0 applied to grad (no clip), given the TRANSPOSED CSR.
  m.def(
      "diffuse_adjoint(Tensor t_rowptr, Tensor t_col, Tensor? t_value, Tensor grad, "
      "int num_steps, float alpha, Tensor? clamp_mask) -> Tensor");

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

  // --- local clustering (cluster area): strongly-local push diffusions and sweep cut, CPU only,
  // no autograd. Variable-size outputs are concatenated with a [B+1] pointer per query;
  // work is [B, 3] int64 (pushes, edges scanned, stopped_at_limit; the sweep cut's [B, 2]),
  // max_pushes bounds each level. See csrc/ops/local_diffusion.h.
  m.def("local_flow_diffusion(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float eps, float omega, int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_push(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float alpha, float eps, int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_sweep_cut(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor score_ptr, Tensor score_nodes, Tensor scores, float total_volume, bool normalize) -> (Tensor, Tensor, Tensor, Tensor)");
  m.def("local_flow_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, Tensor multiples, float eps, float omega, int max_pushes, float total_volume) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, Tensor tolerances, float alpha, int max_pushes, float total_volume) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  // --- end local clustering
}
