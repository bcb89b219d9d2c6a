"""RecurrentMessagePassing: typed edges, both schedules, hooks, and the O(levels) guarantee."""
from typing import List, Tuple

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import chain_edges, dags, disjoint_union, init_params, to_edge_index, to_nx
from torch import nn
from torch_geometric.nn import GatedGraphConv

from graphrnn.nn import RecurrentMessagePassing, SynchronousStep, topological_levels

DT = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ================================================================ typed edges
class TypedRNN(RecurrentMessagePassing):
    r"""m_uv = W_{r(uv)} h_u + w_uv * A x_u;  h_v = tanh(sum m + U x_v)  (or per type: sum_r V_r aggr_r)."""

    def __init__(self, d, h, num_types, aggregate_per_type=False, flow="source_to_target"):
        super().__init__(num_edge_types=num_types, aggregate_per_type=aggregate_per_type, flow=flow)
        self.hidden = h
        self.W = nn.Parameter(torch.empty(num_types, h, h, dtype=DT))
        self.A = nn.Parameter(torch.empty(h, d, dtype=DT))
        self.U = nn.Parameter(torch.empty(h, d, dtype=DT))
        self.V = nn.Parameter(torch.empty(num_types, h, h, dtype=DT))
        self.update_shapes: List[Tuple[int, ...]] = []

    def message(self, state_j, edge_type, x_j, weight):
        h = state_j[0]
        return torch.einsum("eab,eb->ea", self.W[edge_type], h) + weight.unsqueeze(1) * (x_j @ self.A.t())

    def update(self, aggr, x):
        self.update_shapes.append(tuple(aggr[0].shape))
        if self.aggregate_per_type:
            mixed = torch.einsum("rab,nrb->na", self.V, aggr[0])
            return torch.tanh(mixed + x @ self.U.t())
        return torch.tanh(aggr[0] + x @ self.U.t())

    def initial_message(self, num_nodes, x):
        shape = (num_nodes, self.num_edge_types, self.hidden) if self.aggregate_per_type else (num_nodes, self.hidden)
        return x.new_zeros(shape)

    def forward(self, x, edge_index, edge_type, weight, level=None):
        return self.propagate_topological(edge_index, x.size(0), level=level, edge_type=edge_type,
                                          node_inputs={"x": x}, edge_inputs={"weight": weight})[0]


def typed_reference(layer, x, edges, types, weight, per_type):
    """Node-by-node recursion; ``edges`` may hold parallel edges of different types."""
    n, R, Hd = x.size(0), layer.num_edge_types, layer.hidden
    graph = to_nx(n, edges)
    h = [None] * n
    for v in nx.topological_sort(graph):
        incoming = [(e, u) for e, (u, w) in enumerate(edges) if w == v]
        acc = x.new_zeros(R, Hd)
        for e, u in incoming:
            r = types[e]
            m = layer.W[r] @ h[u] + weight[e] * (layer.A @ x[u])
            acc = acc + torch.nn.functional.one_hot(torch.tensor(r), R).to(x.dtype).unsqueeze(1) * m
        if per_type:
            pre = sum(layer.V[r] @ acc[r] for r in range(R))
        else:
            pre = acc.sum(0)
        h[v] = torch.tanh(pre + layer.U @ x[v])
    return torch.stack(h)


@st.composite
def typed_dags(draw, num_types=3, max_nodes=10):
    n, edges = draw(dags(min_nodes=1, max_nodes=max_nodes, kind="general"))
    # add parallel edges of another type to some edges
    extra = draw(st.lists(st.integers(0, max(len(edges) - 1, 0)), max_size=3)) if edges else []
    edges = edges + [edges[i] for i in extra]
    types = draw(st.lists(st.integers(0, num_types - 1), min_size=len(edges), max_size=len(edges)))
    return n, edges, types


def run_typed(per_type, graph, seed, flow="source_to_target"):
    n, edges, types = graph
    layer = TypedRNN(3, 4, 3, aggregate_per_type=per_type, flow=flow)
    init_params(layer, gen(seed))
    g = gen(seed + 1)
    x = torch.randn(n, 3, generator=g, dtype=DT, requires_grad=True)
    weight = torch.randn(len(edges), generator=g, dtype=DT)
    out = layer(x, to_edge_index(edges), torch.tensor(types, dtype=torch.long), weight)
    ref_edges = edges if flow == "source_to_target" else [(v, u) for u, v in edges]
    ref = typed_reference(layer, x, ref_edges, types, weight, per_type)
    torch.testing.assert_close(out, ref, atol=1e-9, rtol=0)
    w = torch.randn(n, 4, generator=g, dtype=DT)
    wrt = [x, *layer.parameters()]
    got = torch.autograd.grad((out * w).sum(), wrt, allow_unused=True)
    want = torch.autograd.grad((ref * w).sum(), wrt, allow_unused=True)
    for a, b in zip(got, want):
        if b is None:
            assert a is None or torch.count_nonzero(a) == 0
        else:
            torch.testing.assert_close(a, b, atol=1e-9, rtol=0)
    return layer


