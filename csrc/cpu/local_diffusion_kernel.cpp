// CPU kernels of the strongly-local push diffusions (flow diffusion, ACL PageRank) and the
// sweep cut. Queries of a batch run in parallel (at::parallel_for); each thread owns one
// workspace whose size follows the explored region, never the graph (see ops/local_diffusion.h).
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ops/local_diffusion.h"

namespace noisygraph {
namespace {

// Read-only view of the graph shared by all threads.
struct GraphView {
  const int64_t* rowptr;
  const int64_t* col;
  const double* value;  // nullptr: unit weights
  const double* degree;
  int64_t num_nodes;

  double weight(int64_t e) const { return value ? value[e] : 1.0; }
};

// Per-thread scratch memory. `slot` maps a global node to its local index (-1: untouched);
// it is sized to the largest graph seen by this thread once, and a query restores only the
// entries it set, so a query costs O(explored volume).
struct Workspace {
  std::vector<int32_t> slot;
  std::vector<int64_t> nodes;  // local -> global
  std::vector<double> x;       // potential (flow) or p (PageRank)
  std::vector<double> m;       // mass (flow) or residual r (PageRank)
  std::vector<uint8_t> queued;
  std::vector<int32_t> queue;
  size_t head = 0;
  std::vector<int32_t> order;      // sweep: local indices sorted by score
  std::vector<uint8_t> in_set;     // sweep: membership of the growing prefix
  struct SweepKey {
    double key;
    int64_t node;
    int32_t local;
  };
  std::vector<SweepKey> keys;      // sweep: sort keys, computed once per node

