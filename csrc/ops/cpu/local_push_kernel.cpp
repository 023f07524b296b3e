// CPU kernels of the strongly-local push diffusions (flow diffusion, ACL PageRank) and the
// sweep cut. Queries of a batch run in parallel (at::parallel_for); each thread owns one
// workspace whose size follows the explored region, never the graph (see ops/local_push.h).
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

// No fused multiply-adds the source does not write: the push solvers' supports, push counts
// and stopping points follow comparisons of rounded values, so they round as their Python
// reference (ops/_reference/local_push.py) does on every CPU. With contraction (-march=native on
// an FMA machine) the flow solver's push count on a 400-cycle moved 0.5 % off the reference's.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "ops/common/csr_checks.h"
#include "ops/cpu/local_graph.h"
#include "ops/local_push.h"

namespace noisygraph {
namespace {

// Per-thread scratch memory. `slot` maps a global node to its local index (-1: untouched);
// it is sized to the largest graph seen by this thread once, and a query restores only the
// entries it set, so a query costs O(explored volume).
struct Workspace {
  std::vector<int32_t> slot;
  std::vector<int64_t> nodes;  // local -> global
  std::vector<double> x;       // potential (flow) or p (PageRank)
  std::vector<double> m;       // mass (flow) or residual r (PageRank)
  std::vector<uint8_t> queued;
  std::vector<uint8_t> row_checked;  // whether this query validated the node's row
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
  std::vector<int32_t> support;        // flow CG: local indices with x > 0
  std::vector<int32_t> support_index;  // flow CG: local index -> position in support (-1)
  std::vector<double> cg_y, cg_r, cg_z, cg_p, cg_q, cg_d;  // flow CG vectors
  std::vector<double> saved_x, saved_m;  // flow_try: the state to restore
  std::vector<double> level_x, last_level_x;  // fused flow: x after the two previous levels
  struct Neighbour {
    int32_t local;
    double weight, x, phi;  // phi: the flow to it before the push
  };
  std::vector<Neighbour> pnorm_row;  // p-norm push: the pushed node's row (no self-loops)
  struct BoundaryEdge {
    int32_t inner, outer;  // local ids: inside and outside the support
    double weight, d, phi;  // d = x_inner - x_outer; phi: its flow before the lift
  };
  std::vector<BoundaryEdge> pnorm_boundary;  // p-norm lift: the edges leaving the support

