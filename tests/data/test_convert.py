"""Tests of networkx conversion in graphrnn/data/convert.py."""
from collections import Counter

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.data import chain_graph, from_networkx, scene_graph, to_networkx, tree_graph


def typed_edges(data):
    """Multiset of ``(source, target, type)`` triples of a Data."""
    types = data.edge_type.tolist() if "edge_type" in data else [None] * data.edge_index.size(1)
    return Counter(zip(data.edge_index[0].tolist(), data.edge_index[1].tolist(), types))


# --------------------------------------------------------------------------- from_networkx


def test_from_networkx_hand_example_with_labels():
    G = nx.DiGraph()
    G.add_node("a", x=[1.0, 2.0], y=3)
    G.add_node("b", x=[3.0, 4.0], y=4)
    G.add_node("c", x=[5.0, 6.0], y=5)
    G.add_edge("a", "b", kind="sibling", w=0.5)
    G.add_edge("b", "c", kind="parent", w=1.5)
    G.add_edge("a", "c", kind="parent", w=2.5)
    data = from_networkx(G, edge_type_attr="kind", node_attrs=["x", "y"], edge_attrs="w")
    assert data.num_nodes == 3
    assert data.node_keys == ["a", "b", "c"]
    assert data.edge_index.tolist() == [[0, 0, 1], [1, 2, 2]]  # G.edges order
    assert data.edge_type_names == ["parent", "sibling"]  # sorted unique labels
    assert data.edge_type.tolist() == [1, 0, 0]
    assert data.x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert data.y.tolist() == [3, 4, 5] and data.y.dtype == torch.long
    assert data.w.tolist() == [0.5, 2.5, 1.5]


def test_from_networkx_integer_types_are_used_as_is():
    G = nx.DiGraph([(2, 0, {"t": 3}), (0, 1, {"t": 0})])
    data = from_networkx(G, edge_type_attr="t")
    assert data.node_keys == [2, 0, 1]
    assert data.edge_index.tolist() == [[0, 1], [1, 2]]
    assert data.edge_type.tolist() == [3, 0]
    assert "edge_type_names" not in data


def test_from_networkx_edge_types_sequence_and_dict():
    G = nx.DiGraph([(0, 1, {"t": "sib"}), (1, 2, {"t": "par"})])
    by_list = from_networkx(G, edge_type_attr="t", edge_types=["par", "sib"])
    assert by_list.edge_type.tolist() == [1, 0] and by_list.edge_type_names == ["par", "sib"]
    by_dict = from_networkx(G, edge_type_attr="t", edge_types={"sib": 2, "par": 0})
    assert by_dict.edge_type.tolist() == [2, 0] and by_dict.edge_type_names == ["par", None, "sib"]


def test_from_networkx_multidigraph_keeps_parallel_edges():
    G = nx.MultiDiGraph()
    G.add_edge(0, 1, t=0)
    G.add_edge(0, 1, t=1)
    G.add_edge(1, 0, t=1)
    data = from_networkx(G, edge_type_attr="t")
    assert data.edge_index.tolist() == [[0, 0, 1], [1, 1, 0]]
    assert data.edge_type.tolist() == [0, 1, 1]


def test_from_networkx_empty_graph():
    data = from_networkx(nx.DiGraph(), edge_type_attr="t", node_attrs="x")
    assert data.num_nodes == 0 and data.edge_index.shape == (2, 0)
    assert data.edge_index.dtype == torch.long and data.edge_type.shape == (0,)
    assert data.x.shape == (0,)


@pytest.mark.parametrize("graph", [nx.Graph([(0, 1)]), nx.MultiGraph([(0, 1)])])
def test_from_networkx_rejects_undirected(graph):
    with pytest.raises(ValueError, match=r"call G.to_directed\(\).*both directions"):
        from_networkx(graph)


def test_from_networkx_rejects_non_graph():
    with pytest.raises(TypeError, match="networkx DiGraph"):
        from_networkx([(0, 1)])


def test_from_networkx_rejects_edge_without_type():
    G = nx.DiGraph([(0, 1, {"t": 0}), ("u", "v")])
    with pytest.raises(ValueError, match=r"edge \('u', 'v'\) has no 't' attribute"):
        from_networkx(G, edge_type_attr="t")


def test_from_networkx_rejects_unknown_label():
    G = nx.DiGraph([(0, 1, {"t": "par"}), (1, 2, {"t": "cousin"})])
    with pytest.raises(ValueError, match=r"edge \(1, 2\) has t='cousin', which is not in edge_types"):
        from_networkx(G, edge_type_attr="t", edge_types=["par", "sib"])


