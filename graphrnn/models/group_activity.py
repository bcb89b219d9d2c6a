r"""Group activity recognition: the unary MLP baseline and the loss/metrics of scene + action labels.

Models here and :class:`~graphrnn.nn.StructureInferenceMachine` share one output format:
a list with one ``(action_logits [P, A], activity_logits [B, C])`` pair per iteration
(the MLP has a single "iteration"), on PyG batches of :func:`~graphrnn.data.scene_graph`.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor, nn

from graphrnn.nn.one_line_repr import OneLineRepr
from graphrnn.nn.sim import SceneOutputs, SceneUnary, _scene_fields

__all__ = ["UnaryMLP", "check_scene_labels", "group_activity_loss", "group_activity_metrics"]


class UnaryMLP(OneLineRepr, nn.Module):
    r"""Per-person and per-scene MLP on unary features only (no relations): the baseline.

    .. math::
        \mathbf{c}_i = \mathbf{U}_{\tau_i} f(\mathbf{W}_{\tau_i} \mathbf{x}_i + \mathbf{b}_{\tau_i})
            + \mathbf{u}_{\tau_i},

    one hidden layer per node type :math:`\tau_i` — exactly the SIM's unary predictions
    :math:`\mathbf{c}^{(0)}` (:class:`~graphrnn.nn.SceneUnary`), without message passing.

    Args:
        person_channels (int): person features :math:`F_p`.
        scene_channels (int): scene features :math:`F_s`.
        hidden_channels (int): hidden size :math:`H`.
        num_actions (int): person classes :math:`A`.
        num_activities (int): scene classes :math:`C`.
        activation (str): ``"relu"`` or ``"tanh"``. (default: ``"relu"``)

    Shapes:
        - **input:** a batch of scene graphs (``person_x`` :math:`(P, F_p)`, ``scene_x`` :math:`(B, F_s)`).
        - **output:** ``[(action_logits (P, A), activity_logits (B, C))]`` (one entry).
    """

    def __init__(self, person_channels: int, scene_channels: int, hidden_channels: int, num_actions: int,
                 num_activities: int, activation: str = "relu") -> None:
        super().__init__()
        self.unary = SceneUnary(person_channels, scene_channels, hidden_channels, num_actions, num_activities,
                                activation)
        self._settings = (f"{person_channels}, {scene_channels}, {hidden_channels}, num_actions={num_actions}, "
                          f"num_activities={num_activities}, activation={activation!r}")

    def extra_repr(self) -> str:
        return self._settings

    def reset_parameters(self) -> None:
        self.unary.reset_parameters()

    def forward(self, batch) -> List[SceneOutputs]:
        person_x, scene_x = _scene_fields(batch)[:2]
        _, _, actions, activities = self.unary(person_x, scene_x)
        return [(actions, activities)]


def check_scene_labels(outputs: Sequence[SceneOutputs], batch) -> None:
    """Raises ``ValueError`` when ``person_y`` / ``scene_y`` are missing or out of the models' class ranges."""
    actions, activities = outputs[-1]
    for name, logits in (("person_y", actions), ("scene_y", activities)):
        labels = getattr(batch, name, None)
        if labels is None:
            raise ValueError(f"the batch has no {name}: build the scenes with scene_graph(..., person_y=..., "
                             "scene_y=...) to train or evaluate")
        if labels.numel() != logits.size(0):
            raise ValueError(f"{name} has {labels.numel()} labels for {logits.size(0)} predictions")
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= logits.size(1)):
            raise ValueError(f"{name} must lie in [0, {logits.size(1)}) (the model's number of classes), got values "
                             f"in [{int(labels.min())}, {int(labels.max())}]; build the model with enough classes")


def group_activity_loss(outputs: Sequence[SceneOutputs], batch, action_weight: float = 1.0,
                        activity_weight: float = 1.0, iteration_weights: Optional[Sequence[float]] = None) -> Tensor:
    r"""Cross-entropy of every iteration's predictions, persons and scenes:

    .. math::
        L = \sum_t w_t \big(\lambda_a \operatorname{CE}(\mathbf{c}^{(t)}_{\text{persons}}, y_{\text{person}})
            + \lambda_s \operatorname{CE}(\mathbf{c}^{(t)}_{\text{scenes}}, y_{\text{scene}})\big),

    each cross-entropy a mean over its persons or scenes.

    Args:
        outputs: the model's list of ``(action_logits, activity_logits)`` per iteration.
        batch: the batch with ``person_y`` ``[P]`` and ``scene_y`` ``[B]``.
        action_weight (float): :math:`\lambda_a`. (default: ``1``)
        activity_weight (float): :math:`\lambda_s`. (default: ``1``)
        iteration_weights (sequence of float, optional): :math:`w_t`, one per iteration
            (default: all ``1``).

    Raises:
        ValueError: for missing or out-of-range labels, or a wrong number of iteration weights.
    """
    check_scene_labels(outputs, batch)
    weights = [1.0] * len(outputs) if iteration_weights is None else list(iteration_weights)
    if len(weights) != len(outputs):
        raise ValueError(f"iteration_weights has {len(weights)} entries for {len(outputs)} iterations; give one "
                         "weight per iteration")
    total = 0.0
    for weight, (actions, activities) in zip(weights, outputs):
        total = total + weight * (action_weight * nn.functional.cross_entropy(actions, batch.person_y)
                                  + activity_weight * nn.functional.cross_entropy(activities, batch.scene_y))
    return total


def group_activity_metrics(outputs: Sequence[SceneOutputs], batch) -> Dict[str, Tensor]:
    """Sums over the batch for :class:`~graphrnn.training.Trainer` (last iteration's predictions).

    Returns ``loss`` (summed scene + action cross-entropy of the last iteration, per scene),
    ``scene_accuracy`` (correct scenes), ``action_hits`` (correct persons), ``persons`` and
    ``count`` (scenes). The Trainer divides every sum by ``count``: ``scene_accuracy`` becomes
    the scene accuracy, and ``action_hits / persons`` the per-person action accuracy.
    """
    check_scene_labels(outputs, batch)
    actions, activities = outputs[-1]
    loss = (nn.functional.cross_entropy(activities, batch.scene_y, reduction="sum")
            + nn.functional.cross_entropy(actions, batch.person_y, reduction="sum") * activities.size(0)
            / max(actions.size(0), 1))
    return {"loss": loss,
            "scene_accuracy": (activities.argmax(-1) == batch.scene_y).sum().float(),
            "action_hits": (actions.argmax(-1) == batch.person_y).sum().float(),
            "persons": torch.tensor(float(actions.size(0))),
            "count": torch.tensor(float(activities.size(0)))}
