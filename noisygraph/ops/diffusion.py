"""Sparse diffusion ops: ``spmm`` and the fused K-step ``diffuse``."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from noisygraph.ops.reference import diffuse_reference, spmm_reference
from noisygraph.sparse import GraphLike, to_adjacency


def spmm(graph: GraphLike, x: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
    r"""Sparse-dense product :math:`\mathbf{A}\mathbf{X}` (rows of ``A`` are targets).

    Args:
        graph: an :class:`~noisygraph.sparse.Adjacency`, ``edge_index``, ``EdgeIndex`` or
            ``torch.sparse`` matrix.
        x (torch.Tensor): dense features ``[num_nodes, F]``.
        edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
    """
    adj = to_adjacency(graph, edge_weight, num_nodes=x.size(0))
    return spmm_reference(adj.rowptr, adj.col, adj.value, x)


def diffuse(graph: GraphLike, y0: Tensor, num_steps: int, alpha: float,
            mask: Optional[Tensor] = None, mask_mode: str = "zero",
            edge_weight: Optional[Tensor] = None) -> Tensor:
    r"""Fused :math:`K`-step diffusion with restart,

    .. math::
        \mathbf{Y}_{t+1} = (1-\alpha)\,\hat{\mathbf{A}}\mathbf{Y}_t + \alpha\,\mathbf{Y}_0,
        \quad t = 0, \dots, K-1,

    over the (already normalized) adjacency :math:`\hat{\mathbf{A}}`.

    Args:
        graph: the adjacency :math:`\hat{\mathbf{A}}` (normalize it first, e.g.
            ``to_adjacency(edge_index).normalize("sym")``).
        y0 (torch.Tensor): starting signal ``[num_nodes, F]``.
        num_steps (int): :math:`K >= 0`.
        alpha (float): restart probability in :math:`[0, 1]`.
        mask (torch.Tensor, optional): boolean ``[num_nodes]``. With ``mask_mode="zero"``
            rows outside the mask start (and restart) at zero; with ``"clamp"`` rows inside
            the mask are reset to ``Y_0`` after every step. (default: :obj:`None`)
        mask_mode (str): ``"zero"`` or ``"clamp"``. (default: ``"zero"``)
        edge_weight (torch.Tensor, optional): weights of ``edge_index``'s edges.
    """
    adj = to_adjacency(graph, edge_weight, num_nodes=y0.size(0))
    clamp_mask = None
    if mask is not None:
        if mask_mode == "zero":
            y0 = y0 * mask.to(y0.dtype).unsqueeze(-1)
        elif mask_mode == "clamp":
            clamp_mask = mask
        else:
            raise ValueError(f"mask_mode must be 'zero' or 'clamp', got {mask_mode!r}")
    return diffuse_reference(adj.rowptr, adj.col, adj.value, y0, num_steps, alpha, clamp_mask)
