"""Loss and metric functions for the Trainer, shared by the classification-style experiments."""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import torch
from torch import Tensor, nn

__all__ = ["classification_objectives"]

LogitsFn = Callable[[nn.Module, object], Tensor]


def classification_objectives(logits_fn: LogitsFn) -> Tuple[Callable, Callable]:
    """``(loss_fn, metrics_fn)`` for targets ``batch.y`` and logits ``logits_fn(model, batch)``.

    ``loss_fn`` is the mean cross-entropy; ``metrics_fn`` returns the summed cross-entropy
    (``loss``), the number of correct predictions (``accuracy``) and ``count``, as
    :class:`~graphrnn.training.Trainer` expects.
    """

    def loss_fn(model: nn.Module, batch) -> Tensor:
        return nn.functional.cross_entropy(logits_fn(model, batch), batch.y)

    def metrics_fn(model: nn.Module, batch) -> Dict[str, Tensor]:
        logits = logits_fn(model, batch)
        return {"loss": nn.functional.cross_entropy(logits, batch.y, reduction="sum"),
                "accuracy": (logits.argmax(-1) == batch.y).sum().float(),
                "count": torch.tensor(float(batch.y.numel()))}

    return loss_fn, metrics_fn
