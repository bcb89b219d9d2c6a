r"""One flat, level-major state buffer for a topological pass, with autograd through it.

A pass writes the states of level :math:`l` into rows ``level_ptr[l]:level_ptr[l+1]`` of one
buffer and reads the predecessors of the next level with a single ``index_select`` from it,
whatever levels they sit on. Written naively (slice assignment into a tensor that autograd
tracks), every write would make the backward pass clone the whole buffer's gradient:
:math:`O(N H)` per level. Here the buffer is outside autograd and two small functions carry
the gradient instead:

- :class:`_Write` copies a level's states into the buffer and returns an empty *token*;
  its backward hands the level's rows of one shared gradient buffer to the cell that made
  the states;
- :class:`_Gather` reads rows of the buffer and takes the tokens of the levels it reads as
  inputs, so autograd runs every gather's backward (which adds into the gradient buffer)
  before the write of any level it read from.

Forward and backward each touch :math:`O((N + E) H)` numbers in all, with one gather and
one write per level. A gather can also sum the rows it reads into *bags* (the predecessors
of each node of a level), with one ``embedding_bag`` instead of a gather, a zero tensor and a
scatter, and without materialising a row per edge.

The backward adds into the gradient buffer in place, so a pass is differentiable once: a
second-order gradient (``create_graph=True`` and a second ``backward``) raises torch's
``once_differentiable`` error.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["LevelStore", "ListLevelStore", "level_store"]


class LevelStore:
    """The buffers of one pass: ``values`` (forward) and ``grads`` (backward), one per state tensor."""

    def __init__(self, level_ptr: Sequence[int]) -> None:
        self.level_ptr = level_ptr
        self.values: Optional[List[Tensor]] = None
        self.grads: Optional[List[Tensor]] = None
        self.tokens: List[Optional[Tensor]] = [None] * (len(level_ptr) - 1)

    def write(self, level: int, states: Tuple[Tensor, ...]) -> None:
        """Stores the states of ``level`` (in level-major row order)."""
        if self.values is None:
            total = self.level_ptr[-1]
            sizes = [b - a for a, b in zip(self.level_ptr[:-1], self.level_ptr[1:])]
            self.values = [s.new_empty((total, *s.shape[1:])) for s in states]
            self.level_views = [buffer.split(sizes) for buffer in self.values]
        self.tokens[level] = _Write.apply(self, level, *states)

    def gather(self, index: Tensor, levels: Sequence[int], final: bool = False,
               bags: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, ...]:
        """Rows ``index`` (level-major positions on ``levels``) of every state tensor.

        With ``bags=(offsets, bag_of_row)`` the rows are summed per bag instead: ``offsets``
        (``[B]``, non-decreasing) says where each bag starts among the rows, ``bag_of_row``
        (``[len(index)]``) is the bag of every row (sorted); the result has ``B`` rows, zero
        for an empty bag."""
        tokens = [self.tokens[level] for level in levels if self.tokens[level] is not None]
        return _Gather.apply(self, index, final, bags, *tokens)


class ListLevelStore:
    """The same interface in plain tensor operations, for ``torch.compile`` (which traces them
    and plans the memory itself): a level's states are kept as they are, and a gather reads
    from the concatenation of the levels it spans."""

    def __init__(self, level_ptr: Sequence[int]) -> None:
        self.level_ptr = level_ptr
        self.levels: List[Optional[Tuple[Tensor, ...]]] = [None] * (len(level_ptr) - 1)

    def write(self, level: int, states: Tuple[Tensor, ...]) -> None:
        self.levels[level] = tuple(states)

    def gather(self, index: Tensor, levels: Sequence[int], final: bool = False,
               bags: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, ...]:
        levels = list(levels)
        first, last = min(levels), max(levels)
        spanned = [self.levels[level] for level in range(first, last + 1)]
        parts = spanned[0] if len(spanned) == 1 else tuple(torch.cat(p, 0) for p in zip(*spanned))
        local = index - self.level_ptr[first] if self.level_ptr[first] else index
        rows = tuple(p.index_select(0, local) for p in parts)
        if bags is None:
            return rows
        offsets, bag_of_row = bags
        return tuple(_sum_per_bag(r, bag_of_row, offsets.numel()) for r in rows)


def level_store(level_ptr: Sequence[int]):
    """:class:`LevelStore` in eager mode, :class:`ListLevelStore` under ``torch.compile``."""
    return ListLevelStore(level_ptr) if torch.compiler.is_compiling() else LevelStore(level_ptr)


class _Write(torch.autograd.Function):
    @staticmethod
    def forward(ctx, store: LevelStore, level: int, *states: Tensor) -> Tensor:
        for views, state in zip(store.level_views, states):
            views[level].copy_(state)
        ctx.store, ctx.rows = store, (store.level_ptr[level], store.level_ptr[level + 1])
        return torch.empty(0, dtype=states[0].dtype, device=states[0].device)

    @staticmethod
    @once_differentiable
    def backward(ctx, _token_grad: Tensor):
        store, (start, end) = ctx.store, ctx.rows
        if store.grads is None:
            return (None, None) + (None,) * len(store.values)
        return (None, None) + tuple(grad[start:end] for grad in store.grads)


_BAG_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _bag_sum(buffer: Tensor, index: Tensor, offsets: Tensor, bag_of_row: Tensor) -> Tensor:
    """Rows ``index`` of ``buffer`` summed per bag: one ``embedding_bag`` (mode 0, the sum; an empty
    bag gives a zero row) for floating states, viewed as a 2-D table; other states (integer
    counts, complex numbers) are gathered and added with ``index_add_``."""
    width = math.prod(buffer.shape[1:])
    if buffer.dtype not in _BAG_DTYPES or width == 0:
        return _sum_per_bag(buffer.index_select(0, index), bag_of_row, offsets.numel())
    flat = buffer.dim() == 2  # the usual [N, width] buffer needs no view either way (two aten events a level)
    table = buffer if flat else buffer.view(buffer.size(0), width)
    summed = torch.ops.aten._embedding_bag_forward_only(table, index, offsets, False, 0)[0]
    return summed if flat else summed.view(offsets.numel(), *buffer.shape[1:])


def _sum_per_bag(rows: Tensor, bag_of_row: Tensor, num_bags: int) -> Tensor:
    """``rows`` added up by ``bag_of_row`` into ``num_bags`` rows (zero for an empty bag)."""
    return rows.new_zeros((num_bags, *rows.shape[1:])).index_add_(0, bag_of_row, rows)


class _Gather(torch.autograd.Function):
    @staticmethod
    def forward(ctx, store: LevelStore, index: Tensor, final: bool, bags: Optional[Tuple[Tensor, Tensor]],
                *tokens: Tensor) -> Tuple[Tensor, ...]:
        ctx.store, ctx.final, ctx.num_tokens = store, final, len(tokens)
        ctx.save_for_backward(index, *(bags[1:] if bags is not None else ()))
        if tokens:
            ctx.token_like = tokens[0]
        if bags is None:
            return tuple(buffer.index_select(0, index) for buffer in store.values)
        return tuple(_bag_sum(buffer, index, *bags) for buffer in store.values)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads: Optional[Tensor]):
        store = ctx.store
        index, *bag_of_row = ctx.saved_tensors
        if ctx.final or store.grads is None:  # the final read runs first in every backward pass
            store.grads = [torch.zeros_like(buffer) for buffer in store.values]
        for grad_buffer, grad in zip(store.grads, grads):
            if grad is not None:
                grad_buffer.index_add_(0, index, grad.index_select(0, bag_of_row[0]) if bag_of_row else grad)
        no_grad = ctx.token_like.new_zeros(0) if ctx.num_tokens else None
        return (None, None, None, None) + (no_grad,) * ctx.num_tokens
