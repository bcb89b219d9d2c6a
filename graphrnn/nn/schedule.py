r"""Execution plans for the recurrent schedules, built once per graph with tensor operations.

A :class:`TopologicalPlan` lays the nodes out level by level ("level-major" order)
and sorts the edges by (target level, source level). A recurrent pass then walks the
levels; at level :math:`l` it reads predecessor states from the per-level outputs it
already has, one ``index_select`` per distinct source level, so the whole pass reads
and writes :math:`O((N + E) H)` numbers and never copies the full state tensor.
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from .levels import check_edge_index, topological_levels

__all__ = ["TopologicalPlan", "build_topological_plan", "check_levels", "check_edge_type"]


class LevelEdges(NamedTuple):
    """Edges into one level, as slices of the sorted edge list."""

    start: int
    end: int
    #: ``(source level, start, end)`` for each run of edges sharing a source level;
    #: inside a run, edges are sorted by their target's position in the level.
    sources: List[Tuple[int, int, int]]
    #: every node of the level has exactly one incoming edge (chains, parent edges).
    one_per_target: bool
    #: every node of the level has at least one incoming edge.
    all_have_predecessor: bool


class TopologicalPlan(NamedTuple):
    """Where every node and edge sits in a level-by-level pass.

    Attributes:
        num_nodes: :math:`N`.
        node_order: ``[N]`` node ids in level-major order (stable within a level).
        node_position: ``[N]`` position of node ``v`` in ``node_order``.
        level_ptr: ``L + 1`` offsets of each level in ``node_order``.
        edge_order: ``[E]`` edge ids sorted by (target level, source level, target).
        local_source: ``[E]`` (sorted) position of each edge's source inside its level.
        local_target: ``[E]`` (sorted) position of each edge's target inside its level.
        level_edges: for each level, the edges that enter it (see :class:`LevelEdges`).
        has_predecessor: ``[N]`` (level-major order) whether a node has an incoming edge.
    """

    num_nodes: int
    node_order: Tensor
    node_position: Tensor
    level_ptr: List[int]
    edge_order: Tensor
    local_source: Tensor
    local_target: Tensor
    level_edges: List[LevelEdges]
    has_predecessor: Tensor

    @property
    def num_levels(self) -> int:
        return len(self.level_ptr) - 1


def check_levels(level: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    """Checks that precomputed ``level`` is a valid schedule for ``edge_index``.

    Any levels with ``level[src] < level[dst]`` on every edge give the same result as
    :func:`topological_levels`; stale or foreign levels raise instead of silently
    computing a wrong answer.
    """
    if not isinstance(level, Tensor) or level.dim() != 1 or level.numel() != num_nodes:
        shape = list(level.shape) if isinstance(level, Tensor) else type(level).__name__
        raise ValueError(
            f"level must be a LongTensor of shape [num_nodes]=[{num_nodes}], got {shape}; "
            "compute it with graphrnn.nn.topological_levels or the TopologicalLevels transform"
        )
    level = level.long()
    if num_nodes > 0 and int(level.min()) < 0:
        raise ValueError("level must be non-negative; recompute it with graphrnn.nn.topological_levels")
    if edge_index.numel() > 0:
        bad = (level[edge_index[0]] >= level[edge_index[1]]).nonzero()
        if bad.numel() > 0:
            e = int(bad[0, 0])
            u, v = int(edge_index[0, e]), int(edge_index[1, e])
            raise ValueError(
                f"level does not match edge_index: edge {u} -> {v} goes from level {int(level[u])} "
                f"to level {int(level[v])}; levels must increase along every edge (stale levels for a "
                "different graph or flow?). Recompute with graphrnn.nn.topological_levels"
            )
    return level


def check_edge_type(edge_type: Optional[Tensor], num_edges: int, num_edge_types: int) -> Optional[Tensor]:
    """Validates ``edge_type`` against the number of edges and edge types of a layer."""
    if edge_type is None:
        if num_edge_types > 1:
            raise ValueError(
                f"this layer has num_edge_types={num_edge_types}: pass edge_type (LongTensor [E]) "
                "with the type of every edge"
            )
        return None
    if not isinstance(edge_type, Tensor) or edge_type.dim() != 1 or edge_type.numel() != num_edges:
        shape = list(edge_type.shape) if isinstance(edge_type, Tensor) else type(edge_type).__name__
        raise ValueError(f"edge_type must be a LongTensor of shape [E]=[{num_edges}], got {shape}")
    if edge_type.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"edge_type must hold integer type ids (torch.long), got dtype {edge_type.dtype}")
    if num_edges > 0:
        low, high = int(edge_type.min()), int(edge_type.max())
        if low < 0 or high >= num_edge_types:
            raise ValueError(
                f"edge_type holds type {low if low < 0 else high}, but the layer has "
                f"num_edge_types={num_edge_types} (valid types 0..{num_edge_types - 1})"
            )
    return edge_type.long()


def build_topological_plan(edge_index: Tensor, num_nodes: Optional[int] = None,
                           level: Optional[Tensor] = None) -> TopologicalPlan:
    """Builds the level-by-level plan for ``edge_index`` (levels computed if not given)."""
    num_nodes = check_edge_index(edge_index, num_nodes)
    edge_index = edge_index.long()
    if level is None:
        level = topological_levels(edge_index, num_nodes)
    else:
        level = check_levels(level.to(edge_index.device), edge_index, num_nodes)
    device = edge_index.device
    num_levels = int(level.max()) + 1 if num_nodes > 0 else 0

    node_order = torch.argsort(level, stable=True)
    level_sizes = torch.bincount(level, minlength=num_levels)
    level_start = torch.cumsum(level_sizes, 0) - level_sizes
    position_in_level = torch.empty(num_nodes, dtype=torch.long, device=device)
    position_in_level[node_order] = torch.arange(num_nodes, device=device) - level_start[level[node_order]]
    node_position = torch.empty_like(position_in_level)
    node_position[node_order] = torch.arange(num_nodes, device=device)

    src, dst = edge_index
    local_target = position_in_level[dst]
    by_target = torch.argsort(local_target, stable=True)
    key = level[dst] * max(num_levels, 1) + level[src]
    edge_order = by_target[torch.argsort(key[by_target], stable=True)]
    has_predecessor = torch.zeros(num_nodes, dtype=torch.bool, device=device)
    has_predecessor[node_position[dst]] = True
    in_level = torch.bincount(level[dst], minlength=num_levels)
    with_predecessor = torch.bincount(level[dst.unique()], minlength=num_levels)

    return TopologicalPlan(
        num_nodes=num_nodes,
        node_order=node_order,
        node_position=node_position,
        level_ptr=[0] + torch.cumsum(level_sizes, 0).tolist(),
        edge_order=edge_order,
        local_source=position_in_level[src[edge_order]],
        local_target=local_target[edge_order],
        level_edges=_group_edges_by_level(key[edge_order], num_levels, level_sizes.tolist(),
                                          in_level.tolist(), with_predecessor.tolist()),
        has_predecessor=has_predecessor,
    )


def _group_edges_by_level(sorted_key: Tensor, num_levels: int, level_sizes: List[int],
                          edges_in: List[int], with_predecessor: List[int]) -> List[LevelEdges]:
    """Runs of equal (target level, source level) keys, grouped by target level."""
    keys, counts = torch.unique_consecutive(sorted_key, return_counts=True)
    width = max(num_levels, 1)
    runs: List[List[Tuple[int, int, int]]] = [[] for _ in range(num_levels)]
    start = 0
    for key, count in zip(keys.tolist(), counts.tolist()):
        runs[key // width].append((key % width, start, start + count))
        start += count
    groups = []
    for level, sources in enumerate(runs):
        first = sources[0][1] if sources else 0
        last = sources[-1][2] if sources else 0
        complete = with_predecessor[level] == level_sizes[level]
        one_per_target = complete and edges_in[level] == level_sizes[level]
        groups.append(LevelEdges(first, last, sources, one_per_target=one_per_target,
                                 all_have_predecessor=complete))
    return groups
