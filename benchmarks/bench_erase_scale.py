"""Mini-batch ERASE at ogbn-products size on one machine: a CSBM with ogbn-products' shape
(2,449,029 nodes, ~61.9 M undirected edges, 100-d features, 47 classes), then 100 training
mini-batches (the trainer's step: sampled neighbourhoods, GAT encoder trimmed per layer to the
nodes a later layer reads, MCR² of the seeds, Adam) and the full-graph layer-wise inference
(chunks of target nodes with their full neighbourhoods), with the seconds and the peak RSS
after each stage:

    prlimit --as=$((22 * 2**30)) python benchmarks/bench_erase_scale.py --threads 1 \\
        --json benchmarks/results/erase_scale.json

``--method gcn`` instead trains the shared GCN trainer (full batch: it has no mini-batch
mode) on the same graph for ``--epochs`` epochs. Smaller graphs for a quick check:
``--num-nodes 20000 --avg-degree 20``.
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
    parser.add_argument("--method", choices=("erase", "gcn"), default="erase")
    parser.add_argument("--epochs", type=int, default=10, help="GCN epochs (--method gcn)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    from noisygraph.datasets import csbm

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

    if args.method == "gcn":
        from noisygraph.baselines.gcn import GCNTrainer
        start = time.perf_counter()
        result = GCNTrainer(epochs=args.epochs, patience=args.epochs, seed=0).fit(data)
        report["gcn_val_accuracy"], report["gcn_epochs_run"] = result.val_accuracy, result.epochs_run
        stage(f"GCN trainer, {args.epochs} epochs (full batch)", start)
    else:
        run_erase(args, data, report, stage)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


def run_erase(args, data, report, stage) -> None:
    import torch

    from noisygraph.erase import ERASE
    from noisygraph.loader import neighbor_loader
    from noisygraph.nn import CodingRateReductionLoss
    from noisygraph.random import seed_everything
    from noisygraph.sparse import as_adjacency

    seed_everything(0)
    model = ERASE(data.num_features)
    loss_fn = CodingRateReductionLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=5e-4, amsgrad=True)
    start = time.perf_counter()
    loader = neighbor_loader(data, args.num_neighbors, args.batch_size, seed=0)
    stage("loader", start)
    labels = data.y  # the pseudo-labels' place (a CSBM's classes): the cost does not depend on them
    start = time.perf_counter()
    sampling = 0.0
    model.train()
    batches = iter(loader)
    for _ in range(args.batches):
        tick = time.perf_counter()
        batch = next(batches)
        sampling += time.perf_counter() - tick
        optimizer.zero_grad()
        hops = {}
        if len(args.num_neighbors) >= 2:
            hops = dict(num_sampled_nodes_per_hop=batch.num_sampled_nodes,
                        num_sampled_edges_per_hop=batch.num_sampled_edges)
        z = model(batch.x, batch.edge_index, **hops)[:batch.batch_size]
        loss = loss_fn(z, labels[batch.n_id[:batch.batch_size]], args.num_classes)
        loss.backward()
        optimizer.step()
    del batches, loader
    stage(f"{args.batches} mini-batches", start)
    report[f"{args.batches} mini-batches"]["sampling_seconds"] = sampling

    start = time.perf_counter()
    adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)
    z_all = model.inference(data.x, data.edge_index, args.chunk_size, adjacency=adjacency)
    report["embedding_shape"] = list(z_all.shape)
    stage("full-graph inference", start)


if __name__ == "__main__":
    main()
