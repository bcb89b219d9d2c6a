"""DAGNN against a node-by-node implementation of Thost & Chen's equations (float64)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import dags, disjoint_union, init_params, to_edge_index
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

from graphrnn.bench import host_sync_ops
from graphrnn.nn import DAGNN, DAGNNConv

Edges = Sequence[Tuple[int, int]]


# ------------------------------------------------------------ reference
def gru(cell: torch.nn.GRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """torch.nn.GRUCell's equations, written out."""
    W_r, W_z, W_n = cell.weight_ih.chunk(3)
    U_r, U_z, U_n = cell.weight_hh.chunk(3)
    b_r, b_z, b_n = cell.bias_ih.chunk(3)
    c_r, c_z, c_n = cell.bias_hh.chunk(3)
    r = torch.sigmoid(W_r @ x + b_r + U_r @ h + c_r)
    z = torch.sigmoid(W_z @ x + b_z + U_z @ h + c_z)
    n = torch.tanh(W_n @ x + b_n + r * (U_n @ h + c_n))
    return (1 - z) * n + z * h


def conv_reference(conv: DAGNNConv, x: torch.Tensor, edges: Edges, edge_type: Optional[List[int]] = None):
    oriented = [(v, u) for u, v in edges] if conv.reverse else list(edges)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(x.size(0)))
    incoming: Dict[int, List[Tuple[int, int]]] = {v: [] for v in range(x.size(0))}
    for e, (u, v) in enumerate(oriented):
        graph.add_edge(u, v)
        incoming[v].append((u, e))
    w = conv.attention.weight[0]
    h: Dict[int, torch.Tensor] = {}
    for v in nx.topological_sort(graph):
        m = x.new_zeros(conv.hidden_channels)
        if incoming[v]:
            keys = []
            for u, e in incoming[v]:
                key = h[u]
                if conv.edge_embedding is not None:
                    key = key + conv.edge_embedding.weight[:, edge_type[e]] + conv.edge_embedding.bias
                keys.append(w @ torch.cat([x[v], key]) + conv.attention.bias[0])
            alpha = torch.softmax(torch.stack(keys), 0)
            m = sum(a * h[u] for a, (u, _) in zip(alpha, incoming[v]))
        h[v] = gru(conv.cell, x[v], m)
    return torch.stack([h[v] for v in range(x.size(0))])


def dagnn_reference(model: DAGNN, x: torch.Tensor, edges: Edges, edge_type=None):
    directions = []
    for layers in [model.forward_layers] + ([model.backward_layers] if model.bidirectional else []):
        states, inputs = [], x
        for conv in layers:
            inputs = conv_reference(conv, inputs, edges, edge_type)
            states.append(inputs)
        directions.append(states)
    return directions


def double_model(*args, seed=0, **kwargs) -> DAGNN:
    model = DAGNN(*args, **kwargs).double()
    init_params(model, torch.Generator().manual_seed(seed), scale=0.8)
    return model


# ---------------------------------------------------------------- tests
@settings(max_examples=25, deadline=None)
@given(dags(min_nodes=1, max_nodes=12), st.integers(0, 2**31 - 1), st.booleans())
def test_layers_equal_the_equations_node_by_node(graph, seed, typed):
    num_nodes, edges = graph
    generator = torch.Generator().manual_seed(seed)
    model = double_model(3, 4, num_layers=2, bidirectional=True, num_edge_types=3 if typed else 1, seed=seed % 97)
    x = torch.randn(num_nodes, 3, generator=generator, dtype=torch.float64)
    types = torch.randint(0, 3, (len(edges),), generator=generator) if typed else None
    z = model(x, to_edge_index(edges), edge_type=types)
    forward, backward = dagnn_reference(model, x, edges, types.tolist() if typed else None)
    torch.testing.assert_close(z, torch.cat([x] + forward + backward, dim=-1), atol=1e-9, rtol=0)


