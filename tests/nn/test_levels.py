"""topological_levels against networkx.topological_generations, cycles and bad inputs."""
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import (
    assert_cycle_message,
    chain_edges,
    cycle_edges,
    cycle_in_message,
    dags,
    disjoint_union,
    nx_levels,
    relabel,
    to_edge_index,
)

from graphrnn.nn import topological_levels


def levels_of(num_nodes, edges):
    out = topological_levels(to_edge_index(edges), num_nodes)
    assert out.dtype == torch.long and out.shape == (num_nodes,)
    return out.tolist()


# --------------------------------------------------------------- correct DAGs
@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=40, kind="general"))
def test_general_dags_match_networkx(graph):
    n, edges = graph
    if n >= 3:  # the strategy forces a node with two predecessors: the Kahn path
        assert max(torch.bincount(to_edge_index(edges)[1], minlength=n).tolist()) >= 2
    assert levels_of(n, edges) == nx_levels(n, edges)


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=40, kind="forest"))
def test_forests_match_networkx(graph):
    n, edges = graph  # every in-degree <= 1: the pointer-jumping path
    assert levels_of(n, edges) == nx_levels(n, edges)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_chains_match_networkx(lengths, rng):
    n, edges, _ = chain_edges(lengths)
    perm = list(range(n))
    rng.shuffle(perm)
    edges = relabel(edges, perm)
    rng.shuffle(edges)
    assert levels_of(n, edges) == nx_levels(n, edges)


def test_long_chain_depth():
    # depth 999 needs ~10 pointer-jumping rounds; reversed labels so that no id order helps
    n = 1000
    edges = [(n - 1 - i, n - 2 - i) for i in range(n - 1)]
    assert levels_of(n, edges) == [n - 1 - v for v in range(n)]


def test_fixed_dag_with_in_degree_two():
    #   0 -> 2 <- 1,  2 -> 3,  0 -> 3,  4 isolated,  3 -> 5
    edges = [(0, 2), (1, 2), (2, 3), (0, 3), (3, 5)]
    assert levels_of(6, edges) == [0, 0, 1, 2, 0, 3]


def test_duplicate_edges_use_kahn_and_agree():
    edges = [(0, 1), (0, 1), (1, 2)]
    assert levels_of(3, edges) == [0, 1, 2]


def test_isolated_nodes_and_empty_edge_set():
    assert levels_of(5, []) == [0] * 5
    assert levels_of(4, [(1, 2)]) == [0, 0, 1, 0]


def test_zero_nodes_returns_empty_long_tensor():
    out = topological_levels(torch.zeros(2, 0, dtype=torch.long), 0)
    assert out.dtype == torch.long and out.shape == (0,)


def test_num_nodes_inferred_from_edges():
    assert topological_levels(to_edge_index([(0, 1), (1, 3)])).tolist() == [0, 1, 0, 2]


def test_int32_edge_index_gives_same_levels():
    edges = [(0, 2), (1, 2), (2, 3)]
    ei = to_edge_index(edges)
    assert topological_levels(ei.int(), 4).tolist() == topological_levels(ei, 4).tolist() == [0, 0, 1, 2]


# ------------------------------------------------------------------- batching
@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(dags(max_nodes=12, kind="general"), dags(max_nodes=12, kind="forest")),
                min_size=1, max_size=5))
def test_disjoint_union_is_concatenation(graphs):
    total, edges, _ = disjoint_union(graphs)
    expected = [lv for n, e in graphs for lv in levels_of(n, e)]
    assert levels_of(total, edges) == expected


# --------------------------------------------------------------------- cycles
def raise_cycle(num_nodes, edges):
    with pytest.raises(ValueError, match="cycle") as info:
        topological_levels(to_edge_index(edges), num_nodes)
    return str(info.value)


def test_self_loop():
    edges = [(0, 1), (2, 2), (1, 2)]
    nodes = assert_cycle_message(raise_cycle(3, edges), edges)
    assert set(nodes) == {2}


