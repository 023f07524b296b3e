"""The graph is converted and validated once per call, at the public boundary, and the
validated Adjacency is handed down (issue 10): counted during one ERASETrainer.fit."""
from __future__ import annotations

import sys

import pytest
import torch

import noisygraph._validation as validation
import noisygraph.sparse as sparse
from noisygraph.erase import ERASETrainer
from noisygraph.nn import ERASE
from noisygraph.nn.label_denoise import precorrect_labels, train_subgraph
from noisygraph.noise import AddLabelNoise
from test_methods_api import masked_graph

pytestmark = pytest.mark.usefixtures("one_thread")


def _count(monkeypatch) -> dict:
    """Counts real conversions (``as_adjacency`` given anything but an ``Adjacency``, in every
    module that imported it), ``edge_index`` validations and CSR validations."""
    counts = {"conversions": 0, "edge_index checks": 0, "csr checks": 0}
    original = sparse.as_adjacency

    def as_adjacency(graph, *args, **kwargs):
        if not isinstance(graph, sparse.Adjacency):
            counts["conversions"] += 1
        return original(graph, *args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "as_adjacency", None) is original:
            monkeypatch.setattr(module, "as_adjacency", as_adjacency)
    for module, name, key in ((sparse, "check_edge_index", "edge_index checks"),
                              (validation, "check_edge_index", "edge_index checks"),
                              (sparse, "_check_csr", "csr checks")):
        function = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=function, _k=key, **k:
                            counts.__setitem__(_k, counts[_k] + 1) or _f(*a, **k))
    return counts


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("precorrection", ["train-subgraph", "label-propagation"])
def test_erase_fit_converts_the_graph_once(monkeypatch, precorrection, fused):
    """Once per fit, not per epoch: the trainer's adjacency, plus (fused encoder, the default)
    the encoder's own graph with one self-loop per node, which it caches across epochs."""
    data = AddLabelNoise("uniform", 0.4, seed=3)(masked_graph())
    model = ERASE(data.num_features, hidden_channels=8, out_channels=8, heads=2, fused=fused)
    trainer = ERASETrainer(model, epochs=3, patience=3, precorrection=precorrection,
                           verbose=False)
    counts = _count(monkeypatch)
    trainer.fit(data)
    once = 2 if fused else 1
    assert counts == {"conversions": once, "edge_index checks": once, "csr checks": 0}


def test_precorrection_on_an_adjacency_converts_nothing(monkeypatch):
    data = masked_graph()
    adj = sparse.as_adjacency(data.edge_index, num_nodes=data.num_nodes)
    counts = _count(monkeypatch)
    y_pre = precorrect_labels(data.y, adj, data.train_mask, 3)
    sub = train_subgraph(adj, data.train_mask)
    assert counts == {"conversions": 0, "edge_index checks": 0, "csr checks": 0}
    # the induced subgraph is the one the old edge_index round trip built
    keep = data.train_mask[data.edge_index[0]] & data.train_mask[data.edge_index[1]]
    expected = sparse.Adjacency.from_edge_index(data.edge_index[:, keep],
                                                num_nodes=data.num_nodes)
    assert torch.equal(sub.rowptr, expected.rowptr) and torch.equal(sub.col, expected.col)
    assert torch.equal(y_pre, precorrect_labels(data.y, data.edge_index, data.train_mask, 3))
