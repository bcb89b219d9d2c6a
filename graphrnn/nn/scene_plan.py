"""The structure a Structure Inference Machine needs about a batch of scenes, built once per batch."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Tuple

import torch
from torch import Tensor

from graphrnn.data.graphs import NUM_SCENE_EDGE_TYPES, PERSON, PERSON_TO_PERSON, PERSON_TO_SCENE, SCENE, SCENE_TO_PERSON
from graphrnn.graph.checks import (
    RecordsGraph,
    check_edge_index,
    check_edge_index_format,
    check_edge_type,
    check_recorded,
)

from .bags import EdgeBags, edge_bags
from .validation import check_index_device

__all__ = ["ScenePlan", "ScenePlanner", "build_scene_plan", "PLAN_KEY"]

#: the batch attribute that carries a SIM's plan (see ``StructureInferenceMachine.planners``)
PLAN_KEY = "sim_plan"
#: (source node type, target node type) of every scene edge type
EDGE_ENDPOINTS = {PERSON_TO_PERSON: (PERSON, PERSON), PERSON_TO_SCENE: (PERSON, SCENE),
                  SCENE_TO_PERSON: (SCENE, PERSON)}
_NAMES = {PERSON: "person", SCENE: "scene"}
_TYPE_NAMES = {PERSON_TO_PERSON: "PERSON_TO_PERSON", PERSON_TO_SCENE: "PERSON_TO_SCENE",
               SCENE_TO_PERSON: "SCENE_TO_PERSON"}


@dataclass(frozen=True, eq=False)
class ScenePlan(RecordsGraph):
    """Rows, edge grouping and per-type message bags of a batch of scene graphs.

    Persons and scenes each have their own rows (``persons[k]`` is the node of person row ``k``);
    an edge type ``r`` goes from the rows of one kind to the rows of another
    (:data:`EDGE_ENDPOINTS`). Within type ``r``, edges are sorted by target, so the messages
    into one target row are one contiguous *bag* (``torch.nn.functional.embedding_bag``).

    Attributes:
        num_nodes (int): :math:`N`.
        persons / scenes: ``[P]`` / ``[B]`` node ids of the persons and the scene nodes (node order).
        edge_order: ``[E]`` edge ids sorted by (type, target), stable: each type is one block of
            rows, in which each target's edges are consecutive.
        type_counts (tuple of int): edges of each type, in that order.
        bags (tuple of ``R`` :class:`~graphrnn.nn.bags.EdgeBags`): the edges of each type (in plan
            order) as bags per target row and per source row, each row counted among the rows
            of its kind (persons or scenes).
        edge_index / edge_type / node_type: the graph the plan was built for (its fingerprint).
    """

    num_nodes: int
    persons: Tensor
    scenes: Tensor
    edge_order: Tensor
    type_counts: Tuple[int, ...]
    bags: Tuple[EdgeBags, ...]
    edge_index: Tensor
    edge_type: Tensor
    node_type: Tensor

    RECORDED = ("edge_index", "edge_type", "node_type")

    @property
    def num_persons(self) -> int:
        return self.persons.numel()

    @property
    def num_scenes(self) -> int:
        return self.scenes.numel()

    def to(self, device, non_blocking: bool = False) -> "ScenePlan":
        moved = {f.name: getattr(self, f.name).to(device, non_blocking=non_blocking)
                 for f in fields(self) if isinstance(getattr(self, f.name), Tensor)}
        return replace(self, **moved, bags=tuple(b.to(device, non_blocking) for b in self.bags))

    def check(self, edge_index: Tensor, edge_type: Tensor, node_type: Tensor) -> None:
        """Raises ``ValueError`` if the plan was built for another scene graph (asynchronously on a GPU)."""
        for name, given, recorded in (("edge_index", edge_index, self.edge_index), ("edge_type", edge_type,
                                      self.edge_type), ("node_type", node_type, self.node_type)):
            check_recorded(recorded, given, name, "rebuild it with build_scene_plan or the loader",
                           self.recorded_version(name))

    def __repr__(self) -> str:
        return (f"ScenePlan(num_nodes={self.num_nodes}, num_persons={self.num_persons}, "
                f"num_scenes={self.num_scenes}, type_counts={list(self.type_counts)})")


def build_scene_plan(edge_index: Tensor, edge_type: Tensor, node_type: Tensor) -> ScenePlan:
    """Validates a (batch of) scene graph(s) and builds its :class:`ScenePlan` (on the CPU).

    Raises:
        ValueError: on a malformed ``edge_index``/``edge_type``/``node_type``, or an edge whose type
            disagrees with the node types of its ends (e.g. a ``PERSON_TO_SCENE`` edge into a person).
    """
    if not isinstance(node_type, Tensor) or node_type.dim() != 1:
        raise ValueError(f"node_type must be a LongTensor [N] of PERSON/SCENE, got "
                         f"{list(node_type.shape) if isinstance(node_type, Tensor) else type(node_type).__name__}")
    if node_type.is_floating_point() or node_type.dtype == torch.bool:
        raise ValueError(f"node_type must hold integer node types (torch.long), got dtype {node_type.dtype}")
    num_nodes = node_type.numel()
    check_edge_index_format(edge_index)
    for name, tensor in (("edge_type", edge_type), ("node_type", node_type)):
        check_index_device(tensor, edge_index, name, "edge_index")
    check_edge_index(edge_index, num_nodes)
    edge_type = check_edge_type(edge_type, edge_index.size(1), NUM_SCENE_EDGE_TYPES)
    nodes = node_type.detach().cpu().long()
    if num_nodes and not bool(((nodes == PERSON) | (nodes == SCENE)).all()):
        bad = int(((nodes != PERSON) & (nodes != SCENE)).nonzero()[0, 0])
        raise ValueError(f"node_type[{bad}] is {int(nodes[bad])}; a scene graph has PERSON={PERSON} and SCENE={SCENE} "
                         "nodes only")
    src, dst = edge_index.detach().cpu().long()
    types = edge_type.detach().cpu().long()
    _check_endpoints(src, dst, types, nodes)
    persons, scenes = (nodes == PERSON).nonzero().view(-1), (nodes == SCENE).nonzero().view(-1)
    row = torch.empty(num_nodes, dtype=torch.long)
    row[persons], row[scenes] = torch.arange(persons.numel()), torch.arange(scenes.numel())
    kind_size = {PERSON: persons.numel(), SCENE: scenes.numel()}
    order = torch.sort(types * max(num_nodes, 1) + dst, stable=True).indices
    counts = torch.bincount(types, minlength=NUM_SCENE_EDGE_TYPES)
    device = edge_index.device
    bags = tuple(edge_bags(row.index_select(0, src.index_select(0, block)),
                           row.index_select(0, dst.index_select(0, block)), kind_size[EDGE_ENDPOINTS[kind][0]],
                           kind_size[EDGE_ENDPOINTS[kind][1]]).to(device)
                 for kind, block in enumerate(order.split(counts.tolist())))
    return ScenePlan(num_nodes=num_nodes, persons=persons.to(device), scenes=scenes.to(device),
                     edge_order=order.to(device), type_counts=tuple(counts.tolist()), bags=bags,
                     edge_index=edge_index, edge_type=edge_type, node_type=node_type)


def _check_endpoints(src: Tensor, dst: Tensor, types: Tensor, nodes: Tensor) -> None:
    """Every edge's type must match the kinds of its ends (one pass over all edges)."""
    source_kind, target_kind = (torch.tensor([EDGE_ENDPOINTS[r][end] for r in range(NUM_SCENE_EDGE_TYPES)])
                                .index_select(0, types) for end in (0, 1))
    wrong = (nodes.index_select(0, src) != source_kind) | (nodes.index_select(0, dst) != target_kind)
    if not bool(wrong.any()):
        return
    e = int(wrong.nonzero()[0, 0])
    kind, u, v = int(types[e]), int(src[e]), int(dst[e])
    raise ValueError(
        f"edge {e} ({u} -> {v}) has type {_TYPE_NAMES[kind]}, but it goes from a {_NAMES[int(nodes[u])]} to a "
        f"{_NAMES[int(nodes[v])]}; a {_TYPE_NAMES[kind]} edge goes from a {_NAMES[int(source_kind[e])]} to a "
        f"{_NAMES[int(target_kind[e])]} (build scenes with graphrnn.data.scene_graph)")


@dataclass(frozen=True)
class ScenePlanner:
    """Builds the :class:`ScenePlan` of a batch (picklable into loader workers)."""

    edge_index_key: str = "edge_index"
    edge_type_key: str = "edge_type"
    node_type_key: str = "node_type"

    def __call__(self, data) -> ScenePlan:
        missing = [k for k in (self.edge_index_key, self.edge_type_key, self.node_type_key)
                   if getattr(data, k, None) is None]
        if missing:
            raise ValueError(f"the batch lacks {missing}: build each scene with graphrnn.data.scene_graph")
        return build_scene_plan(getattr(data, self.edge_index_key), getattr(data, self.edge_type_key),
                                getattr(data, self.node_type_key))
