"""What the DRNN's two recurrences need about a batch of trees, built once per batch (e.g. in the loader)."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Optional, Tuple

import torch
from torch import Tensor

from graphrnn.data.graphs import NUM_TREE_EDGE_TYPES, PARENT, SIBLING
from graphrnn.graph.checks import (
    RecordsGraph,
    check_batch_vector,
    check_edge_index,
    check_edge_index_format,
    check_edge_type,
    check_recorded,
)
from graphrnn.graph.levels import forest_depth_and_root
from graphrnn.graph.plan import TopologicalPlan, build_topological_plan

from .validation import check_index_device

__all__ = ["TreePlan", "SenderPlan", "TreePlanner", "build_tree_plan", "tree_links", "PLAN_KEY"]

#: the batch attribute that carries a DRNN's plan (see ``DRNN.planners``)
PLAN_KEY = "drnn_plan"


def _moved(obj, device, non_blocking):
    changes = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, Tensor):
            changes[f.name] = value.to(device, non_blocking=non_blocking)
        elif hasattr(value, "to") and not isinstance(value, (int, str)):
            changes[f.name] = value.to(device, non_blocking)
    return replace(obj, **changes)


@dataclass(frozen=True, eq=False)
class SenderPlan:
    """One recurrence of the DRNN (ancestral over ``PARENT`` or fraternal over ``SIBLING`` edges).

    The cell runs once per *sender* (a node some node links to), over the forest of senders.

    Attributes:
        senders: ``[S]`` node ids of the senders.
        edges: ``[2, S']`` links between senders, in sender-local ids (the forest the cell runs over).
        plan: the :class:`~graphrnn.graph.TopologicalPlan` of ``edges`` (with the chain layout when
            the senders form chains, as siblings do).
        start_row: ``[S]`` the row of the start states a sender without a link begins from.
        received: ``[N]`` the row of ``[sent states; start states]`` that each node receives.
    """

    senders: Tensor
    edges: Tensor
    plan: TopologicalPlan
    start_row: Tensor
    received: Tensor

    def to(self, device, non_blocking: bool = False) -> "SenderPlan":
        moved = _moved(self, device, non_blocking)
        # the plan records its edges: keep them the very tensor the recurrence is given
        return replace(moved, plan=replace(moved.plan, edge_index=moved.edges))


@dataclass(frozen=True, eq=False)
class TreePlan(RecordsGraph):
    """The DRNN's view of a batch of trees: both recurrences, the tree of every node, and the graph.

    Attributes:
        num_nodes / num_trees (int): :math:`N`, :math:`B`.
        tree: ``[N]`` the tree of every node (``batch``).
        ancestral / fraternal: :class:`SenderPlan` over ``PARENT`` / ``SIBLING`` edges.
        edge_index / edge_type: the graph the plan was built for (its fingerprint).
    """

    num_nodes: int
    num_trees: int
    tree: Tensor
    ancestral: SenderPlan
    fraternal: SenderPlan
    edge_index: Tensor
    edge_type: Tensor

    def to(self, device, non_blocking: bool = False) -> "TreePlan":
        return _moved(self, device, non_blocking)

    def check(self, edge_index: Tensor, edge_type: Tensor, num_nodes: int) -> None:
        if num_nodes != self.num_nodes or not isinstance(edge_index, Tensor) or \
                edge_index.shape != self.edge_index.shape:
            raise ValueError(f"plan was built for a different graph ({self.num_nodes} nodes, "
                             f"{self.edge_index.size(1)} edges); rebuild it with build_tree_plan or the loader")
        for name, given, recorded in (("edge_index", edge_index, self.edge_index),
                                      ("edge_type", edge_type, self.edge_type)):
            check_recorded(recorded, given, name, "rebuild it with build_tree_plan or the loader",
                           self.recorded_version(name))

    def __repr__(self) -> str:
        return (f"TreePlan(num_nodes={self.num_nodes}, num_trees={self.num_trees}, "
                f"ancestral_senders={self.ancestral.senders.numel()}, "
                f"fraternal_senders={self.fraternal.senders.numel()})")


def tree_links(edge_index: Tensor, edge_type: Optional[Tensor], num_nodes: int) -> Tuple[Tensor, Tensor]:
    """Each node's parent and previous sibling (``-1`` where there is none) from a tree's typed edges.

    Args:
        edge_index (LongTensor): ``[2, E]`` ``PARENT`` (parent -> child) and ``SIBLING``
            (previous -> next sibling) edges, as built by :func:`graphrnn.data.tree_graph`.
        edge_type (LongTensor): ``[E]``, :data:`~graphrnn.data.PARENT` or :data:`~graphrnn.data.SIBLING`.
        num_nodes (int): :math:`N`.

    Returns:
        ``(parent [N], previous_sibling [N])``.

    Raises:
        ValueError: if ``edge_type`` is missing or invalid, a node has two incoming edges of one
            type, or the edges of one type close a cycle.
    """
    check_edge_index(edge_index, num_nodes)
    edge_type = check_edge_type(edge_type, edge_index.size(1), NUM_TREE_EDGE_TYPES)
    links = []
    for kind, name in ((PARENT, "PARENT"), (SIBLING, "SIBLING")):
        source, target = edge_index[:, edge_type == kind]
        incoming = torch.bincount(target, minlength=num_nodes)
        if incoming.numel() and int(incoming.max()) > 1:
            node = int(incoming.argmax())
            raise ValueError(f"node {node} has {int(incoming[node])} incoming {name} edges, but a tree node has at "
                             f"most one (one parent, one previous sibling); build the trees with tree_graph")
        forest_depth_and_root(source, target, num_nodes)  # raises on a cycle, naming its nodes
        links.append(torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
                     .index_copy(0, target, source))
    return links[0], links[1]


def _sender_plan(link: Tensor, start_row: Tensor, num_start_rows: int) -> SenderPlan:
    """Senders, their forest and the row every node receives (see :class:`SenderPlan`), on the CPU."""
    num_nodes = link.numel()
    is_sender = torch.zeros(num_nodes, dtype=torch.bool)
    is_sender[link[link >= 0]] = True
    senders = is_sender.nonzero().view(-1)
    local = torch.cumsum(is_sender, 0) - 1
    sender_link = link[senders]
    linked = (sender_link >= 0).nonzero().view(-1)
    edges = torch.stack([local[sender_link[linked]], linked])
    plan = build_topological_plan(edges, senders.numel(), chains=True)
    received = torch.where(link >= 0, local[link.clamp(min=0)], senders.numel() + start_row)
    del num_start_rows
    return SenderPlan(senders=senders, edges=edges, plan=plan, start_row=start_row[senders], received=received)


def build_tree_plan(edge_index: Tensor, edge_type: Tensor, num_nodes: int, batch: Optional[Tensor] = None,
                    num_trees: Optional[int] = None) -> TreePlan:
    """Validates a batch of trees and builds its :class:`TreePlan` (on the CPU, then moved to the edges' device).

    Raises:
        ValueError: on malformed edges or edge types, a node with two parents or two previous siblings,
            a cycle, a ``batch`` of the wrong shape or with ids outside ``0..num_trees-1``, or an edge
            joining two trees (whose nodes would read another tree's root state or memory).
    """
    check_edge_index_format(edge_index)
    for name, tensor in (("edge_type", edge_type), ("batch", batch)):
        check_index_device(tensor, edge_index, name, "edge_index")
    device = edge_index.device
    cpu_edges = edge_index.detach().cpu().long()
    cpu_types = edge_type.detach().cpu() if isinstance(edge_type, Tensor) else edge_type
    parent, previous = tree_links(cpu_edges, cpu_types, num_nodes)
    tree, num_trees = check_batch_vector(batch, num_nodes, num_trees, cpu_edges, kind="tree", empty=0,
                                         consequence=", so node {target} would read another tree's root state "
                                                     "and memory")
    ancestral = _sender_plan(parent, tree, num_trees)
    fraternal = _sender_plan(previous, torch.zeros_like(tree), 1)
    plan = TreePlan(num_nodes=num_nodes, num_trees=num_trees, tree=tree, ancestral=ancestral, fraternal=fraternal,
                    edge_index=cpu_edges, edge_type=cpu_types)
    if device.type != "cpu":
        plan = plan.to(device)
    return replace(plan, edge_index=edge_index, edge_type=edge_type)


@dataclass(frozen=True)
class TreePlanner:
    """Builds the :class:`TreePlan` of a batch of :func:`~graphrnn.data.tree_graph` trees (picklable)."""

    def __call__(self, data) -> TreePlan:
        edge_type = getattr(data, "edge_type", None)
        num_trees = data.num_graphs if hasattr(data, "num_graphs") and getattr(data, "batch", None) is not None \
            else None
        return build_tree_plan(data.edge_index, edge_type, data.num_nodes, getattr(data, "batch", None), num_trees)
