"""The ERASE release's ogbn-arxiv mini-batch recipe and ours, side by side, on an
ogbn-arxiv-size CSBM whose classes are known (169,343 nodes, ~1.17 M undirected edges,
128-d features, 40 classes), with the same epochs budget; one run each:

    python benchmarks/bench_erase_arxiv_recipe.py --epochs 3 --threads 1 \\
        --json benchmarks/results/erase_arxiv_recipe.json

* ``release``: the release's ``train_main_arxiv.py`` settings: NeighborSampler fan-out
  [5, 5], batch 200, lr 1e-2, alpha 0.6, beta 0.5, T = 50, label-propagation pre-correction
  (batches over all nodes here: our trainer has no training-seeds-only mode).
* ``ours``: ``ERASETrainer``'s defaults (lr 1e-3, alpha 0.6, beta 0.6, T = 5, train-subgraph
  pre-correction, fan-out [5, 5]) with batch 1024 (the trainer has no default batch size;
  1024 is the products benchmark's).

Protocol: CSBM seed 0 (homophily 0.8, feature signal 1), 200 training nodes per class, 2,000
validation and 10,000 test nodes; uniform label noise at rate 0.4 on the training labels
(exact sampler, seed 0); clean validation labels select the epoch (the paper's protocol);
test accuracy against the CSBM's classes.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

RECIPES = {
    "release": dict(batch_size=200, num_neighbors=(5, 5), lr=1e-2, alpha=0.6, beta=0.5,
                    num_steps=50, precorrection="label-propagation"),
    "ours": dict(batch_size=1024, num_neighbors=(5, 5)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=169_343)
    parser.add_argument("--degree", type=float, default=2 * 1_166_243 / 169_343)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--recipes", nargs="+", choices=tuple(RECIPES), default=list(RECIPES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    from noisygraph.datasets import csbm
    from noisygraph.erase import ERASE, ERASETrainer
    from noisygraph.noise import add_label_noise
    from noisygraph.random import seed_everything

    torch.set_num_threads(args.threads)
    data = csbm(args.nodes, num_classes=40, avg_degree=args.degree, num_features=128, seed=0,
                train_per_class=200, num_val=2000, num_test=10000, verbose=False)
    noise = add_label_noise(data.y, "uniform", 0.4, mask=data.train_mask, seed=0,
                            sampler="exact")
    realised = float((noise.y_noisy != data.y)[data.train_mask].float().mean())
    report = {"args": vars(args), "num_edges_directed": int(data.edge_index.size(1)),
              "realised_noise_rate": realised}
    for name in args.recipes:
        seed_everything(0)
        trainer = ERASETrainer(ERASE(128), epochs=args.epochs, patience=args.epochs, seed=0,
                               verbose=False, **RECIPES[name])
        start = time.perf_counter()
        history = trainer.fit(data, y_noisy=noise.y_noisy)
        report[name] = {
            "settings": {key: list(value) if isinstance(value, tuple) else value
                         for key, value in RECIPES[name].items()},
            "seconds": time.perf_counter() - start,
            "seconds_per_epoch": history.metrics["seconds"],
            "val_acc": history.metrics["val_acc"], "test_acc": history.metrics["test_acc"],
            "selected_epoch": history.best_epoch, "selected_test_acc": history.test_acc,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        }
        print(name, json.dumps(report[name]), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
