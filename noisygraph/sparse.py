"""A CSR adjacency with cached normalizations, built from any PyG graph format.

Convention (PyG's): ``edge_index[0]`` holds sources and ``edge_index[1]`` targets, and a
message flows from source to target. The CSR rows are the targets, so
``spmm(adj, x)[i] = sum_{j -> i} w_ji * x[j]``, as in PyG's ``MessagePassing`` with
``aggr="add"``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Union

import torch
from torch import Tensor

NORMALIZATIONS = ("sym", "row", "col")
REORDERINGS = ("rcm", "degree")
_INT32_MAX = 2**31 - 1

GraphLike = Union["Adjacency", Tensor]


class Reordering(NamedTuple):
    """A node relabelling ``new id -> old id`` and the adjacency in the new labels."""

    adjacency: "Adjacency"
    perm: Tensor  # perm[new] = old
    inverse: Tensor  # inverse[old] = new


class Adjacency:
    r"""A sparse adjacency matrix :math:`\mathbf{A}` in CSR form (rows are targets).

    Normalized versions are computed once and cached:

    .. math::
        \mathrm{sym}: \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}, \quad
        \mathrm{row}: \mathbf{D}^{-1}\mathbf{A}, \quad
        \mathrm{col}: \mathbf{A}\mathbf{D}^{-1},

    with :math:`\mathbf{D}` the diagonal of (weighted) degrees; for ``sym`` and ``row`` the
    degree of row :math:`i` (edges into :math:`i`), for ``col`` the degree of column
    :math:`j` (edges out of :math:`j`). Nodes of degree zero get a zero row/column.

    Args:
        rowptr (torch.Tensor): CSR row pointer, shape ``[num_rows + 1]``, int64.
        col (torch.Tensor): column (source node) of each nonzero, shape ``[nnz]``, int64.
        value (torch.Tensor, optional): weight of each nonzero, shape ``[nnz]``; ``None``
            means all ones. (default: :obj:`None`)
        num_cols (int, optional): number of columns; defaults to the number of rows.
    """

    def __init__(self, rowptr: Tensor, col: Tensor, value: Optional[Tensor] = None,
                 num_cols: Optional[int] = None):
        if rowptr.dim() != 1 or rowptr.numel() < 1:
            raise ValueError("rowptr must be a 1-D tensor with at least one entry")
        if col.dim() != 1:
            raise ValueError(f"col must be 1-D, got shape {tuple(col.shape)}")
        if value is not None and value.shape != col.shape:
            raise ValueError(
                f"value must have the shape of col {tuple(col.shape)}, got {tuple(value.shape)}")
        self.rowptr = rowptr.to(torch.long)
        self.col = col.to(torch.long)
        self.value = value
        self.num_rows = rowptr.numel() - 1
        self.num_cols = self.num_rows if num_cols is None else int(num_cols)
        self._normalized: dict[tuple[str, bool], Adjacency] = {}
        self._transpose: Optional[tuple[Adjacency, Tensor]] = None
        self._kernel_indices: Optional[tuple[Tensor, Tensor]] = None
        self._values_by_dtype: dict[torch.dtype, Tensor] = {}
        self._reorderings: dict[str, Reordering] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edge_index(cls, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                        num_nodes: Optional[int] = None) -> "Adjacency":
        """Builds the CSR adjacency of ``edge_index`` (``[2, E]``, sources then targets)."""
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError("edge_index must be a tensor of shape [2, num_edges], got "
                             f"{getattr(edge_index, 'shape', type(edge_index))}")
        if edge_index.is_floating_point() or edge_index.is_complex():
            raise TypeError(f"edge_index must hold integers, got {edge_index.dtype}")
        edge_index = edge_index.to(torch.long)
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
        elif num_nodes < 0:
            raise ValueError(f"num_nodes must be >= 0, got {num_nodes}")
        if edge_index.numel() > 0:
            low, high = int(edge_index.min()), int(edge_index.max())
            if low < 0 or high >= num_nodes:
                raise ValueError(
                    f"edge_index holds node ids in [{low}, {high}], outside [0, {num_nodes})")
        if edge_weight is not None:
            if edge_weight.dim() != 1 or edge_weight.numel() != edge_index.size(1):
                raise ValueError(f"edge_weight must have shape [{edge_index.size(1)}], got "
                                 f"{tuple(edge_weight.shape)}")
            if torch.isnan(edge_weight).any():
                raise ValueError("edge_weight contains NaN")
        target, source = edge_index[1], edge_index[0]
        key = target * max(num_nodes, 1) + source
        perm = torch.argsort(key, stable=True)
        col = source[perm]
        counts = torch.bincount(target, minlength=num_nodes)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
        torch.cumsum(counts, 0, out=rowptr[1:])
        value = None if edge_weight is None else edge_weight[perm]
        return cls(rowptr, col, value, num_cols=num_nodes)

    @classmethod
    def from_torch_sparse(cls, matrix: Tensor) -> "Adjacency":
        """Builds from a ``torch.sparse`` COO or CSR matrix (rows are targets)."""
        if matrix.layout == torch.sparse_csr:
            return cls(matrix.crow_indices(), matrix.col_indices(), matrix.values(),
                       num_cols=matrix.size(1))
        if matrix.layout == torch.sparse_coo:
            matrix = matrix.coalesce()
            row, col = matrix.indices()
            counts = torch.bincount(row, minlength=matrix.size(0))
            rowptr = torch.zeros(matrix.size(0) + 1, dtype=torch.long, device=row.device)
            torch.cumsum(counts, 0, out=rowptr[1:])
            return cls(rowptr, col, matrix.values(), num_cols=matrix.size(1))
        raise TypeError(f"expected a sparse COO or CSR tensor, got layout {matrix.layout}")

    # ------------------------------------------------------------------ properties
    @property
    def nnz(self) -> int:
        return self.col.numel()

    @property
    def device(self) -> torch.device:
        return self.col.device

    def row(self) -> Tensor:
        """Row (target) index of every nonzero."""
        counts = self.rowptr[1:] - self.rowptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_rows, device=self.device), counts)

    def weights(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The nonzero values, with ones where the adjacency is unweighted."""
        if self.value is None:
            return torch.ones(self.nnz, dtype=dtype, device=self.device)
        return self.value

    def to_torch_sparse_csr(self, dtype: torch.dtype = torch.float32) -> Tensor:
        return torch.sparse_csr_tensor(self.rowptr, self.col, self.weights(dtype).to(dtype),
                                       size=(self.num_rows, self.num_cols))

    def to_dense(self, dtype: torch.dtype = torch.float32) -> Tensor:
        dense = torch.zeros(self.num_rows, self.num_cols, dtype=dtype, device=self.device)
        dense.index_put_((self.row(), self.col), self.weights(dtype).to(dtype), accumulate=True)
        return dense

    def __repr__(self) -> str:
        weighted = "weighted" if self.value is not None else "unweighted"
        return f"Adjacency(num_rows={self.num_rows}, num_cols={self.num_cols}, nnz={self.nnz}, {weighted})"

    def to(self, device: Union[str, torch.device]) -> "Adjacency":
        """This adjacency on ``device`` (itself when already there)."""
        device = torch.device(device)
        if device == self.device:
            return self
        value = None if self.value is None else self.value.to(device)
        return Adjacency(self.rowptr.to(device), self.col.to(device), value, self.num_cols)

    def kernel_indices(self) -> tuple[Tensor, Tensor]:
        """``(rowptr, col)`` as the kernels read them: int32 when every index fits (half the
        index traffic), int64 otherwise (cached)."""
        if self._kernel_indices is None:
            fits = max(self.nnz, self.num_rows, self.num_cols) <= _INT32_MAX
            dtype = torch.int32 if fits else torch.long
            self._kernel_indices = (self.rowptr.to(dtype), self.col.to(dtype))
        return self._kernel_indices

    def values_as(self, dtype: torch.dtype) -> Optional[Tensor]:
        """The nonzero values cast to ``dtype`` (``None`` if unweighted). Cached unless they
        require grad, so that gradients still flow to them."""
        if self.value is None or self.value.dtype == dtype:
            return self.value
        if self.value.requires_grad:
            return self.value.to(dtype)
        if dtype not in self._values_by_dtype:
            self._values_by_dtype[dtype] = self.value.to(dtype)
        return self._values_by_dtype[dtype]

    # ------------------------------------------------------------------ derived matrices
    def with_self_loops(self, fill_value: float = 1.0) -> "Adjacency":
        """Gives every node exactly one self-loop, as PyG's ``add_remaining_self_loops``:
        a node that already has a loop keeps its weight (one of them, if it has several),
        every other node gets a loop of weight ``fill_value``."""
        if self.num_rows != self.num_cols:
            raise ValueError("self-loops need a square adjacency")
        n = self.num_rows
        row, weights = self.row(), self.weights()
        is_loop = row == self.col
        loop_weight = torch.full((n,), fill_value, device=self.device, dtype=weights.dtype)
        loop_weight[row[is_loop]] = weights[is_loop]
        loops = torch.arange(n, device=self.device)
        keep = ~is_loop
        edge_index = torch.stack([torch.cat([self.col[keep], loops]),
                                  torch.cat([row[keep], loops])])
        weight = torch.cat([weights[keep], loop_weight])
        return Adjacency.from_edge_index(edge_index, weight, num_nodes=n)

    def normalize(self, kind: str = "sym", add_self_loops: bool = False) -> "Adjacency":
        """The normalized adjacency (cached per ``(kind, add_self_loops)``).

        Args:
            kind (str): ``"sym"``, ``"row"`` or ``"col"``. (default: ``"sym"``)
            add_self_loops (bool): add a unit self-loop to every node first.
                (default: :obj:`False`)
        """
        if kind not in NORMALIZATIONS:
            raise ValueError(f"kind must be one of {NORMALIZATIONS}, got {kind!r}")
        key = (kind, bool(add_self_loops))
        if key not in self._normalized:
            base = self.with_self_loops() if add_self_loops else self
            w = base.weights().to(torch.float32) if base.value is None else base.value
            row, col = base.row(), base.col
            in_deg = torch.zeros(base.num_rows, dtype=w.dtype, device=w.device).index_add_(0, row, w)
            out_deg = torch.zeros(base.num_cols, dtype=w.dtype, device=w.device).index_add_(0, col, w)

            def inv(d: Tensor, power: float) -> Tensor:
                out = d.pow(-power)
                return out.masked_fill(d == 0, 0.0)

            if kind == "sym":
                # D computed from row degrees, as PyG's gcn_norm does (flow source_to_target).
                d = inv(in_deg, 0.5)
                value = d[row] * w * d[col] if base.num_rows == base.num_cols else None
                if value is None:
                    raise ValueError("sym normalization needs a square adjacency")
            elif kind == "row":
                value = inv(in_deg, 1.0)[row] * w
            else:
                value = w * inv(out_deg, 1.0)[col]
            self._normalized[key] = Adjacency(base.rowptr, base.col, value, base.num_cols)
        return self._normalized[key]

    def transpose(self) -> tuple["Adjacency", Tensor]:
        """The transposed adjacency and the permutation mapping its nonzeros to ours (cached)."""
        if self._transpose is None:
            rowptr, col, perm = csr_transpose(self.rowptr, self.col, self.num_cols)
            value = None if self.value is None else self.value[perm]
            self._transpose = (Adjacency(rowptr, col, value, self.num_rows), perm)
        return self._transpose

    def reorder(self, method: str = "rcm") -> Reordering:
        r"""A locality-improving node relabelling and the relabelled adjacency
        :math:`\mathbf{P}\mathbf{A}\mathbf{P}^\top` (cached per method).

        Neighbours that get nearby ids share cache lines, so a diffusion over the relabelled
        graph gathers from far fewer distinct memory pages. The permutation is computed once
        and reused by every later call (e.g. ``diffuse(..., reorder=True)``).

        Args:
            method (str): ``"rcm"`` (reverse Cuthill--McKee over the symmetrised pattern, via
                SciPy) or ``"degree"`` (nodes sorted by decreasing degree). (default: ``"rcm"``)
        """
        if method not in REORDERINGS:
            raise ValueError(f"method must be one of {REORDERINGS}, got {method!r}")
        if self.num_rows != self.num_cols:
            raise ValueError("reordering needs a square adjacency, got "
                             f"{self.num_rows} x {self.num_cols}")
        if self.value is not None and self.value.requires_grad:
            raise ValueError("cannot reorder an adjacency whose values require grad (the "
                             "cached relabelled copy would detach them)")
        if method not in self._reorderings:
            perm = _rcm_order(self) if method == "rcm" else _degree_order(self)
            inverse = torch.empty_like(perm)
            inverse[perm] = torch.arange(perm.numel(), device=perm.device)
            edge_index = torch.stack([inverse[self.col], inverse[self.row()]])
            adjacency = Adjacency.from_edge_index(edge_index, self.value, num_nodes=self.num_rows)
            self._reorderings[method] = Reordering(adjacency, perm, inverse)
        return self._reorderings[method]


