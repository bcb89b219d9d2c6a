r"""Attention over a padded memory (encoder states): :class:`Attention`, used by the Seq2Seq and DRNN decoders."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphrnn.counts import is_positive_int
from graphrnn.graph.checks import device_assert
from graphrnn.nn.one_line_repr import OneLineRepr
from graphrnn.nn.validation import check_dtype, check_index_device

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
        if not is_positive_int(hidden) or not is_positive_int(memory):
            raise ValueError(f"Attention: hidden and memory must be integers >= 1, got {hidden!r} and {memory!r}")
        hidden, memory = int(hidden), int(memory)
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
        self._check_inputs(h, memory, mask, index)
        keys = memory if self.kind == "dot" else self.key(memory)
        if index is not None:
            memory, mask, keys = (t.index_select(0, index) for t in (memory, mask, keys))
        if self.kind == "dot":
            scores = torch.einsum("bh,bsh->bs", h, keys)
        else:
            scores = self.score(torch.tanh(self.query(h).unsqueeze(1) + keys)).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.einsum("bs,bsh->bh", weights, memory)

    def _check_inputs(self, h: Tensor, memory: Tensor, mask: Tensor, index: Optional[Tensor]) -> None:
        """Shapes and dtypes on the host; index range and a real slot per row with :func:`device_assert`
        (no host-device sync on an accelerator). A row whose mask is all False would get NaN weights, and a
        batch size of 1 on one side would silently broadcast."""
        for name, tensor, dims in (("h", h, 2), ("memory", memory, 3), ("mask", mask, 2)):
            if not isinstance(tensor, Tensor) or tensor.dim() != dims:
                shape = list(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
                raise ValueError(f"Attention: {name} must be a {dims}-d tensor (h [B, {self.hidden}], memory "
                                 f"[B, S, {self.memory}], mask [B, S]), got {shape}")
        for name, tensor in (("memory", memory), ("mask", mask), ("index", index)):
            check_index_device(tensor, h, name, "h")
        if h.size(1) != self.hidden or memory.size(2) != self.memory:
            raise ValueError(f"Attention({self.kind!r}, hidden={self.hidden}, memory={self.memory}) got h of width "
                             f"{h.size(1)} and memory of width {memory.size(2)}")
        if not h.is_floating_point() or memory.dtype != h.dtype:
            raise TypeError(f"Attention: h and memory must be floating point of one dtype, got {h.dtype} and "
                            f"{memory.dtype}")
        if self.kind == "mlp":
            check_dtype(h, self.query.weight, "h", "Attention")
        if mask.dtype != torch.bool or mask.shape != memory.shape[:2]:
            raise ValueError(f"Attention: mask must be a bool tensor of memory's shape [B, S]={list(memory.shape[:2])} "
                             f"(True for real slots), got {mask.dtype} {list(mask.shape)}")
        if index is None:
            if memory.size(0) != h.size(0):
                raise ValueError(f"Attention: memory has {memory.size(0)} rows but h has {h.size(0)}; pass one memory "
                                 "row per query, or index [B] to share memory rows between queries")
        else:
            if not isinstance(index, Tensor) or index.dtype not in (torch.int64, torch.int32) \
                    or index.shape != (h.size(0),):
                shape = f"{index.dtype} {list(index.shape)}" if isinstance(index, Tensor) else type(index).__name__
                raise ValueError(f"Attention: index must be an integer tensor [B]=[{h.size(0)}] (the memory row of "
                                 f"each query), got {shape}")
            if index.numel():
                device_assert(((index >= 0) & (index < memory.size(0))).all(),
                              f"Attention: index holds a memory row outside 0..{memory.size(0) - 1}")
        if mask.size(0):
            device_assert(mask.any(1).all(), "Attention: a row of mask is all False (no real memory slot), which "
                                             "would give NaN weights; every row needs at least one True")

    def extra_repr(self) -> str:
        return f"{self.kind!r}, {self.hidden}, {self.memory}"
