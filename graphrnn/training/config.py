"""The settings of a training run: :class:`TrainConfig`."""
from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

from graphrnn.counts import is_int

__all__ = ["TrainConfig", "OPTIMIZERS", "LR_SCHEDULES", "MODES"]

OPTIMIZERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = (None, "step", "cosine", "plateau")
MODES = ("min", "max")


@dataclass
class TrainConfig:
    """Every setting of a :class:`~graphrnn.training.Trainer` run, in one flat record.

    A run's configuration is stored in its checkpoint (:meth:`to_dict`), so that a
    resumed run can tell when it is continued with different settings.

    Args:
        epochs: total number of epochs of the run (a resumed run counts the epochs
            already done, so ``epochs=4`` after 2 done trains 2 more).
        batch_size: items per batch *per process* (under ``torchrun`` with ``N``
            processes one optimizer step sees ``N * batch_size`` items).
        lr: learning rate.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"``.
        momentum: momentum of ``"sgd"`` (ignored by the others).
        weight_decay: L2 penalty (``"adam"``, ``"sgd"``) or decoupled decay (``"adamw"``).
        lr_schedule: ``None`` (constant), ``"step"`` (multiply by ``lr_gamma`` every
            ``lr_step_size`` epochs), ``"cosine"`` (cosine from ``lr`` to ``lr_min``
            over ``epochs``) or ``"plateau"`` (multiply by ``lr_gamma`` after
            ``lr_patience`` epochs without improvement of ``monitor``, not below
            ``lr_min``). Schedules step once per epoch.
        lr_step_size: period in epochs of ``"step"``.
        lr_gamma: factor of ``"step"`` and ``"plateau"``.
        lr_min: final (``"cosine"``) or smallest (``"plateau"``) learning rate.
        lr_patience: epochs without improvement before ``"plateau"`` lowers the rate.
        grad_clip: maximum total gradient norm (clipped by norm before every step);
            ``None`` turns clipping off.
        patience: stop after this many epochs in a row without improvement of
            ``monitor``; ``None`` turns early stopping off. Stopping restores
            nothing: ``best.pt`` in ``out`` holds the best epoch's model.
        min_delta: smallest change of ``monitor`` that counts as an improvement.
        monitor: name of the epoch metric that decides the best epoch, early
            stopping and ``"plateau"``: an evaluation metric (e.g. ``"loss"``,
            ``"accuracy"``, ``"bleu"``) or ``"train_loss"``. When the Trainer has no
            evaluation at all, the default ``"loss"`` means ``"train_loss"``.
        mode: ``"min"`` if smaller ``monitor`` is better, ``"max"`` if larger is.
        seed: seed of Python's, NumPy's and torch's generators (process ``r`` of a
            distributed run uses ``seed + r``) and of the shuffling order.
        device: ``"auto"`` (CUDA when available, else CPU), or a torch device string
            such as ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        out: directory for ``checkpoint.pt`` (every epoch), ``best.pt`` (best epoch)
            and ``metrics.jsonl`` (one JSON line per epoch); ``None`` writes nothing.
        resume: continue the run whose files are in ``out`` from ``out/checkpoint.pt``.
        progress: report progress (process 0 only): tqdm bars when stderr is a terminal,
            otherwise (a log file, a pipe) one plain line per epoch on stderr.
        shuffle: reshuffle the training data every epoch.
        num_workers: worker processes of the default data loader.
        find_unused_parameters: passed to ``DistributedDataParallel``; set it when
            some parameters get no gradient in some steps (slower).

    Raises:
        ValueError: if a setting is out of range or not one of the choices.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    lr_schedule: Optional[str] = None
    lr_step_size: int = 10
    lr_gamma: float = 0.1
    lr_min: float = 0.0
    lr_patience: int = 2
    grad_clip: Optional[float] = 5.0
    patience: Optional[int] = None
    min_delta: float = 0.0
    monitor: str = "loss"
    mode: str = "min"
    seed: int = 0
    device: str = "auto"
    out: Optional[Union[str, os.PathLike]] = None
    resume: bool = False
    progress: bool = True
    shuffle: bool = True
    num_workers: int = 0
    find_unused_parameters: bool = False

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # np.int64(32) from a grid is 32; checkpoints hold plain values
            setattr(self, field.name, _plain_number(getattr(self, field.name)))
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check_choice("mode", self.mode, MODES)
        _check_int("epochs", self.epochs, 0)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("lr_step_size", self.lr_step_size, 1)
        _check_int("lr_patience", self.lr_patience, 0)
        _check_int("num_workers", self.num_workers, 0)
        _check_int("seed", self.seed, 0)
        _check_positive("lr", self.lr)
        _check_positive("lr_gamma", self.lr_gamma)
        _check_at_least("momentum", self.momentum, 0.0)
        _check_at_least("weight_decay", self.weight_decay, 0.0)
        _check_at_least("lr_min", self.lr_min, 0.0)
        _check_at_least("min_delta", self.min_delta, 0.0)
        if self.lr_schedule == "plateau" and self.lr_gamma >= 1:
            raise ValueError(
                f"TrainConfig.lr_gamma must be < 1 with lr_schedule='plateau' (it multiplies the "
                f"learning rate when progress stalls), got {self.lr_gamma!r}"
            )
        if self.grad_clip is not None:
            _check_positive("grad_clip", self.grad_clip)
        if self.patience is not None:
            _check_int("patience", self.patience, 1)
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ValueError(f"TrainConfig.monitor must be a metric name, got {self.monitor!r}")
        if self.out is not None and not isinstance(self.out, (str, os.PathLike)):
            raise TypeError(f"TrainConfig.out must be a directory path (str or pathlib.Path) or None, got "
                            f"{type(self.out).__name__} {self.out!r}")
        if self.resume and self.out is None:
            raise ValueError(
                "TrainConfig.resume=True needs out=<directory of the run to continue> "
                "(the --out of the previous run, which holds checkpoint.pt)"
            )

    def to_dict(self) -> Dict[str, Any]:
        """Returns the settings as a dict of plain values (``out`` as a string).

        Returns:
            A dict that ``torch.load(..., weights_only=True)`` and JSON can hold.
        """
        values = dataclasses.asdict(self)
        if values["out"] is not None:
            values["out"] = os.fspath(values["out"])
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        """Builds a config from :meth:`to_dict`'s output (e.g. a checkpoint's ``config``).

        Args:
            values: setting name -> value.

        Returns:
            The config.

        Raises:
            ValueError: if ``values`` names a setting that does not exist.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown TrainConfig settings {unknown}; known ones are {sorted(known)}"
            )
        return cls(**dict(values))


def _plain_number(value: Any) -> Any:
    """A numpy scalar (``np.int64``, ``np.float32``) as the Python number it holds; anything else unchanged."""
    if isinstance(value, numbers.Number) and not isinstance(value, (bool, int, float)) and hasattr(value, "item"):
        return value.item()
    return value


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"TrainConfig.{name} must be one of {list(choices)}, got {value!r}")


def _check_at_least(name: str, value: Any, low: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < math.inf:
        raise ValueError(f"TrainConfig.{name} must be a finite number >= {low}, got {value!r}")


def _check_int(name: str, value: Any, low: int) -> None:
    if not is_int(value) or value < low:
        raise ValueError(f"TrainConfig.{name} must be an integer >= {low}, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"TrainConfig.{name} must be a finite number > 0, got {value!r}")
