r"""The ERASE encoder of "ERASE: Error-Resilient Representation Learning on Graphs for Label
Noise Tolerance" (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852); the method and its
trainer are :mod:`noisygraph.erase`.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv

from noisygraph._validation import check_bool, check_int, check_real
from noisygraph.nn._fused_gat import fusable, fused_gat, gat_graph
from noisygraph.sparse import Adjacency, as_adjacency


class ERASE(torch.nn.Module):
    r"""The ERASE encoder. By default the paper's two GAT layers:

    .. math::
        \mathbf{H} &= \mathrm{norm}_1\big(\mathrm{LeakyReLU}(\mathrm{GAT}_{8\times 32}
            (\mathrm{dropout}(\mathbf{X})))\big), \\
        \mathbf{Z} &= \mathrm{ReLU}\big(\mathrm{norm}_1(\mathrm{GAT}_{1\times 512}
            (\mathbf{H}))\big),

    with :math:`\mathrm{norm}_1` the row-wise L1 normalisation. Any PyG encoder
    ``encoder(x, edge_index) -> Z`` can replace it.

    Args:
        in_channels (int): input feature dimension.
        hidden_channels (int, optional): width of the first layer (all heads together).
            (default: ``256``)
        out_channels (int, optional): embedding dimension :math:`p`. (default: ``512``)
        heads (int, optional): attention heads of the first layer. (default: ``8``)
        dropout (float, optional): dropout on the input of the first layer. (default: ``0.5``)
        encoder (torch.nn.Module, optional): replaces the GAT encoder; ``in_channels`` and the
            other sizes are then ignored. (default: :obj:`None`)
        fused (bool, optional): the forward computes each GAT layer's attention weights as
            PyG's ``GATConv`` does, then aggregates with one ``noisygraph`` sparse product per
            head, without the per-edge ``[E, heads, C]`` message tensor (same parameters, same
            result up to the order of floating-point sums, which can move a prediction: on
            Cora, 12 epochs, the same selected epoch but one test node of 1000 differs; PyG's
            forward when explaining, compiling, or without the compiled kernel). Off by
            default so that results stay those of PyG's ``GATConv``. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256, out_channels: int = 512,
                 heads: int = 8, dropout: float = 0.5,
                 encoder: Optional[torch.nn.Module] = None, fused: bool = False):
        super().__init__()
        self.fused = check_bool("fused", fused)
        self._gat_graph = None  # (edge_index, its version, num_nodes, Adjacency, rows)
        if encoder is not None and not isinstance(encoder, torch.nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module or None, got "
                            f"{type(encoder).__name__}")
        self.encoder = encoder
        if encoder is None:
            in_channels = check_int("in_channels", in_channels, low=1)
            hidden_channels = check_int("hidden_channels", hidden_channels, low=1)
            out_channels = check_int("out_channels", out_channels, low=1)
            heads = check_int("heads", heads, low=1)
            if hidden_channels % heads != 0:
                raise ValueError(f"hidden_channels ({hidden_channels}) must be divisible by "
                                 f"heads ({heads})")
            self.dropout = check_real("dropout", dropout, low=0.0, high=1.0, high_open=True)
            self.conv1 = GATConv(in_channels, hidden_channels // heads, heads=heads)
            self.conv2 = GATConv(hidden_channels, out_channels, heads=1)
        else:
            self.dropout = float(dropout)
        self.in_channels, self.out_channels = in_channels, out_channels

    def reset_parameters(self) -> None:
        if self.encoder is not None:
            if hasattr(self.encoder, "reset_parameters"):
                self.encoder.reset_parameters()
            return
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    @staticmethod
    def _first_activation(h: Tensor) -> Tensor:
        return F.normalize(F.leaky_relu(h), p=1.0, dim=1)

    @staticmethod
    def _last_activation(h: Tensor) -> Tensor:
        return F.relu(F.normalize(h, p=1.0, dim=1))

    def _input_dropout(self, x: Tensor) -> Tensor:
        if x.layout == torch.sparse_csr:  # drop stored entries only: zeros stay zero
            values = F.dropout(x.values(), p=self.dropout, training=self.training)
            return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape,
                                           check_invariants=False)
        return F.dropout(x, p=self.dropout, training=self.training)

    def _check_input(self, x, edge_index) -> None:
        """Types and shapes only (no host synchronisation: this runs every step)."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got "
                            f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must have shape [N, {self.in_channels}], got {tuple(x.shape)}")
        if isinstance(edge_index, Tensor) and edge_index.layout == torch.strided and (
                edge_index.dim() != 2 or edge_index.size(0) != 2
                or edge_index.is_floating_point() or edge_index.dtype == torch.bool):
            raise ValueError(f"edge_index must be an integer [2, E] tensor, got "
                             f"{edge_index.dtype} of shape {tuple(edge_index.shape)}")

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Embeddings ``[N, p]`` of the nodes of ``(x, edge_index)``. The GAT encoder also
        takes ``x`` as a sparse CSR tensor (see :func:`sparse_features`): same values, and
        the first layer's projection then costs in proportion to the nonzeros."""
        if self.encoder is not None:
            return self.encoder(x, edge_index)
        self._check_input(x, edge_index)
        x = self._input_dropout(x)
        if self.fused and fusable(self.conv1, x) and fusable(self.conv2, x):
            adj, rows = self._cached_gat_graph(edge_index, x.size(0))
            h = self._first_activation(fused_gat(self.conv1, x, adj, rows))
            return self._last_activation(fused_gat(self.conv2, h, adj, rows))
        h = self._first_activation(self.conv1(x, edge_index))
        return self._last_activation(self.conv2(h, edge_index))

    def _cached_gat_graph(self, edge_index: Tensor, num_nodes: int):
        """:func:`gat_graph` of ``edge_index``, built once per graph (a trainer passes the same
        ``edge_index`` every epoch; an in-place change of it is noticed by its version)."""
        cached = self._gat_graph
        if cached is None or cached[0] is not edge_index or \
                cached[1] != edge_index._version or cached[2] != num_nodes:
            cached = (edge_index, edge_index._version, num_nodes,
                      *gat_graph(edge_index, num_nodes))
            self._gat_graph = cached
        return cached[3], cached[4]

    @torch.no_grad()
    def inference(self, x: Tensor, edge_index: Tensor, chunk_size: Optional[int] = None, *,
                  adjacency: Optional[Adjacency] = None) -> Tensor:
        """Evaluation-mode embeddings of all nodes. With ``chunk_size`` the GAT encoder runs
        layer by layer over chunks of target nodes with their full neighbourhoods, so the
        per-edge attention tensors of a large graph never exist all at once (same result as
        :meth:`forward`). A custom encoder always runs in one full-graph pass.
        ``adjacency``: ``edge_index`` already converted (``as_adjacency``), so that a trainer
        calling this every epoch converts the graph once."""
        was_training = self.training
        self.eval()
        try:
            if self.encoder is not None or chunk_size is None:
                return self(x, edge_index)
            chunk_size = check_int("chunk_size", chunk_size, low=1)
            self._check_input(x, edge_index)
            adj = adjacency if adjacency is not None else as_adjacency(edge_index,
                                                                        num_nodes=x.size(0))
            if x.layout != torch.strided:
                x = x.to_dense()
            h = self._first_activation(_chunked_conv(self.conv1, x, adj, chunk_size))
            return self._last_activation(_chunked_conv(self.conv2, h, adj, chunk_size))
        finally:
            self.train(was_training)

    def __repr__(self) -> str:
        if self.encoder is not None:
            return f"{self.__class__.__name__}(encoder={self.encoder})"
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"hidden={self.conv1.heads * self.conv1.out_channels}, "
                f"heads={self.conv1.heads}, dropout={self.dropout})")


