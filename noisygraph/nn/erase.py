r"""The ERASE encoder of "ERASE: Error-Resilient Representation Learning on Graphs for Label
Noise Tolerance" (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852); the method and its
trainer are :mod:`noisygraph.erase`.
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv
from torch_geometric.utils import softmax

from noisygraph._validation import check_bool, check_hop_counts, check_int, check_real
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
            function: values and gradients equal ``GATConv``'s to float64 rounding; in float32
            the sums run in another order, so the last bits differ and a prediction can move).
            ``False`` runs PyG's ``GATConv`` forward, which is also taken when explaining,
            compiling, or without the compiled kernel. (default: :obj:`True`)
    """

    def __init__(self, in_channels: int, hidden_channels: int = 256, out_channels: int = 512,
                 heads: int = 8, dropout: float = 0.5,
                 encoder: Optional[torch.nn.Module] = None, fused: bool = True):
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

    def forward(self, x: Tensor, edge_index: Tensor, *,
                num_sampled_nodes_per_hop: Optional[Sequence[int]] = None,
                num_sampled_edges_per_hop: Optional[Sequence[int]] = None) -> Tensor:
        """Embeddings ``[N, p]`` of the nodes of ``(x, edge_index)``. The GAT encoder also
        takes ``x`` as a sparse CSR tensor (see :func:`sparse_features`): same values, and
        the first layer's projection then costs in proportion to the nonzeros.

        With the per-hop counts of a sampled mini-batch (``batch.num_sampled_nodes`` and
        ``batch.num_sampled_edges`` of a PyG neighbour loader: nodes and edges ordered by
        hop, seeds first), each GAT layer runs only on the targets whose output a later layer
        reads, as PyG's ``trim_to_layer`` does: the first layer on the nodes of all hops but
        the last (with every sampled edge), the second on the nodes of all hops but the last
        two (with their in-edges), i.e. the seeds for a two-hop batch. The result then holds
        only those rows (the seeds first), equal to the first rows of the untrimmed forward:
        the layers never see the other rows. Needs at least two hops; a custom ``encoder``
        ignores the counts and returns every row."""
        if self.encoder is not None:
            return self.encoder(x, edge_index)
        self._check_input(x, edge_index)
        if num_sampled_nodes_per_hop is not None or num_sampled_edges_per_hop is not None:
            return self._trimmed_forward(x, edge_index, num_sampled_nodes_per_hop,
                                         num_sampled_edges_per_hop)
        x = self._input_dropout(x)
        if self.fused and fusable(self.conv1, x) and fusable(self.conv2, x):
            adj, rows = self._cached_gat_graph(edge_index, x.size(0))
            h = self._first_activation(fused_gat(self.conv1, x, adj, rows))
            return self._last_activation(fused_gat(self.conv2, h, adj, rows))
        h = self._first_activation(self.conv1(x, edge_index))
        return self._last_activation(self.conv2(h, edge_index))

    def _trimmed_forward(self, x: Tensor, edge_index: Tensor, nodes, edges) -> Tensor:
        """The forward on a hop-ordered sampled batch, each layer trimmed to the targets a
        later layer reads (see :meth:`forward`)."""
        nodes = check_hop_counts("num_sampled_nodes_per_hop", nodes, x.size(0))
        edges = check_hop_counts("num_sampled_edges_per_hop", edges, edge_index.size(1))
        if len(edges) != len(nodes) - 1:
            raise ValueError(f"num_sampled_edges_per_hop must hold one count per hop "
                             f"({len(nodes) - 1}: one fewer than num_sampled_nodes_per_hop), "
                             f"got {len(edges)}")
        if len(edges) < 2:
            raise ValueError(f"the trimmed forward needs at least 2 sampled hops for the 2 GAT "
                             f"layers, got {len(edges)}")
        x = self._input_dropout(x)
        if x.layout != torch.strided:
            x = x.to_dense()
        hops = len(edges)
        # layer l (1-based) computes the nodes of hops 0..hops-l from the edges of those hops
        first_targets, second_targets = sum(nodes[:hops]), sum(nodes[:hops - 1])
        first_edges, second_edges = sum(edges[:hops]), sum(edges[:hops - 1])
        h = self.conv1((x, x[:first_targets]), edge_index[:, :first_edges])
        h = self._first_activation(h)
        z = self.conv2((h, h[:second_targets]), edge_index[:, :second_edges])
        return self._last_activation(z)

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
        :meth:`forward` up to the order of floating-point sums): each node's attention
        scores and (where that is the cheaper side) projection are computed once, not once
        per chunk that reads the node (see :func:`_chunked_gat`), and the activations run in
        place. A custom encoder always runs in one full-graph pass.
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
            # the activations in place: at 10^6 nodes every [N, 512] buffer is gigabytes
            h = F.leaky_relu(_chunked_conv(self.conv1, x, adj, chunk_size), inplace=True)
            h /= torch.linalg.vector_norm(h, 1, dim=1, keepdim=True).clamp_min(1e-12)
            z = _chunked_conv(self.conv2, h, adj, chunk_size)
            del h
            z /= torch.linalg.vector_norm(z, 1, dim=1, keepdim=True).clamp_min(1e-12)
            return z.relu_()
        finally:
            self.train(was_training)

    def __repr__(self) -> str:
        if self.encoder is not None:
            return f"{self.__class__.__name__}(encoder={self.encoder})"
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"hidden={self.conv1.heads * self.conv1.out_channels}, "
                f"heads={self.conv1.heads}, dropout={self.dropout})")


