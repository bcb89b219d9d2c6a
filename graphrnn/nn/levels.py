"""Moved to :mod:`graphrnn.graph.levels` (kept so that ``graphrnn.nn.levels`` imports still work)."""
from graphrnn.graph.checks import check_edge_index
from graphrnn.graph.levels import find_cycle, forest_depth_and_root, topological_levels

__all__ = ["topological_levels", "check_edge_index", "find_cycle", "forest_depth_and_root"]