@pytest.mark.parametrize("per_type", [False, True])
@settings(max_examples=25, deadline=None)
@given(graph=typed_dags(), seed=st.integers(0, 1000))
def test_typed_edges_equal_recursion(per_type, graph, seed):
    layer = run_typed(per_type, graph, seed)
    n = graph[0]
    assert sum(s[0] for s in layer.update_shapes) == n
    for shape in layer.update_shapes:
        assert shape[1:] == ((3, 4) if per_type else (4,))


@pytest.mark.parametrize("per_type", [False, True])
def test_typed_edges_fixed_example_and_reversed_flow(per_type):
    edges = [(0, 2), (1, 2), (1, 2), (2, 3), (0, 3), (4, 3), (3, 5)]
    types = [0, 1, 2, 2, 1, 0, 1]
    run_typed(per_type, (6, edges, types), seed=3)
    run_typed(per_type, (6, edges, types), seed=4, flow="target_to_source")


def test_aggregate_per_type_sums_by_hand():
    # identity-like math so the typed aggregate itself is visible: h_v = aggr[v] (flattened)
    class PerType(RecurrentMessagePassing):
        def __init__(self):
            super().__init__(num_edge_types=2, aggregate_per_type=True)
            self.seen = {}

        def message(self, state_j, edge_type, x_j):
            return x_j  # message = source input (no recursion), shape [E, 2]

        def update(self, aggr, x, step):
            self.seen[step] = aggr[0].clone()
            return aggr[0].reshape(aggr[0].size(0), -1)

        def initial_message(self, num_nodes, x):
            return x.new_zeros(num_nodes, 2, 2)

    edges = [(0, 3), (1, 3), (2, 3), (1, 4), (3, 4), (0, 4)]
    types = [0, 1, 1, 0, 1, 1]
    x = torch.arange(10, dtype=DT).view(5, 2) + 1
    out = PerType().propagate_topological(to_edge_index(edges), 5, edge_type=torch.tensor(types),
                                          node_inputs={"x": x})[0]
    expected = torch.zeros(5, 2, 2, dtype=DT)
    for (u, v), r in zip(edges, types):
        expected[v, r] += x[u]
    torch.testing.assert_close(out, expected.view(5, 4))


# --------------------------------------------------------------- edge_type checks
def small_typed_call(layer, edge_type):
    edges = to_edge_index([(0, 1), (1, 2), (0, 2)])
    x = torch.randn(3, 3, generator=gen(0), dtype=DT)
    return layer(x, edges, edge_type, torch.ones(3, dtype=DT))


@pytest.mark.parametrize("edge_type, match", [
    (torch.tensor([0, 1]), r"shape \[E\]"),
    (torch.tensor([[0, 1, 2]]), r"shape \[E\]"),
    (torch.tensor([0, 3, 1]), "num_edge_types=3"),
    (torch.tensor([0, -1, 1]), "num_edge_types=3"),
    (torch.tensor([0.0, 1.0, 1.0]), "integer"),
    (None, "edge_type"),
])
def test_edge_type_errors(edge_type, match):
    layer = TypedRNN(3, 4, 3)
    init_params(layer, gen(1))
    with pytest.raises(ValueError, match=match):
        small_typed_call(layer, edge_type)


def test_edge_type_errors_synchronous():
    layer = GGNN(4, 2, tie_weights=True, num_edge_types=2)
    with pytest.raises(ValueError, match="edge_type"):
        layer.propagate_synchronous(to_edge_index([(0, 1), (1, 0)]), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="num_edge_types=2"):
        layer.propagate_synchronous(to_edge_index([(0, 1), (1, 0)]), torch.zeros(2, 4),
                                    edge_type=torch.tensor([0, 2]))


def test_num_edge_types_must_be_positive():
    with pytest.raises(ValueError, match="num_edge_types"):
        RecurrentMessagePassing(num_edge_types=0)