def test_from_networkx_rejects_unsortable_labels():
    G = nx.DiGraph([(0, 1, {"t": "par"}), (1, 2, {"t": 3})])
    with pytest.raises(ValueError, match="pass edge_types"):
        from_networkx(G, edge_type_attr="t")


def test_from_networkx_rejects_negative_type_and_duplicate_labels():
    with pytest.raises(ValueError, match="must be >= 0"):
        from_networkx(nx.DiGraph([(0, 1, {"t": -1})]), edge_type_attr="t")
    with pytest.raises(ValueError, match="lists label 'a' twice"):
        from_networkx(nx.DiGraph([(0, 1, {"t": "a"})]), edge_type_attr="t", edge_types=["a", "a"])
    with pytest.raises(TypeError, match="edge_types must be a sequence"):
        from_networkx(nx.DiGraph([(0, 1, {"t": "a"})]), edge_type_attr="t", edge_types="ab")


def test_from_networkx_rejects_node_without_attribute():
    G = nx.DiGraph()
    G.add_node("a", x=1.0)
    G.add_node("b")
    with pytest.raises(ValueError, match=r"node 'b' has no 'x' attribute"):
        from_networkx(G, node_attrs=["x"])


def test_from_networkx_rejects_edge_without_attribute():
    G = nx.DiGraph([(0, 1, {"w": 1.0}), (1, 2)])
    with pytest.raises(ValueError, match=r"edge \(1, 2\) has no 'w' attribute"):
        from_networkx(G, edge_attrs=["w"])


def test_from_networkx_rejects_ragged_and_reserved_attributes():
    G = nx.DiGraph()
    G.add_node(0, x=[1.0, 2.0])
    G.add_node(1, x=[1.0])
    with pytest.raises(ValueError, match=r"'x' has shape \[1\] on node 1 but \[2\] on node 0"):
        from_networkx(G, node_attrs="x")
    with pytest.raises(ValueError, match="'edge_index' is reserved"):
        from_networkx(G, node_attrs="edge_index")


# --------------------------------------------------------------------------- to_networkx


def test_to_networkx_tree_hand_example():
    data = tree_graph([10, 11, 12], [-1, 0, 0])
    G = to_networkx(data)
    assert type(G) is nx.DiGraph
    assert list(G.nodes) == [0, 1, 2]
    assert sorted(G.edges(data="edge_type")) == [(0, 1, 0), (0, 2, 0), (1, 2, 1)]
    assert G.nodes[1] == {"y": 11, "has_children": 0.0, "has_next_sibling": 1.0, "depth": 1}


def test_to_networkx_lists_for_rows_and_explicit_attrs():
    data = chain_graph(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), y=7)
    G = to_networkx(data)
    assert G.nodes[1] == {"x": [3.0, 4.0]}  # the 0-d per-sequence y is not a node attribute
    assert list(G.edges(data=True)) == [(0, 1, {})]
    G = to_networkx(data, node_attrs=[], edge_attrs=[])
    assert G.nodes[0] == {}


def test_to_networkx_parallel_edges_give_multidigraph():
    from torch_geometric.data import Data

    data = Data(edge_index=torch.tensor([[0, 0], [1, 1]]), edge_type=torch.tensor([0, 1]), num_nodes=2)
    G = to_networkx(data)
    assert isinstance(G, nx.MultiDiGraph)
    assert sorted(G.edges(data="edge_type")) == [(0, 1, 0), (0, 1, 1)]


