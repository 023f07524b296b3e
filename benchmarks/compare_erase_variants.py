"""Paired ERASE runs on Cora of two code versions / encoder settings: same noisy labels, same
seeds, the per-epoch curves, selected epoch and test accuracy of each, one JSON line per run.

    python benchmarks/compare_erase_variants.py --code OLD_CHECKOUT --log old.jsonl
    python benchmarks/compare_erase_variants.py --fused --log fused.jsonl

Cells and seeds as ``noisygraph erase`` draws them (``--sampler paper``, run r seeded
``seed + 100 r``, one noise draw per cell); ``--epochs`` caps the run (patience 150 as the
trainer's default, so a capped run runs exactly ``--epochs`` epochs).
"""
import argparse
import json
import sys
import time
from types import SimpleNamespace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=None, help="a checkout to import noisygraph from")
    parser.add_argument("--fused", choices=("default", "on", "off"), default="default",
                        help="ERASE(fused=...): the checkout's default, True or False")
    parser.add_argument("--cells", nargs="+", default=["uniform:0.4", "pair:0.3"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, args.code)
    import torch

    import noisygraph
    from noisygraph.datasets import load_dataset
    from noisygraph.erase import ERASE, ERASETrainer
    from noisygraph.random import seed_everything
    from noisygraph_cli.erase import corrupt

    torch.set_num_threads(args.threads)
    data = load_dataset("Cora")
    options = {} if args.fused == "default" else {"fused": args.fused == "on"}
    with open(args.log, "a") as log:
        for cell in args.cells:
            kind, rate = cell.split(":")
            noise = corrupt(data, SimpleNamespace(noise=kind, rate=float(rate), sampler="paper",
                                                  protocol="paper"), args.seed)
            for run in range(args.runs):
                seed = args.seed + 100 * run
                seed_everything(seed)
                trainer = ERASETrainer(ERASE(data.num_features, **options), epochs=args.epochs,
                                       verbose=False)
                start = time.perf_counter()
                history = trainer.fit(data, y_noisy=noise.y_noisy, noise_mask=noise.noise_mask)
                row = {"code": noisygraph.__file__, "fused": args.fused, "noise": kind,
                       "rate": float(rate), "seed": seed, "best_epoch": history.best_epoch,
                       "test_acc": history.test_acc, "epochs": len(history.metrics["epoch"]),
                       "wall_seconds": time.perf_counter() - start,
                       "val_curve": history.metrics["val_acc"],
                       "test_curve": history.metrics["test_acc"],
                       "loss_curve": history.metrics["loss"],
                       "seconds": history.metrics["seconds"]}
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(kind, rate, seed, history.best_epoch, f"{100 * history.test_acc:.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
