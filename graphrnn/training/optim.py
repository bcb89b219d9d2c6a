"""Optimizers and learning-rate schedules named by a :class:`TrainConfig`."""
from __future__ import annotations

from typing import Iterable, Optional, Union

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from .config import TrainConfig

__all__ = ["build_optimizer", "build_scheduler", "current_lr", "Scheduler"]

Scheduler = Union[torch.optim.lr_scheduler.LRScheduler, ReduceLROnPlateau]


def build_optimizer(parameters: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """Creates ``config.optimizer`` over ``parameters``.

    Args:
        parameters: the parameters to train.
        config: uses ``optimizer``, ``lr``, ``momentum`` (sgd) and ``weight_decay``.

    Returns:
        The optimizer.

    Raises:
        ValueError: if there are no trainable parameters.
    """
    parameters = [p for p in parameters if p.requires_grad]
    if not parameters:
        raise ValueError("the model has no parameters with requires_grad=True; there is nothing to train")
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Optional[Scheduler]:
    """Creates the per-epoch learning-rate schedule ``config.lr_schedule``.

    Args:
        optimizer: the optimizer whose learning rate is scheduled.
        config: uses ``lr_schedule``, ``lr_step_size``, ``lr_gamma``, ``lr_min``,
            ``lr_patience``, ``epochs`` (cosine period) and ``mode`` (plateau).

    Returns:
        The scheduler, or ``None`` for a constant learning rate.
    """
    if config.lr_schedule == "step":
        return StepLR(optimizer, step_size=config.lr_step_size, gamma=config.lr_gamma)
    if config.lr_schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=max(config.epochs, 1), eta_min=config.lr_min)
    if config.lr_schedule == "plateau":
        return ReduceLROnPlateau(optimizer, mode=config.mode, factor=config.lr_gamma,
                                 patience=config.lr_patience, min_lr=config.lr_min)
    return None


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """Returns the learning rate of the optimizer's first parameter group.

    Args:
        optimizer: the optimizer.

    Returns:
        The learning rate as a float.
    """
    return float(optimizer.param_groups[0]["lr"])
