"""The one training engine of graphrnn: :class:`Trainer` (single process or DDP)."""
from __future__ import annotations

import functools
import json
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from graphrnn.data.loader import check_batchable, check_dataset, planners_of
from graphrnn.files import write_atomic
from graphrnn.terminal import is_terminal

from .checkpoint import (
    CheckpointError,
    check_weights_only,
    load_checkpoint,
    load_model_state,
    non_finite_entries,
    require_entries,
    save_checkpoint,
)
from .config import TrainConfig
from .device import batch_size_of, move_to, resolve_device
from .distributed import (
    all_gather_objects,
    all_reduce_sums,
    barrier,
    broadcast_object,
    cleanup_distributed,
    is_distributed,
    is_main_process,
    rank,
    setup_distributed,
    world_size,
)
from .optim import build_optimizer, build_scheduler, current_lr
from .seeding import epoch_generator, get_rng_state, seed_everything, set_rng_state

__all__ = ["Trainer", "TrainConfig", "default_loader", "NonFiniteError", "TrainingInterrupted",
           "CHECKPOINT_NAME", "BEST_NAME", "METRICS_NAME"]

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
BEST_NAME = "best.pt"
METRICS_NAME = "metrics.jsonl"
#: Keys of every epoch record; metric functions may not use these names.
RESERVED_KEYS = ("epoch", "step", "train_loss", "lr", "seconds")
#: Settings that change a run's trajectory: changing them on resume is warned about.
TRAJECTORY_SETTINGS = ("batch_size", "lr", "momentum", "weight_decay", "lr_step_size", "lr_gamma",
                       "lr_min", "lr_patience", "grad_clip", "seed", "shuffle", "monitor", "mode",
                       "min_delta")
#: Settings that are not compared on resume (``resume`` differs by definition; ``out`` is where the files are).
UNCOMPARED_SETTINGS = ("resume", "out")
#: Settings that must not change on resume (the saved optimizer/scheduler state depends on them).
FIXED_SETTINGS = ("optimizer", "lr_schedule")
#: Settings that choose best.pt: on resume the best value so far is compared with the new epochs' values, so a
#: changed metric or direction would replace a good best.pt with a worse epoch (or never replace it).
SELECTION_SETTINGS = ("monitor", "mode")
#: What resuming reads from a checkpoint, and the type of each entry.
_CHECKPOINT_ENTRIES = {"model": Mapping, "optimizer": Mapping, "scheduler": (Mapping, type(None)), "rng": list,
                       "epoch": int, "step": int, "history": list, "early_stopping": Mapping, "config": Mapping}
_EARLY_STOPPING_ENTRIES = {"best": (int, float, type(None)), "best_epoch": (int, type(None)), "bad_epochs": int}

class NonFiniteError(ValueError):
    """Training met a NaN or infinite loss, gradient or weight and stopped before using or saving it."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :meth:`Trainer.fit`.

    Attributes:
        checkpoint: the file to resume from (``out/checkpoint.pt``), or ``None`` when the run
            writes no files or had not finished an epoch.
        epoch: the number of epochs that checkpoint holds (0 without one).
    """

    def __init__(self, checkpoint: Optional[Path], epoch: int) -> None:
        where = f"{checkpoint} holds epoch {epoch}" if checkpoint is not None else "no checkpoint was written"
        super().__init__(f"training interrupted; {where}")
        self.checkpoint, self.epoch = checkpoint, epoch


LossFn = Callable[[nn.Module, Any], Tensor]
MetricsFn = Callable[[nn.Module, Any], Mapping[str, Any]]
EvaluateFn = Callable[[nn.Module], Mapping[str, Any]]
LoaderFn = Callable[[Any, int, Optional[Iterable[int]], bool, torch.Generator], Iterable[Any]]


def default_loader(dataset: Any, batch_size: int, sampler: Optional[Iterable[int]], shuffle: bool,
                   generator: torch.Generator, num_workers: int = 0,
                   plans: Optional[Mapping[str, Any]] = None) -> Iterable[Any]:
    """The default ``loader_fn``: :class:`graphrnn.data.DataLoader` (batches graphs into a PyG ``Batch``
    and builds the model's plans in its collate, in the worker processes when ``num_workers > 0``).

    Args:
        dataset: a sequence of items (PyG ``Data``, tensors, tuples, ...).
        batch_size: items per batch.
        sampler: the indices to visit (a ``DistributedSampler`` under DDP), or ``None``.
        shuffle: shuffle with ``generator`` (only when ``sampler`` is ``None``).
        generator: the generator of the shuffling order (and of the workers' seeds).
        num_workers: worker processes.
        plans: ``{batch attribute: planner}``, e.g. ``model.planners()`` (the Trainer passes the
            model's own, so its steps read nothing on the host).

    Returns:
        The data loader.
    """
    from graphrnn.data import DataLoader

    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle and sampler is None,
                      sampler=sampler, generator=generator, num_workers=num_workers, plans=plans)


