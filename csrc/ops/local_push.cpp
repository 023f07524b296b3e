// The local-push op family's schemas (conventions and per-op contracts: ops/local_push.h).
// CPU only, no autograd. Variable-size outputs are concatenated with a [B+1] pointer per
// query; work is [B, 3] int64 (pushes, edges scanned, stopped_at_limit; the sweep cut's
// [B, 2]), max_pushes bounds each level.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(noisygraph, m) {
  m.def("local_flow_diffusion(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float eps, "
        "float omega, int max_pushes, int cg_iters=0) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  // p-norm flow diffusion (p in [2, inf)): see ops/local_push.h.
  m.def("local_pnorm_diffusion(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float p, "
        "float eps, int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_pnorm_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, "
        "Tensor multiples, float p, float eps, int max_pushes, float total_volume) -> "
        "(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_push(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor source_ptr, Tensor source_nodes, Tensor source_mass, float alpha, float eps, "
        "int max_pushes) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_sweep_cut(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor score_ptr, Tensor score_nodes, Tensor scores, float total_volume, "
        "bool normalize) -> (Tensor, Tensor, Tensor, Tensor)");
  m.def("local_flow_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor sink, Tensor source_ptr, Tensor source_nodes, Tensor source_mass, "
        "Tensor multiples, float eps, float omega, int max_pushes, float total_volume, "
        "int cg_iters=0) -> "
        "(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_ppr_cluster(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor source_ptr, Tensor source_nodes, Tensor source_mass, Tensor tolerances, "
        "float alpha, int max_pushes, float total_volume) -> "
        "(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("local_max_flow(Tensor rowptr, Tensor col, Tensor capacity, int source, int sink, "
        "float tolerance, int max_work) -> (Tensor, Tensor, Tensor)");
  m.def("local_mqi(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, Tensor nodes, "
        "float total_volume, int max_iterations, int max_work) -> (Tensor, Tensor, Tensor)");
  m.def("local_flow_improve(Tensor rowptr, Tensor col, Tensor? value, Tensor degree, "
        "Tensor nodes, float total_volume, float delta, int max_iterations, int max_work) -> "
        "(Tensor, Tensor, Tensor)");
}
