// CPU kernels of the flow-based cut improvement (ops/local_push.h): Dinic's max-flow on a small
// network (local_max_flow) and the two refinements built on it, MQI (local_mqi) and the
// strongly-local FlowImprove (local_flow_improve), whose parametric loops run here without a
// round trip to Python per max-flow. Each call reads only the rows of the input set and of
// the nodes its cuts reach; its node maps are per-thread arrays restored after the call.
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/common/csr_checks.h"
#include "ops/cpu/local_graph.h"
#include "ops/local_push.h"

namespace noisygraph {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRelativeTolerance = 1e-12;  // residual capacities <= this * scale count as 0
constexpr double kExact = 9007199254740992.0;  // 2^53: integers up to here are exact doubles

// Dinic's max-flow. Arcs come in pairs (2k: u -> v, 2k + 1: v -> u) holding residual
// capacities; the adjacency (CSR of arc ids) is rebuilt when arcs were added, so a network
// can grow and its max-flow continue from the current flow.
class FlowNetwork {
 public:
  void clear() {
    num_nodes_ = 0;
    tail_.clear();
    head_.clear();
    cap_.clear();
    dirty_ = true;
  }
  int32_t add_node() {
    dirty_ = true;
    return num_nodes_++;
  }
  int32_t size() const { return num_nodes_; }
  void add_arc(int32_t u, int32_t v, double cap, double reverse_cap) {
    TORCH_CHECK(tail_.size() + 2 < static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                "max-flow: more than 2^31 - 1 arcs");
    tail_.push_back(u);
    head_.push_back(v);
    cap_.push_back(cap);
    tail_.push_back(v);
    head_.push_back(u);
    cap_.push_back(reverse_cap);
    dirty_ = true;
  }
  // Augments the current flow from s to t until no path of residual capacity > tol is left
  // (returns true; `flow` += the flow added), or until `arcs` (arc visits, counted) exceeds
  // max_arcs (returns false: the flow is feasible but maybe not maximum).
  bool max_flow(int32_t s, int32_t t, double tol, int64_t max_arcs, int64_t& arcs,
                double& flow) {
    if (dirty_) index();
    while (levels(s, tol, max_arcs, arcs)) {
      if (level_[t] < 0) return true;
      it_.assign(start_.begin(), start_.end() - 1);
      path_.clear();
      int32_t u = s;
      while (true) {  // blocking flow: iterative DFS with current-arc pointers
        if (arcs > max_arcs) return false;
        if (u == t) {
          double push = kInf;
          for (int32_t a : path_) push = std::min(push, cap_[a]);
          size_t first_saturated = path_.size();
          for (size_t k = 0; k < path_.size(); ++k) {
            const int32_t a = path_[k];
            cap_[a] -= push;
            cap_[a ^ 1] += push;
            if (first_saturated == path_.size() && !(cap_[a] > tol)) first_saturated = k;
          }
          flow += push;
          // retreat to the tail of the first saturated arc
          u = tail_[path_[first_saturated]];
          path_.resize(first_saturated);
          continue;
        }
        bool advanced = false;
        const int32_t end = start_[u + 1];
        for (int32_t& k = it_[u]; k < end; ++k) {
          const int32_t a = adjacency_[k];
          ++arcs;
          const int32_t v = head_[a];
          if (cap_[a] > tol && level_[v] == level_[u] + 1) {
            path_.push_back(a);
            u = v;
            advanced = true;
            break;
          }
        }
        if (advanced) continue;
        if (u == s) break;
        level_[u] = -1;  // a dead end: not revisited in this phase
        const int32_t a = path_.back();
        path_.pop_back();
        u = tail_[a];
        ++it_[u];
      }
      if (arcs > max_arcs) return false;
    }
    return false;  // the budget ran out inside a breadth-first search
  }
  // After max_flow returned true: whether v is reachable from s in the residual network (the
  // source side of the minimal minimum cut).
  bool reached(int32_t v) const { return level_[v] >= 0; }

