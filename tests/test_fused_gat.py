"""ERASE's fused GAT forward (attention weights as PyG's GATConv computes them, aggregation by
noisygraph's spmm) against PyG's GATConv forward: same values and gradients, and the same
training run."""
import copy

import pytest
import torch
from torch_geometric.nn import GATConv

from noisygraph import _ops
from noisygraph.datasets import csbm
from noisygraph.erase import ERASE, ERASETrainer
from noisygraph.erase.trainer import sparse_features
from noisygraph.nn._fused_gat import fusable, fused_gat, gat_graph
from noisygraph.noise import AddLabelNoise
from noisygraph.random import seed_everything

needs_kernel = pytest.mark.skipif(not _ops.has_kernel("spmm", torch.device("cpu")),
                                  reason="the fused path needs the compiled spmm kernel")


@needs_kernel
@pytest.mark.parametrize("heads", [1, 3])
def test_fused_layer_matches_gatconv_values_and_gradients(heads):
    torch.manual_seed(0)
    # duplicate edges, an existing self-loop, an isolated node (5)
    edge_index = torch.tensor([[0, 1, 2, 3, 0, 0, 2, 4, 1],
                               [1, 0, 3, 2, 1, 2, 2, 0, 4]])
    x = torch.randn(6, 4, dtype=torch.float64)
    conv = GATConv(4, 5, heads=heads).double()
    expected = conv(x, edge_index)
    grads_expected = torch.autograd.grad(expected.square().sum(), list(conv.parameters()))
    assert fusable(conv, x)
    adj, rows = gat_graph(edge_index, 6)
    got = fused_gat(conv, x, adj, rows)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    grads = torch.autograd.grad(got.square().sum(), list(conv.parameters()))
    for g, e in zip(grads, grads_expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def test_fused_path_is_only_taken_where_it_is_exact():
    x = torch.randn(3, 4)
    assert not fusable(GATConv(4, 2, heads=2, concat=False), x)
    assert not fusable(GATConv(4, 2, add_self_loops=False), x)
    assert not fusable(GATConv(4, 2, edge_dim=3), x)
    assert not fusable(GATConv((4, 4), 2), x)  # separate source/target projections
    assert not fusable(torch.nn.Linear(4, 2), x)
    with pytest.raises(TypeError, match="fused"):
        ERASE(4, fused=1)


@needs_kernel
def test_erase_encoder_fused_equals_pyg_forward_with_sparse_input():
    data = csbm(200, num_classes=3, num_features=30, seed=0, train_per_class=5, num_val=20,
                num_test=20)
    torch.manual_seed(0)
    fused = ERASE(30, hidden_channels=16, out_channels=8, heads=4, fused=True)
    plain = copy.deepcopy(fused)
    plain.fused = False
    x = sparse_features((data.x > 0.5).float() * data.x)
    for model in (fused, plain):
        model.eval()
    torch.testing.assert_close(fused(x, data.edge_index), plain(x, data.edge_index),
                               rtol=1e-5, atol=1e-6)
    assert fused._gat_graph is not None and fused._gat_graph[0] is data.edge_index
    fused(x, data.edge_index)
    cached = fused._gat_graph
    fused(x, data.edge_index)
    assert fused._gat_graph is cached  # converted once per graph


@needs_kernel
def test_training_run_is_the_same_with_the_fused_forward():
    data = csbm(400, num_classes=4, num_features=32, seed=2, train_per_class=10, num_val=60,
                num_test=100)
    data = AddLabelNoise("uniform", 0.3, seed=0, sampler="exact")(data)
    histories = []
    for fused in (True, False):
        seed_everything(0)
        model = ERASE(32, hidden_channels=32, out_channels=32, heads=4, fused=fused)
        histories.append(ERASETrainer(model, epochs=12, patience=20, lr=5e-3,
                                      verbose=False).fit(data))
    a, b = histories
    assert a.best_epoch == b.best_epoch and a.test_acc == b.test_acc
    assert a.metrics["val_acc"] == b.metrics["val_acc"]
    assert a.metrics["loss"] == pytest.approx(b.metrics["loss"], rel=1e-4)
