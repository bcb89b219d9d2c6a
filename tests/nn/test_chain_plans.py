"""ChainRNN with plans: edge-type selection, edge weights, host syncs, gradients through the level store."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import child_sum_reference, dags, init_params

from graphrnn.bench import host_sync_ops
from graphrnn.data import PARENT, DataLoader, chain_graph, tree_graph
from graphrnn.nn import ChainRNN, RecurrentMessagePassing

DT = torch.float64
#: operators that read a tensor's value on the host (a host-device sync on an accelerator)


def gen(seed):
    return torch.Generator().manual_seed(seed)


@st.composite
def trees(draw, max_nodes=9):
    n = draw(st.integers(1, max_nodes))
    return [-1] + [draw(st.integers(0, i - 1)) for i in range(1, n)]


@settings(max_examples=30, deadline=None)
@given(trees(), st.sampled_from(["lstm", "gru", "rnn"]))
def test_child_sum_over_parent_edges_of_a_tree_graph(parents, cell):
    """The README's tree example: leaves to root over PARENT edges only, SIBLING edges ignored."""
    n = len(parents)
    data = tree_graph(torch.zeros(n, dtype=torch.long), parents)
    layer = ChainRNN(3, 4, cell=cell, flow="target_to_source", edge_types=[PARENT]).double()
    init_params(layer, gen(n))
    x = torch.randn(n, 3, dtype=DT, generator=gen(n + 1))
    got = layer(x, data.edge_index, edge_type=data.edge_type)
    children_to_parent = [(v, p) for v, p in enumerate(parents) if p >= 0]
    expected, _ = child_sum_reference(layer.cell, cell, x, n, children_to_parent)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


def test_following_every_edge_of_a_tree_graph_is_not_child_sum():
    parents = [-1, 0, 0, 0]
    data = tree_graph(torch.zeros(4, dtype=torch.long), parents)
    layer = ChainRNN(3, 4, flow="target_to_source").double()
    x = torch.randn(4, 3, dtype=DT, generator=gen(0))
    selected = ChainRNN(3, 4, flow="target_to_source", edge_types=[PARENT]).double()
    selected.load_state_dict(layer.state_dict())
    assert not torch.allclose(layer(x, data.edge_index), selected(x, data.edge_index, edge_type=data.edge_type))
    with pytest.raises(ValueError, match="needs edge_type"):
        selected(x, data.edge_index)


@settings(max_examples=25, deadline=None)
@given(dags(min_nodes=1, max_nodes=9, kind="general"))
def test_edge_weight_scales_each_message(graph):
    n, edges = graph
    layer = ChainRNN(2, 3, cell="lstm").double()
    init_params(layer, gen(1))
    x = torch.randn(n, 2, dtype=DT, generator=gen(2))
    weight = torch.rand(len(edges), dtype=DT, generator=gen(3))
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    h, c = layer(x, edge_index, edge_weight=weight, return_state=True)
    reference_h, reference_c = [None] * n, [None] * n
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    for v in nx.topological_sort(g):
        h_in, c_in = x.new_zeros(1, 3), x.new_zeros(1, 3)
        for e, (u, w) in enumerate(edges):
            if w == v:
                h_in, c_in = h_in + weight[e] * reference_h[u], c_in + weight[e] * reference_c[u]
        reference_h[v], reference_c[v] = layer.cell(x[v:v + 1], (h_in, c_in))
    torch.testing.assert_close(h, torch.cat(reference_h), rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(c, torch.cat(reference_c), rtol=1e-9, atol=1e-9)


def test_edge_weight_errors():
    layer = ChainRNN(2, 3)
    x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E\]=\[2\]"):
        layer(x, edge_index, edge_weight=torch.ones(3))
    with pytest.raises(TypeError, match="edge_weight must be a float tensor"):
        layer(x, edge_index, edge_weight=torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="edge_weight has a NaN"):
        layer(x, edge_index, edge_weight=torch.tensor([1.0, float("nan")]))


