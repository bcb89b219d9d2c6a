r"""The execution plan of the topological schedule: built once per batch, on the CPU, then data.

A :class:`TopologicalPlan` says everything a level-by-level recurrent pass needs: the
level-major node order, the offsets of every level, and for the edges entering each
level the positions of their sources and targets. Offsets the host loops over are
plain Python ints; indices are tensors, moved with the batch (``plan.to(device)``;
``batch.to(device)`` moves the plans that :class:`graphrnn.data.DataLoader` attaches).
Given a plan, a pass reads no tensor value on the host: no ``.item()``, ``nonzero``,
``bincount`` or ``unique`` in a training step.

Where every node has at most one predecessor and one successor (a batch of chains), the
plan also carries the packed, time-major layout of torch's fused RNN kernels
(:class:`ChainPacking`).

The plan records the graph it was built for (``edge_index``, and ``edge_type`` when edge
types are selected); :meth:`TopologicalPlan.check` compares it with the graph a layer is
given, cheaply (identity first, then one elementwise comparison, asynchronous on an
accelerator).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from graphrnn.graph.checks import (
    RecordsGraph,
    check_edge_index,
    check_edge_type,
    check_edge_types,
    check_levels,
    check_recorded,
)
from graphrnn.graph.levels import _forest_depth_and_root, topological_levels

__all__ = ["TopologicalPlan", "ChainPacking", "build_topological_plan", "FLOWS"]

FLOWS = ("source_to_target", "target_to_source")
_REBUILD = "rebuild it with layer.plan(edge_index, num_nodes) for this graph"
#: per-level slices a plan cuts once: name -> (the index tensor's field, the offsets that cut it)
_LEVEL_SLICES = {"level_source": ("source", "edge_ptr"), "level_target": ("target", "edge_ptr"),
                 "level_bag_offsets": ("bag_offset", "level_ptr"), "level_roots": ("root_local", "root_ptr")}


def _move(value, device, non_blocking: bool):
    return value.to(device, non_blocking=non_blocking) if isinstance(value, Tensor) else value


@dataclass(frozen=True, eq=False)
class ChainPacking:
    """Time-major packed layout of a batch of disjoint chains (as ``PackedSequence``).

    Chains are sorted by length, longest first.

    Attributes:
        packed_index: ``[N]`` the node at each packed slot.
        packed_position: ``[N]`` the packed slot of each node.
        batch_sizes: ``[T]`` chains alive at each step (a CPU tensor, as torch's kernels want).
        roots: ``[B]`` the first node of each chain, in packed (longest-first) order.
        num_steps: :math:`T`, the longest chain.
        equal_lengths: every chain has :math:`T` nodes (the padded kernel applies).
    """

    packed_index: Tensor
    packed_position: Tensor
    batch_sizes: Tensor
    roots: Tensor
    num_steps: int
    equal_lengths: bool

    def to(self, device, non_blocking: bool = False) -> "ChainPacking":
        return replace(self, packed_index=_move(self.packed_index, device, non_blocking),
                       packed_position=_move(self.packed_position, device, non_blocking),
                       roots=_move(self.roots, device, non_blocking))


@dataclass(frozen=True, eq=False)
class TopologicalPlan(RecordsGraph):
    r"""Where every node and edge sits in a level-by-level pass; see the module docstring.

    Positions are *level-major*: the nodes of level 0 first, then level 1, and so on
    (stable by node id inside a level). Edges are those the pass follows (all of them, or
    those whose type is in ``edge_types``), oriented by ``flow``, and sorted by their
    target's position.

    Attributes:
        num_nodes (int): :math:`N`.
        num_edges (int): :math:`E` of the graph given (before any edge-type selection).
        flow (str): ``"source_to_target"`` or ``"target_to_source"`` (edges reversed).
        edge_types (tuple of int, optional): the edge types followed (``None``: all).
        level_ptr (tuple of int): :math:`L + 1` offsets of the levels among positions.
        edge_ptr (tuple of int): :math:`L + 1` offsets of the edges entering each level.
        root_ptr (tuple of int): :math:`L + 1` offsets into ``root_local``, per level.
        source_levels (tuple of tuples): for each level, the distinct levels its edges come from.
        single_predecessor (tuple of bool): every node of the level has exactly one incoming edge.
        node_order (LongTensor): ``[N]`` node id at each position.
        node_position (LongTensor): ``[N]`` position of each node id.
        edge_order (LongTensor): ``[E']`` id (column of ``edge_index``) of each sorted edge.
        source (LongTensor): ``[E']`` position of each sorted edge's source.
        target (LongTensor): ``[E']`` position of each sorted edge's target *within its level*.
        bag_offset (LongTensor): ``[N]`` at each position, the offset of the node's first incoming
            edge among the sorted edges entering its level (the bag offsets of ``embedding_bag``,
            which sums a level's messages in one call; a node without predecessors has an empty bag).
        root_local (LongTensor): position within its level of every node without a predecessor,
            level by level (level :math:`l`: ``root_local[root_ptr[l]:root_ptr[l + 1]]``).
        edge_index (LongTensor): the ``[2, E]`` graph the plan was built for (as given).
        edge_type (LongTensor, optional): its edge types, when ``edge_types`` selects some.
        chains (ChainPacking, optional): the packed layout, when the followed edges form chains.
    """

    num_nodes: int
    num_edges: int
    flow: str
    edge_types: Optional[Tuple[int, ...]]
    level_ptr: Tuple[int, ...]
    edge_ptr: Tuple[int, ...]
    root_ptr: Tuple[int, ...]
    source_levels: Tuple[Tuple[int, ...], ...]
    single_predecessor: Tuple[bool, ...]
    node_order: Tensor
    node_position: Tensor
    edge_order: Tensor
    source: Tensor
    target: Tensor
    bag_offset: Tensor
    root_local: Tensor
    edge_index: Tensor
    edge_type: Optional[Tensor]
    chains: Optional[ChainPacking]

    def cut_levels(self) -> "TopologicalPlan":
        """Cuts the per-level slices of the index tensors (``level_source``, ``level_target``,
        ``level_bag_offsets``, ``level_roots``) once, so that a pass cuts none. Planners and :meth:`to` do it; a plan
        built for one call cuts them when the level-by-level path first reads them (the fused
        chain path never does)."""
        for name, (tensor, ptr) in _LEVEL_SLICES.items():
            if name not in self.__dict__:
                object.__setattr__(self, name, _cut(getattr(self, tensor), getattr(self, ptr)))
        return self

    def __getattr__(self, name: str):
        if name in _LEVEL_SLICES:
            return self.cut_levels().__dict__[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def num_levels(self) -> int:
        """:math:`L`."""
        return len(self.level_ptr) - 1

    @property
    def device(self) -> torch.device:
        return self.node_order.device

    def to(self, device, non_blocking: bool = False) -> "TopologicalPlan":
        """The same plan with its tensors on ``device`` (Python ints stay on the host)."""
        moved = {f.name: _move(getattr(self, f.name), device, non_blocking) for f in fields(self)
                 if isinstance(getattr(self, f.name), Tensor)}
        chains = self.chains.to(device, non_blocking) if self.chains is not None else None
        return replace(self, chains=chains, **moved).cut_levels()

    def level_sizes(self) -> Tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.level_ptr[:-1], self.level_ptr[1:]))

    def check(self, edge_index: Tensor, num_nodes: int, flow: str,
              edge_type: Optional[Tensor] = None, edge_types: Optional[Sequence[int]] = None) -> None:
        """Raises ``ValueError`` if this plan was built for another graph, flow or selection of edge types
        (``edge_types``: the types the layer follows, ``None`` for all).

        Sizes and flow are compared on the host. The edges are compared by identity first
        (a plan used with the very tensor it was built from costs nothing), else elementwise:
        on the CPU directly, on an accelerator with an asynchronous device assert.
        """
        if not isinstance(edge_index, Tensor):
            raise TypeError(f"edge_index must be a torch.Tensor of shape [2, E], got {type(edge_index).__name__}")
        size = (num_nodes, edge_index.size(-1))
        if (self.num_nodes, self.num_edges) != size:
            raise ValueError(
                f"plan was built for a different graph ({self.num_nodes} nodes and {self.num_edges} edges), but this "
                f"one has {size[0]} nodes and {size[1]} edges; rebuild it with layer.plan(edge_index, num_nodes)"
            )
        if flow != self.flow:
            raise ValueError(f"plan was built for flow={self.flow!r}, but this layer runs flow={flow!r}; "
                             "build the plan with this layer's plan() method")
        followed = None if edge_types is None else tuple(int(t) for t in edge_types)
        if followed != self.edge_types:
            raise ValueError(f"plan follows edge types {_types_text(self.edge_types)}, but this layer follows "
                             f"{_types_text(followed)}; build the plan with this layer's plan() method")
        if edge_index.device != self.edge_index.device:
            raise ValueError(f"plan is on {self.edge_index.device} but edge_index is on {edge_index.device}; "
                             "move it with plan.to(device) (batch.to(device) moves the plans a DataLoader built)")
        check_recorded(self.edge_index, edge_index, "edge_index", _REBUILD, self.recorded_version("edge_index"))
        if self.edge_types is not None:
            if edge_type is None:
                raise ValueError(f"plan follows edge types {list(self.edge_types)}: pass edge_type (LongTensor [E])")
            check_recorded(self.edge_type, edge_type, "edge_type", _REBUILD, self.recorded_version("edge_type"))

    def __repr__(self) -> str:
        types = f", edge_types={list(self.edge_types)}" if self.edge_types is not None else ""
        chains = ", chains" if self.chains is not None else ""
        return (f"{type(self).__name__}(num_nodes={self.num_nodes}, num_edges={self.num_edges}, "
                f"num_levels={self.num_levels}, flow={self.flow!r}{types}{chains}, device={self.device})")


def _types_text(edge_types: Optional[Tuple[int, ...]]) -> str:
    return "every edge type" if edge_types is None else str(list(edge_types))


def _cut(tensor: Tensor, ptr: Sequence[int]) -> Tuple[Tensor, ...]:
    return tuple(tensor[a:b] for a, b in zip(ptr[:-1], ptr[1:]))


def build_topological_plan(edge_index: Tensor, num_nodes: Optional[int] = None, level: Optional[Tensor] = None,
                           *, flow: str = "source_to_target", edge_type: Optional[Tensor] = None,
                           edge_types: Optional[Sequence[int]] = None, num_edge_types: Optional[int] = None,
                           chains: bool = True) -> TopologicalPlan:
    r"""Builds the :class:`TopologicalPlan` of ``edge_index`` (on the CPU; moved to its device).

    Args:
        edge_index (LongTensor): ``[2, E]`` directed edges (source, target).
        num_nodes (int, optional): :math:`N` (inferred from ``edge_index`` if omitted).
        level (LongTensor, optional): ``[N]`` precomputed levels for this flow (checked).
        flow (str): ``"source_to_target"`` or ``"target_to_source"`` (follow edges reversed).
        edge_type (LongTensor, optional): ``[E]`` edge types (needed with ``edge_types``).
        edge_types (sequence of int, optional): follow only edges of these types.
        num_edge_types (int, optional): bound for ``edge_type`` values when checking them.
        chains (bool): also lay out chains for the fused kernels when the graph is made of chains.

    Raises:
        ValueError: on a malformed ``edge_index``/``edge_type``, a cycle (naming its nodes,
            self loops included), or stale ``level``.
    """
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {FLOWS}, got {flow!r}")
    num_nodes = check_edge_index(edge_index, num_nodes)
    device = edge_index.device
    if isinstance(edge_type, Tensor) and edge_type.device != device:
        raise ValueError(f"edge_type is on {edge_type.device} but edge_index is on {device}; move both to one device "
                         "(batch.to(device) moves a whole PyG batch)")
    edges = edge_index.detach().to("cpu", torch.long)
    selected, recorded_type, types = _select_edges(edges, edge_type, edge_types, num_edge_types)
    src, dst = edges[:, selected] if flow == "source_to_target" else edges[:, selected].flip(0)
    oriented = torch.stack([src, dst])
    forest = None
    if level is None and chains and _is_chain_batch(src, dst, num_nodes):
        forest = _forest_depth_and_root(src, dst, num_nodes)  # a chain's levels are its depths
        level = forest[0]
    elif level is None:
        level = topological_levels(oriented, num_nodes)
    else:
        level = check_levels(_on_host(level, "level", device), oriented, num_nodes)
    packing = _chain_packing(src, dst, num_nodes, forest) if chains else None
    plan = TopologicalPlan(num_nodes=num_nodes, num_edges=edge_index.size(1), flow=flow, edge_types=types,
                           chains=packing, edge_index=edges, edge_type=recorded_type,
                           **_layout(num_nodes, level, src, dst, selected))
    if device.type != "cpu":
        plan = plan.to(device)
    # record the very tensors given, so that a layer handed them again checks the plan by identity
    return replace(plan, edge_index=edge_index, edge_type=edge_type if types is not None else None)


def _on_host(tensor, name: str, device: torch.device):
    """``tensor`` (one of the graph's index tensors) read on the CPU, after checking it sits with the edges."""
    if not isinstance(tensor, Tensor):
        return tensor  # the shape check names the type
    if tensor.device != device:
        raise ValueError(f"{name} is on {tensor.device} but edge_index is on {device}; move both to one device "
                         "(batch.to(device) moves a whole PyG batch)")
    return tensor.detach().to("cpu")


def _select_edges(edges: Tensor, edge_type: Optional[Tensor], edge_types: Optional[Sequence[int]],
                  num_edge_types: Optional[int]):
    """Columns of the followed edges, the edge types recorded, and the selection as a tuple."""
    types = check_edge_types(edge_types)
    if types is None:
        return torch.arange(edges.size(1)), None, None
    if edge_type is None:
        raise ValueError(f"following edge_types={list(types)} needs edge_type (LongTensor [E]) with every edge's type")
    if not isinstance(edge_type, Tensor):
        raise TypeError(f"edge_type must be a LongTensor [E] with every edge's type, got {type(edge_type).__name__}")
    bound = num_edge_types if num_edge_types is not None else max(types) + 1
    if edge_type.numel() and int(edge_type.max()) >= bound:
        bound = int(edge_type.max()) + 1  # types beyond the followed ones are allowed, just not followed
    edge_type = check_edge_type(edge_type, edges.size(1), bound)
    cpu_type = edge_type.detach().to("cpu")
    keep = torch.isin(cpu_type, torch.tensor(types))
    return keep.nonzero().view(-1), cpu_type, types


def _layout(num_nodes: int, level: Tensor, src: Tensor, dst: Tensor, selected: Tensor) -> dict:
    """Level-major positions, and the followed edges sorted by their target's position."""
    num_levels = int(level.max()) + 1 if num_nodes > 0 else 0
    node_order = torch.argsort(level, stable=True)
    node_position = torch.empty_like(node_order)
    node_position[node_order] = torch.arange(num_nodes)
    level_sizes = torch.bincount(level, minlength=num_levels)
    level_ptr = [0] + torch.cumsum(level_sizes, 0).tolist()
    position_level = level[node_order]

    target_position = node_position[dst]
    order = torch.argsort(target_position, stable=True)
    source = node_position[src][order]
    target_position = target_position[order]
    target_level = position_level[target_position]
    edge_ptr = [0] + torch.cumsum(torch.bincount(target_level, minlength=num_levels), 0).tolist()
    target_local = target_position - torch.tensor(level_ptr[:-1], dtype=torch.long)[target_level] \
        if num_levels else target_position

    in_degree = torch.bincount(target_position, minlength=num_nodes)
    first_edge = torch.cumsum(in_degree, 0) - in_degree  # edges are sorted by target position
    bag_offset = first_edge - torch.tensor(edge_ptr[:-1], dtype=torch.long)[position_level] if num_levels \
        else first_edge
    roots = (in_degree == 0).nonzero().view(-1)
    root_level = position_level[roots]
    root_ptr = [0] + torch.cumsum(torch.bincount(root_level, minlength=num_levels), 0).tolist()
    root_local = roots - torch.tensor(level_ptr[:-1], dtype=torch.long)[root_level] if num_levels else roots
    single = torch.bincount(position_level[in_degree == 1], minlength=num_levels) == level_sizes
    single = single & (torch.bincount(position_level[in_degree > 1], minlength=num_levels) == 0)

    width = max(num_levels, 1)
    pairs = torch.unique(target_level * width + position_level[source]).tolist()
    source_levels = [[] for _ in range(num_levels)]
    for key in pairs:
        source_levels[key // width].append(key % width)
    return dict(level_ptr=tuple(level_ptr), edge_ptr=tuple(edge_ptr), root_ptr=tuple(root_ptr),
                source_levels=tuple(tuple(s) for s in source_levels), single_predecessor=tuple(single.tolist()),
                node_order=node_order, node_position=node_position, edge_order=selected[order], source=source,
                target=target_local, bag_offset=bag_offset, root_local=root_local)


def _is_chain_batch(src: Tensor, dst: Tensor, num_nodes: int) -> bool:
    """Every node has at most one predecessor and one successor, and no edge is a self loop."""
    if num_nodes == 0:
        return False
    if not src.numel():
        return True
    return (int(torch.bincount(dst, minlength=num_nodes).max()) <= 1
            and int(torch.bincount(src, minlength=num_nodes).max()) <= 1 and not bool((src == dst).any()))


def _chain_packing(src: Tensor, dst: Tensor, num_nodes: int,
                   forest: Optional[Tuple[Tensor, Tensor]] = None) -> Optional[ChainPacking]:
    """The packed layout if every node has at most one predecessor and one successor, else ``None``.
    ``forest`` is ``(depth, root)`` if already known."""
    if forest is None:
        if not _is_chain_batch(src, dst, num_nodes):
            return None
        forest = _forest_depth_and_root(src, dst, num_nodes)
    depth, root = forest
    roots = (depth == 0).nonzero().view(-1)
    lengths = torch.bincount(root, minlength=num_nodes)[roots]
    rank_order = torch.argsort(lengths, descending=True, stable=True)
    rank = torch.empty(num_nodes, dtype=torch.long)
    rank[roots[rank_order]] = torch.arange(roots.numel())
    longest = int(lengths.max())
    ends = torch.bincount(lengths - 1, minlength=longest)
    batch_sizes = torch.flip(torch.cumsum(torch.flip(ends, (0,)), 0), (0,))
    offsets = torch.cumsum(batch_sizes, 0) - batch_sizes
    packed_position = offsets[depth] + rank[root]
    packed_index = torch.empty_like(packed_position)
    packed_index[packed_position] = torch.arange(num_nodes)
    return ChainPacking(packed_index=packed_index, packed_position=packed_position, batch_sizes=batch_sizes,
                        roots=roots[rank_order], num_steps=longest,
                        equal_lengths=bool(batch_sizes[0] == batch_sizes[-1]))
