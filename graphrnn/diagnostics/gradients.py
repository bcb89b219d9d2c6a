r"""How far back gradients reach: :math:`\|\partial L_T / \partial \mathbf{h}_t\|` against the lag :math:`T - t`."""
from __future__ import annotations

from typing import Callable, List, Optional

import torch
from torch import Tensor, nn

from graphrnn.nn.cells import cell_name

__all__ = ["unroll", "gradient_norms_through_time"]


def unroll(cell: nn.RNNCellBase, x: Tensor, state: Optional[tuple] = None) -> List[Tensor]:
    """Runs ``cell`` step by step over one sequence ``x`` [T, D]; returns every hidden state [H].

    Each returned :math:`\\mathbf{h}_t` is a node of the autograd graph through which the
    later states were computed, so its gradient is the full
    :math:`\\partial L / \\partial \\mathbf{h}_t` (direct and through the recurrence).
    """
    lstm = cell_name(cell) == "lstm"
    if state is None:
        zeros = x.new_zeros(1, cell.hidden_size)
        state = (zeros, zeros) if lstm else (zeros,)
    hidden = []
    for t in range(x.size(0)):
        out = cell(x[t:t + 1], state if lstm else state[0])
        state = out if lstm else (out,)
        state[0].retain_grad()
        hidden.append(state[0])
    return hidden


def gradient_norms_through_time(cell: nn.RNNCellBase, x: Tensor,
                                loss_fn: Optional[Callable[[Tensor], Tensor]] = None,
                                wrt: str = "hidden") -> Tensor:
    r"""Norms :math:`\|\partial L_T / \partial \mathbf{h}_t\|_2` (or :math:`\partial L_T / \partial \mathbf{x}_t`).

    Args:
        cell: the recurrent cell (e.g. ``ChainRNN(...).cell``).
        x: one input sequence ``[T, D]``.
        loss_fn: the loss of the final hidden state, :math:`L_T = \ell(\mathbf{h}_T)`
            (default: the sum of its entries).
        wrt: ``"hidden"`` for :math:`\mathbf{h}_t`, or ``"input"`` for :math:`\mathbf{x}_t`:
            how much the input at step :math:`t` can still change the loss at :math:`T`,
            comparable across cells (an LSTM carries memory in its cell state
            :math:`C_t`, which :math:`\partial / \partial \mathbf{h}_t` does not see).

    Returns:
        ``[T]``; entry ``T - 1 - k`` is the norm at lag :math:`k`. Vanishing gradients show
        as norms falling geometrically with the lag.
    """
    if x.dim() != 2 or x.size(0) < 1 or x.size(1) != cell.input_size:
        raise ValueError(f"x must be one sequence [T >= 1, D] with D={cell.input_size} (the cell's input size), "
                         f"got {list(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x has a NaN or inf value; every gradient norm would be NaN")
    if wrt not in ("hidden", "input"):
        raise ValueError(f"wrt must be 'hidden' or 'input', got {wrt!r}")
    x = x.detach().clone().requires_grad_(wrt == "input")
    hidden = unroll(cell, x)
    loss = (loss_fn or torch.sum)(hidden[-1])
    loss.backward()
    if wrt == "input":
        return x.grad.norm(dim=1).detach()
    return torch.stack([h.grad.norm() for h in hidden]).detach()