def csr_transpose(rowptr: Tensor, col: Tensor, num_cols: int) -> tuple[Tensor, Tensor, Tensor]:
    """The transpose of a CSR pattern: ``(rowptr_t, col_t, perm)`` with ``perm`` mapping the
    transposed nonzeros to the original ones (``value_t = value[perm]``); int64 indices."""
    rowptr, col = rowptr.to(torch.long), col.to(torch.long)
    num_rows = rowptr.numel() - 1
    row = torch.repeat_interleave(torch.arange(num_rows, device=col.device),
                                  rowptr[1:] - rowptr[:-1])
    perm = torch.argsort(col * max(num_rows, 1) + row, stable=True)
    counts = torch.bincount(col, minlength=num_cols)
    t_rowptr = torch.zeros(num_cols + 1, dtype=torch.long, device=col.device)
    torch.cumsum(counts, 0, out=t_rowptr[1:])
    return t_rowptr, row[perm], perm


def _rcm_order(adj: Adjacency) -> Tensor:
    import numpy as np
    import scipy.sparse
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    n = adj.num_rows
    pattern = scipy.sparse.csr_matrix(
        (np.ones(adj.nnz, dtype=np.int8), adj.col.cpu().numpy(), adj.rowptr.cpu().numpy()),
        shape=(n, n))
    pattern = (pattern + pattern.T).tocsr()
    order = reverse_cuthill_mckee(pattern, symmetric_mode=True)
    return torch.from_numpy(order.astype(np.int64)).to(adj.device)


