"""Audit of graphrnn.graph on inputs from elsewhere: node counts, edge-type selections, levels and edge types on
another device, meta and sparse edges, and the plan's invariance to how the same edges are stored.

Each bad input here used to fail inside torch (``bincount``'s ``TypeError``, an ``AttributeError``, ``item()``
on a meta tensor) or was accepted silently (``edge_types="12"`` followed types 1 and 2, ``[-1]`` followed
nothing); now it is a ``ValueError``/``TypeError`` naming the argument and what to pass.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric import EdgeIndex

from graphrnn.graph import Planner, build_topological_plan, topological_levels
from graphrnn.graph.checks import check_edge_types, check_num_nodes
from graphrnn.nn import ChainRNN

EDGES = torch.tensor([[0, 0, 1, 3], [1, 2, 3, 4]])
TYPES = torch.tensor([0, 1, 0, 1])


@pytest.mark.parametrize("num_nodes", [5.0, True, "5", [5], torch.tensor(5.0), torch.tensor([5])])
def test_num_nodes_must_be_an_int(num_nodes):
    for build in (build_topological_plan, topological_levels):
        with pytest.raises(TypeError, match="num_nodes must be an int"):
            build(EDGES, num_nodes)


def test_num_nodes_accepts_an_integer_scalar_tensor_and_refuses_negatives():
    plan = build_topological_plan(EDGES, torch.tensor(7))
    assert plan.num_nodes == 7 and isinstance(plan.num_nodes, int)
    assert check_num_nodes(torch.tensor(3, dtype=torch.int32)) == 3
    with pytest.raises(ValueError, match="num_nodes must be >= 0, got -2"):
        build_topological_plan(torch.zeros(2, 0, dtype=torch.long), -2)


@pytest.mark.parametrize("edge_types", ["12", "0", 0, [-1], [True], [0.0], torch.tensor([0])])
def test_edge_types_must_be_a_list_of_non_negative_ints(edge_types):
    with pytest.raises(TypeError, match="edge_types must be a list of non-negative ints"):
        build_topological_plan(EDGES, 5, edge_type=TYPES, edge_types=edge_types)
    with pytest.raises(TypeError, match="edge_types must be a list of non-negative ints"):
        Planner(edge_types=edge_types)


def test_edge_types_empty_or_repeated_are_refused_everywhere():
    for bad, message in (([], "at least one edge type"), ([0, 0], "names a type twice")):
        with pytest.raises(ValueError, match=message):
            build_topological_plan(EDGES, 5, edge_type=TYPES, edge_types=bad)
        with pytest.raises(ValueError, match=message):
            Planner(edge_types=bad)
        with pytest.raises(ValueError, match=message):
            ChainRNN(3, 4, edge_types=bad)


def test_a_planner_keeps_its_edge_types_as_a_tuple_and_matches_the_layer():
    layer = ChainRNN(3, 4, flow="target_to_source", edge_types=[1])
    assert Planner(flow="target_to_source", edge_types=[1]) == layer.planner()
    assert check_edge_types(range(2)) == (0, 1)


def test_levels_must_be_a_tensor_on_the_edges_device():
    with pytest.raises(ValueError, match=r"level must be a LongTensor of shape \[num_nodes\]=\[5\], got list"):
        build_topological_plan(EDGES, 5, [0, 1, 1, 2, 3])  # before: AttributeError 'list' has no 'detach'
    with pytest.raises(ValueError, match="level is on meta but edge_index is on cpu"):
        build_topological_plan(EDGES, 5, torch.tensor([0, 1, 1, 2, 3], device="meta"))


def test_edge_type_must_sit_with_the_edges():
    with pytest.raises(ValueError, match="edge_type is on meta but edge_index is on cpu"):
        build_topological_plan(EDGES, 5, edge_type=TYPES.to("meta"), edge_types=[0])


def test_meta_edges_hold_no_values_to_plan_from():
    with pytest.raises(ValueError, match="meta device, which holds no values to check"):
        build_topological_plan(EDGES.to("meta"), 5)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_sparse_and_dense_adjacency_get_a_conversion():
    adjacency = torch.sparse_coo_tensor(EDGES, torch.ones(4), (5, 5), check_invariants=True)
    for sparse in (adjacency, adjacency.to_sparse_csr()):
        with pytest.raises(TypeError, match="sparse adjacency"):
            build_topological_plan(sparse, 5)
    with pytest.raises(ValueError, match=r"adj.nonzero\(\).t\(\)"):
        build_topological_plan(adjacency.to_dense().long(), 5)
    with pytest.raises(ValueError, match=r"edge_index.t\(\)"):
        build_topological_plan(EDGES.t(), 5)


@st.composite
def small_dags(draw, max_nodes=10):
    n = draw(st.integers(1, max_nodes))
    perm = draw(st.permutations(range(n)))
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=2 * n, unique=True)) if pairs else []
    extra = draw(st.integers(0, 3))  # isolated nodes past the last id that appears in an edge
    return n + extra, [(perm[u], perm[v]) for u, v in chosen]


PLAN_TENSORS = ("node_order", "node_position", "edge_order", "source", "target", "bag_offset", "root_local")


@settings(max_examples=40, deadline=None)
@given(small_dags(), st.sampled_from(["source_to_target", "target_to_source"]))
def test_the_plan_does_not_depend_on_how_the_edges_are_stored(graph, flow):
    """int32, a non-contiguous view and PyG's EdgeIndex give the plan of the contiguous int64 edges."""
    n, edges = graph
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1).contiguous()
    reference = build_topological_plan(edge_index, n, flow=flow)
    view = torch.stack([edge_index[1], edge_index[0]], 1).t().flip(0)
    variants = {"int32": edge_index.int(), "view": view,
                "EdgeIndex": EdgeIndex(edge_index, sparse_size=(n, n))}
    for name, stored in variants.items():
        plan = build_topological_plan(stored, n, flow=flow)
        assert (plan.level_ptr, plan.edge_ptr, plan.root_ptr) == (reference.level_ptr, reference.edge_ptr,
                                                                  reference.root_ptr), name
        for field in PLAN_TENSORS:
            assert torch.equal(getattr(plan, field), getattr(reference, field)), (name, field)
        # and the plan of one storage serves the same edges stored another way (checked elementwise)
        reference.check(stored, n, flow)