  void prepare(int64_t num_nodes) {
    if (static_cast<int64_t>(slot.size()) < num_nodes) slot.resize(num_nodes, -1);
  }
  int32_t local(int64_t v) {
    int32_t i = slot[v];
    if (i < 0) {
      i = static_cast<int32_t>(nodes.size());
      slot[v] = i;
      nodes.push_back(v);
      x.push_back(0.0);
      m.push_back(0.0);
      queued.push_back(0);
    }
    return i;
  }
  void push_queue(int32_t i) {
    queued[i] = 1;
    queue.push_back(i);
  }
  bool pop_queue(int32_t& i) {
    if (head == queue.size()) return false;
    i = queue[head++];
    queued[i] = 0;
    if (head > 4096 && head * 2 > queue.size()) {  // amortised compaction
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
    return true;
  }
  void reset() {
    for (int64_t v : nodes) slot[v] = -1;
    nodes.clear();
    x.clear();
    m.clear();
    queued.clear();
    queue.clear();
    head = 0;
  }
};

Workspace& thread_workspace() {
  thread_local Workspace workspace;
  return workspace;
}

// Restores the workspace even when a query throws.
struct ResetGuard {
  Workspace& ws;
  ~ResetGuard() { ws.reset(); }
};

struct Work {
  int64_t pushes = 0;
  int64_t edges = 0;
};

// ---------------------------------------------------------------- flow diffusion
// Projected (over-relaxed) coordinate descent on
//   min_x 1/2 x^T L x + x^T (T - Delta),  x >= 0,
// whose gradient at node i is T_i - m_i (m: mass after the flows x). A node whose excess
// m_i - T_i exceeds eps moves x_i by omega * excess / w_i (omega = 1: exactly to its sink;
// 1 < omega < 2 over-relaxes, which converges in far fewer pushes on weakly connected
// regions); with omega > 1 a node may overshoot and is then corrected downwards (never
// below x_i = 0) when its deficit exceeds eps. The moved mass flows along the edges in
// proportion to their weight. FIFO order; stops when no node is active or at max_pushes.
inline bool flow_active(const Workspace& ws, int32_t i, double sink_v, double eps) {
  const double excess = ws.m[i] - sink_v;
  return excess > eps || (excess < -eps && ws.x[i] > 0.0);
}

void flow_push(const GraphView& g, const double* sink, Workspace& ws, double eps, double omega,
               int64_t max_pushes, Work& total) {
  Work work = total;  // local counters: no shared cache lines between threads in the hot loop
  int32_t i;
  while (work.pushes < max_pushes && ws.pop_queue(i)) {
    const int64_t v = ws.nodes[i];
    const double w_v = g.degree[v];
    if (w_v <= 0.0 || !flow_active(ws, i, sink[v], eps)) continue;
    const double excess = ws.m[i] - sink[v];
    const double step = std::max(omega * excess / w_v, -ws.x[i]);
    ws.x[i] += step;
    ws.m[i] -= step * w_v;
    ++work.pushes;
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
      const int64_t u = g.col[e];
      const int32_t j = ws.local(u);
      ws.m[j] += g.weight(e) * step;
      if (!ws.queued[j] && flow_active(ws, j, sink[u], eps)) ws.push_queue(j);
    }
    if (!ws.queued[i] && flow_active(ws, i, sink[v], eps)) ws.push_queue(i);  // self-loops, overshoot
    work.edges += g.rowptr[v + 1] - g.rowptr[v];
  }
  total = work;
}

// Adds `scale * source_mass` at the sources and queues those over their sink.
void flow_add_sources(const double* sink, Workspace& ws, const int64_t* source_nodes,
                      const double* source_mass, int64_t begin, int64_t end, double scale,
                      double eps) {
  for (int64_t k = begin; k < end; ++k) {
    const int64_t v = source_nodes[k];
    const int32_t i = ws.local(v);
    ws.m[i] += scale * source_mass[k];
    if (!ws.queued[i] && flow_active(ws, i, sink[v], eps)) ws.push_queue(i);
  }
}

// ---------------------------------------------------------------- ACL PageRank push
// A node whose residual exceeds eps * degree keeps alpha of it in p and spreads the rest to
// its neighbours in proportion to edge weight (non-lazy ACL).
void ppr_push(const GraphView& g, Workspace& ws, double alpha, double eps, int64_t max_pushes,
              Work& total) {
  Work work = total;
  int32_t i;
  while (work.pushes < max_pushes && ws.pop_queue(i)) {
    const int64_t v = ws.nodes[i];
    const double r = ws.m[i];
    const double d_v = g.degree[v];
    if (d_v <= 0.0 || r <= eps * d_v) continue;
    ws.x[i] += alpha * r;
    ws.m[i] = 0.0;
    const double spread = (1.0 - alpha) * r / d_v;
    ++work.pushes;
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
      const int64_t u = g.col[e];
      const int32_t j = ws.local(u);
      ws.m[j] += spread * g.weight(e);
      if (!ws.queued[j] && ws.m[j] > eps * g.degree[u]) ws.push_queue(j);
    }
    work.edges += g.rowptr[v + 1] - g.rowptr[v];
  }
  total = work;
}

void ppr_add_sources(const GraphView& g, Workspace& ws, const int64_t* source_nodes,
                     const double* source_mass, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; ++k) {
    const int32_t i = ws.local(source_nodes[k]);
    ws.m[i] += source_mass[k];
  }
}

// Queues every touched node that is active under tolerance eps (used when a PageRank level
// lowers the tolerance).
void ppr_requeue(const GraphView& g, Workspace& ws, double eps) {
  for (size_t i = 0; i < ws.nodes.size(); ++i) {
    if (!ws.queued[i] && ws.m[i] > eps * g.degree[ws.nodes[i]])
      ws.push_queue(static_cast<int32_t>(i));
  }
}

// ---------------------------------------------------------------- sweep cut
struct SweepResult {
  double conductance = std::numeric_limits<double>::quiet_NaN();
  int64_t size = 0;  // the cluster is ws.nodes[order[0..size)]
};

