"""PyG transforms that precompute what the recurrent schedules need."""
from __future__ import annotations

from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from graphrnn.graph.levels import topological_levels

__all__ = ["TopologicalLevels"]


class TopologicalLevels(BaseTransform):
    r"""Stores the topological level (wavefront) of every node.

    ``data.level`` (``LongTensor [N]``) is
    :func:`graphrnn.graph.topological_levels` of ``data.edge_index``: sources
    are at level 0 and every edge goes from a lower to a higher level. With
    ``reverse=True`` it also stores ``data.reverse_level``, the levels of the
    reversed edges (sinks at level 0), used by ``flow="target_to_source"``
    (leaves -> root).

    The levels are per graph and survive PyG batching unchanged: PyG offsets only
    attributes whose name contains ``"index"`` (or ``"batch"``), so after
    batching ``batch.level`` is the concatenation of each graph's levels, which
    equal the levels of the batched (disjoint) graph.

    Args:
        reverse (bool, optional): also store ``reverse_level``. (default: ``False``)

    Raises:
        ValueError: (when called) if the graph has a directed cycle or a bad ``edge_index``.
    """

    def __init__(self, reverse: bool = False) -> None:
        if not isinstance(reverse, bool):
            raise TypeError(f"reverse must be True or False, got {reverse!r}")
        self.reverse = reverse

    def forward(self, data: Data) -> Data:
        edge_index = getattr(data, "edge_index", None)
        if edge_index is None:
            raise ValueError("TopologicalLevels needs data.edge_index; build graphs with graphrnn.data builders")
        num_nodes = data.num_nodes
        data.level = topological_levels(edge_index, num_nodes)
        if self.reverse:
            data.reverse_level = topological_levels(edge_index.flip(0), num_nodes)
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(reverse={self.reverse})"
