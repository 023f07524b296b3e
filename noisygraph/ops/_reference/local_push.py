"""Straightforward pure-Python references of the push diffusions and the sweep cut.

They follow the compiled kernels step by step (same FIFO order, same stopping rules) on
Python dictionaries, so tests can compare values, and they are the fallback when the
compiled library is not built (slow: use them on small graphs only).
"""
from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:  # the references read only a LocalGraph's tensors
    from noisygraph.ops.local_push import LocalGraph


def _rows(graph: LocalGraph):
    rowptr = graph.rowptr.tolist()
    col = graph.col.tolist()
    weight = graph.weights().tolist()
    degree = graph.degree.tolist()
    return rowptr, col, weight, degree


ROUND_PUSHES_PER_NODE = 2  # the compiled solver's round budget (kRoundPushesPerNode)
ROUND_PUSHES_MIN = 16


def flow_diffusion_reference(graph: LocalGraph, sources: dict[int, float], sink: Sequence[float],
                             eps: float = 1e-4, max_pushes: int = 10**9, omega: float = 1.0,
                             state: Optional[tuple[dict, dict]] = None, cg_iters: int = 0,
                             extrapolate: Optional[tuple[dict, float]] = None):
    r"""Weighted :math:`\ell_2`-norm flow diffusion by push (projected coordinate descent),
    optionally accelerated by conjugate-gradient rounds on the support.

    A node is active when its excess :math:`e_i = m_i - T_i` exceeds ``eps`` (or, with
    :math:`x_i > 0`, falls below ``-eps``); it moves :math:`x_i` by
    :math:`\max(\omega e_i / w_i, -x_i)` and that step times :math:`w_{ij}` flows to every
    neighbour :math:`j` (``omega = 1``: the node keeps exactly its sink). With
    ``cg_iters > 0``, every round of ``16 + 2 * (touched nodes)`` pushes that leaves work is
    followed by :func:`_flow_cg_round` and the queue is rebuilt in order of first touch.

    Args:
        graph (LocalGraph): the graph.
        sources (dict): node -> source mass added before pushing.
        sink (sequence): sink capacity per node.
        eps (float): tolerance on the excess. (default: ``1e-4``)
        max_pushes (int): push limit of this call (one mass level).
        omega (float): over-relaxation factor in ``(0, 2)``. (default: ``1.0``)
        state (tuple, optional): ``(x, m)`` dictionaries to continue from (warm start).
        cg_iters (int): iterations per CG round; 0 pushes only. (default: ``0``)
        extrapolate (tuple, optional): ``(x'', ratio)``: after adding the sources, try the
            start :math:`x + r (x - x'')` (the fused op's levels from the third on, with
            ``cg_iters > 0``) and rebuild the queue.

    Returns:
        ``(x, m, work)`` with dictionaries over touched nodes and ``work = (pushes, edges,
        stopped)``, ``stopped = 1`` when the push limit ended the loop with an active node
        still queued; ``edges`` counts the CG rounds' edge scans too.
    """
    rowptr, col, weight, degree = _rows(graph)
    x, m = ({}, {}) if state is None else state
    queue: deque[int] = deque()
    queued: set[int] = set()

    def active(v: int) -> bool:
        excess = m[v] - sink[v]
        return excess > eps or (excess < -eps and x[v] > 0)

    def enqueue(v: int) -> None:
        if v not in queued and active(v):
            queue.append(v)
            queued.add(v)

    for v in m:  # a warm start: the nodes a previous level left active, in order of first touch
        enqueue(v)
    for v, mass in sources.items():
        if v not in m:
            m[v], x[v] = 0.0, 0.0
        m[v] += mass
        enqueue(v)
    pushes = edges = 0
    if extrapolate is not None:
        edges += _flow_extrapolate(rowptr, col, weight, degree, sink, x, m, *extrapolate)
        queue.clear()
        queued.clear()
        for v in m:
            enqueue(v)

    def push_some(budget: int) -> int:
        nonlocal edges
        made = 0
        while queue and made < budget:
            v = queue.popleft()
            queued.discard(v)
            if degree[v] <= 0 or not active(v):
                continue
            step = max(omega * (m[v] - sink[v]) / degree[v], -x[v])
            x[v] += step
            m[v] -= step * degree[v]
            made += 1
            for e in range(rowptr[v], rowptr[v + 1]):
                u = col[e]
                if u not in m:
                    m[u], x[u] = 0.0, 0.0
                m[u] += weight[e] * step
                enqueue(u)
            enqueue(v)
            edges += rowptr[v + 1] - rowptr[v]
        return made

    remaining = max_pushes
    while True:
        budget = remaining if cg_iters == 0 else min(
            remaining, ROUND_PUSHES_MIN + ROUND_PUSHES_PER_NODE * len(m))
        used = push_some(budget)
        pushes += used
        remaining -= used
        if used < budget or remaining == 0:
            break
        edges += _flow_cg_round(rowptr, col, weight, degree, sink, x, m, eps, cg_iters)
        queue.clear()
        queued.clear()
        for v in m:
            enqueue(v)
    stopped = any(degree[v] > 0 and active(v) for v in queue)
    return x, m, (pushes, edges, int(stopped))


