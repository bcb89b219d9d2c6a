"""Tests of the graph builders in graphrnn/data/graphs.py."""
import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.data import (
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

# --------------------------------------------------------------------------- chain


@pytest.mark.parametrize("num_steps", [0, 1, 2, 5, np.int64(4), torch.tensor(3)])
def test_chain_edge_index_counts(num_steps):
    n = int(num_steps)
    edge_index = chain_edge_index(num_steps)
    assert edge_index.dtype == torch.long and edge_index.tolist() == [list(range(n - 1)), list(range(1, n))]


@pytest.mark.parametrize("num_steps", [2.5, 3.0, True, "4", None, torch.tensor(2.0), np.float32(2)])
def test_chain_edge_index_rejects_non_integer_sizes(num_steps):
    with pytest.raises(TypeError, match="num_steps must be an integer"):
        chain_edge_index(num_steps)


def test_chain_edge_index_rejects_negative_sizes():
    with pytest.raises(ValueError, match="num_steps must be >= 0, got -1"):
        chain_edge_index(-1)


def test_tree_graph_rejects_non_integer_num_labels():
    with pytest.raises(TypeError, match="num_labels must be an integer"):
        tree_graph([0, 1], [-1, 0], num_labels=2.5)
    with pytest.raises(ValueError, match="num_labels must be >= 0"):
        tree_graph([0, 1], [-1, 0], num_labels=-3)


def test_chain_graph_tokens():
    data = chain_graph(torch.tensor([7, 8, 9, 10]))
    assert data.num_nodes == 4
    assert data.edge_index.dtype == torch.long
    assert data.edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert data.x.tolist() == [7, 8, 9, 10]
    assert "y" not in data


def test_chain_graph_features_and_per_node_targets():
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
    data = chain_graph(x, y=torch.tensor([1, 2, 3]))
    assert data.x is x
    assert data.y.tolist() == [1, 2, 3]
    assert data.edge_index.tolist() == [[0, 1], [1, 2]]


def test_chain_graph_converts_lists_and_numpy():
    data = chain_graph([4, 5, 6], y=np.array([5, 6, 0]))
    assert data.x.dtype == torch.long and data.x.tolist() == [4, 5, 6]
    assert isinstance(data.y, torch.Tensor) and data.y.tolist() == [5, 6, 0]
    features = chain_graph(np.zeros((2, 3), dtype=np.float32))
    assert features.x.shape == (2, 3) and features.x.dtype == torch.float32


def test_chain_graph_per_sequence_label():
    data = chain_graph([1, 2, 3], y=4)
    assert data.y.dim() == 0 and int(data.y) == 4


def test_chain_graph_empty_and_single_node():
    empty = chain_graph(torch.zeros(0, dtype=torch.long))
    assert empty.num_nodes == 0 and empty.edge_index.shape == (2, 0)
    assert empty.edge_index.dtype == torch.long
    single = chain_graph([3])
    assert single.num_nodes == 1 and single.edge_index.shape == (2, 0)


def test_chain_graph_rejects_scalar_x():
    with pytest.raises(ValueError, match="time dimension"):
        chain_graph(torch.tensor(3))


def test_chain_graph_rejects_string_tokens():
    with pytest.raises(ValueError, match="vocabulary"):
        chain_graph(["the", "cat"])


def test_chain_graph_rejects_wrong_target_length():
    with pytest.raises(ValueError, match=r"y has first dimension 2 but the sequence has T=3"):
        chain_graph([1, 2, 3], y=[1, 2])


# --------------------------------------------------------------------------- tree

#        0
#      / | \
#     1  2  4
#     |
#     3
HAND_PARENTS = [-1, 0, 0, 1, 0]


def test_tree_graph_hand_example():
    data = tree_graph([10, 11, 12, 13, 14], HAND_PARENTS)
    assert data.num_nodes == 5
    assert data.y.tolist() == [10, 11, 12, 13, 14]
    # PARENT edges sorted by child, then SIBLING edges sorted by the next sibling.
    assert data.edge_index.tolist() == [[0, 0, 1, 0, 1, 2], [1, 2, 3, 4, 2, 4]]
    assert data.edge_type.tolist() == [PARENT] * 4 + [SIBLING] * 2
    assert data.has_children.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert data.has_next_sibling.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    assert data.depth.tolist() == [0, 1, 1, 2, 1]
    assert data.has_children.is_floating_point() and data.depth.dtype == torch.long
    assert data.edge_type.dtype == torch.long and data.y.dtype == torch.long


def test_tree_graph_children_ordered_by_index_not_position():
    # root is node 2; its children are 0, 3 and 1 in list order but 0 < 1 < 3 by index.
    data = tree_graph([0, 0, 0, 0], [2, 2, -1, 2])
    assert data.edge_index.tolist() == [[2, 2, 2, 0, 1], [0, 1, 3, 1, 3]]
    assert data.edge_type.tolist() == [PARENT, PARENT, PARENT, SIBLING, SIBLING]
    assert data.has_next_sibling.tolist() == [1.0, 1.0, 0.0, 0.0]
    assert data.depth.tolist() == [1, 1, 0, 1]


def test_tree_graph_single_node():
    data = tree_graph([3], [-1])
    assert data.num_nodes == 1 and data.edge_index.shape == (2, 0) and data.edge_type.shape == (0,)
    assert data.has_children.tolist() == [0.0] and data.has_next_sibling.tolist() == [0.0]
    assert data.depth.tolist() == [0]


def test_tree_parents_hand_example():
    data = tree_graph([1, 2, 3, 4, 5], HAND_PARENTS)
    assert tree_parents(data).tolist() == HAND_PARENTS


@pytest.mark.parametrize(
    "labels, parents, match",
    [
        ([1, 2, 3], [-1, 0], "3 labels and 2 parents"),
        ([1, 2], [1, 0], "exactly one root"),
        ([1, 2, 3], [-1, -1, 0], r"found 2 at nodes \[0, 1\]"),
        ([], [], "found none"),
        ([1, 2], [-1, 5], r"parents\[1\] = 5 is out of range"),
        ([1, 2], [-1, -3], r"parents\[1\] = -3 is out of range"),
        ([1, 2, 3], [-1, 1, 0], r"nodes \[1\] are their own parent"),
        ([1, 2, 3, 4], [-1, 2, 3, 1], "do not form a tree.*cycle"),
        (["a", "b"], [-1, 0], "vocabulary"),
        ([1.5, 2.0], [-1, 0], "labels must hold integer ids"),
        ([1, 2], [-1.0, 0.0], "parents must hold integer ids"),
        ([[1, 2]], [-1], "labels must be 1-D"),
    ],
)
def test_tree_graph_rejects_bad_input(labels, parents, match):
    with pytest.raises(ValueError, match=match):
        tree_graph(labels, parents)


def test_tree_parents_needs_edge_type():
    with pytest.raises(ValueError, match="build it with tree_graph"):
        tree_parents(chain_graph([1, 2, 3]))


def test_tree_parents_rejects_two_parents():
    data = tree_graph([1, 2, 3], [-1, 0, 0])
    data.edge_index = torch.tensor([[0, 0, 1], [1, 2, 2]])
    data.edge_type = torch.tensor([PARENT, PARENT, PARENT])
    with pytest.raises(ValueError, match=r"nodes \[2\] have several PARENT edges"):
        tree_parents(data)


@st.composite
def random_trees(draw, max_nodes=30):
    """Parent arrays of random trees: node order[i] hangs below some earlier node order[j], j < i."""
    num_nodes = draw(st.integers(1, max_nodes))
    order = draw(st.permutations(range(num_nodes)))
    parents = [-1] * num_nodes
    for position in range(1, num_nodes):
        parents[order[position]] = order[draw(st.integers(0, position - 1))]
    return parents


@settings(max_examples=50, deadline=None)
@given(random_trees())
def test_tree_graph_properties(parents):
    num_nodes = len(parents)
    data = tree_graph(list(range(num_nodes)), parents)
    is_parent = data.edge_type == PARENT
    assert int(is_parent.sum()) == num_nodes - 1
    internal = {p for p in parents if p >= 0}
    assert data.has_children.tolist() == [float(i in internal) for i in range(num_nodes)]
    # every internal node has exactly one last child, and the root has no sibling
    assert int(data.has_next_sibling.sum()) == num_nodes - len(internal) - 1
    assert tree_parents(data).tolist() == parents
    root = parents.index(-1)
    tree = nx.DiGraph([(p, i) for i, p in enumerate(parents) if p >= 0])
    tree.add_node(root)
    distance = nx.single_source_shortest_path_length(tree, root)
    assert data.depth.tolist() == [distance[i] for i in range(num_nodes)]


@settings(max_examples=50, deadline=None)
@given(random_trees())
def test_tree_graph_sibling_edges_link_consecutive_children(parents):
    data = tree_graph([0] * len(parents), parents)
    children = {}
    for node, parent in enumerate(parents):
        children.setdefault(parent, []).append(node)
    expected = sorted(
        (kids[k], kids[k + 1]) for parent, kids in children.items() if parent >= 0 for k in range(len(kids) - 1)
    )
    siblings = data.edge_index[:, data.edge_type == SIBLING].t().tolist()
    assert sorted(map(tuple, siblings)) == expected
    assert siblings == sorted(siblings, key=lambda edge: edge[1])  # sorted by target
    assert data.has_next_sibling.tolist() == [float(any(u == i for u, _ in expected)) for i in range(len(parents))]


# --------------------------------------------------------------------------- scene


def test_scene_graph_hand_example():
    person_x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    data = scene_graph(person_x, torch.tensor([7.0, 8.0, 9.0]), person_y=[0, 1, 2], scene_y=4)
    assert data.num_nodes == 4
    assert data.edge_index.tolist() == [
        [0, 0, 1, 1, 2, 2, 0, 1, 2, 3, 3, 3],
        [1, 2, 0, 2, 0, 1, 3, 3, 3, 0, 1, 2],
    ]
    assert data.edge_type.tolist() == [PERSON_TO_PERSON] * 6 + [PERSON_TO_SCENE] * 3 + [SCENE_TO_PERSON] * 3
    assert data.node_type.tolist() == [PERSON, PERSON, PERSON, SCENE]
    assert torch.equal(data.person_x, person_x)
    assert data.scene_x.tolist() == [[7.0, 8.0, 9.0]]
    assert data.person_y.tolist() == [0, 1, 2] and data.person_y.dtype == torch.long
    assert data.scene_y.tolist() == [4] and data.scene_y.dtype == torch.long


def test_scene_graph_single_person_and_row_scene_features():
    data = scene_graph([[1, 2]], [[3.0, 4.0]], scene_y=torch.tensor([1]))
    assert data.person_x.is_floating_point()
    assert data.edge_index.tolist() == [[0, 1], [1, 0]]
    assert data.edge_type.tolist() == [PERSON_TO_SCENE, SCENE_TO_PERSON]
    assert data.scene_x.shape == (1, 2) and data.scene_y.tolist() == [1]
    assert "person_y" not in data


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(person_x=torch.zeros(0, 2), scene_x=[1.0]), "at least one person"),
        (dict(person_x=[1.0, 2.0], scene_x=[1.0]), r"person_x must have shape \[K, F_p\]"),
        (dict(person_x=torch.zeros(2, 2), scene_x=torch.zeros(2, 3)), r"scene_x must have shape \[F_s\] or \[1, F_s\]"),
        (dict(person_x=torch.zeros(2, 2), scene_x=[1.0], person_y=[0, 1, 2]), "got 3 labels for K=2 persons"),
        (dict(person_x=torch.zeros(2, 2), scene_x=[1.0], person_y=[0.5, 1.0]), "person_y must hold integer ids"),
        (dict(person_x=torch.zeros(2, 2), scene_x=[1.0], scene_y=[1, 2]), "scene_y must be a single label"),
        (dict(person_x=torch.zeros(2, 2), scene_x=[1.0], scene_y=1.0), "scene_y must hold integer ids"),
    ],
)
def test_scene_graph_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scene_graph(**kwargs)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12))
def test_scene_graph_is_complete_without_self_loops(num_persons):
    data = scene_graph(torch.zeros(num_persons, 2), torch.zeros(3))
    num_edges = num_persons * (num_persons - 1) + 2 * num_persons
    assert data.edge_index.shape == (2, num_edges) and data.edge_type.shape == (num_edges,)
    edges = set(map(tuple, data.edge_index.t().tolist()))
    nodes = range(num_persons + 1)
    assert edges == {(u, v) for u in nodes for v in nodes if u != v}
    src_type, dst_type = data.node_type[data.edge_index[0]], data.node_type[data.edge_index[1]]
    expected_type = torch.where(
        src_type == SCENE, SCENE_TO_PERSON, torch.where(dst_type == SCENE, PERSON_TO_SCENE, PERSON_TO_PERSON)
    )
    assert torch.equal(data.edge_type, expected_type)


def test_tree_graph_refuses_negative_labels_without_num_labels():
    # before: accepted without num_labels, and failed far away (an embedding lookup) or scored as a label
    with pytest.raises(ValueError, match=r"labels\[0\] = -1 is outside the vocabulary \(ids are >= 0\)"):
        tree_graph([-1, 1], [-1, 0])