# ============================================================ synchronous
class GGNN(RecurrentMessagePassing):
    """GatedGraphConv as synchronous recurrent message passing: m = sum_u W_t h_u; h = GRU(m, h)."""

    def __init__(self, h, num_steps, tie_weights, num_edge_types=1):
        super().__init__(schedule="synchronous", num_steps=num_steps, tie_weights=tie_weights,
                         num_edge_types=num_edge_types)
        self.lins = nn.ModuleList(nn.Linear(h, h, bias=False) for _ in range(1 if tie_weights else num_steps))
        self.gru = nn.GRUCell(h, h)

    def message(self, state_j, step):
        return self.step_module(self.lins, step)(state_j[0])

    def update(self, aggr, state):
        return self.gru(aggr[0], state[0])

    def forward(self, x, edge_index):
        return self.propagate_synchronous(edge_index, x)[-1].state


def random_cyclic_graph(n, num_edges, seed):
    g = gen(seed)
    edge_index = torch.randint(0, n, (2, num_edges), generator=g)
    edge_index = torch.cat([edge_index, torch.tensor([[0, 1, 2], [1, 2, 0]]), torch.tensor([[3], [3]])], 1)
    assert not nx.is_directed_acyclic_graph(to_nx(n, edge_index.t().tolist()))
    return edge_index


def copy_to_ggnn(ours: GGNN, theirs: GatedGraphConv, num_steps, tie_weights):
    with torch.no_grad():
        for t in range(num_steps):
            theirs.weight[t].copy_(ours.lins[0 if tie_weights else t].weight.t())
        theirs.rnn.load_state_dict(ours.gru.state_dict())


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-9)])
@pytest.mark.parametrize("tie_weights", [False, True])
def test_synchronous_equals_gated_graph_conv(dtype, tol, tie_weights):
    n, hdim, steps = 9, 5, 3
    ours = GGNN(hdim, steps, tie_weights).to(dtype)
    init_params(ours, gen(10))
    theirs = GatedGraphConv(hdim, steps).to(dtype)
    copy_to_ggnn(ours, theirs, steps, tie_weights)
    if tie_weights:
        assert all(torch.equal(theirs.weight[0], theirs.weight[t]) for t in range(steps))
    else:
        assert not torch.equal(theirs.weight[0], theirs.weight[1])
    edge_index = random_cyclic_graph(n, 20, seed=11)
    x = torch.randn(n, hdim, generator=gen(12), dtype=dtype)
    torch.testing.assert_close(ours(x, edge_index), theirs(x, edge_index), atol=tol, rtol=0)


def test_synchronous_history_matches_gated_graph_conv_prefixes():
    n, hdim, steps = 6, 4, 3
    ours = GGNN(hdim, steps, tie_weights=False).double()
    init_params(ours, gen(13))
    edge_index = random_cyclic_graph(n, 10, seed=14)
    x = torch.randn(n, hdim, generator=gen(15), dtype=DT)
    history = ours.propagate_synchronous(edge_index, x)
    assert len(history) == steps and all(isinstance(s, SynchronousStep) for s in history)
    assert all(s.edge_state is None and isinstance(s.state, torch.Tensor) for s in history)
    for t in range(1, steps + 1):
        theirs = GatedGraphConv(hdim, t).double()
        with torch.no_grad():
            for i in range(t):
                theirs.weight[i].copy_(ours.lins[i].weight.t())
            theirs.rnn.load_state_dict(ours.gru.state_dict())
        torch.testing.assert_close(history[t - 1].state, theirs(x, edge_index), atol=1e-9, rtol=0)


def test_synchronous_num_steps_override_and_errors():
    tied = GGNN(3, 2, tie_weights=True).double()
    x = torch.randn(4, 3, generator=gen(16), dtype=DT)
    edge_index = to_edge_index([(0, 1), (1, 0), (2, 3)])
    assert len(tied.propagate_synchronous(edge_index, x, num_steps=5)) == 5
    with pytest.raises(ValueError, match="num_steps"):
        tied.propagate_synchronous(edge_index, x, num_steps=0)
    untied = GGNN(3, 2, tie_weights=False).double()
    with pytest.raises(ValueError, match="num_steps"):
        untied.propagate_synchronous(edge_index, x, num_steps=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"schedule": "wavefront"}, "schedule"),
    ({"schedule": "synchronous"}, "num_steps"),
    ({"schedule": "synchronous", "num_steps": 0}, "num_steps"),
])
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RecurrentMessagePassing(**kwargs)