 private:
  void index() {
    start_.assign(static_cast<size_t>(num_nodes_) + 1, 0);
    for (int32_t u : tail_) ++start_[u + 1];
    for (int32_t u = 0; u < num_nodes_; ++u) start_[u + 1] += start_[u];
    adjacency_.resize(tail_.size());
    it_.assign(start_.begin(), start_.end() - 1);
    for (size_t a = 0; a < tail_.size(); ++a)
      adjacency_[it_[tail_[a]]++] = static_cast<int32_t>(a);
    dirty_ = false;
  }
  // Breadth-first levels from s over arcs of residual capacity > tol (every node: the last
  // search gives the residual reachability). False when the budget ran out.
  bool levels(int32_t s, double tol, int64_t max_arcs, int64_t& arcs) {
    level_.assign(num_nodes_, -1);
    queue_.clear();
    level_[s] = 0;
    queue_.push_back(s);
    for (size_t h = 0; h < queue_.size(); ++h) {
      if (arcs > max_arcs) return false;
      const int32_t u = queue_[h];
      arcs += start_[u + 1] - start_[u];
      for (int32_t k = start_[u]; k < start_[u + 1]; ++k) {
        const int32_t a = adjacency_[k];
        const int32_t v = head_[a];
        if (level_[v] < 0 && cap_[a] > tol) {
          level_[v] = level_[u] + 1;
          queue_.push_back(v);
        }
      }
    }
    return true;
  }

  int32_t num_nodes_ = 0;
  bool dirty_ = true;
  std::vector<int32_t> tail_, head_;
  std::vector<double> cap_;
  std::vector<int32_t> start_, adjacency_, it_, level_, queue_, path_;
};

// A node -> local index map of the graph's size, allocated once per thread; a call restores
// the entries it set (when it ends or throws), so it costs only what it touches.
struct SlotMap {
  std::vector<int32_t>& slot;
  std::vector<int64_t> touched;

  explicit SlotMap(int64_t num_nodes) : slot(storage()) {
    if (static_cast<int64_t>(slot.size()) < num_nodes) slot.resize(num_nodes, -1);
  }
  ~SlotMap() { reset(); }
  SlotMap(const SlotMap&) = delete;
  SlotMap& operator=(const SlotMap&) = delete;
  int32_t operator[](int64_t v) const { return slot[v]; }
  void set(int64_t v, int32_t i) {
    if (slot[v] < 0) touched.push_back(v);
    slot[v] = i;
  }
  void reset() {
    for (int64_t v : touched) slot[v] = -1;
    touched.clear();
  }
  static std::vector<int32_t>& storage() {
    thread_local std::vector<int32_t> s;
    return s;
  }
};

// The input set of a refinement: sorted, duplicates dropped, non-empty, every row checked,
// positive volume at most total_volume / 2.
std::vector<int64_t> reference_set(const char* op, const GraphView& g, const at::Tensor& nodes_,
                                   double total_volume) {
  const at::Tensor nodes = check_node_ids(op, "nodes", nodes_, g.num_nodes);
  const int64_t* p = nodes.data_ptr<int64_t>();
  std::vector<int64_t> ids(p, p + nodes.numel());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  TORCH_CHECK_VALUE(!ids.empty(), op, ": nodes must hold at least one node");
  TORCH_CHECK_VALUE(ids.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max() / 4),
                    op, ": nodes holds too many nodes");
  double volume = 0.0;
  for (int64_t v : ids) {
    g.check_row(v);
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) volume += g.weight(e);
  }
  TORCH_CHECK_VALUE(volume > 0.0, op, ": nodes must hold nodes with edges (its volume is 0)");
  TORCH_CHECK_VALUE(volume <= total_volume / 2, op, ": nodes has volume ", volume,
                    " > total_volume / 2 = ", total_volume / 2,
                    ": refine the smaller side (its complement)");
  return ids;
}

void check_refine_scalars(const char* op, double total_volume, int64_t max_iterations,
                          int64_t max_work) {
  check_real(op, "total_volume", total_volume, 0.0, kInf, true, true);
  TORCH_CHECK_VALUE(max_iterations >= 1, op, ": max_iterations must be >= 1, got ",
                    max_iterations);
  TORCH_CHECK_VALUE(max_work >= 1, op, ": max_work must be >= 1, got ", max_work);
}

struct RefineWork {
  int64_t iterations = 0, edges = 0, arcs = 0, explored = 0;
  bool stopped = false;
};

std::tuple<at::Tensor, at::Tensor, at::Tensor> refine_outputs(const std::vector<int64_t>& set,
                                                              double phi0, double phi,
                                                              const RefineWork& w) {
  auto nodes = at::empty({static_cast<int64_t>(set.size())}, at::kLong);
  std::copy(set.begin(), set.end(), nodes.data_ptr<int64_t>());
  auto conductance = at::empty({2}, at::kDouble);
  conductance.data_ptr<double>()[0] = phi0;
  conductance.data_ptr<double>()[1] = phi;
  auto work = at::empty({5}, at::kLong);
  int64_t* o = work.data_ptr<int64_t>();
  o[0] = w.iterations;
  o[1] = w.edges;
  o[2] = w.arcs;
  o[3] = w.explored;
  o[4] = w.stopped ? 1 : 0;
  return {nodes, conductance, work};
}

