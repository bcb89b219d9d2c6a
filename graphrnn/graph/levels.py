r"""Topological levels (wavefronts) of a directed graph, computed with tensor operations.

The level of a node is the length of the longest directed path that ends at it:
sources (no predecessors) are at level 0 and every edge goes from a lower level to
a higher one. These are the generations of :func:`networkx.topological_generations`.
All nodes of one level can be updated together once every lower level is done, so a
recurrent pass needs one batched step per level, never one Python step per node.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from graphrnn.graph.checks import check_edge_index

__all__ = ["topological_levels", "find_cycle", "forest_depth_and_root"]

_MAX_CYCLE_NODES_SHOWN = 10


def topological_levels(edge_index: Tensor, num_nodes: Optional[int] = None) -> Tensor:
    r"""Returns the topological level of every node: ``LongTensor [N]``.

    ``level[v] = 0`` for nodes without predecessors and
    ``level[v] = 1 + max(level[u] for u -> v)`` otherwise, so that
    ``level[src] < level[dst]`` on every edge.

    Work is linear in the graph size: graphs in which no node has two predecessors
    (chains, trees with parent edges, forests) use pointer jumping
    (:math:`O(N \log D)` for depth :math:`D`, :math:`O(\log D)` kernel launches);
    other DAGs use a frontier-based Kahn sweep (:math:`O(N + E)` work, one small
    batch of kernels per level). There is no Python loop over nodes or edges.

    Args:
        edge_index (LongTensor): ``[2, E]`` directed edges (source, target).
        num_nodes (int, optional): number of nodes; inferred from ``edge_index`` if omitted.

    Raises:
        ValueError: if the graph has a directed cycle (the message names nodes on it),
            or ``edge_index`` is malformed or out of range.
    """
    num_nodes = check_edge_index(edge_index, num_nodes)
    device = edge_index.device
    if num_nodes == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    src, dst = edge_index[0].long(), edge_index[1].long()
    self_loops = (src == dst).nonzero()
    if self_loops.numel() > 0:
        node = int(src[self_loops[0, 0]])
        raise ValueError(f"graph has a cycle: self loop {node} -> {node}; the topological schedule needs a DAG")
    in_degree = torch.bincount(dst, minlength=num_nodes)
    if src.numel() == 0 or int(in_degree.max()) <= 1:
        return _forest_levels(src, dst, num_nodes)
    return _kahn_levels(src, dst, num_nodes, in_degree)


def _forest_levels(src: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
    """Depth of every node when each node has at most one predecessor."""
    return _forest_depth_and_root(src, dst, num_nodes)[0]


def forest_depth_and_root(src: Tensor, dst: Tensor, num_nodes: int):
    r"""Depth and root of every node of a forest (each node has at most one predecessor).

    Pointer jumping: :math:`O(\log D)` rounds of :math:`O(N)` tensor work for depth :math:`D`.

    Args:
        src, dst (LongTensor): ``[E]`` the edges' sources and targets.
        num_nodes (int): :math:`N`.

    Returns:
        ``(depth [N], root [N])``.

    Raises:
        ValueError: if ``src``/``dst`` are not two integer ``[E]`` tensors of ids in ``0..N-1``, a node has two
            predecessors (one of them would be dropped), or the edges close a cycle (naming nodes on it).
    """
    num_nodes = check_edge_index(_stacked(src, dst), num_nodes)
    if src.numel():
        in_degree = torch.bincount(dst.long(), minlength=num_nodes)
        if int(in_degree.max()) > 1:
            node = int(in_degree.argmax())
            raise ValueError(f"forest_depth_and_root needs at most one predecessor per node, but node {node} has "
                             f"{int(in_degree[node])}; use topological_levels for a DAG")
    return _forest_depth_and_root(src.long(), dst.long(), num_nodes)


def _stacked(src: Tensor, dst: Tensor) -> Tensor:
    """``[2, E]`` from two ``[E]`` id vectors, or a ``ValueError`` naming what came."""
    if not (isinstance(src, Tensor) and isinstance(dst, Tensor) and src.dim() == 1 and src.shape == dst.shape):
        shapes = [list(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in (src, dst)]
        raise ValueError(f"src and dst must be two [E] tensors of node ids of one length, got {shapes[0]} and "
                         f"{shapes[1]}")
    return torch.stack([src, dst])


def _forest_depth_and_root(src: Tensor, dst: Tensor, num_nodes: int):
    """:func:`forest_depth_and_root` on edges already checked."""
    nodes = torch.arange(num_nodes, device=src.device)
    parent = nodes.clone()
    parent[dst] = src
    depth = (parent != nodes).long()  # distance from a node to ``ancestor``
    ancestor = parent
    for _ in range(max(1, math.ceil(math.log2(max(num_nodes, 2)))) + 1):
        if torch.equal(parent[ancestor], ancestor):  # every node points at a root
            return depth, ancestor
        depth = depth + depth[ancestor]
        ancestor = ancestor[ancestor]
    if torch.equal(parent[ancestor], ancestor):
        return depth, ancestor
    remaining = parent[ancestor] != ancestor  # nodes that never reach a root: on or below a cycle
    _raise_cycle(src, dst, remaining)


def _out_edges_csr(src: Tensor, dst: Tensor, num_nodes: int):
    order = torch.argsort(src, stable=True)
    out_degree = torch.bincount(src, minlength=num_nodes)
    start = torch.cumsum(out_degree, 0) - out_degree
    return dst[order], start, out_degree


def _expand_ranges(start: Tensor, count: Tensor) -> Tensor:
    """Concatenation of ``arange(start[i], start[i] + count[i])`` over ``i`` (no Python loop)."""
    total = int(count.sum())
    offsets = torch.cumsum(count, 0) - count
    within = torch.arange(total, device=start.device) - torch.repeat_interleave(offsets, count, output_size=total)
    return torch.repeat_interleave(start, count, output_size=total) + within


def _kahn_levels(src: Tensor, dst: Tensor, num_nodes: int, in_degree: Tensor) -> Tensor:
    """Frontier-based Kahn sweep: each node and edge is touched once."""
    targets, start, out_degree = _out_edges_csr(src, dst, num_nodes)
    pending = in_degree.clone()
    level = torch.full((num_nodes,), -1, dtype=torch.long, device=src.device)
    frontier = (in_degree == 0).nonzero().view(-1)
    current, done = 0, 0
    while frontier.numel() > 0:
        level[frontier] = current
        done += frontier.numel()
        reached = targets[_expand_ranges(start[frontier], out_degree[frontier])]
        pending.index_add_(0, reached, torch.full_like(reached, -1))
        frontier = torch.unique(reached[pending[reached] == 0])
        current += 1
    if done < num_nodes:
        _raise_cycle(src, dst, level < 0)
    return level


def find_cycle(src: Tensor, dst: Tensor, remaining: Tensor) -> list:
    """Nodes of one directed cycle among ``remaining`` nodes, in edge direction.

    ``remaining`` must be a mask of nodes each of which has a predecessor that is
    also remaining (true for what Kahn's algorithm cannot schedule). At most
    ``_MAX_CYCLE_NODES_SHOWN + 1`` nodes are returned.
    """
    num_nodes = remaining.numel()
    inside = remaining[src] & remaining[dst]
    pred = torch.arange(num_nodes, device=src.device)
    pred[dst[inside]] = src[inside]
    jump = pred
    for _ in range(max(1, math.ceil(math.log2(max(2, int(remaining.sum()))))) + 1):
        jump = jump[jump]
    first = int(jump[remaining.nonzero()[0, 0]])  # on a cycle of ``pred``
    backwards, node = [first], int(pred[first])
    while node != first and len(backwards) <= _MAX_CYCLE_NODES_SHOWN:
        backwards.append(node)
        node = int(pred[node])
    closed = node == first
    cycle = backwards[::-1]
    return cycle + [cycle[0]] if closed else cycle


def _raise_cycle(src: Tensor, dst: Tensor, remaining: Tensor):
    cycle = find_cycle(src, dst, remaining)
    closed = len(cycle) > 1 and cycle[0] == cycle[-1]
    path = " -> ".join(str(v) for v in cycle) + ("" if closed else " -> ...")
    raise ValueError(
        f"graph has a cycle through nodes {path}; the topological schedule needs a DAG "
        "(remove an edge of the cycle, or use schedule='synchronous' for cyclic graphs)"
    )