# --------------------------------------------------------- synchronous edge state
class EdgeStateNet(RecurrentMessagePassing):
    r"""e' = tanh(A e + B h_u + C h_v + b_r);  m = sigmoid(g . e') h_u + x_j;  h' = tanh(sum m + W h + U x)."""

    def __init__(self, h, d, num_steps):
        super().__init__(schedule="synchronous", num_steps=num_steps, num_edge_types=2)
        self.A = nn.Linear(h, h, bias=False)
        self.B = nn.Linear(h, h, bias=False)
        self.C = nn.Linear(h, h, bias=False)
        self.type_bias = nn.Parameter(torch.empty(2, h))
        self.gate = nn.Linear(h, 1)
        self.P = nn.Linear(d, h, bias=False)
        self.W = nn.Linear(h, h)
        self.U = nn.Linear(d, h, bias=False)

    def edge_update(self, edge_state, state_j, state_i, edge_type):
        return torch.tanh(self.A(edge_state[0]) + self.B(state_j[0]) + self.C(state_i[0])
                          + self.type_bias[edge_type])

    def message(self, state_j, edge_state, x_j):
        return torch.sigmoid(self.gate(edge_state[0])) * state_j[0] + self.P(x_j)

    def update(self, aggr, state, x):
        return torch.tanh(aggr[0] + self.W(state[0]) + self.U(x))


def test_synchronous_edge_state_equals_unrolled_loop():
    n, hdim, d, steps = 7, 4, 3, 4
    net = EdgeStateNet(hdim, d, steps).double()
    init_params(net, gen(20))
    edge_index = random_cyclic_graph(n, 14, seed=21)
    num_edges = edge_index.size(1)
    g = gen(22)
    edge_type = torch.randint(0, 2, (num_edges,), generator=g)
    x = torch.randn(n, d, generator=g, dtype=DT)
    h0 = torch.randn(n, hdim, generator=g, dtype=DT)
    e0 = torch.randn(num_edges, hdim, generator=g, dtype=DT)
    history = net.propagate_synchronous(edge_index, h0, edge_type=edge_type, edge_state=e0,
                                        node_inputs={"x": x})
    assert len(history) == steps
    src, dst = edge_index
    h, e = h0, e0
    for t in range(steps):
        e = torch.tanh(e @ net.A.weight.t() + h[src] @ net.B.weight.t() + h[dst] @ net.C.weight.t()
                       + net.type_bias[edge_type])
        m = torch.sigmoid(e @ net.gate.weight.t() + net.gate.bias) * h[src] + x[src] @ net.P.weight.t()
        aggr = torch.zeros(n, hdim, dtype=DT).index_add(0, dst, m)
        h = torch.tanh(aggr + h @ net.W.weight.t() + net.W.bias + x @ net.U.weight.t())
        torch.testing.assert_close(history[t].state, h, atol=1e-9, rtol=0)
        torch.testing.assert_close(history[t].edge_state, e, atol=1e-9, rtol=0)


