"""Graph builders, networkx conversion, transforms and the batched loader.

Every recurrent model of :mod:`graphrnn` runs on a graph built here; mini-batches
are PyG batches made by :class:`DataLoader` (``torch_geometric.loader.DataLoader`` that
also builds the layers' execution plans in its collate).
"""
from graphrnn.data.convert import from_networkx, to_networkx
from graphrnn.data.graphs import (
    NUM_SCENE_EDGE_TYPES,
    NUM_TREE_EDGE_TYPES,
    PARENT,
    PERSON,
    PERSON_TO_PERSON,
    PERSON_TO_SCENE,
    SCENE,
    SCENE_TO_PERSON,
    SIBLING,
    chain_edge_index,
    chain_graph,
    scene_graph,
    tree_graph,
    tree_parents,
)
from graphrnn.data.hetero import from_hetero, to_hetero
from graphrnn.data.loader import DataLoader
from graphrnn.data.transforms import TopologicalLevels

__all__ = [
    "chain_graph",
    "chain_edge_index",
    "tree_graph",
    "tree_parents",
    "scene_graph",
    "from_networkx",
    "to_networkx",
    "from_hetero",
    "to_hetero",
    "DataLoader",
    "TopologicalLevels",
    "PARENT",
    "SIBLING",
    "NUM_TREE_EDGE_TYPES",
    "PERSON_TO_PERSON",
    "PERSON_TO_SCENE",
    "SCENE_TO_PERSON",
    "NUM_SCENE_EDGE_TYPES",
    "PERSON",
    "SCENE",
]
