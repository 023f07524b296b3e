"""A CSR adjacency with cached normalizations, built from any graph format by
:func:`as_adjacency` (the one conversion at the public boundary).

Convention (PyG's): ``edge_index[0]`` holds sources and ``edge_index[1]`` targets, and a
message flows from source to target. The CSR rows are the targets, so
``spmm(adj, x)[i] = sum_{j -> i} w_ji * x[j]``, as in PyG's ``MessagePassing`` with
``aggr="add"``.

Every :class:`Adjacency` is validated once, where it is built (integer indices, a monotone
row pointer from 0 to nnz, columns in range, finite non-negative weights), and trusted
afterwards: the ops re-check in O(1) only that its tensors were not modified in place
(:meth:`Adjacency.check_unchanged`). Nothing a caller hands in is trusted without looking at
the data: a sparse tensor's coalesced flag, an ``EdgeIndex``'s sort order and a CSR matrix's
column order are ignored, and the nonzeros are sorted here.
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from typing import Any, NamedTuple, Optional, Union

import torch
from torch import Tensor

from noisygraph._validation import (INDEX_DTYPES, check_bool_mask, check_edge_index,
                                    check_edge_weight_metadata, check_int, edge_weights_ok, raise_bad_edge_weights)

NORMALIZATIONS = ("sym", "row", "col")
REORDERINGS = ("rcm", "degree", "metis")
# Nodes per METIS part: 4096 rows of 40 float32 features are 640 KiB, so one part's rows fit
# a 1 MiB L2 cache at the feature width of the benchmarks (chosen from the cache size, not by
# timing a range of values).
METIS_PART_SIZE = 4096
_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1

# What as_adjacency accepts: an Adjacency, an edge_index/EdgeIndex tensor, a PyG Data, a
# torch.sparse matrix, a scipy.sparse matrix or a networkx graph (the last three are optional
# dependencies, hence no precise Union).
GraphLike = Any


class Reordering(NamedTuple):
    """A node relabelling ``new id -> old id`` and the adjacency in the new labels."""

    adjacency: "Adjacency"
    perm: Tensor  # perm[new] = old
    inverse: Tensor  # inverse[old] = new


# ---------------------------------------------------------------------------- checks
def check_count(name: str, value, minimum: int = 0) -> int:
    """``value`` as an ``int >= minimum`` (a Python/NumPy integer, never a bool)."""
    return check_int(name, value, low=minimum)


def _check_index_tensor(name: str, tensor, dim: int) -> Tensor:
    """A strided integer tensor of ``dim`` dimensions, returned as contiguous int64."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.layout != torch.strided:
        raise TypeError(f"{name} must be a dense (strided) tensor, got layout {tensor.layout}")
    if tensor.dtype not in INDEX_DTYPES:
        raise TypeError(f"{name} must hold integers (int32 or int64), got {tensor.dtype}")
    if tensor.dim() != dim:
        raise ValueError(f"{name} must be {dim}-D, got shape {tuple(tensor.shape)}")
    return tensor.to(torch.long).contiguous()


def _check_weights(name: str, value: Optional[Tensor]) -> None:
    """Every weight finite and >= 0 (one host sync)."""
    ok = edge_weights_ok(value)
    if ok is not None and not bool(ok):
        raise_bad_edge_weights(name, value)


def _check_csr(rowptr: Tensor, col: Tensor, num_cols: int, value: Optional[Tensor],
               names: tuple[str, str, str]) -> None:
    """Validates a CSR pattern (int64 tensors) and its weights with one host sync."""
    rowptr_name, col_name, value_name = names
    nnz = col.numel()
    conds = [rowptr[0] == 0, rowptr[-1] == nnz]
    if rowptr.numel() > 1:
        conds.append((rowptr[1:] >= rowptr[:-1]).all())
    if nnz > 0:
        conds.append(((col >= 0) & (col < num_cols)).all())
    ok = edge_weights_ok(value)
    if ok is not None:
        conds.append(ok)
    if bool(torch.stack(conds).all()):
        return
    first, last = int(rowptr[0]), int(rowptr[-1])
    if first != 0:
        raise ValueError(f"{rowptr_name} must start at 0, got {first}")
    if last != nnz:
        raise ValueError(f"{rowptr_name} must end at nnz = {nnz} (the length of {col_name}), "
                         f"got {last}")
    if rowptr.numel() > 1:
        drops = (rowptr[1:] < rowptr[:-1]).nonzero()
        if drops.numel() > 0:
            i = int(drops[0])
            raise ValueError(f"{rowptr_name} must be non-decreasing, got {rowptr_name}[{i}] = "
                             f"{int(rowptr[i])} > {rowptr_name}[{i + 1}] = {int(rowptr[i + 1])}")
    if nnz > 0:
        low, high = int(col.min()), int(col.max())
        if low < 0 or high >= num_cols:
            raise ValueError(f"{col_name} holds ids in [{low}, {high}], outside [0, {num_cols})")
    raise_bad_edge_weights(value_name, value)