double conductance_of(double cut, double volume, double total_volume) {
  const double denominator = std::min(volume, total_volume - volume);
  return denominator > 0.0 ? cut / denominator : kNaN;
}

// ---------------------------------------------------------------- MQI
// Each step on the current set A (cut p, volume q, alpha = p / q): source -> u with
// alpha d(u), the edges inside A with their weights, u -> sink with w(u, A complement); a
// minimum cut below alpha q has as source side a set S with w(S, S complement) < alpha vol(S).
// With integer weights and p q <= 2^53 the network is scaled by q (capacities p d(u), q w,
// q w(u, A complement)) and solved exactly (tolerance 0); otherwise in float64 with the
// tolerance 1e-12 * max(1, largest source or sink capacity).
std::tuple<at::Tensor, at::Tensor, at::Tensor> run_mqi(const GraphView& g,
                                                       std::vector<int64_t> current,
                                                       double total_volume,
                                                       int64_t max_iterations,
                                                       int64_t max_work) {
  RefineWork work;
  work.explored = static_cast<int64_t>(current.size());
  bool integral = true;
  for (int64_t v : current)
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1] && integral; ++e)
      integral = g.weight(e) == std::floor(g.weight(e));
  SlotMap map(g.num_nodes);
  FlowNetwork net;
  std::vector<double> degree, out;
  std::vector<int64_t> previous, side;
  double phi0 = kNaN, previous_phi = kNaN, phi = kNaN;
  while (true) {
    map.reset();
    const int32_t k = static_cast<int32_t>(current.size());
    for (int32_t i = 0; i < k; ++i) map.set(current[i], i);
    degree.assign(k, 0.0);
    out.assign(k, 0.0);
    double p = 0.0, q = 0.0;
    for (int32_t i = 0; i < k; ++i) {
      const int64_t v = current[i];
      for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
        degree[i] += g.weight(e);
        if (map[g.col[e]] < 0) out[i] += g.weight(e);
      }
      work.edges += g.rowptr[v + 1] - g.rowptr[v];
      p += out[i];
      q += degree[i];
    }
    phi = conductance_of(p, q, total_volume);
    if (work.iterations == 0) {
      phi0 = phi;
    } else if (!(phi < previous_phi)) {  // never in exact arithmetic: keep the previous set
      current.swap(previous);
      phi = previous_phi;
      break;
    }
    if (!(p > 0.0) || work.iterations >= max_iterations) break;
    ++work.iterations;
    const bool exact = integral && p * q <= kExact;
    const double source_scale = exact ? p : phi, edge_scale = exact ? q : 1.0;
    net.clear();
    const int32_t s = net.add_node(), t = net.add_node();
    for (int32_t i = 0; i < k; ++i) net.add_node();
    double scale = 0.0;
    for (int32_t i = 0; i < k; ++i) {
      const int64_t v = current[i];
      for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
        const int64_t u = g.col[e];
        const int32_t j = map[u];
        if (j >= 0 && u > v) net.add_arc(2 + i, 2 + j, edge_scale * g.weight(e),
                                          edge_scale * g.weight(e));
      }
      net.add_arc(s, 2 + i, source_scale * degree[i], 0.0);
      if (out[i] > 0.0) net.add_arc(2 + i, t, edge_scale * out[i], 0.0);
      scale = std::max({scale, out[i], phi * degree[i]});
    }
    const double tol = exact ? 0.0 : kRelativeTolerance * std::max(scale, 1.0);
    double flow = 0.0;
    if (!net.max_flow(s, t, tol, max_work, work.arcs, flow)) {
      work.stopped = true;
      break;
    }
    side.clear();
    for (int32_t i = 0; i < k; ++i)
      if (net.reached(2 + i)) side.push_back(current[i]);
    if (side.empty() || side.size() == current.size()) break;
    previous.swap(current);
    current.swap(side);
    previous_phi = phi;
  }
  return refine_outputs(current, phi0, phi, work);
}