// Sweeps over the touched nodes with score[i] > 0 (score = ws.x). Needs ws.slot to map the
// touched nodes; fills ws.order.
SweepResult sweep(const GraphView& g, Workspace& ws, const std::vector<double>& score,
                  bool normalize, double total_volume, Work& work) {
  ws.keys.clear();
  for (size_t i = 0; i < score.size(); ++i) {
    if (!(score[i] > 0.0)) continue;
    const int64_t v = ws.nodes[i];
    const double d = g.degree[v];
    const double key = normalize ? (d > 0.0 ? score[i] / d : 0.0) : score[i];
    ws.keys.push_back({key, v, static_cast<int32_t>(i)});
  }
  std::sort(ws.keys.begin(), ws.keys.end(),
            [](const Workspace::SweepKey& a, const Workspace::SweepKey& b) {
              if (a.key != b.key) return a.key > b.key;
              return a.node < b.node;
            });
  ws.order.clear();
  for (const auto& entry : ws.keys) ws.order.push_back(entry.local);
  ws.in_set.assign(ws.nodes.size(), 0);
  SweepResult best;
  double volume = 0.0, cut = 0.0;
  for (size_t k = 0; k < ws.order.size(); ++k) {
    const int32_t i = ws.order[k];
    const int64_t v = ws.nodes[i];
    double to_set = 0.0, loop = 0.0;
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
      const int64_t u = g.col[e];
      if (u == v) {
        loop += g.weight(e);
        continue;
      }
      const int32_t j = ws.slot[u];
      if (j >= 0 && ws.in_set[j]) to_set += g.weight(e);
    }
    work.edges += g.rowptr[v + 1] - g.rowptr[v];
    ws.in_set[i] = 1;
    volume += g.degree[v];
    cut += g.degree[v] - loop - 2.0 * to_set;
    const double denominator = std::min(volume, total_volume - volume);
    if (denominator <= 1e-12 * total_volume) continue;  // the whole graph (up to rounding)
    const double phi = std::max(cut, 0.0) / denominator;
    if (!(phi >= best.conductance)) {  // also true while best is NaN
      best.conductance = phi;
      best.size = static_cast<int64_t>(k) + 1;
    }
  }
  return best;
}

// ---------------------------------------------------------------- input checks & output
void check_graph(const at::Tensor& rowptr, const at::Tensor& col,
                 const std::optional<at::Tensor>& value, const at::Tensor& degree) {
  TORCH_CHECK(rowptr.device().is_cpu() && col.device().is_cpu() && degree.device().is_cpu(),
              "noisygraph local diffusions run on CPU only: move the graph to CPU first");
  TORCH_CHECK(rowptr.dim() == 1 && rowptr.numel() >= 1 && rowptr.scalar_type() == at::kLong,
              "rowptr must be a 1-D int64 tensor");
  TORCH_CHECK(col.dim() == 1 && col.scalar_type() == at::kLong, "col must be a 1-D int64 tensor");
  TORCH_CHECK(degree.dim() == 1 && degree.numel() == rowptr.numel() - 1 &&
                  degree.scalar_type() == at::kDouble,
              "degree must be a float64 tensor with one entry per node");
  if (value.has_value()) {
    TORCH_CHECK(value->device().is_cpu(), "value must be on CPU");
    TORCH_CHECK(value->scalar_type() == at::kDouble && value->sizes() == col.sizes(),
                "value must be a float64 tensor shaped like col");
  }
}

void check_sources(const at::Tensor& source_ptr, const at::Tensor& source_nodes,
                   const at::Tensor& source_mass, int64_t num_nodes) {
  TORCH_CHECK(source_ptr.device().is_cpu() && source_nodes.device().is_cpu() &&
                  source_mass.device().is_cpu(),
              "source tensors must be on CPU");
  TORCH_CHECK(source_ptr.dim() == 1 && source_ptr.numel() >= 1 &&
                  source_ptr.scalar_type() == at::kLong,
              "source_ptr must be a 1-D int64 tensor");
  TORCH_CHECK(source_nodes.dim() == 1 && source_nodes.scalar_type() == at::kLong,
              "source_nodes must be a 1-D int64 tensor");
  TORCH_CHECK(source_mass.scalar_type() == at::kDouble &&
                  source_mass.sizes() == source_nodes.sizes(),
              "source_mass must be a float64 tensor shaped like source_nodes");
  if (source_nodes.numel() > 0) {
    const int64_t low = source_nodes.min().item<int64_t>();
    const int64_t high = source_nodes.max().item<int64_t>();
    TORCH_CHECK(low >= 0 && high < num_nodes, "source_nodes holds ids in [", low, ", ", high,
                "], outside [0, ", num_nodes, ")");
  }
}

