r"""Attention over a padded memory (encoder states): :class:`Attention`, used by the Seq2Seq and DRNN decoders."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphrnn.nn.one_line_repr import OneLineRepr

__all__ = ["Attention", "KINDS"]

KINDS = ("dot", "mlp")


class Attention(OneLineRepr, nn.Module):
    r"""Context vector of a decoder state over a memory of encoder states.

    .. math::
        s_i = \begin{cases} \mathbf{h}^\top \mathbf{m}_i & \text{dot} \\
              \mathbf{v}^\top \tanh(W_h \mathbf{h} + W_m \mathbf{m}_i + \mathbf{b}) & \text{mlp}
              \end{cases}, \qquad
        \mathbf{c} = \sum_i \mathrm{softmax}_i(s_i)\, \mathbf{m}_i,

    where the softmax runs over the unmasked memory slots only.

    Args:
        kind (str): ``"dot"`` (needs ``memory == hidden``) or ``"mlp"``.
        hidden (int): decoder state size :math:`H`.
        memory (int): memory slot size :math:`M`.

    Shapes:
        - **input:** ``h`` :math:`(B, H)`, ``memory`` :math:`(B, S, M)`, ``mask``
          :math:`(B, S)` (``True`` for real slots; every row needs at least one); or, with
          ``index`` :math:`(B)`, ``memory`` :math:`(K, S, M)` and ``mask`` :math:`(K, S)`
          shared by many queries, query :math:`b` reading memory row ``index[b]`` (the
          ``mlp`` keys are then computed once per memory row, not once per query).
        - **output:** :math:`(B, M)`.
    """

    def __init__(self, kind: str, hidden: int, memory: int) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"attention must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.hidden, self.memory = hidden, memory
        if kind == "dot" and hidden != memory:
            raise ValueError(f"dot attention needs memory width == decoder hidden size, got {memory} and {hidden} "
                             "(bidirectional encoders double the width); use attention='mlp'")
        if kind == "mlp":
            self.query = nn.Linear(hidden, hidden, bias=False)
            self.key = nn.Linear(memory, hidden)
            self.score = nn.Linear(hidden, 1, bias=False)

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, h: Tensor, memory: Tensor, mask: Tensor, index: Optional[Tensor] = None) -> Tensor:
        keys = memory if self.kind == "dot" else self.key(memory)
        if index is not None:
            memory, mask, keys = (t.index_select(0, index) for t in (memory, mask, keys))
        if self.kind == "dot":
            scores = torch.einsum("bh,bsh->bs", h, keys)
        else:
            scores = self.score(torch.tanh(self.query(h).unsqueeze(1) + keys)).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.einsum("bs,bsh->bh", weights, memory)

    def extra_repr(self) -> str:
        return f"{self.kind!r}, {self.hidden}, {self.memory}"
