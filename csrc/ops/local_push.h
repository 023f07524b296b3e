#pragma once
#include <ATen/ATen.h>
#include <optional>
#include <tuple>

// The local-push op family: strongly-local push diffusions, the sweep cut, the fused
// diffuse-and-sweep cluster ops and the flow-based cut improvement (max-flow, MQI,
// FlowImprove) (CPU only; see docs/cluster.md). Schemas: ops/local_push.cpp; kernels
// (declared here): ops/cpu/local_push_kernel.cpp and ops/cpu/max_flow_kernel.cpp, registered
// for CPU and, to reject CUDA tensors with a ValueError, for CUDA. Fake kernels:
// noisygraph/ops/local_push.py and noisygraph/ops/max_flow.py.
//
// Shared conventions:
//  * The graph is undirected, in CSR form: (rowptr [N+1] int64, col [nnz] int64, value [nnz]
//    float64 or absent for unit weights); `degree` [N] float64 holds weighted degrees.
//  * A batch of B queries is described by `source_ptr` [B+1] int64 into `source_nodes` [S]
//    int64 and `source_mass` [S] float64: query q starts with mass source_mass[k] at
//    source_nodes[k] for k in [source_ptr[q], source_ptr[q+1]).
//  * Variable-size outputs are concatenated: `ptr` [B+1] int64 indexes the rows of the
//    per-query blocks of `nodes` and of the value tensors.
//  * `work` [B, 3] int64 holds (pushes, edges scanned, stopped_at_limit) per query of the push
//    ops; stopped_at_limit is 1 when a push loop ended because it reached max_pushes while
//    some node could still push (the result is then not converged to eps), else 0. The sweep
//    cut's work is [B, 2] (it does not push).
//  * `max_pushes` (>= 0) bounds the pushes of one diffusion: of each mass level (flow) or
//    tolerance level (PageRank) of the fused ops, as the Python fallback does.
//  * Validation (ValueError / TypeError naming the argument; see ops/common/csr_checks.h): dtypes,
//    shapes, devices, rowptr[0] == 0 and rowptr[N] == nnz are checked up front in O(1); the
//    query arrays (ptr monotone from 0 to their length, node ids in [0, N), masses/scores
//    finite, masses >= 0) and the scalars (eps > 0, omega in (0, 2), alpha in (0, 1],
//    total_volume >= 0, all finite; levels finite, positive and sorted) in O(B + S). The
//    graph's entries are checked where a query reads them -- row pointers (in order, inside
//    [0, nnz]) and column indices (in [0, N)) of every row it scans, weights (finite, >= 0)
//    of every edge it scans, degrees and sinks (finite, >= 0) of every node it touches -- so
//    the cost of a call stays its explored volume and parts of the graph no query reaches
//    are not inspected (LocalGraph validates the whole graph once, when it is built).
//  * The work and memory of one query depend only on the volume it explores: every thread
//    keeps one workspace (a node->slot map of N entries, allocated once per thread and
//    process when first needed, restored to "empty" only where a query touched it).
namespace noisygraph {
namespace cpu {

// The outputs of the push ops: (ptr, nodes, x or p, mass or r, work).
using PushOutputs = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
// The outputs of the fused diffuse-and-sweep ops: (cluster_ptr, cluster_nodes, conductance,
// best_level, score_ptr, score_nodes, scores, work); see local_flow_cluster.
using ClusterOutputs = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
                                  at::Tensor, at::Tensor, at::Tensor>;

// The leading arguments of the four flow ops (local_flow_diffusion, local_pnorm_diffusion,
// local_flow_cluster, local_pnorm_cluster), declared once: the graph, the sinks, the queries.
#define NOISYGRAPH_FLOW_OP_ARGS                                                            \
  const at::Tensor &rowptr, const at::Tensor &col, const std::optional<at::Tensor> &value, \
      const at::Tensor &degree, const at::Tensor &sink, const at::Tensor &source_ptr,       \
      const at::Tensor &source_nodes, const at::Tensor &source_mass

// Weighted l2-norm flow diffusion. Returns (ptr, nodes, x, mass, work): for every node that
// received mass, its potential x_i >= 0 and final mass m_i (sum of m = source mass).
// omega in (0, 2) is the over-relaxation factor of the coordinate steps (1: plain push).
// cg_iters >= 0: 0 pushes only; > 0 interleaves the pushes with Jacobi-preconditioned
// conjugate-gradient rounds (at most cg_iters iterations each) on the support {x > 0}, kept
// only when they lower the objective; the stopping rule (eps) and max_pushes are the pushes'.
// work's edges count the CG matrix-vector products and mass updates too.
PushOutputs local_flow_diffusion_cpu(NOISYGRAPH_FLOW_OP_ARGS, double eps, double omega,
                                     int64_t max_pushes, int64_t cg_iters);

// p-norm flow diffusion (Fountoulakis, Wang, Yang, "p-Norm Flow Diffusion for Local Graph
// Clustering", ICML 2020), p in [2, inf), q = p / (p - 1): the dual
//   min_{x >= 0} (1/q) sum_{edges uv} w_uv |x_u - x_v|^q + x^T (T - Delta)
// by the paper's coordinate method: a node whose excess m_i - T_i exceeds eps raises x_i to
// the root of m_i(x_i) = T_i (safeguarded Newton / bisection; accepted within eps / 2), its
// neighbours' masses following the flows w_ij sign(x_i - x_j) |x_i - x_j|^(q-1); x only
// increases. Returns (ptr, nodes, x, mass, work) as local_flow_diffusion; pushes count node
// updates, edges every edge visit (the row scan, each root-finder evaluation, the mass
// update). p == 2 is the l2 diffusion of local_flow_diffusion with omega = 1, cg_iters = 0.
// A p so large that a potential overflows float64 raises a ValueError naming p.
PushOutputs local_pnorm_diffusion_cpu(NOISYGRAPH_FLOW_OP_ARGS, double p, double eps,
                                      int64_t max_pushes);

// p-norm flow diffusion + sweep cut over x for each multiple (ascending, warm-started), as
// local_flow_cluster (same outputs).
ClusterOutputs local_pnorm_cluster_cpu(NOISYGRAPH_FLOW_OP_ARGS, const at::Tensor& multiples,
                                       double p, double eps, int64_t max_pushes,
                                       double total_volume);

// ACL push approximate personalized PageRank (non-lazy, weighted). Returns
// (ptr, nodes, p, r, work) for every node that received residual.
PushOutputs local_ppr_push_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& source_ptr, const at::Tensor& source_nodes,
    const at::Tensor& source_mass, double alpha, double eps, int64_t max_pushes);

// Sweep cut over (score_ptr, score_nodes, scores): nodes with a positive score, ordered by
// score (divided by degree when `normalize`), the prefix of least conductance.
// Returns (cluster_ptr, cluster_nodes, conductance [B], work [B, 2] = (0, edges scanned)).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_sweep_cut_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& score_ptr, const at::Tensor& score_nodes,
    const at::Tensor& scores, double total_volume, bool normalize);

