"""ChainRNN against torch.nn.LSTM/GRU/RNN on chains and a node-by-node recursion on DAGs."""
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import (
    chain_edges,
    child_sum_reference,
    cycle_edges,
    dags,
    disjoint_union,
    grads,
    init_params,
    relabel,
    to_edge_index,
)
from torch import nn

from graphrnn.nn import ChainRNN, topological_levels

CELLS = ["lstm", "gru", "rnn"]
TORCH_RNN = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
D, H = 3, 4


def make_layer(cell, seed, dtype=torch.float64, d=D, h=H, **kwargs):
    layer = ChainRNN(d, h, cell=cell, **kwargs).to(dtype)
    init_params(layer, torch.Generator().manual_seed(seed))
    return layer


def make_x(n, seed, dtype=torch.float64, d=D):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def run_torch_per_sequence(module, sequences, initial=None):
    """Runs ``module`` on each sequence alone ([T, D] each); returns [T, H] outputs."""
    outputs = []
    for k, seq in enumerate(sequences):
        if initial is None:
            out, _ = module(seq.unsqueeze(1))
        elif isinstance(initial, tuple):
            out, _ = module(seq.unsqueeze(1), tuple(s[k].view(1, 1, -1) for s in initial))
        else:
            out, _ = module(seq.unsqueeze(1), initial[k].view(1, 1, -1))
        outputs.append(out[:, 0])
    return outputs


def torch_module(cell, seed, **kwargs):
    module = TORCH_RNN[cell](D, H, **kwargs).double()
    init_params(module, torch.Generator().manual_seed(seed))
    return module


CHAIN_CASES = [(c, fused) for c in CELLS for fused in (True, False)]


# --------------------------------------------------------- equals torch on chains
@pytest.mark.parametrize("cell, fused", CHAIN_CASES + [("rnn_relu", True), ("rnn_relu", False)])
@pytest.mark.parametrize("shuffled", [False, True])
def test_from_torch_equals_torch_on_variable_length_chains(cell, fused, shuffled):
    kwargs = {"nonlinearity": "relu"} if cell == "rnn_relu" else {}
    module = torch_module(cell.split("_")[0], seed=1, **kwargs)
    layer = ChainRNN.from_torch(module)
    layer.fused = fused
    lengths = [5, 1, 3, 8]
    n, edges, chains = chain_edges(lengths)
    perm = list(range(n))
    if shuffled:
        random.Random(3).shuffle(perm)
        edges = relabel(edges, perm)
        chains = [[perm[v] for v in nodes] for nodes in chains]
    x = make_x(n, seed=2)
    out = layer(x, to_edge_index(edges))
    assert out.dtype == torch.float64 and out.shape == (n, H)
    expected = run_torch_per_sequence(module, [x[nodes] for nodes in chains])
    for nodes, ref in zip(chains, expected):
        torch.testing.assert_close(out[nodes], ref, atol=1e-9, rtol=0)


@pytest.mark.parametrize("cell, fused", CHAIN_CASES)
def test_target_to_source_runs_chains_backwards(cell, fused):
    module = torch_module(cell, seed=4)
    layer = ChainRNN.from_torch(module, flow="target_to_source", fused=fused)
    n, edges, chains = chain_edges([4, 6, 2])
    x = make_x(n, seed=5)
    out = layer(x, to_edge_index(edges))
    expected = run_torch_per_sequence(module, [x[nodes[::-1]] for nodes in chains])
    for nodes, ref in zip(chains, expected):
        torch.testing.assert_close(out[nodes[::-1]], ref, atol=1e-9, rtol=0)


@pytest.mark.parametrize("kwargs", [{"num_layers": 2}, {"bidirectional": True}])
@pytest.mark.parametrize("cell", CELLS)
def test_from_torch_rejects_multi_layer_and_bidirectional(cell, kwargs):
    with pytest.raises(ValueError, match="1-layer|num_layers|bidirectional"):
        ChainRNN.from_torch(TORCH_RNN[cell](D, H, **kwargs))