// ---------------------------------------------------------------- FlowImprove
// The region: the explored nodes (whose rows were read) and their neighbours, in order of
// first touch; network node 2 + r is region node r.
struct Region {
  const GraphView& g;
  SlotMap map;
  std::vector<int64_t> ids;
  std::vector<uint8_t> in_reference, explored, mark;
  std::vector<double> row_degree;  // explored nodes: the sum of their row's weights
  int64_t edges = 0;

  Region(const GraphView& graph) : g(graph), map(graph.num_nodes) {}
  int32_t touch(int64_t v) {
    const int32_t r = map[v];
    if (r >= 0) return r;
    g.check_node(v);
    const int32_t fresh = static_cast<int32_t>(ids.size());
    map.set(v, fresh);
    ids.push_back(v);
    in_reference.push_back(0);
    explored.push_back(0);
    mark.push_back(0);
    row_degree.push_back(0.0);
    return fresh;
  }
  // Reads v's row (checked by reference_set or here), adds its neighbours to the region.
  void explore(int32_t r) {
    const int64_t v = ids[r];
    g.check_row(v);
    double d = 0.0;
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
      d += g.weight(e);
      touch(g.col[e]);
    }
    edges += g.rowptr[v + 1] - g.rowptr[v];
    row_degree[r] = d;
    explored[r] = 1;
  }
  // Cut and volumes (inside / outside the reference) of the explored set `set` (region ids).
  void measure(const std::vector<int32_t>& set, double& cut, double& inside, double& outside) {
    for (int32_t r : set) mark[r] = 1;
    cut = inside = outside = 0.0;
    for (int32_t r : set) {
      const int64_t v = ids[r];
      for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e)
        if (!mark[map[g.col[e]]]) cut += g.weight(e);
      edges += g.rowptr[v + 1] - g.rowptr[v];
      (in_reference[r] ? inside : outside) += row_degree[r];
    }
    for (int32_t r : set) mark[r] = 0;
  }
  double quotient(const std::vector<int32_t>& set, double epsilon) {
    double cut, inside, outside;
    measure(set, cut, inside, outside);
    const double denominator = inside - epsilon * outside;
    // a denominator within rounding of 0 (S = V when delta = 0) counts as 0
    return denominator > 1e-12 * inside ? cut / denominator : kInf;
  }
  double conductance(const std::vector<int32_t>& set, double total_volume) {
    double cut, inside, outside;
    measure(set, cut, inside, outside);
    return conductance_of(cut, inside + outside, total_volume);
  }
};

// The sets as sorted global ids (region ids map to node ids).
std::vector<int64_t> global_ids(const Region& region, const std::vector<int32_t>& set) {
  std::vector<int64_t> out;
  out.reserve(set.size());
  for (int32_t r : set) out.push_back(region.ids[r]);
  std::sort(out.begin(), out.end());
  return out;
}

