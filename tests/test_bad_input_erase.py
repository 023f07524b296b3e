"""Bad input to the noise models, ERASE, its label propagation, the linear probe, the GCN
baseline and ``noisygraph erase``: every case raises ValueError/TypeError naming the argument
(the CLI: exit status 2, one line, no traceback, no data loaded)."""
import math

import pytest
import torch
from torch_geometric.data import Data

from bad_input import BadInput, assert_rejects, case_id
from noisygraph.datasets import csbm
from noisygraph.erase import ERASE, ERASETrainer, GCNBaseline
from noisygraph.nn import LogisticRegression
from noisygraph.erase.trainer import sparse_features
from noisygraph.nn.label_denoise import (class_prototypes, lazy_propagate,
                                         lazy_propagation_operator, precorrect_labels,
                                         semantic_labels, train_subgraph)
from noisygraph.noise import AddLabelNoise, LabelNoiseModel, add_label_noise
from noisygraph.sparse import Adjacency, to_adjacency
from noisygraph.random import seed_everything

Y = torch.tensor([0, 1, 2, 0, 1, 2])
X = torch.randn(6, 3)
EDGES = torch.tensor([[0, 1, 1, 2, 3, 4, 4, 5], [1, 0, 2, 1, 4, 3, 5, 4]])
TRAIN = torch.tensor([True, True, True, False, False, False])
ADJ = to_adjacency(EDGES, num_nodes=6)
OPERATOR = lazy_propagation_operator(ADJ.normalize("col"), 0.6)
Y_PRE = torch.rand(6, 3)


def _graph():
    data = csbm(num_nodes=60, num_classes=3, num_features=4, seed=0, train_per_class=4,
                num_val=12, num_test=20)
    data.num_classes = 3
    return data


DATA = _graph()
Y_NOISY = DATA.y.clone()


def _with(**changes):
    data = DATA.clone()
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def _split_data(**changes):
    data = Data(y=Y, x=X, train_mask=TRAIN, val_mask=~TRAIN, num_nodes=6)
    for key, value in changes.items():
        if value is None:
            delattr(data, key)
        else:
            setattr(data, key, value)
    return data


def _trainer(**kwargs):
    return ERASETrainer(ERASE(4, hidden_channels=4, out_channels=4, heads=2), epochs=1,
                        verbose=False, **kwargs)


def _fit(data=None, y_noisy=None, **kwargs):
    return _trainer(**kwargs).fit(DATA if data is None else data,
                                  y_noisy=Y_NOISY if y_noisy is None else y_noisy)


def _gcn(**kwargs):
    return GCNBaseline(epochs=1, verbose=False, **kwargs)


def _bad_edges(value):
    data = DATA.clone()
    data.edge_index = value
    return data


