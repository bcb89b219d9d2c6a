"""A picklable recipe for the plan a layer needs, so that a loader can build it in its collate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from torch import Tensor

from graphrnn.counts import is_int
from graphrnn.graph.checks import check_edge_types
from graphrnn.graph.plan import FLOWS, TopologicalPlan, build_topological_plan

__all__ = ["Planner"]


@dataclass(frozen=True)
class Planner:
    """Builds a layer's :class:`~graphrnn.graph.TopologicalPlan` for a graph or batch.

    Holds no weights, only what the plan depends on (flow, followed edge types, chain
    layout), so it pickles cheaply into loader worker processes. Get one with
    ``layer.planner()``; :class:`graphrnn.data.DataLoader` calls it on every batch.

    Args:
        flow (str): the layer's flow.
        edge_types (tuple of int, optional): edge types the layer follows.
        num_edge_types (int, optional): bound for ``edge_type`` values.
        chains (bool): lay out chains for the fused kernels.
        edge_index_key / edge_type_key / level_key (str): batch attributes to read.
    """

    flow: str = "source_to_target"
    edge_types: Optional[Tuple[int, ...]] = None
    num_edge_types: Optional[int] = None
    chains: bool = True
    edge_index_key: str = "edge_index"
    edge_type_key: str = "edge_type"
    level_key: Optional[str] = None

    def __post_init__(self) -> None:
        if self.flow not in FLOWS:
            raise ValueError(f"flow must be one of {FLOWS}, got {self.flow!r}")
        object.__setattr__(self, "edge_types", check_edge_types(self.edge_types))

    def __call__(self, data) -> TopologicalPlan:
        edge_index = getattr(data, self.edge_index_key, None)
        if edge_index is None:
            raise ValueError(f"the batch has no {self.edge_index_key!r} to plan over; set edge_index_key to the "
                             "attribute that holds the edges")
        num_nodes = _num_nodes(data, self.edge_index_key)
        edge_type = getattr(data, self.edge_type_key, None) if self.edge_types is not None else None
        level = getattr(data, self.level_key, None) if self.level_key else None
        return build_topological_plan(edge_index, num_nodes, level, flow=self.flow, edge_type=edge_type,
                                      edge_types=self.edge_types, num_edge_types=self.num_edge_types,
                                      chains=self.chains).cut_levels()


def _num_nodes(data, edge_index_key: str) -> int:
    """Nodes of the graph ``edge_index_key`` indexes: ``num_nodes``, or the rows of the matching ``x``."""
    if edge_index_key == "edge_index":
        return data.num_nodes
    prefix = edge_index_key[: -len("edge_index")]  # e.g. "src_" for "src_edge_index"
    for name in (f"{prefix}x", f"{prefix}num_nodes", prefix.rstrip("_")):
        value = getattr(data, name, None)
        if value is not None:
            if is_int(value):
                return int(value)
            if isinstance(value, Tensor) and value.dim() >= 1:
                return value.size(0)
            raise TypeError(f"{name} must be a node count (an int) or features (a tensor with a row per node), got "
                            f"{value!r}")
    raise ValueError(f"cannot tell how many nodes {edge_index_key!r} has: give the batch '{prefix}x' or "
                     f"'{prefix}num_nodes'")
