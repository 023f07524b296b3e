"""Adapted from PyG (PyTorch Geometric), https://github.com/pyg-team/pytorch_geometric:
test/nn/models/test_label_prop.py at tag 2.8.0. The file is identical at release/2.8 and on master up to
5c6461b (it last changed in 9af3cedd2), so it is also the file of the 2.8.1 release installed
here (that tag is not in our snapshot of the repository). PyG is MIT-licensed,
Copyright (c) 2023 PyG Team <team@pyg.org>.

Only the import of the tested class changed: ``from torch_geometric.nn.models import LabelPropagation`` became
``from noisygraph.nn import LabelPropagation``; every other line is PyG's own.
"""
import torch

import torch_geometric.typing
from noisygraph.nn import LabelPropagation
from torch_geometric.typing import SparseTensor


def test_label_prop():
    y = torch.tensor([1, 0, 0, 2, 1, 1])
    edge_index = torch.tensor([[0, 1, 1, 2, 4, 5], [1, 0, 2, 1, 5, 4]])
    mask = torch.randint(0, 2, (6, ), dtype=torch.bool)

    model = LabelPropagation(num_layers=2, alpha=0.5)
    assert str(model) == 'LabelPropagation(num_layers=2, alpha=0.5)'

    # Test without mask:
    out = model(y, edge_index)
    assert out.size() == (6, 3)
    if torch_geometric.typing.WITH_TORCH_SPARSE:
        adj = SparseTensor.from_edge_index(edge_index, sparse_sizes=(6, 6))
        assert torch.allclose(model(y, adj.t()), out)

    # Test with mask:
    out = model(y, edge_index, mask)
    assert out.size() == (6, 3)
    if torch_geometric.typing.WITH_TORCH_SPARSE:
        assert torch.allclose(model(y, adj.t(), mask), out)

    # Test post step:
    out = model(y, edge_index, mask, post_step=lambda y: torch.zeros_like(y))
    assert torch.sum(out) == 0.
