"""Mini-batch ERASE at ogbn-products size on one machine: a CSBM with ogbn-products' shape
(2,449,029 nodes, ~61.9 M undirected edges, 100-d features, 47 classes), then 100 training
mini-batches (the trainer's step: sampled neighbourhoods, GAT encoder trimmed per layer to the
nodes a later layer reads, MCR² of the seeds, Adam) and the full-graph layer-wise inference
(chunks of target nodes with their full neighbourhoods), with the seconds and the peak RSS
after each stage:

    prlimit --as=$((22 * 2**30)) python benchmarks/bench_erase_scale.py --threads 1 \\
        --json benchmarks/results/erase_scale.json

``--method gcn`` instead takes the shared GCN trainer's mini-batch step
(``GCNTrainer(batch_size=...)``: :class:`~noisygraph.baselines.gcn.NeighborBatches`, both
layers trimmed, full-graph normalisation, cross-entropy, Adam lr 1e-2) on the same graph: the
propagation matrix and the sampler are built, ``--batches`` mini-batches of training nodes
are timed, then one epoch's exact full-graph inference (two sparse products over the whole
graph), and the accuracy after those batches is scored on the CSBM's clean labels. The
training labels carry uniform noise at ``--noise-rate`` (drawn once, seed 0, on the training
nodes only; validation and test labels clean); the CSBM has ``--train-per-class`` training
nodes per class (default 4,183: ogbn-products' 196,615 training nodes over 47 classes).
``--method gcn --full-batch`` trains the GCN trainer full batch for ``--epochs`` epochs
instead (the same noisy training labels, selection on the clean validation labels; the
seconds between successive epoch callbacks, each one step and one full-graph evaluation). Smaller graphs for a quick check: ``--num-nodes 20000 --avg-degree 20``.
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
    parser.add_argument("--epochs", type=int, default=10,
                        help="GCN epochs (--method gcn --full-batch)")
    parser.add_argument("--full-batch", action="store_true",
                        help="--method gcn: train the GCN trainer full batch")
    parser.add_argument("--train-per-class", type=int, default=None,
                        help="training nodes per class (default: the CSBM's 20 for erase, "
                             "4183 for gcn)")
    parser.add_argument("--noise-rate", type=float, default=0.4,
                        help="uniform noise on the training labels (--method gcn)")
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
    per_class = args.train_per_class
    if per_class is None:
        per_class = 4183 if args.method == "gcn" else 20
    data = csbm(args.num_nodes, num_classes=args.num_classes, avg_degree=args.avg_degree,
                num_features=args.num_features, seed=0, train_per_class=per_class,
                verbose=False)
    report["num_edges_directed"] = int(data.edge_index.size(1))
    stage("generate", start)

    if args.method == "gcn" and args.full_batch:
        from noisygraph.baselines.gcn import GCNTrainer
        from noisygraph.noise import LabelNoiseModel

        data.y_noisy = LabelNoiseModel("uniform", args.noise_rate, args.num_classes,
                                       seed=0).sample(data.y, data.train_mask).y_noisy
        ticks = []
        start = time.perf_counter()
        result = GCNTrainer(epochs=args.epochs, patience=args.epochs, seed=0).fit(
            data, val_labels=data.y,
            callback=lambda epoch, out, loss: ticks.append(time.perf_counter()))
        report["gcn_val_accuracy"], report["gcn_epochs_run"] = result.val_accuracy, result.epochs_run
        # between two callbacks: one training step and one full-graph evaluation
        report["seconds_per_epoch"] = [b - a for a, b in zip(ticks, ticks[1:])]
        report["seconds_to_first_epoch_end"] = ticks[0] - start if ticks else None
        stage(f"GCN trainer, {args.epochs} epochs (full batch)", start)
    elif args.method == "gcn":
        run_gcn_mini_batch(args, data, report, stage)
    else:
        run_erase(args, data, report, stage)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


def run_gcn_mini_batch(args, data, report, stage) -> None:
    import torch

    from noisygraph.baselines.gcn import GCN, GCNTrainer, NeighborBatches, gcn_adjacency
    from noisygraph.noise import LabelNoiseModel
    from noisygraph.sparse import as_adjacency

    noise = LabelNoiseModel("uniform", args.noise_rate, args.num_classes, seed=0).sample(
        data.y, data.train_mask)
    train = data.train_mask.nonzero().flatten()
    report["train_nodes"], report["realised_noise_rate"] = train.numel(), noise.realised_rate
    start = time.perf_counter()
    adj = gcn_adjacency(as_adjacency(data.edge_index, num_nodes=data.num_nodes))
    stage("GCN propagation matrix", start)
    start = time.perf_counter()
    batches = NeighborBatches(adj, args.num_neighbors)
    stage("sampler (NeighborBatches)", start)
    # the trainer's pieces, in its order: model and Adam seeded, shuffled training nodes,
    # one step per batch (the trainer's objective: mean cross-entropy)
    trainer = GCNTrainer(batch_size=args.batch_size, num_neighbors=args.num_neighbors,
                         seed=0)
    torch.manual_seed(0)
    model = GCN(data.num_features, trainer.hidden_channels, args.num_classes, trainer.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=trainer.lr,
                                 weight_decay=trainer.weight_decay)
    order = train[torch.randperm(train.numel())]
    labels = noise.y_noisy
    start = time.perf_counter()
    model.train()
    for index in range(args.batches):
        seeds = order[index * args.batch_size:(index + 1) * args.batch_size]
        loss = trainer._objective(batches.logits(model, data.x, seeds), labels[seeds], None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    stage(f"{args.batches} mini-batches", start)
    report[f"{args.batches} mini-batches"]["last_loss"] = loss.item()
    del batches
    start = time.perf_counter()
    ax = adj @ data.x
    stage("A-hat X (once per fit)", start)
    start = time.perf_counter()
    model.eval()
    with torch.no_grad():
        pred = model.output(adj, None, model.hidden(ax)).argmax(1)
    stage("full-graph inference (one epoch's)", start)
    for name in ("train", "val", "test"):
        mask = getattr(data, f"{name}_mask")
        report[f"{name}_accuracy_clean_labels"] = float((pred[mask] == data.y[mask]).float().mean())
    print({key: report[key] for key in report if key.endswith("clean_labels")}, flush=True)


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