def test_float64_input_into_float32_layer():
    with pytest.raises(TypeError, match=r"call layer.double\(\) on the layer"):
        ChainRNN(2, 3)(torch.randn(3, 2, dtype=DT), torch.tensor([[0, 1], [1, 2]]))


def test_plan_for_another_graph_of_the_same_size_is_refused():
    layer = ChainRNN(2, 3)
    x = torch.randn(3, 2)
    plan = layer.plan(torch.tensor([[0, 1], [1, 2]]), 3)
    with pytest.raises(ValueError, match="another graph of the same size"):
        layer(x, torch.tensor([[1, 0], [2, 1]]), plan=plan)


def test_backward_twice_through_the_level_store():
    """retain_graph: a second backward pass gives the same gradients (the store's buffer is reset)."""
    tree = [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5)]
    edge_index = torch.tensor(tree).t()
    layer = ChainRNN(2, 3, flow="target_to_source", fused=False).double()
    x = torch.randn(6, 2, dtype=DT, generator=gen(0), requires_grad=True)
    out = layer(x, edge_index).pow(2).sum()
    first = torch.autograd.grad(out, [x, layer.cell.weight_hh], retain_graph=True)
    second = torch.autograd.grad(out, [x, layer.cell.weight_hh])
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_gradcheck_on_a_dag_with_a_plan(cell):
    edges = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 3, 3, 4]])
    layer = ChainRNN(2, 2, cell=cell).double()
    plan = layer.plan(edges, 5)
    x = torch.randn(5, 2, dtype=DT, generator=gen(3), requires_grad=True)
    h0 = torch.randn(5, 2, dtype=DT, generator=gen(1), requires_grad=True)
    c0 = torch.randn(5, 2, dtype=DT, generator=gen(2))

    def run(x, h0):
        return layer(x, edges, plan=plan, initial_state=(h0, c0) if cell == "lstm" else h0)

    assert torch.autograd.gradcheck(run, (x, h0))


def tree_batch(count=6):
    graphs = []
    for i in range(count):
        parents = [-1, 0, 0, 1, 1, 2, 5][: 3 + i % 5]
        data = tree_graph(torch.zeros(len(parents), dtype=torch.long), parents)
        data.x = torch.randn(len(parents), 3, generator=gen(i))
        graphs.append(data)
    return graphs


@pytest.mark.parametrize("case", ["chains fused", "chains generic", "trees child-sum", "dag"])
def test_a_training_step_given_a_plan_reads_nothing_on_the_host(case):
    if case.startswith("chains"):
        layer = ChainRNN(3, 4, fused=case.endswith("fused"))
        graphs = [chain_graph(torch.randn(n, 3, generator=gen(n))) for n in (4, 2, 5)]
        batch = next(iter(DataLoader(graphs, batch_size=3, plans={"plan": layer.planner()})))
        kwargs = {}
    elif case == "trees child-sum":
        layer = ChainRNN(3, 4, flow="target_to_source", edge_types=[PARENT])
        batch = next(iter(DataLoader(tree_batch(), batch_size=6, plans={"plan": layer.planner()})))
        kwargs = {"edge_type": batch.edge_type}
    else:
        layer = ChainRNN(3, 4, cell="gru")
        batch = next(iter(DataLoader(tree_batch(), batch_size=6, plans={"plan": layer.planner()})))
        kwargs = {}
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)

    def step():
        optimizer.zero_grad()
        layer(batch.x, batch.edge_index, plan=batch.plan, **kwargs).pow(2).mean().backward()
        optimizer.step()

    step()
    assert host_sync_ops(step) == []
    assert host_sync_ops(lambda: layer(batch.x, batch.edge_index, **kwargs)) != []  # without a plan it builds one


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_training_step_given_a_plan_never_syncs_on_cuda():
    layer = ChainRNN(3, 4, flow="target_to_source", edge_types=[PARENT]).cuda()
    batch = next(iter(DataLoader(tree_batch(), batch_size=6, plans={"plan": layer.planner()}))).to("cuda")
    layer(batch.x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type).sum().backward()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        layer(batch.x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type).sum().backward()
    finally:
        torch.cuda.set_sync_debug_mode(0)