NOISE = [
    BadInput("noise-y-list", lambda: add_label_noise([0, 1], "uniform", 0.1), TypeError, "y"),
    BadInput("noise-y-2d", lambda: add_label_noise(Y.view(2, 3), "uniform", 0.1), ValueError, "y"),
    BadInput("noise-y-float", lambda: add_label_noise(Y.float(), "uniform", 0.1), TypeError, "y"),
    BadInput("noise-y-data", lambda: add_label_noise(_split_data(), "uniform", 0.1), TypeError,
             "AddLabelNoise"),
    BadInput("noise-y-negative", lambda: add_label_noise(torch.tensor([0, -1, 1]), "uniform", 0.1),
             ValueError, "y"),
    BadInput("noise-y-above-k", lambda: add_label_noise(Y, "uniform", 0.1, num_classes=2),
             ValueError, "num_classes"),
    BadInput("noise-kind", lambda: add_label_noise(Y, "gaussian", 0.1), ValueError, "kind"),
    BadInput("noise-sampler", lambda: add_label_noise(Y, "uniform", 0.1, sampler="fancy"),
             ValueError, "sampler"),
    BadInput("noise-rate-above-1", lambda: add_label_noise(Y, "uniform", 1.5), ValueError, "rate"),
    BadInput("noise-rate-negative", lambda: add_label_noise(Y, "uniform", -0.1), ValueError, "rate"),
    BadInput("noise-rate-nan", lambda: add_label_noise(Y, "uniform", math.nan), ValueError, "rate"),
    BadInput("noise-rate-str", lambda: add_label_noise(Y, "uniform", "0.1"), TypeError, "rate"),
    BadInput("noise-rate-bool", lambda: add_label_noise(Y, "uniform", True), TypeError, "rate"),
    BadInput("noise-seed-negative", lambda: add_label_noise(Y, "uniform", 0.1, seed=-1),
             ValueError, "seed"),
    BadInput("noise-seed-2**32", lambda: add_label_noise(Y, "uniform", 0.1, seed=2**32),
             ValueError, "seed"),
    BadInput("noise-seed-float", lambda: add_label_noise(Y, "uniform", 0.1, seed=1.5),
             TypeError, "seed"),
    BadInput("noise-num-classes-1", lambda: add_label_noise(Y * 0, "uniform", 0.1, num_classes=1),
             ValueError, "num_classes"),
    BadInput("noise-num-classes-float", lambda: add_label_noise(Y, "uniform", 0.1, num_classes=3.0),
             TypeError, "num_classes"),
    BadInput("noise-mask-float", lambda: add_label_noise(Y, "uniform", 0.1, mask=torch.ones(6)),
             TypeError, "mask"),
    BadInput("noise-mask-shape", lambda: add_label_noise(
        Y, "uniform", 0.1, mask=torch.ones(5, dtype=torch.bool)), ValueError, "mask"),
    BadInput("noise-instance-no-x", lambda: add_label_noise(Y, "instance", 0.1), ValueError, "x"),
    BadInput("noise-instance-x-rows", lambda: add_label_noise(Y, "instance", 0.1, x=torch.ones(4, 2)),
             ValueError, "x"),
    BadInput("noise-instance-x-nan", lambda: add_label_noise(
        Y, "instance", 0.1, x=torch.full((6, 2), math.nan)), ValueError, "x"),
    BadInput("noise-instance-x-1d", lambda: add_label_noise(Y, "instance", 0.1, x=torch.ones(6)),
             ValueError, "x"),
    BadInput("noise-instance-paper", lambda: add_label_noise(Y, "instance", 0.1, x=X, sampler="paper"),
             ValueError, "sampler"),
    BadInput("noise-temperature-zero", lambda: add_label_noise(Y, "instance", 0.1, x=X,
                                                               instance_temperature=0.0),
             ValueError, "instance_temperature"),
    BadInput("noise-temperature-inf", lambda: add_label_noise(Y, "uniform", 0.1,
                                                              instance_temperature=math.inf),
             ValueError, "instance_temperature"),
    BadInput("model-num-classes-1", lambda: LabelNoiseModel("uniform", 0.1, 1), ValueError,
             "num_classes"),
    BadInput("model-kind", lambda: LabelNoiseModel("flip", 0.1, 3), ValueError, "kind"),
    BadInput("model-sample-label-above-k", lambda: LabelNoiseModel("pair", 0.1, 2).sample(Y),
             ValueError, "num_classes"),
    BadInput("model-sample-mask-int", lambda: LabelNoiseModel("pair", 0.1, 3).sample(
        Y, torch.ones(6, dtype=torch.long)), TypeError, "mask"),
    BadInput("model-sample-each-overlap", lambda: LabelNoiseModel("pair", 0.1, 3).sample_each(
        Y, [TRAIN, torch.ones(6, dtype=torch.bool)]), ValueError, "masks"),
    BadInput("model-sample-each-tensor", lambda: LabelNoiseModel("pair", 0.1, 3).sample_each(
        Y, TRAIN), TypeError, "masks"),
    BadInput("model-sample-each-empty", lambda: LabelNoiseModel("pair", 0.1, 3).sample_each(Y, []),
             TypeError, "masks"),
    BadInput("model-instance-rows", lambda: LabelNoiseModel("instance", 0.1, 3, x=X).sample(
        torch.tensor([0, 1, 2])), ValueError, "x"),
    BadInput("transform-on", lambda: AddLabelNoise("uniform", 0.1, on="test"), ValueError, "on"),
    BadInput("transform-kind", lambda: AddLabelNoise("gauss", 0.1), ValueError, "kind"),
    BadInput("transform-sampler", lambda: AddLabelNoise("uniform", 0.1, sampler="x"), ValueError,
             "sampler"),
    BadInput("transform-rate", lambda: AddLabelNoise("uniform", 2.0), ValueError, "rate"),
    BadInput("transform-seed", lambda: AddLabelNoise("uniform", 0.1, seed=-3), ValueError, "seed"),
    BadInput("transform-num-classes", lambda: AddLabelNoise("uniform", 0.1, num_classes=1),
             ValueError, "num_classes"),
    BadInput("transform-temperature", lambda: AddLabelNoise("instance", 0.1,
                                                            instance_temperature=-1.0),
             ValueError, "instance_temperature"),
    BadInput("transform-instance-paper", lambda: AddLabelNoise("instance", 0.1, sampler="paper"),
             ValueError, "sampler"),
    BadInput("transform-no-train-mask", lambda: AddLabelNoise("uniform", 0.1)(
        _split_data(train_mask=None)), ValueError, "train_mask"),
    BadInput("transform-no-val-mask", lambda: AddLabelNoise("uniform", 0.1, on="train+val")(
        _split_data(val_mask=None)), ValueError, "val_mask"),
    BadInput("transform-val-mask-int", lambda: AddLabelNoise("uniform", 0.1, on="train+val")(
        _split_data(val_mask=torch.ones(6, dtype=torch.long))), TypeError, "val_mask"),
    BadInput("transform-y-float", lambda: AddLabelNoise("uniform", 0.1, on="all")(
        _split_data(y=Y.float())), TypeError, "y"),
]