// The inputs only the flow diffusion has: over-relaxation, sinks, and the sources.
void check_flow_inputs(const at::Tensor& sink, double omega, const at::Tensor& source_ptr,
                       const at::Tensor& source_nodes, const at::Tensor& source_mass,
                       int64_t num_nodes) {
  TORCH_CHECK(omega > 0.0 && omega < 2.0, "omega must be in (0, 2), got ", omega);
  check_sources(source_ptr, source_nodes, source_mass, num_nodes);
  TORCH_CHECK(sink.device().is_cpu() && sink.scalar_type() == at::kDouble && sink.dim() == 1 &&
                  sink.numel() == num_nodes,
              "sink must be a float64 CPU tensor with one entry per node");
}

// Contiguous copies of a graph's tensors, kept alive for the raw view into them.
struct ContiguousGraph {
  at::Tensor rowptr, col, degree;
  std::optional<at::Tensor> value;
  GraphView view;

  ContiguousGraph(const at::Tensor& rowptr_, const at::Tensor& col_,
                  const std::optional<at::Tensor>& value_, const at::Tensor& degree_)
      : rowptr(rowptr_.contiguous()), col(col_.contiguous()), degree(degree_.contiguous()) {
    if (value_.has_value()) value = value_->contiguous();
    view = GraphView{rowptr.data_ptr<int64_t>(), col.data_ptr<int64_t>(),
                     value.has_value() ? value->data_ptr<double>() : nullptr,
                     degree.data_ptr<double>(), rowptr.numel() - 1};
  }
};

// Per-query result blocks, concatenated after the parallel section.
struct Block {
  std::vector<int64_t> nodes;
  std::vector<double> a, b;
};

at::Tensor concat_ptr(const std::vector<Block>& blocks) {
  auto ptr = at::empty({static_cast<int64_t>(blocks.size()) + 1}, at::kLong);
  int64_t* p = ptr.data_ptr<int64_t>();
  p[0] = 0;
  for (size_t q = 0; q < blocks.size(); ++q)
    p[q + 1] = p[q] + static_cast<int64_t>(blocks[q].nodes.size());
  return ptr;
}

