"""Pure-Python reference of ``local_max_flow``: Dinic's max-flow with float64 residual
capacities (the fallback of the flow refinements when no kernel is built, and the reference
the kernel is tested against). Imports nothing from noisygraph."""
from __future__ import annotations

from collections import deque


class FlowNetwork:
    """Dinic's max-flow on a small network (nodes 0..n-1). Arcs come in pairs (``a`` and
    ``a ^ 1`` are each other's reverse); ``arcs`` counts arc visits (work)."""

    def __init__(self, n: int):
        self.n = n
        self.head: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[float] = []
        self.arcs = 0

    def add_node(self) -> int:
        self.head.append([])
        self.n += 1
        return self.n - 1

    def add(self, u: int, v: int, cap: float, reverse_cap: float = 0.0) -> None:
        """An arc ``u -> v`` of capacity ``cap`` and its reverse of ``reverse_cap`` (an
        undirected edge: both equal)."""
        self.head[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(cap)
        self.head[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(reverse_cap)

    def _levels(self, s: int, tol: float) -> list[int]:
        level = [-1] * self.n
        level[s] = 0
        queue = deque([s])
        to, cap = self.to, self.cap
        while queue:
            u = queue.popleft()
            self.arcs += len(self.head[u])
            for a in self.head[u]:
                v = to[a]
                if level[v] < 0 and cap[a] > tol:
                    level[v] = level[u] + 1
                    queue.append(v)
        return level

    def max_flow(self, s: int, t: int, tol: float) -> float:
        """Augments the current flow until no path of residual capacity above ``tol`` is
        left; returns the flow added."""
        total = 0.0
        to, cap, head = self.to, self.cap, self.head
        while True:
            level = self._levels(s, tol)
            if level[t] < 0:
                return total
            it = [0] * self.n
            while True:  # blocking flow: iterative DFS with current-arc pointers
                path: list[int] = []
                u = s
                while u != t:
                    arcs = head[u]
                    advanced = False
                    while it[u] < len(arcs):
                        a = arcs[it[u]]
                        self.arcs += 1
                        v = to[a]
                        if cap[a] > tol and level[v] == level[u] + 1:
                            path.append(a)
                            u = v
                            advanced = True
                            break
                        it[u] += 1
                    if not advanced:
                        if u == s:
                            break
                        level[u] = -1  # dead end: never revisit in this phase
                        a = path.pop()
                        u = to[a ^ 1]
                        it[u] += 1
                if u != t:
                    break
                push = min(cap[a] for a in path)
                for a in path:
                    cap[a] -= push
                    cap[a ^ 1] += push
                total += push

    def source_side(self, s: int, tol: float) -> list[int]:
        """Nodes reachable from ``s`` in the residual network (the minimal min-cut side)."""
        return [v for v, lv in enumerate(self._levels(s, tol)) if lv >= 0]


def max_flow_reference(rowptr: list[int], col: list[int], capacity: list[float], source: int,
                       sink: int, tolerance: float) -> tuple[float, list[int], int]:
    """``local_max_flow`` on Python lists: (flow value, sorted source side, arc visits);
    self-loops are ignored, every arc gets its own reverse residual arc."""
    n = len(rowptr) - 1
    net = FlowNetwork(n)
    for u in range(n):
        for e in range(rowptr[u], rowptr[u + 1]):
            if col[e] != u:
                net.add(u, col[e], capacity[e])
    value = net.max_flow(source, sink, tolerance)
    return value, net.source_side(source, tolerance), net.arcs