def test_from_torch_rejects_projection():
    with pytest.raises(ValueError, match="proj"):
        ChainRNN.from_torch(nn.LSTM(D, 6, proj_size=2))


def test_from_torch_without_bias():
    module = nn.GRU(D, H, bias=False).double()
    layer = ChainRNN.from_torch(module)
    x = make_x(6, seed=0)
    out = layer(x, to_edge_index(chain_edges([6])[1]))
    torch.testing.assert_close(out, module(x.unsqueeze(1))[0][:, 0], atol=1e-9, rtol=0)


# -------------------------------------------------- initial state on chains
@pytest.mark.parametrize("cell, fused", CHAIN_CASES)
def test_initial_state_on_chains_equals_torch(cell, fused):
    module = torch_module(cell, seed=6)
    layer = ChainRNN.from_torch(module, fused=fused)
    lengths = [3, 7, 1, 4]
    n, edges, chains = chain_edges(lengths)
    perm = list(range(n))
    random.Random(8).shuffle(perm)
    edges = relabel(edges, perm)
    chains = [[perm[v] for v in nodes] for nodes in chains]
    gen = torch.Generator().manual_seed(7)
    # rows of non-root nodes hold garbage: they must be ignored
    h0 = torch.randn(n, H, generator=gen, dtype=torch.float64)
    c0 = torch.randn(n, H, generator=gen, dtype=torch.float64)
    roots = torch.tensor([nodes[0] for nodes in chains])
    x = make_x(n, seed=9)
    if cell == "lstm":
        out = layer(x, to_edge_index(edges), initial_state=(h0, c0))
        expected = run_torch_per_sequence(module, [x[c] for c in chains], (h0[roots], c0[roots]))
    else:
        out = layer(x, to_edge_index(edges), initial_state=h0)
        expected = run_torch_per_sequence(module, [x[c] for c in chains], h0[roots])
    for nodes, ref in zip(chains, expected):
        torch.testing.assert_close(out[nodes], ref, atol=1e-9, rtol=0)


# ------------------------------------------------ generic path vs recursion
def check_against_recursion(cell, n, edges, seed, flow="source_to_target", initial=False):
    layer = make_layer(cell, seed, flow=flow)
    x = make_x(n, seed + 1).requires_grad_()
    gen = torch.Generator().manual_seed(seed + 2)
    init = None
    if initial:
        init = tuple(torch.randn(n, H, generator=gen, dtype=torch.float64).requires_grad_()
                     for _ in range(2 if cell == "lstm" else 1))
    weight = torch.randn(n, H, generator=gen, dtype=torch.float64)
    ei = to_edge_index(edges)
    init_arg = None if init is None else (init if cell == "lstm" else init[0])
    out = layer(x, ei, initial_state=init_arg)
    ref_edges = edges if flow == "source_to_target" else [(v, u) for u, v in edges]
    ref, _ = child_sum_reference(layer.cell, cell, x, n, ref_edges, init)
    torch.testing.assert_close(out, ref, atol=1e-9, rtol=0)
    wrt = [x] + list(layer.parameters()) + (list(init) if init else [])
    for got, want in zip(grads(out, wrt, weight), grads(ref, wrt, weight)):
        if want is None:
            assert got is None or torch.count_nonzero(got) == 0
        else:
            torch.testing.assert_close(got, want, atol=1e-9, rtol=0)


@pytest.mark.parametrize("cell", CELLS)
@settings(max_examples=25, deadline=None)
@given(graph=dags(min_nodes=1, max_nodes=12, kind="general"), seed=st.integers(0, 1000))
def test_generic_path_equals_recursion_on_random_dags(cell, graph, seed):
    n, edges = graph
    check_against_recursion(cell, n, edges, seed)


@pytest.mark.parametrize("cell", CELLS)
@settings(max_examples=10, deadline=None)
@given(graph=dags(min_nodes=1, max_nodes=12, kind="forest"), seed=st.integers(0, 1000))
def test_generic_path_equals_recursion_on_random_forests(cell, graph, seed):
    n, edges = graph
    check_against_recursion(cell, n, edges, seed)