# ================================================== initial message at level > 0
class Accumulate(RecurrentMessagePassing):
    """h_v = sum_{u->v} 2 h_u + x_v; roots receive initial_message = 100 + x (distinguishable)."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.message_calls = 0

    def message(self, state_j):
        self.message_calls += 1
        return 2 * state_j[0]

    def update(self, aggr, x):
        self.calls += 1
        return aggr[0] + x

    def initial_message(self, num_nodes, x):
        return 100 + x

    def forward(self, x, edge_index, level=None):
        return self.propagate_topological(edge_index, x.size(0), level=level, node_inputs={"x": x})[0]


def accumulate_reference(x, edges):
    n = x.size(0)
    graph = to_nx(n, edges)
    h = [None] * n
    for v in nx.topological_sort(graph):
        preds = list(graph.predecessors(v))
        aggr = sum(2 * h[u] for u in preds) if preds else 100 + x[v]
        h[v] = aggr + x[v]
    return torch.stack(h)


@pytest.mark.parametrize("level", [
    [0, 1, 1, 2],   # isolated node 2 shares level 1 with node 1 (which has a predecessor)
    [0, 1, 3, 5],   # node 2 alone at level 3, with empty levels in between
    [2, 4, 0, 7],   # root 0 at level 2
])
def test_root_at_positive_level_gets_initial_message(level):
    edges = [(0, 1), (1, 3)]
    x = torch.arange(8, dtype=DT).view(4, 2)
    layer = Accumulate()
    out = layer(x, to_edge_index(edges), level=torch.tensor(level))
    torch.testing.assert_close(out, accumulate_reference(x, edges))
    torch.testing.assert_close(out, layer(x, to_edge_index(edges)))


@settings(max_examples=20, deadline=None)
@given(graph=st.one_of(dags(min_nodes=1, max_nodes=12, kind="general"),
                       dags(min_nodes=1, max_nodes=12, kind="forest")), seed=st.integers(0, 1000))
def test_random_valid_levels_give_same_result(graph, seed):
    # spread levels: a level may then hold nodes whose single predecessors sit at different levels
    n, edges = graph
    ei = to_edge_index(edges)
    g = gen(seed)
    x = torch.randn(n, 2, generator=g, dtype=DT)
    spread = topological_levels(ei, n) * 4 + torch.randint(0, 4, (n,), generator=g)
    torch.testing.assert_close(Accumulate()(x, ei, level=spread), accumulate_reference(x, edges))


def test_single_predecessors_from_different_levels():
    # level 2 holds node 2 (parent 1, level 1) and node 3 (parent 0, level 0): every node of the
    # level has exactly one incoming edge, but the edges come in two runs of source levels
    edges = [(0, 1), (1, 2), (0, 3), (3, 4), (2, 5)]
    x = torch.arange(12, dtype=DT).view(6, 2)
    for level in ([0, 1, 2, 2, 3, 4], [0, 1, 2, 2, 4, 3], [1, 2, 3, 3, 4, 4]):
        out = Accumulate()(x, to_edge_index(edges), level=torch.tensor(level))
        torch.testing.assert_close(out, accumulate_reference(x, edges))


def test_plan_reuse_and_mismatch():
    layer = Accumulate()
    edges = [(0, 1), (1, 2), (3, 2)]
    ei = to_edge_index(edges)
    x = torch.randn(4, 2, generator=gen(30), dtype=DT)
    plan = layer.plan(ei, 4)
    out = layer.propagate_topological(ei, 4, plan=plan, node_inputs={"x": x})[0]
    torch.testing.assert_close(out, accumulate_reference(x, edges))
    with pytest.raises(ValueError, match="plan"):
        layer.propagate_topological(to_edge_index([(0, 1)]), 4, plan=plan, node_inputs={"x": x})


def test_topological_cycle_raises():
    layer = Accumulate()
    with pytest.raises(ValueError, match="cycle"):
        layer(torch.zeros(4, 2), to_edge_index([(0, 1), (1, 2), (2, 0), (3, 0)]))


# ======================================================== O(levels) batched calls
def test_update_called_once_per_level_not_per_node():
    num_chains, length = 10, 20
    n, edges, chains = chain_edges([length] * num_chains)
    x = torch.randn(n, 2, generator=gen(40), dtype=DT)
    layer = Accumulate()
    out = layer(x, to_edge_index(edges))
    assert layer.calls == length
    assert layer.message_calls == length - 1
    torch.testing.assert_close(out, accumulate_reference(x, edges))


def test_update_calls_on_batch_of_dags_equal_max_depth():
    graphs = [(20, [(i, i + 1) for i in range(19)]), (5, [(0, 2), (1, 2), (2, 3), (3, 4)]), (3, [])]
    n, edges, _ = disjoint_union(graphs)
    layer = Accumulate()
    layer(torch.randn(n, 2, generator=gen(41), dtype=DT), to_edge_index(edges))
    assert layer.calls == 20


def test_chain_rnn_generic_path_runs_one_cell_call_per_level():
    from graphrnn.nn import ChainRNN

    class Counting(ChainRNN):
        calls = 0

        def update(self, aggr, gates_x, weight_hh_t):
            type(self).calls += 1
            return super().update(aggr, gates_x, weight_hh_t)

    # a batch of 10 binary trees of depth 4 (in-degree 1, out-degree 2: not chains, so not fused)
    tree = [(i, c) for i in range(15) for c in (2 * i + 1, 2 * i + 2) if c < 15]
    n, edges, _ = disjoint_union([(15, tree)] * 10)
    layer = Counting(3, 4, cell="gru")
    layer(torch.randn(n, 3, generator=gen(42)), to_edge_index(edges))
    assert Counting.calls == 4


# ============================================================ target inputs
class TargetGatedRNN(RecurrentMessagePassing):
    """m_uv = sigmoid(G x_v) * h_u (a per-edge gate that reads the *target*'s input x_i)."""

    def __init__(self, d, h):
        super().__init__()
        self.hidden = h
        self.G = nn.Parameter(torch.randn(h, d, dtype=DT, generator=gen(1)))
        self.U = nn.Parameter(torch.randn(h, d, dtype=DT, generator=gen(2)))

    def message(self, state_j, x_i, x_j):
        return torch.sigmoid(x_i @ self.G.t()) * state_j[0] + 0.5 * x_j @ self.U.t()

    def update(self, aggr, x):
        return torch.tanh(aggr[0] + x @ self.U.t())

    def initial_message(self, num_nodes, x):
        return x.new_zeros(num_nodes, self.hidden)


@settings(max_examples=25, deadline=None)
@given(dags(min_nodes=1, max_nodes=9, kind="general"))
def test_topological_message_receives_target_inputs(graph):
    n, edges = graph
    layer = TargetGatedRNN(3, 4)
    x = torch.randn(n, 3, dtype=DT, generator=gen(n))
    got = layer.propagate_topological(to_edge_index(edges), n, node_inputs={"x": x})[0]
    h = [None] * n
    for v in nx.topological_sort(to_nx(n, edges)):
        acc = x.new_zeros(4)
        for u, w in edges:
            if w == v:
                acc = acc + torch.sigmoid(layer.G @ x[v]) * h[u] + 0.5 * layer.U @ x[u]
        h[v] = torch.tanh(acc + layer.U @ x[v])
    torch.testing.assert_close(got, torch.stack(h))


# ------------------------------------------- synchronous: fused message_and_aggregate
class MeanOfNeighbours(RecurrentMessagePassing):
    """h' = tanh(W mean_{u->v} sigmoid(g . h_v) h_u + h): message, then mean aggregation."""

    def __init__(self, h):
        super().__init__(schedule="synchronous", num_steps=2, aggr="mean")
        self.W = nn.Linear(h, h)
        self.g = nn.Linear(h, 1)

    def message(self, state_j, state_i):
        return torch.sigmoid(self.g(state_i[0])) * state_j[0]

    def update(self, aggr, state):
        return torch.tanh(self.W(aggr[0]) + state[0])


class FusedMeanOfNeighbours(MeanOfNeighbours):
    """The same math with message_and_aggregate reading the node states and the oriented edges."""

    def message_and_aggregate(self, state, edge_index):
        src, dst = edge_index
        h = state[0]
        total = torch.zeros_like(h).index_add(0, dst, torch.sigmoid(self.g(h))[dst] * h[src])
        return total / torch.bincount(dst, minlength=h.size(0)).clamp(min=1).unsqueeze(-1).to(h.dtype)


class KeywordsSeen(RecurrentMessagePassing):
    """Records what a **kwargs message hook receives."""

    def __init__(self):
        super().__init__(schedule="synchronous", num_steps=1)
        self.seen = set()

    def message(self, **kwargs):
        self.seen.update(k for k, v in kwargs.items() if v is not None)
        return kwargs["state_j"]


@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
def test_fused_message_and_aggregate_equals_message_then_aggregate(flow):
    edge_index = random_cyclic_graph(6, 12, seed=30)
    plain, fused = MeanOfNeighbours(4).double(), FusedMeanOfNeighbours(4).double()
    plain.flow = fused.flow = flow
    init_params(plain, gen(31))
    fused.load_state_dict(plain.state_dict())
    h0 = torch.randn(6, 4, generator=gen(32), dtype=DT)
    for a, b in zip(plain.propagate_synchronous(edge_index, h0), fused.propagate_synchronous(edge_index, h0)):
        torch.testing.assert_close(a.state, b.state, atol=1e-12, rtol=0)


def test_synchronous_hooks_see_state_and_edge_index_and_inputs_named_like_them_are_refused():
    layer = KeywordsSeen()
    edge_index = torch.tensor([[0, 1], [1, 2]])
    layer.propagate_synchronous(edge_index, torch.randn(3, 2), node_inputs={"x": torch.randn(3, 1)})
    assert {"state_j", "state_i", "state", "edge_index", "x_j", "x_i", "step"} <= layer.seen
    with pytest.raises(ValueError, match=r"input name\(s\) \['state'\] are passed by the schedules"):
        layer.propagate_synchronous(edge_index, torch.randn(3, 2), edge_inputs={"state": torch.randn(2, 1)})


def test_a_fused_hook_on_the_topological_schedule_is_refused():
    class Topological(RecurrentMessagePassing):
        def message_and_aggregate(self, state):
            return state

    with pytest.raises(TypeError, match="overrides message_and_aggregate, which only the synchronous schedule"):
        Topological()
