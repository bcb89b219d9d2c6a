"""Graph structure below both :mod:`graphrnn.data` and :mod:`graphrnn.nn`: validation of
``edge_index``, topological levels, and the execution plans of the recurrent schedules.

Nothing here imports the rest of graphrnn, so the loaders (which build plans in their
collate) and the layers (which run them) both import from here.
"""
from graphrnn.graph.checks import check_edge_index, check_edge_type, check_levels, device_assert
from graphrnn.graph.levels import find_cycle, forest_depth_and_root, topological_levels
from graphrnn.graph.plan import ChainPacking, TopologicalPlan, build_topological_plan
from graphrnn.graph.planner import Planner

__all__ = [
    "check_edge_index",
    "check_edge_type",
    "check_levels",
    "device_assert",
    "topological_levels",
    "forest_depth_and_root",
    "find_cycle",
    "TopologicalPlan",
    "ChainPacking",
    "build_topological_plan",
    "Planner",
]
