"""Mini-batch ERASE on several processes (torch.distributed + DDP), launched by ``torchrun``.

Each rank trains on its share of every global mini-batch; the MCR² loss is exact across
ranks (Gram matrices and class sizes all-reduced before the log-determinants), so the run
follows the single-process one on the same global batches. Rank 0 evaluates and prints.

One machine, two processes (gloo on CPU; NCCL, one GPU per process, with ``--device cuda``):

    torchrun --standalone --nproc-per-node 2 examples/run_erase_ddp.py --epochs 5

Two machines (run on each; ``HOST:29500`` reachable from both, ``--node-rank`` not needed
with the c10d rendezvous):

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-id erase \\
        --rdzv-endpoint HOST:29500 examples/run_erase_ddp.py --device cuda
"""
import argparse
import os
import time

import torch
import torch.distributed as dist

from noisygraph.datasets import csbm, load_dataset
from noisygraph.erase import ERASE, ERASETrainer
from noisygraph.noise import AddLabelNoise
from noisygraph.random import seed_everything


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="csbm",
                        help="csbm (generated, --num-nodes) or any load_dataset name")
    parser.add_argument("--num-nodes", type=int, default=5000)
    parser.add_argument("--noise", default="uniform")
    parser.add_argument("--rate", type=float, default=0.4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=200,
                        help="the global batch (a multiple of the number of processes)")
    parser.add_argument("--num-neighbors", type=int, nargs="+", default=[5, 5])
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cpu")
    if args.device == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if args.dataset == "csbm":
        data = csbm(args.num_nodes, num_classes=5, num_features=64, seed=args.seed)
    else:
        data = load_dataset(args.dataset)
    # every rank draws the same noisy labels and the same initial encoder (DDP also
    # broadcasts rank 0's parameters)
    data = AddLabelNoise(args.noise, args.rate, seed=args.seed, sampler="exact")(data)
    seed_everything(args.seed)
    trainer = ERASETrainer(ERASE(data.num_features), lr=args.lr, epochs=args.epochs,
                           batch_size=args.batch_size, num_neighbors=args.num_neighbors,
                           seed=args.seed, device=device, verbose=False, distributed=True)
    start = time.perf_counter()
    history = trainer.fit(data)
    seconds = time.perf_counter() - start
    if rank == 0:
        for epoch, val, test in zip(history.metrics["epoch"], history.metrics["val_acc"],
                                    history.metrics["test_acc"]):
            print(f"epoch {int(epoch)}: val {100 * val:.2f} %  test {100 * test:.2f} %")
        print(f"{world_size} processes: selected epoch {history.best_epoch}, test "
              f"{100 * history.test_acc:.2f} %, {seconds:.1f} s "
              f"({history.seconds_per_epoch:.2f} s/epoch)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