FIXED_DAG = (7, [(0, 2), (1, 2), (2, 3), (0, 3), (3, 4), (5, 4), (2, 4), (6, 5)])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("initial", [False, True])
def test_generic_path_equals_recursion_on_fixed_dag(cell, initial):
    check_against_recursion(cell, *FIXED_DAG, seed=11, initial=initial)


@pytest.mark.parametrize("cell", CELLS)
def test_target_to_source_equals_recursion_on_reversed_graph(cell):
    check_against_recursion(cell, *FIXED_DAG, seed=12, flow="target_to_source")


@pytest.mark.parametrize("cell", CELLS)
@settings(max_examples=10, deadline=None)
@given(graph=dags(min_nodes=1, max_nodes=10, kind="general"), seed=st.integers(0, 1000))
def test_target_to_source_on_random_dags(cell, graph, seed):
    n, edges = graph
    check_against_recursion(cell, n, edges, seed, flow="target_to_source")


# ----------------------------------------------------------- batched == alone
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fused", [True, False])
@settings(max_examples=10, deadline=None)
@given(graphs=st.lists(st.one_of(dags(min_nodes=1, max_nodes=8, kind="general"),
                                 dags(min_nodes=1, max_nodes=8, kind="forest")), min_size=1, max_size=5),
       seed=st.integers(0, 1000))
def test_batched_equals_alone(cell, fused, graphs, seed):
    layer = make_layer(cell, seed, fused=fused)
    total, edges, offsets = disjoint_union(graphs)
    x = make_x(total, seed + 1)
    with torch.no_grad():
        out = layer(x, to_edge_index(edges))
        for (n, e), offset in zip(graphs, offsets):
            alone = layer(x[offset:offset + n], to_edge_index(e))
            torch.testing.assert_close(out[offset:offset + n], alone, atol=1e-12, rtol=0)