// Each step, with alpha = Q_eps of the current set, the minimum cut of
//   w(S, S complement) + alpha eps vol(S \ R) - alpha vol(S & R)
// (source -> u in R: alpha d(u); u not in R -> sink: alpha eps d(u); the graph's edges) on
// the region; while the cut's source side holds an unexplored node, it is explored and the
// max-flow continues on the grown network. Stops when no set has Q_eps below alpha.
std::tuple<at::Tensor, at::Tensor, at::Tensor> run_flow_improve(
    const GraphView& g, const std::vector<int64_t>& reference, double total_volume,
    double delta, int64_t max_iterations, int64_t max_work) {
  RefineWork work;
  Region region(g);
  std::vector<int32_t> current;
  for (int64_t v : reference) current.push_back(region.touch(v));
  for (int32_t r : current) region.in_reference[r] = 1;
  for (int32_t r : current) region.explore(r);
  double vol_r = 0.0;
  for (int32_t r : current) vol_r += region.row_degree[r];
  const double epsilon = vol_r / (total_volume - vol_r) + delta;
  const std::vector<int32_t> start = current;
  const double phi0 = region.conductance(start, total_volume);
  double alpha = region.quotient(start, epsilon);
  FlowNetwork net;
  std::vector<int32_t> side, grow;
  double scale = 0.0;
  // The network node of region node r (created in order), with its source or sink arc.
  auto add_terminal = [&](int32_t r) {
    net.add_node();
    const double cap = region.in_reference[r]
                           ? alpha * region.row_degree[r]
                           : alpha * epsilon * g.degree[region.ids[r]];
    if (region.in_reference[r]) {
      net.add_arc(0, 2 + r, cap, 0.0);
    } else {
      net.add_arc(2 + r, 1, cap, 0.0);
    }
    scale = std::max(scale, cap);
  };
  // The edges of explored node r, but those to nodes `skip` says already hold them.
  auto add_edges = [&](int32_t r, auto skip) {
    const int64_t v = region.ids[r];
    for (int64_t e = g.rowptr[v]; e < g.rowptr[v + 1]; ++e) {
      const int64_t u = g.col[e];
      const int32_t ru = region.map[u];
      if (u == v || skip(ru, u, v)) continue;
      net.add_arc(2 + r, 2 + ru, g.weight(e), g.weight(e));
      scale = std::max(scale, g.weight(e));
    }
    region.edges += g.rowptr[v + 1] - g.rowptr[v];
  };
  bool done = false;
  while (!done && work.iterations < max_iterations && alpha > 0.0) {
    net.clear();
    net.add_node();
    net.add_node();
    scale = 0.0;
    const int32_t region_size = static_cast<int32_t>(region.ids.size());
    for (int32_t r = 0; r < region_size; ++r) add_terminal(r);
    for (int32_t r = 0; r < region_size; ++r) {
      if (!region.explored[r]) continue;
      add_edges(r, [&](int32_t ru, int64_t u, int64_t v) {
        return region.explored[ru] && u < v;
      });
    }
    double flow = 0.0;
    while (true) {  // grow the region until the cut's source side is explored
      const double tol = kRelativeTolerance * std::max(scale, 1.0);
      if (!net.max_flow(0, 1, tol, max_work, work.arcs, flow)) {
        work.stopped = done = true;
        break;
      }
      side.clear();
      grow.clear();
      for (int32_t r = 0; r < static_cast<int32_t>(region.ids.size()); ++r) {
        if (!net.reached(2 + r)) continue;
        side.push_back(r);
        if (!region.explored[r]) grow.push_back(r);
      }
      if (grow.empty()) break;
      for (int32_t r : grow) region.mark[r] = 1;  // explored in this growth
      for (int32_t r : grow) {
        const int32_t before = static_cast<int32_t>(region.ids.size());
        region.explore(r);
        region.explored[r] = 0;  // until the growth's edges are in
        for (int32_t n = before; n < static_cast<int32_t>(region.ids.size()); ++n)
          add_terminal(n);
      }
      for (int32_t r : grow) {
        add_edges(r, [&](int32_t ru, int64_t u, int64_t v) {
          return region.explored[ru] || (region.mark[ru] && u < v);
        });
      }
      for (int32_t r : grow) {
        region.mark[r] = 0;
        region.explored[r] = 1;
      }
    }
    if (done) break;
    ++work.iterations;
    if (side.empty() || global_ids(region, side) == global_ids(region, current)) break;
    const double q = region.quotient(side, epsilon);
    if (!(q < alpha)) break;
    current = side;
    alpha = q;
  }
  double phi = region.conductance(current, total_volume);
  if (!(phi <= phi0)) {  // never worse than the input (guaranteed in exact arithmetic)
    current = start;
    phi = phi0;
  }
  work.edges = region.edges;
  for (uint8_t e : region.explored) work.explored += e;
  return refine_outputs(global_ids(region, current), phi0, phi, work);
}

}  // namespace

