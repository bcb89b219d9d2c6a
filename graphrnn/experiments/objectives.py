"""Loss and metric functions for the Trainer, shared by the classification-style experiments."""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import torch
from torch import Tensor, nn

__all__ = ["classification_objectives", "UNSEEN_LABEL"]

#: The target of an evaluation example whose label never occurs in the training data: an index the
#: model never outputs (so its prediction always counts as wrong) and torch's default ``ignore_index``
#: (so the cross-entropy, which would be infinite for it, leaves it out).
UNSEEN_LABEL = -100

LogitsFn = Callable[[nn.Module, object], Tensor]


def classification_objectives(logits_fn: LogitsFn) -> Tuple[Callable, Callable]:
    """``(loss_fn, metrics_fn)`` for targets ``batch.y`` and logits ``logits_fn(model, batch)``.

    ``loss_fn`` is the mean cross-entropy; ``metrics_fn`` returns the summed cross-entropy
    (``loss``), the number of correct predictions (``accuracy``) and ``count``, as
    :class:`~graphrnn.training.Trainer` expects.

    A target :data:`UNSEEN_LABEL` (a validation or test example whose label the training data
    lacks) is still counted in ``count`` and, never predicted, scores as wrong in ``accuracy``;
    the cross-entropy leaves it out (it would be infinite), so ``loss / count`` is then a lower
    bound of the loss over every example.
    """

    def loss_fn(model: nn.Module, batch) -> Tensor:
        return nn.functional.cross_entropy(logits_fn(model, batch), batch.y, ignore_index=UNSEEN_LABEL)

    def metrics_fn(model: nn.Module, batch) -> Dict[str, Tensor]:
        logits = logits_fn(model, batch)
        return {"loss": nn.functional.cross_entropy(logits, batch.y, ignore_index=UNSEEN_LABEL, reduction="sum"),
                "accuracy": (logits.argmax(-1) == batch.y).sum().float(),
                "count": torch.tensor(float(batch.y.numel()))}

    return loss_fn, metrics_fn