def test_to_networkx_rejects_wrong_attributes():
    data = scene_graph(torch.zeros(2, 3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"'person_x' has shape \[2, 3\], expected first dimension 3"):
        to_networkx(data, node_attrs=["person_x"])
    with pytest.raises(ValueError, match="no tensor attribute 'nope'"):
        to_networkx(data, edge_attrs=["nope"])


@pytest.mark.parametrize(
    "data",
    [
        tree_graph([1, 2, 3, 4, 5], [-1, 0, 0, 1, 0]),
        scene_graph(torch.zeros(3, 2), torch.zeros(2)),
        chain_graph([4, 5, 6, 7]),
        chain_graph(torch.zeros(0, dtype=torch.long)),
    ],
)
def test_round_trip_of_builders(data):
    back = from_networkx(to_networkx(data), edge_type_attr="edge_type" if "edge_type" in data else None)
    assert back.num_nodes == data.num_nodes
    assert typed_edges(back) == typed_edges(data)


node_keys = st.one_of(st.integers(-50, 50), st.text(min_size=1, max_size=3))


@st.composite
def random_digraphs(draw):
    multi = draw(st.booleans())
    keys = draw(st.lists(node_keys, unique=True, max_size=10))
    G = nx.MultiDiGraph() if multi else nx.DiGraph()
    G.add_nodes_from(keys)
    if keys:
        pairs = st.tuples(st.sampled_from(keys), st.sampled_from(keys), st.integers(0, 3))
        for u, v, t in draw(st.lists(pairs, max_size=25)):
            G.add_edge(u, v, t=t)
    return G


@settings(max_examples=50, deadline=None)
@given(random_digraphs())
def test_round_trip_of_random_digraphs(G):
    data = from_networkx(G, edge_type_attr="t")
    assert data.num_nodes == G.number_of_nodes()
    assert data.node_keys == list(G.nodes)
    keys = data.node_keys
    original = Counter((u, v, t) for u, v, t in G.edges(data="t"))
    assert Counter((keys[u], keys[v], t) for (u, v, t) in typed_edges(data).elements()) == original

    H = to_networkx(data)
    assert isinstance(H, nx.MultiDiGraph) == (len(set(zip(*data.edge_index.tolist()))) < data.edge_index.size(1))
    back = from_networkx(H, edge_type_attr="edge_type")
    assert back.num_nodes == data.num_nodes
    assert typed_edges(back) == typed_edges(data)


# ------------------------------------------------------- placement by name, not by size


def test_to_networkx_keeps_edge_attributes_on_edges_when_E_equals_N():
    from torch_geometric.data import Data

    # a 3-cycle: E == N == 3; 'weight' and 'edge_attr' are per edge, 'x' per node
    data = Data(x=torch.tensor([[1.0], [2.0], [3.0]]), edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]),
                edge_attr=torch.tensor([10.0, 20.0, 30.0]), weight=torch.tensor([7, 8, 9]), num_nodes=3)
    G = to_networkx(data)
    assert dict(G.nodes(data=True)) == {0: {"x": [1.0]}, 1: {"x": [2.0]}, 2: {"x": [3.0]}}
    assert list(G.edges(data=True)) == [(0, 1, {"edge_attr": 10.0}), (1, 2, {"edge_attr": 20.0}),
                                        (2, 0, {"edge_attr": 30.0})]
    G = to_networkx(data, node_attrs=[], edge_attrs=["weight"])
    assert G.nodes[0] == {} and G.edges[2, 0] == {"weight": 9}


def test_to_networkx_rejects_a_graph_level_y_among_node_attributes():
    from torch_geometric.data import Data

    data = Data(x=torch.zeros(3, 2), y=torch.tensor([1]), edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
    with pytest.raises(ValueError, match=r"node attribute 'y' has shape \[1\], expected first dimension 3.*"
                                         r"node_attrs="):
        to_networkx(data)
    assert to_networkx(data, node_attrs=["x"]).number_of_nodes() == 3


@pytest.mark.parametrize("graph", [nx.DiGraph([(0, 1)]), nx.MultiDiGraph(), nx.Graph([(0, 1)])])
def test_to_networkx_given_a_networkx_graph(graph):
    with pytest.raises(TypeError, match="got a networkx .*use from_networkx"):
        to_networkx(graph)


@pytest.mark.parametrize("thing", [None, {"edge_index": torch.zeros(2, 0, dtype=torch.long)}, torch.zeros(2, 3)])
def test_to_networkx_given_something_else(thing):
    with pytest.raises(TypeError, match="needs a torch_geometric.data.Data"):
        to_networkx(thing)


def test_round_trip_restores_the_original_node_keys():
    G = nx.DiGraph()
    G.add_edge("parse", "typecheck", kind="data")
    G.add_edge("typecheck", "emit", kind="code")
    G.add_node(("tuple", 3))
    data = from_networkx(G, edge_type_attr="kind")
    H = to_networkx(data)
    assert list(H.nodes) == ["parse", "typecheck", "emit", ("tuple", 3)] == list(G.nodes)
    # labels sorted: code = 0, data = 1
    assert sorted(H.edges(data="edge_type")) == [("parse", "typecheck", 1), ("typecheck", "emit", 0)]
    back = from_networkx(H, edge_type_attr="edge_type")
    assert back.node_keys == data.node_keys == list(G.nodes)
    assert torch.equal(back.edge_index, data.edge_index)
