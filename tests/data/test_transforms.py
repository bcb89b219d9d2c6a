"""Tests of TopologicalLevels and of PyG batching of the builders' graphs."""
import pytest
import torch

from graphrnn.data import (
    DataLoader,
    TopologicalLevels,
    chain_graph,
    scene_graph,
    tree_graph,
)
from graphrnn.nn.levels import topological_levels


def test_levels_of_a_tree_hand_example():
    # PARENT edges 0->1, 0->2, 1->3, 0->4 and SIBLING edges 1->2, 2->4: the DRNN wavefront.
    data = TopologicalLevels(reverse=True)(tree_graph([1, 2, 3, 4, 5], [-1, 0, 0, 1, 0]))
    assert data.level.tolist() == [0, 1, 2, 2, 3]
    assert data.reverse_level.tolist() == [3, 2, 1, 0, 0]


def test_levels_of_a_chain_hand_example():
    transform = TopologicalLevels()
    data = transform(chain_graph([5, 6, 7]))
    assert data.level.tolist() == [0, 1, 2]
    assert "reverse_level" not in data
    assert repr(transform) == "TopologicalLevels(reverse=False)"
    assert repr(TopologicalLevels(reverse=True)) == "TopologicalLevels(reverse=True)"


def test_transform_does_not_modify_its_input():
    data = chain_graph([5, 6, 7])
    TopologicalLevels()(data)
    assert "level" not in data


def test_levels_of_empty_and_single_node_chains():
    assert TopologicalLevels(reverse=True)(chain_graph(torch.zeros(0, dtype=torch.long))).level.shape == (0,)
    assert TopologicalLevels(reverse=True)(chain_graph([1])).reverse_level.tolist() == [0]


def test_levels_reject_cyclic_scene():
    with pytest.raises(ValueError, match="cycle"):
        TopologicalLevels()(scene_graph(torch.zeros(2, 2), torch.zeros(2)))


def test_reverse_must_be_bool():
    with pytest.raises(TypeError, match="reverse must be True or False"):
        TopologicalLevels(reverse="yes")


# --------------------------------------------------------------------------- batching


def assert_batches_concatenate(graphs, batch_size, node_keys, edge_keys, graph_keys=()):
    """Checks every batch of a DataLoader against the concatenation of its graphs."""
    loader = DataLoader(graphs, batch_size=batch_size, shuffle=False)
    batches = list(loader)
    assert len(batches) == -(-len(graphs) // batch_size)
    for number, batch in enumerate(batches):
        members = graphs[number * batch_size:(number + 1) * batch_size]
        offsets = torch.tensor([0] + [g.num_nodes for g in members]).cumsum(0)
        assert batch.num_nodes == int(offsets[-1])
        expected_edges = torch.cat([g.edge_index + offset for g, offset in zip(members, offsets)], dim=1)
        assert torch.equal(batch.edge_index, expected_edges)
        for key in node_keys + edge_keys + tuple(graph_keys):
            assert torch.equal(batch[key], torch.cat([g[key].view(-1, *g[key].shape[1:]) for g in members])), key
        if "level" in node_keys:
            assert torch.equal(topological_levels(batch.edge_index, batch.num_nodes), batch.level)
        if "reverse_level" in node_keys:
            assert torch.equal(topological_levels(batch.edge_index.flip(0), batch.num_nodes), batch.reverse_level)


def test_batching_trees_and_chain_shaped_trees_keeps_levels():
    transform = TopologicalLevels(reverse=True)
    graphs = [
        tree_graph([1, 2, 3, 4, 5], [-1, 0, 0, 1, 0]),
        tree_graph([6, 7, 8, 9], [-1, 0, 1, 2]),  # a chain written as a tree
        tree_graph([3], [-1]),
        tree_graph([1, 2, 3, 4, 5, 6], [3, 3, 3, -1, 0, 0]),
        tree_graph([4, 5], [-1, 0]),
    ]
    graphs = [transform(g) for g in graphs]
    assert_batches_concatenate(
        graphs,
        batch_size=3,
        node_keys=("y", "has_children", "has_next_sibling", "depth", "level", "reverse_level"),
        edge_keys=("edge_type",),
    )


def test_batching_chains_keeps_levels():
    transform = TopologicalLevels(reverse=True)
    lengths = [4, 1, 0, 3, 5, 2, 6]
    graphs = [transform(chain_graph(torch.arange(n), y=torch.arange(n) + 1)) for n in lengths]
    assert_batches_concatenate(graphs, batch_size=3, node_keys=("x", "y", "level", "reverse_level"), edge_keys=())
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.level.tolist() == [0, 1, 2, 3, 0]  # lengths 4, 1, 0: levels restart in every graph


def test_batching_chains_with_sequence_labels():
    graphs = [chain_graph(torch.randn(n, 2, generator=torch.Generator().manual_seed(n)), y=n % 2) for n in (3, 2, 4)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.y.tolist() == [1, 0, 0]
    assert batch.x.shape == (9, 2) and batch.batch.tolist() == [0] * 3 + [1] * 2 + [2] * 4


def test_batching_scenes():
    graphs = [
        scene_graph(torch.full((k, 2), float(k)), torch.full((3,), float(k)), person_y=list(range(k)), scene_y=k)
        for k in (2, 3, 1, 4)
    ]
    assert_batches_concatenate(
        graphs,
        batch_size=3,
        node_keys=("node_type",),
        edge_keys=("edge_type",),
        graph_keys=("person_x", "scene_x", "person_y", "scene_y"),
    )
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.node_type.tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 1]
    # rows of person_x / scene_x line up with the PERSON / SCENE nodes in node order
    assert batch.person_x[:, 0].tolist() == [2.0, 2.0, 3.0, 3.0, 3.0, 1.0]
    assert batch.scene_x[:, 0].tolist() == [2.0, 3.0, 1.0]
    assert batch.scene_y.tolist() == [2, 3, 1]