def test_forest_depth_and_root_refuses_what_is_not_a_forest():
    """A node with two predecessors used to keep one of them silently (node 2 got depth 1 under root 1)."""
    from graphrnn.graph import forest_depth_and_root

    with pytest.raises(ValueError, match="at most one predecessor per node, but node 2 has 2"):
        forest_depth_and_root(torch.tensor([0, 1]), torch.tensor([2, 2]), 3)
    with pytest.raises(ValueError, match="refers to node 5"):
        forest_depth_and_root(torch.tensor([0]), torch.tensor([5]), 3)
    with pytest.raises(ValueError, match="src and dst must be two"):
        forest_depth_and_root([0], [1], 2)
    depth, root = forest_depth_and_root(torch.tensor([0, 1, 3]), torch.tensor([1, 2, 4]).int(), 5)
    assert depth.tolist() == [0, 1, 2, 0, 1] and root.tolist() == [0, 0, 0, 3, 3]


def test_check_levels_names_levels_on_another_device():
    from graphrnn.graph import check_levels

    with pytest.raises(ValueError, match="level is on meta but edge_index is on cpu"):
        check_levels(torch.tensor([0, 1, 1, 2, 3], device="meta"), EDGES, 5)  # before: an indexing RuntimeError


def test_a_torch_sparse_adjacency_object_gets_its_conversion():
    class SparseTensor:  # stands in for torch_sparse.SparseTensor (not installed here): not a torch.Tensor
        pass

    with pytest.raises(TypeError, match=r"got SparseTensor; take the edges .* adj.coo\(\)"):
        build_topological_plan(SparseTensor(), 5)
    with pytest.raises(TypeError, match=r"got list$"):
        build_topological_plan([[0], [1]], 5)