TRAINER = [
    BadInput("trainer-model", lambda: ERASETrainer("gat"), TypeError, "model"),
    # float64 features are cast to the encoder's float32; beyond its range they became inf
    BadInput("trainer-x-float64-overflow", lambda: _fit(_with(
        x=torch.full((60, 4), 1e300, dtype=torch.float64))), ValueError, "data.x"),
    BadInput("trainer-loss", lambda: _trainer(loss=lambda z, y, k: z), TypeError, "loss"),
    BadInput("trainer-gamma1-zero", lambda: _trainer(gamma1=0.0), ValueError, "gamma1"),
    BadInput("trainer-gamma1-nan", lambda: _trainer(gamma1=math.nan), ValueError, "gamma1"),
    BadInput("trainer-gamma2-negative", lambda: _trainer(gamma2=-1.0), ValueError, "gamma2"),
    BadInput("trainer-eps-zero", lambda: _trainer(eps=0.0), ValueError, "eps"),
    BadInput("trainer-eps-inf", lambda: _trainer(eps=math.inf), ValueError, "eps"),
    BadInput("trainer-eps-str", lambda: _trainer(eps="0.05"), TypeError, "eps"),
    BadInput("trainer-alpha", lambda: _trainer(alpha=1.5), ValueError, "alpha"),
    BadInput("trainer-alpha-nan", lambda: _trainer(alpha=math.nan), ValueError, "alpha"),
    BadInput("trainer-beta", lambda: _trainer(beta=-0.1), ValueError, "beta"),
    BadInput("trainer-num-steps-negative", lambda: _trainer(num_steps=-1), ValueError, "num_steps"),
    BadInput("trainer-num-steps-float", lambda: _trainer(num_steps=2.5), TypeError, "num_steps"),
    BadInput("trainer-precorrection", lambda: _trainer(precorrection="dense"), ValueError,
             "precorrection"),
    BadInput("trainer-semantic-propagation", lambda: _trainer(semantic_propagation="dense"),
             ValueError, "semantic_propagation"),
    BadInput("trainer-seed-nodes", lambda: _trainer(seed_nodes="val", batch_size=8),
             ValueError, "seed_nodes"),
    BadInput("trainer-seed-nodes-full-batch", lambda: _trainer(seed_nodes="train"),
             ValueError, "seed_nodes"),
    BadInput("trainer-lr-zero", lambda: _trainer(lr=0.0), ValueError, "lr"),
    BadInput("trainer-lr-nan", lambda: _trainer(lr=math.nan), ValueError, "lr"),
    BadInput("trainer-weight-decay", lambda: _trainer(weight_decay=-1e-4), ValueError,
             "weight_decay"),
    BadInput("trainer-epochs", lambda: ERASETrainer(ERASE(4), epochs=0), ValueError, "epochs"),
    BadInput("trainer-epochs-float", lambda: ERASETrainer(ERASE(4), epochs=2.0), TypeError, "epochs"),
    BadInput("trainer-patience", lambda: _trainer(patience=-1), ValueError, "patience"),
    BadInput("trainer-protocol", lambda: _trainer(protocol="clean"), ValueError, "protocol"),
    BadInput("trainer-batch-size", lambda: _trainer(batch_size=0), ValueError, "batch_size"),
    BadInput("trainer-num-neighbors-negative", lambda: _trainer(num_neighbors=[5, -2]), ValueError,
             "num_neighbors"),
    BadInput("trainer-num-neighbors-empty", lambda: _trainer(num_neighbors=[]), ValueError,
             "num_neighbors"),
    BadInput("trainer-num-neighbors-float", lambda: _trainer(num_neighbors=[5.0]), TypeError,
             "num_neighbors"),
    BadInput("trainer-num-neighbors-int", lambda: _trainer(num_neighbors=5), TypeError,
             "num_neighbors"),
    BadInput("trainer-chunk-size", lambda: _trainer(inference_chunk_size=0), ValueError,
             "inference_chunk_size"),
    BadInput("trainer-max-batches", lambda: _trainer(max_batches_per_epoch=0), ValueError,
             "max_batches_per_epoch"),
    BadInput("trainer-classifier-iter", lambda: _trainer(classifier_max_iter=0), ValueError,
             "classifier_max_iter"),
    BadInput("trainer-device-unknown", lambda: _trainer(device="gpu"), ValueError, "device"),
    BadInput("trainer-device-absent", lambda: _trainer(device="cuda:7"), ValueError, "device"),
    BadInput("trainer-device-int", lambda: _trainer(device=3.5), TypeError, "device"),
    BadInput("trainer-seed", lambda: _trainer(seed=-1), ValueError, "seed"),
    BadInput("trainer-verbose", lambda: ERASETrainer(ERASE(4), verbose="yes"), TypeError, "verbose"),
    BadInput("fit-data-dict", lambda: _trainer().fit({"x": X}, y_noisy=Y), TypeError, "data"),
    BadInput("fit-y-noisy-length", lambda: _fit(y_noisy=Y_NOISY[:-1]), ValueError, "y_noisy"),
    BadInput("fit-y-noisy-float", lambda: _fit(y_noisy=Y_NOISY.float()), TypeError, "y_noisy"),
    BadInput("fit-y-noisy-list", lambda: _fit(y_noisy=Y_NOISY.tolist()), TypeError, "y_noisy"),
    BadInput("fit-y-noisy-above-k", lambda: _fit(y_noisy=torch.where(DATA.train_mask, 3, Y_NOISY)),
             ValueError, "y_noisy"),
    BadInput("fit-y-noisy-negative", lambda: _fit(y_noisy=torch.where(DATA.train_mask, -1, Y_NOISY)),
             ValueError, "y_noisy"),
    BadInput("fit-x-nan", lambda: _fit(_with(x=torch.where(torch.rand(60, 4) < 0.1, math.nan, DATA.x))),
             ValueError, "data.x"),
    BadInput("fit-x-inf", lambda: _fit(_with(x=DATA.x.index_fill(0, torch.tensor([3]), math.inf))),
             ValueError, "data.x"),
    BadInput("fit-x-int", lambda: _fit(_with(x=DATA.x.long())), ValueError, "data.x"),
    BadInput("fit-edge-index-out-of-range", lambda: _fit(_bad_edges(torch.tensor([[0, 60], [1, 2]]))),
             ValueError, "edge_index"),
    BadInput("fit-edge-index-negative", lambda: _fit(_bad_edges(torch.tensor([[0, -1], [1, 2]]))),
             ValueError, "edge_index"),
    BadInput("fit-edge-index-float", lambda: _fit(_bad_edges(DATA.edge_index.float())), TypeError,
             "edge_index"),
    BadInput("fit-edge-index-shape", lambda: _fit(_bad_edges(DATA.edge_index[:1])), ValueError,
             "edge_index"),
    BadInput("fit-train-mask-int", lambda: _fit(_with(train_mask=DATA.train_mask.long())),
             TypeError, "train_mask"),
    BadInput("fit-val-mask-empty", lambda: _fit(_with(val_mask=torch.zeros(60, dtype=torch.bool))),
             ValueError, "val_mask"),
    BadInput("fit-test-mask-shape", lambda: _fit(_with(test_mask=DATA.test_mask[:-1])), ValueError,
             "test_mask"),
    BadInput("fit-y-negative", lambda: _fit(_with(y=torch.where(DATA.test_mask, -1, DATA.y))),
             ValueError, "data.y"),
    BadInput("fit-y-float", lambda: _fit(_with(y=DATA.y.float())), TypeError, "data.y"),
    BadInput("fit-num-classes-too-small", lambda: _fit(_with(num_classes=2)), ValueError,
             "num_classes"),
    BadInput("fit-noisy-val-clean-val", lambda: _fit(protocol="noisy-val"), ValueError,
             "y_noisy"),
    BadInput("fit-noise-mask-shape", lambda: _trainer(protocol="noisy-val").fit(
        DATA, y_noisy=Y_NOISY, noise_mask=torch.ones(5, dtype=torch.bool)), ValueError, "noise_mask"),
    BadInput("fit-noise-mask-misses-val", lambda: _trainer(protocol="noisy-val").fit(
        DATA, y_noisy=Y_NOISY, noise_mask=DATA.train_mask), ValueError, "noise_mask"),
    BadInput("gcn-hidden", lambda: _gcn(hidden_channels=0), ValueError, "hidden_channels"),
    BadInput("gcn-dropout", lambda: _gcn(dropout=1.0), ValueError, "dropout"),
    BadInput("gcn-lr", lambda: _gcn(lr=-0.01), ValueError, "lr"),
    BadInput("gcn-weight-decay", lambda: _gcn(weight_decay=math.nan), ValueError, "weight_decay"),
    BadInput("gcn-epochs", lambda: GCNBaseline(epochs=0), ValueError, "epochs"),
    BadInput("gcn-patience", lambda: _gcn(patience=-2), ValueError, "patience"),
    BadInput("gcn-protocol", lambda: _gcn(protocol="test"), ValueError, "protocol"),
    BadInput("gcn-device", lambda: _gcn(device="tpu"), ValueError, "device"),
    BadInput("gcn-verbose", lambda: GCNBaseline(verbose=1), TypeError, "verbose"),
    BadInput("gcn-fit-noisy-val-clean-val", lambda: _gcn(protocol="noisy-val").fit(DATA, y_noisy=Y_NOISY),
             ValueError, "y_noisy"),
    BadInput("gcn-fit-x-nan", lambda: _gcn().fit(_with(x=DATA.x * math.nan), y_noisy=Y_NOISY), ValueError,
             "data.x"),
    BadInput("gcn-fit-y-noisy-length", lambda: _gcn().fit(DATA, y_noisy=Y_NOISY[:3]), ValueError, "y_noisy"),
]

