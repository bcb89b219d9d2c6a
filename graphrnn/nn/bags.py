r"""Weighted sums of table rows along edges ("bags"), with the index structure built once per graph.

For edges :math:`e = (s_e \to t_e)` with weights :math:`w_e`, :func:`bag_sum` computes

.. math::
    \mathbf{y}_t = \sum_{e:\, t_e = t} w_e \, \mathbf{x}_{s_e}

without materialising the :math:`E` weighted rows: one ``torch.nn.functional.embedding_bag``
over the edges sorted by target. Its backward is another ``embedding_bag``, over the edges
sorted by source (:math:`\partial \mathbf{x}_s = \sum_{e:\, s_e = s} w_e \, \partial \mathbf{y}_{t_e}`),
and a row-wise dot product for the weights (:math:`\partial w_e = \partial \mathbf{y}_{t_e} \cdot
\mathbf{x}_{s_e}`). torch's own backward of ``embedding_bag`` sorts the indices on every call;
here both orders come from :func:`edge_bags`, built once with the graph's plan.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["EdgeBags", "edge_bags", "bag_sum"]


class EdgeBags(NamedTuple):
    """The edges of one relation as bags per target row, and as bags per source row (the transpose).

    Attributes:
        sources: ``[E]`` source row of every edge; edges are sorted by target row.
        targets: ``[E]`` target row of every edge (non-decreasing).
        offsets: ``[num_targets]`` where each target row's bag starts (an empty bag for a row without edges).
        degrees: ``[E]`` number of edges into each edge's target (at least 1; the mean's divisor).
        by_source: ``[E]`` edge positions sorted by source row (stable).
        source_targets: ``[E]`` target row of every edge in ``by_source`` order.
        source_offsets: ``[num_sources]`` where each source row's bag starts in ``by_source``.
    """

    sources: Tensor
    targets: Tensor
    offsets: Tensor
    degrees: Tensor
    by_source: Tensor
    source_targets: Tensor
    source_offsets: Tensor

    def to(self, device, non_blocking: bool = False) -> "EdgeBags":
        return EdgeBags(*(t.to(device, non_blocking=non_blocking) for t in self))


def edge_bags(source_rows: Tensor, target_rows: Tensor, num_sources: int, num_targets: int) -> EdgeBags:
    """:class:`EdgeBags` of edges ``source_rows[e] -> target_rows[e]`` already sorted by target row (CPU).

    Raises:
        ValueError: if the rows are not two ``[E]`` integer tensors, a row lies outside
            ``[0, num_sources)`` / ``[0, num_targets)``, or the edges are not sorted by target row.
    """
    for name, count in (("num_sources", num_sources), ("num_targets", num_targets)):
        if not is_int(count) or count < 0:
            raise ValueError(f"edge_bags: {name} must be an int >= 0 (the rows of the table or output), got {count!r}")
    for name, rows, bound in (("source_rows", source_rows, num_sources), ("target_rows", target_rows, num_targets)):
        if not isinstance(rows, Tensor) or rows.dim() != 1 or rows.is_floating_point() or rows.dtype == torch.bool:
            raise ValueError(f"{name} must be a 1-d integer tensor, got "
                             f"{rows.dtype if isinstance(rows, Tensor) else type(rows).__name__}")
        if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= bound):
            raise ValueError(f"{name} must lie in [0, {bound}), got values in [{int(rows.min())}, {int(rows.max())}]")
    if source_rows.numel() != target_rows.numel():
        raise ValueError(f"source_rows and target_rows must have one entry per edge, got {source_rows.numel()} "
                         f"and {target_rows.numel()}")
    source_rows, target_rows = source_rows.long(), target_rows.long()
    if target_rows.numel() > 1 and bool((target_rows[1:] < target_rows[:-1]).any()):
        raise ValueError("edge_bags needs the edges sorted by target row")
    per_target = torch.bincount(target_rows, minlength=num_targets)
    per_source = torch.bincount(source_rows, minlength=num_sources)
    by_source = torch.sort(source_rows, stable=True).indices
    return EdgeBags(sources=source_rows, targets=target_rows, offsets=per_target.cumsum(0) - per_target,
                    degrees=per_target.clamp(min=1).index_select(0, target_rows), by_source=by_source,
                    source_targets=target_rows.index_select(0, by_source),
                    source_offsets=per_source.cumsum(0) - per_source)


def bag_sum(table: Tensor, bags: EdgeBags, weights: Tensor) -> Tensor:
    r"""``[num_targets, F]``: :math:`\mathbf{y}_t = \sum_{e:\, t_e = t} w_e \mathbf{x}_{s_e}` of ``table``
    ``[num_sources, F]`` with per-edge ``weights`` ``[E]`` (0 for a target without edges).
    Differentiable in ``table`` and ``weights``, to any order (a backward that builds a graph,
    ``create_graph=True``, uses plain differentiable operators).

    Raises:
        TypeError: if ``bags`` is not an :class:`EdgeBags`, ``table`` is not floating point, or ``weights`` has
            another dtype than ``table``.
        ValueError: if ``table`` does not have one row per source row of ``bags``, ``weights``
            one entry per edge, or the three are not on one device (metadata only: no host-device sync).
    """
    if not isinstance(bags, EdgeBags):
        raise TypeError(f"bags must be an EdgeBags from graphrnn.nn.bags.edge_bags, got {type(bags).__name__}")
    if not isinstance(table, Tensor) or table.dim() != 2 or table.size(0) != bags.source_offsets.numel():
        raise ValueError(f"table must have shape [num_sources={bags.source_offsets.numel()}, F], got "
                         f"{list(table.shape) if isinstance(table, Tensor) else type(table).__name__}")
    if not isinstance(weights, Tensor) or weights.shape != bags.sources.shape:
        raise ValueError(f"weights must have shape [E]={list(bags.sources.shape)}, got "
                         f"{list(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__}")
    if not table.is_floating_point() or weights.dtype != table.dtype:
        raise TypeError(f"table must be floating point and weights of its dtype, got {table.dtype} and "
                        f"{weights.dtype}; convert with weights.to(table.dtype)")
    for name, tensor in (("weights", weights), ("bags", bags.sources)):
        if tensor.device != table.device:
            raise ValueError(f"{name} is on {tensor.device} but table is on {table.device}; move them to one device "
                             "(bags.to(device) moves the bags)")
    return _BagSum.apply(table, weights, bags)


def _weighted_bags(table: Tensor, index: Tensor, offsets: Tensor, weights: Tensor) -> Tensor:
    return torch.nn.functional.embedding_bag(index, table, offsets, mode="sum", per_sample_weights=weights)


def _dot_per_edge(grad: Tensor, table: Tensor, bags: EdgeBags) -> Tensor:
    r""":math:`\partial \mathbf{y}_{t_e} \cdot \mathbf{x}_{s_e}` of every edge, read in place: torch's kernel for
    ``embedding_bag``'s per-sample weights (a bag is a target row, so ``offset2bag`` is ``targets``)."""
    return torch.ops.aten._embedding_bag_per_sample_weights_backward(
        grad, table, bags.sources, bags.offsets, bags.targets, 0)  # mode 0: sum


