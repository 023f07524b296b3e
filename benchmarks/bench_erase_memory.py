"""Peak memory (and time) of ERASE's mini-batch path on an ogbn-arxiv-size CSBM graph.

    python benchmarks/bench_erase_memory.py --nodes 169343 --classes 40 --features 128 \
        --degree 13.7 --batch-size 200 --epochs 1 --max-batches 50 --threads 1

Peak memory is the process's maximum resident set size (``ru_maxrss``), printed after data
generation and after training, so the training's share can be read off. For scale: the
official release's dense adjacency alone would take N² · 4 bytes (115 GB at this size).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time

import torch

from noisygraph.datasets import csbm
from noisygraph.erase import ERASE, ERASETrainer
from noisygraph.noise import add_label_noise
from noisygraph.random import seed_everything

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _report import write_json  # noqa: E402


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=169_343)
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--degree", type=float, default=13.7)
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-batches", type=int, default=None,
                        help="mini-batches per epoch (default: all)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.time()
    data = csbm(num_nodes=args.nodes, num_classes=args.classes, avg_degree=args.degree,
                num_features=args.features, seed=0, train_per_class=args.train_per_class,
                num_val=min(2000, args.nodes // 10), num_test=min(10000, args.nodes // 5))
    noise = add_label_noise(data.y, "uniform", 0.4, mask=data.train_mask, seed=0,
                            sampler="exact")
    after_data = peak_rss_gb()
    print(f"graph: {data.num_nodes} nodes, {data.num_edges} edges, generated in "
          f"{time.time() - start:.1f} s, peak RSS {after_data:.2f} GB", flush=True)
    seed_everything(0)
    trainer = ERASETrainer(ERASE(args.features), alpha=0.6, beta=0.5, num_steps=50, lr=1e-2,
                           epochs=args.epochs, patience=args.epochs,
                           batch_size=args.batch_size, max_batches_per_epoch=args.max_batches,
                           seed=0, verbose=True)
    start = time.time()
    history = trainer.fit(data, y_noisy=noise.y_noisy)
    seconds = time.time() - start
    result = {
        "nodes": data.num_nodes, "edges": data.num_edges, "classes": args.classes,
        "features": args.features, "batch_size": args.batch_size, "epochs": args.epochs,
        "max_batches_per_epoch": args.max_batches,
        "peak_rss_gb_after_data": after_data, "peak_rss_gb": peak_rss_gb(),
        "seconds": seconds, "seconds_per_epoch": history.seconds_per_epoch,
        "test_acc": history.test_acc, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()}, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(json.dumps(result, indent=2))
    write_json(args.json, result, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