def _flow_cg_round(rowptr, col, weight, degree, sink, x: dict, m: dict, eps: float,
                   max_iters: int) -> int:
    r"""Jacobi-preconditioned conjugate gradients on :math:`L_{SS} x_S = (\Delta - T)_S`,
    :math:`S = \{i : x_i > 0\}` (whose residual is the excess :math:`m_S - T_S`; skipped when
    no edge of positive weight leaves :math:`S`, where :math:`L_{SS}` is singular), from the
    current :math:`x_S`, for at most ``max_iters`` iterations or until every
    :math:`|m_i - T_i| \le \varepsilon / 2` on :math:`S`; then :math:`\max(x, 0)` replaces
    ``x`` (and ``m`` follows) only if it lowers the objective. Updates ``x``, ``m`` in place
    and returns the edges scanned (every product and the mass update)."""
    support = [v for v in m if x[v] > 0]
    if not support:
        return 0
    position = {v: a for a, v in enumerate(support)}
    d = [degree[v] for v in support]
    y = [x[v] for v in support]
    r = [m[v] - sink[v] for v in support]
    z = [r[a] / d[a] for a in range(len(support))]
    p = list(z)
    rz = 0.0
    largest = 0.0
    for a in range(len(support)):
        rz += r[a] * z[a]
        largest = max(largest, abs(r[a]))
    edges = 0
    it = 0
    is_open = False  # whether an edge of positive weight leaves S (else L_SS is singular)
    while it < max_iters and largest > 0.5 * eps:
        it += 1
        q = []
        for a, v in enumerate(support):
            s = d[a] * p[a]
            for e in range(rowptr[v], rowptr[v + 1]):
                b = position.get(col[e])
                if b is not None:
                    s -= weight[e] * p[b]
                elif weight[e] > 0.0:
                    is_open = True
            q.append(s)
            edges += rowptr[v + 1] - rowptr[v]
        if not is_open:  # S is a whole component: leave the flood to the pushes
            return edges
        pq = 0.0
        for a in range(len(support)):
            pq += p[a] * q[a]
        if not (pq > 0.0) or not math.isfinite(pq):
            break
        alpha = rz / pq
        rz_next = 0.0
        largest = 0.0
        for a in range(len(support)):
            y[a] += alpha * p[a]
            r[a] -= alpha * q[a]
            z[a] = r[a] / d[a]
            rz_next += r[a] * z[a]
            largest = max(largest, abs(r[a]))
        if not rz > 0.0:
            break
        beta = rz_next / rz
        rz = rz_next
        for a in range(len(support)):
            p[a] = z[a] + beta * p[a]
    return edges + _flow_try(rowptr, col, weight, degree, sink, x, m, support, y)


def _flow_try(rowptr, col, weight, degree, sink, x: dict, m: dict, nodes: list,
              proposal: list) -> int:
    r"""Moves :math:`x_v` to ``max(proposal, 0)`` for ``nodes`` (the masses follow) and keeps the
    move only if it lowers the objective, :math:`\sum_v \delta_v (T_v - (m_v + m'_v)/2) < 0`;
    else restores ``x`` and ``m``. Returns the edges scanned."""
    saved_x, saved_m = {v: x[v] for v in nodes}, dict(m)
    edges = 0
    for v, target in zip(nodes, proposal):
        nxt = max(target, 0.0)
        delta = nxt - x[v]
        if delta == 0.0:
            continue
        x[v] = nxt
        m[v] -= delta * degree[v]
        for e in range(rowptr[v], rowptr[v + 1]):
            u = col[e]
            if u not in m:
                m[u], x[u] = 0.0, 0.0
            m[u] += weight[e] * delta
        edges += rowptr[v + 1] - rowptr[v]
    change = 0.0
    for v in nodes:
        change += (x[v] - saved_x[v]) * (sink[v] - 0.5 * saved_m[v] - 0.5 * m[v])
    if not change < 0.0:
        x.update(saved_x)
        for v in m:
            m[v] = saved_m.get(v, 0.0)
    return edges


