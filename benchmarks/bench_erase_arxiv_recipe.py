"""The ERASE release's ogbn-arxiv mini-batch recipe and ours, side by side, on an
ogbn-arxiv-size CSBM whose classes are known (169,343 nodes, ~1.17 M undirected edges,
128-d features, 40 classes), with the same epochs budget. One recipe per process (so each
peak RSS is its own), one thread:

    python benchmarks/bench_erase_arxiv_recipe.py --calibrate          # choose --signal
    python benchmarks/bench_erase_arxiv_recipe.py --profile-batches 5  # per-batch split
    python benchmarks/bench_erase_arxiv_recipe.py --recipes release --epochs 5 \\
        --json benchmarks/results/erase_arxiv_recipe_release.json
    python benchmarks/bench_erase_arxiv_recipe.py --recipes ours --epochs 5 \\
        --json benchmarks/results/erase_arxiv_recipe_ours.json

* ``release``: the settings of the release's ``scripts/train_main_arxiv.py`` (its defaults
  and its own table: alpha 0.6, beta 0.5, T = 50; ``run.sh`` passes alpha 0.5 / beta 0.6 for
  ogbn-arxiv but to the Planetoid script): NeighborSampler fan-out [5, 5] around the
  training nodes only (``seed_nodes="train"``), batch 200, lr 1e-2, PyG label propagation
  both for the pre-correction and for the per-epoch semantic labels. Differences left:
  our Adam has AMSGrad on (the release's does not), the release drops the last incomplete
  batch (here 8,000 training nodes = 40 full batches: none is incomplete).
* ``ours``: ``ERASETrainer``'s defaults (lr 1e-3, alpha 0.6, beta 0.6, T = 5, train-subgraph
  pre-correction, fan-out [5, 5]) with batch 1024 (the trainer has no default batch size;
  1024 is the products benchmark's).

Protocol: CSBM seed 0 with ogbn-arxiv's edge homophily (0.65) and ``--signal`` (chosen by
``--calibrate``: the clean-label accuracy of plain baselines on the validation nodes, never
from a noisy-label run), 200 training nodes per class, 2,000 validation and 10,000 test
nodes; uniform label noise at rate 0.4 on the training labels (exact sampler, seed 0); clean
validation labels select the epoch (the paper's protocol); test accuracy against the CSBM's
classes.

``--calibrate`` fits, on the CLEAN training labels, a logistic regression on the features and
one on SGC's two-hop features (``S^2 X``, ``S`` the self-looped symmetric normalised adjacency)
for each signal of ``--signals`` and prints their validation accuracies.

``--profile-batches B`` times B mini-batches of each recipe, alternated in one process (after
one warm-up batch each): sampling, encoder forward, MCR² forward, MCR² backward, encoder
backward, optimizer step (medians), and the MCR² forward + backward alone on random
``[1024, 512]`` / 47-class and ``[200, 512]`` / 40-class batches, alternated.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

RECIPES = {
    "release": dict(batch_size=200, num_neighbors=(5, 5), lr=1e-2, alpha=0.6, beta=0.5,
                    num_steps=50, precorrection="label-propagation",
                    semantic_propagation="label-propagation", seed_nodes="train"),
    "ours": dict(batch_size=1024, num_neighbors=(5, 5)),
}
HOMOPHILY = 0.65  # ogbn-arxiv's edge homophily (about 0.65)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def make_graph(args, signal: float):
    from noisygraph.datasets import csbm
    return csbm(args.nodes, num_classes=40, avg_degree=args.degree, homophily=HOMOPHILY,
                num_features=128, feature_signal=signal, seed=0, train_per_class=200,
                num_val=2000, num_test=10000, verbose=False)


def calibrate(args) -> dict:
    """Clean-label validation accuracy of a feature and an SGC logistic regression."""
    import torch

    from noisygraph.metrics import accuracy
    from noisygraph.nn.logistic_regression import LogisticRegression
    from noisygraph.sparse import as_adjacency

    rows = {}
    for signal in args.signals:
        data = make_graph(args, signal)
        operator = as_adjacency(data.edge_index, num_nodes=data.num_nodes).normalize(
            "sym", add_self_loops=True).to_torch_sparse_csr()
        sgc = operator @ (operator @ data.x)
        row = {}
        for name, x in (("features", data.x), ("sgc_2hop", sgc)):
            x = (x - x.mean(0)) / x.std(0)
            probe = LogisticRegression(x.size(1), 40, max_iter=300)
            probe.fit(x[data.train_mask], data.y[data.train_mask])
            row[name] = accuracy(probe.predict(x), data.y, data.val_mask)
        rows[signal] = row
        print("signal", signal, json.dumps(row), flush=True)
    return rows


def profile_batches(args, data, y_noisy) -> dict:
    """Per-batch split of both recipes' training step, alternated in one process."""
    import torch

    from noisygraph.erase import ERASE
    from noisygraph.loader import neighbor_loader
    from noisygraph.nn import CodingRateReductionLoss

    loss_fn = CodingRateReductionLoss()
    setups = {}
    for name in args.recipes:
        recipe = RECIPES[name]
        torch.manual_seed(0)
        model = ERASE(128)
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.get("lr", 1e-3),
                                     weight_decay=5e-4, amsgrad=True)
        seeds = data.train_mask if recipe.get("seed_nodes") == "train" else None
        loader = neighbor_loader(data, recipe["num_neighbors"], recipe["batch_size"],
                                 input_nodes=seeds, seed=0)
        setups[name] = (model, optimizer, iter(loader))
    phases = ("sampling", "encoder_forward", "mcr2_forward", "mcr2_backward",
              "encoder_backward", "step")
    times = {name: {phase: [] for phase in phases} for name in setups}

    def one_batch(name: str, record: bool) -> None:
        model, optimizer, batches = setups[name]
        tick = [time.perf_counter()]

        def mark(phase):
            now = time.perf_counter()
            if record:
                times[name][phase].append(now - tick[0])
            tick[0] = now

        batch = next(batches)
        mark("sampling")
        optimizer.zero_grad()
        z = model(batch.x, batch.edge_index, num_sampled_nodes_per_hop=batch.num_sampled_nodes,
                  num_sampled_edges_per_hop=batch.num_sampled_edges)[:batch.batch_size]
        mark("encoder_forward")
        leaf = z.detach().requires_grad_()
        loss = loss_fn(leaf, y_noisy[batch.n_id[:batch.batch_size]], 40)
        mark("mcr2_forward")
        loss.backward()
        mark("mcr2_backward")
        z.backward(leaf.grad)
        mark("encoder_backward")
        optimizer.step()
        mark("step")

    for name in setups:
        one_batch(name, record=False)
    for _ in range(args.profile_batches):
        for name in setups:
            one_batch(name, record=True)
    report = {name: {phase: statistics.median(values) for phase, values in per.items()}
              for name, per in times.items()}
    # the loss kernel alone, the products (K = 47) and the release (K = 40) shapes
    generator = torch.Generator().manual_seed(0)
    shapes = {"1024x512_K47": (1024, 47), "200x512_K40": (200, 40)}
    loss_times = {key: [] for key in shapes}
    inputs = {key: (torch.nn.functional.normalize(torch.randn(n, 512, generator=generator), dim=1),
                    torch.randint(0, k, (n,), generator=generator)) for key, (n, k) in shapes.items()}
    for repeat in range(args.profile_batches + 1):
        for key, (_, k) in shapes.items():
            z = inputs[key][0].clone().requires_grad_()
            start = time.perf_counter()
            loss_fn(z, inputs[key][1], k).backward()
            if repeat:
                loss_times[key].append(time.perf_counter() - start)
    report["mcr2_forward_backward_alone"] = {key: statistics.median(values)
                                             for key, values in loss_times.items()}
    return report