ENCODER = [
    BadInput("erase-in-channels", lambda: ERASE(0), ValueError, "in_channels"),
    BadInput("erase-in-channels-float", lambda: ERASE(4.0), TypeError, "in_channels"),
    BadInput("erase-hidden", lambda: ERASE(4, hidden_channels=0), ValueError, "hidden_channels"),
    BadInput("erase-out", lambda: ERASE(4, out_channels=-3), ValueError, "out_channels"),
    BadInput("erase-heads", lambda: ERASE(4, heads=0), ValueError, "heads"),
    BadInput("erase-divisible", lambda: ERASE(4, hidden_channels=10, heads=3), ValueError, "heads"),
    BadInput("erase-dropout-one", lambda: ERASE(4, dropout=1.0), ValueError, "dropout"),
    BadInput("erase-dropout-nan", lambda: ERASE(4, dropout=math.nan), ValueError, "dropout"),
    BadInput("erase-encoder", lambda: ERASE(4, encoder="gcn"), TypeError, "encoder"),
    BadInput("erase-forward-width", lambda: ERASE(4, 4, 4, 2)(torch.randn(6, 5), EDGES), ValueError,
             "x"),
    BadInput("erase-forward-int-x", lambda: ERASE(4, 4, 4, 2)(torch.ones(6, 4, dtype=torch.long),
                                                              EDGES), TypeError, "x"),
    BadInput("erase-forward-edges-float", lambda: ERASE(4, 4, 4, 2)(torch.randn(6, 4),
                                                                    EDGES.float()),
             ValueError, "edge_index"),
    BadInput("sparse-features-density", lambda: sparse_features(torch.rand(4, 4), max_density=1.5),
             ValueError, "max_density"),
    BadInput("sparse-features-list", lambda: sparse_features([[0.0]]), TypeError, "x"),
    BadInput("seed-everything-negative", lambda: seed_everything(-1), ValueError, "seed"),
    BadInput("seed-everything-float", lambda: seed_everything(1.5), TypeError, "seed"),
    BadInput("erase-inference-chunk", lambda: ERASE(4, 4, 4, 2).inference(torch.randn(6, 4), EDGES,
                                                                          chunk_size=0),
             ValueError, "chunk_size"),
]

