"""Load time of the real data sets: first parse (empty cache) and cached load.

Each data set is loaded once into a fresh cache folder (parse + write the cache), then
``--repeats`` more times from that cache; the script prints the first-load wall time and the
cached load's median wall and CPU (process) time, one thread. CPU time is the steadier figure
on a shared machine. Run it against two checkouts side by side (``PYTHONPATH``) to compare.

    NOISYGRAPH_DATA=../shared/data python benchmarks/bench_loaders.py --repeats 9
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["coauthor_cs", "amazon_photo", "dblp", "Cora"])
    parser.add_argument("--repeats", type=int, default=9, help="cached loads per data set (median)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    import torch
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-loaders-") as cache:
        os.environ["NOISYGRAPH_CACHE"] = cache
        from noisygraph.datasets import load_dataset
        load_dataset("csbm", num_nodes=200, num_val=0, num_test=0)  # import warm-up
        for name in args.datasets:
            start = time.perf_counter()
            load_dataset(name)
            first = time.perf_counter() - start
            times, cpu = [], []
            for _ in range(args.repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                load_dataset(name)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            print(f"{name:14s} first {first * 1000:8.1f} ms   cached: wall median {statistics.median(times) * 1000:7.1f} ms "
                  f"(min {min(times) * 1000:.1f}), CPU median {statistics.median(cpu) * 1000:.1f} ms, n={args.repeats}")


if __name__ == "__main__":
    main()
