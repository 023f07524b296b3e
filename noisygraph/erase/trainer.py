r"""ERASE's trainer: an encoder trained with the maximal coding rate reduction loss on
pseudo-labels produced by decoupled label propagation (:mod:`noisygraph.nn.label_denoise`); a
logistic regression on the L2-normalised embeddings of the training nodes, fitted on the
pseudo-labels, classifies.
"""
from __future__ import annotations

import copy
import time
import warnings
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from noisygraph._validation import (check_bool, check_choice, check_device, check_fanouts,
                                    check_finite, check_int, check_real)
from noisygraph.history import History
from noisygraph.protocols import check_protocol, fit_inputs
from noisygraph.metrics import accuracy
from noisygraph.nn.erase import ERASE
from noisygraph.nn.label_denoise import (PRECORRECTIONS, SEMANTIC_PROPAGATIONS,
                                         _label_propagation_semantic_labels, _semantic_labels,
                                         lazy_propagation_operator, precorrect_labels)
from noisygraph.nn.logistic_regression import LogisticRegression
from noisygraph.sparse import Adjacency, as_adjacency


def sparse_features(x: Tensor, max_density: float = 0.25) -> Tensor:
    """``x`` as a sparse CSR tensor when at most ``max_density`` of its entries are nonzero
    (bag-of-words features such as Cora's are about 1 %), else ``x`` unchanged."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    max_density = check_real("max_density", max_density, low=0.0, high=1.0)
    if x.layout != torch.strided or x.numel() == 0:
        return x
    if float((x != 0).sum()) / x.numel() > max_density:
        return x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return x.to_sparse_csr()



class ERASETrainer:
    r"""Trains an :class:`ERASE` encoder on noisy labels and classifies with a linear probe.

    Each epoch (full batch): embeddings :math:`\mathbf{Z}` of all nodes; pseudo-labels
    :math:`L = \arg\max \hat{\mathbf{Y}}` from :func:`~noisygraph.nn.label_denoise.semantic_labels`
    (prototypes of the pre-corrected classes, mixed by :math:`\beta`, :math:`T` lazy
    propagation steps with weight :math:`\alpha`); one Adam step on the MCR² loss of
    :math:`(\mathbf{Z}, L)`; then a logistic regression on the L2-normalised
    evaluation-mode embeddings of the training nodes, fitted on :math:`L_{\text{train}}`,
    predicts every node. The epoch with the best validation accuracy is kept (clean
    validation labels under ``protocol="paper"``, as the paper; the noisy ones under
    ``"noisy-val"``, which :meth:`fit` checks really are noisy); training stops after
    ``patience`` epochs without improvement.

    With ``batch_size`` set, each epoch first embeds the whole graph (layer-wise, in
    chunks) to compute the pseudo-labels, then takes one step per mini-batch of sampled
    neighbourhoods (``num_neighbors``) over all nodes (or the training nodes, ``seed_nodes``),
    with the MCR² loss of the batch's seed nodes (per-batch Gram matrices).

    Args:
        model (ERASE): the encoder.
        gamma1 (float, optional): :math:`\gamma_1`. (default: ``1.0``)
        gamma2 (float, optional): :math:`\gamma_2`. (default: ``2.0``)
        eps (float, optional): :math:`\epsilon` of the coding rate. (default: ``0.05``)
        alpha (float, optional): :math:`\alpha` of the lazy propagation. (default: ``0.6``)
        beta (float, optional): :math:`\beta`, weight of the pre-corrected labels.
            (default: ``0.6``)
        num_steps (int, optional): :math:`T` propagation steps. (default: ``5``)
        precorrection (str, optional): how the training labels are pre-corrected:
            ``"train-subgraph"`` (the release for Cora/PubMed/CoraFull) or
            ``"label-propagation"`` (the release for ogbn-arxiv, where ``alpha`` then weighs
            the propagated term, as in the release); see
            :func:`~noisygraph.nn.label_denoise.precorrect_labels`.
            (default: ``"train-subgraph"``)
        semantic_propagation (str, optional): how the per-epoch semantic labels propagate:
            ``"lazy"`` (:func:`~noisygraph.nn.label_denoise.semantic_labels`, the release for
            Cora/PubMed/CoraFull) or ``"label-propagation"``
            (:func:`~noisygraph.nn.label_denoise.label_propagation_semantic_labels`, label
            propagation with restart from the training nodes, PyG's meaning of ``alpha``:
            the release's ogbn-arxiv script). (default: ``"lazy"``)
        lr (float, optional): Adam learning rate. (default: ``1e-3``)
        weight_decay (float, optional): Adam weight decay (AMSGrad on). (default: ``5e-4``)
        epochs (int, optional): maximum epochs. (default: ``400``)
        patience (int, optional): early-stopping patience. (default: ``150``)
        protocol (str, optional): ``"paper"`` or ``"noisy-val"``. (default: ``"paper"``)
        select_epoch (bool, optional): keep the epoch of best validation accuracy (and stop
            after ``patience`` epochs without improvement). :obj:`False` reads no validation
            or test label and needs no ``val_mask`` / ``test_mask``: all ``epochs`` run, the
            last one is kept and the probe is fitted once, after it (``protocol`` and
            ``patience`` are then unused; the history logs the losses only). Not with
            ``distributed=True``. (default: :obj:`True`)
        batch_size (int, optional): mini-batch size; :obj:`None` trains full batch.
            (default: :obj:`None`)
        num_neighbors (Sequence[int], optional): fan-out per hop of the mini-batches.
            (default: ``(5, 5)``)
        seed_nodes (str, optional): the seed nodes of the mini-batches: ``"all"`` nodes or
            only the ``"train"`` nodes (the release's ogbn-arxiv script). Needs
            ``batch_size`` for ``"train"``. (default: ``"all"``)
        inference_chunk_size (int, optional): target nodes per chunk of the layer-wise
            full-graph embedding in mini-batch mode. (default: ``4096``)
        max_batches_per_epoch (int, optional): stop an epoch after this many mini-batches
            (on very large graphs the pseudo-labels and the model selection are then
            refreshed more often). (default: :obj:`None`, all batches)
        classifier_max_iter (int, optional): L-BFGS iterations per refit of the warm-started
            logistic regression. (default: ``100``)
        loss (torch.nn.Module, optional): the MCR² loss; default
            ``CodingRateReductionLoss(gamma1, gamma2, eps)``. (default: :obj:`None`)
        device (str or torch.device, optional): (default: the data's device)
        seed (int, optional): seed of the mini-batch sampler. (default: :obj:`None`)
        verbose (bool, optional): show a progress bar. (default: :obj:`True`)
        distributed (bool, optional): mini-batch training over the ranks of
            ``process_group`` (:mod:`torch.distributed`, e.g. under ``torchrun``): the
            encoder is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, torch's
            :class:`~torch.utils.data.distributed.DistributedSampler` gives each rank its
            share of every epoch's shuffled seed nodes (``batch_size`` is the global batch,
            ``batch_size / world_size`` seeds per rank; it must divide), and the MCR² loss is
            exact across ranks (``CodingRateReductionLoss(distributed=True)``: the loss and
            the gradient of the whole batch). Every rank embeds the graph for the
            pseudo-labels; rank 0 alone refits the probe and evaluates, and broadcasts the
            accuracies (so every rank selects the same epoch and stops together), the
            probe and the pseudo-labels. Needs ``batch_size``. (default: :obj:`False`)
        process_group (torch.distributed.ProcessGroup, optional): the group of
            ``distributed=True``. (default: :obj:`None`, the default group)

    After :meth:`fit`, ``classifier`` holds the linear probe and ``pseudo_labels`` the
    pseudo-labels of all nodes at the selected epoch.
    """

    def __init__(self, model: ERASE, *, gamma1: float = 1.0, gamma2: float = 2.0,
                 eps: float = 0.05, alpha: float = 0.6, beta: float = 0.6, num_steps: int = 5,
                 precorrection: str = "train-subgraph", semantic_propagation: str = "lazy",
                 lr: float = 1e-3,
                 weight_decay: float = 5e-4, epochs: int = 400, patience: int = 150,
                 protocol: str = "paper", select_epoch: bool = True,
                 batch_size: Optional[int] = None,
                 num_neighbors: Sequence[int] = (5, 5), seed_nodes: str = "all",
                 inference_chunk_size: int = 4096,
                 max_batches_per_epoch: Optional[int] = None,
                 classifier_max_iter: int = 100, loss: Optional[torch.nn.Module] = None,
                 device=None, seed: Optional[int] = None, verbose: bool = True,
                 distributed: bool = False, process_group=None):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        check_protocol(protocol)
        if loss is not None and not isinstance(loss, torch.nn.Module):
            raise TypeError(f"loss must be a torch.nn.Module or None, got {type(loss).__name__}")
        gamma1 = check_real("gamma1", gamma1, low=0.0, low_open=True)
        gamma2 = check_real("gamma2", gamma2, low=0.0, low_open=True)
        eps = check_real("eps", eps, low=0.0, low_open=True)
        self.alpha = check_real("alpha", alpha, low=0.0, high=1.0)
        self.beta = check_real("beta", beta, low=0.0, high=1.0)
        self.num_steps = check_int("num_steps", num_steps, low=0)
        self.precorrection = check_choice("precorrection", precorrection, PRECORRECTIONS)
        self.semantic_propagation = check_choice("semantic_propagation", semantic_propagation,
                                                 SEMANTIC_PROPAGATIONS)
        self.lr = check_real("lr", lr, low=0.0, low_open=True)
        self.weight_decay = check_real("weight_decay", weight_decay, low=0.0)
        self.epochs = check_int("epochs", epochs, low=1)
        self.patience = check_int("patience", patience, low=0)
        self.protocol = protocol
        self.select_epoch = check_bool("select_epoch", select_epoch)
        self.batch_size = check_int("batch_size", batch_size, low=1, optional=True)
        self.num_neighbors = check_fanouts("num_neighbors", num_neighbors)
        self.seed_nodes = check_choice("seed_nodes", seed_nodes, ("all", "train"))
        if self.seed_nodes == "train" and self.batch_size is None:
            raise ValueError('seed_nodes="train" needs batch_size (mini-batch training)')
        self.inference_chunk_size = check_int("inference_chunk_size", inference_chunk_size,
                                              low=1)
        self.max_batches_per_epoch = check_int("max_batches_per_epoch", max_batches_per_epoch,
                                               low=1, optional=True)
        self.classifier_max_iter = check_int("classifier_max_iter", classifier_max_iter, low=1)
        self.device = check_device("device", device)
        self.seed = check_int("seed", seed, low=0, optional=True)
        self.verbose = check_bool("verbose", verbose)
        self.distributed = check_bool("distributed", distributed)
        if self.distributed and self.batch_size is None:
            raise ValueError("distributed=True needs batch_size (mini-batch training)")
        if self.distributed and not self.select_epoch:
            raise ValueError("select_epoch=False is not supported with distributed=True")
        if process_group is not None and not self.distributed:
            raise ValueError("process_group is only used with distributed=True")
        if self.distributed and loss is not None and not getattr(loss, "distributed", False):
            raise ValueError("loss must be exact across ranks with distributed=True (e.g. "
                             "CodingRateReductionLoss(distributed=True))")
        self.process_group = process_group
        if loss is None:
            from noisygraph.nn.mcr2 import CodingRateReductionLoss
            loss = CodingRateReductionLoss(gamma1=gamma1, gamma2=gamma2, eps=eps,
                                           distributed=self.distributed,
                                           process_group=process_group)
        self.model, self.loss = model, loss
        self.classifier: Optional[LogisticRegression] = None
        self.pseudo_labels: Optional[Tensor] = None
        self._adjacency: Optional[Adjacency] = None

    # ------------------------------------------------------------------ helpers
    def _in_model_dtype(self, data: Data) -> Data:
        """``data`` with floating features of another dtype than the encoder's (float64 or
        half features, a float32 encoder) cast to it, in a shallow copy."""
        x, parameter = getattr(data, "x", None), next(self.model.parameters(), None)
        if (parameter is None or not isinstance(x, Tensor) or not x.is_floating_point()
                or x.dtype == parameter.dtype):
            return data
        data = copy.copy(data)
        data.x = x.to(parameter.dtype)
        check_finite(f"data.x (as {parameter.dtype})", data.x)  # float64 beyond float32's range
        return data

    def _model_input(self, data: Data) -> Tensor:
        """The features as the encoder reads them: sparse CSR for the GAT encoder in full
        batch when they are sparse enough (:func:`sparse_features`)."""
        if (self.batch_size is None and isinstance(self.model, ERASE)
                and self.model.encoder is None):
            return sparse_features(data.x)
        return data.x

    def embed(self, data: Data, x: Optional[Tensor] = None) -> Tensor:
        """Evaluation-mode embeddings of all nodes (``x`` overrides ``data.x``)."""
        x = data.x if x is None else x
        chunk = self.inference_chunk_size if self.batch_size is not None else None
        if isinstance(self.model, ERASE):
            return self.model.inference(x, data.edge_index, chunk, adjacency=self._adjacency)
        self.model.eval()
        with torch.no_grad():
            return self.model(x, data.edge_index)

    def _evaluate(self, data: Data, z: Tensor, pseudo: Tensor) -> Tensor:
        """Refits the linear probe on the training nodes' pseudo-labels; predicts all nodes."""
        features = F.normalize(z, dim=1)
        train = data.train_mask
        self.classifier._fit(features[train], pseudo[train], self.classifier_max_iter)
        return self.classifier.predict(features)

    def _epoch_embeddings(self, data: Data, x: Tensor, loader, pseudo: Optional[Tensor],
                          y_pre: Tensor, operator: Adjacency,
                          denoised: Tensor) -> tuple[Tensor, Tensor]:
        """After an epoch: the evaluation-mode embeddings of all nodes and the pseudo-labels
        the probe fits (the training step's in full batch; recomputed from the embeddings in
        mini-batch mode, where the step saw only sampled neighbourhoods)."""
        if loader is None:
            return self.embed(data, x), pseudo
        z = self.embed(data)
        return z, self._pseudo_labels(z, y_pre, operator, data.train_mask, denoised)

    def _pseudo_labels(self, z: Tensor, y_pre: Tensor, operator: Adjacency,
                       train_mask: Tensor, denoised: Tensor) -> Tensor:
        """The pseudo-labels of all nodes (``operator``: the lazy operator, or the
        symmetrically normalised adjacency under ``semantic_propagation="label-propagation"``)."""
        if self.semantic_propagation == "label-propagation":
            labels = _label_propagation_semantic_labels(z, y_pre, operator, train_mask,
                                                        self.alpha, self.beta, self.num_steps,
                                                        denoised)
        else:
            labels = _semantic_labels(z, y_pre, operator, train_mask, self.beta,
                                      self.num_steps, denoised)
        return labels.argmax(dim=1)

    def _full_batch_step(self, data: Data, x: Tensor, y_pre: Tensor, denoised: Tensor,
                         operator: Adjacency, num_classes: int,
                         optimizer) -> tuple[dict, Tensor]:
        self.model.train()
        optimizer.zero_grad()
        z = self.model(x, data.edge_index)
        pseudo = self._pseudo_labels(z, y_pre, operator, data.train_mask, denoised)
        out = self.loss.parts(z, pseudo, num_classes)
        out.loss.backward()
        optimizer.step()
        return {"loss": out.loss.item(), "total": out.total.item(),
                "compress": out.compress.item()}, pseudo

    def _mini_batch_epoch(self, data: Data, loader, y_pre: Tensor, denoised: Tensor,
                          operator: Adjacency, num_classes: int, optimizer,
                          train_model: torch.nn.Module) -> dict:
        z_all = self.embed(data)
        pseudo = self._pseudo_labels(z_all, y_pre, operator, data.train_mask, denoised)
        self.model.train()
        parts = {"loss": 0.0, "total": 0.0, "compress": 0.0}
        num_batches = len(loader)
        if self.max_batches_per_epoch is not None:
            num_batches = min(num_batches, self.max_batches_per_epoch)
        for index, batch in enumerate(loader):
            if index == num_batches:
                break
            batch = batch.to(data.x.device)
            optimizer.zero_grad()
            z = train_model(batch.x, batch.edge_index, **self._hop_counts(batch))
            z = z[:batch.batch_size]
            out = self.loss.parts(z, pseudo[batch.n_id[:batch.batch_size]], num_classes)
            out.loss.backward()
            optimizer.step()
            for key in parts:
                parts[key] += getattr(out, key).item() / num_batches
        return parts

    def _hop_counts(self, batch: Data) -> dict:
        """The per-hop counts that let the GAT encoder trim each layer to the nodes a later
        layer reads (:meth:`ERASE.forward`; the seeds' embeddings are the same), for a batch
        of at least two sampled hops; empty for a custom encoder."""
        if (not isinstance(self.model, ERASE) or self.model.encoder is not None
                or len(self.num_neighbors) < 2):
            return {}
        return {"num_sampled_nodes_per_hop": batch.num_sampled_nodes,
                "num_sampled_edges_per_hop": batch.num_sampled_edges}

    # ------------------------------------------------------------------ API
    def fit(self, data: Data, *, y_noisy: Optional[Tensor] = None,
            noise_mask: Optional[Tensor] = None) -> History:
        """Trains on ``data`` with its noisy labels (only ``y_noisy[train_mask]``, and
        ``y_noisy[val_mask]`` under ``"noisy-val"``, are read; ``data.y`` is read for scoring
        and, under ``"paper"``, for model selection; with ``select_epoch=False`` only
        ``y_noisy[train_mask]``, and ``data.y`` for its number of classes).

        Args:
            data (Data): the graph with ``x``, ``edge_index``, clean ``y`` and the three masks
                (and ``y_noisy`` / ``noise_mask`` as :class:`~noisygraph.noise.AddLabelNoise`
                sets them).
            y_noisy (torch.Tensor, optional): ``[N]`` noisy labels.
                (default: ``data.y_noisy``)
            noise_mask (torch.Tensor, optional): ``[N]`` bool, the nodes whose labels in
                ``y_noisy`` were drawn from a noise model. Under ``"noisy-val"`` it must cover
                every validation node; without it, ``y_noisy`` equal to ``data.y`` on all
                validation nodes is an error (see
                :func:`~noisygraph.erase.protocols.check_noisy_validation`).
                (default: :obj:`None`, ``data.noise_mask`` when set)

        Returns:
            History: per-epoch ``loss``/``total``/``compress`` and ``train_acc``/``val_acc``/
            ``test_acc`` (against clean labels; ``val_acc`` against the selection labels),
            the selected epoch and its test accuracy. The model and the classifier are left
            at the selected epoch.
        """
        data, y_noisy, val_target, num_classes = fit_inputs(
            data, y_noisy, self.protocol, noise_mask, self.device,
            validation=self.select_epoch)
        device = data.x.device
        self.model.to(device)
        data = self._in_model_dtype(data)

        # the one conversion of the graph: handed to the pre-correction, the per-epoch labels
        # and the layer-wise inference
        adjacency = self._adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)
        if self.semantic_propagation == "label-propagation":
            operator = adjacency.normalize("sym")
        else:
            operator = lazy_propagation_operator(adjacency.normalize("col"), self.alpha)
        y_pre = precorrect_labels(y_noisy, adjacency, data.train_mask, num_classes,
                                  self.alpha, self.num_steps, self.precorrection)
        denoised = y_pre[data.train_mask].argmax(dim=1)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay, amsgrad=True)
        self.classifier = LogisticRegression(self._embedding_dim(data), num_classes).to(device)
        x = self._model_input(data)
        loader = seed_order = None
        train_model, rank = self.model, 0
        if self.batch_size is not None:
            from noisygraph.loader import neighbor_loader
            batch_size = self.batch_size
            seeds = (data.train_mask.nonzero().flatten().cpu() if self.seed_nodes == "train"
                     else None)
            num_seeds = data.num_nodes if seeds is None else seeds.numel()
            if self.distributed:
                train_model, rank, seed_order, batch_size = self._distribute(num_seeds, device)
            # Sampling runs on the CPU copy; each batch then moves to the device.
            loader = neighbor_loader(copy.copy(data).to("cpu"), self.num_neighbors,
                                     batch_size, input_nodes=seeds, seed=self.seed,
                                     sampler=seed_order)

        history, best = History(), None
        bar = tqdm(range(1, self.epochs + 1), desc="ERASE",
                   disable=not self.verbose or rank != 0, leave=False)
        for epoch in bar:
            start = time.perf_counter()
            if loader is None:
                parts, pseudo = self._full_batch_step(data, x, y_pre, denoised, operator,
                                                      num_classes, optimizer)
            else:
                if seed_order is not None:
                    seed_order.set_epoch(epoch)
                parts = self._mini_batch_epoch(data, loader, y_pre, denoised, operator,
                                               num_classes, optimizer, train_model)
                pseudo = None
            if not self.select_epoch:  # nothing is evaluated before the last epoch
                history.log(epoch=epoch, **parts, seconds=time.perf_counter() - start)
                continue
            if rank == 0:
                z, pseudo = self._epoch_embeddings(data, x, loader, pseudo, y_pre, operator,
                                                   denoised)
                pred = self._evaluate(data, z, pseudo)
                train_acc = accuracy(pred, data.y, data.train_mask)
                val_acc = accuracy(pred, val_target, data.val_mask)
                test_acc = accuracy(pred, data.y, data.test_mask)
            if self.distributed:
                train_acc, val_acc, test_acc = self._broadcast_scores(
                    (train_acc, val_acc, test_acc) if rank == 0 else None, device)
            history.log(epoch=epoch, **parts, train_acc=train_acc, val_acc=val_acc,
                        test_acc=test_acc, seconds=time.perf_counter() - start)
            if history.update_best(epoch, val_acc, test_acc):
                best = (copy.deepcopy(self.model.state_dict()),
                        copy.deepcopy(self.classifier.state_dict()) if rank == 0 else None,
                        pseudo.clone() if rank == 0 else None)
            bar.set_postfix(loss=f"{parts['loss']:.3f}", val=f"{val_acc:.3f}")  # never test
            if epoch - history.best_epoch > self.patience:
                break
        if not self.select_epoch:  # the last epoch: its probe, fitted once
            z, pseudo = self._epoch_embeddings(data, x, loader, pseudo, y_pre, operator,
                                               denoised)
            self._evaluate(data, z, pseudo)
            history.best_epoch = epoch
            self.pseudo_labels = pseudo
            return history
        if self.distributed:  # the probe and the pseudo-labels of rank 0, on every rank
            best = self._broadcast_best(best, rank, device)
        self.model.load_state_dict(best[0])
        self.classifier.load_state_dict(best[1])
        self.pseudo_labels = best[2]
        return history

    # ------------------------------------------------------------------ distributed
    def _group(self):
        import torch.distributed as dist
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("ERASETrainer(distributed=True) needs an initialised "
                               "torch.distributed process group (torch.distributed."
                               "init_process_group, e.g. under torchrun)")
        return self.process_group if self.process_group is not None else dist.group.WORLD

    def _distribute(self, num_seeds: int, device: torch.device):
        """``(DDP-wrapped encoder, rank, DistributedSampler of the seeds, per-rank batch)``."""
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        from torch.utils.data.distributed import DistributedSampler
        group = self._group()
        rank, world_size = dist.get_rank(group), dist.get_world_size(group)
        if self.batch_size % world_size:
            raise ValueError(f"batch_size = {self.batch_size} (the global batch) must be a "
                             f"multiple of the world size {world_size} with distributed=True")
        device_ids = [device] if device.type == "cuda" else None
        train_model = DistributedDataParallel(self.model, device_ids=device_ids,
                                              process_group=group)
        seed_order = DistributedSampler(range(num_seeds), num_replicas=world_size,
                                        rank=rank, shuffle=True,
                                        seed=0 if self.seed is None else self.seed)
        return train_model, rank, seed_order, self.batch_size // world_size

    def _broadcast_scores(self, scores, device: torch.device) -> tuple:
        import torch.distributed as dist
        values = torch.zeros(3, dtype=torch.float64, device=device)
        if scores is not None:
            values[:] = torch.tensor(scores, dtype=torch.float64)
        group = self._group()
        dist.broadcast(values, src=dist.get_global_rank(group, 0), group=group)
        return tuple(float(v) for v in values.tolist())

    def _broadcast_best(self, best: tuple, rank: int, device: torch.device) -> tuple:
        import torch.distributed as dist
        group = self._group()
        shared = [None if rank else (best[1], best[2].cpu())]
        dist.broadcast_object_list(shared, src=dist.get_global_rank(group, 0), group=group)
        classifier_state, pseudo = shared[0]
        return best[0], classifier_state, pseudo.to(device)

    def _embedding_dim(self, data: Data) -> int:
        if isinstance(self.model, ERASE) and self.model.encoder is None:
            return self.model.out_channels
        return int(self.embed(data).size(1))

    @torch.no_grad()
    def embed_graph(self, data: Data) -> Tensor:
        """``[N, p]`` evaluation-mode embeddings of every node of ``data`` (the fitted graph
        or another one) by the encoder of the selected epoch."""
        if self.classifier is None:
            raise RuntimeError("call fit() before embed_graph()")
        device = next(self.classifier.parameters()).device
        data = self._in_model_dtype(data.to(device))
        self._adjacency = as_adjacency(data.edge_index, num_nodes=data.num_nodes)  # its graph
        return self.embed(data, self._model_input(data))

    @torch.no_grad()
    def predict(self, data: Data) -> Tensor:
        """Predicted classes of all nodes (encoder and probe of the selected epoch)."""
        if self.classifier is None:
            raise RuntimeError("call fit() before predict()")
        return self.classifier.predict(F.normalize(self.embed_graph(data), dim=1))
