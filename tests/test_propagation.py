import pytest
import torch
import torch_geometric.nn as pyg_nn

from noisygraph.nn import APPNP, LabelPropagation
from noisygraph.sparse import to_adjacency

from diffusion_graphs import random_graph, random_mask, random_weights, symmetric

N, C = 30, 4


def graph(weighted: bool, directed: bool):
    edge_index = random_graph(num_nodes=N)
    weight = random_weights(edge_index) if weighted else None
    if directed:
        return edge_index, weight
    if weight is None:
        return symmetric(edge_index), None
    return symmetric(edge_index, weight)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("mask_kind", [None, "bool", "index"])
def test_label_propagation_equals_pyg(directed, weighted, mask_kind):
    edge_index, weight = graph(weighted, directed)
    y = torch.randint(0, C, (N,))
    mask = random_mask(N)
    if mask_kind == "index":
        mask = mask.nonzero().view(-1)
    elif mask_kind is None:
        mask = None
    ours = LabelPropagation(num_layers=5, alpha=0.8)(y, edge_index, mask, weight)
    theirs = pyg_nn.models.LabelPropagation(num_layers=5, alpha=0.8)(y, edge_index, mask, weight)
    torch.testing.assert_close(ours, theirs)
    # isolated nodes only keep the restart share (1 - alpha) of their seed label
    seeds = torch.nn.functional.one_hot(y, C).float()
    if mask is not None:
        keep = torch.zeros(N, dtype=torch.bool)
        keep[mask] = True
        seeds = seeds * keep.unsqueeze(-1)
    torch.testing.assert_close(ours[-3:], 0.2 * seeds[-3:])


def test_label_propagation_soft_labels_and_post_step_equal_pyg():
    edge_index, _ = graph(weighted=False, directed=False)
    y = torch.softmax(torch.randn(N, C), dim=-1)
    mask = random_mask(N)

    def post_step(out):
        return out.clamp(0.0, 1.0) * 0.5

    for step in (None, post_step):
        ours = LabelPropagation(3, 0.9)(y, edge_index, mask, post_step=step)
        theirs = pyg_nn.models.LabelPropagation(3, 0.9)(y, edge_index, mask, post_step=step)
        torch.testing.assert_close(ours, theirs)


def test_label_propagation_accepts_an_adjacency_and_repr():
    edge_index, _ = graph(weighted=False, directed=False)
    y = torch.randint(0, C, (N,))
    lp = LabelPropagation(4, 0.7)
    adj = to_adjacency(edge_index, num_nodes=N)
    torch.testing.assert_close(lp(y, adj), lp(y, edge_index))
    assert repr(lp) == "LabelPropagation(num_layers=4, alpha=0.7)"


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("add_self_loops", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_appnp_equals_pyg_forward_and_backward(directed, weighted, add_self_loops, dtype):
    edge_index, weight = graph(weighted, directed)
    if weight is not None:
        weight = weight.to(dtype)
    x = torch.randn(N, 6, dtype=dtype, requires_grad=True)
    ours = APPNP(K=7, alpha=0.1, add_self_loops=add_self_loops)
    theirs = pyg_nn.APPNP(K=7, alpha=0.1, add_self_loops=add_self_loops)
    out_ours, out_theirs = ours(x, edge_index, weight), theirs(x, edge_index, weight)
    torch.testing.assert_close(out_ours, out_theirs)
    upstream = torch.randn_like(out_ours)
    (grad_ours,) = torch.autograd.grad(out_ours, x, upstream)
    (grad_theirs,) = torch.autograd.grad(out_theirs, x, upstream)
    torch.testing.assert_close(grad_ours, grad_theirs)


def test_appnp_unnormalized_cached_and_reset():
    edge_index, weight = graph(weighted=True, directed=True)
    x = torch.randn(N, 3)
    ours = APPNP(K=3, alpha=0.2, normalize=False, cached=True)
    theirs = pyg_nn.APPNP(K=3, alpha=0.2, normalize=False)
    torch.testing.assert_close(ours(x, edge_index, weight), theirs(x, edge_index, weight))
    # the cache keeps the first graph until reset_parameters()
    other, _ = graph(weighted=False, directed=False)
    torch.testing.assert_close(ours(x, other), theirs(x, edge_index, weight))
    ours.reset_parameters()
    torch.testing.assert_close(ours(x, other), theirs(x, other))
    assert repr(ours) == "APPNP(K=3, alpha=0.2)"


def test_appnp_edge_dropout_only_in_training():
    edge_index, _ = graph(weighted=False, directed=False)
    x = torch.randn(N, 3)
    layer = APPNP(K=4, alpha=0.1, dropout=0.5)
    layer.eval()
    torch.testing.assert_close(layer(x, edge_index), APPNP(K=4, alpha=0.1)(x, edge_index))
    layer.train()
    torch.manual_seed(0)
    assert not torch.allclose(layer(x, edge_index), APPNP(K=4, alpha=0.1)(x, edge_index))


@pytest.mark.parametrize("factory, error, match", [
    (lambda: LabelPropagation(-1, 0.5), ValueError, "num_layers"),
    (lambda: LabelPropagation(2, 1.5), ValueError, "alpha"),
    (lambda: APPNP(K=-2, alpha=0.1), ValueError, "K"),
    (lambda: APPNP(K=2, alpha=-0.1), ValueError, "alpha"),
    (lambda: APPNP(K=2.5, alpha=0.1), TypeError, "K"),
    (lambda: APPNP(K=2, alpha=0.1, dropout=2.0), ValueError, "dropout"),
])
def test_layers_reject_bad_hyperparameters(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


def test_label_propagation_rejects_bad_input():
    edge_index, _ = graph(weighted=False, directed=False)
    lp = LabelPropagation(2, 0.5)
    with pytest.raises(ValueError, match="negative label"):
        lp(torch.full((N,), -1), edge_index)
    with pytest.raises(ValueError, match="mask"):
        lp(torch.zeros(N, dtype=torch.long), edge_index, mask=torch.tensor([0, N + 5]))
    with pytest.raises(TypeError, match="mask"):
        lp(torch.zeros(N, dtype=torch.long), edge_index, mask=torch.rand(N))
    with pytest.raises(ValueError, match="mask must have shape"):
        lp(torch.zeros(N, dtype=torch.long), edge_index, mask=torch.ones(N - 2, dtype=torch.bool))