class _BagSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, table: Tensor, weights: Tensor, bags: EdgeBags) -> Tensor:
        ctx.bags = bags
        ctx.save_for_backward(table, weights)
        return _weighted_bags(table, bags.sources, bags.offsets, weights)

    @staticmethod
    def backward(ctx, grad: Tensor):
        table, weights = ctx.saved_tensors
        bags: EdgeBags = ctx.bags
        if torch.is_grad_enabled():  # create_graph=True: differentiable operators, for higher derivatives
            return (*_differentiable_grads(grad, table, weights, bags, ctx.needs_input_grad), None)
        grad_table: Optional[Tensor] = None
        grad_weights: Optional[Tensor] = None
        if ctx.needs_input_grad[0]:
            grad_table = _weighted_bags(grad, bags.source_targets, bags.source_offsets,
                                        weights.index_select(0, bags.by_source))
        if ctx.needs_input_grad[1]:
            grad_weights = _dot_per_edge(grad, table, bags)
        return grad_table, grad_weights, None


def _differentiable_grads(grad: Tensor, table: Tensor, weights: Tensor, bags: EdgeBags, needed):
    """The two gradients with gather / index_add / mul (each edge's row materialised), which autograd
    differentiates again."""
    per_edge = grad.index_select(0, bags.targets)
    grad_table = grad_weights = None
    if needed[0]:
        grad_table = table.new_zeros(table.shape).index_add(0, bags.sources, per_edge * weights.unsqueeze(-1))
    if needed[1]:
        grad_weights = (per_edge * table.index_select(0, bags.sources)).sum(-1)
    return grad_table, grad_weights