def pseudo_label_summary(pseudo, data) -> dict:
    """Diagnostics of the selected epoch's pseudo-labels on the training nodes (read after
    the run, never used to choose anything): how many classes they use, the share of the
    most common one, and their agreement with the CSBM's classes."""
    import torch
    train = pseudo[data.train_mask]
    counts = torch.bincount(train, minlength=40)
    return {"classes_used": int((counts > 0).sum()),
            "top_class_share": float(counts.max()) / train.numel(),
            "agreement_with_classes": float((train == data.y[data.train_mask]).float().mean())}


def print_epochs() -> None:
    """Prints every epoch the trainer logs (with the peak RSS so far), so that a run stopped
    before its end still leaves its finished epochs in the log."""
    from noisygraph.history import History
    log = History.log

    def log_and_print(self, **values: float) -> None:
        log(self, **values)
        print("epoch", json.dumps({**values, "peak_rss_gb": peak_rss_gb()}), flush=True)

    History.log = log_and_print


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=169_343)
    parser.add_argument("--degree", type=float, default=2 * 1_166_243 / 169_343)
    parser.add_argument("--signal", type=float, default=0.06,
                        help="the CSBM's feature_signal (chosen with --calibrate)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--recipes", nargs="+", choices=tuple(RECIPES), default=list(RECIPES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="model / sampler seed")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--signals", type=float, nargs="+",
                        default=[0.03, 0.05, 0.06, 0.07, 0.1, 0.15, 0.2])
    parser.add_argument("--profile-batches", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    from noisygraph.erase import ERASE, ERASETrainer
    from noisygraph.noise import add_label_noise
    from noisygraph.random import seed_everything

    torch.set_num_threads(args.threads)
    report = {"args": vars(args)}
    if args.calibrate:
        report["calibration_val_acc"] = calibrate(args)
    else:
        start = time.perf_counter()
        data = make_graph(args, args.signal)
        report["generate_seconds"] = time.perf_counter() - start
        noise = add_label_noise(data.y, "uniform", 0.4, mask=data.train_mask, seed=0,
                                sampler="exact")
        realised = float((noise.y_noisy != data.y)[data.train_mask].float().mean())
        report.update(num_edges_directed=int(data.edge_index.size(1)),
                      realised_noise_rate=realised)
        print("graph", json.dumps({k: report[k] for k in ("generate_seconds",
              "num_edges_directed", "realised_noise_rate")}), flush=True)
        if args.profile_batches:
            report["per_batch_seconds"] = profile_batches(args, data, noise.y_noisy)
            print(json.dumps(report["per_batch_seconds"], indent=1), flush=True)
        else:
            print_epochs()
            for name in args.recipes:
                seed_everything(args.seed)
                trainer = ERASETrainer(ERASE(128), epochs=args.epochs, patience=args.epochs,
                                       seed=args.seed, verbose=False, **RECIPES[name])
                start = time.perf_counter()
                history = trainer.fit(data, y_noisy=noise.y_noisy)
                report[name] = {
                    "settings": {key: list(value) if isinstance(value, tuple) else value
                                 for key, value in RECIPES[name].items()},
                    "seconds": time.perf_counter() - start,
                    "seconds_per_epoch": history.metrics["seconds"],
                    "val_acc": history.metrics["val_acc"],
                    "test_acc": history.metrics["test_acc"],
                    "selected_epoch": history.best_epoch,
                    "selected_test_acc": history.test_acc,
                    "peak_rss_gb": peak_rss_gb(),
                    "pseudo_labels_train": pseudo_label_summary(trainer.pseudo_labels, data),
                }
                print(name, json.dumps(report[name]), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
