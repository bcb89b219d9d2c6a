"""Held-out-style audit of graphrnn.data: graphs users build themselves, batched and converted.

Each test is one kind of input that used to lose data or convert silently wrong, and checks the
ValueError that now names what came and what to do.
"""
from __future__ import annotations

import unicodedata

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data, HeteroData

from graphrnn.data import chain_graph
from graphrnn.data.convert import from_networkx, to_networkx
from graphrnn.data.hetero import from_hetero, to_hetero
from graphrnn.data.loader import DataLoader, check_batchable
from graphrnn.data.vocab import Vocab, tokenize


def _graph_with(name: str) -> Data:
    return Data(x=torch.randn(2, 3), edge_index=torch.tensor([[0], [1]]), num_nodes=2,
                **{name: torch.tensor([7, 7])})


@pytest.mark.parametrize("name", ["batch", "ptr"])
def test_a_graph_attribute_the_collate_overwrites_is_refused(name):
    graphs = [_graph_with(name), _graph_with(name)]
    with pytest.raises(ValueError, match=rf"item 0 of the batch has an attribute '{name}', which PyG's collate "
                                         r"overwrites.*rename it"):
        next(iter(DataLoader(graphs, batch_size=2)))  # the 7s used to be replaced by [0, 0, 1, 1] silently
    with pytest.raises(ValueError, match=rf"item 0 of dataset has an attribute '{name}'"):
        check_batchable(graphs, "dataset")
    batch = next(iter(DataLoader(graphs, batch_size=2, exclude_keys=[name])))  # left out on purpose: fine
    assert batch.num_graphs == 2


