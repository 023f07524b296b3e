"""APPNP under PyG's explainers (edge masks reach its propagation exactly as they reach PyG's
APPNP) and float16/bfloat16 inputs of both layers (float32 accumulation, result in the input
dtype)."""
from __future__ import annotations

import pytest
import torch
import torch_geometric.nn as pyg_nn
from torch_geometric.explain import Explainer, GNNExplainer
from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

from noisygraph.nn import APPNP, LabelPropagation

from diffusion_graphs import random_graph, random_mask, random_weights

N = 30


@pytest.mark.parametrize("add_self_loops, normalize", [(True, True), (False, True),
                                                       (True, False)])
@pytest.mark.parametrize("apply_sigmoid", [True, False])
def test_appnp_edge_mask_equals_pygs_output_and_mask_gradient(add_self_loops, normalize,
                                                              apply_sigmoid):
    edge_index = random_graph(num_nodes=N)  # duplicates and self-loops included
    x = torch.randn(N, 4, generator=torch.Generator().manual_seed(0))
    raw = torch.randn(edge_index.size(1), generator=torch.Generator().manual_seed(1))
    outputs, grads = [], []
    for layer in (APPNP(K=5, alpha=0.1, add_self_loops=add_self_loops, normalize=normalize),
                  pyg_nn.APPNP(K=5, alpha=0.1, add_self_loops=add_self_loops,
                               normalize=normalize)):
        mask = raw.clone().requires_grad_()
        set_masks(layer, mask, edge_index, apply_sigmoid=apply_sigmoid)
        out = layer(x, edge_index)
        outputs.append(out)
        grads.append(torch.autograd.grad(out.square().sum(), mask)[0])
        clear_masks(layer)
    torch.testing.assert_close(outputs[0], outputs[1])
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-4)  # summation order


class _Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)
        self.prop = APPNP(K=3, alpha=0.1)

    def forward(self, x, edge_index):
        return self.prop(self.lin(x), edge_index).log_softmax(dim=-1)


def test_gnn_explainer_masks_appnps_edges():
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 4, 5], [1, 0, 2, 1, 3, 2, 5, 4]])
    x = torch.randn(6, 4)
    explainer = Explainer(_Model(), GNNExplainer(epochs=20), explanation_type="model",
                          edge_mask_type="object",
                          model_config=dict(mode="multiclass_classification",
                                            task_level="node", return_type="log_probs"))
    explanation = explainer(x, edge_index, index=0)
    mask = explanation.edge_mask
    assert mask.shape == (edge_index.size(1),)
    # an edge j -> i reaches node 0 within K = 3 steps iff i is at most 2 hops from 0: every
    # edge into 0, 1, 2 is learned; 2 -> 3 (3 is 3 hops away) and the component {4, 5} get no
    # gradient, hence a zero mask
    learned = torch.tensor([True, True, True, True, False, True, False, False])
    assert (mask[learned] > 0).all()
    assert (mask[~learned] == 0).all()


def test_appnp_rejects_an_edge_mask_on_a_sparse_graph():
    edge_index = random_graph(num_nodes=N)
    layer = APPNP(K=2, alpha=0.1)
    set_masks(layer, torch.zeros(edge_index.size(1)), edge_index)
    adj_t = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(edge_index.size(1)), (N, N))
    with pytest.raises(ValueError, match="edge_index"):
        layer(torch.randn(N, 2), adj_t)
    with pytest.raises(ValueError, match="edge mask"):
        layer(torch.randn(N, 2), edge_index[:, :-1])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("training", [False, True])
def test_appnp_half_inputs_accumulate_in_float32(dtype, training):
    edge_index = random_graph(num_nodes=N)
    weight = random_weights(edge_index)
    x = torch.randn(N, 4, generator=torch.Generator().manual_seed(0)).to(dtype)
    layer = APPNP(K=8, alpha=0.1, dropout=0.3).train(training)
    torch.manual_seed(3)
    x_half = x.clone().requires_grad_()
    out = layer(x_half, edge_index, weight)
    torch.manual_seed(3)
    x_float = x.float().requires_grad_()
    expected = layer(x_float, edge_index, weight)
    assert out.dtype == dtype
    assert torch.equal(out, expected.to(dtype))  # float32 steps, one rounding at the end
    out.float().square().sum().backward()
    expected.square().sum().backward()
    assert x_half.grad.dtype == dtype
    torch.testing.assert_close(x_half.grad.float(), x_float.grad, atol=0.05, rtol=0.02)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_label_propagation_half_soft_labels_accumulate_in_float32(dtype):
    edge_index = random_graph(num_nodes=N)
    labels = torch.randint(0, 3, (N,), generator=torch.Generator().manual_seed(0))
    y = torch.nn.functional.one_hot(labels).to(dtype) * 0.7
    layer = LabelPropagation(num_layers=6, alpha=0.9)
    out = layer(y, edge_index, random_mask(N))
    assert out.dtype == dtype
    assert torch.equal(out, layer(y.float(), edge_index, random_mask(N)).to(dtype))
