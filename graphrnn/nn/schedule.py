"""Moved to :mod:`graphrnn.graph.plan` (kept so that ``graphrnn.nn.schedule`` imports still work)."""
from graphrnn.graph.checks import check_edge_type, check_levels
from graphrnn.graph.plan import ChainPacking, TopologicalPlan, build_topological_plan

__all__ = ["TopologicalPlan", "ChainPacking", "build_topological_plan", "check_levels", "check_edge_type"]