def _flow_extrapolate(rowptr, col, weight, degree, sink, x: dict, m: dict, before: dict,
                      ratio: float) -> int:
    r"""The fused op's level extrapolation: from :math:`x` (the previous level) and
    :math:`x''` = ``before`` (the one before), try :math:`x + r (x - x'')` (:func:`_flow_try`).
    Returns the edges scanned."""
    nodes = [v for v in m if x[v] != before.get(v, 0.0)]
    proposal = [x[v] + ratio * (x[v] - before.get(v, 0.0)) for v in nodes]
    return _flow_try(rowptr, col, weight, degree, sink, x, m, nodes, proposal)


PNORM_ROOT_STEPS = 200  # the compiled solver's root-finder limit (kPNormRootSteps)
PNORM_ROOT_TOLERANCE = 0.5  # accept |residual| <= this * eps (kPNormRootTolerance)


def _pnorm_root(lo: float, hi: float, t: float, tolerance: float, evaluate) -> float:
    """The root of an increasing ``h`` on ``[lo, hi]`` from the trial ``t``: Newton steps,
    bisection when a step leaves the bracket; the trial of least ``|h|`` seen (at once when
    ``|h| <= tolerance``). ``evaluate(t)`` returns ``(h(t), h'(t))``."""
    best_t, best_h = t, math.inf
    for _ in range(PNORM_ROOT_STEPS):
        h, slope = evaluate(t)
        if abs(h) < abs(best_h):
            best_t, best_h = t, h
        if abs(h) <= tolerance:
            break
        if h < 0.0:
            lo = t
        else:
            hi = t
        nxt = t - h / slope if slope != 0.0 else math.nan
        if not lo < nxt < hi:
            nxt = lo + 0.5 * (hi - lo)
        if not lo < nxt < hi:
            break
        t = nxt
    return best_t