def _degree_order(adj: Adjacency) -> Tensor:
    degree = (adj.rowptr[1:] - adj.rowptr[:-1]) + torch.bincount(adj.col, minlength=adj.num_rows)
    return torch.argsort(degree, descending=True, stable=True)


def to_adjacency(graph: GraphLike, edge_weight: Optional[Tensor] = None,
                 num_nodes: Optional[int] = None) -> Adjacency:
    """Converts any supported graph format to an :class:`Adjacency`.

    Args:
        graph: an :class:`Adjacency` (returned as is), an ``edge_index`` tensor of shape
            ``[2, E]``, a PyG ``EdgeIndex``, or a ``torch.sparse`` COO/CSR matrix.
        edge_weight (torch.Tensor, optional): weights of the edges of ``edge_index``.
        num_nodes (int, optional): number of nodes (default: largest id + 1).
    """
    if isinstance(graph, Adjacency):
        return graph
    if not isinstance(graph, Tensor):
        raise TypeError("graph must be an Adjacency, an edge_index/EdgeIndex tensor or a "
                        f"torch.sparse matrix, got {type(graph).__name__}")
    if graph.layout in (torch.sparse_csr, torch.sparse_coo):
        return Adjacency.from_torch_sparse(graph)
    if num_nodes is None:
        sparse_size = getattr(graph, "sparse_size", None)  # PyG EdgeIndex
        if callable(sparse_size):
            sizes = [s for s in sparse_size() if s is not None]
            num_nodes = max(sizes) if sizes else None
    plain = graph.as_tensor() if hasattr(graph, "as_tensor") else graph
    return Adjacency.from_edge_index(plain, edge_weight, num_nodes)