def test_self_loop_in_graph_with_in_degree_two():
    edges = [(0, 2), (1, 2), (3, 3)]
    assert set(assert_cycle_message(raise_cycle(4, edges), edges)) == {3}


@pytest.mark.parametrize("length", [2, 3, 4, 5, 7, 8])
def test_pure_cycle_in_functional_graph(length):
    # every node has in-degree exactly 1 (the pointer-jumping path)
    perm = random.Random(length).sample(range(length), length)
    edges = relabel(cycle_edges(length), perm)
    nodes = assert_cycle_message(raise_cycle(length, edges), edges)
    assert set(nodes) == set(range(length))


@pytest.mark.parametrize("length", [2, 3, 4])
def test_functional_cycle_with_chains_attached(length):
    # chain 10 -> 11 -> 12 (separate), cycle 0..length-1, and a tail hanging off the cycle
    edges = cycle_edges(length) + [(0, 20), (20, 21), (10, 11), (11, 12)]
    nodes = assert_cycle_message(raise_cycle(22, edges), edges)
    assert set(nodes) <= set(range(length))


def test_cycle_reachable_from_dag_with_in_degree_two():
    # 0,1 -> 2 -> 3 -> 4 -> 5 -> 3 (cycle 3,4,5), 5 -> 6 and 2 -> 6 (6 is downstream, not on it)
    edges = [(0, 2), (1, 2), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6), (2, 6), (6, 7)]
    nodes = assert_cycle_message(raise_cycle(8, edges), edges)
    assert set(nodes) == {3, 4, 5}


def test_two_cycles_each_named_node_is_on_a_cycle():
    edges = [(0, 1), (1, 0), (2, 3), (3, 4), (4, 2), (5, 2), (6, 2)]
    nodes = assert_cycle_message(raise_cycle(7, edges), edges)
    assert set(nodes) in ({0, 1}, {2, 3, 4})


def test_long_cycle_message_is_truncated():
    length = 50
    perm = random.Random(0).sample(range(length), length)
    edges = relabel(cycle_edges(length), perm) + [(50, perm[0]), (51, perm[0])]  # in-degree 3: Kahn
    message = raise_cycle(52, edges)
    assert "..." in message
    nodes, truncated = cycle_in_message(message)
    assert truncated
    assert 2 <= len(nodes) < length
    assert_cycle_message(message, edges)


def test_long_functional_cycle_message_is_truncated():
    length = 50  # not a power of two, in-degree 1 everywhere
    perm = random.Random(1).sample(range(length), length)
    edges = relabel(cycle_edges(length), perm)
    message = raise_cycle(length, edges)
    nodes, truncated = cycle_in_message(message)
    assert truncated and 2 <= len(nodes) < length
    assert_cycle_message(message, edges)


# ----------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("edge_index, num_nodes, match", [
    (torch.zeros(3, 4, dtype=torch.long), 5, r"shape \[2, E\]"),
    (torch.tensor([[0, 1], [1, 2], [2, 3]]), 4, r"shape \[2, E\]"),   # an [E, 2] edge list
    (torch.zeros(2, 3, 1, dtype=torch.long), 5, r"shape \[2, E\]"),
    (torch.zeros(2, dtype=torch.long), 5, r"shape \[2, E\]"),
    (torch.tensor([[0.0, 1.0], [1.0, 2.0]]), 3, "integer"),
    (torch.tensor([[True], [False]]), 3, "integer"),
    (torch.tensor([[0, 1], [1, 3]]), 3, "num_nodes=3"),
    (torch.tensor([[0, -1], [1, 2]]), 3, "node -1"),
])
def test_bad_edge_index(edge_index, num_nodes, match):
    with pytest.raises(ValueError, match=match):
        topological_levels(edge_index, num_nodes)


def test_edges_with_zero_nodes():
    with pytest.raises(ValueError, match="num_nodes=0"):
        topological_levels(torch.tensor([[0], [0]]), 0)
