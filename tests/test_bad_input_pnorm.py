"""Attack table of the p-norm flow diffusion: the wrappers (pnorm_diffusion, pnorm_cluster,
local_cluster(p=...)), the raw ops torch.ops.noisygraph.local_pnorm_{diffusion,cluster}
and the CLI's --p. Every case raises a ValueError/TypeError naming the argument."""
import math

import pytest
import torch

import noisygraph
from noisygraph.cluster import LocalGraph, local_cluster
from noisygraph.ops.local_push import pnorm_cluster, pnorm_diffusion
from tests.bad_input import BadInput, assert_rejects, case_id

f64 = torch.float64
G = LocalGraph.from_graph(torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]), num_nodes=4)
LABELS = torch.tensor([True, True, False, False])


def raw_args(**override):
    degree = torch.tensor([1.0, 2.0, 2.0, 1.0], dtype=f64)
    args = dict(rowptr=torch.tensor([0, 1, 3, 5, 6]), col=torch.tensor([1, 0, 2, 1, 3, 2]),
                value=torch.ones(6, dtype=f64), degree=degree, sink=degree.clone(),
                source_ptr=torch.tensor([0, 1]),
                source_nodes=torch.tensor([1]), source_mass=torch.tensor([5.0], dtype=f64),
                p=4.0, eps=0.5, max_pushes=100)
    args.update(override)
    return args


def raw(**override):
    a = raw_args(**override)
    return torch.ops.noisygraph.local_pnorm_diffusion(
        a["rowptr"], a["col"], a["value"], a["degree"], a["sink"], a["source_ptr"],
        a["source_nodes"], a["source_mass"], a["p"], a["eps"], a["max_pushes"])


def raw_cluster(multiples=None, total_volume=6.0, **override):
    a = raw_args(**override)
    multiples = torch.tensor([1.0, 2.0], dtype=f64) if multiples is None else multiples
    return torch.ops.noisygraph.local_pnorm_cluster(
        a["rowptr"], a["col"], a["value"], a["degree"], a["sink"], a["source_ptr"],
        a["source_nodes"], a["source_mass"], multiples, a["p"], a["eps"], a["max_pushes"],
        total_volume)


WRAPPER_CASES = [
    BadInput("p-below-2", lambda: pnorm_diffusion(G, 0, 10.0, p=1.5), ValueError, r"\bp\b"),
    BadInput("p-inf", lambda: pnorm_diffusion(G, 0, 10.0, p=math.inf), ValueError, r"\bp\b"),
    BadInput("p-nan", lambda: pnorm_diffusion(G, 0, 10.0, p=math.nan), ValueError, r"\bp\b"),
    BadInput("p-str", lambda: pnorm_diffusion(G, 0, 10.0, p="4"), TypeError, r"\bp\b"),
    BadInput("p-bool", lambda: pnorm_diffusion(G, 0, 10.0, p=True), TypeError, r"\bp\b"),
    BadInput("eps-zero", lambda: pnorm_diffusion(G, 0, 10.0, p=4.0, eps=0.0), ValueError, "eps"),
    BadInput("max-pushes-negative", lambda: pnorm_diffusion(G, 0, 10.0, max_pushes=-1),
             ValueError, "max_pushes"),
    BadInput("mass-negative", lambda: pnorm_diffusion(G, 0, -1.0), ValueError, "source_mass"),
    BadInput("seed-outside", lambda: pnorm_diffusion(G, 9, 1.0), ValueError, "seed"),
    BadInput("sink-negative", lambda: pnorm_diffusion(G, 0, 1.0, sink=-torch.ones(4)),
             ValueError, "sink"),
    BadInput("graph-not-local", lambda: pnorm_diffusion("graph", 0, 1.0), TypeError, "graph"),
    BadInput("cluster-p-below-2", lambda: pnorm_cluster(G, 0, 1.0, [1.0], p=1.0), ValueError,
             r"\bp\b"),
    BadInput("cluster-multiples-empty", lambda: pnorm_cluster(G, 0, 1.0, [], p=4.0), ValueError,
             "multiples"),
    BadInput("local-cluster-p-below-2",
             lambda: local_cluster(G, seed_node=0, labels=LABELS, p=1.99), ValueError, r"\bp\b"),
    BadInput("local-cluster-p-with-ppr",
             lambda: local_cluster(G, seed_node=0, labels=LABELS, method="ppr", p=4.0),
             ValueError, r"\bp\b"),
]