# ------------------------------------------------------------- levels
@pytest.mark.parametrize("cell", CELLS)
def test_precomputed_level_gives_same_result(cell):
    n, edges = FIXED_DAG
    layer = make_layer(cell, 13)
    x, ei = make_x(n, 14), to_edge_index(edges)
    expected = layer(x, ei)
    level = topological_levels(ei, n)
    torch.testing.assert_close(layer(x, ei, level=level), expected, atol=1e-12, rtol=0)
    # any valid levels (increasing along every edge, with gaps) give the same result
    spread = level * 3 + torch.tensor([2, 0, 1, 0, 2, 1, 0])
    torch.testing.assert_close(layer(x, ei, level=spread), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cell", CELLS)
def test_spread_level_on_tree(cell):
    # a tree (not a chain: generic path); level 2 mixes children of a level-0 and a level-1 node
    n, edges = 7, [(0, 1), (1, 2), (0, 3), (3, 4), (2, 5), (0, 6)]
    layer = make_layer(cell, 42)
    x = make_x(n, 43)
    level = torch.tensor([0, 1, 2, 2, 4, 3, 2])
    ref, _ = child_sum_reference(layer.cell, cell, x, n, edges)
    torch.testing.assert_close(layer(x, to_edge_index(edges), level=level), ref, atol=1e-9, rtol=0)


def test_reverse_level_for_target_to_source():
    n, edges = FIXED_DAG
    layer = make_layer("gru", 15, flow="target_to_source")
    x, ei = make_x(n, 16), to_edge_index(edges)
    reverse_level = topological_levels(ei.flip(0), n)
    torch.testing.assert_close(layer(x, ei, level=reverse_level), layer(x, ei), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="level"):
        layer(x, ei, level=topological_levels(ei, n))  # levels of the other flow


@pytest.mark.parametrize("bad", ["zeros", "short", "negative"])
def test_wrong_level_on_dag_raises(bad):
    n, edges = FIXED_DAG
    layer = make_layer("lstm", 17)
    level = {"zeros": torch.zeros(n, dtype=torch.long),
             "short": torch.zeros(n - 1, dtype=torch.long),
             "negative": topological_levels(to_edge_index(edges), n) - 1}[bad]
    with pytest.raises(ValueError, match="level"):
        layer(make_x(n, 18), to_edge_index(edges), level=level)


@pytest.mark.parametrize("fused", [False, True])
def test_wrong_level_on_chain_raises(fused):
    # the same forward call must not accept a stale level just because the fast path is taken
    n, edges, _ = chain_edges([4, 2])
    layer = make_layer("lstm", 19, fused=fused)
    with pytest.raises(ValueError, match="level"):
        layer(make_x(n, 20), to_edge_index(edges), level=torch.zeros(n, dtype=torch.long))


# --------------------------------------------------------- return_state
@pytest.mark.parametrize("fused", [True, False])
def test_return_state_lstm_gives_recursion_cell_state(fused):
    for n, edges in (FIXED_DAG, chain_edges([3, 5])[:2]):
        layer = make_layer("lstm", 21, fused=fused)
        x = make_x(n, 22)
        h, c = layer(x, to_edge_index(edges), return_state=True)
        ref_h, ref_c = child_sum_reference(layer.cell, "lstm", x, n, edges)
        torch.testing.assert_close(h, ref_h, atol=1e-9, rtol=0)
        torch.testing.assert_close(c, ref_c, atol=1e-9, rtol=0)


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_return_state_without_cell_state_returns_h(cell):
    n, edges = FIXED_DAG
    layer = make_layer(cell, 23)
    x = make_x(n, 24)
    torch.testing.assert_close(layer(x, to_edge_index(edges), return_state=True),
                               child_sum_reference(layer.cell, cell, x, n, edges)[0], atol=1e-9, rtol=0)


# --------------------------------------------------------------- gradcheck
TINY_DAG = (5, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)])


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_tiny_dag(cell):
    n, edges = TINY_DAG
    layer = make_layer(cell, 25)
    ei = to_edge_index(edges)
    gen = torch.Generator().manual_seed(26)
    x = torch.randn(n, D, generator=gen, dtype=torch.float64, requires_grad=True)
    states = [torch.randn(n, H, generator=gen, dtype=torch.float64, requires_grad=True)
              for _ in range(2 if cell == "lstm" else 1)]

    def fn(x, *states):
        init = tuple(states) if cell == "lstm" else states[0]
        return layer(x, ei, initial_state=init)

    assert torch.autograd.gradcheck(fn, (x, *states))
    assert torch.autograd.gradcheck(lambda x: layer(x, ei), (x,))


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_fused_chain(cell):
    n, edges, _ = chain_edges([3, 2])
    layer = make_layer(cell, 27)
    ei = to_edge_index(edges)
    x = torch.randn(n, D, generator=torch.Generator().manual_seed(28), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x, ei), (x,))


# ------------------------------------------------------- fused == generic
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("flow", ["source_to_target", "target_to_source"])
def test_fused_equals_generic_float32(cell, flow):
    n, edges, _ = chain_edges([7, 3, 1, 5, 5])
    perm = list(range(n))
    random.Random(29).shuffle(perm)
    ei = to_edge_index(relabel(edges, perm))
    fused = make_layer(cell, 30, dtype=torch.float32, flow=flow, fused=True)
    generic = make_layer(cell, 30, dtype=torch.float32, flow=flow, fused=False)
    gen = torch.Generator().manual_seed(31)
    x1 = torch.randn(n, D, generator=gen).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    h0 = torch.randn(n, H, generator=gen)
    init = (h0, h0.flip(1)) if cell == "lstm" else h0
    weight = torch.randn(n, H, generator=gen)
    out1, out2 = fused(x1, ei, initial_state=init), generic(x2, ei, initial_state=init)
    torch.testing.assert_close(out1, out2, atol=1e-5, rtol=0)
    g1 = grads(out1, [x1, *fused.parameters()], weight)
    g2 = grads(out2, [x2, *generic.parameters()], weight)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


# -------------------------------------------------------------- bad inputs
@pytest.fixture
def lstm_layer():
    return make_layer("lstm", 32, dtype=torch.float32)