class _LossModule(nn.Module):
    """Wraps ``model`` so that DDP's forward is the whole loss computation.

    ``loss_fn`` then always receives the plain model and may call any of its
    methods (e.g. ``model.encode``), while DDP still synchronises the gradients.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        super().__init__()
        self.model = model
        self.__dict__["loss_fn"] = loss_fn  # not a submodule: its parameters are not trained

    def forward(self, batch: Any) -> Tensor:
        return self.loss_fn(self.model, batch)


@dataclass
class EarlyStopping:
    """Best value of the monitored metric so far, and epochs since it improved."""

    best: Optional[float] = None
    best_epoch: Optional[int] = None
    bad_epochs: int = 0

    def update(self, value: float, epoch: int, mode: str, min_delta: float) -> bool:
        """Records the value of ``epoch``.

        Args:
            value: the monitored metric this epoch (NaN never improves).
            epoch: the 1-based epoch number.
            mode: ``"min"`` or ``"max"``.
            min_delta: smallest change that counts as an improvement.

        Returns:
            Whether it improved on the best so far (always for the first finite value).
        """
        if self.best is None:
            improved = not math.isnan(value)
        elif mode == "min":
            improved = value < self.best - min_delta
        else:
            improved = value > self.best + min_delta
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return improved

    def to_dict(self) -> Dict[str, Any]:
        """Returns the state as a dict of plain values (for checkpoints).

        Returns:
            ``{"best", "best_epoch", "bad_epochs"}``.
        """
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "EarlyStopping":
        """Rebuilds the state from :meth:`to_dict`'s output.

        Args:
            values: a dict with ``best``, ``best_epoch`` and ``bad_epochs``.

        Returns:
            The state.

        Raises:
            KeyError: if a field is missing.
        """
        return cls(best=values["best"], best_epoch=values["best_epoch"], bad_epochs=int(values["bad_epochs"]))


class Trainer:
    r"""Trains a model: epochs, optimizer and schedule, clipping, evaluation, early
    stopping, logs and checkpoints; a single process, or DDP under ``torchrun``.

    Every epoch: shuffle (order from a generator seeded with ``(seed, epoch)``),
    for each batch ``loss = loss_fn(model, batch)``, backward, clip the gradient norm
    to ``grad_clip``, step; then evaluate (``metrics_fn`` over ``eval_data``, reduced
    over batches and processes, and ``evaluate_fn`` on rank 0), step the LR
    schedule, update early stopping, and, when ``config.out`` is set, write
    ``checkpoint.pt`` (everything needed to resume exactly), ``best.pt`` (when the
    monitored metric improved) and one JSON line in ``metrics.jsonl``.

    :meth:`fit` seeds Python's, NumPy's and torch's global generators with
    ``config.seed + rank`` (or, when resuming, restores their saved states): this is
    deliberate, so that a run is reproducible (see :mod:`graphrnn.training.seeding`).
    The model's initialisation happens before, under your control.

    Distributed: under ``torchrun`` (``WORLD_SIZE`` > 1) :meth:`fit` joins the process
    group (gloo on CPU, NCCL on CUDA), wraps the model in ``DistributedDataParallel``,
    gives each process a ``DistributedSampler`` shard of ``train_data`` (padded so
    every process has the same number of batches) and a disjoint shard of
    ``eval_data``, sums metrics over processes, and lets only rank 0 log, show
    progress and write files. ``config.batch_size`` is per process.

    Args:
        model: the model; it is moved to the device. ``trainer.model`` is always the
            plain (unwrapped) model.
        loss_fn: ``(model, batch) -> scalar tensor``, the *mean* loss over the batch's
            items. It gets the plain model and may call any of its methods.
        train_data: the training items (anything ``loader_fn`` accepts; a sequence
            with ``len`` for DDP).
        config: the settings (default ``TrainConfig()``).
        metrics_fn: ``(model, batch) -> {name: sum over the batch's items}``; it must
            include ``"count"``, the number of items. Sums are reduced over batches and
            processes and divided by the count, giving per-item means. Default (when
            ``eval_data`` is given): ``{"loss": loss_fn(model, batch) * n, "count": n}``.
        eval_data: items evaluated with ``metrics_fn`` after every epoch (model in eval
            mode, no gradients).
        evaluate_fn: ``(model) -> {name: number}`` corpus-level metrics (e.g. BLEU),
            run on rank 0 only in eval mode without gradients; every process gets
            its result.
        extra_state: the task's own state to store in checkpoints (its settings,
            vocabulary as a list of str, ...): tensors and plain Python values only.
        loader_fn: ``(dataset, batch_size, sampler, shuffle, generator) -> iterable of
            batches``; default :func:`default_loader` (PyG ``DataLoader``).
            ``sampler`` is ``None`` for a single process; ``shuffle`` is ``False``
            when a sampler is given (the sampler shuffles).

    Raises:
        ValueError: for an argument that cannot work (see the message).
        TypeError: if a function argument is not callable.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, train_data: Any,
                 config: Optional[TrainConfig] = None, metrics_fn: Optional[MetricsFn] = None,
                 eval_data: Any = None, evaluate_fn: Optional[EvaluateFn] = None,
                 extra_state: Optional[Mapping[str, Any]] = None,
                 loader_fn: Optional[LoaderFn] = None) -> None:
        self.config = config if config is not None else TrainConfig()
        _check_arguments(model, loss_fn, train_data, metrics_fn, eval_data, evaluate_fn, loader_fn)
        if extra_state is not None:
            if not isinstance(extra_state, Mapping):
                raise TypeError(f"extra_state must be a dict, got {type(extra_state).__name__}")
            check_weights_only(dict(extra_state), "extra_state")
        self.device = resolve_device(self.config.device)
        self.model = model.to(self.device)
        self.loss_fn = loss_fn
        self.train_data = train_data
        self.eval_data = eval_data
        self.metrics_fn = metrics_fn if metrics_fn is not None else self._default_metrics
        self.evaluate_fn = evaluate_fn
        self.extra_state = dict(extra_state) if extra_state is not None else None
        self.loader_fn = loader_fn or functools.partial(default_loader, num_workers=self.config.num_workers,
                                                        plans=planners_of(model))
        self.out = Path(self.config.out) if self.config.out is not None else None
        _check_out(self.out)
        self.monitor = self._resolve_monitor()
        self.optimizer = build_optimizer(self.model.parameters(), self.config)
        self.scheduler = build_scheduler(self.optimizer, self.config)
        self.history: List[Dict[str, Any]] = []
        self.epoch = 0
        self.step = 0
        self.early_stopping = EarlyStopping()
        self._fitted = False
        self._saved_epoch: Optional[int] = None  # the epoch out/checkpoint.pt holds (None: none yet)

    # ------------------------------------------------------------------ public
    def fit(self) -> List[Dict[str, Any]]:
        """Trains until ``config.epochs`` epochs are done or early stopping stops.

        Returns:
            The history: one dict per epoch (including epochs of a resumed run) with
            ``epoch`` (1-based), ``step`` (optimizer steps so far), ``train_loss``,
            ``lr`` (used during the epoch), the evaluation metrics and ``seconds``.

        Raises:
            RuntimeError: if called a second time (make a new Trainer, with
                ``resume=True`` to continue).
            CheckpointError: when resuming from a missing, unreadable, damaged or
                non-matching checkpoint, one holding NaN/infinite weights, or one with
                more epochs done than ``config.epochs``.
            NonFiniteError: when a loss, gradient or the weights become NaN or infinite;
                the message names the step, and nothing non-finite was applied or saved.
            TrainingInterrupted: on Ctrl-C (a ``KeyboardInterrupt`` naming the
                checkpoint to resume from).
        """
        if self._fitted:
            raise RuntimeError("Trainer.fit() runs once; to continue, make a new Trainer with resume=True")
        self._fitted = True
        owns_group = setup_distributed(self.device)
        try:
            self._begin()
            self._train_epochs(self._training_module())
        except KeyboardInterrupt as interrupt:
            if isinstance(interrupt, TrainingInterrupted):
                raise
            raise self._interrupted() from None
        finally:
            if owns_group:
                cleanup_distributed()
        return self.history

    def evaluate(self) -> Dict[str, float]:
        """Evaluates the model now (``metrics_fn`` on ``eval_data``, then ``evaluate_fn``).

        Returns:
            Metric name -> value (empty when there is nothing to evaluate).

        Raises:
            ValueError: if ``metrics_fn`` misbehaves or evaluation sees no items.
        """
        if self.eval_data is None and self.evaluate_fn is None:
            return {}
        self.model.eval()
        try:
            with torch.no_grad():
                record = self._eval_metrics() if self.eval_data is not None else {}
                if self.evaluate_fn is not None:
                    _merge_metrics(record, self._corpus_metrics(), "evaluate_fn")
        finally:
            self.model.train()
        return record

    def load_best(self) -> nn.Module:
        """Loads the best epoch's weights (``out/best.pt``, by ``config.monitor``) into the model.

        Returns:
            ``trainer.model``, now holding those weights.

        Raises:
            ValueError: if the run writes no files (``config.out`` is ``None``).
            CheckpointError: if ``best.pt`` is missing (no epoch had a finite monitored
                value) or unreadable.
        """
        if self.out is None:
            raise ValueError("load_best needs config.out: the best epoch is kept in out/best.pt")
        path = self.out / BEST_NAME
        if not path.is_file():
            raise CheckpointError(f"{path} does not exist: {self._why_no_best()}")
        checkpoint = load_checkpoint(path, map_location=self.device)
        require_entries(checkpoint, {"model": Mapping}, path, "load_best")
        state = checkpoint["model"]
        _refuse_non_finite(state, path, "weights")
        load_model_state(self.model, state, source=str(path))
        return self.model

    def _why_no_best(self) -> str:
        if not self.history:
            return "no epoch has been trained yet; call fit() first (a resumed run trains only epochs not done)"
        values = [record.get(self.monitor) for record in self.history]
        return (f"no epoch had a finite {self.monitor} ({', '.join(str(v) for v in values[:5])}"
                f"{', ...' if len(values) > 5 else ''}), so none could be chosen; check what reports {self.monitor} "
                "(a NaN metric, e.g. 0/0 on an empty split)")

    # ------------------------------------------------------------ start / resume
    def _begin(self) -> None:
        if self.config.resume:
            self._resume()
        else:
            self._fresh_start()

    def _fresh_start(self) -> None:
        seed_everything(self.config.seed + rank())
        if self.out is None or not is_main_process():
            return
        self.out.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(self.out)
        if (self.out / CHECKPOINT_NAME).exists():
            logger.warning("%s holds a previous run; it is overwritten (use resume=True to continue it)",
                           self.out)
        (self.out / BEST_NAME).unlink(missing_ok=True)  # a stale best.pt would outlive this run's best
        (self.out / METRICS_NAME).write_text("")

    def _resume(self) -> None:
        path = self.out / CHECKPOINT_NAME
        checkpoint = load_checkpoint(path, map_location="cpu")
        if is_main_process():
            _remove_stale_temporaries(self.out)
        self._restore(checkpoint, path)
        if is_main_process():
            _write_jsonl(self.out / METRICS_NAME, self.history)
        logger.info("resumed %s at epoch %d, step %d", path, self.epoch, self.step)

    def _restore(self, checkpoint: Mapping[str, Any], path: Path) -> None:
        require_entries(checkpoint, _CHECKPOINT_ENTRIES, path, "resuming")
        require_entries(checkpoint["early_stopping"], _EARLY_STOPPING_ENTRIES, f"{path}'s early_stopping", "resuming")
        if not all(isinstance(record, Mapping) for record in checkpoint["history"]):
            raise CheckpointError(f"{path} is damaged: its 'history' is not a list of per-epoch dicts; resume from "
                                  "another copy, or start a fresh run")
        if checkpoint["epoch"] > self.config.epochs:
            raise CheckpointError(
                f"{path} holds {checkpoint['epoch']} epochs, more than this run's epochs={self.config.epochs}, which "
                f"counts the epochs done: resume with epochs > {checkpoint['epoch']} to train more (--epochs N), or "
                "start a fresh run"
            )
        _refuse_non_finite(checkpoint["model"], path, "weights")
        _refuse_non_finite(checkpoint["optimizer"], path, "optimizer state")
        _check_resumable(checkpoint["config"], self.config, path)
        _warn_changed_extra_state(checkpoint.get("extra_state"), self.extra_state, path)
        load_model_state(self.model, checkpoint["model"], source=str(path))
        self._restore_optimizer(checkpoint, path)
        self.history = [dict(record) for record in checkpoint["history"]]
        self.epoch, self.step = int(checkpoint["epoch"]), int(checkpoint["step"])
        self.early_stopping = EarlyStopping.from_dict(checkpoint["early_stopping"])
        self._saved_epoch = self.epoch
        self._restore_rng(checkpoint["rng"])

    def _restore_optimizer(self, checkpoint: Mapping[str, Any], path: Path) -> None:
        try:
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(checkpoint["scheduler"])
        except (ValueError, KeyError, TypeError, RuntimeError) as error:
            raise CheckpointError(
                f"the optimizer state in {path} does not fit this model's parameters ({error}); "
                "resume with the same model and optimizer, or start a fresh run in a new --out"
            ) from error
        if isinstance(self.scheduler, CosineAnnealingLR):
            _stretch_cosine(self.scheduler, self.config.epochs, path)

    def _restore_rng(self, states: Sequence[Mapping[str, Any]]) -> None:
        if len(states) == world_size():
            set_rng_state(states[rank()])
            return
        warnings.warn(
            f"the checkpoint was written by {len(states)} process(es), this run has {world_size()}: "
            "random generators are re-seeded, so the run will not repeat an uninterrupted one",
            stacklevel=3,
        )
        seed_everything((self.config.seed * 1_000_003 + self.epoch * 1009 + rank()) % 2**32)

    # ------------------------------------------------------------------ epochs
    def _training_module(self) -> nn.Module:
        module: nn.Module = _LossModule(self.model, self.loss_fn)
        if is_distributed():
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            module = DistributedDataParallel(module, device_ids=device_ids,
                                             find_unused_parameters=self.config.find_unused_parameters)
        return module

    def _train_epochs(self, module: nn.Module) -> None:
        epochs = tqdm(range(self.epoch, self.config.epochs), total=self.config.epochs, initial=self.epoch,
                      desc="epochs", unit="epoch", disable=not self._show_bars())
        for epoch in epochs:
            if self._should_stop():
                logger.info("early stopping: %s did not improve for %d epochs", self.monitor,
                            self.early_stopping.bad_epochs)
                break
            record = self._run_epoch(module, epoch)
            summary = {key: _short(value) for key, value in record.items() if key != "epoch"}
            epochs.set_postfix(summary)
            if self._show_progress() and not self._show_bars():  # a log file or pipe: one plain line per epoch
                print(f"epoch {record['epoch']}/{self.config.epochs}: "
                      + ", ".join(f"{key} {value}" for key, value in summary.items()), file=sys.stderr, flush=True)
        epochs.close()

    def _should_stop(self) -> bool:
        patience = self.config.patience
        return patience is not None and self.early_stopping.bad_epochs >= patience

    def _run_epoch(self, module: nn.Module, epoch: int) -> Dict[str, Any]:
        started = time.perf_counter()
        lr = current_lr(self.optimizer)
        train_loss = self._train_epoch(module, epoch)
        record: Dict[str, Any] = {"epoch": epoch + 1, "step": self.step, "train_loss": train_loss, "lr": lr}
        _merge_metrics(record, self.evaluate(), "evaluation")
        record["seconds"] = time.perf_counter() - started
        self._end_epoch(record)
        return record

    def _train_epoch(self, module: nn.Module, epoch: int) -> float:
        module.train()
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        items = 0
        batches = tqdm(self._train_loader(epoch), desc=f"epoch {epoch + 1}/{self.config.epochs}",
                       unit="batch", leave=False, disable=not self._show_bars())
        for index, batch in enumerate(batches):
            loss, count = self._train_step(module, batch, (epoch, index))
            total += loss.double() * count
            items += count
            if not batches.disable:
                batches.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        batches.close()
        sums = all_reduce_sums({"loss": total, "items": items})
        if sums["items"] == 0:
            raise ValueError("train_data gave no items this epoch; pass a non-empty dataset")
        return sums["loss"] / sums["items"]

    def _train_step(self, module: nn.Module, batch: Any, position: Tuple[int, int]) -> Tuple[Tensor, int]:
        batch = move_to(batch, self.device)
        loss = module(batch)
        _check_loss(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        norm = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=self.device)
        if not bool(torch.isfinite(loss.detach()) & torch.isfinite(norm)):  # one host sync per step
            raise self._non_finite_step(loss.detach(), norm, position)
        if self.config.grad_clip is not None:  # what clip_grad_norm_ does, with the norm computed above
            torch.nn.utils.clip_grads_with_norm_(self.model.parameters(), self.config.grad_clip, norm)
        self.optimizer.step()
        self.step += 1
        return loss.detach(), batch_size_of(batch)

    def _non_finite_step(self, loss: Tensor, norm: Tensor, position: Tuple[int, int]) -> NonFiniteError:
        epoch, index = position
        if not bool(torch.isfinite(loss)):
            what = f"the loss is {float(loss)}"
        else:
            grads = {name: p.grad for name, p in self.model.named_parameters() if p.grad is not None}
            what = (f"the loss {float(loss):.4g} is finite but the gradient norm is {float(norm)}; non-finite "
                    f"gradients in {', '.join(non_finite_entries(grads)[:4])}")
        return NonFiniteError(
            f"training stopped at step {self.step + 1} (epoch {epoch + 1}, batch {index + 1}): {what}. "
            f"The update was not applied and nothing was saved for this epoch; {self._saved_state()}. "
            "Lower the learning rate, set grad_clip, or check this batch's inputs and the loss for log(0) or 0/0"
        )

    def _saved_state(self) -> str:
        if self.out is None or self._saved_epoch is None:
            return "no checkpoint was written yet"
        return f"{self.out / CHECKPOINT_NAME} holds epoch {self._saved_epoch} (resume from it with --resume)"

    def _interrupted(self) -> TrainingInterrupted:
        if self.out is None or self._saved_epoch is None:
            return TrainingInterrupted(None, 0)
        return TrainingInterrupted(self.out / CHECKPOINT_NAME, self._saved_epoch)

    def _train_loader(self, epoch: int) -> Iterable[Any]:
        sampler, shuffle = None, self.config.shuffle
        if is_distributed():
            sampler = DistributedSampler(self.train_data, num_replicas=world_size(), rank=rank(),
                                         shuffle=self.config.shuffle, seed=self.config.seed, drop_last=False)
            sampler.set_epoch(epoch)
            shuffle = False
        return self.loader_fn(self.train_data, self.config.batch_size, sampler, shuffle,
                              epoch_generator(self.config.seed, epoch))

    def _end_epoch(self, record: Dict[str, Any]) -> None:
        self.history.append(record)
        value = self._monitored_value(record)
        if math.isnan(value) and is_main_process():
            warnings.warn(f"epoch {record['epoch']}: the monitored {self.monitor} is NaN, so this epoch cannot be "
                          "chosen as the best (best.pt keeps an earlier one, if any)", stacklevel=2)
        improved = self.early_stopping.update(value, record["epoch"], self.config.mode, self.config.min_delta)
        self._step_scheduler(value)
        self.epoch = record["epoch"]
        self._write_epoch_files(record, improved)

    def _monitored_value(self, record: Mapping[str, Any]) -> float:
        if self.monitor not in record:
            metrics = sorted(k for k in record if k not in ("epoch", "step", "lr", "seconds"))
            raise ValueError(
                f"TrainConfig.monitor={self.monitor!r} is not among this epoch's metrics {metrics}; "
                "set monitor to one of them, or pass eval_data/metrics_fn/evaluate_fn that report it"
            )
        return float(record[self.monitor])

    def _step_scheduler(self, value: float) -> None:
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(value)
        elif self.scheduler is not None:
            self.scheduler.step()

    # -------------------------------------------------------------- evaluation
    def _default_metrics(self, model: nn.Module, batch: Any) -> Dict[str, Any]:
        count = batch_size_of(batch)
        return {"loss": self.loss_fn(model, batch).detach() * count, "count": count}

    def _eval_metrics(self) -> Dict[str, float]:
        sums: Dict[str, Any] = {}
        for batch in self._eval_loader():
            values = self.metrics_fn(self.model, move_to(batch, self.device))
            for name, value in _check_metric_sums(values).items():
                sums[name] = sums.get(name, 0.0) + value
        totals = all_reduce_sums(sums)
        count = totals.pop("count", 0.0)
        if count <= 0:
            raise ValueError("evaluation saw no items: eval_data is empty or metrics_fn reported count 0")
        return {name: total / count for name, total in totals.items()}

    def _eval_loader(self) -> Iterable[Any]:
        sampler = range(rank(), len(self.eval_data), world_size()) if is_distributed() else None
        return self.loader_fn(self.eval_data, self.config.batch_size, sampler, False,
                              epoch_generator(self.config.seed, 0))

    def _corpus_metrics(self) -> Dict[str, float]:
        outcome: Any = None
        if is_main_process():
            try:
                outcome = ("ok", _as_metric_dict(self.evaluate_fn(self.model)))
            except Exception as error:
                broadcast_object(("error", f"{type(error).__name__}: {error}"))
                raise
        status, value = broadcast_object(outcome)
        if status == "error":
            raise RuntimeError(f"evaluate_fn failed on rank 0: {value}")
        return value

    # ------------------------------------------------------------------- files
    def _write_epoch_files(self, record: Mapping[str, Any], improved: bool) -> None:
        if self.out is None:
            return
        bad = non_finite_entries(self.model.state_dict())  # every process: DDP keeps the weights equal
        if bad:
            raise NonFiniteError(
                f"after epoch {record['epoch']} (step {self.step}) the weights are not finite: {', '.join(bad[:4])}; "
                f"they were not saved, {self._saved_state()}. Lower the learning rate or set grad_clip"
            )
        rng = all_gather_objects(get_rng_state())
        if is_main_process():
            checkpoint = self._checkpoint(rng)
            # best.pt first: a crash between the two writes then leaves a checkpoint.pt that is
            # behind best.pt (the epoch is redone, identically), never one whose best is unsaved
            if improved:
                save_checkpoint(self.out / BEST_NAME, checkpoint)
            save_checkpoint(self.out / CHECKPOINT_NAME, checkpoint)
            _append_jsonl(self.out / METRICS_NAME, record)
        self._saved_epoch = int(record["epoch"])
        barrier()

    def _checkpoint(self, rng: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": rng,
            "epoch": self.epoch,
            "step": self.step,
            "history": [dict(record) for record in self.history],
            "early_stopping": self.early_stopping.to_dict(),
            "config": self.config.to_dict(),
            "extra_state": self.extra_state,
            "world_size": world_size(),
        }

    # ------------------------------------------------------------------ helpers
    def _resolve_monitor(self) -> str:
        has_evaluation = self.eval_data is not None or self.evaluate_fn is not None
        if not has_evaluation and self.config.monitor == "loss":
            return "train_loss"
        known = self._known_metrics()
        if known is not None and self.config.monitor not in known:  # else it failed after the first epoch
            raise ValueError(
                f"TrainConfig.monitor={self.config.monitor!r} is not among this run's metrics {sorted(known)}; set "
                "monitor to one of them, or pass eval_data/metrics_fn/evaluate_fn that report it"
            )
        return self.config.monitor

    def _known_metrics(self) -> Optional[set]:
        """The names every epoch record will hold, when no function of the user's decides them (else ``None``)."""
        if self.evaluate_fn is not None or self.metrics_fn != self._default_metrics:
            return None
        return {"train_loss"} | ({"loss"} if self.eval_data is not None else set())

    def _show_progress(self) -> bool:
        return self.config.progress and is_main_process()

    def _show_bars(self) -> bool:
        """tqdm bars only on a terminal: in a log file or a pipe their redraws are noise."""
        return self._show_progress() and is_terminal(sys.stderr)