DENOISE = [
    BadInput("pre-method", lambda: precorrect_labels(Y, EDGES, TRAIN, 3, method="dense"), ValueError,
             "method"),
    BadInput("pre-y-float", lambda: precorrect_labels(Y.float(), EDGES, TRAIN, 3), TypeError,
             "y_noisy"),
    BadInput("pre-y-list", lambda: precorrect_labels([0, 1], EDGES, TRAIN, 3), TypeError, "y_noisy"),
    BadInput("pre-mask-float", lambda: precorrect_labels(Y, EDGES, TRAIN.float(), 3), TypeError,
             "train_mask"),
    BadInput("pre-mask-shape", lambda: precorrect_labels(Y, EDGES, TRAIN[:4], 3), ValueError,
             "train_mask"),
    BadInput("pre-mask-empty", lambda: precorrect_labels(Y, EDGES, torch.zeros(6, dtype=torch.bool),
                                                         3), ValueError, "train_mask"),
    BadInput("pre-alpha", lambda: precorrect_labels(Y, EDGES, TRAIN, 3, alpha=1.5), ValueError,
             "alpha"),
    BadInput("pre-alpha-lp", lambda: precorrect_labels(Y, EDGES, TRAIN, 3, alpha=-0.5,
                                                       method="label-propagation"),
             ValueError, "alpha"),
    BadInput("pre-steps", lambda: precorrect_labels(Y, EDGES, TRAIN, 3, num_steps=-1), ValueError,
             "num_steps"),
    BadInput("pre-num-classes", lambda: precorrect_labels(Y, EDGES, TRAIN, 0), ValueError,
             "num_classes"),
    BadInput("pre-label-above-k", lambda: precorrect_labels(Y, EDGES, TRAIN, 2), ValueError,
             "y_noisy"),
    BadInput("pre-graph-size", lambda: precorrect_labels(Y, to_adjacency(EDGES, num_nodes=8), TRAIN, 3),
             ValueError, "graph"),
    BadInput("pre-graph-type", lambda: precorrect_labels(Y, [[0, 1], [1, 0]], TRAIN, 3), TypeError,
             "graph"),
    BadInput("op-not-adjacency", lambda: lazy_propagation_operator(EDGES, 0.5), TypeError, "adj"),
    BadInput("op-not-square", lambda: lazy_propagation_operator(
        Adjacency(torch.tensor([0, 1, 2]), torch.tensor([0, 2]), num_cols=3), 0.5), ValueError, "adj"),
    BadInput("op-alpha", lambda: lazy_propagation_operator(ADJ, math.inf), ValueError, "alpha"),
    BadInput("propagate-int-y", lambda: lazy_propagate(OPERATOR, torch.ones(6, 3, dtype=torch.long), 2),
             ValueError, "y"),
    BadInput("propagate-rows", lambda: lazy_propagate(OPERATOR, torch.ones(5, 3), 2), ValueError,
             "operator"),
    BadInput("propagate-steps", lambda: lazy_propagate(OPERATOR, torch.ones(6, 3), 1.5), TypeError,
             "num_steps"),
    BadInput("subgraph-mask", lambda: train_subgraph(EDGES, TRAIN.long()), TypeError, "train_mask"),
    BadInput("subgraph-graph-size", lambda: train_subgraph(to_adjacency(EDGES, num_nodes=9), TRAIN),
             ValueError, "graph"),
    BadInput("prototypes-labels-range", lambda: class_prototypes(torch.rand(3, 2), torch.tensor([0, 1, 5]),
                                                                 3), ValueError, "labels"),
    BadInput("prototypes-labels-length", lambda: class_prototypes(torch.rand(3, 2), torch.tensor([0, 1]),
                                                                  3), ValueError, "labels"),
    BadInput("prototypes-num-classes", lambda: class_prototypes(torch.rand(3, 2), torch.tensor([0, 0, 0]),
                                                                0), ValueError, "num_classes"),
    BadInput("prototypes-z-int", lambda: class_prototypes(torch.ones(3, 2, dtype=torch.long),
                                                          torch.tensor([0, 0, 0]), 1),
             ValueError, "z"),
    BadInput("semantic-beta", lambda: semantic_labels(torch.rand(6, 4), Y_PRE, OPERATOR, TRAIN, beta=2.0),
             ValueError, "beta"),
    BadInput("semantic-y-pre-rows", lambda: semantic_labels(torch.rand(6, 4), Y_PRE[:5], OPERATOR, TRAIN),
             ValueError, "y_pre"),
    BadInput("semantic-operator-size", lambda: semantic_labels(
        torch.rand(6, 4), Y_PRE, lazy_propagation_operator(to_adjacency(EDGES, num_nodes=7), 0.5),
        TRAIN), ValueError, "operator"),
    BadInput("semantic-operator-type", lambda: semantic_labels(torch.rand(6, 4), Y_PRE, EDGES, TRAIN),
             TypeError, "operator"),
    BadInput("semantic-denoised-range", lambda: semantic_labels(
        torch.rand(6, 4), Y_PRE, OPERATOR, TRAIN, denoised=torch.tensor([0, 1, 3])), ValueError,
        "denoised"),
    BadInput("semantic-mask", lambda: semantic_labels(torch.rand(6, 4), Y_PRE, OPERATOR, TRAIN[:3]),
             ValueError, "train_mask"),
    BadInput("semantic-steps", lambda: semantic_labels(torch.rand(6, 4), Y_PRE, OPERATOR, TRAIN,
                                                       num_steps=-2), ValueError, "num_steps"),
]