def test_ordinary_graphs_still_batch():
    graphs = [chain_graph(torch.randn(n, 3)) for n in (1, 2, 3)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.batch.tolist() == [0, 1, 1, 2, 2, 2] and batch.ptr.tolist() == [0, 1, 3, 6]


@pytest.mark.parametrize("name", ["batch", "ptr"])
def test_from_networkx_refuses_attribute_names_the_collate_writes(name):
    G = nx.DiGraph()
    G.add_node(0, **{name: 1})
    G.add_node(1, **{name: 2})
    G.add_edge(0, 1)
    with pytest.raises(ValueError, match=rf"attribute name '{name}' is written by PyG's collate"):
        from_networkx(G, node_attrs=name)


@pytest.mark.parametrize("second", [2.0, np.float64(2.0), torch.tensor(2.0)])
def test_whole_float_edge_types_are_read_as_their_integers_not_renumbered(second):
    G = nx.DiGraph()
    G.add_edge(0, 1, t=1)
    G.add_edge(1, 2, t=second)
    # numbered as labels {1, 2.0} -> ids {0, 1}: type 1 used to become 0 without a word; 2.0 is type 2
    assert from_networkx(G, edge_type_attr="t").edge_type.tolist() == [1, 2]


def test_float_edge_types_that_are_not_whole_are_refused_unless_edge_types_maps_them():
    G = nx.DiGraph()
    G.add_edge(0, 1, t=1.0)
    G.add_edge(1, 2, t=2.0)  # as GraphML and pandas write integer columns
    assert from_networkx(G, edge_type_attr="t").edge_type.tolist() == [1, 2]
    G.edges[0, 1]["t"] = 0.5
    with pytest.raises(ValueError, match=r"t=0\.5, mixed with integer types; edge types are integer ids >= 0"):
        from_networkx(G, edge_type_attr="t")
    G.edges[1, 2]["t"] = 2.5
    with pytest.raises(ValueError, match=r"t=0\.5, a float; edge types are integer ids >= 0"):
        from_networkx(G, edge_type_attr="t")
    data = from_networkx(G, edge_type_attr="t", edge_types={0.5: 3, 2.5: 1})
    assert data.edge_type.tolist() == [3, 1]


def test_string_and_bool_edge_labels_still_numbered_in_sorted_order():
    G = nx.DiGraph()
    G.add_edge(0, 1, t="sibling")
    G.add_edge(1, 2, t="parent")
    data = from_networkx(G, edge_type_attr="t")
    assert data.edge_type.tolist() == [1, 0] and data.edge_type_names == ["parent", "sibling"]


# ----------------------------------------------------------------- HeteroData -> typed graph
def _labelled_hetero() -> HeteroData:
    hetero = HeteroData()
    hetero["person"].x = torch.randn(2, 3)
    hetero["person"].y = torch.tensor([0, 1])
    hetero["scene"].x = torch.randn(1, 3)
    hetero["scene"].y = torch.tensor([4])
    hetero["person", "in", "scene"].edge_index = torch.tensor([[0, 1], [0, 0]])
    hetero["person", "in", "scene"].edge_attr = torch.tensor([[1.0], [2.0]])
    hetero["scene", "has", "person"].edge_index = torch.tensor([[0], [1]])
    hetero["scene", "has", "person"].edge_attr = torch.tensor([[3.0]])
    return hetero


def test_from_hetero_keeps_labels_and_edge_attributes():
    data = from_hetero(_labelled_hetero())
    # y and edge_attr used to be dropped without a word
    assert data.y.tolist() == [0, 1, 4] and data.edge_attr.view(-1).tolist() == [1.0, 2.0, 3.0]
    back = to_hetero(data)
    assert back["scene"].y.tolist() == [4] and back["scene", "has", "person"].edge_attr.tolist() == [[3.0]]


def test_from_hetero_names_the_attributes_it_leaves_out_and_refuses_them_when_strict():
    # labels on one node type only (IMDB, DBLP), or a NeighborLoader's int batch_size: PyG drops them silently
    hetero = _labelled_hetero()
    del hetero["scene"].y
    with pytest.warns(UserWarning, match=r"leaves out node attributes 'y' \(held by \['person'\], not by "
                                         r"\['scene'\]\)"):
        data = from_hetero(hetero)
    assert "y" not in data and data.num_nodes == 3
    with pytest.raises(ValueError, match=r"cannot carry node attributes 'y'"):
        from_hetero(hetero, strict=True)
    hetero = _labelled_hetero()
    hetero["person"].names = ["ann", "bob"]
    hetero["scene"].names = ["court"]
    with pytest.warns(UserWarning, match=r"'names' \(not a tensor\)"):
        assert "names" not in from_hetero(hetero)
    with pytest.raises(ValueError, match=r"'names' \(not a tensor\)"):
        from_hetero(hetero, strict=True)


def test_from_hetero_refuses_an_attribute_of_different_dtypes_or_widths():
    hetero = _labelled_hetero()
    hetero["scene"].y = torch.tensor([0.5])
    with pytest.raises(ValueError, match=r"node attribute 'y' has different dtypes or widths across node types"):
        from_hetero(hetero)
    hetero = _labelled_hetero()
    hetero["scene", "has", "person"].edge_attr = torch.tensor([[3.0, 4.0]])
    with pytest.raises(ValueError, match=r"edge attribute 'edge_attr' has different dtypes or widths"):
        from_hetero(hetero)


# ----------------------------------------------------------------- Vocab from a user's token list
def test_vocab_refuses_a_token_listed_twice():
    with pytest.raises(ValueError, match=r"Vocab tokens list 'dog' twice \(positions 0 and 2\)"):
        Vocab(["dog", "cat", "dog", "bird"])  # 'bird' used to get id 6, not 7: off its row of an embedding table
    assert Vocab(["dog", "cat", "bird"]).stoi["bird"] == 6


# ----------------------------------------------------------------- plans sent to spawned workers
def test_a_planner_that_cannot_be_pickled_is_refused_before_spawned_workers_start():
    from graphrnn.nn import ChainRNN

    graphs = [chain_graph(torch.randn(n, 3)) for n in (1, 2)]
    with pytest.raises(TypeError, match=r"plans\['plan'\] cannot be sent to the loader's worker processes \(started "
                                        r"by 'spawn'.*num_workers=0"):
        DataLoader(graphs, plans={"plan": lambda batch: batch.num_nodes}, num_workers=1,
                   multiprocessing_context="spawn")  # used to fail inside torch's worker start-up (PicklingError)
    DataLoader(graphs, plans={"plan": ChainRNN(3, 4).planner()}, num_workers=1, multiprocessing_context="spawn")
    DataLoader(graphs, plans={"plan": lambda batch: batch.num_nodes}, num_workers=1,
               multiprocessing_context="fork")  # fork copies the collate: nothing to pickle


# ----------------------------------------------------------------- round trips keep the type labels
def test_to_networkx_keeps_the_edge_type_labels_beside_the_ids():
    G = nx.DiGraph()
    G.add_edge("parse", "check", kind="data")
    G.add_edge("check", "emit", kind="code")
    H = to_networkx(from_networkx(G, edge_type_attr="kind"))
    # the labels used to be lost: only the ids 1 and 0 came back
    assert list(H.edges(data=True)) == [("parse", "check", {"edge_type": 1, "edge_type_name": "data"}),
                                        ("check", "emit", {"edge_type": 0, "edge_type_name": "code"})]
    back = from_networkx(H, edge_type_attr="edge_type_name")
    assert back.edge_type.tolist() == [1, 0] and back.edge_type_names == ["code", "data"]


def test_to_networkx_of_a_typed_hetero_graph_names_node_and_edge_types():
    H = to_networkx(from_hetero(_labelled_hetero()), node_attrs=["node_type"], edge_attrs=["edge_type"])
    assert [H.nodes[i]["node_type_name"] for i in H.nodes] == ["person", "person", "scene"]
    assert {H.edges[u, v]["edge_type_name"] for u, v in H.edges} == {("person", "in", "scene"),
                                                                     ("scene", "has", "person")}


# ----------------------------------------------------------------- the "words" tokenizer on other scripts
@pytest.mark.parametrize("text, tokens", [
    ("हिंदी भाषा।", ["हिंदी", "भाषा", "।"]),  # was ['ह', 'ि', 'ं', 'द', 'ी', ...]: vowel signs are marks
    (unicodedata.normalize("NFD", "Café, plaît."), ["cafe\u0301", ",", "plai\u0302t", "."]),  # was 'cafe', '\u0301'
    ("Two young, White males.", ["two", "young", ",", "white", "males", "."]),
])
def test_words_tokenizer_keeps_combining_marks_in_their_word(text, tokens):
    assert tokenize(text) == tokens


# ----------------------------------------------------------------- items that are tuples of graphs
def test_tuples_of_graphs_are_checked_position_by_position():
    def graph(width: int) -> Data:
        return Data(x=torch.randn(2, width), edge_index=torch.tensor([[0], [1]]), num_nodes=2)

    with pytest.raises(ValueError, match=r"item 1 of part 1 of the items of the batch: 'x' has shape \['\*', 4\], in "
                                         r"item 0 of part 1 of the items of the batch \['\*', 3\]"):
        next(iter(DataLoader([(graph(3), graph(3)), (graph(3), graph(4))], batch_size=2)))  # was torch.cat's error
    with pytest.raises(ValueError, match=r"tuples of different lengths \[1, 2\]"):
        check_batchable([(graph(3),), (graph(3), graph(3))], "pairs")
    source, label = next(iter(DataLoader([(graph(3), 1), (graph(3), 2)], batch_size=2)))
    assert source.num_graphs == 2 and label.tolist() == [1, 2]


def test_edge_type_messages_name_what_the_float_is_mixed_with_and_huge_ids():
    G = nx.DiGraph()
    G.add_edge(0, 1, t="a")
    G.add_edge(1, 2, t=2.5)
    with pytest.raises(ValueError, match=r"t=2\.5, mixed with labels"):
        from_networkx(G, edge_type_attr="t")
    G.edges[1, 2]["t"] = 1e30  # a whole float, but no int64 id (was torch's 'Overflow when unpacking long')
    G.edges[0, 1]["t"] = 0
    with pytest.raises(ValueError, match=r"too large for an edge type id \(int64\)"):
        from_networkx(G, edge_type_attr="t")