def _chunked_conv(conv: torch.nn.Module, x: Tensor, adj: Adjacency, chunk_size: int) -> Tensor:
    """Applies a message-passing layer to all nodes, ``chunk_size`` target nodes at a time.

    A plain ``GATConv`` (shared projection, self-loops, heads concatenated, no edge features
    or residual) goes through :func:`_chunked_gat`; any other layer runs on each chunk's
    subgraph of its full in-neighbourhood (chunk nodes first, so self-loops added by the
    layer land on the right nodes)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if (type(conv) is GATConv and conv.lin is not None and getattr(conv, "res", None) is None
            and conv.lin_edge is None and conv.add_self_loops and conv.concat):
        return _chunked_gat(conv, x, adj, chunk_size)
    num_nodes = x.size(0)
    local = torch.full((num_nodes,), -1, dtype=torch.long, device=x.device)
    outputs = []
    for start in range(0, num_nodes, chunk_size):
        end = min(start + chunk_size, num_nodes)
        targets = torch.arange(start, end, device=x.device)
        sources, edge_targets = _chunk_in_edges(adj, start, end)
        local[targets] = targets - start
        extra = torch.unique(sources[local[sources] < 0])
        local[extra] = torch.arange(end - start, end - start + extra.numel(), device=x.device)
        nodes = torch.cat([targets, extra])
        edge_index = torch.stack([local[sources], edge_targets])
        outputs.append(conv((x[nodes], x[targets]), edge_index))
        local[nodes] = -1
    return torch.cat(outputs)


def _chunk_in_edges(adj: Adjacency, start: int, end: int) -> tuple[Tensor, Tensor]:
    """The in-edges of target nodes ``[start, end)``: their sources (global ids) and their
    targets (``0 .. end - start - 1``)."""
    lo, hi = int(adj.rowptr[start]), int(adj.rowptr[end])
    targets = torch.arange(end - start, device=adj.col.device)
    return adj.col[lo:hi], torch.repeat_interleave(
        targets, adj.rowptr[start + 1:end + 1] - adj.rowptr[start:end])


def _chunked_gat(conv: GATConv, x: Tensor, adj: Adjacency, chunk_size: int) -> Tensor:
    r"""``conv(x, edge_index)`` of a plain ``GATConv``, ``chunk_size`` targets at a time,
    without redoing a node's projection in every chunk that reads it.

    The attention scores of a node are linear in its features
    (:math:`\mathbf{a}_h^\top \mathbf{W}_h \mathbf{x} = (\mathbf{W}_h^\top \mathbf{a}_h)^\top
    \mathbf{x}`), so they are computed once for all nodes; each chunk then takes the softmax
    over its targets' in-edges (existing self-loops replaced by one per node, as the layer
    does). The weighted sum runs where it is cheaper per edge: on the projected features
    (projected once, ``[N, heads * C]``) when ``C <= in_channels``, else on the input
    features, projected per chunk after the sum (:math:`\sum_j \alpha_{ij}\mathbf{W}
    \mathbf{x}_j = \mathbf{W}\sum_j \alpha_{ij}\mathbf{x}_j`). Per-edge tensors never hold
    more than one chunk's edges. Same result as the layer up to the order of floating-point
    sums."""
    heads, channels = conv.heads, conv.out_channels
    weight = conv.lin.weight.view(heads, channels, -1)  # [H, C, F]
    score_src = x @ (weight * conv.att_src.view(heads, channels, 1)).sum(1).t()  # [N, H]
    score_dst = x @ (weight * conv.att_dst.view(heads, channels, 1)).sum(1).t()
    project_first = channels <= x.size(1)
    if project_first:  # per head [N, C], contiguous for the sparse products
        values = [_rowwise(lambda rows, w=weight[k]: rows @ w.t(), x, chunk_size)
                  for k in range(heads)]
    num_nodes = x.size(0)
    out = x.new_empty(num_nodes, heads * channels)
    for start in range(0, num_nodes, chunk_size):
        end = min(start + chunk_size, num_nodes)
        size = end - start
        sources, targets = _chunk_in_edges(adj, start, end)
        keep = sources != targets + start  # the layer's own self-loops replace these
        sources, targets = sources[keep], targets[keep]
        loops = torch.arange(size, device=x.device)
        logits = torch.cat([score_src.index_select(0, sources)
                            + score_dst.index_select(0, targets + start),
                            score_src[start:end] + score_dst[start:end]])
        alpha = softmax(F.leaky_relu(logits, conv.negative_slope),
                        torch.cat([targets, loops]), num_nodes=size)  # [E_chunk + size, H]
        edge_alpha, loop_alpha = alpha[:sources.numel()], alpha[sources.numel():]
        crow = torch.zeros(size + 1, dtype=torch.long, device=x.device)
        torch.cumsum(torch.bincount(targets, minlength=size), 0, out=crow[1:])
        for k in range(heads):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
                matrix = torch.sparse_csr_tensor(crow, sources, edge_alpha[:, k].contiguous(),
                                                 (size, num_nodes))
            source = values[k] if project_first else x
            summed = matrix @ source + loop_alpha[:, k:k + 1] * source[start:end]
            if not project_first:  # W sum(alpha x) = sum(alpha W x)
                summed = summed @ weight[k].t()
            out[start:end, k * channels:(k + 1) * channels] = summed
    if conv.bias is not None:
        out += conv.bias
    return out


def _rowwise(layer, x: Tensor, chunk_size: int) -> Tensor:
    """``layer(x)`` computed ``chunk_size`` rows at a time into one output (no second
    buffer of the whole result's size)."""
    first = layer(x[:chunk_size])
    out = first.new_empty(x.size(0), first.size(1))
    out[:first.size(0)] = first
    for start in range(chunk_size, x.size(0), chunk_size):
        out[start:start + chunk_size] = layer(x[start:start + chunk_size])
    return out