def _chunked_conv(conv: torch.nn.Module, x: Tensor, adj: Adjacency, chunk_size: int) -> Tensor:
    """Applies a message-passing layer to all nodes, ``chunk_size`` target nodes at a time,
    each chunk on the subgraph of its full in-neighbourhood (chunk nodes first, so
    self-loops added by the layer land on the right nodes)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    num_nodes = x.size(0)
    local = torch.full((num_nodes,), -1, dtype=torch.long, device=x.device)
    outputs = []
    for start in range(0, num_nodes, chunk_size):
        end = min(start + chunk_size, num_nodes)
        targets = torch.arange(start, end, device=x.device)
        lo, hi = int(adj.rowptr[start]), int(adj.rowptr[end])
        sources = adj.col[lo:hi]
        edge_targets = torch.repeat_interleave(
            targets - start, adj.rowptr[start + 1:end + 1] - adj.rowptr[start:end])
        local[targets] = targets - start
        extra = torch.unique(sources[local[sources] < 0])
        local[extra] = torch.arange(end - start, end - start + extra.numel(), device=x.device)
        nodes = torch.cat([targets, extra])
        edge_index = torch.stack([local[sources], edge_targets])
        outputs.append(conv((x[nodes], x[targets]), edge_index))
        local[nodes] = -1
    return torch.cat(outputs)