// Flow diffusion + sweep cut for each source-mass multiple in `multiples` (ascending; each
// level warm-starts from the previous one), keeping the level of least conductance.
// Returns (cluster_ptr, cluster_nodes, conductance [B], best_level [B], score_ptr,
// score_nodes, scores (x at the best level), work [B, 3]: pushes and edges summed over
// levels, stopped_at_limit = 1 if any level stopped at max_pushes). max_pushes bounds each
// level; cg_iters as in local_flow_diffusion.
ClusterOutputs local_flow_cluster_cpu(NOISYGRAPH_FLOW_OP_ARGS, const at::Tensor& multiples,
                                      double eps, double omega, int64_t max_pushes,
                                      double total_volume, int64_t cg_iters);

// ACL push + sweep cut (scores p / degree) for each tolerance in `tolerances` (descending;
// each level continues the push of the previous one), keeping the least conductance.
// Same outputs as local_flow_cluster (scores are p at the best level).
ClusterOutputs
local_ppr_cluster_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                  const std::optional<at::Tensor>& value, const at::Tensor& degree,
                  const at::Tensor& source_ptr, const at::Tensor& source_nodes,
                  const at::Tensor& source_mass, const at::Tensor& tolerances, double alpha,
                  int64_t max_pushes, double total_volume);

// Max-flow on a small directed network in CSR form (rowptr [n+1], col [m] int64, capacity [m]
// float64, finite and >= 0; self-loops ignored; every arc gets its own reverse residual arc),
// by Dinic's algorithm: residual capacities <= tolerance count as 0 (0: exact for integer
// capacities up to 2^53). Returns (flow value [] float64, source side: the nodes reachable
// from `source` in the residual network, i.e. the minimal minimum cut, sorted [k] int64,
// work [2] int64 = (arc visits, stopped_at_limit)). max_work (>= 1) bounds the arc visits:
// past it the op stops, returns the flow so far, an empty source side and stopped = 1.
std::tuple<at::Tensor, at::Tensor, at::Tensor> local_max_flow_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const at::Tensor& capacity,
    int64_t source, int64_t sink, double tolerance, int64_t max_work);

// MQI and the strongly-local FlowImprove of the set `nodes` (ids in [0, N), duplicates
// dropped; positive volume at most total_volume / 2), their parametric loops and max-flows
// (Dinic, as local_max_flow) in one call; see noisygraph/cluster/refine.py for the
// objectives. Returns (nodes [k] int64 sorted, conductance [2] float64 = (input, output),
// work [5] int64 = (max-flow problems, adjacency entries read, arc visits, explored nodes,
// stopped_at_limit)). max_iterations (>= 1) bounds the improvement steps, max_work (>= 1)
// the arc visits of all max-flows: past it the call stops with the best set found so far and
// stopped = 1. The work depends only on the set and the nodes its cuts reach.
std::tuple<at::Tensor, at::Tensor, at::Tensor> local_mqi_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& nodes, double total_volume,
    int64_t max_iterations, int64_t max_work);
std::tuple<at::Tensor, at::Tensor, at::Tensor> local_flow_improve_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& nodes, double total_volume, double delta,
    int64_t max_iterations, int64_t max_work);

}  // namespace cpu
}  // namespace noisygraph