def test_a_multi_edge_counts_twice_in_the_softmax():
    edges = [(0, 2), (0, 2), (1, 2)]
    model = double_model(2, 3, num_layers=1)
    x = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = conv_reference(model.forward_layers[0], x, edges)
    torch.testing.assert_close(model(x, to_edge_index(edges), ), torch.cat([x, expected], -1), atol=1e-9, rtol=0)


@pytest.mark.parametrize("readout", ["max", "mean", "sum"])
def test_readout_pools_each_direction_over_its_end_nodes(readout):
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (4, 5)]  # graph 0: nodes 0-3, graph 1: nodes 4-5
    batch = torch.tensor([0, 0, 0, 0, 1, 1])
    model = double_model(2, 3, num_layers=2, bidirectional=True, readout=readout)
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    forward, backward = dagnn_reference(model, x, edges)
    pool = {"max": global_max_pool, "mean": global_mean_pool, "sum": global_add_pool}[readout]
    sinks, sources = torch.tensor([3, 5]), torch.tensor([0, 4])
    expected = torch.cat([pool(torch.cat([x] + forward, -1)[sinks], batch[sinks]),
                          pool(torch.cat([x] + backward, -1)[sources], batch[sources])], -1)
    out = model(x, to_edge_index(edges), batch=batch)
    assert out.shape == (2, model.out_channels)
    torch.testing.assert_close(out, expected, atol=1e-9, rtol=0)
    # a third graph without nodes: one more row, pooled over nothing (PyG's empty segment)
    with_empty = model(x, to_edge_index(edges), batch=batch, num_graphs=3)
    torch.testing.assert_close(with_empty, pool(torch.cat([torch.cat([x] + forward, -1)[sinks],
                                                           torch.cat([x] + backward, -1)[sources]], -1),
                                                torch.tensor([0, 1]), size=3), atol=1e-9, rtol=0)
    model.readout_nodes = "all"
    every = torch.cat([x] + forward + backward, -1)
    torch.testing.assert_close(model(x, to_edge_index(edges), batch=batch), pool(every, batch), atol=1e-9, rtol=0)


def test_batched_equals_alone_and_plans_are_reused():
    model = double_model(3, 4, num_layers=2, bidirectional=True)
    generator = torch.Generator().manual_seed(3)
    graphs = [(5, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 4)]), (1, []), (3, [(2, 0), (2, 1), (0, 1)])]
    xs = [torch.randn(n, 3, generator=generator, dtype=torch.float64) for n, _ in graphs]
    alone = [model(x, to_edge_index(e)) for x, (_, e) in zip(xs, graphs)]
    total, edges, _ = disjoint_union(graphs)
    edge_index = to_edge_index(edges)
    plan, reverse_plan = model.plans(edge_index, total)
    batched = model(torch.cat(xs), edge_index, plan=plan, reverse_plan=reverse_plan)
    torch.testing.assert_close(batched, torch.cat(alone), atol=1e-12, rtol=0)
    torch.testing.assert_close(model(torch.cat(xs), edge_index), batched, atol=0, rtol=0)


def test_gradcheck_inputs_and_weights():
    model = double_model(2, 3, num_layers=2, bidirectional=True, num_edge_types=2, readout="mean")
    edge_index = to_edge_index([(0, 1), (0, 2), (1, 3), (2, 3)])
    types = torch.tensor([0, 1, 1, 0])
    x = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4), requires_grad=True)
    names = [n for n, _ in model.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in model.named_parameters()]

    def run(x, *weights):
        return torch.func.functional_call(model, dict(zip(names, weights)), (x, edge_index, types))

    assert torch.autograd.gradcheck(run, (x, *params), fast_mode=True)


