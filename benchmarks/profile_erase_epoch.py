"""Where one full-batch ERASE epoch on Cora spends its time.

Times the phases of ``ERASETrainer``'s full-batch epoch (the trainer's own methods, called in
the order ``fit`` calls them), then the whole epoch as ``fit`` runs it (``History.seconds``),
medians over the epochs after a warm-up:

    python benchmarks/profile_erase_epoch.py --threads 2 --epochs 30 --json out.json

``--code PATH`` imports noisygraph from another checkout (with its compiled library), so that
an old and a new version can be timed side by side in one session.
"""
import argparse
import json
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--code", default=None, help="a checkout to import noisygraph from")
    parser.add_argument("--fused", choices=("default", "on", "off"), default="default",
                        help="ERASE(fused=...): the checkout's default, True or False")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, args.code)
    import torch

    import noisygraph
    from noisygraph.datasets import load_dataset
    from noisygraph.erase import ERASE, ERASETrainer
    from noisygraph.metrics import accuracy
    from noisygraph.nn.label_denoise import (_semantic_labels, lazy_propagation_operator,
                                             precorrect_labels)
    from noisygraph.nn.logistic_regression import LogisticRegression
    from noisygraph.noise import AddLabelNoise
    from noisygraph.random import seed_everything
    from noisygraph.sparse import as_adjacency

    torch.set_num_threads(args.threads)
    options = {} if args.fused == "default" else {"fused": args.fused == "on"}
    data = AddLabelNoise("uniform", 0.4, seed=args.seed, sampler="exact")(load_dataset("Cora"))

    # the whole epoch, as fit runs it
    seed_everything(args.seed)
    trainer = ERASETrainer(ERASE(data.num_features, **options), epochs=args.warmup + args.epochs,
                           patience=10 ** 6, verbose=False)
    history = trainer.fit(data)
    epoch_seconds = statistics.median(history.metrics["seconds"][args.warmup:])

    # the phases
    seed_everything(args.seed)
    t = ERASETrainer(ERASE(data.num_features, **options), verbose=False)
    num_classes = int(data.y.max()) + 1
    adjacency = t._adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)
    operator = lazy_propagation_operator(adjacency.normalize("col"), t.alpha)
    y_pre = precorrect_labels(data.y_noisy, adjacency, data.train_mask, num_classes, t.alpha,
                              t.num_steps, t.precorrection)
    denoised = y_pre[data.train_mask].argmax(dim=1)
    optimizer = torch.optim.Adam(t.model.parameters(), lr=t.lr, weight_decay=t.weight_decay,
                                 amsgrad=True)
    t.classifier = LogisticRegression(t.model.out_channels, num_classes)
    x = t._model_input(data)
    phases = {name: [] for name in ("encoder forward", "label propagation", "loss forward",
                                    "loss backward + encoder backward", "optimizer step",
                                    "evaluation embedding", "probe refit", "accuracies")}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        phases[name].append(time.perf_counter() - start)
        return out

    for _ in range(args.warmup + args.epochs):
        t.model.train()
        optimizer.zero_grad()
        z = timed("encoder forward", lambda: t.model(x, data.edge_index))
        pseudo = timed("label propagation", lambda: _semantic_labels(
            z, y_pre, operator, data.train_mask, t.beta, t.num_steps, denoised).argmax(dim=1))
        out = timed("loss forward", lambda: t.loss.parts(z, pseudo, num_classes))
        timed("loss backward + encoder backward", out.loss.backward)
        timed("optimizer step", optimizer.step)
        z = timed("evaluation embedding", lambda: t.embed(data, x))
        pred = timed("probe refit", lambda: t._evaluate(data, z, pseudo))
        timed("accuracies", lambda: [accuracy(pred, data.y, m) for m in
                                     (data.train_mask, data.val_mask, data.test_mask)])
    medians = {name: statistics.median(v[args.warmup:]) for name, v in phases.items()}
    result = {"code": noisygraph.__file__, "fused": args.fused, "threads": args.threads, "epochs": args.epochs,
              "epoch_seconds_fit": epoch_seconds, "phases": medians,
              "best_epoch": history.best_epoch, "test_acc": history.test_acc}
    total = sum(medians.values())
    for name, value in medians.items():
        print(f"{name:34s} {1000 * value:8.1f} ms  {100 * value / total:5.1f} %")
    print(f"{'sum of phases':34s} {1000 * total:8.1f} ms")
    print(f"{'epoch in fit (median)':34s} {1000 * epoch_seconds:8.1f} ms   "
          f"(best epoch {history.best_epoch}, test {100 * history.test_acc:.2f} %)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