CHAIN3 = to_edge_index([(0, 1), (1, 2)])


def test_wrong_feature_width(lstm_layer):
    with pytest.raises(ValueError, match="in_channels"):
        lstm_layer(torch.randn(3, D + 1), CHAIN3)


def test_token_ids_rejected(lstm_layer):
    with pytest.raises(ValueError, match="shape"):
        lstm_layer(torch.tensor([1, 2, 0]), CHAIN3)


def test_integer_x_rejected(lstm_layer):
    with pytest.raises(ValueError, match="floating point"):
        lstm_layer(torch.ones(3, D, dtype=torch.long), CHAIN3)


@pytest.mark.parametrize("fused", [True, False])
def test_nan_in_x(fused):
    layer = make_layer("lstm", 33, dtype=torch.float32, fused=fused)
    x = torch.randn(3, D)
    x[1, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        layer(x, CHAIN3)
    layer.check_finite = False
    out = layer(x, CHAIN3)  # no check: the NaN spreads downstream
    assert torch.isfinite(out[0]).all() and torch.isnan(out[1:]).all()


def test_nan_in_initial_state():
    layer = make_layer("gru", 34, dtype=torch.float32)
    h0 = torch.zeros(3, H)
    h0[0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        layer(torch.randn(3, D), CHAIN3, initial_state=h0)


@pytest.mark.parametrize("edge_index", [torch.tensor([[0, 1], [1, 3]]), torch.tensor([[0, -1], [1, 2]])])
def test_edge_index_out_of_range(lstm_layer, edge_index):
    with pytest.raises(ValueError, match="num_nodes"):
        lstm_layer(torch.randn(3, D), edge_index)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("edges", [cycle_edges(3), cycle_edges(4), [(0, 1), (1, 2), (2, 0), (3, 2)],
                                   cycle_edges(2) + [(2, 3)]],
                         ids=["3-cycle", "4-cycle", "in-degree-2", "2-cycle+chain"])
def test_cycle_raises(fused, edges):
    layer = make_layer("gru", 35, dtype=torch.float32, fused=fused)
    with pytest.raises(ValueError, match="cycle"):
        layer(torch.randn(4, D), to_edge_index(edges))


@pytest.mark.parametrize("cell, init, match", [
    ("lstm", torch.zeros(3, H), r"\(h, c\)"),
    ("lstm", (torch.zeros(3, H + 1), torch.zeros(3, H)), "shape"),
    ("lstm", (torch.zeros(3, H), torch.zeros(2, H)), "shape"),
    ("gru", torch.zeros(1, H), "shape"),
    ("gru", (torch.zeros(3, H), torch.zeros(3, H)), "one tensor"),
    ("rnn", torch.zeros(3, 1, H), "shape"),
])
def test_wrong_initial_state(cell, init, match):
    layer = make_layer(cell, 36, dtype=torch.float32)
    with pytest.raises(ValueError, match=match):
        layer(torch.randn(3, D), CHAIN3, initial_state=init)


def test_wrong_cell_name():
    with pytest.raises(ValueError, match="cell"):
        ChainRNN(D, H, cell="transformer")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_state", [False, True])
def test_empty_graph(cell, return_state):
    layer = make_layer(cell, 37)
    out = layer(torch.zeros(0, D, dtype=torch.float64), torch.zeros(2, 0, dtype=torch.long),
                return_state=return_state)
    for t in (out if isinstance(out, tuple) else (out,)):
        assert t.shape == (0, H) and t.dtype == torch.float64
    assert isinstance(out, tuple) == (return_state and cell == "lstm")


def test_isolated_nodes_are_roots():
    layer = make_layer("lstm", 38)
    x = make_x(4, 39)
    ref, _ = child_sum_reference(layer.cell, "lstm", x, 4, [])
    for fused in (True, False):
        layer.fused = fused
        torch.testing.assert_close(layer(x, torch.zeros(2, 0, dtype=torch.long)), ref, atol=1e-9, rtol=0)


# ------------------------------------------------------------ module basics
@pytest.mark.parametrize("cell", CELLS)
def test_reset_parameters_changes_parameters(cell):
    torch.manual_seed(0)
    layer = ChainRNN(D, H, cell=cell)
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(5.0)  # outside U(-1/sqrt(H), 1/sqrt(H))
    layer.reset_parameters()
    bound = 1 / H ** 0.5
    for p in layer.parameters():
        assert not torch.all(p == 5.0)
        assert float(p.detach().abs().max()) <= bound


@pytest.mark.parametrize("cell", CELLS)
def test_repr_mentions_cell(cell):
    text = repr(ChainRNN(D, H, cell=cell))
    assert cell in text and "ChainRNN" in text


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("fused", [True, False])
def test_double_layer_returns_float64(cell, fused):
    layer = ChainRNN(D, H, cell=cell, fused=fused).double()
    for p in layer.parameters():
        assert p.dtype == torch.float64
    out = layer(torch.randn(5, D, dtype=torch.float64), to_edge_index(FIXED_DAG[1][:3]))
    assert out.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("fused", [True, False])
def test_cuda_output_follows_module(fused):
    layer = make_layer("lstm", 40, fused=fused)
    n, edges = FIXED_DAG if not fused else chain_edges([3, 4])[:2]
    x = make_x(n, 41)
    ref = layer(x, to_edge_index(edges))
    out = layer.cuda()(x.cuda(), to_edge_index(edges).cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), ref, atol=1e-9, rtol=0)


def test_input_on_another_device_than_the_parameters_is_named():
    # the meta device stands in for a second accelerator: a raw torch error from inside the cell before
    layer = ChainRNN(3, 4)
    with pytest.raises(ValueError, match="x is on meta but ChainRNN's parameters are on cpu"):
        layer(torch.zeros(3, 3, device="meta"), torch.tensor([[0, 1], [1, 2]]))


def test_more_bad_constructor_and_forward_inputs():
    """Inputs that used to pass silently or fail deep inside torch: each gets graphrnn's error."""
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        ChainRNN(3, 5, cell="rnn", nonlinearity="sigmoid")  # torch accepts it; a tree pass applied relu
    with pytest.raises(ValueError, match="hidden size must be a positive integer, got 5.5"):
        ChainRNN(3, 5.5)
    with pytest.raises(ValueError, match="flow must be 'source_to_target' or 'target_to_source'"):
        ChainRNN(3, 5, flow="up")
    with pytest.raises(ValueError, match="names a type twice"):
        ChainRNN(3, 5, edge_types=[0, 0])
    x, edge_index = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    gru = ChainRNN(3, 5, cell="gru")
    with pytest.raises(TypeError, match="initial_state is torch.complex64"):
        gru(x, edge_index, initial_state=torch.ones(4, 5, dtype=torch.complex64))  # was cast, imaginary part lost
    with pytest.raises(TypeError, match="initial_state must be a tensor"):
        gru(x, edge_index, initial_state=np.zeros((4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="edge_index is on meta but x is on cpu"):
        gru(x, edge_index.to("meta"))
    typed = ChainRNN(3, 5, edge_types=[0])
    with pytest.raises(TypeError, match="edge_type must be a LongTensor"):
        typed(x, edge_index, edge_type=[0, 0, 0])


def test_a_plan_for_other_edge_types_is_refused():
    x, edge_index, edge_type = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]), torch.tensor([0, 1, 1])
    follows_0, follows_1 = ChainRNN(3, 5, edge_types=[0]), ChainRNN(3, 5, edge_types=[1])
    with pytest.raises(ValueError, match=r"plan follows edge types \[0\], but this layer follows \[1\]"):
        follows_1(x, edge_index, edge_type=edge_type, plan=follows_0.plan(edge_index, 4, edge_type=edge_type))
    with pytest.raises(ValueError, match="but this layer follows every edge type"):
        ChainRNN(3, 5)(x, edge_index, plan=follows_0.plan(edge_index, 4, edge_type=edge_type))
