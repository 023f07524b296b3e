"""Bad input to local clustering: every case raises ValueError/TypeError naming the argument,
on the compiled ops and on the Python fallback alike; the ``noisygraph cluster`` CLI answers
every bad flag with one line and exit status 2, before loading data where it can."""
import json

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects, case_id
from noisygraph import _ops
from noisygraph.cluster import (LocalGraph, estimate_flip_rate, estimate_target_volume,
                                few_sample_labels, label_edge_weights, local_cluster,
                                local_cluster_batch, target_labels, vote_labels)
from noisygraph.ops.local_push import (flow_cluster, flow_diffusion, ppr_cluster, ppr_push,
                                       sweep_cut)

T = torch.tensor
N = 40


def _planted(n=N, seed=0):
    """Two dense blocks of n/2 nodes, a few links between them, connected."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    prob = np.where(y[:, None] == y[None, :], 0.4, 0.02)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True
    row, col = np.nonzero(upper)
    return torch.tensor(np.stack([np.r_[row, col], np.r_[col, row]])), torch.tensor(y)


EDGE_INDEX, Y = _planted()
G = LocalGraph.from_graph(EDGE_INDEX, num_nodes=N)
INSIDE = Y == 0
X = torch.randn(N, 3)
PAIR = dict(rowptr=T([0, 1, 2]), col=T([1, 0]))  # one undirected edge


def _graph(**changes):
    return lambda: LocalGraph(**{**PAIR, **changes})


CASES = [
    # ------------------------------------------------------------ LocalGraph
    BadInput("rowptr-negative", _graph(rowptr=T([0, -5, 2])), ValueError, "rowptr"),
    BadInput("rowptr-decreasing", lambda: LocalGraph(T([0, 2, 1, 2]), T([1, 0])), ValueError,
             "rowptr"),
    BadInput("rowptr-past-nnz", _graph(rowptr=T([0, 1, 3])), ValueError, "rowptr"),
    BadInput("rowptr-huge", _graph(rowptr=T([0, 2**40, 2])), ValueError, "rowptr"),
    BadInput("rowptr-not-from-0", _graph(rowptr=T([1, 1, 2])), ValueError, "rowptr"),
    BadInput("rowptr-float", _graph(rowptr=T([0.0, 1.0, 2.0])), TypeError, "rowptr"),
    BadInput("rowptr-2d", _graph(rowptr=T([[0, 1, 2]])), ValueError, "rowptr"),
    BadInput("rowptr-empty", _graph(rowptr=T([], dtype=torch.long)), ValueError, "rowptr"),
    BadInput("rowptr-list", _graph(rowptr=[0, 1, 2]), TypeError, "rowptr"),
    BadInput("col-out-of-range", _graph(col=T([1, 5])), ValueError, "col"),
    BadInput("col-negative", _graph(col=T([-1, 0])), ValueError, "col"),
    BadInput("col-2**40", _graph(col=T([2**40, 0])), ValueError, "col"),
    BadInput("col-float", _graph(col=T([1.0, 0.0])), TypeError, "col"),
    BadInput("col-bool", _graph(col=T([True, False])), TypeError, "col"),
    BadInput("value-nan", _graph(value=T([1.0, float("nan")])), ValueError, "value"),
    BadInput("value-inf", _graph(value=T([float("inf"), float("inf")])), ValueError, "value"),
    BadInput("value-negative", _graph(value=T([-1.0, -1.0])), ValueError, "value"),
    BadInput("value-shape", _graph(value=T([1.0, 1.0, 1.0])), ValueError, "value"),
    BadInput("value-bool", _graph(value=T([True, True])), TypeError, "value"),
    BadInput("value-list", _graph(value=[1.0, 1.0]), TypeError, "value"),
    BadInput("asymmetric-structure", lambda: LocalGraph(T([0, 1, 1]), T([1])), ValueError,
             "undirected"),
    BadInput("asymmetric-weights", _graph(value=T([1.0, 2.0])), ValueError, "edge_weight"),
    BadInput("check-symmetric-not-bool", _graph(check_symmetric="no"), TypeError,
             "check_symmetric"),
    # ------------------------------------------------------------ LocalGraph.from_graph
    BadInput("edge-index-float", lambda: LocalGraph.from_graph(EDGE_INDEX.float()), TypeError,
             "edge_index"),
    BadInput("edge-index-negative", lambda: LocalGraph.from_graph(T([[0, -1], [-1, 0]])),
             ValueError, "edge_index"),
    BadInput("edge-index-past-num-nodes",
             lambda: LocalGraph.from_graph(EDGE_INDEX, num_nodes=N - 1), ValueError,
             "edge_index"),
    BadInput("edge-weight-negative",
             lambda: LocalGraph.from_graph(EDGE_INDEX, -torch.ones(EDGE_INDEX.size(1))),
             ValueError, "edge_weight"),
    BadInput("edge-weight-inf",
             lambda: LocalGraph.from_graph(EDGE_INDEX, torch.full((EDGE_INDEX.size(1),),
                                                                  float("inf"))),
             ValueError, "edge_weight"),
    BadInput("edge-weight-length", lambda: LocalGraph.from_graph(EDGE_INDEX, torch.ones(3)),
             ValueError, "edge_weight"),
    BadInput("edge-weight-list", lambda: LocalGraph.from_graph(EDGE_INDEX, [1.0] * 5),
             TypeError, "edge_weight"),
    BadInput("data-edge-weight-nan",
             lambda: LocalGraph.from_graph(Data(edge_index=EDGE_INDEX, num_nodes=N,
                                                edge_weight=torch.full((EDGE_INDEX.size(1),),
                                                                       float("nan")))),
             ValueError, "edge_weight"),
    BadInput("num-nodes-negative", lambda: LocalGraph.from_graph(EDGE_INDEX, num_nodes=-1),
             ValueError, "num_nodes"),
    BadInput("num-nodes-float", lambda: LocalGraph.from_graph(EDGE_INDEX, num_nodes=40.0),
             ValueError, "num_nodes"),
    BadInput("sparse-not-square",
             lambda: LocalGraph.from_graph(torch.sparse_coo_tensor(T([[0, 1], [1, 0]]),
                                                                   T([1.0, 1.0]), (2, 3))),
             ValueError, "square"),
    BadInput("graph-list", lambda: LocalGraph.from_graph([[0, 1], [1, 0]]), TypeError, "graph"),
    BadInput("with-weights-nan", lambda: G.with_weights(torch.full((G.col.numel(),),
                                                                   float("nan"))),
             ValueError, "edge_weight"),
    BadInput("with-weights-shape", lambda: G.with_weights(torch.ones(3)), ValueError,
             "edge_weight"),
    BadInput("neighbors-negative", lambda: G.neighbors(-1), ValueError, "node"),
    BadInput("neighbors-float", lambda: G.neighbors(1.0), TypeError, "node"),
    # ------------------------------------------------------------ flow_diffusion
    BadInput("flow-seeds-empty", lambda: flow_diffusion(G, [], 10.0), ValueError, "seeds"),
    BadInput("flow-seed-set-empty", lambda: flow_diffusion(G, [[0], []], 10.0), ValueError,
             "seeds"),
    BadInput("flow-seed-out-of-range", lambda: flow_diffusion(G, N, 10.0), ValueError, "seeds"),
    BadInput("flow-seed-negative", lambda: flow_diffusion(G, -1, 10.0), ValueError, "seeds"),
    BadInput("flow-seed-float", lambda: flow_diffusion(G, 1.5, 10.0), TypeError, "seeds"),
    BadInput("flow-seed-float-tensor", lambda: flow_diffusion(G, T([0.0, 1.0]), 10.0),
             TypeError, "seeds"),
    BadInput("flow-seed-bool", lambda: flow_diffusion(G, True, 10.0), TypeError, "seeds"),
    BadInput("flow-mass-zero", lambda: flow_diffusion(G, 0, 0.0), ValueError, "source_mass"),
    BadInput("flow-mass-inf", lambda: flow_diffusion(G, 0, float("inf")), ValueError,
             "source_mass"),
    BadInput("flow-mass-nan", lambda: flow_diffusion(G, 0, float("nan")), ValueError,
             "source_mass"),
    BadInput("flow-mass-count", lambda: flow_diffusion(G, [0, 1], [1.0, 2.0, 3.0]), ValueError,
             "source_mass"),
    BadInput("flow-mass-str", lambda: flow_diffusion(G, 0, "10"), TypeError, "source_mass"),
    BadInput("flow-eps-negative", lambda: flow_diffusion(G, 0, 10.0, eps=-1), ValueError, "eps"),
    BadInput("flow-eps-inf", lambda: flow_diffusion(G, 0, 10.0, eps=float("inf")), ValueError,
             "eps"),
    BadInput("flow-eps-nan", lambda: flow_diffusion(G, 0, 10.0, eps=float("nan")), ValueError,
             "eps"),
    BadInput("flow-eps-str", lambda: flow_diffusion(G, 0, 10.0, eps="0.1"), TypeError, "eps"),
    BadInput("flow-omega-2", lambda: flow_diffusion(G, 0, 10.0, omega=2.0), ValueError, "omega"),
    BadInput("flow-omega-nan", lambda: flow_diffusion(G, 0, 10.0, omega=float("nan")),
             ValueError, "omega"),
    BadInput("flow-max-pushes-negative", lambda: flow_diffusion(G, 0, 10.0, max_pushes=-1),
             ValueError, "max_pushes"),
    BadInput("flow-max-pushes-float", lambda: flow_diffusion(G, 0, 10.0, max_pushes=1e6),
             TypeError, "max_pushes"),
    BadInput("flow-max-pushes-2**64", lambda: flow_diffusion(G, 0, 10.0, max_pushes=2**64),
             ValueError, "max_pushes"),
    BadInput("flow-cg-iters-negative", lambda: flow_diffusion(G, 0, 10.0, cg_iters=-1),
             ValueError, "cg_iters"),
    BadInput("flow-cg-iters-float", lambda: flow_diffusion(G, 0, 10.0, cg_iters=2.0),
             TypeError, "cg_iters"),
    BadInput("flow-op-cg-iters-2**64", lambda: flow_cluster(G, 0, 10.0, [1.0], cg_iters=2**64),
             ValueError, "cg_iters"),
    BadInput("flow-sink-shape", lambda: flow_diffusion(G, 0, 10.0, sink=torch.ones(3)),
             ValueError, "sink"),
    BadInput("flow-sink-negative", lambda: flow_diffusion(G, 0, 10.0, sink=-torch.ones(N)),
             ValueError, "sink"),
    BadInput("flow-sink-inf", lambda: flow_diffusion(G, 0, 10.0,
                                                     sink=torch.full((N,), float("inf"))),
             ValueError, "sink"),
    BadInput("flow-graph-edge-index", lambda: flow_diffusion(EDGE_INDEX, 0, 10.0), TypeError,
             "graph"),
    # ------------------------------------------------------------ ppr_push
    BadInput("ppr-alpha-0", lambda: ppr_push(G, 0, alpha=0.0), ValueError, "alpha"),
    BadInput("ppr-alpha-above-1", lambda: ppr_push(G, 0, alpha=1.5), ValueError, "alpha"),
    BadInput("ppr-alpha-nan", lambda: ppr_push(G, 0, alpha=float("nan")), ValueError, "alpha"),
    BadInput("ppr-alpha-str", lambda: ppr_push(G, 0, alpha="0.1"), TypeError, "alpha"),
    BadInput("ppr-eps-negative", lambda: ppr_push(G, 0, eps=-1), ValueError, "eps"),
    BadInput("ppr-eps-zero", lambda: ppr_push(G, 0, eps=0.0), ValueError, "eps"),
    BadInput("ppr-seeds-empty", lambda: ppr_push(G, []), ValueError, "seeds"),
    BadInput("ppr-max-pushes-negative", lambda: ppr_push(G, 0, max_pushes=-5), ValueError,
             "max_pushes"),
    # ------------------------------------------------------------ sweep_cut
    BadInput("sweep-ptr-1e9", lambda: sweep_cut(G, T([0, 10**9]), T([0, 1]), T([1.0, 0.5])),
             ValueError, "ptr"),
    BadInput("sweep-ptr-decreasing",
             lambda: sweep_cut(G, T([0, 2, 1, 3]), T([0, 1, 2]), T([1.0, 0.5, 0.2])),
             ValueError, "ptr"),
    BadInput("sweep-ptr-not-from-0", lambda: sweep_cut(G, T([1, 2]), T([0, 1]), T([1.0, 0.5])),
             ValueError, "ptr"),
    BadInput("sweep-ptr-negative",
             lambda: sweep_cut(G, T([0, -3, 2]), T([0, 1]), T([1.0, 0.5])), ValueError, "ptr"),
    BadInput("sweep-ptr-float", lambda: sweep_cut(G, T([0.0, 2.0]), T([0, 1]), T([1.0, 0.5])),
             TypeError, "ptr"),
    BadInput("sweep-ptr-2d", lambda: sweep_cut(G, T([[0, 2]]), T([0, 1]), T([1.0, 0.5])),
             ValueError, "ptr"),
    BadInput("sweep-nodes-out-of-range",
             lambda: sweep_cut(G, T([0, 2]), T([0, N]), T([1.0, 0.5])), ValueError, "nodes"),
    BadInput("sweep-nodes-float", lambda: sweep_cut(G, T([0, 2]), T([0.0, 1.0]), T([1.0, 0.5])),
             TypeError, "nodes"),
    BadInput("sweep-scores-nan",
             lambda: sweep_cut(G, T([0, 2]), T([0, 1]), T([1.0, float("nan")])), ValueError,
             "scores"),
    BadInput("sweep-scores-shape", lambda: sweep_cut(G, T([0, 2]), T([0, 1]), T([1.0])),
             ValueError, "scores"),
    BadInput("sweep-normalize-str",
             lambda: sweep_cut(G, T([0, 2]), T([0, 1]), T([1.0, 0.5]), normalize="yes"),
             TypeError, "normalize"),
    # ------------------------------------------------------------ fused ops
    BadInput("flow-op-multiples-inf", lambda: flow_cluster(G, 0, 10.0, [float("inf")]),
             ValueError, "multiples"),
    BadInput("flow-op-multiples-nan", lambda: flow_cluster(G, 0, 10.0, [1.0, float("nan")]),
             ValueError, "multiples"),
    BadInput("flow-op-multiples-negative", lambda: flow_cluster(G, 0, 10.0, [-1.0]),
             ValueError, "multiples"),
    BadInput("flow-op-multiples-empty", lambda: flow_cluster(G, 0, 10.0, []), ValueError,
             "multiples"),
    BadInput("flow-op-multiples-scalar", lambda: flow_cluster(G, 0, 10.0, 2.0), TypeError,
             "multiples"),
    BadInput("flow-op-multiples-str", lambda: flow_cluster(G, 0, 10.0, ["2"]), TypeError,
             "multiples"),
    BadInput("flow-op-eps-negative", lambda: flow_cluster(G, 0, 10.0, [1.0], eps=-1),
             ValueError, "eps"),
    BadInput("flow-op-seed-out-of-range", lambda: flow_cluster(G, [0, 99], 10.0, [1.0]),
             ValueError, "seeds"),
    BadInput("ppr-op-tolerances-inf", lambda: ppr_cluster(G, 0, [float("inf")]), ValueError,
             "tolerances"),
    BadInput("ppr-op-tolerances-zero", lambda: ppr_cluster(G, 0, [1e-3, 0.0]), ValueError,
             "tolerances"),
    BadInput("ppr-op-tolerances-empty", lambda: ppr_cluster(G, 0, []), ValueError,
             "tolerances"),
    BadInput("ppr-op-alpha-0", lambda: ppr_cluster(G, 0, [1e-3], alpha=0.0), ValueError,
             "alpha"),
    BadInput("ppr-op-max-pushes-float", lambda: ppr_cluster(G, 0, [1e-3], max_pushes=10.0),
             TypeError, "max_pushes"),
    # ------------------------------------------------------------ local_cluster(_batch)
    BadInput("target-absent", lambda: local_cluster(G, seed_node=0, labels=Y, target=7), ValueError,
             "target"),
    BadInput("target-with-bool-labels", lambda: local_cluster(G, seed_node=0, labels=INSIDE, target=1),
             ValueError, "target"),
    BadInput("target-without-labels", lambda: local_cluster(G, seed_node=0, target=1), ValueError,
             "target"),
    BadInput("target-float", lambda: local_cluster(G, seed_node=0, labels=Y, target=1.0), TypeError,
             "target"),
    BadInput("labels-float", lambda: local_cluster(G, seed_node=0, labels=Y.float()), TypeError, "labels"),
    BadInput("labels-length", lambda: local_cluster(G, seed_node=0, labels=Y[:-1]), ValueError, "labels"),
    BadInput("labels-2d", lambda: local_cluster(G, seed_node=0, labels=Y[None]), ValueError, "labels"),
    BadInput("labels-list", lambda: local_cluster(G, seed_node=0, labels=Y.tolist()), TypeError, "labels"),
    BadInput("cross-weight-0", lambda: local_cluster(G, seed_node=0, labels=Y, cross_weight=0.0),
             ValueError, "cross_weight"),
    BadInput("cross-weight-2", lambda: local_cluster(G, seed_node=0, labels=Y, cross_weight=2.0),
             ValueError, "cross_weight"),
    BadInput("cross-weight-nan", lambda: local_cluster(G, seed_node=0, labels=Y, cross_weight=float("nan")),
             ValueError, "cross_weight"),
    BadInput("vote-rounds-negative", lambda: local_cluster(G, seed_node=0, labels=Y, vote_rounds=-1),
             ValueError, "vote_rounds"),
    BadInput("vote-rounds-float", lambda: local_cluster(G, seed_node=0, labels=Y, vote_rounds=1.5),
             TypeError, "vote_rounds"),
    BadInput("noise-rate-half", lambda: local_cluster(G, seed_node=0, labels=INSIDE, noise_rate=0.5),
             ValueError, "noise_rate"),
    BadInput("noise-rate-nan", lambda: local_cluster(G, seed_node=0, labels=INSIDE,
                                                     noise_rate=float("nan")),
             ValueError, "noise_rate"),
    BadInput("target-volume-inf", lambda: local_cluster(G, seed_node=0, target_volume=float("inf")),
             ValueError, "target_volume"),
    BadInput("target-volume-negative", lambda: local_cluster(G, seed_node=0, target_volume=-3.0),
             ValueError, "target_volume"),
    BadInput("target-volume-zero", lambda: local_cluster(G, seed_node=0, target_volume=0), ValueError,
             "target_volume"),
    BadInput("target-volume-mask-size", lambda: local_cluster(G, seed_node=0, target_volume=INSIDE[:-1]),
             ValueError, "target_volume"),
    BadInput("target-volume-mask-float",
             lambda: local_cluster(G, seed_node=0, target_volume=INSIDE.float()), TypeError,
             "target_volume"),
    BadInput("target-volume-mask-empty",
             lambda: local_cluster(G, seed_node=0, target_volume=torch.zeros(N, dtype=torch.bool)),
             ValueError, "target_volume"),
    BadInput("method-unknown", lambda: local_cluster(G, seed_node=0, method="spectral"), ValueError,
             "method"),
    BadInput("weighting-unknown", lambda: local_cluster(G, seed_node=0, labels=Y, weighting="all"),
             ValueError, "weighting"),
    BadInput("ppr-method-eps-negative", lambda: local_cluster(G, seed_node=0, method="ppr", eps=-1),
             ValueError, "eps"),
    BadInput("ppr-method-omega-3", lambda: local_cluster(G, seed_node=0, method="ppr", omega=3.0),
             ValueError, "omega"),
    BadInput("flow-method-alpha-0", lambda: local_cluster(G, seed_node=0, alpha=0.0), ValueError, "alpha"),
    BadInput("local-multiples-inf", lambda: local_cluster(G, seed_node=0, multiples=[float("inf")]),
             ValueError, "multiples"),
    BadInput("ppr-method-multiples-zero", lambda: local_cluster(G, seed_node=0, method="ppr",
                                                                multiples=[0.0]),
             ValueError, "multiples"),
    BadInput("ppr-method-sink", lambda: local_cluster(G, seed_node=0, method="ppr", sink=torch.ones(N)),
             ValueError, "sink"),
    BadInput("local-sink-nan", lambda: local_cluster(G, seed_node=0, sink=torch.full((N,), float("nan"))),
             ValueError, "sink"),
    BadInput("local-max-pushes-negative", lambda: local_cluster(G, seed_node=0, max_pushes=-1), ValueError,
             "max_pushes"),
    BadInput("local-cg-iters-negative", lambda: local_cluster(G, seed_node=0, cg_iters=-1), ValueError,
             "cg_iters"),
    BadInput("local-cg-iters-bool", lambda: local_cluster(G, seed_node=0, cg_iters=True), TypeError,
             "cg_iters"),
    BadInput("local-seed-out-of-range", lambda: local_cluster(G, seed_node=N), ValueError, "seed"),
    BadInput("local-seed-float", lambda: local_cluster(G, seed_node=0.5), TypeError, "seed"),
    BadInput("local-graph-bad-rowptr",
             lambda: local_cluster(torch.sparse_csr_tensor(T([0, 1, 3]), T([1, 0]), T([1.0, 1.0]),
                                                           (2, 2), check_invariants=False),
                                   seed_node=0),
             ValueError, "rowptr|crow_indices"),
    BadInput("batch-seeds-empty", lambda: local_cluster_batch(G, seed_nodes=[]), ValueError, "seed_nodes"),
    BadInput("batch-seed-set-empty", lambda: local_cluster_batch(G, seed_nodes=[[0], []]), ValueError,
             "seed_nodes"),
    BadInput("batch-seed-out-of-range", lambda: local_cluster_batch(G, seed_nodes=[0, 1, 10**6]), ValueError,
             "seed_nodes"),
    BadInput("batch-seeds-str", lambda: local_cluster_batch(G, seed_nodes="0"), TypeError, "seed_nodes"),
    # ------------------------------------------------------------ label weights
    BadInput("weights-scheme", lambda: label_edge_weights(G, Y, seed=0, weighting="x"),
             ValueError, "weighting"),
    BadInput("weights-cross-weight-negative",
             lambda: label_edge_weights(G, Y, seed=0, cross_weight=-0.1), ValueError,
             "cross_weight"),
    BadInput("weights-seed-out-of-range", lambda: label_edge_weights(G, Y, seed=N), ValueError,
             "seed"),
    BadInput("weights-seed-float", lambda: label_edge_weights(G, Y, seed=0.0), TypeError, "seed"),
    BadInput("weights-target-absent", lambda: label_edge_weights(G, Y, target=5), ValueError,
             "target"),
    BadInput("weights-no-target", lambda: label_edge_weights(G, Y), ValueError, "target"),
    BadInput("weights-graph-edge-index", lambda: label_edge_weights(EDGE_INDEX, INSIDE),
             TypeError, "graph"),
    BadInput("target-labels-float", lambda: target_labels(Y.float(), N, target=0), TypeError,
             "labels"),
    BadInput("target-labels-length", lambda: target_labels(Y, N + 1, target=0), ValueError,
             "labels"),
    BadInput("vote-inside-int", lambda: vote_labels(G, INSIDE.long()), TypeError, "inside"),
    BadInput("vote-inside-length", lambda: vote_labels(G, INSIDE[:-1]), ValueError, "inside"),
    BadInput("vote-rounds-negative-direct", lambda: vote_labels(G, INSIDE, rounds=-1), ValueError,
             "vote_rounds"),
    BadInput("vote-rounds-str", lambda: vote_labels(G, INSIDE, rounds="1"), TypeError,
             "vote_rounds"),
    # ------------------------------------------------------------ few_sample_labels
    BadInput("few-per-class-0", lambda: few_sample_labels(X, Y, per_class=0), ValueError,
             "per_class"),
    BadInput("few-per-class-float", lambda: few_sample_labels(X, Y, per_class=2.0), TypeError,
             "per_class"),
    BadInput("few-x-nan", lambda: few_sample_labels(X.clone().fill_(float("nan")), Y, 2),
             ValueError, r"\bx\b"),
    BadInput("few-x-inf", lambda: few_sample_labels(X.clone().fill_(float("inf")), Y, 2),
             ValueError, r"\bx\b"),
    BadInput("few-x-1d", lambda: few_sample_labels(X[:, 0], Y, 2), ValueError, r"\bx\b"),
    BadInput("few-x-list", lambda: few_sample_labels(X.tolist(), Y, 2), TypeError, r"\bx\b"),
    BadInput("few-y-float", lambda: few_sample_labels(X, Y.float(), 2), TypeError, r"\by\b"),
    BadInput("few-y-length", lambda: few_sample_labels(X, Y[:-1], 2), ValueError, r"\by\b"),
    BadInput("few-y-negative", lambda: few_sample_labels(X, Y - 1, 2), ValueError, r"\by\b"),
    BadInput("few-lr-0", lambda: few_sample_labels(X, Y, 2, lr=0.0), ValueError, r"\blr\b"),
    BadInput("few-epochs-negative", lambda: few_sample_labels(X, Y, 2, epochs=-1), ValueError,
             "epochs"),
    BadInput("few-weight-decay-negative", lambda: few_sample_labels(X, Y, 2, weight_decay=-1.0),
             ValueError, "weight_decay"),
    BadInput("few-seed-float", lambda: few_sample_labels(X, Y, 2, seed=0.5), TypeError, "seed"),
    # ------------------------------------------------------------ estimates
    BadInput("flip-inside-int", lambda: estimate_flip_rate(G, INSIDE.long()), TypeError,
             "inside"),
    BadInput("flip-inside-length", lambda: estimate_flip_rate(G, INSIDE[:-1]), ValueError,
             "inside"),
    BadInput("flip-graph-edge-index", lambda: estimate_flip_rate(EDGE_INDEX, INSIDE), TypeError,
             "graph"),
    BadInput("volume-noise-rate-half",
             lambda: estimate_target_volume(G, [0], INSIDE, noise_rate=0.5), ValueError,
             "noise_rate"),
    BadInput("volume-noise-rate-str",
             lambda: estimate_target_volume(G, [0], INSIDE, noise_rate="0.1"), TypeError,
             "noise_rate"),
    BadInput("volume-seed-out-of-range", lambda: estimate_target_volume(G, [N], INSIDE),
             ValueError, "seed"),
    BadInput("volume-seed-empty", lambda: estimate_target_volume(G, [], None), ValueError,
             "seed"),
    BadInput("volume-inside-float", lambda: estimate_target_volume(G, [0], INSIDE.float()),
             TypeError, "inside"),
]


@pytest.mark.parametrize("backend", ["compiled", "reference"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case, backend, monkeypatch):
    if backend == "compiled" and not _ops.COMPILED:
        pytest.skip("compiled ops not built")
    if backend == "reference":
        monkeypatch.setattr(_ops, "has_kernel", lambda op, device: False)
    assert_rejects(case)


def test_the_suite_is_broad():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


# ---------------------------------------------------------------------------- CLI
def _small_data(isolated: bool = True) -> Data:
    """The planted graph (plus one isolated node) as a data set, for CLI runs."""
    return Data(edge_index=EDGE_INDEX, y=torch.cat([Y, T([1])]) if isolated else Y,
                num_nodes=N + int(isolated))


@pytest.fixture
def cli(monkeypatch, capsys):
    """``run(*flags)`` -> (exit status, stdout, stderr) of ``noisygraph cluster``, the data set
    replaced by a small planted graph; ``loads`` counts the data set loads."""
    import noisygraph.datasets
    from noisygraph_cli import main
    loads = []

    def fake_load(name, *args, **kwargs):
        loads.append(name)
        if name == "missing":
            raise ValueError("unknown data set name 'missing'")
        return _small_data()

    monkeypatch.setattr(noisygraph.datasets, "load_dataset", fake_load)

    def run(*flags):
        status = main(["cluster", "--dataset", "small", *flags])
        out, err = capsys.readouterr()
        return status, out, err

    run.loads = loads
    return run


CLI_BEFORE_LOADING = [
    (["--node", "random:-3"], "--node"),
    (["--node", "random:0"], "--node"),
    (["--node", "random:x"], "--node"),
    (["--node", "-1"], "--node"),
    (["--node", "1.5"], "--node"),
    (["--node", "abc"], "--node"),
    (["--node", "0", "--rate", "0.5"], "--rate"),
    (["--node", "0", "--rate", "-0.1"], "--rate"),
    (["--node", "0", "--rate", "nan"], "--rate"),
    (["--node", "0", "--rate", "inf"], "--rate"),
    (["--node", "0", "--cross-weight", "0"], "--cross-weight"),
    (["--node", "0", "--cross-weight", "1.5"], "--cross-weight"),
    (["--node", "0", "--cross-weight", "nan"], "--cross-weight"),
    (["--node", "0", "--vote-rounds", "-1"], "--vote-rounds"),
    (["--node", "0", "--max-pushes", "0"], "--max-pushes"),
    (["--node", "0", "--seed", "-1"], "--seed"),
    (["--node", "0", "--seed", str(2**40 + 1)], "--seed"),
    (["--node", "0", "--threads", "0"], "--threads"),
    (["--node", "0", "--root", "/nonexistent-folder"], "--root"),
    (["--node", "0", "--json", "/nonexistent-folder/out.json"], "--json"),
]


@pytest.mark.parametrize("flags,flag", CLI_BEFORE_LOADING, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else v)
def test_cli_rejects_before_loading(cli, flags, flag):
    status, out, err = cli(*flags)
    assert status == 2
    assert err.count("\n") == 1 and flag in err and "Traceback" not in err
    assert cli.loads == []  # rejected before any data was loaded


def test_cli_rejects_a_folder_as_json(cli, tmp_path):
    status, _, err = cli("--node", "0", "--json", str(tmp_path))
    assert status == 2 and "--json" in err and cli.loads == []


@pytest.mark.parametrize("flags,needle", [
    (["--node", str(N + 1)], "outside"),
    (["--node", str(N)], "isolated"),
    (["--node", "random:1000"], "more seeds"),
])
def test_cli_rejects_seeds_the_graph_lacks(cli, flags, needle):
    status, out, err = cli(*flags)
    assert status == 2 and err.count("\n") == 1 and "--node" in err and needle in err
    assert cli.loads == ["small"]


def test_cli_unknown_data_set_is_one_line(monkeypatch, capsys):
    import noisygraph.datasets
    from noisygraph_cli import main

    def fake_load(name, *args, **kwargs):
        raise ValueError(f"unknown data set name {name!r}")

    monkeypatch.setattr(noisygraph.datasets, "load_dataset", fake_load)
    assert main(["cluster", "--dataset", "missing", "--node", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dataset" in err and "missing" in err


def test_cli_warns_for_every_seed_at_the_push_limit(cli, tmp_path):
    out_file = tmp_path / "out.json"
    status, out, err = cli("--node", "0", "--node", "25", "--max-pushes", "3",
                           "--json", str(out_file))
    assert status == 0
    warnings = [line for line in err.splitlines() if "push limit" in line]
    assert len(warnings) == 2 and "seed 0 " in warnings[0] and "seed 25 " in warnings[1]
    payload = json.loads(out_file.read_text())
    assert [r["hit_push_limit"] for r in payload["results"]] == [True, True]
    status, _, err = cli("--node", "0")
    assert status == 0 and "push limit" not in err