def pnorm_diffusion_reference(graph: LocalGraph, sources: dict[int, float], sink: Sequence[float],
                              p: float = 2.0, eps: float = 1e-4, max_pushes: int = 10**9,
                              state: Optional[tuple[dict, dict]] = None):
    r"""p-norm flow diffusion (:math:`p \ge 2`, :math:`q = p/(p-1)`) by the coordinate method.

    Solves :math:`\min_{x \ge 0} \tfrac1q \sum_{uv} w_{uv} |x_u - x_v|^q + x^\top (T - \Delta)`:
    a node whose excess :math:`m_i - T_i` exceeds ``eps`` (or, with :math:`x_i > 0`, whose
    deficit does) moves :math:`x_i` to the root of :math:`m_i(t) = T_i` (never below 0),
    :math:`m_i = \Delta_i - \sum_j w_{ij}\,\varphi(x_i - x_j)`,
    :math:`\varphi(d) = \mathrm{sign}(d)|d|^{q-1}` (safeguarded Newton steps inside a
    bracket, accepted once the residual is at most ``eps / 2``); the neighbours' masses follow
    the changed flows. After every round of ``16 + 2 * (touched nodes)`` pushes that leaves
    work, :func:`_pnorm_lift` raises the whole support. FIFO order, as the compiled op, which
    it follows step by step.

    Args:
        graph (LocalGraph): the graph.
        sources (dict): node -> source mass added before pushing.
        sink (sequence): sink capacity per node.
        p (float): the flow norm, finite and >= 2. (default: ``2.0``)
        eps (float): tolerance on the excess.
        max_pushes (int): push limit of this call (one mass level).
        state (tuple, optional): ``(x, m)`` dictionaries to continue from (warm start).

    Returns:
        ``(x, m, work)`` as :func:`flow_diffusion_reference`; ``edges`` counts the row scan,
        every root-finder evaluation and the mass update of every push and lift.
    """
    rowptr, col, weight, degree = _rows(graph)
    power = 1.0 / (p - 1.0)
    linear = p == 2.0

    def phi(d: float) -> float:
        if linear:
            return d
        a = abs(d) ** power
        return -a if d < 0.0 else a

    def inverse(y: float) -> float:
        return y if linear else y ** (1.0 / power)

    def slope(w: float, d: float, phi_d: float) -> float:
        if linear:
            return w
        if d != 0.0:
            return w * power * (phi_d / d)
        return math.inf if w > 0.0 else 0.0

    x, m = ({}, {}) if state is None else state
    queue: deque[int] = deque()
    queued: set[int] = set()

    def active(v: int) -> bool:
        excess = m[v] - sink[v]
        return excess > eps or (excess < -eps and x[v] > 0.0)

    def enqueue(v: int) -> None:
        if v not in queued and active(v):
            queue.append(v)
            queued.add(v)

    def touch(v: int) -> None:
        if v not in m:
            m[v], x[v] = 0.0, 0.0

    def requeue() -> None:
        queue.clear()
        queued.clear()
        for v in m:
            enqueue(v)

    requeue()  # a warm start: the nodes a previous level left active, in order of first touch
    for v, mass in sources.items():
        touch(v)
        m[v] += mass
        enqueue(v)
    pushes = edges = 0
    tolerance = PNORM_ROOT_TOLERANCE * eps

    def push(v: int) -> Optional[list]:
        nonlocal edges
        x_v, excess = x[v], m[v] - sink[v]
        row = []
        w_eff = base = 0.0
        x_max = x_v
        for e in range(rowptr[v], rowptr[v + 1]):
            u = col[e]
            if u == v:
                continue
            touch(u)
            f = weight[e] * phi(x_v - x[u])
            row.append((u, weight[e], x[u], f))
            w_eff += weight[e]
            base += f
            x_max = max(x_max, x[u])
        edges += rowptr[v + 1] - rowptr[v]
        if not w_eff > 0.0:
            return None
        target = base + excess

        def evaluate(t: float):
            nonlocal edges
            h, s = -target, 0.0
            for _, w, x_u, _ in row:
                f = phi(t - x_u)
                h += w * f
                s += slope(w, t - x_u, f)
            edges += len(row)
            return h, s

        if excess > 0.0:
            hi = x_max + inverse(max(target, 0.0) / w_eff)
            if not math.isfinite(hi):
                raise ValueError(f"p = {p} makes the potentials overflow float64; use a "
                                 "smaller p")
            t = _pnorm_root(x_v, hi, min(x_v + inverse(excess / w_eff), hi), tolerance, evaluate)
        elif evaluate(0.0)[0] >= -tolerance:
            t = 0.0
        else:
            t = _pnorm_root(0.0, x_v, max(0.0, x_v - inverse(-excess / w_eff)), tolerance,
                            evaluate)
        moved = 0.0
        for u, w, x_u, f in row:
            delta = w * phi(t - x_u) - f
            m[u] += delta
            moved += delta
        m[v] -= moved
        x[v] = t
        edges += len(row)
        return row

    def lift() -> None:
        nonlocal edges
        support = [v for v in m if x[v] > 0.0]
        inside = set(support)
        total = sum(m[v] - sink[v] for v in support)
        if not support or not total > tolerance:
            return
        boundary = []
        w_total = base = 0.0
        d_min = math.inf
        for v in support:
            for e in range(rowptr[v], rowptr[v + 1]):
                u = col[e]
                touch(u)
                if u in inside or not weight[e] > 0.0:
                    continue
                d = x[v] - x[u]
                f = weight[e] * phi(d)
                boundary.append((v, u, weight[e], d, f))
                w_total += weight[e]
                base += f
                d_min = min(d_min, d)
            edges += rowptr[v + 1] - rowptr[v]
        if not boundary:
            return

        def evaluate(c: float):
            nonlocal edges
            h, s = -(base + total), 0.0
            for _, _, w, d, _ in boundary:
                f = phi(d + c)
                h += w * f
                s += slope(w, d + c, f)
            edges += len(boundary)
            return h, s

        hi = max(0.0, inverse(max(base + total, 0.0) / w_total) - d_min)
        if not math.isfinite(hi):
            raise ValueError(f"p = {p} makes the potentials overflow float64; use a smaller p")
        c = _pnorm_root(0.0, hi, min(inverse(total / w_total), hi), tolerance, evaluate)
        if not c > 0.0:
            return
        for v, u, w, d, f in boundary:
            delta = w * phi(d + c) - f
            m[u] += delta
            m[v] -= delta
        for v in support:
            x[v] += c
        edges += len(boundary)

    def push_some(budget: int) -> int:
        made = 0
        while queue and made < budget:
            v = queue.popleft()
            queued.discard(v)
            if not active(v):
                continue
            row = push(v)
            if row is None:
                continue
            made += 1
            for nb in row:
                enqueue(nb[0])
            enqueue(v)
        return made

    remaining = max_pushes
    while True:
        budget = min(remaining, ROUND_PUSHES_MIN + ROUND_PUSHES_PER_NODE * len(m))
        used = push_some(budget)
        pushes += used
        remaining -= used
        if used < budget or remaining == 0:
            break
        lift()
        requeue()

    def can_push(v: int) -> bool:
        return active(v) and any(col[e] != v and weight[e] > 0.0
                                 for e in range(rowptr[v], rowptr[v + 1]))

    stopped = remaining == 0 and any(can_push(v) for v in queue)
    return x, m, (pushes, edges, int(stopped))