def test_no_graph_breaks_given_a_plan():
    layer = ChainRNN(3, 4, flow="target_to_source", edge_types=[PARENT])
    batch = next(iter(DataLoader(tree_batch(3), batch_size=3, plans={"plan": layer.planner()})))
    explanation = torch._dynamo.explain(layer)(batch.x, batch.edge_index, plan=batch.plan,
                                                edge_type=batch.edge_type)
    assert explanation.graph_break_count == 0


# ------------------------------------------------------------------ hooks
def test_misspelt_hook_argument_is_named_at_construction():
    class Misspelt(RecurrentMessagePassing):
        def message(self, stat_j):
            return stat_j

        def update(self, aggr):
            return aggr

        def initial_message(self, num_nodes):
            return torch.zeros(num_nodes, 1)

    with pytest.raises(TypeError, match="takes 'stat_j': did you mean 'state_j'"):
        Misspelt()


def test_unknown_hook_input_lists_what_is_available():
    class WantsY(RecurrentMessagePassing):
        def message(self, state_j, y_j):
            return state_j

        def update(self, aggr, x):
            return aggr

        def initial_message(self, num_nodes, x):
            return x.new_zeros(num_nodes, 1)

    layer = WantsY()
    with pytest.raises(TypeError, match=r"message\(\) asks for \['y_j'\].*available: .*'x_i', 'x_j'"):
        layer.propagate_topological(torch.tensor([[0], [1]]), 2, node_inputs={"x": torch.randn(2, 1)})


def test_every_layer_prints_on_one_line():
    from graphrnn.nn import DRNN, HMM, Attention, StructureInferenceMachine, TypedLinear
    from graphrnn.nn.sim import SceneUnary

    layers = {
        ChainRNN(16, 32): "ChainRNN(16, 32, cell='lstm')",
        ChainRNN(16, 32, cell="gru", flow="target_to_source"): "ChainRNN(16, 32, cell='gru', flow='target_to_source')",
        DRNN(10, 8): "DRNN(10, 8, cell='lstm', embedding_dim=8)",
        HMM(3, 5): "HMM(num_states=3, num_symbols=5)",
        Attention("mlp", 8, 6): "Attention('mlp', 8, 6)",
        TypedLinear(4, 5, 3): "TypedLinear(4, 5, num_types=3, bias=True)",
        SceneUnary(5, 3, 8, 4, 2): "SceneUnary(5, 3, 8, num_actions=4, num_activities=2, activation='relu')",
    }
    for layer, expected in layers.items():
        assert repr(layer) == expected
    sim = repr(StructureInferenceMachine(5, 3, 8, 4, 2, num_iterations=2))
    assert "\n" not in sim and sim.startswith("StructureInferenceMachine(5, 3, 8, num_actions=4")


def test_the_package_ships_py_typed():
    from importlib.resources import files

    assert files("graphrnn").joinpath("py.typed").is_file()


def test_tracing_is_refused_with_a_clear_error():
    layer = ChainRNN(3, 4)
    x, edge_index = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(TypeError, match="cannot be traced with torch.jit.trace.*torch.compile"):
        torch.jit.trace(lambda x: layer(x, edge_index), (x,))
    sim_layer = ChainRNN(3, 4, fused=False)
    with pytest.raises(TypeError, match="cannot be traced"):
        torch.jit.trace(lambda x: sim_layer(x, edge_index), (x,))