RAW_CASES = [
    BadInput("raw-p-below-2", lambda: raw(p=1.0), ValueError, r"\bp\b"),
    BadInput("raw-p-inf", lambda: raw(p=math.inf), ValueError, r"\bp\b"),
    BadInput("raw-p-nan", lambda: raw(p=math.nan), ValueError, r"\bp\b"),
    BadInput("raw-p-overflow", lambda: raw(p=1000.0, source_mass=torch.tensor([1e6], dtype=f64)),
             ValueError, r"\bp\b"),
    BadInput("raw-eps-negative", lambda: raw(eps=-1.0), ValueError, "eps"),
    BadInput("raw-max-pushes-negative", lambda: raw(max_pushes=-1), ValueError, "max_pushes"),
    BadInput("raw-weight-negative", lambda: raw(value=torch.tensor([-1.0, -1, 1, 1, 1, 1],
                                                                   dtype=f64)),
             ValueError, "value"),
    BadInput("raw-weight-inf", lambda: raw(value=torch.tensor([1.0, math.inf, 1, 1, 1, 1],
                                                              dtype=f64)),
             ValueError, "value"),
    BadInput("raw-weight-float32", lambda: raw(value=torch.ones(6)), (TypeError, ValueError),
             "value"),
    BadInput("raw-col-outside", lambda: raw(col=torch.tensor([1, 7, 2, 1, 3, 2])), ValueError,
             "col"),
    BadInput("raw-col-int32", lambda: raw(col=torch.tensor([1, 0, 2, 1, 3, 2],
                                                           dtype=torch.int32)),
             TypeError, "col"),
    BadInput("raw-rowptr-end", lambda: raw(rowptr=torch.tensor([0, 1, 3, 5, 5])), ValueError,
             "rowptr"),
    BadInput("raw-rowptr-decreasing", lambda: raw(rowptr=torch.tensor([0, 4, 3, 5, 6])),
             ValueError, "rowptr"),
    BadInput("raw-degree-nan", lambda: raw(degree=torch.tensor([1.0, math.nan, 2.0, 1.0], dtype=f64)),
             ValueError, "degree"),
    BadInput("raw-sink-negative", lambda: raw(sink=torch.tensor([1.0, -2.0, 2.0, 1.0], dtype=f64)),
             ValueError, "sink"),
    BadInput("raw-source-node-outside", lambda: raw(source_nodes=torch.tensor([4])), ValueError,
             "source_nodes"),
    BadInput("raw-source-mass-negative",
             lambda: raw(source_mass=torch.tensor([-1.0], dtype=f64)), ValueError, "source_mass"),
    BadInput("raw-source-ptr-past-end", lambda: raw(source_ptr=torch.tensor([0, 2])),
             ValueError, "source_ptr"),
    BadInput("raw-degree-shape", lambda: raw(degree=torch.ones(3, dtype=f64)), ValueError,
             "degree"),
    BadInput("raw-cluster-p-below-2", lambda: raw_cluster(p=0.5), ValueError, r"\bp\b"),
    BadInput("raw-cluster-multiples-descending",
             lambda: raw_cluster(multiples=torch.tensor([2.0, 1.0], dtype=f64)), ValueError,
             "multiples"),
    BadInput("raw-cluster-total-volume-nan", lambda: raw_cluster(total_volume=math.nan),
             ValueError, "total_volume"),
    BadInput("raw-cluster-mass-overflow",
             lambda: raw_cluster(multiples=torch.tensor([1.0, 1e308], dtype=f64)), ValueError,
             "multiples"),
]


@pytest.mark.parametrize("case", WRAPPER_CASES, ids=case_id)
def test_wrappers_reject(case):
    assert_rejects(case)


@pytest.mark.skipif(noisygraph.backend() == "reference", reason="compiled ops not built")
@pytest.mark.parametrize("case", RAW_CASES, ids=case_id)
def test_raw_ops_reject(case):
    assert_rejects(case)


@pytest.mark.parametrize("value", ["1.5", "inf", "nan"])
def test_cli_rejects_bad_p(value, capsys):
    from noisygraph_cli import main
    assert main(["cluster", "--dataset", "cora", "--node", "0", "--p", value]) == 2
    assert "--p" in capsys.readouterr().err


def test_cli_rejects_p_with_ppr(capsys):
    from noisygraph_cli import main
    assert main(["cluster", "--dataset", "cora", "--node", "0", "--method", "ppr",
                 "--p", "4"]) == 2
    assert "--p" in capsys.readouterr().err
