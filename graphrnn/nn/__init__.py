"""Layers: the shared recurrent message-passing base and the models built on it."""
from .attention import Attention
from .cells import CELLS, make_cell, set_forget_bias
from .chain import ChainRNN
from .dagnn import DAGNN, DAGNNConv
from .drnn import DRNN, DRNNOutput, tree_links
from .hmm import HMM
from .levels import topological_levels
from .recurrent import RecurrentMessagePassing, SynchronousStep
from .schedule import TopologicalPlan, build_topological_plan
from .sim import SceneUnary, StructureInferenceMachine
from .tree_lstm import ChildSumTreeLSTM, NaryTreeLSTM
from .typed import TypedLinear

__all__ = [
    "RecurrentMessagePassing",
    "Attention",
    "SynchronousStep",
    "ChainRNN",
    "DRNN",
    "DRNNOutput",
    "tree_links",
    "HMM",
    "topological_levels",
    "TopologicalPlan",
    "build_topological_plan",
    "TypedLinear",
    "CELLS",
    "make_cell",
    "set_forget_bias",
    "StructureInferenceMachine",
    "SceneUnary",
    "ChildSumTreeLSTM",
    "NaryTreeLSTM",
    "DAGNN",
    "DAGNNConv",
]
