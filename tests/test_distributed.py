"""Multi-process MCR² and ERASE training on torch.distributed (gloo, CPU): two processes give
the loss, the gradients and the accuracy curve of one process on the union of their batches."""
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from noisygraph.nn import CodingRateReductionLoss

WORLD = 2
NUM_CLASSES = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _init(rank: int, world_size: int, port: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)


def _batch():
    """Embeddings, hard labels (with ignored rows and a class smaller than p), soft targets,
    features of a linear encoder, and each rank's rows (uneven shares)."""
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(37, 6, generator=gen, dtype=torch.float64)
    labels = torch.tensor([0] * 14 + [1] * 12 + [2] * 3 + [3] * 8)[torch.randperm(37, generator=gen)]
    labels[[2, 9, 30]] = -100
    soft = torch.softmax(torch.randn(37, NUM_CLASSES, generator=gen, dtype=torch.float64), 1)
    x = torch.randn(37, 10, generator=gen)
    shares = [torch.arange(0, 15), torch.arange(15, 37)]
    return z, labels, soft, x, shares


def _loss_run(rank: int, path: str) -> None:
    z, labels, soft, x, shares = _batch()
    rows = shares[rank]
    loss_fn = CodingRateReductionLoss(distributed=True)
    out = {}
    for name, target in (("hard", labels[rows]), ("soft", soft[rows])):
        z_rank = z[rows].clone().requires_grad_(True)
        parts = loss_fn.parts(z_rank, target, NUM_CLASSES)
        parts.loss.backward()
        out[name] = ([t.detach() for t in parts], z_rank.grad)
    torch.manual_seed(1)  # the same initial encoder everywhere (DDP broadcasts rank 0's anyway)
    encoder = torch.nn.Linear(10, 6)
    model = torch.nn.parallel.DistributedDataParallel(encoder)
    loss = loss_fn(model(x[rows]), labels[rows], NUM_CLASSES)
    loss.backward()
    out["ddp"] = (loss.detach(), [p.grad for p in encoder.parameters()])
    torch.save(out, f"{path}.loss.{rank}")


def test_two_processes_give_the_loss_and_gradients_of_one(spawned):
    results = [torch.load(f"{spawned}.loss.{rank}") for rank in range(WORLD)]
    z, labels, soft, x, shares = _batch()
    loss_fn = CodingRateReductionLoss()  # one process, the compiled kernel, the whole batch
    for name, target in (("hard", labels), ("soft", soft)):
        z_all = z.clone().requires_grad_(True)
        expected = loss_fn.parts(z_all, target, NUM_CLASSES)
        expected.loss.backward()
        for rank, result in enumerate(results):
            parts, grad = result[name]
            for got, want in zip(parts, expected):
                torch.testing.assert_close(got, want.detach(), rtol=1e-10, atol=1e-10)
            # the all-reduce's backward sums the identical gradient of every rank
            torch.testing.assert_close(grad / WORLD, z_all.grad[shares[rank]], rtol=1e-8,
                                       atol=1e-10)
    torch.manual_seed(1)
    encoder = torch.nn.Linear(10, 6)
    loss = loss_fn(encoder(x), labels, NUM_CLASSES)
    loss.backward()
    for result in results:  # after DDP's averaging: the single-process parameter gradients
        got_loss, grads = result["ddp"]
        torch.testing.assert_close(got_loss, loss.detach(), rtol=1e-5, atol=1e-5)
        for got, param in zip(grads, encoder.parameters()):
            torch.testing.assert_close(got, param.grad, rtol=1e-5, atol=1e-5)


def _graph():
    from noisygraph.datasets import csbm
    from noisygraph.noise import AddLabelNoise
    data = csbm(120, num_classes=3, num_features=16, avg_degree=4.0, seed=0, train_per_class=10,
                num_val=30, num_test=50)
    return AddLabelNoise("uniform", 0.3, seed=0, sampler="exact")(data)


def _trainer_run(rank: int, world_size: int, path: str) -> None:
    from noisygraph.erase import ERASE, ERASETrainer
    from noisygraph.random import seed_everything
    data = _graph()
    seed_everything(0)
    model = ERASE(data.num_features, hidden_channels=8, out_channels=16, heads=2, dropout=0.0)
    trainer = ERASETrainer(model, epochs=4, patience=10, lr=1e-2, batch_size=40,
                           num_neighbors=(-1, -1), seed=3, verbose=False, distributed=True)
    history = trainer.fit(data)
    torch.save({"history": history.to_dict(), "pseudo": trainer.pseudo_labels,
                "pred": trainer.predict(data)}, f"{path}.fit.{world_size}.{rank}")


def _worker(index: int, ports: tuple, path: str) -> None:
    """Process 0: a group of one process; processes 1 and 2: a group of two (one spawn, so
    that torch and PyG are imported once per process only)."""
    world_size, rank = (1, 0) if index == 0 else (WORLD, index - 1)
    _init(rank, world_size, ports[index > 0])
    if world_size == WORLD:
        _loss_run(rank, path)
    _trainer_run(rank, world_size, path)
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def spawned(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("distributed") / "out")
    mp.spawn(_worker, args=((_free_port(), _free_port()), path), nprocs=1 + WORLD)
    return path


def test_two_processes_follow_the_accuracy_curve_of_one(spawned):
    # full neighbourhoods and no dropout: nothing is random per rank
    one = torch.load(f"{spawned}.fit.1.0")
    for rank in range(WORLD):
        two = torch.load(f"{spawned}.fit.{WORLD}.{rank}")
        a, b = one["history"], two["history"]
        assert a["best_epoch"] == b["best_epoch"]
        for key in ("train_acc", "val_acc", "test_acc"):
            assert a["metrics"][key] == b["metrics"][key], key
        for key in ("loss", "total", "compress"):
            assert a["metrics"][key] == pytest.approx(b["metrics"][key], rel=1e-4), key
        assert torch.equal(one["pseudo"], two["pseudo"])
        assert torch.equal(one["pred"], two["pred"])


def test_distributed_options_are_checked():
    from noisygraph.erase import ERASE, ERASETrainer
    with pytest.raises(ValueError, match="process_group"):
        CodingRateReductionLoss(process_group=object())
    with pytest.raises(TypeError, match="distributed"):
        CodingRateReductionLoss(distributed="yes")
    with pytest.raises(RuntimeError, match="init_process_group"):
        CodingRateReductionLoss(distributed=True)(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]),
                                                  2)
    with pytest.raises(ValueError, match="batch_size"):
        ERASETrainer(ERASE(8), distributed=True)
    with pytest.raises(ValueError, match="loss"):
        ERASETrainer(ERASE(8), distributed=True, batch_size=4, loss=CodingRateReductionLoss())