PROBE = [
    BadInput("probe-in-channels", lambda: LogisticRegression(0, 3), ValueError, "in_channels"),
    BadInput("probe-num-classes", lambda: LogisticRegression(4, 0), ValueError, "num_classes"),
    BadInput("probe-c-zero", lambda: LogisticRegression(4, 3, C=0), ValueError, "C"),
    BadInput("probe-c-nan", lambda: LogisticRegression(4, 3, C=math.nan), ValueError, "C"),
    BadInput("probe-max-iter", lambda: LogisticRegression(4, 3, max_iter=0), ValueError, "max_iter"),
    BadInput("probe-tol", lambda: LogisticRegression(4, 3, tol=-1.0), ValueError, "tol"),
    BadInput("probe-fit-width", lambda: LogisticRegression(4, 3).fit(torch.randn(5, 3),
                                                                      torch.zeros(5, dtype=torch.long)),
             ValueError, "x"),
    BadInput("probe-fit-nan", lambda: LogisticRegression(4, 3).fit(torch.full((5, 4), math.nan),
                                                                    torch.zeros(5, dtype=torch.long)),
             ValueError, "x"),
    BadInput("probe-fit-x-int", lambda: LogisticRegression(4, 3).fit(torch.ones(5, 4, dtype=torch.long),
                                                                      torch.zeros(5, dtype=torch.long)),
             TypeError, "x"),
    BadInput("probe-fit-x-float64", lambda: LogisticRegression(4, 3).fit(
        torch.randn(5, 4, dtype=torch.float64), torch.zeros(5, dtype=torch.long)), ValueError, "x"),
    BadInput("probe-fit-y-float", lambda: LogisticRegression(4, 3).fit(torch.randn(5, 4), torch.zeros(5)),
             TypeError, "y"),
    BadInput("probe-fit-y-range", lambda: LogisticRegression(4, 3).fit(
        torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])), ValueError, "y"),
    BadInput("probe-fit-y-length", lambda: LogisticRegression(4, 3).fit(
        torch.randn(5, 4), torch.zeros(4, dtype=torch.long)), ValueError, "y"),
    BadInput("probe-fit-empty", lambda: LogisticRegression(4, 3).fit(
        torch.randn(0, 4), torch.zeros(0, dtype=torch.long)), ValueError, "y"),
    BadInput("probe-fit-max-iter", lambda: LogisticRegression(4, 3).fit(
        torch.randn(5, 4), torch.zeros(5, dtype=torch.long), max_iter=0), ValueError, "max_iter"),
    BadInput("probe-predict-width", lambda: LogisticRegression(4, 3).predict(torch.randn(5, 6)),
             ValueError, "x"),
]

