"""The shared flags of `noisygraph cluster` (--noise, --plot, --quiet) and `noisygraph locle`
(--plot, --device) have an effect (issue 10)."""
from __future__ import annotations

import json

import pytest
import torch

from noisygraph_cli import main
from test_cli_output import _two_blocks

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def blocks(monkeypatch):
    import noisygraph.datasets

    data = _two_blocks()
    data.x = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(noisygraph.datasets, "load_dataset", lambda *a, **k: data)
    return data


def test_cluster_noise_kind_reaches_the_noise_model(blocks, monkeypatch, tmp_path):
    import noisygraph.noise

    kinds = []
    original = noisygraph.noise.add_label_noise
    monkeypatch.setattr(noisygraph.noise, "add_label_noise",
                        lambda y, kind, *a, **k: kinds.append((kind, k.get("x") is not None))
                        or original(y, kind, *a, **k))
    out = tmp_path / "out.json"
    assert main(["cluster", "--dataset", "blocks", "--node", "1", "--rate", "0.1",
                 "--noise", "instance", "--json", str(out)]) == 0
    assert kinds == [("instance", True)] and json.loads(out.read_text())["noise"] == "instance"
    kinds.clear()
    assert main(["cluster", "--dataset", "blocks", "--node", "1", "--rate", "0.1"]) == 0
    assert kinds == [("uniform", False)]  # the papers' protocol stays the default


def test_cluster_instance_noise_without_features_is_a_usage_error(blocks, capsys):
    del blocks.x
    assert main(["cluster", "--dataset", "blocks", "--node", "1", "--noise", "instance"]) == 2
    assert "--noise" in capsys.readouterr().err


def test_cluster_quiet_hides_the_progress_bar(blocks, capsys):
    nodes = ["--node", "1", "--node", "15"]  # two target classes: a bar over them
    assert main(["cluster", "--dataset", "blocks", *nodes]) == 0
    assert "target classes" in capsys.readouterr().err
    assert main(["cluster", "--dataset", "blocks", *nodes, "--quiet"]) == 0
    assert "target classes" not in capsys.readouterr().err


def test_cluster_plot_draws_the_sweep_profile(blocks, tmp_path):
    from noisygraph.cluster import LocalGraph, local_cluster
    from noisygraph.plotting import sweep_profile

    path = tmp_path / "sweep.png"
    assert main(["cluster", "--dataset", "blocks", "--node", "1", "--weighting", "none",
                 "--plot", str(path)]) == 0
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    # the profile's minimum is the returned cluster (unweighted: the graph the sweep ran on)
    graph = LocalGraph.from_graph(blocks)
    result = local_cluster(graph, seed_node=1)
    order, conductance = sweep_profile(graph, result)
    assert conductance[result.size - 1] == pytest.approx(result.conductance)
    assert conductance[result.size - 1] == pytest.approx(1 / 91)  # one edge out of a 10-clique
    assert set(order[:result.size].tolist()) == set(result.nodes.tolist())


def test_cluster_plot_path_is_checked_before_loading(blocks, capsys, tmp_path):
    assert main(["cluster", "--dataset", "blocks", "--node", "1", "--plot", str(tmp_path)]) == 2
    assert "--plot" in capsys.readouterr().err


def test_locle_device_and_plot_are_checked_before_loading(tmp_path, capsys):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name in ("nodes.tsv", "edges.tsv"):
        (folder / name).write_text("x\n")
    (folder / "classes.tsv").write_text("label\tname\tdescription\n0\tA\ta\n1\tB\tb\n")
    if not torch.cuda.is_available():
        assert main(["locle", "--dataset", str(folder), "--device", "cuda"]) == 2
        assert "--device" in capsys.readouterr().err
    assert main(["locle", "--dataset", str(folder), "--plot", str(tmp_path)]) == 2
    assert "--plot" in capsys.readouterr().err


def test_confusion_matrix_and_its_plot(tmp_path):
    from noisygraph.metrics import confusion_matrix
    from noisygraph.plotting import plot_confusion

    y = torch.tensor([0, 0, 1, 1, 2, 2])
    pred = torch.tensor([0, 1, 1, 1, 2, 0])
    assert confusion_matrix(pred, y, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    with pytest.raises(ValueError, match="pred"):
        confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)
    plot_confusion(pred, y, ["a", "b", "c"], str(tmp_path / "c.png"))
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