  void prepare(int64_t num_nodes) {
    if (static_cast<int64_t>(slot.size()) < num_nodes) slot.resize(num_nodes, -1);
  }
  // The local index of node v (in [0, num_nodes)), adding it on first touch. The first touch
  // and the first read of a row are out of line, so the hot loops stay small.
  int32_t local(int64_t v, const GraphView& g) {
    const int32_t i = slot[v];
    return C10_LIKELY(i >= 0) ? i : add(v, g);
  }
  C10_NOINLINE int32_t add(int64_t v, const GraphView& g) {
    g.check_node(v);
    TORCH_CHECK(nodes.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()), g.op,
                ": a query touched more than 2^31 - 1 nodes");
    const int32_t i = static_cast<int32_t>(nodes.size());
    slot[v] = i;
    nodes.push_back(v);
    x.push_back(0.0);
    m.push_back(0.0);
    queued.push_back(0);
    row_checked.push_back(0);
    return i;
  }
  // [begin, end) of the row of local node i, validated the first time this query reads it.
  std::pair<int64_t, int64_t> row(int32_t i, const GraphView& g) {
    const int64_t v = nodes[i];
    if (C10_UNLIKELY(!row_checked[i])) check_row(i, g);
    return {g.rowptr[v], g.rowptr[v + 1]};
  }
  C10_NOINLINE void check_row(int32_t i, const GraphView& g) {
    g.check_row(nodes[i]);
    row_checked[i] = 1;
  }
  void push_queue(int32_t i) {
    queued[i] = 1;
    queue.push_back(i);
  }
  // Empties the queue (a new level rebuilds it in order of first touch).
  void clear_queue() {
    for (size_t k = head; k < queue.size(); ++k) queued[queue[k]] = 0;
    queue.clear();
    head = 0;
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
    row_checked.clear();
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
  bool stopped_at_limit = false;  // some push loop ended at max_pushes with work left
};

// ---------------------------------------------------------------- flow diffusion
// Projected (over-relaxed) coordinate descent on
//   min_x 1/2 x^T L x + x^T (T - Delta),  x >= 0,
// whose gradient at node i is T_i - m_i (m: mass after the flows x). A node whose excess
// m_i - T_i exceeds eps moves x_i by omega * excess / w_i (omega = 1: exactly to its sink;
// 1 < omega < 2 over-relaxes, which converges in far fewer pushes on weakly connected
// regions); with omega > 1 a node may overshoot and is then corrected downwards (never
// below x_i = 0) when its deficit exceeds eps. The moved mass flows along the edges in
// proportion to their weight. FIFO order; stops when no node is active or after max_pushes
// pushes (one call of flow_solve: one mass level of the fused op). flow_solve can
// interleave the pushes with conjugate-gradient rounds on the support (flow_cg).
inline bool flow_active(const Workspace& ws, int32_t i, double sink_v, double eps) {
  const double excess = ws.m[i] - sink_v;
  return excess > eps || (excess < -eps && ws.x[i] > 0.0);
}

// Whether a queued node could still push (the queue holds every active node).
template <typename CanPush>
bool queue_has_work(const Workspace& ws, const CanPush& can_push) {
  for (size_t k = ws.head; k < ws.queue.size(); ++k)
    if (can_push(ws.queue[k])) return true;
  return false;
}

// Pushes until no node is active or `budget` pushes were made; returns the pushes made.
int64_t flow_push_some(const GraphView& g, Workspace& ws, double eps, double omega,
                       int64_t budget, Work& total) {
  Work work = total;  // local counters: no shared cache lines between threads in the hot loop
  const double* sink = g.sink;
  int64_t pushes = 0;
  int32_t i;
  while (pushes < budget && ws.pop_queue(i)) {
    const int64_t v = ws.nodes[i];
    const double w_v = g.degree[v];
    if (w_v <= 0.0 || !flow_active(ws, i, sink[v], eps)) continue;
    const double excess = ws.m[i] - sink[v];
    const double step = std::max(omega * excess / w_v, -ws.x[i]);
    ws.x[i] += step;
    ws.m[i] -= step * w_v;
    ++pushes;
    const auto [begin, end] = ws.row(i, g);
    for (int64_t e = begin; e < end; ++e) {
      const int64_t u = g.col[e];
      const int32_t j = ws.local(u, g);
      ws.m[j] += g.weight(e) * step;
      if (!ws.queued[j] && flow_active(ws, j, sink[u], eps)) ws.push_queue(j);
    }
    if (!ws.queued[i] && flow_active(ws, i, sink[v], eps)) ws.push_queue(i);  // self-loops, overshoot
    work.edges += end - begin;
  }
  work.pushes += pushes;
  total = work;
  return pushes;
}

// Moves x_i to max(next[a], 0) for the local nodes i = nodes[a] (their rows scanned once, the
// masses following) and keeps the move only if it lowers the objective
//   f(x + delta) - f(x) = sum_i delta_i (T_i - (m_i + m'_i) / 2)  (m, m': masses before, after),
// else restores x and m. Used by the CG rounds and the level extrapolation.
void flow_try(const GraphView& g, Workspace& ws, const std::vector<int32_t>& nodes,
              const std::vector<double>& next, Work& total) {
  const double* sink = g.sink;
  const size_t n = ws.nodes.size();
  auto& old = ws.saved_x;
  old.resize(nodes.size());
  ws.saved_m.assign(ws.m.begin(), ws.m.end());
  int64_t edges = 0;
  for (size_t a = 0; a < nodes.size(); ++a) {
    const int32_t i = nodes[a];
    const double target = std::max(next[a], 0.0);
    const double delta = target - ws.x[i];
    old[a] = ws.x[i];
    if (delta == 0.0) continue;
    ws.x[i] = target;
    ws.m[i] -= delta * g.degree[ws.nodes[i]];
    const auto [begin, end] = ws.row(i, g);
    for (int64_t e = begin; e < end; ++e) {
      const int32_t j = ws.local(g.col[e], g);
      ws.m[j] += g.weight(e) * delta;
    }
    edges += end - begin;
  }
  double change = 0.0;
  for (size_t a = 0; a < nodes.size(); ++a) {
    const int32_t i = nodes[a];
    const double delta = ws.x[i] - old[a];
    change += delta * (sink[ws.nodes[i]] - 0.5 * ws.saved_m[i] - 0.5 * ws.m[i]);
  }
  if (!(change < 0.0)) {
    for (size_t a = 0; a < nodes.size(); ++a) ws.x[nodes[a]] = old[a];
    for (size_t i = 0; i < ws.m.size(); ++i) ws.m[i] = i < n ? ws.saved_m[i] : 0.0;
  }
  total.edges += edges;
}

// Level extrapolation of the fused op: on a fixed support the optimum is affine in the
// source mass, so after levels a_{k-2} < a_{k-1} (potentials x'' and x) the next level a_k
// starts from x + ratio (x - x''), ratio = (a_k - a_{k-1}) / (a_{k-1} - a_{k-2}), clipped to
// x >= 0 and kept only if it lowers the objective (flow_try). ws.level_x holds x''.
void flow_extrapolate(const GraphView& g, Workspace& ws, double ratio, Work& total) {
  auto& nodes = ws.support;
  auto& next = ws.cg_y;
  nodes.clear();
  next.clear();
  for (size_t i = 0; i < ws.nodes.size(); ++i) {
    const double before = i < ws.level_x.size() ? ws.level_x[i] : 0.0;
    if (ws.x[i] == before) continue;
    nodes.push_back(static_cast<int32_t>(i));
    next.push_back(ws.x[i] + ratio * (ws.x[i] - before));
  }
  flow_try(g, ws, nodes, next, total);
}

// One conjugate-gradient round on the current support S = {i : x_i > 0} (skipped when no edge
// of positive weight leaves S: L_SS is then singular): with x = 0 off S,
// the excess on S is m_S - T_S = (Delta - T)_S - L_SS x_S, the residual of the linear system
// L_SS x_S = (Delta - T)_S that the optimum satisfies on its support. Jacobi-preconditioned CG
// (preconditioner: the weighted degrees) runs from the current x_S for at most `max_iters`
// iterations or until every |excess| on S is at most eps / 2; the result, clipped to x >= 0,
// replaces x (the masses follow: one pass over the rows of S) only if it lowers the
// objective, so the round never undoes progress and the pushes that follow converge as
// before. Every matrix-vector product and the mass update count their edge scans.
void flow_cg(const GraphView& g, Workspace& ws, double eps, int64_t max_iters, Work& total) {
  const double* sink = g.sink;
  const size_t n = ws.nodes.size();
  auto& support = ws.support;
  support.clear();
  ws.support_index.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (ws.x[i] > 0.0) {
      ws.support_index[i] = static_cast<int32_t>(support.size());
      support.push_back(static_cast<int32_t>(i));
    }
  }
  const size_t k = support.size();
  if (k == 0) return;
  auto& y = ws.cg_y;
  auto& r = ws.cg_r;
  auto& z = ws.cg_z;
  auto& p = ws.cg_p;
  auto& q = ws.cg_q;
  auto& d = ws.cg_d;
  for (auto* vec : {&y, &r, &z, &p, &q, &d}) vec->assign(k, 0.0);
  double rz = 0.0, largest = 0.0;
  for (size_t a = 0; a < k; ++a) {
    const int32_t i = support[a];
    const int64_t v = ws.nodes[i];
    y[a] = ws.x[i];
    r[a] = ws.m[i] - sink[v];
    d[a] = g.degree[v];
    z[a] = r[a] / d[a];
    p[a] = z[a];
    rz += r[a] * z[a];
    largest = std::max(largest, std::abs(r[a]));
  }
  int64_t edges = 0;
  const double tolerance = 0.5 * eps;
  bool open = false;  // whether an edge of positive weight leaves S (else L_SS is singular)
  for (int64_t it = 0; it < max_iters && largest > tolerance; ++it) {
    for (size_t a = 0; a < k; ++a) {  // q = L_SS p
      double s = d[a] * p[a];
      const auto [begin, end] = ws.row(support[a], g);
      for (int64_t e = begin; e < end; ++e) {
        const int32_t j = ws.slot[g.col[e]];
        const int32_t b = j < 0 ? -1 : ws.support_index[j];
        if (b >= 0) {
          s -= g.weight(e) * p[b];
        } else if (g.weight(e) > 0.0) {
          open = true;
        }
      }
      q[a] = s;
      edges += end - begin;
    }
    if (!open) {  // S is a whole component: the mass cannot settle there, leave it to the pushes
      total.edges += edges;
      return;
    }
    double pq = 0.0;
    for (size_t a = 0; a < k; ++a) pq += p[a] * q[a];
    if (!(pq > 0.0) || !std::isfinite(pq)) break;
    const double alpha = rz / pq;
    double rz_next = 0.0;
    largest = 0.0;
    for (size_t a = 0; a < k; ++a) {
      y[a] += alpha * p[a];
      r[a] -= alpha * q[a];
      z[a] = r[a] / d[a];
      rz_next += r[a] * z[a];
      largest = std::max(largest, std::abs(r[a]));
    }
    if (!(rz > 0.0)) break;
    const double beta = rz_next / rz;
    rz = rz_next;
    for (size_t a = 0; a < k; ++a) p[a] = z[a] + beta * p[a];
  }
  total.edges += edges;
  flow_try(g, ws, support, y, total);
}

// Rebuilds the queue from every touched node still active, in order of first touch (the
// start of a warm-started level: after a level that stopped at max_pushes, the nodes it left
// active continue; the Python reference does the same).
void flow_requeue(const GraphView& g, Workspace& ws, double eps) {
  ws.clear_queue();
  for (size_t i = 0; i < ws.nodes.size(); ++i) {
    const int32_t k = static_cast<int32_t>(i);
    if (flow_active(ws, k, g.sink[ws.nodes[i]], eps)) ws.push_queue(k);
  }
}

// Adds `scale * source_mass` at the sources and queues those over their sink.
void flow_add_sources(const GraphView& g, Workspace& ws, const int64_t* source_nodes,
                      const double* source_mass, int64_t begin, int64_t end, double scale,
                      double eps) {
  for (int64_t k = begin; k < end; ++k) {
    const int64_t v = source_nodes[k];
    const int32_t i = ws.local(v, g);
    ws.m[i] += scale * source_mass[k];
    if (!ws.queued[i] && flow_active(ws, i, g.sink[v], eps)) ws.push_queue(i);
  }
}

// Round budget of the accelerated solver: pushes between two CG rounds, per touched node.
constexpr int64_t kRoundPushesPerNode = 2;
constexpr int64_t kRoundPushesMin = 16;

// One flow diffusion (a mass level): pushes; with cg_iters > 0, after every round of
// kRoundPushesMin + kRoundPushesPerNode * (touched nodes) pushes that leaves work, a CG round
// on the support (flow_cg, at most cg_iters iterations) and the queue rebuilt. It ends when no
// node is active (the pushes' stopping rule: every |excess| <= eps where x > 0, excess <= eps
// elsewhere) or after max_pushes pushes in all, then flagged if work is left. The CG rounds
// are bounded too: one per round, and every round but the last makes its full budget of
// pushes.
void flow_solve(const GraphView& g, Workspace& ws, double eps, double omega, int64_t max_pushes,
                int64_t cg_iters, Work& work) {
  int64_t remaining = max_pushes;
  while (true) {
    const int64_t round = kRoundPushesMin +
                          kRoundPushesPerNode * static_cast<int64_t>(ws.nodes.size());
    const int64_t budget = cg_iters == 0 ? remaining : std::min(remaining, round);
    const int64_t used = flow_push_some(g, ws, eps, omega, budget, work);
    remaining -= used;
    if (used < budget || remaining == 0) break;
    flow_cg(g, ws, eps, cg_iters, work);
    flow_requeue(g, ws, eps);
  }
  if (remaining == 0) {
    work.stopped_at_limit |= queue_has_work(ws, [&](int32_t k) {
      const int64_t u = ws.nodes[k];
      return g.degree[u] > 0.0 && flow_active(ws, k, g.sink[u], eps);
    });
  }
}

// ---------------------------------------------------------------- p-norm flow diffusion
// The dual of p-norm flow diffusion (p in [2, inf), q = p / (p - 1) in (1, 2]):
//   min_{x >= 0} (1/q) sum_{edges uv} w_uv |x_u - x_v|^q + x^T (T - Delta),
// whose gradient at node i is T_i - m_i with the mass m_i = Delta_i - sum_j w_ij phi(x_i - x_j),
// phi(d) = sign(d) |d|^(q-1) (the flow on edge ij). The coordinate method of the paper: a node
// whose excess m_i - T_i exceeds eps moves x_i to the root of m_i(x_i) = T_i (a 1-D increasing
// equation: Newton steps safeguarded by bisection inside a bracket, accepted within eps / 2),
// the neighbours' masses following the changed flows; a node with x_i > 0 whose deficit
// exceeds eps moves down the same way (never below 0). For q < 2 a flow reacts steeply to a
// small potential difference, so a region of nearly equal potentials rises only in tiny
// coordinate steps; after every round of kRoundPushesMin + kRoundPushesPerNode * (touched
// nodes) pushes that leaves work, a lift moves the whole support S = {x > 0} up by the c >= 0
// that cancels its total excess (the exact line minimisation along the indicator of S: only
// the flows across S's boundary change), and the pushes then restore the conditions node by
// node. FIFO order; stops when no node is active or after max_pushes pushes.
struct PNormExponent {
  double q;       // p / (p - 1)
  double power;   // q - 1 = 1 / (p - 1), the exponent of phi
  bool linear;    // p == 2: phi(d) = d
  double phi(double d) const {
    if (linear) return d;
    const double a = std::pow(std::abs(d), power);
    return d < 0.0 ? -a : a;
  }
  // phi^{-1}(y) for y >= 0.
  double inverse(double y) const { return linear ? y : std::pow(y, 1.0 / power); }
  // w * phi'(d) = w (q - 1) |d|^(q - 2) from phi(d) (infinite at d = 0 when q < 2).
  double slope(double w, double d, double phi_d) const {
    if (linear) return w;
    if (d != 0.0) return w * power * (phi_d / d);
    return w > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
};

constexpr int kPNormRootSteps = 200;         // root-finder iterations per solve
constexpr double kPNormRootTolerance = 0.5;  // accept |residual| <= this * eps

inline bool pnorm_active(const Workspace& ws, int32_t i, double sink_v, double eps) {
  const double excess = ws.m[i] - sink_v;
  return excess > eps || (excess < -eps && ws.x[i] > 0.0);
}

// The root of an increasing h on [lo, hi] (h(lo) < 0 < h(hi) as far as known) from the trial
// t: Newton steps, bisection when a step leaves the bracket; returns the trial of least
// |h| seen, at once when |h| <= tolerance. `eval(t, slope)` returns h(t) and sets its slope.
template <typename Eval>
double pnorm_root(double lo, double hi, double t, double tolerance, const Eval& eval) {
  double best_t = t, best_h = std::numeric_limits<double>::infinity();
  for (int step = 0; step < kPNormRootSteps; ++step) {
    double slope = 0.0;
    const double h = eval(t, slope);
    if (std::abs(h) < std::abs(best_h)) {
      best_t = t;
      best_h = h;
    }
    if (std::abs(h) <= tolerance) break;
    if (h < 0.0) lo = t; else hi = t;
    double next = t - h / slope;
    if (!(next > lo && next < hi)) next = lo + 0.5 * (hi - lo);
    if (!(next > lo && next < hi)) break;  // the bracket holds no other double
    t = next;
  }
  return best_t;
}

// Moves x_i of active node i to the root of m_i(t) = T_i (excess: upwards; deficit:
// downwards, to 0 when even x_i = 0 leaves a deficit); returns false (nothing changes) when
// i has no edge of positive weight to another node. Counts the row scan, every evaluation of
// the equation and the mass update as edge scans.
bool pnorm_push_node(const GraphView& g, Workspace& ws, int32_t i, const PNormExponent& e,
                     double eps, Work& work) {
  const int64_t v = ws.nodes[i];
  const double x_i = ws.x[i];
  const double excess = ws.m[i] - g.sink[v];
  auto& row = ws.pnorm_row;
  row.clear();
  const auto [begin, end] = ws.row(i, g);
  double w_eff = 0.0, base = 0.0, x_max = x_i;
  for (int64_t k = begin; k < end; ++k) {
    const int64_t u = g.col[k];
    if (u == v) continue;  // a self-loop carries no flow
    const int32_t j = ws.local(u, g);
    const double w = g.weight(k);
    const double xj = ws.x[j];
    const double f = w * e.phi(x_i - xj);
    row.push_back({j, w, xj, f});
    w_eff += w;
    base += f;
    x_max = std::max(x_max, xj);
  }
  work.edges += end - begin;
  if (!(w_eff > 0.0)) return false;
  const int64_t n = static_cast<int64_t>(row.size());
  // h(t) = sum_j w_ij phi(t - x_j) - (base + excess): increasing, h(x_i) = -excess.
  const double target = base + excess;
  auto eval = [&](double t, double& slope) {
    double h = -target;
    slope = 0.0;
    for (const auto& nb : row) {
      const double d = t - nb.x;
      const double f = e.phi(d);
      h += nb.weight * f;
      slope += e.slope(nb.weight, d, f);
    }
    work.edges += n;
    return h;
  };
  const double tolerance = kPNormRootTolerance * eps;
  double t;
  if (excess > 0.0) {
    // h >= 0 from hi = max_j x_j + phi^{-1}(max(base + excess, 0) / w_eff) on.
    const double hi = x_max + e.inverse(std::max(target, 0.0) / w_eff);
    TORCH_CHECK_VALUE(std::isfinite(hi), g.op, ": p = ", 1.0 + 1.0 / e.power,
                      " makes the potentials overflow float64 (excess ", excess, " at node ",
                      v, "); use a smaller p");
    // First trial: the root when every neighbour sits at x_i (exact for p = 2).
    t = pnorm_root(x_i, hi, std::min(x_i + e.inverse(excess / w_eff), hi), tolerance, eval);
  } else {
    double slope = 0.0;
    const double at_zero = eval(0.0, slope);
    t = at_zero >= -tolerance
            ? 0.0
            : pnorm_root(0.0, x_i, std::max(0.0, x_i - e.inverse(-excess / w_eff)), tolerance,
                         eval);
  }
  double moved = 0.0;
  for (const auto& nb : row) {
    const double delta = nb.weight * e.phi(t - nb.x) - nb.phi;
    ws.m[nb.local] += delta;
    moved += delta;
  }
  ws.m[i] -= moved;
  ws.x[i] = t;
  work.edges += n;
  return true;
}

// The lift: with S = {x > 0} and E = its total excess > eps / 2, raises x_S by the root c >= 0
// of sum_{boundary edges ij} w_ij (phi(x_i + c - x_j) - phi(x_i - x_j)) = E (i in S, j not).
// Skipped when S is empty, E small, or no edge of positive weight leaves S. Counts the scan
// of S's rows, every evaluation and the mass update as edge scans.
void pnorm_lift(const GraphView& g, Workspace& ws, const PNormExponent& e, double eps,
                Work& work) {
  const size_t n = ws.nodes.size();
  auto& support = ws.support;
  support.clear();
  ws.support_index.assign(n, -1);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (ws.x[i] > 0.0) {
      ws.support_index[i] = static_cast<int32_t>(support.size());
      support.push_back(static_cast<int32_t>(i));
      total += ws.m[i] - g.sink[ws.nodes[i]];
    }
  }
  const double tolerance = kPNormRootTolerance * eps;
  if (support.empty() || !(total > tolerance)) return;
  auto& edges = ws.pnorm_boundary;
  edges.clear();
  double w_total = 0.0, base = 0.0, d_min = std::numeric_limits<double>::infinity();
  for (const int32_t i : support) {
    const auto [begin, end] = ws.row(i, g);
    for (int64_t k = begin; k < end; ++k) {
      const int32_t j = ws.local(g.col[k], g);
      const double w = g.weight(k);
      const bool inside = static_cast<size_t>(j) < n && ws.support_index[j] >= 0;
      if (inside || !(w > 0.0)) continue;  // inside S (self-loops too) or no flow
      const double d = ws.x[i] - ws.x[j];
      const double f = w * e.phi(d);
      edges.push_back({i, j, w, d, f});
      w_total += w;
      base += f;
      d_min = std::min(d_min, d);
    }
    work.edges += end - begin;
  }
  if (edges.empty()) return;  // S is a whole component: the mass cannot leave it
  const int64_t count = static_cast<int64_t>(edges.size());
  auto eval = [&](double c, double& slope) {
    double h = -(base + total);
    slope = 0.0;
    for (const auto& b : edges) {
      const double d = b.d + c;
      const double f = e.phi(d);
      h += b.weight * f;
      slope += e.slope(b.weight, d, f);
    }
    work.edges += count;
    return h;
  };
  // h >= 0 from hi on: every boundary difference is then >= phi^{-1}((base + E) / w_total).
  const double hi = std::max(0.0, e.inverse(std::max(base + total, 0.0) / w_total) - d_min);
  TORCH_CHECK_VALUE(std::isfinite(hi), g.op, ": p = ", 1.0 + 1.0 / e.power,
                    " makes the potentials overflow float64; use a smaller p");
  const double c =
      pnorm_root(0.0, hi, std::min(e.inverse(total / w_total), hi), tolerance, eval);
  if (!(c > 0.0)) return;
  for (const auto& b : edges) {
    const double delta = b.weight * e.phi(b.d + c) - b.phi;
    ws.m[b.outer] += delta;
    ws.m[b.inner] -= delta;
  }
  for (const int32_t i : support) ws.x[i] += c;
  work.edges += count;
}

// Pushes until no node is active or `budget` pushes were made; returns the pushes made.
int64_t pnorm_push_some(const GraphView& g, Workspace& ws, const PNormExponent& e, double eps,
                        int64_t budget, Work& total) {
  Work work = total;
  int64_t pushes = 0;
  int32_t i;
  const double* sink = g.sink;
  while (pushes < budget && ws.pop_queue(i)) {
    if (!pnorm_active(ws, i, sink[ws.nodes[i]], eps)) continue;
    if (!pnorm_push_node(g, ws, i, e, eps, work)) continue;
    ++pushes;
    for (const auto& nb : ws.pnorm_row) {
      const int32_t j = nb.local;
      if (!ws.queued[j] && pnorm_active(ws, j, sink[ws.nodes[j]], eps)) ws.push_queue(j);
    }
    if (!ws.queued[i] && pnorm_active(ws, i, sink[ws.nodes[i]], eps)) ws.push_queue(i);
  }
  work.pushes += pushes;
  total = work;
  return pushes;
}

// Rebuilds the queue from every touched active node, in order of first touch.
void pnorm_requeue(const GraphView& g, Workspace& ws, double eps) {
  ws.clear_queue();
  for (size_t k = 0; k < ws.nodes.size(); ++k) {
    const int32_t i = static_cast<int32_t>(k);
    if (pnorm_active(ws, i, g.sink[ws.nodes[k]], eps)) ws.push_queue(i);
  }
}

// One mass level: rounds of pushes, a lift after every full round that leaves work, until no
// node is active or max_pushes pushes in all (then flagged if a node could still push).
void pnorm_solve(const GraphView& g, Workspace& ws, const PNormExponent& e, double eps,
                 int64_t max_pushes, Work& work) {
  int64_t remaining = max_pushes;
  while (true) {
    const int64_t round = kRoundPushesMin +
                          kRoundPushesPerNode * static_cast<int64_t>(ws.nodes.size());
    const int64_t budget = std::min(remaining, round);
    const int64_t used = pnorm_push_some(g, ws, e, eps, budget, work);
    remaining -= used;
    if (used < budget || remaining == 0) break;
    pnorm_lift(g, ws, e, eps, work);
    pnorm_requeue(g, ws, eps);
  }
  if (remaining == 0) {
    const double* sink = g.sink;
    work.stopped_at_limit |= queue_has_work(ws, [&](int32_t k) {
      const int64_t u = ws.nodes[k];
      if (!pnorm_active(ws, k, sink[u], eps)) return false;
      const auto [begin, end] = ws.row(k, g);  // validated before it is read
      for (int64_t r = begin; r < end; ++r)
        if (g.col[r] != u && g.weight(r) > 0.0) return true;
      return false;
    });
  }
}

// The start of a level: the queue rebuilt from every touched active node, then
// `scale * source_mass` added at the sources (queued when active).
void pnorm_start_level(const GraphView& g, Workspace& ws, const int64_t* source_nodes,
                       const double* source_mass, int64_t begin, int64_t end, double scale,
                       double eps) {
  pnorm_requeue(g, ws, eps);
  for (int64_t k = begin; k < end; ++k) {
    const int64_t v = source_nodes[k];
    const int32_t i = ws.local(v, g);
    ws.m[i] += scale * source_mass[k];
    if (!ws.queued[i] && pnorm_active(ws, i, g.sink[v], eps)) ws.push_queue(i);
  }
}

// ---------------------------------------------------------------- ACL PageRank push
// A node whose residual exceeds eps * degree keeps alpha of it in p and spreads the rest to
// its neighbours in proportion to edge weight (non-lazy ACL). At most max_pushes pushes per
// call (one tolerance level of the fused op).
void ppr_push(const GraphView& g, Workspace& ws, double alpha, double eps, int64_t max_pushes,
              Work& total) {
  Work work = total;
  int64_t pushes = 0;
  int32_t i;
  while (pushes < max_pushes && ws.pop_queue(i)) {
    const int64_t v = ws.nodes[i];
    const double r = ws.m[i];
    const double d_v = g.degree[v];
    if (d_v <= 0.0 || r <= eps * d_v) continue;
    ws.x[i] += alpha * r;
    ws.m[i] = 0.0;
    const double spread = (1.0 - alpha) * r / d_v;
    ++pushes;
    const auto [begin, end] = ws.row(i, g);
    for (int64_t e = begin; e < end; ++e) {
      const int64_t u = g.col[e];
      const int32_t j = ws.local(u, g);
      ws.m[j] += spread * g.weight(e);
      if (!ws.queued[j] && ws.m[j] > eps * g.degree[u]) ws.push_queue(j);
    }
    work.edges += end - begin;
  }
  if (pushes == max_pushes) {
    work.stopped_at_limit |= queue_has_work(ws, [&](int32_t k) {
      const double d = g.degree[ws.nodes[k]];
      return d > 0.0 && ws.m[k] > eps * d;
    });
  }
  work.pushes += pushes;
  total = work;
}

void ppr_add_sources(const GraphView& g, Workspace& ws, const int64_t* source_nodes,
                     const double* source_mass, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; ++k) {
    const int32_t i = ws.local(source_nodes[k], g);
    ws.m[i] += source_mass[k];
  }
}