CASES = NOISE + TRAINER + ENCODER + DENOISE + PROBE


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case, one_thread):
    assert_rejects(case)


def test_suite_size():
    assert len(CASES) >= 150


# ---------------------------------------------------------------- noisygraph erase
CLI_CASES = [
    (["--rate", "1.5"], "--rate"),
    (["--rate", "nan"], "--rate"),
    (["--rate", "-0.1"], "--rate"),
    (["--noise", "instance", "--sampler", "paper"], "--sampler"),
    (["--runs", "0"], "--runs"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "4294967295", "--runs", "2"], "--seed"),
    (["--epochs", "0"], "--epochs"),
    (["--patience", "-1"], "--patience"),
    (["--lr", "0"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--num-neighbors", "5", "-2"], "--num-neighbors"),
    (["--max-batches", "0"], "--max-batches"),
    (["--gamma1", "0"], "--gamma1"),
    (["--gamma2", "-1"], "--gamma2"),
    (["--eps", "0"], "--eps"),
    (["--eps", "nan"], "--eps"),
    (["--alpha", "1.5"], "--alpha"),
    (["--beta", "-0.1"], "--beta"),
    (["--T", "-1"], "--T"),
    (["--threads", "0"], "--threads"),
    (["--device", "gpu"], "--device"),
    (["--device", "cuda:3"], "--device"),
    (["--json", "/nonexistent-folder/out.json"], "--json"),
    (["--plot", "/nonexistent-folder/curves.png"], "--plot"),
    (["--dataset", "no-such-graph"], "--dataset"),
    (["--dataset", "csbm"], "--dataset"),
    (["--root", "/nonexistent-root"], "--root"),
]


@pytest.fixture
def no_loading(monkeypatch):
    """Any attempt to load a data set fails the test: validation must come first."""
    import noisygraph.datasets as datasets
    from noisygraph_cli import erase as command

    def refuse(*args, **kwargs):
        raise AssertionError("a data set was loaded before the flags were checked")

    monkeypatch.setattr(command, "load", refuse)
    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.mark.parametrize("argv, flag", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_cli_rejects_before_loading(argv, flag, no_loading, capsys, tmp_path, monkeypatch):
    from noisygraph_cli import main

    monkeypatch.setenv("NOISYGRAPH_DATA", str(tmp_path))
    assert main(["erase", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"noisygraph erase: error: {flag}"), lines
    assert "Traceback" not in captured.err and captured.out == ""


def test_cli_rejects_a_json_path_that_is_a_folder(no_loading, capsys, tmp_path):
    from noisygraph_cli import main

    assert main(["erase", "--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().startswith("noisygraph erase: error: --json")