// The kernels of ops/local_push.h.
namespace cpu {

std::tuple<at::Tensor, at::Tensor, at::Tensor> local_max_flow_cpu(
    const at::Tensor& rowptr_, const at::Tensor& col_, const at::Tensor& capacity_,
    int64_t source, int64_t sink, double tolerance, int64_t max_work) {
  const char* op = "local_max_flow";
  check_int64_csr(op, rowptr_, col_);
  TORCH_CHECK_VALUE(rowptr_.dim() == 1 && rowptr_.numel() >= 3, op,
                    ": rowptr must be 1-D with at least 3 entries (2 nodes), got shape ",
                    rowptr_.sizes());
  TORCH_CHECK_VALUE(col_.dim() == 1, op, ": col must be 1-D, got shape ", col_.sizes());
  const at::Tensor rowptr = rowptr_.contiguous(), col = col_.contiguous();
  const int64_t n = rowptr.numel() - 1, m = col.numel();
  TORCH_CHECK_VALUE(n < std::numeric_limits<int32_t>::max() &&
                        m < std::numeric_limits<int32_t>::max() / 2,
                    op, ": the network must have fewer than 2^31 - 1 nodes and 2^30 arcs");
  const at::Tensor capacity =
      check_float64_vector(op, "capacity", capacity_, m, Entries::kFiniteNonnegative);
  TORCH_CHECK_VALUE(0 <= source && source < n, op, ": source = ", source, " is outside [0, ",
                    n, ")");
  TORCH_CHECK_VALUE(0 <= sink && sink < n, op, ": sink = ", sink, " is outside [0, ", n, ")");
  TORCH_CHECK_VALUE(source != sink, op, ": source and sink must differ, both are ", source);
  check_real(op, "tolerance", tolerance, 0.0, kInf, false, true);
  TORCH_CHECK_VALUE(max_work >= 1, op, ": max_work must be >= 1, got ", max_work);
  const int64_t* rp = rowptr.data_ptr<int64_t>();
  const int64_t* c = col.data_ptr<int64_t>();
  const double* cap = capacity.data_ptr<double>();
  TORCH_CHECK_VALUE(rp[0] == 0, op, ": rowptr[0] = ", rp[0], ", expected 0");
  TORCH_CHECK_VALUE(rp[n] == m, op, ": rowptr[", n, "] = ", rp[n],
                    " must equal len(col) = ", m);
  FlowNetwork net;
  for (int64_t u = 0; u < n; ++u) net.add_node();
  for (int64_t u = 0; u < n; ++u) {
    TORCH_CHECK_VALUE(rp[u] <= rp[u + 1] && rp[u + 1] <= m, op,
                      ": rowptr must be non-decreasing within [0, len(col) = ", m,
                      "], but rowptr[", u, "] = ", rp[u], " and rowptr[", u + 1, "] = ",
                      rp[u + 1]);
    for (int64_t e = rp[u]; e < rp[u + 1]; ++e) {
      TORCH_CHECK_VALUE(0 <= c[e] && c[e] < n, op, ": col[", e, "] = ", c[e],
                        " is outside [0, ", n, ")");
      if (c[e] != u) net.add_arc(static_cast<int32_t>(u), static_cast<int32_t>(c[e]), cap[e], 0.0);
    }
  }
  int64_t arcs = 0;
  double flow = 0.0;
  const bool finished = net.max_flow(static_cast<int32_t>(source), static_cast<int32_t>(sink),
                                     tolerance, max_work, arcs, flow);
  std::vector<int64_t> side;
  if (finished)
    for (int32_t u = 0; u < static_cast<int32_t>(n); ++u)
      if (net.reached(u)) side.push_back(u);
  auto value = at::full({}, flow, at::kDouble);
  auto nodes = at::empty({static_cast<int64_t>(side.size())}, at::kLong);
  std::copy(side.begin(), side.end(), nodes.data_ptr<int64_t>());
  auto work = at::empty({2}, at::kLong);
  work.data_ptr<int64_t>()[0] = arcs;
  work.data_ptr<int64_t>()[1] = finished ? 0 : 1;
  return {value, nodes, work};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> local_mqi_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& nodes, double total_volume,
    int64_t max_iterations, int64_t max_work) {
  const char* op = "local_mqi";
  const ContiguousGraph graph(op, rowptr, col, value, degree, std::nullopt);
  check_refine_scalars(op, total_volume, max_iterations, max_work);
  return run_mqi(graph.view, reference_set(op, graph.view, nodes, total_volume), total_volume,
                 max_iterations, max_work);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> local_flow_improve_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& nodes, double total_volume, double delta,
    int64_t max_iterations, int64_t max_work) {
  const char* op = "local_flow_improve";
  const ContiguousGraph graph(op, rowptr, col, value, degree, std::nullopt);
  check_refine_scalars(op, total_volume, max_iterations, max_work);
  check_real(op, "delta", delta, 0.0, kInf, false, true);
  return run_flow_improve(graph.view, reference_set(op, graph.view, nodes, total_volume),
                          total_volume, delta, max_iterations, max_work);
}

}  // namespace cpu

namespace {
void register_kernels(torch::Library& m) {
  m.impl("local_max_flow", &cpu::local_max_flow_cpu);
  m.impl("local_mqi", &cpu::local_mqi_cpu);
  m.impl("local_flow_improve", &cpu::local_flow_improve_cpu);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CPU, register_kernels)
// CUDA tensors reach the checks too (ValueError: the refinements run on CPU only).
NOISYGRAPH_REGISTER_WITH_SPARSE(CUDA, register_kernels)

}  // namespace noisygraph