// Rebuilds the queue from every touched node that is active under tolerance eps, in order
// of first touch (the start of a push, and of every PageRank level that lowers the tolerance).
void ppr_requeue(const GraphView& g, Workspace& ws, double eps) {
  ws.clear_queue();
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
    const auto [begin, end] = ws.row(i, g);
    for (int64_t e = begin; e < end; ++e) {
      const int64_t u = g.col[e];
      if (u == v) {
        loop += g.weight(e);
        continue;
      }
      const int32_t j = ws.slot[u];
      if (j >= 0 && ws.in_set[j]) to_set += g.weight(e);
    }
    work.edges += end - begin;
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
// (the graph's: ContiguousGraph, ops/cpu/local_graph.h)
// A batch of queries: ptr [B + 1] into node ids [S] in [0, N) and per-entry values [S]
// (masses: finite >= 0; scores: finite), all checked here (O(B + S)).
struct Queries {
  at::Tensor ptr, nodes, values;
  int64_t count = 0;

  Queries(const char* op, const char* ptr_name, const char* nodes_name, const char* values_name,
          const at::Tensor& ptr_, const at::Tensor& nodes_, const at::Tensor& values_,
          int64_t num_nodes, Entries entries) {
    nodes = check_node_ids(op, nodes_name, nodes_, num_nodes);
    ptr = check_ptr(op, ptr_name, ptr_, nodes.numel(), nodes_name);
    values = check_float64_vector(op, values_name, values_, nodes.numel(), entries);
    count = ptr.numel() - 1;
  }
  const int64_t* p() const { return ptr.data_ptr<int64_t>(); }
  const int64_t* node() const { return nodes.data_ptr<int64_t>(); }
  const double* value() const { return values.data_ptr<double>(); }
};

Queries sources(const char* op, const at::Tensor& source_ptr, const at::Tensor& source_nodes,
                const at::Tensor& source_mass, int64_t num_nodes) {
  return Queries(op, "source_ptr", "source_nodes", "source_mass", source_ptr, source_nodes,
                 source_mass, num_nodes, Entries::kFiniteNonnegative);
}

void check_max_pushes(const char* op, int64_t max_pushes) {
  TORCH_CHECK_VALUE(max_pushes >= 0, op, ": max_pushes must be >= 0, got ", max_pushes);
}

void check_cg_iters(const char* op, int64_t cg_iters) {
  TORCH_CHECK_VALUE(cg_iters >= 0, op, ": cg_iters must be >= 0, got ", cg_iters);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// p finite and >= 2 (the paper's strongly-local range); its exponents.
PNormExponent pnorm_exponent(const char* op, double p) {
  check_real(op, "p", p, 2.0, kInf, false, true);
  return PNormExponent{p / (p - 1.0), 1.0 / (p - 1.0), p == 2.0};
}

// A non-empty 1-D float64 list of finite positive levels, ascending (or descending).
at::Tensor check_levels(const char* op, const char* name, const at::Tensor& levels,
                        bool ascending) {
  TORCH_CHECK_VALUE(levels.dim() == 1 && levels.numel() >= 1, op, ": ", name,
                    " must be a non-empty 1-D tensor, got shape ", levels.sizes());
  auto c = check_float64_vector(op, name, levels, levels.numel(), Entries::kFinite);
  const double* l = c.data_ptr<double>();
  for (int64_t a = 0; a < c.numel(); ++a) {
    TORCH_CHECK_VALUE(l[a] > 0.0, op, ": ", name, "[", a, "] = ", l[a], " must be > 0");
    TORCH_CHECK_VALUE(a == 0 || (ascending ? l[a] >= l[a - 1] : l[a] <= l[a - 1]), op, ": ",
                      name, " must be ", ascending ? "ascending" : "descending", ", but ", name,
                      "[", a - 1, "] = ", l[a - 1], " and ", name, "[", a, "] = ", l[a]);
  }
  return c;
}

// The checked inputs of a fused flow op (local_flow_cluster, local_pnorm_cluster): the graph
// and its sinks, the queries, the multiples (check_levels, ascending), eps > 0, max_pushes >= 0,
// total_volume >= 0, and the largest source mass max(source_mass) * multiples[-1] finite.
struct FlowClusterInputs {
  ContiguousGraph graph;
  Queries src;
  at::Tensor multiples;  // contiguous float64, owns `mult`
  const double* mult;
  int64_t num_levels;

  FlowClusterInputs(const char* op, NOISYGRAPH_FLOW_OP_ARGS, const at::Tensor& multiples_,
                    double eps, int64_t max_pushes, double total_volume)
      : graph(op, rowptr, col, value, degree, sink),
        src(sources(op, source_ptr, source_nodes, source_mass, graph.view.num_nodes)),
        multiples(check_levels(op, "multiples", multiples_, /*ascending=*/true)) {
    check_real(op, "eps", eps, 0.0, kInf, true, true);
    check_max_pushes(op, max_pushes);
    check_real(op, "total_volume", total_volume, 0.0, kInf, false, true);
    mult = multiples.data_ptr<double>();
    num_levels = multiples.numel();
    if (src.nodes.numel() > 0) {
      const double largest = src.values.max().item<double>() * mult[num_levels - 1];
      TORCH_CHECK_VALUE(std::isfinite(largest), op, ": multiples[-1] * max(source_mass) = ",
                        largest, " is not finite");
    }
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

// [B, 3] (pushes, edges, stopped_at_limit) for the push ops, [B, 2] for the sweep cut.
at::Tensor work_tensor(const std::vector<Work>& works, bool with_limit_flag) {
  const int64_t columns = with_limit_flag ? 3 : 2;
  auto out = at::empty({static_cast<int64_t>(works.size()), columns}, at::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  for (size_t q = 0; q < works.size(); ++q) {
    o[columns * q] = works[q].pushes;
    o[columns * q + 1] = works[q].edges;
    if (with_limit_flag) o[columns * q + 2] = works[q].stopped_at_limit ? 1 : 0;
  }
  return out;
}

// Copies the touched nodes (and two per-node arrays) of a workspace into a block.
void snapshot(const Workspace& ws, Block& block) {
  block.nodes = ws.nodes;
  block.a = ws.x;
  block.b = ws.m;
}

// Runs `body(query, workspace)` for every query in parallel, one workspace per thread. An
// input error found inside a query is rethrown here (at::parallel_for keeps its type).
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
}  // namespace

// The kernels of ops/local_push.h.
namespace cpu {

PushOutputs local_flow_diffusion_cpu(NOISYGRAPH_FLOW_OP_ARGS, double eps, double omega,
                                     int64_t max_pushes, int64_t cg_iters) {
  const char* op = "local_flow_diffusion";
  const ContiguousGraph graph(op, rowptr, col, value, degree, sink);
  const GraphView& g = graph.view;
  const Queries src = sources(op, source_ptr, source_nodes, source_mass, g.num_nodes);
  check_real(op, "eps", eps, 0.0, kInf, true, true);
  check_real(op, "omega", omega, 0.0, 2.0, true, true);
  check_max_pushes(op, max_pushes);
  check_cg_iters(op, cg_iters);
  std::vector<Block> blocks(src.count);
  std::vector<Work> works(src.count);
  for_each_query(src.count, g.num_nodes, [&](int64_t q, Workspace& ws) {
    flow_add_sources(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1], 1.0, eps);
    flow_solve(g, ws, eps, omega, max_pushes, cg_iters, works[q]);
    snapshot(ws, blocks[q]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[src.count].item<int64_t>();
  return {out_ptr, concat_nodes(blocks, total), concat_values(blocks, total, true),
          concat_values(blocks, total, false), work_tensor(works, true)};
}

PushOutputs local_pnorm_diffusion_cpu(NOISYGRAPH_FLOW_OP_ARGS, double p, double eps,
                                      int64_t max_pushes) {
  const char* op = "local_pnorm_diffusion";
  const ContiguousGraph graph(op, rowptr, col, value, degree, sink);
  const GraphView& g = graph.view;
  const Queries src = sources(op, source_ptr, source_nodes, source_mass, g.num_nodes);
  const PNormExponent exponent = pnorm_exponent(op, p);
  check_real(op, "eps", eps, 0.0, kInf, true, true);
  check_max_pushes(op, max_pushes);
  std::vector<Block> blocks(src.count);
  std::vector<Work> works(src.count);
  for_each_query(src.count, g.num_nodes, [&](int64_t q, Workspace& ws) {
    pnorm_start_level(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1], 1.0, eps);
    pnorm_solve(g, ws, exponent, eps, max_pushes, works[q]);
    snapshot(ws, blocks[q]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[src.count].item<int64_t>();
  return {out_ptr, concat_nodes(blocks, total), concat_values(blocks, total, true),
          concat_values(blocks, total, false), work_tensor(works, true)};
}

PushOutputs local_ppr_push_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& source_ptr, const at::Tensor& source_nodes,
    const at::Tensor& source_mass, double alpha, double eps, int64_t max_pushes) {
  const char* op = "local_ppr_push";
  const ContiguousGraph graph(op, rowptr, col, value, degree, std::nullopt);
  const GraphView& g = graph.view;
  const Queries src = sources(op, source_ptr, source_nodes, source_mass, g.num_nodes);
  check_real(op, "alpha", alpha, 0.0, 1.0, true, false);
  check_real(op, "eps", eps, 0.0, kInf, true, true);
  check_max_pushes(op, max_pushes);
  std::vector<Block> blocks(src.count);
  std::vector<Work> works(src.count);
  for_each_query(src.count, g.num_nodes, [&](int64_t q, Workspace& ws) {
    ppr_add_sources(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1]);
    ppr_requeue(g, ws, eps);
    ppr_push(g, ws, alpha, eps, max_pushes, works[q]);
    snapshot(ws, blocks[q]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[src.count].item<int64_t>();
  return {out_ptr, concat_nodes(blocks, total), concat_values(blocks, total, true),
          concat_values(blocks, total, false), work_tensor(works, true)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> local_sweep_cut_cpu(
    const at::Tensor& rowptr, const at::Tensor& col, const std::optional<at::Tensor>& value,
    const at::Tensor& degree, const at::Tensor& score_ptr, const at::Tensor& score_nodes,
    const at::Tensor& scores, double total_volume, bool normalize) {
  const char* op = "local_sweep_cut";
  const ContiguousGraph graph(op, rowptr, col, value, degree, std::nullopt);
  const GraphView& g = graph.view;
  const Queries sc(op, "score_ptr", "score_nodes", "scores", score_ptr, score_nodes, scores,
                   g.num_nodes, Entries::kFinite);
  check_real(op, "total_volume", total_volume, 0.0, kInf, false, true);
  std::vector<Block> blocks(sc.count);
  std::vector<Work> works(sc.count);
  std::vector<double> conductance(sc.count);
  for_each_query(sc.count, g.num_nodes, [&](int64_t q, Workspace& ws) {
    for (int64_t k = sc.p()[q]; k < sc.p()[q + 1]; ++k) {
      const int32_t i = ws.local(sc.node()[k], g);
      ws.x[i] = std::max(ws.x[i], sc.value()[k]);  // duplicates: keep the largest score
    }
    const SweepResult best = sweep(g, ws, ws.x, normalize, total_volume, works[q]);
    conductance[q] = best.conductance;
    for (int64_t k = 0; k < best.size; ++k) blocks[q].nodes.push_back(ws.nodes[ws.order[k]]);
  });
  auto out_ptr = concat_ptr(blocks);
  const int64_t total = out_ptr[sc.count].item<int64_t>();
  auto phi = at::empty({sc.count}, at::kDouble);
  std::copy(conductance.begin(), conductance.end(), phi.data_ptr<double>());
  return {out_ptr, concat_nodes(blocks, total), phi, work_tensor(works, false)};
}

// Shared driver of the fused diffuse-and-sweep ops: `start(q, ws)` seeds query q,
// `advance(q, level, ws, work)` runs one level of the diffusion (at most max_pushes pushes).
template <typename Start, typename Advance>
ClusterOutputs
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
          work_tensor(works, true)};
}

ClusterOutputs local_flow_cluster_cpu(NOISYGRAPH_FLOW_OP_ARGS, const at::Tensor& multiples,
                                      double eps, double omega, int64_t max_pushes,
                                      double total_volume, int64_t cg_iters) {
  const char* op = "local_flow_cluster";
  const FlowClusterInputs in(op, rowptr, col, value, degree, sink, source_ptr, source_nodes,
                             source_mass, multiples, eps, max_pushes, total_volume);
  const GraphView& g = in.graph.view;
  const Queries& src = in.src;
  check_real(op, "omega", omega, 0.0, 2.0, true, true);
  check_cg_iters(op, cg_iters);
  const double* mult = in.mult;
  return cluster_levels(
      g, src.count, in.num_levels, /*normalize=*/false, total_volume,
      [](int64_t, Workspace&) {},
      [&](int64_t q, int64_t level, Workspace& ws, Work& work) {
        // Warm start: the solution grows monotonically with the source mass, so the next
        // level only adds the missing mass and keeps pushing.
        // With cg_iters > 0, from the third level on, the start is extrapolated from the two
        // previous levels (flow_extrapolate).
        const double added = mult[level] - (level > 0 ? mult[level - 1] : 0.0);
        if (cg_iters > 0) ws.last_level_x.assign(ws.x.begin(), ws.x.end());
        flow_requeue(g, ws, eps);
        flow_add_sources(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1], added, eps);
        if (cg_iters > 0 && level >= 2 && mult[level - 1] > mult[level - 2]) {
          flow_extrapolate(g, ws, added / (mult[level - 1] - mult[level - 2]), work);
          flow_requeue(g, ws, eps);
        }
        flow_solve(g, ws, eps, omega, max_pushes, cg_iters, work);
        if (cg_iters > 0) std::swap(ws.level_x, ws.last_level_x);
      });
}

ClusterOutputs local_pnorm_cluster_cpu(NOISYGRAPH_FLOW_OP_ARGS, const at::Tensor& multiples,
                                       double p, double eps, int64_t max_pushes,
                                       double total_volume) {
  const char* op = "local_pnorm_cluster";
  const FlowClusterInputs in(op, rowptr, col, value, degree, sink, source_ptr, source_nodes,
                             source_mass, multiples, eps, max_pushes, total_volume);
  const GraphView& g = in.graph.view;
  const Queries& src = in.src;
  const PNormExponent exponent = pnorm_exponent(op, p);
  const double* mult = in.mult;
  return cluster_levels(
      g, src.count, in.num_levels, /*normalize=*/false, total_volume,
      [](int64_t, Workspace&) {},
      [&](int64_t q, int64_t level, Workspace& ws, Work& work) {
        // Warm start: the solution grows monotonically with the source mass (the iterates
        // only increase), so the next level adds the missing mass and keeps pushing.
        const double added = mult[level] - (level > 0 ? mult[level - 1] : 0.0);
        pnorm_start_level(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1], added,
                          eps);
        pnorm_solve(g, ws, exponent, eps, max_pushes, work);
      });
}

ClusterOutputs
local_ppr_cluster_cpu(const at::Tensor& rowptr, const at::Tensor& col,
                      const std::optional<at::Tensor>& value, const at::Tensor& degree,
                      const at::Tensor& source_ptr, const at::Tensor& source_nodes,
                      const at::Tensor& source_mass, const at::Tensor& tolerances_,
                      double alpha, int64_t max_pushes, double total_volume) {
  const char* op = "local_ppr_cluster";
  const ContiguousGraph graph(op, rowptr, col, value, degree, std::nullopt);
  const GraphView& g = graph.view;
  const Queries src = sources(op, source_ptr, source_nodes, source_mass, g.num_nodes);
  const at::Tensor tolerances = check_levels(op, "tolerances", tolerances_, /*ascending=*/false);
  check_real(op, "alpha", alpha, 0.0, 1.0, true, false);
  check_max_pushes(op, max_pushes);
  check_real(op, "total_volume", total_volume, 0.0, kInf, false, true);
  const double* tol = tolerances.data_ptr<double>();
  return cluster_levels(
      g, src.count, tolerances.numel(), /*normalize=*/true, total_volume,
      [&](int64_t q, Workspace& ws) {
        ppr_add_sources(g, ws, src.node(), src.value(), src.p()[q], src.p()[q + 1]);
      },
      [&](int64_t, int64_t level, Workspace& ws, Work& work) {
        // Lowering the tolerance continues the same push from the current (p, r).
        ppr_requeue(g, ws, tol[level]);
        ppr_push(g, ws, alpha, tol[level], max_pushes, work);
      });
}

}  // namespace cpu

namespace {
void register_pnorm_kernels(torch::Library& m) {
  m.impl("local_pnorm_diffusion", &cpu::local_pnorm_diffusion_cpu);
  m.impl("local_pnorm_cluster", &cpu::local_pnorm_cluster_cpu);
}

void register_kernels(torch::Library& m) {
  register_pnorm_kernels(m);
  m.impl("local_flow_diffusion", &cpu::local_flow_diffusion_cpu);
  m.impl("local_ppr_push", &cpu::local_ppr_push_cpu);
  m.impl("local_sweep_cut", &cpu::local_sweep_cut_cpu);
  m.impl("local_flow_cluster", &cpu::local_flow_cluster_cpu);
  m.impl("local_ppr_cluster", &cpu::local_ppr_cluster_cpu);
}
}  // namespace

NOISYGRAPH_REGISTER_WITH_SPARSE(CPU, register_kernels)
// CUDA tensors reach the checks too (ValueError: the local diffusions run on CPU only).
NOISYGRAPH_REGISTER_WITH_SPARSE(CUDA, register_kernels)

}  // namespace noisygraph
