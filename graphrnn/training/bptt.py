r"""Backpropagation through time over long sequences: full and truncated (k1, k2).

Truncated BPTT (Williams & Peng 1990; the TBPTT(:math:`k_1, k_2`) of Sutskever 2013):
every :math:`k_1` steps, run the model over the last :math:`k_2` steps starting from the
(detached) state reached :math:`k_2` steps ago, put the loss on the :math:`k_1` new
outputs, backpropagate (through at most :math:`k_2` steps) and update. A last, shorter
window (when :math:`k_1` does not divide :math:`T`) puts the loss on its remaining steps. With
:math:`k_1 = k_2 = T` it is full BPTT.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import torch
from torch import Tensor, nn

from graphrnn.counts import is_int
from graphrnn.data import chain_edge_index

from .trainer import NonFiniteError

__all__ = ["truncated_bptt", "ChainRNNStep"]

State = Tuple[Tensor, ...]
StepFn = Callable[[Tensor, Optional[State]], Tuple[Tensor, State]]


def _detach(state: Optional[State]) -> Optional[State]:
    return None if state is None else tuple(s.detach() for s in state)


def truncated_bptt(step: StepFn, x: Tensor, targets: Tensor, loss_fn: Callable[[Tensor, Tensor], Tensor],
                   optimizer: torch.optim.Optimizer, k1: int, k2: Optional[int] = None,
                   parameters=None, max_grad_norm: Optional[float] = None,
                   initial_state: Optional[State] = None) -> List[float]:
    r"""Trains on one long (batch of) sequence(s) with TBPTT(:math:`k_1, k_2`).

    Args:
        step: ``step(x_segment [L, ...], state) -> (outputs [L, ...], final_state)``; runs
            the model over consecutive steps from ``state`` (``None``: the zero state).
        x: inputs ``[T, ...]`` (time first).
        targets: ``[T, ...]``, one per step.
        loss_fn: ``loss_fn(outputs, targets)`` on the :math:`k_1` newest steps (a mean).
        optimizer: updated once per window.
        k1: steps between updates (:math:`\ge 1`).
        k2: steps backpropagated through (default :math:`k_1`); a multiple of :math:`k_1`.
        parameters: what ``max_grad_norm`` clips (default: the optimizer's parameters).
        max_grad_norm: clip the gradient norm before each update (``None``: no clipping).
        initial_state: state before step 0.

    Returns:
        the loss of every update.

    Raises:
        NonFiniteError: (a ``ValueError``) when a window's loss is NaN or infinite, before its update.
    """
    k2 = k1 if k2 is None else k2
    if any(not is_int(k) for k in (k1, k2)):
        raise ValueError(f"k1 and k2 must be integers (steps), got k1={k1!r}, k2={k2!r}")
    if max_grad_norm is not None and not 0 < max_grad_norm < float("inf"):
        # clip_grad_norm_ with a negative norm multiplies every gradient by a negative factor: ascent, silently
        raise ValueError(f"max_grad_norm must be a finite number > 0 (or None for no clipping), got {max_grad_norm!r}")
    if not isinstance(x, Tensor) or x.dim() == 0:
        raise ValueError(f"x must be a tensor [T, ...] (time first), got {getattr(x, 'shape', type(x).__name__)}")
    steps = x.size(0)
    if k1 < 1 or k2 < k1 or k2 % k1 != 0:
        raise ValueError(f"need 1 <= k1 <= k2 with k2 a multiple of k1, got k1={k1}, k2={k2}")
    if targets.size(0) != steps:
        raise ValueError(f"targets have {targets.size(0)} steps but x has {steps}")
    if parameters is None:
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
    boundary_states = {0: _detach(initial_state)}  # detached state at multiples of k1
    losses = []
    for boundary in range(0, steps, k1):
        end = min(boundary + k1, steps)
        start = max(0, boundary - (k2 - k1))
        outputs, final = step(x[start:end], boundary_states[start])
        loss = loss_fn(outputs[boundary - start:], targets[boundary:end])
        if not bool(torch.isfinite(loss.detach()).all()):  # a step on it would write NaN into every weight
            raise NonFiniteError(f"the loss of the window at steps {boundary}..{end - 1} is {float(loss.detach())}; "
                                 "nothing was updated for it. Check the inputs and targets of those steps (NaN?), or "
                                 "lower the learning rate / clip gradients with max_grad_norm")
        optimizer.zero_grad()
        loss.backward()
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(parameters, max_grad_norm)
        optimizer.step()
        boundary_states[end] = _detach(final)
        next_start = max(0, end - (k2 - k1))
        boundary_states = {b: s for b, s in boundary_states.items() if b >= next_start}
        losses.append(float(loss.detach()))
    return losses


class ChainRNNStep:
    """A :data:`StepFn` for a :class:`~graphrnn.nn.ChainRNN` and a head over a batch of chains.

    ``x_segment`` is ``[L, B, D]``; it becomes ``B`` chains of ``L`` nodes, run with the
    given initial state on their first nodes. Returns head outputs ``[L, B, C]`` and the
    state ``(h, c)`` or ``(h,)`` of the last nodes, ``[B, H]`` each.
    """

    def __init__(self, layer: nn.Module, head: nn.Module) -> None:
        self.layer, self.head = layer, head

    def __call__(self, x_segment: Tensor, state: Optional[State]) -> Tuple[Tensor, State]:
        length, batch = x_segment.shape[:2]
        nodes = x_segment.transpose(0, 1).reshape(length * batch, -1)  # chain-major node order
        offsets = torch.arange(batch, device=nodes.device).repeat_interleave(max(length - 1, 0)) * length
        edge_index = chain_edge_index(length, device=nodes.device).repeat(1, batch) + offsets
        initial = None
        if state is not None:
            if not isinstance(state, tuple) or not all(isinstance(s, Tensor) and s.dim() == 2 and s.size(0) == batch
                                                       for s in state):
                got = [list(s.shape) if isinstance(s, Tensor) else type(s).__name__ for s in state] \
                    if isinstance(state, tuple) else type(state).__name__
                raise ValueError(f"state must be a tuple (h,) or (h, c) of [B={batch}, H] tensors (as this step "
                                 f"returns it), got {got}")
            roots = torch.arange(batch, device=nodes.device) * length
            initial = tuple(s.new_zeros(length * batch, s.size(1)).index_copy(0, roots, s) for s in state)
            initial = initial if len(initial) == 2 else initial[0]
        out = self.layer(nodes, edge_index, initial_state=initial, return_state=True)
        out = out if isinstance(out, tuple) else (out,)
        last = torch.arange(1, batch + 1, device=nodes.device) * length - 1
        outputs = self.head(out[0]).view(batch, length, -1).transpose(0, 1)
        return outputs, tuple(s.index_select(0, last) for s in out)