# ---------------------------------------------------------------------- checks
def _check_arguments(model: Any, loss_fn: Any, train_data: Any, metrics_fn: Any, eval_data: Any,
                     evaluate_fn: Any, loader_fn: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, function in (("loss_fn", loss_fn), ("metrics_fn", metrics_fn),
                           ("evaluate_fn", evaluate_fn), ("loader_fn", loader_fn)):
        if function is not None and not callable(function):
            raise TypeError(f"{name} must be callable, got {type(function).__name__}")
    if loss_fn is None:
        raise TypeError("loss_fn is required: (model, batch) -> mean loss over the batch")
    if train_data is None:
        raise ValueError("train_data is required")
    if loader_fn is None:  # the default loader reads a list or Dataset item by item, every epoch
        for name, data in (("train_data", train_data), ("eval_data", eval_data)):
            if data is not None:
                check_dataset(data, name)
                if isinstance(data, (list, tuple)):  # any two graphs may meet in a batch: a mismatch fails now
                    check_batchable(data, name)
    if hasattr(train_data, "__len__") and len(train_data) == 0:
        raise ValueError("train_data is empty; pass at least one training item")
    if eval_data is not None and hasattr(eval_data, "__len__") and len(eval_data) == 0:
        raise ValueError("eval_data is empty, so no epoch could be evaluated; pass at least one item, or "
                         "eval_data=None to monitor train_loss")
    if metrics_fn is not None and eval_data is None:
        raise ValueError("metrics_fn is applied to eval_data, which is None; pass eval_data=... too")


def _check_out(out: Optional[Path]) -> None:
    """``config.out`` must be a directory, or a path where one can be made."""
    if out is None:
        return
    blocker = next((path for path in (out, *out.parents) if path.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ValueError(f"TrainConfig.out={str(out)!r} cannot be a directory: {blocker} is a file; give a directory "
                         "(it is created if missing)")
    taken = [name for name in (CHECKPOINT_NAME, BEST_NAME, METRICS_NAME) if (out / name).is_dir()]
    if taken:  # the first epoch's write would fail after the epoch was trained
        raise ValueError(f"TrainConfig.out={str(out)!r} holds a directory named {taken[0]!r}, where the run writes "
                         "that file; move it away or choose another out")


def _refuse_non_finite(state: Any, path: Path, what: str) -> None:
    bad = non_finite_entries(state)
    if bad:
        raise CheckpointError(
            f"{path} holds non-finite {what} ({len(bad)} tensors: {', '.join(bad[:4])}"
            f"{', ...' if len(bad) > 4 else ''}); "
            "training from them would only produce NaN, so it is refused. Resume from an earlier copy "
            "(best.pt holds the best epoch) or start a fresh run"
        )


def _check_resumable(saved: Mapping[str, Any], config: TrainConfig, path: Path) -> None:
    changed = [name for name in SELECTION_SETTINGS if name in saved and saved[name] != getattr(config, name)]
    if changed:
        was = ", ".join(f"{name}={saved[name]!r}" for name in changed)
        now = ", ".join(f"{name}={getattr(config, name)!r}" for name in changed)
        raise CheckpointError(
            f"{path} chose its best epoch (best.pt) by {was}, this run has {now}: the best value so far would be "
            "compared with another metric or direction, and a worse epoch could replace best.pt; resume with "
            f"{was}, or start a fresh run"
        )
    for name in FIXED_SETTINGS:
        if saved.get(name) != getattr(config, name):
            raise CheckpointError(
                f"{path} was written with {name}={saved.get(name)!r} but this run has "
                f"{name}={getattr(config, name)!r}; resume with the same {name}, or start a fresh run"
            )
    current = config.to_dict()
    changed = [f"{name} {saved.get(name)!r} -> {current[name]!r}" for name in current
               if name not in UNCOMPARED_SETTINGS and name in saved and saved[name] != current[name]]
    if changed == [f"epochs {saved.get('epochs')!r} -> {config.epochs!r}"]:
        warnings.warn(f"resuming {path} with epochs {saved.get('epochs')!r} -> {config.epochs!r}: the run "
                      f"continues to epoch {config.epochs}", stacklevel=4)
    elif changed:
        warnings.warn(
            f"resuming {path} with changed settings ({', '.join(changed)}); the optimizer and "
            "schedule state come from the checkpoint, and the run will not repeat an uninterrupted one",
            stacklevel=4,
        )


def _warn_changed_extra_state(saved: Any, current: Any, path: Path) -> None:
    """Warns about every key of the task's ``extra_state`` that differs from the checkpoint's."""
    saved, current = dict(saved or {}), dict(current or {})
    changed = []
    for key in sorted(set(saved) | set(current), key=str):
        if key in saved and key in current and _same_value(saved[key], current[key]):
            continue
        before, after = (_brief(side[key]) if key in side else "(absent)" for side in (saved, current))
        changed.append(f"{key} {before} -> {after}")
    if changed:
        warnings.warn(
            f"resuming {path} with a changed task state ({', '.join(changed)}); the run continues with this "
            "run's setting, so it will not repeat an uninterrupted one",
            stacklevel=4,
        )


def _same_value(left: Any, right: Any) -> bool:
    if isinstance(left, Tensor) or isinstance(right, Tensor):
        return isinstance(left, Tensor) and isinstance(right, Tensor) and left.shape == right.shape \
            and bool(torch.equal(left.cpu(), right.cpu()))
    try:
        return bool(left == right)
    except Exception:  # e.g. containers of tensors
        return repr(left) == repr(right)


def _brief(value: Any) -> str:
    text = repr(value)
    size = len(value) if hasattr(value, "__len__") else "?"
    return text if len(text) <= 40 else f"<{type(value).__name__} of {size}>"


def _stretch_cosine(scheduler: CosineAnnealingLR, epochs: int, path: Path) -> None:
    """Makes a restored cosine schedule end at ``epochs`` (a resumed run may ask for more epochs).

    The saved schedule spans the epochs of the run that wrote it; past its end, torch's cosine
    would rise again. The learning rate is set to the cosine's value at the current epoch for
    the new span, from which the schedule continues down to ``lr_min`` at the last epoch.
    """
    span = max(epochs, 1)
    if scheduler.T_max == span:
        return
    epoch = min(scheduler.last_epoch, span)
    old_span, old_rate = scheduler.T_max, scheduler.optimizer.param_groups[0]["lr"]
    scheduler.T_max = span
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = scheduler.eta_min + (base - scheduler.eta_min) * (1 + math.cos(math.pi * epoch / span)) / 2
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]
    warnings.warn(
        f"{path} was written with a cosine schedule over {old_span} epochs; it now spans {span}, so the "
        f"learning rate moves from {old_rate:.3g} to {scheduler._last_lr[0]:.3g} at epoch {epoch} and the run "
        "will not repeat an uninterrupted one",
        stacklevel=4,
    )


def _check_loss(loss: Any) -> None:
    if not isinstance(loss, Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return a scalar tensor (the mean loss over the batch), got {shape}")
    if not loss.requires_grad:
        raise ValueError("loss_fn returned a tensor that does not depend on the model's parameters (no grad_fn): "
                         "compute it from the model's output without .detach(), .item() or torch.no_grad()")


def _check_metric_sums(values: Any) -> Dict[str, Any]:
    if not isinstance(values, Mapping) or "count" not in values:
        keys = sorted(values) if isinstance(values, Mapping) else type(values).__name__
        raise ValueError(
            f"metrics_fn must return a dict of sums over the batch that includes 'count' (the number "
            f"of items), got {keys}"
        )
    return {name: _detached_sum(name, value) for name, value in values.items()}


def _detached_sum(name: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"metrics_fn value {name!r} must be a number or one-element tensor, "
                             f"got shape {tuple(value.shape)}; sum it over the batch")
        return value.detach().reshape(()).to(torch.float64)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"metrics_fn value {name!r} must be a number, got {type(value).__name__}")


def _as_metric_dict(values: Any) -> Dict[str, float]:
    if not isinstance(values, Mapping):
        raise ValueError(f"evaluate_fn must return a dict name -> number, got {type(values).__name__}")
    result = {}
    for name, value in values.items():
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"evaluate_fn must return a dict name -> number, got {name!r}: {value!r}")
        result[name] = float(value)
    return result


def _merge_metrics(record: Dict[str, Any], metrics: Mapping[str, float], source: str) -> None:
    for name, value in metrics.items():
        if name in RESERVED_KEYS or name in record:
            raise ValueError(
                f"{source} reports a metric named {name!r}, which is already taken (reserved names: "
                f"{list(RESERVED_KEYS)}); rename it"
            )
        record[name] = value


def _remove_stale_temporaries(out: Path) -> None:
    """Deletes the temporary files of checkpoint writes cut short by a kill (``.checkpoint.pt.*.tmp``)."""
    for name in (CHECKPOINT_NAME, BEST_NAME):
        for stale in out.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


# ----------------------------------------------------------------------- logs
def _append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(record)) + "\n")


def _write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    text = "".join(json.dumps(dict(record)) + "\n" for record in records)
    write_atomic(path, lambda stream: stream.write(text))  # a crash keeps the previous log whole


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