@settings(max_examples=20, deadline=None)
@given(dags(min_nodes=1, max_nodes=8, kind="general"), st.sampled_from(["lstm", "gru"]))
def test_edge_attr_adds_a_learnable_per_edge_message(graph, cell):
    import networkx as nx

    n, edges = graph
    layer = ChainRNN(2, 3, cell=cell, edge_dim=4).double()
    init_params(layer, gen(5))
    x = torch.randn(n, 2, dtype=DT, generator=gen(6))
    attr = torch.randn(len(edges), 4, dtype=DT, generator=gen(7))
    weight = torch.rand(len(edges), dtype=DT, generator=gen(8))
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    got = layer(x, edge_index, edge_attr=attr, edge_weight=weight)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    h, c = [None] * n, [None] * n
    for v in nx.topological_sort(g):
        h_in, c_in = x.new_zeros(1, 3), x.new_zeros(1, 3)
        for e, (u, w) in enumerate(edges):
            if w == v:
                h_in = h_in + weight[e] * (h[u] + attr[e] @ layer.edge_lin.weight.t())
                if cell == "lstm":
                    c_in = c_in + weight[e] * c[u]
        if cell == "lstm":
            h[v], c[v] = layer.cell(x[v:v + 1], (h_in, c_in))
        else:
            h[v] = layer.cell(x[v:v + 1], h_in)
    torch.testing.assert_close(got, torch.cat(h), rtol=1e-9, atol=1e-9)


def test_edge_attr_errors():
    x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="has no edge_dim"):
        ChainRNN(2, 3)(x, edge_index, edge_attr=torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"edge_attr must have shape \[E, edge_dim\]=\[2, 4\]"):
        ChainRNN(2, 3, edge_dim=4)(x, edge_index, edge_attr=torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"edge_attr must have shape"):
        ChainRNN(2, 3, edge_dim=4)(x, edge_index)
    with pytest.raises(ValueError, match="edge_dim must be a positive int"):
        ChainRNN(2, 3, edge_dim=0)
    assert repr(ChainRNN(2, 3, edge_dim=4)) == "ChainRNN(2, 3, cell='lstm', edge_dim=4)"


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_lazy_in_channels(cell):
    x, edge_index = torch.randn(4, 5), torch.tensor([[0, 1, 2], [1, 2, 3]])
    lazy = ChainRNN(-1, 3, cell=cell)
    assert repr(lazy).startswith("ChainRNN(-1, 3")
    out = lazy(x, edge_index)
    assert out.shape == (4, 3) and lazy.in_channels == 5 and lazy.cell.weight_ih.shape[1] == 5
    eager = ChainRNN(5, 3, cell=cell)
    eager.load_state_dict(lazy.state_dict())
    torch.testing.assert_close(eager(x, edge_index), out)
    restored = ChainRNN(-1, 3, cell=cell)
    restored.load_state_dict(lazy.state_dict())  # a lazy layer takes the width from the checkpoint
    torch.testing.assert_close(restored(x, edge_index), out)
    with pytest.raises(ValueError, match="in_channels=5"):
        lazy(torch.randn(4, 6), edge_index)


def test_unknown_hook_input_under_the_synchronous_schedule():
    class WantsY(RecurrentMessagePassing):
        def __init__(self):
            super().__init__(schedule="synchronous", num_steps=2)

        def message(self, state_j, y_j):
            return state_j[0]

        def update(self, aggr):
            return aggr[0]

    with pytest.raises(TypeError, match=r"message\(\) asks for \['y_j'\], which the synchronous schedule .*'x_j'"):
        WantsY().propagate_synchronous(torch.tensor([[0], [1]]), torch.zeros(2, 1), node_inputs={"x": torch.ones(2)})


def test_levels_beside_a_plan_are_refused_not_ignored():
    # before: level was ignored whenever a plan came, even levels that disagree with the plan
    edge_index = torch.tensor([[0, 1], [1, 2]])
    layer, x = ChainRNN(3, 4), torch.randn(3, 3, generator=gen(0))
    plan = layer.plan(edge_index, 3)
    wrong = torch.tensor([2, 1, 0])
    with pytest.raises(ValueError, match="got both level and a plan; a plan carries its own levels"):
        layer(x, edge_index, wrong, plan=plan)
    right = torch.tensor([0, 1, 2])
    assert torch.equal(layer(x, edge_index, right), layer(x, edge_index, plan=plan))
