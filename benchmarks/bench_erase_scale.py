"""Mini-batch ERASE at ogbn-products size on one machine: a CSBM with ogbn-products' shape
(2,449,029 nodes, ~61.9 M undirected edges, 100-d features, 47 classes), then 100 training
mini-batches (the trainer's step: sampled neighbourhoods, GAT encoder, MCR² of the seeds,
Adam) and the full-graph layer-wise inference (chunks of target nodes with their full
neighbourhoods), with the seconds and the peak RSS after each stage:

    prlimit --as=$((22 * 2**30)) python benchmarks/bench_erase_scale.py --threads 1 \\
        --json benchmarks/results/erase_scale.json

Smaller graphs for a quick check: ``--num-nodes 20000 --avg-degree 20``.
"""
import argparse
import json
import resource
import time


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-nodes", type=int, default=2_449_029)
    parser.add_argument("--avg-degree", type=float, default=2 * 61_859_140 / 2_449_029)
    parser.add_argument("--num-classes", type=int, default=47)
    parser.add_argument("--num-features", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--num-neighbors", type=int, nargs="+", default=[5, 5])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    from noisygraph.datasets import csbm
    from noisygraph.erase import ERASE
    from noisygraph.loader import neighbor_loader
    from noisygraph.nn import CodingRateReductionLoss
    from noisygraph.random import seed_everything
    from noisygraph.sparse import as_adjacency

    torch.set_num_threads(args.threads)
    report = {"args": vars(args)}

    def stage(name, start):
        report[name] = {"seconds": time.perf_counter() - start, "peak_rss_gb": peak_rss_gb()}
        print(name, report[name], flush=True)

    start = time.perf_counter()
    data = csbm(args.num_nodes, num_classes=args.num_classes, avg_degree=args.avg_degree,
                num_features=args.num_features, seed=0, verbose=False)
    report["num_edges_directed"] = int(data.edge_index.size(1))
    stage("generate", start)

    seed_everything(0)
    model = ERASE(data.num_features)
    loss_fn = CodingRateReductionLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=5e-4, amsgrad=True)
    start = time.perf_counter()
    loader = neighbor_loader(data, args.num_neighbors, args.batch_size, seed=0)
    stage("loader", start)
    labels = data.y  # the pseudo-labels' place (a CSBM's classes): the cost does not depend on them
    start = time.perf_counter()
    model.train()
    for index, batch in enumerate(loader):
        if index == args.batches:
            break
        optimizer.zero_grad()
        z = model(batch.x, batch.edge_index)[:batch.batch_size]
        loss = loss_fn(z, labels[batch.n_id[:batch.batch_size]], args.num_classes)
        loss.backward()
        optimizer.step()
    stage(f"{args.batches} mini-batches", start)

    start = time.perf_counter()
    adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)
    z_all = model.inference(data.x, data.edge_index, args.chunk_size, adjacency=adjacency)
    report["embedding_shape"] = list(z_all.shape)
    stage("full-graph inference", start)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