def test_empty_graph_and_repr_and_reset():
    model = DAGNN(2, 3)
    assert model(torch.zeros(0, 2), torch.zeros(2, 0, dtype=torch.long)).shape == (0, 8)
    assert repr(model) == "DAGNN(2, 3, num_layers=2)"
    assert repr(DAGNNConv(16, 32, reverse=True)) == "DAGNNConv(16, 32, reverse=True)"
    assert repr(DAGNN(16, 32, bidirectional=True, readout="max")) == \
        "DAGNN(16, 32, num_layers=2, bidirectional=True, readout='max', readout_nodes='sinks')"
    before = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(5)
    model.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_bad_inputs_raise_clear_errors():
    model = DAGNN(2, 3, num_edge_types=2)
    x, edges = torch.zeros(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="in_channels=2"):
        model(torch.zeros(3, 4), edges, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="pass edge_type"):
        model(x, edges)
    with pytest.raises(ValueError, match=r"edge_type must be a LongTensor \[E\]"):
        model(x, edges, torch.tensor([0]))
    with pytest.raises(ValueError, match="num_edge_types=2"):
        model(x, edges, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="cycle"):
        model(x, torch.tensor([[0, 1], [1, 0]]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="batch must be a LongTensor"):
        DAGNN(2, 3, readout="max")(x, edges, batch=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="readout must be one of"):
        DAGNN(2, 3, readout="attention")
    with pytest.raises(ValueError, match="readout_nodes must be one of"):
        DAGNN(2, 3, readout="max", readout_nodes="roots")
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        DAGNN(2, 3, num_layers=0)


@pytest.mark.parametrize("readout_nodes", ["sinks", "all"])
def test_a_readout_given_plans_and_num_graphs_reads_nothing_on_the_host(readout_nodes):
    model = DAGNN(2, 3, bidirectional=True, readout="max", readout_nodes=readout_nodes)
    edges = to_edge_index([(0, 1), (0, 2), (1, 3), (2, 3), (4, 5)])
    x, batch = torch.randn(6, 2), torch.tensor([0, 0, 0, 0, 1, 1])
    plan, reverse_plan = model.plans(edges, 6)
    step = lambda: model(x, edges, batch=batch, plan=plan, reverse_plan=reverse_plan, num_graphs=2)  # noqa: E731
    assert host_sync_ops(step) == []
    assert host_sync_ops(lambda: model(x, edges, batch=batch))  # without them it reads ids and sizes
    with pytest.raises(TypeError, match="num_graphs must be an int"):
        model(x, edges, batch=batch, num_graphs=2.0)
    with pytest.raises(ValueError, match="num_graphs must be >= 0"):
        DAGNN(2, 3)(x, edges, batch=batch, num_graphs=-5)  # checked without a readout too
    int32 = model(x, edges.int(), batch=batch, plan=plan, reverse_plan=reverse_plan, num_graphs=2)
    torch.testing.assert_close(int32, step())
    with pytest.raises(ValueError, match="graph id >= num_graphs=1"):
        model(x, edges, batch=batch, num_graphs=1)


def test_a_batch_vector_that_disagrees_with_the_edges_raises():
    # before: an edge across graphs put one graph's sink into the other's readout, silently; a negative id was a
    # raw scatter error
    layer = DAGNN(3, 4, readout="mean")
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 3], [1, 2, 4]])
    with pytest.raises(ValueError, match="DAGNN: batch disagrees with the edges"):
        layer(x, edge_index, batch=torch.tensor([0, 0, 1, 1, 1]))
    with pytest.raises(ValueError, match="DAGNN: batch holds a negative graph id"):
        layer(x, edge_index, batch=torch.tensor([0, 0, 0, -1, -1]))
    assert layer(x, edge_index, batch=torch.tensor([0, 0, 0, 1, 1])).shape == (2, layer.out_channels)


def test_edges_on_another_device_than_x_are_named():
    with pytest.raises(ValueError, match="edge_index is on meta but x is on cpu"):
        DAGNN(3, 4)(torch.zeros(3, 3), torch.tensor([[0, 0], [1, 2]], device="meta"))