at::Tensor concat_nodes(const std::vector<Block>& blocks, int64_t total) {
  auto out = at::empty({total}, at::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  for (const auto& b : blocks) o = std::copy(b.nodes.begin(), b.nodes.end(), o);
  return out;
}

at::Tensor concat_values(const std::vector<Block>& blocks, int64_t total, bool first) {
  auto out = at::empty({total}, at::kDouble);
  double* o = out.data_ptr<double>();
  for (const auto& b : blocks) {
    const auto& v = first ? b.a : b.b;
    o = std::copy(v.begin(), v.end(), o);
  }
  return out;
}

at::Tensor work_tensor(const std::vector<Work>& works) {
  auto out = at::empty({static_cast<int64_t>(works.size()), 2}, at::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  for (size_t q = 0; q < works.size(); ++q) {
    o[2 * q] = works[q].pushes;
    o[2 * q + 1] = works[q].edges;
  }
  return out;
}

// Copies the touched nodes (and two per-node arrays) of a workspace into a block.
void snapshot(const Workspace& ws, Block& block) {
  block.nodes = ws.nodes;
  block.a = ws.x;
  block.b = ws.m;
}

// Runs `body(query, workspace)` for every query in parallel, one workspace per thread.
template <typename Body>
void for_each_query(int64_t num_queries, int64_t num_nodes, const Body& body) {
  at::parallel_for(0, num_queries, 1, [&](int64_t begin, int64_t end) {
    Workspace& ws = thread_workspace();
    ws.prepare(num_nodes);
    for (int64_t q = begin; q < end; ++q) {
      ResetGuard guard{ws};
      body(q, ws);
    }
  });
}

// ---------------------------------------------------------------- ops
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_flow_diffusion_cpu(
    const at::Tensor& rowptr_, const at::Tensor& col_, const std::optional<at::Tensor>& value_,
    const at::Tensor& degree_, const at::Tensor& sink_, const at::Tensor& source_ptr_,
    const at::Tensor& source_nodes_, const at::Tensor& source_mass_, double eps,
    double omega, int64_t max_pushes) {
  check_graph(rowptr_, col_, value_, degree_);
  const int64_t n = rowptr_.numel() - 1;
  check_flow_inputs(sink_, omega, source_ptr_, source_nodes_, source_mass_, n);
  const ContiguousGraph graph(rowptr_, col_, value_, degree_);
  auto sink = sink_.contiguous();
  auto sp = source_ptr_.contiguous(), sn = source_nodes_.contiguous(),
       sm = source_mass_.contiguous();
  const GraphView& g = graph.view;
  const int64_t* ptr = sp.data_ptr<int64_t>();
  const int64_t num_queries = sp.numel() - 1;
  std::vector<Block> blocks(num_queries);
  std::vector<Work> works(num_queries);
  const double* sink_p = sink.data_ptr<double>();
  for_each_query(num_queries, n, [&](int64_t q, Workspace& ws) {
    flow_add_sources(sink_p, ws, sn.data_ptr<int64_t>(), sm.data_ptr<double>(), ptr[q],
                     ptr[q + 1], 1.0, eps);
    flow_push(g, sink_p, ws, eps, omega, max_pushes, works[q]);
    snapshot(ws, blocks[q]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[num_queries].item<int64_t>();
  return {out_ptr, concat_nodes(blocks, total), concat_values(blocks, total, true),
          concat_values(blocks, total, false), work_tensor(works)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_ppr_push_cpu(
    const at::Tensor& rowptr_, const at::Tensor& col_, const std::optional<at::Tensor>& value_,
    const at::Tensor& degree_, const at::Tensor& source_ptr_, const at::Tensor& source_nodes_,
    const at::Tensor& source_mass_, double alpha, double eps, int64_t max_pushes) {
  check_graph(rowptr_, col_, value_, degree_);
  const int64_t n = rowptr_.numel() - 1;
  check_sources(source_ptr_, source_nodes_, source_mass_, n);
  TORCH_CHECK(alpha > 0.0 && alpha <= 1.0, "alpha must be in (0, 1], got ", alpha);
  const ContiguousGraph graph(rowptr_, col_, value_, degree_);
  auto sp = source_ptr_.contiguous(), sn = source_nodes_.contiguous(),
       sm = source_mass_.contiguous();
  const GraphView& g = graph.view;
  const int64_t* ptr = sp.data_ptr<int64_t>();
  const int64_t num_queries = sp.numel() - 1;
  std::vector<Block> blocks(num_queries);
  std::vector<Work> works(num_queries);
  for_each_query(num_queries, n, [&](int64_t q, Workspace& ws) {
    ppr_add_sources(g, ws, sn.data_ptr<int64_t>(), sm.data_ptr<double>(), ptr[q], ptr[q + 1]);
    ppr_requeue(g, ws, eps);
    ppr_push(g, ws, alpha, eps, max_pushes, works[q]);
    snapshot(ws, blocks[q]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[num_queries].item<int64_t>();
  return {out_ptr, concat_nodes(blocks, total), concat_values(blocks, total, true),
          concat_values(blocks, total, false), work_tensor(works)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_sweep_cut_cpu(
    const at::Tensor& rowptr_, const at::Tensor& col_, const std::optional<at::Tensor>& value_,
    const at::Tensor& degree_, const at::Tensor& score_ptr_, const at::Tensor& score_nodes_,
    const at::Tensor& scores_, double total_volume, bool normalize) {
  check_graph(rowptr_, col_, value_, degree_);
  const int64_t n = rowptr_.numel() - 1;
  check_sources(score_ptr_, score_nodes_, scores_, n);
  const ContiguousGraph graph(rowptr_, col_, value_, degree_);
  auto sp = score_ptr_.contiguous(), sn = score_nodes_.contiguous(), sc = scores_.contiguous();
  const GraphView& g = graph.view;
  const int64_t* ptr = sp.data_ptr<int64_t>();
  const int64_t* nodes = sn.data_ptr<int64_t>();
  const double* values = sc.data_ptr<double>();
  const int64_t num_queries = sp.numel() - 1;
  std::vector<Block> blocks(num_queries);
  std::vector<Work> works(num_queries);
  std::vector<double> conductance(num_queries);
  for_each_query(num_queries, n, [&](int64_t q, Workspace& ws) {
    for (int64_t k = ptr[q]; k < ptr[q + 1]; ++k) {
      const int32_t i = ws.local(nodes[k]);
      ws.x[i] = std::max(ws.x[i], values[k]);  // duplicates: keep the largest score
    }
    const SweepResult best = sweep(g, ws, ws.x, normalize, total_volume, works[q]);
    conductance[q] = best.conductance;
    for (int64_t k = 0; k < best.size; ++k) blocks[q].nodes.push_back(ws.nodes[ws.order[k]]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[num_queries].item<int64_t>();
  auto phi = at::empty({num_queries}, at::kDouble);
  std::copy(conductance.begin(), conductance.end(), phi.data_ptr<double>());
  return {out_ptr, concat_nodes(blocks, total), phi, work_tensor(works)};
}

// Shared driver of the fused diffuse-and-sweep ops: `start(q, ws)` seeds query q,
// `advance(q, level, ws, work)` runs one level of the diffusion.
template <typename Start, typename Advance>
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor>
cluster_levels(const GraphView& g, int64_t num_queries, int64_t num_levels, bool normalize,
               double total_volume, const Start& start, const Advance& advance) {
  std::vector<Block> clusters(num_queries), scores(num_queries);
  std::vector<Work> works(num_queries);
  std::vector<double> conductance(num_queries, std::numeric_limits<double>::quiet_NaN());
  std::vector<int64_t> best_level(num_queries, -1);
  for_each_query(num_queries, g.num_nodes, [&](int64_t q, Workspace& ws) {
    start(q, ws);
    for (int64_t level = 0; level < num_levels; ++level) {
      advance(q, level, ws, works[q]);
      const SweepResult best = sweep(g, ws, ws.x, normalize, total_volume, works[q]);
      if (std::isnan(best.conductance) || best.conductance >= conductance[q]) continue;
      conductance[q] = best.conductance;
      best_level[q] = level;
      clusters[q].nodes.resize(best.size);
      for (int64_t k = 0; k < best.size; ++k) clusters[q].nodes[k] = ws.nodes[ws.order[k]];
      Block& s = scores[q];
      s.nodes.clear();
      s.a.clear();
      for (size_t i = 0; i < ws.nodes.size(); ++i) {
        if (ws.x[i] > 0.0) {
          s.nodes.push_back(ws.nodes[i]);
          s.a.push_back(ws.x[i]);
        }
      }
    }
  });
  auto cluster_ptr = concat_ptr(clusters);
  const int64_t cluster_total = cluster_ptr[num_queries].item<int64_t>();
  auto score_ptr = concat_ptr(scores);
  const int64_t score_total = score_ptr[num_queries].item<int64_t>();
  auto phi = at::empty({num_queries}, at::kDouble);
  std::copy(conductance.begin(), conductance.end(), phi.data_ptr<double>());
  auto level = at::empty({num_queries}, at::kLong);
  std::copy(best_level.begin(), best_level.end(), level.data_ptr<int64_t>());
  return {cluster_ptr, concat_nodes(clusters, cluster_total), phi, level, score_ptr,
          concat_nodes(scores, score_total), concat_values(scores, score_total, true),
          work_tensor(works)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor>
local_flow_cluster_cpu(const at::Tensor& rowptr_, const at::Tensor& col_,
                       const std::optional<at::Tensor>& value_, const at::Tensor& degree_,
                       const at::Tensor& sink_, const at::Tensor& source_ptr_,
                       const at::Tensor& source_nodes_, const at::Tensor& source_mass_,
                       const at::Tensor& multiples_, double eps, double omega,
                       int64_t max_pushes, double total_volume) {
  check_graph(rowptr_, col_, value_, degree_);
  const int64_t n = rowptr_.numel() - 1;
  check_flow_inputs(sink_, omega, source_ptr_, source_nodes_, source_mass_, n);
  TORCH_CHECK(multiples_.device().is_cpu() && multiples_.scalar_type() == at::kDouble &&
                  multiples_.dim() == 1 && multiples_.numel() >= 1,
              "multiples must be a non-empty 1-D float64 CPU tensor");
  auto multiples = multiples_.contiguous();
  const double* mult = multiples.data_ptr<double>();
  for (int64_t a = 0; a < multiples.numel(); ++a) {
    TORCH_CHECK(mult[a] > 0.0 && (a == 0 || mult[a] >= mult[a - 1]),
                "multiples must be positive and ascending");
  }
  const ContiguousGraph graph(rowptr_, col_, value_, degree_);
  auto sink = sink_.contiguous();
  auto sp = source_ptr_.contiguous(), sn = source_nodes_.contiguous(),
       sm = source_mass_.contiguous();
  const GraphView& g = graph.view;
  const int64_t* ptr = sp.data_ptr<int64_t>();
  const int64_t* nodes = sn.data_ptr<int64_t>();
  const double* mass = sm.data_ptr<double>();
  const double* sink_p = sink.data_ptr<double>();
  return cluster_levels(
      g, sp.numel() - 1, multiples.numel(), /*normalize=*/false, total_volume,
      [](int64_t, Workspace&) {},
      [&](int64_t q, int64_t level, Workspace& ws, Work& work) {
        // Warm start: the solution grows monotonically with the source mass, so the next
        // level only adds the missing mass and keeps pushing.
        const double added = mult[level] - (level > 0 ? mult[level - 1] : 0.0);
        flow_add_sources(sink_p, ws, nodes, mass, ptr[q], ptr[q + 1], added, eps);
        flow_push(g, sink_p, ws, eps, omega, max_pushes, work);
      });
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor>
local_ppr_cluster_cpu(const at::Tensor& rowptr_, const at::Tensor& col_,
                      const std::optional<at::Tensor>& value_, const at::Tensor& degree_,
                      const at::Tensor& source_ptr_, const at::Tensor& source_nodes_,
                      const at::Tensor& source_mass_, const at::Tensor& tolerances_,
                      double alpha, int64_t max_pushes, double total_volume) {
  check_graph(rowptr_, col_, value_, degree_);
  const int64_t n = rowptr_.numel() - 1;
  check_sources(source_ptr_, source_nodes_, source_mass_, n);
  TORCH_CHECK(alpha > 0.0 && alpha <= 1.0, "alpha must be in (0, 1], got ", alpha);
  TORCH_CHECK(tolerances_.device().is_cpu() && tolerances_.scalar_type() == at::kDouble &&
                  tolerances_.dim() == 1 && tolerances_.numel() >= 1,
              "tolerances must be a non-empty 1-D float64 CPU tensor");
  auto tolerances = tolerances_.contiguous();
  const double* tol = tolerances.data_ptr<double>();
  for (int64_t a = 0; a < tolerances.numel(); ++a) {
    TORCH_CHECK(tol[a] > 0.0 && (a == 0 || tol[a] <= tol[a - 1]),
                "tolerances must be positive and descending");
  }
  const ContiguousGraph graph(rowptr_, col_, value_, degree_);
  auto sp = source_ptr_.contiguous(), sn = source_nodes_.contiguous(),
       sm = source_mass_.contiguous();
  const GraphView& g = graph.view;
  const int64_t* ptr = sp.data_ptr<int64_t>();
  const int64_t* nodes = sn.data_ptr<int64_t>();
  const double* mass = sm.data_ptr<double>();
  return cluster_levels(
      g, sp.numel() - 1, tolerances.numel(), /*normalize=*/true, total_volume,
      [&](int64_t q, Workspace& ws) { ppr_add_sources(g, ws, nodes, mass, ptr[q], ptr[q + 1]); },
      [&](int64_t, int64_t level, Workspace& ws, Work& work) {
        // Lowering the tolerance continues the same push from the current (p, r).
        ppr_requeue(g, ws, tol[level]);
        ppr_push(g, ws, alpha, tol[level], max_pushes, work);
      });
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_flow_diffusion(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& sink, const at::Tensor& source_ptr,
    const at::Tensor& source_nodes, const at::Tensor& source_mass, double eps, double omega,
    int64_t max_pushes) {
  return local_flow_diffusion_cpu(rowptr, col, value, degree, sink, source_ptr, source_nodes,
                                  source_mass, eps, omega, max_pushes);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_ppr_push(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& source_ptr, const at::Tensor& source_nodes,
    const at::Tensor& source_mass, double alpha, double eps, int64_t max_pushes) {
  return local_ppr_push_cpu(rowptr, col, value, degree, source_ptr, source_nodes, source_mass,
                            alpha, eps, max_pushes);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_sweep_cut(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& score_ptr, const at::Tensor& score_nodes,
    const at::Tensor& scores, double total_volume, bool normalize) {
  return local_sweep_cut_cpu(rowptr, col, value, degree, score_ptr, score_nodes, scores,
                             total_volume, normalize);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor>
local_flow_cluster(const at::Tensor& rowptr, const at::Tensor& col,
                   const std::optional<at::Tensor>& value, const at::Tensor& degree,
                   const at::Tensor& sink, const at::Tensor& source_ptr,
                   const at::Tensor& source_nodes, const at::Tensor& source_mass,
                   const at::Tensor& multiples, double eps, double omega, int64_t max_pushes,
                   double total_volume) {
  return local_flow_cluster_cpu(rowptr, col, value, degree, sink, source_ptr, source_nodes,
                                source_mass, multiples, eps, omega, max_pushes, total_volume);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor>
local_ppr_cluster(const at::Tensor& rowptr, const at::Tensor& col,
                  const std::optional<at::Tensor>& value, const at::Tensor& degree,
                  const at::Tensor& source_ptr, const at::Tensor& source_nodes,
                  const at::Tensor& source_mass, const at::Tensor& tolerances, double alpha,
                  int64_t max_pushes, double total_volume) {
  return local_ppr_cluster_cpu(rowptr, col, value, degree, source_ptr, source_nodes,
                               source_mass, tolerances, alpha, max_pushes, total_volume);
}

TORCH_LIBRARY_IMPL(noisygraph, CPU, m) {
  m.impl("local_flow_diffusion", &local_flow_diffusion_cpu);
  m.impl("local_ppr_push", &local_ppr_push_cpu);
  m.impl("local_sweep_cut", &local_sweep_cut_cpu);
  m.impl("local_flow_cluster", &local_flow_cluster_cpu);
  m.impl("local_ppr_cluster", &local_ppr_cluster_cpu);
}

}  // namespace noisygraph