def ppr_push_reference(graph: LocalGraph, sources: dict[int, float], alpha: float = 0.05,
                       eps: float = 1e-6, max_pushes: int = 10**9,
                       state: Optional[tuple[dict, dict]] = None):
    r"""ACL push approximate personalized PageRank (non-lazy, weighted).

    While a node has residual :math:`r_i > \varepsilon\, d_i`: :math:`p_i \mathrel{+}= \alpha r_i`,
    :math:`r_j \mathrel{+}= (1-\alpha) r_i w_{ij}/d_i` for every neighbour, :math:`r_i = 0`.

    Args:
        max_pushes (int): push limit of this call (one tolerance level).
        state (tuple, optional): ``(p, r)`` dictionaries to continue from (a lower tolerance
            continues the same push).

    Returns:
        ``(p, r, work)`` with dictionaries over touched nodes and ``work = (pushes, edges,
        stopped)`` as in :func:`flow_diffusion_reference`.
    """
    rowptr, col, weight, degree = _rows(graph)
    p, r = ({}, {}) if state is None else state
    for v, mass in sources.items():
        p.setdefault(v, 0.0)
        r[v] = r.get(v, 0.0) + mass
    queue = deque(v for v in r if r[v] > eps * degree[v])
    queued = set(queue)
    pushes = edges = 0
    while queue and pushes < max_pushes:
        v = queue.popleft()
        queued.discard(v)
        if degree[v] <= 0 or r[v] <= eps * degree[v]:
            continue
        residual = r[v]
        p[v] += alpha * residual
        r[v] = 0.0
        spread = (1 - alpha) * residual / degree[v]
        pushes += 1
        for e in range(rowptr[v], rowptr[v + 1]):
            u = col[e]
            p.setdefault(u, 0.0)
            r[u] = r.get(u, 0.0) + spread * weight[e]
            if u not in queued and r[u] > eps * degree[u]:
                queue.append(u)
                queued.add(u)
        edges += rowptr[v + 1] - rowptr[v]
    stopped = any(degree[v] > 0 and r[v] > eps * degree[v] for v in queue)
    return p, r, (pushes, edges, int(stopped))


def conductance_reference(graph: LocalGraph, nodes: Sequence[int]) -> float:
    r"""Conductance :math:`\mathrm{cut}(S) / \min(\mathrm{vol}(S), \mathrm{vol}(V) - \mathrm{vol}(S))`
    computed directly from the edge list (NaN when the denominator is 0)."""
    rowptr, col, weight, degree = _rows(graph)
    members = set(int(v) for v in nodes)
    volume = sum(degree[v] for v in members)
    cut = sum(weight[e] for v in members for e in range(rowptr[v], rowptr[v + 1])
              if col[e] not in members)
    denominator = min(volume, graph.total_volume - volume)
    return math.nan if denominator <= 1e-12 * graph.total_volume else cut / denominator


def sweep_cut_reference(graph: LocalGraph, scores: dict[int, float], normalize: bool = False):
    """Brute-force sweep: order nodes of positive score by score (over degree when
    ``normalize``; ties by node id), recompute every prefix's conductance from scratch, return
    ``(nodes of the best prefix, its conductance)``."""
    degree = graph.degree.tolist()

    def key(v: int) -> float:
        if not normalize:
            return scores[v]
        return scores[v] / degree[v] if degree[v] > 0 else 0.0

    order = sorted((v for v, s in scores.items() if s > 0), key=lambda v: (-key(v), v))
    best_nodes: list[int] = []
    best = math.nan
    for k in range(1, len(order) + 1):
        phi = conductance_reference(graph, order[:k])
        if not math.isnan(phi) and (math.isnan(best) or phi < best):
            best, best_nodes = phi, order[:k]
    return best_nodes, best