def _version(tensor: Optional[Tensor]) -> Optional[int]:
    if tensor is None:
        return None
    try:
        return tensor._version
    except RuntimeError:  # inference tensors track no version
        return None


# ---------------------------------------------------------------------------- Adjacency
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

    The constructor validates the CSR once (one host synchronisation): integer indices,
    ``rowptr`` starting at 0, non-decreasing and ending at ``nnz``, every column in
    ``[0, num_cols)``, and finite, non-negative values; anything else raises a
    :class:`ValueError` / :class:`TypeError` naming the argument. The tensors are read-only
    attributes; modifying them in place afterwards is detected (:meth:`check_unchanged`).
    Columns need not be sorted within a row; duplicates are summed.

    Args:
        rowptr (torch.Tensor): CSR row pointer, shape ``[num_rows + 1]``, any integer dtype
            (stored as int64).
        col (torch.Tensor): column (source node) of each nonzero, shape ``[nnz]``, integer.
        value (torch.Tensor, optional): finite, non-negative weight of each nonzero, shape
            ``[nnz]``, floating point; ``None`` means all ones. (default: :obj:`None`)
        num_cols (int, optional): number of columns; defaults to the number of rows.
    """

    def __init__(self, rowptr: Tensor, col: Tensor, value: Optional[Tensor] = None,
                 num_cols: Optional[int] = None):
        rowptr = _check_index_tensor("rowptr", rowptr, 1)
        col = _check_index_tensor("col", col, 1)
        if rowptr.numel() < 1:
            raise ValueError("rowptr must have at least one entry ([num_rows + 1])")
        if col.device != rowptr.device:
            raise ValueError(f"col is on {col.device} but rowptr on {rowptr.device}")
        num_rows = rowptr.numel() - 1
        num_cols = num_rows if num_cols is None else check_count("num_cols", num_cols)
        if value is not None:
            check_edge_weight_metadata("value", value, col.numel(), col.device)
        _check_csr(rowptr, col, num_cols, value, ("rowptr", "col", "value"))
        self._setup(rowptr, col, value, num_cols)

    def _setup(self, rowptr: Tensor, col: Tensor, value: Optional[Tensor],
               num_cols: int) -> None:
        self._rowptr = rowptr
        self._col = col
        self._value = value
        self.num_rows = rowptr.numel() - 1
        self.num_cols = num_cols
        self._versions = (_version(rowptr), _version(col), _version(value))
        self._normalized: dict[tuple[str, bool], Adjacency] = {}
        self._transpose: Optional[tuple[Adjacency, Tensor]] = None
        self._kernel_indices: Optional[tuple[Tensor, Tensor]] = None
        self._values_by_dtype: dict[torch.dtype, Tensor] = {}
        self._reorderings: dict[str, Reordering] = {}

    @classmethod
    def _trusted(cls, rowptr: Tensor, col: Tensor, value: Optional[Tensor],
                 num_cols: int) -> "Adjacency":
        """An adjacency built from a CSR that this module computed itself (no checks)."""
        adj = cls.__new__(cls)
        adj._setup(rowptr, col, value, num_cols)
        return adj

    def _with_trusted_values(self, value: Tensor) -> "Adjacency":
        """The same structure with ``value`` ``[nnz]``, unchecked: only for values computed
        from this adjacency's validated ones (e.g. dropped out), never for user input."""
        return Adjacency._trusted(self._rowptr, self._col, value, self.num_cols)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edge_index(cls, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                        num_nodes: Optional[int] = None) -> "Adjacency":
        """Builds the CSR adjacency of ``edge_index`` (``[2, E]``, sources then targets).

        Args:
            edge_index (torch.Tensor): integer node ids ``[2, E]`` in ``[0, num_nodes)``.
            edge_weight (torch.Tensor, optional): finite, non-negative weights ``[E]``.
                (default: :obj:`None`)
            num_nodes (int, optional): number of nodes (default: largest id + 1).
        """
        return _from_edge_index(edge_index, edge_weight, num_nodes, "edge_index")

    @classmethod
    def from_torch_sparse(cls, matrix: Tensor) -> "Adjacency":
        """Builds from a 2-D ``torch.sparse`` COO or CSR matrix (rows are targets). Its
        coalesced flag and column order are not trusted: the nonzeros are sorted here."""
        return _from_torch_sparse(matrix, "matrix")

    # ------------------------------------------------------------------ properties
    @property
    def rowptr(self) -> Tensor:
        """CSR row pointer ``[num_rows + 1]`` (int64)."""
        return self._rowptr

    @property
    def col(self) -> Tensor:
        """Column (source) of every nonzero ``[nnz]`` (int64)."""
        return self._col

    @property
    def value(self) -> Optional[Tensor]:
        """Weight of every nonzero ``[nnz]``, or :obj:`None` when unweighted."""
        return self._value

    @property
    def nnz(self) -> int:
        return self._col.numel()

    @property
    def device(self) -> torch.device:
        return self._col.device

    def check_unchanged(self) -> None:
        """Checks, in O(1) and without a host sync, that the tensors were not modified in
        place since they were validated. Raises a :class:`ValueError` if ``rowptr`` or
        ``col`` were; if ``value`` was (e.g. by an optimizer step on a learned weight), the
        values are validated again (once) and the caches that depend on them are dropped.

        Skipped while :func:`torch.compile` / :func:`torch.export` trace (a version counter
        cannot be traced): a compiled call trusts the adjacency it was handed, which was
        validated when it was built."""
        if torch.compiler.is_compiling():
            return
        rowptr_v, col_v, value_v = self._versions
        if _version(self._rowptr) != rowptr_v or _version(self._col) != col_v:
            raise ValueError("the Adjacency's rowptr or col was modified in place after it was "
                             "validated; build a new Adjacency")
        if _version(self._value) != value_v:
            _check_weights("value", self._value)
            self._normalized.clear()
            self._transpose = None
            self._values_by_dtype.clear()
            self._reorderings.clear()
            self._versions = (rowptr_v, col_v, _version(self._value))

    def row(self) -> Tensor:
        """Row (target) index of every nonzero."""
        counts = self._rowptr[1:] - self._rowptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_rows, device=self.device), counts,
                                       output_size=self.nnz)

    def weights(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The nonzero values, with ones where the adjacency is unweighted."""
        if self._value is None:
            return torch.ones(self.nnz, dtype=dtype, device=self.device)
        return self._value

    def to_torch_sparse_csr(self, dtype: torch.dtype = torch.float32) -> Tensor:
        return torch.sparse_csr_tensor(self._rowptr, self._col, self.weights(dtype).to(dtype),
                                       size=(self.num_rows, self.num_cols))

    def to_dense(self, dtype: torch.dtype = torch.float32) -> Tensor:
        dense = torch.zeros(self.num_rows, self.num_cols, dtype=dtype, device=self.device)
        dense.index_put_((self.row(), self._col), self.weights(dtype).to(dtype),
                         accumulate=True)
        return dense

    def __repr__(self) -> str:
        weighted = "weighted" if self._value is not None else "unweighted"
        return f"Adjacency(num_rows={self.num_rows}, num_cols={self.num_cols}, nnz={self.nnz}, {weighted})"

    def to(self, device: Union[str, torch.device]) -> "Adjacency":
        """This adjacency on ``device`` (itself when already there)."""
        self.check_unchanged()
        device = torch.device(device)
        if device == self.device:
            return self
        value = None if self._value is None else self._value.to(device)
        return Adjacency._trusted(self._rowptr.to(device), self._col.to(device), value,
                                  self.num_cols)

    def kernel_indices(self) -> tuple[Tensor, Tensor]:
        """``(rowptr, col)`` as the kernels read them: int32 when every index fits (half the
        index traffic), int64 otherwise (cached)."""
        if self._kernel_indices is None:
            fits = max(self.nnz, self.num_rows, self.num_cols) <= _INT32_MAX
            dtype = torch.int32 if fits else torch.long
            self._kernel_indices = (self._rowptr.to(dtype), self._col.to(dtype))
        return self._kernel_indices

    def values_as(self, dtype: torch.dtype) -> Optional[Tensor]:
        """The nonzero values cast to ``dtype`` (``None`` if unweighted). Cached unless they
        require grad, so that gradients still flow to them."""
        self.check_unchanged()
        if self._value is None or self._value.dtype == dtype:
            return self._value
        if self._value.requires_grad:
            return self._value.to(dtype)
        if dtype not in self._values_by_dtype:
            self._values_by_dtype[dtype] = self._value.to(dtype)
        return self._values_by_dtype[dtype]

    # ------------------------------------------------------------------ derived matrices
    def summed_duplicates(self) -> "Adjacency":
        """The same matrix with repeated ``(row, column)`` entries (a multigraph's repeated
        edges) summed into one and columns ascending within each row, as ``torch.sparse_csr``
        requires; ``self`` when it already is so."""
        row, col = self.row(), self._col
        if self.nnz < 2 or bool(((row[1:] > row[:-1])
                                 | ((row[1:] == row[:-1]) & (col[1:] > col[:-1]))).all()):
            return self
        perm = _sort_permutation(row, col, self.num_rows, self.num_cols)
        row, col, value = row[perm], col[perm], self.weights()[perm]
        first = torch.ones_like(row, dtype=torch.bool)
        first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
        group = torch.cumsum(first.long(), 0) - 1
        summed = torch.zeros(int(first.sum()), dtype=value.dtype,
                             device=value.device).index_add_(0, group, value)
        return _build_csr(row[first], col[first], summed, self.num_rows, self.num_cols)

    def with_self_loops(self, fill_value: float = 1.0) -> "Adjacency":
        """Gives every node exactly one self-loop, as PyG's ``add_remaining_self_loops``:
        a node that already has a loop keeps its weight (the last one in edge order, if it
        has several), every other node gets a loop of weight ``fill_value`` (finite, >= 0)."""
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise TypeError(f"fill_value must be a float, got {type(fill_value).__name__}")
        if not math.isfinite(fill_value) or fill_value < 0:
            raise ValueError(f"fill_value must be finite and >= 0, got {fill_value}")
        if self.num_rows != self.num_cols:
            raise ValueError("self-loops need a square adjacency, got "
                             f"{self.num_rows} x {self.num_cols}")
        self.check_unchanged()
        n = self.num_rows
        row, weights = self.row(), self.weights()
        is_loop = row == self._col
        # the kept loop of each node: its last one in edge order (a deterministic choice, so
        # that the gradient reaches exactly the weight that was used)
        position = torch.arange(self.nnz, device=self.device)
        last = torch.full((n,), -1, dtype=torch.long, device=self.device).scatter_reduce(
            0, row, torch.where(is_loop, position, -1), reduce="amax")  # no dynamic shape
        has_loop = last >= 0
        loop_weight = torch.where(has_loop, weights[last.clamp(min=0)] if self.nnz else
                                  weights.new_zeros(n), float(fill_value))
        loops = torch.arange(n, device=self.device)
        kept = (~is_loop).nonzero().flatten()  # one data-dependent size, not three masks
        return _build_csr(torch.cat([row[kept], loops]), torch.cat([self._col[kept], loops]),
                          torch.cat([weights[kept], loop_weight]), n, n)

    def normalize(self, kind: str = "sym", add_self_loops: bool = False) -> "Adjacency":
        """The normalized adjacency (cached per ``(kind, add_self_loops)``).

        Args:
            kind (str): ``"sym"``, ``"row"`` or ``"col"``. (default: ``"sym"``)
            add_self_loops (bool): add a unit self-loop to every node first.
                (default: :obj:`False`)
        """
        if kind not in NORMALIZATIONS:
            raise ValueError(f"kind must be one of {NORMALIZATIONS}, got {kind!r}")
        if not isinstance(add_self_loops, bool):
            raise TypeError(f"add_self_loops must be a bool, got {type(add_self_loops).__name__}")
        if kind == "sym" and self.num_rows != self.num_cols:
            raise ValueError("sym normalization needs a square adjacency, got "
                             f"{self.num_rows} x {self.num_cols}")
        self.check_unchanged()
        key = (kind, add_self_loops)
        if key not in self._normalized:
            base = self.with_self_loops() if add_self_loops else self
            w = base.weights().to(torch.float32) if base.value is None else base.value
            row, col = base.row(), base.col
            in_deg = torch.zeros(base.num_rows, dtype=w.dtype, device=w.device).index_add_(0, row, w)
            out_deg = torch.zeros(base.num_cols, dtype=w.dtype, device=w.device).index_add_(0, col, w)

            def inv(d: Tensor, power: float) -> Tensor:
                # zero-degree nodes get 0, and a zero gradient (pow at 0 would give 0 * inf =
                # NaN gradients to the zero weights of their edges)
                positive = d > 0
                return torch.where(positive, torch.where(positive, d, 1.0).pow(-power), 0.0)

            if kind == "sym":
                # D computed from row degrees, as PyG's gcn_norm does (flow source_to_target).
                d = inv(in_deg, 0.5)
                value = d[row] * w * d[col]
            elif kind == "row":
                value = inv(in_deg, 1.0)[row] * w
            else:
                value = w * inv(out_deg, 1.0)[col]
            # 1 / a subnormal degree overflows; say so rather than diffuse infinities
            ok = edge_weights_ok(value)
            if ok is not None and not bool(ok):
                raise ValueError(f"the {kind!r} normalization overflows (a node's degree is too "
                                 "close to zero for this dtype); rescale the edge weights")
            self._normalized[key] = Adjacency._trusted(base.rowptr, base.col, value,
                                                       base.num_cols)
        return self._normalized[key]

    def induced(self, mask: Tensor) -> "Adjacency":
        """The nonzeros whose row and column both lie in ``mask`` (bool ``[num_nodes]``, a
        square adjacency), every row kept (the others empty). Built from this validated
        adjacency, so nothing is re-checked and nothing is synchronised with the host."""
        if self.num_rows != self.num_cols:
            raise ValueError("induced needs a square adjacency, got "
                             f"[{self.num_rows}, {self.num_cols}]")
        check_bool_mask("mask", mask, self.num_rows, self.device)
        row = self.row()
        keep = mask[row] & mask[self._col]
        rowptr = torch.zeros(self.num_rows + 1, dtype=torch.long, device=self.device)
        torch.cumsum(_row_counts(row[keep], self.num_rows), 0, out=rowptr[1:])
        value = None if self._value is None else self._value[keep]
        return Adjacency._trusted(rowptr, self._col[keep], value, self.num_cols)

    def transpose(self) -> tuple["Adjacency", Tensor]:
        """The transposed adjacency and the permutation mapping its nonzeros to ours (cached)."""
        self.check_unchanged()
        if self._transpose is None:
            rowptr, col, perm = csr_transpose(self._rowptr, self._col, self.num_cols)
            value = None if self._value is None else self._value[perm]
            self._transpose = (Adjacency._trusted(rowptr, col, value, self.num_rows), perm)
        return self._transpose

    def reorder(self, method: str = "rcm") -> Reordering:
        r"""A locality-improving node relabelling and the relabelled adjacency
        :math:`\mathbf{P}\mathbf{A}\mathbf{P}^\top` (cached per method).

        Neighbours that get nearby ids share cache lines, so a diffusion over the relabelled
        graph gathers from far fewer distinct memory pages. The permutation is computed once
        and reused by every later call (e.g. ``diffuse(..., reorder=True)``).

        Args:
            method (str): ``"rcm"`` (reverse Cuthill--McKee over the symmetrised pattern, via
                SciPy), ``"degree"`` (nodes sorted by decreasing degree) or ``"metis"`` (the
                nodes grouped by a METIS k-way partition of the symmetrised pattern into
                parts of about :data:`METIS_PART_SIZE` nodes, each part's nodes in their
                original order; needs the optional ``pymetis``: ``pip install
                "noisygraph[metis]"``). (default: ``"rcm"``)
        """
        if method not in REORDERINGS:
            raise ValueError(f"method must be one of {REORDERINGS}, got {method!r}")
        if self.num_rows != self.num_cols:
            raise ValueError("reordering needs a square adjacency, got "
                             f"{self.num_rows} x {self.num_cols}")
        if self._value is not None and self._value.requires_grad:
            raise ValueError("cannot reorder an adjacency whose values require grad (the "
                             "cached relabelled copy would detach them)")
        self.check_unchanged()
        if method not in self._reorderings:
            perm = _ORDERS[method](self)
            inverse = torch.empty_like(perm)
            inverse[perm] = torch.arange(perm.numel(), device=perm.device)
            adjacency = _build_csr(inverse[self.row()], inverse[self._col], self._value,
                                   self.num_rows, self.num_rows)
            self._reorderings[method] = Reordering(adjacency, perm, inverse)
        return self._reorderings[method]


# ---------------------------------------------------------------------------- building CSR
def _sort_permutation(row: Tensor, col: Tensor, num_rows: int, num_cols: int) -> Tensor:
    """The stable permutation sorting nonzeros (``row < num_rows``, ``col < num_cols``) by
    ``(row, col)``."""
    if num_rows * max(num_cols, 1) <= _INT64_MAX:
        return torch.argsort(row * max(num_cols, 1) + col, stable=True)
    by_col = torch.argsort(col, stable=True)  # the key would overflow: two stable sorts
    return by_col[torch.argsort(row[by_col], stable=True)]


def _row_counts(row: Tensor, num_rows: int) -> Tensor:
    """Nonzeros per row (``row`` in range): ``bincount`` with a shape known in advance, so
    ``torch.compile`` does not break the graph at a data-dependent output size."""
    return torch.zeros(num_rows, dtype=torch.long, device=row.device).index_add_(
        0, row, torch.ones_like(row))


def _build_csr(row: Tensor, col: Tensor, value: Optional[Tensor], num_rows: int,
               num_cols: int) -> Adjacency:
    """The CSR of in-range nonzeros ``(row, col, value)`` (int64 indices), sorted by row and
    then column, duplicates kept."""
    perm = _sort_permutation(row, col, num_rows, num_cols)
    rowptr = torch.zeros(num_rows + 1, dtype=torch.long, device=row.device)
    torch.cumsum(_row_counts(row, num_rows), 0, out=rowptr[1:])
    return Adjacency._trusted(rowptr, col[perm], None if value is None else value[perm],
                              num_cols)


def _from_edge_index(edge_index, edge_weight: Optional[Tensor], num_nodes: Optional[int],
                     name: str) -> Adjacency:
    edge_index, num_nodes = check_edge_index(name, edge_index, num_nodes,
                                             edge_weight=edge_weight)
    return _build_csr(edge_index[1], edge_index[0], edge_weight, num_nodes, num_nodes)


def _from_torch_sparse(matrix, name: str) -> Adjacency:
    if not isinstance(matrix, Tensor) or matrix.layout not in (torch.sparse_coo,
                                                               torch.sparse_csr):
        raise TypeError(f"{name} must be a torch.sparse COO or CSR matrix, got "
                        f"{getattr(matrix, 'layout', type(matrix).__name__)}")
    if matrix.dim() != 2 or matrix.dense_dim() != 0:
        raise ValueError(f"{name} must be a 2-D sparse matrix with scalar values, got shape "
                         f"{tuple(matrix.shape)} with {matrix.dense_dim()} dense dimensions")
    num_rows, num_cols = matrix.shape
    if matrix.layout == torch.sparse_csr:
        values = matrix.values()
        rowptr = _check_index_tensor(f"{name}.crow_indices()", matrix.crow_indices(), 1)
        col = _check_index_tensor(f"{name}.col_indices()", matrix.col_indices(), 1)
        check_edge_weight_metadata(f"{name}.values()", values, col.numel(), col.device)
        _check_csr(rowptr, col, num_cols, values,
                   (f"{name}.crow_indices()", f"{name}.col_indices()", f"{name}.values()"))
        row = torch.repeat_interleave(torch.arange(num_rows, device=col.device),
                                      rowptr[1:] - rowptr[:-1], output_size=col.numel())
        return _build_csr(row, col, values, num_rows, num_cols)
    # COO: is_coalesced() may be a claim nobody checked (PyG's to_edge_index sets it in place
    # without sorting), so the nonzeros are read raw and sorted by _build_csr.
    if matrix.is_coalesced():
        indices, values = matrix._indices(), matrix.values()  # values() keeps the gradient
    elif matrix.requires_grad:
        coalesced = matrix.coalesce()  # really sorts: the flag was False
        indices, values = coalesced._indices(), coalesced.values()
    else:
        indices, values = matrix._indices(), matrix._values()
    return _from_coo(indices[0], indices[1], values, num_rows, num_cols, f"{name}'s indices",
                     f"{name}.values()")


def _from_coo(row: Tensor, col: Tensor, value: Optional[Tensor], num_rows: int, num_cols: int,
              name: str, value_name: Optional[str] = None) -> Adjacency:
    """The CSR of nonzeros ``(row, col, value)`` (rows are targets), their ranges and weights
    checked with one host sync."""
    row, col = row.to(torch.long), col.to(torch.long)
    value_name = value_name or f"{name}'s values"
    if value is not None:
        check_edge_weight_metadata(value_name, value, row.numel(), row.device)
    if row.numel() > 0:
        ok = edge_weights_ok(value)
        flags = torch.stack([row.min(), col.min(), row.max(), col.max(),
                             torch.ones_like(row[0]) if ok is None else ok.to(torch.long)])
        low_row, low_col, high_row, high_col, ok = flags.tolist()
        if low_row < 0 or high_row >= num_rows or low_col < 0 or high_col >= num_cols:
            raise ValueError(f"{name} hold rows in [{low_row}, {high_row}] and columns "
                             f"in [{low_col}, {high_col}], outside its size "
                             f"{num_rows} x {num_cols}")
        if not ok:
            raise_bad_edge_weights(value_name, value)
    return _build_csr(row, col, value, num_rows, num_cols)


def csr_transpose(rowptr: Tensor, col: Tensor, num_cols: int) -> tuple[Tensor, Tensor, Tensor]:
    """The transpose of a CSR pattern: ``(rowptr_t, col_t, perm)`` with ``perm`` mapping the
    transposed nonzeros to the original ones (``value_t = value[perm]``); int64 indices."""
    rowptr, col = rowptr.to(torch.long), col.to(torch.long)
    num_rows = rowptr.numel() - 1
    row = torch.repeat_interleave(torch.arange(num_rows, device=col.device),
                                  rowptr[1:] - rowptr[:-1], output_size=col.numel())
    perm = _sort_permutation(col, row, num_cols, num_rows)
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


def _metis_order(adj: Adjacency) -> Tensor:
    """The nodes sorted by their part in a METIS k-way partition of the symmetrised pattern
    without self-loops (``ceil(n / METIS_PART_SIZE)`` parts, seed 0), stable within a part."""
    import numpy as np
    import scipy.sparse

    from noisygraph._optional import require

    pymetis = require("pymetis", "metis", "Adjacency.reorder('metis')")
    n = adj.num_rows
    parts = -(-n // METIS_PART_SIZE)
    if parts <= 1:
        return torch.arange(n, device=adj.device)
    pattern = scipy.sparse.csr_matrix(
        (np.ones(adj.nnz, dtype=np.int32), adj.col.cpu().numpy(), adj.rowptr.cpu().numpy()),
        shape=(n, n))
    pattern = (pattern + pattern.T).tocsr()
    pattern.setdiag(0)
    pattern.eliminate_zeros()
    graph = pymetis.CSRAdjacency(pattern.indptr.astype(np.int64),
                                 pattern.indices.astype(np.int64))
    membership = pymetis.part_graph(parts, graph, options=pymetis.Options(seed=0)).vertex_part
    membership = torch.as_tensor(np.asarray(membership, dtype=np.int64))
    return torch.argsort(membership, stable=True).to(adj.device)


_ORDERS = {"rcm": _rcm_order, "degree": _degree_order, "metis": _metis_order}


def _sparse_size(graph: Tensor) -> Optional[int]:
    """The node count a PyG ``EdgeIndex`` claims (the larger known side), else ``None``."""
    sparse_size = getattr(graph, "sparse_size", None)
    if not callable(sparse_size):
        return None
    sizes = [s for s in sparse_size() if s is not None]
    return max(sizes) if sizes else None


def _check_size(adj: Adjacency, num_nodes: Optional[int], kind: str) -> Adjacency:
    if num_nodes is not None and not adj.num_rows == adj.num_cols == num_nodes:
        raise ValueError(f"num_nodes = {num_nodes} but the graph ({kind}) is "
                         f"{adj.num_rows} x {adj.num_cols}")
    return adj


def _no_edge_weight(edge_weight: Optional[Tensor], kind: str) -> None:
    if edge_weight is not None:
        raise ValueError(f"edge_weight is only accepted with an edge_index graph (or a PyG Data); "
                         f"a {kind} carries its own values")


def _from_data(data, num_nodes: Optional[int], edge_weight: Optional[Tensor]) -> Adjacency:
    """A PyG ``Data``: ``edge_index`` (or a torch.sparse ``adj_t``), the weights from
    ``edge_weight``, else a 1-D float ``edge_attr`` (PyG's converters' convention)."""
    with warnings.catch_warnings():  # PyG warns when it infers the count from edge_index
        warnings.simplefilter("ignore")
        claimed = data.num_nodes
    if claimed is not None:
        if num_nodes is not None and num_nodes != claimed:
            raise ValueError(f"num_nodes = {num_nodes} but graph.num_nodes = {claimed}")
        num_nodes = claimed
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        adj_t = getattr(data, "adj_t", None)
        if isinstance(adj_t, Tensor) and adj_t.layout != torch.strided:
            _no_edge_weight(edge_weight, "Data holding adj_t")
            return _check_size(_from_torch_sparse(adj_t, "graph.adj_t"), num_nodes, "graph.adj_t")
        raise ValueError("graph is a PyG Data without edge_index (or a torch.sparse adj_t)")
    if edge_weight is None:
        edge_weight = getattr(data, "edge_weight", None)
        if edge_weight is None:
            attr = getattr(data, "edge_attr", None)
            if isinstance(attr, Tensor) and attr.dim() == 1 and attr.is_floating_point():
                edge_weight = attr
    claimed = _sparse_size(edge_index)
    if claimed is not None and num_nodes is not None and claimed != num_nodes:
        raise ValueError(f"graph.num_nodes = {num_nodes} but graph.edge_index has sparse size "
                         f"{tuple(edge_index.sparse_size())}")
    return _from_edge_index(edge_index, edge_weight, num_nodes, "graph.edge_index")


def _from_scipy(matrix, num_nodes: Optional[int], name: str) -> Adjacency:
    """A ``scipy.sparse`` matrix ``A[source, target]`` (PyG's ``from_scipy_sparse_matrix``
    convention: entry ``(i, j)`` is the edge ``i -> j``)."""
    from torch_geometric.utils import from_scipy_sparse_matrix

    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-D sparse matrix, got shape {matrix.shape}")
    num_sources, num_targets = matrix.shape
    kind = matrix.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real weights, got dtype {matrix.dtype}")
    if kind != "f":  # integer / bool patterns become weights in the default float dtype
        matrix = matrix.astype(torch.empty((), dtype=torch.get_default_dtype()).numpy().dtype)
    edge_index, weight = from_scipy_sparse_matrix(matrix)
    adj = _from_coo(edge_index[1], edge_index[0], weight, num_targets, num_sources, name)
    return _check_size(adj, num_nodes, name)


def _from_networkx(graph, num_nodes: Optional[int]) -> Adjacency:
    """A ``networkx`` graph in ``graph.nodes`` order (as PyG's ``from_networkx``), each edge
    weighted by its ``"weight"`` attribute (1 without one); an undirected edge goes both ways,
    parallel edges of a multigraph are summed."""
    import networkx

    try:
        matrix = networkx.to_scipy_sparse_array(graph, nodelist=list(graph.nodes),
                                                weight="weight", format="coo")
    except (TypeError, ValueError) as error:
        raise ValueError(f"graph (networkx): its edge weights are not numbers ({error})") from None
    return _from_scipy(matrix, num_nodes, "graph (networkx)")


def as_adjacency(graph, *, num_nodes: Optional[int] = None,
                 edge_weight: Optional[Tensor] = None) -> Adjacency:
    r"""The graph as a validated :class:`Adjacency`: the one conversion every public function
    and layer runs at its boundary (the result is handed down, never converted again).

    Accepted formats (messages flow from source to target, the CSR rows are the targets):

    * an :class:`Adjacency`: returned as is (no copy; an O(1) check that it was not modified
      in place);
    * an ``edge_index`` tensor ``[2, E]`` (sources, then targets) or a PyG ``EdgeIndex``
      (its sparse size is the node count; its sort order is not trusted);
    * a PyG ``Data`` (or ``Batch``): its ``edge_index`` and ``num_nodes``, the weights from
      ``edge_weight``, else from ``edge_attr`` when that is a 1-D float tensor (a
      multi-dimensional ``edge_attr`` holds edge features and is not used); a ``Data`` with a
      torch.sparse ``adj_t`` (PyG's ``ToSparseTensor``) instead of ``edge_index`` works too;
    * a 2-D ``torch.sparse`` COO or CSR matrix (a CSC one is rejected: transpose it, as
      ``adj.t()``), read as PyG's layers read ``adj_t``:
      entry ``(i, j)`` is the edge ``j -> i`` (its coalesced flag is not trusted);
    * a ``scipy.sparse`` matrix or array, read as PyG's ``from_scipy_sparse_matrix`` reads it:
      entry ``(i, j)`` is the edge ``i -> j`` (integer or bool entries become float weights);
    * a ``networkx`` graph, through ``networkx.to_scipy_sparse_array`` (nodes in
      ``graph.nodes`` order, as PyG's ``from_networkx``; the ``"weight"`` edge attribute,
      1 when absent).

    Every index and weight is checked (one host synchronisation); anything else raises a
    :class:`TypeError` naming ``graph``.

    Args:
        graph: the graph, in one of the formats above.
        num_nodes (int, optional): the number of nodes. An ``edge_index`` has no size of its
            own (default: the ``EdgeIndex``'s sparse size, else the largest id + 1); every
            other format has one, which must then equal ``num_nodes``. (default: :obj:`None`)
        edge_weight (torch.Tensor, optional): finite, non-negative weights ``[E]``, only with
            an ``edge_index``/``EdgeIndex`` or a ``Data`` (where it replaces the ``Data``'s
            own weights). (default: :obj:`None`)
    """
    if num_nodes is not None:
        num_nodes = check_count("num_nodes", num_nodes)
    if isinstance(graph, Adjacency):
        _no_edge_weight(edge_weight, "Adjacency")
        graph.check_unchanged()
        return _check_size(graph, num_nodes, "Adjacency")
    if isinstance(graph, Tensor):
        if graph.layout != torch.strided:
            _no_edge_weight(edge_weight, "sparse matrix")
            return _check_size(_from_torch_sparse(graph, "graph"), num_nodes, "sparse matrix")
        claimed = _sparse_size(graph)
        if claimed is not None:
            if num_nodes is not None and num_nodes != claimed:
                raise ValueError(f"num_nodes = {num_nodes} but the EdgeIndex graph has sparse "
                                 f"size {tuple(graph.sparse_size())}")
            num_nodes = claimed
        name = "graph (edge_index)" if claimed is None else "graph (EdgeIndex)"
        return _from_edge_index(graph, edge_weight, num_nodes, name)
    pyg_data = sys.modules.get("torch_geometric.data")
    if pyg_data is not None and isinstance(graph, pyg_data.HeteroData):
        raise TypeError("graph must be a homogeneous graph; a HeteroData has several edge "
                        "types (pass one of them, e.g. data['paper', 'cites', 'paper'])")
    if pyg_data is not None and isinstance(graph, pyg_data.Data):
        return _from_data(graph, num_nodes, edge_weight)
    scipy_sparse = sys.modules.get("scipy.sparse")
    if scipy_sparse is not None and scipy_sparse.issparse(graph):
        _no_edge_weight(edge_weight, "scipy.sparse matrix")
        return _from_scipy(graph, num_nodes, "graph (scipy.sparse)")
    nx = sys.modules.get("networkx")
    if nx is not None and isinstance(graph, nx.Graph):
        _no_edge_weight(edge_weight, "networkx graph")
        return _from_networkx(graph, num_nodes)
    raise TypeError("graph must be an Adjacency, an edge_index/EdgeIndex tensor, a PyG Data, a "
                    "torch.sparse matrix, a scipy.sparse matrix or a networkx graph, got "
                    f"{type(graph).__name__}")


def to_adjacency(graph: GraphLike, edge_weight: Optional[Tensor] = None,
                 num_nodes: Optional[int] = None) -> Adjacency:
    """:func:`as_adjacency` with the positional ``(graph, edge_weight, num_nodes)`` order of
    earlier releases (same conversion, same checks)."""
    return as_adjacency(graph, num_nodes=num_nodes, edge_weight=edge_weight)
