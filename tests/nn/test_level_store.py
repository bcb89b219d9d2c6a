"""The level store's summed gather (one embedding_bag per level) against brute force and the message path."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import dags, init_params, to_edge_index

from graphrnn.nn import ChainRNN
from graphrnn.nn.level_store import LevelStore, ListLevelStore

DT = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


@st.composite
def bagged_rows(draw):
    """A level of ``rows`` states and bags over them: (rows, index, bag sizes), empty bags included."""
    rows = draw(st.integers(1, 8))
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=6))
    index = draw(st.lists(st.integers(0, rows - 1), min_size=sum(sizes), max_size=sum(sizes)))
    return rows, index, sizes


def profiled_op_names(fn):
    with torch.profiler.profile() as profile:
        fn()
    return {event.name for event in profile.events()}


def bags_of(sizes):
    sizes = torch.tensor(sizes)
    offsets = torch.cumsum(sizes, 0) - sizes
    return offsets, torch.repeat_interleave(torch.arange(sizes.numel()), sizes)


@pytest.mark.parametrize("store_class", [LevelStore, ListLevelStore])
@pytest.mark.parametrize("shape, dtype", [((), torch.float64), ((2, 2), torch.float32), ((3,), torch.long),
                                          ((), torch.long), ((3,), torch.complex64), ((0,), torch.float64)])
@settings(max_examples=10, deadline=None)
@given(case=bagged_rows())
def test_states_of_any_shape_and_dtype_are_summed_per_bag(store_class, shape, dtype, case):
    """embedding_bag takes 2-D floating tables: other states (1-D, 3-D, integer counts, complex) are summed too."""
    rows, index, sizes = case
    states = (torch.arange(rows * math.prod(shape)).view(rows, *shape) % 5).to(dtype)
    store = store_class([0, rows])
    store.write(0, (states,))
    (summed,) = store.gather(torch.tensor(index, dtype=torch.long), [0], bags=bags_of(sizes))
    expected, start = torch.zeros(len(sizes), *shape, dtype=dtype), 0
    for bag, size in enumerate(sizes):
        for i in index[start:start + size]:
            expected[bag] += states[i]
        start += size
    assert summed.dtype == dtype
    torch.testing.assert_close(summed, expected)


@pytest.mark.parametrize("store_class", [LevelStore, ListLevelStore])
@settings(max_examples=40, deadline=None)
@given(case=bagged_rows())
def test_a_bag_gather_sums_each_bags_rows_and_carries_their_gradient(store_class, case):
    rows, index, sizes = case
    states = torch.randn(rows, 3, dtype=DT, generator=gen(rows), requires_grad=True)
    store = store_class([0, rows])
    store.write(0, (states * 1,))
    (summed,) = store.gather(torch.tensor(index, dtype=torch.long), [0], bags=bags_of(sizes))
    weights = torch.randn(len(sizes), 3, dtype=DT, generator=gen(7))
    expected, expected_grad, start = torch.zeros(len(sizes), 3, dtype=DT), torch.zeros(rows, 3, dtype=DT), 0
    for bag, size in enumerate(sizes):  # brute force: an empty bag sums to zero
        for i in index[start:start + size]:
            expected[bag] += states[i].detach()
            expected_grad[i] += weights[bag]  # d(sum of weights * bag sums) / d(row i)
        start += size
    torch.testing.assert_close(summed, expected)
    if summed.requires_grad:  # nothing to differentiate when every bag is empty
        torch.testing.assert_close(torch.autograd.grad((summed * weights).sum(), states)[0], expected_grad)


@settings(max_examples=30, deadline=None)
@given(dags(min_nodes=1, max_nodes=10, kind="general"), st.sampled_from(["lstm", "gru", "rnn"]))
def test_the_summed_gather_equals_the_message_path(graph, cell):
    """Unit edge weights send every level through message + index_add; without, through embedding_bag."""
    n, edges = graph
    edge_index = to_edge_index(edges)
    layer = ChainRNN(2, 3, cell=cell, fused=False).double()
    init_params(layer, gen(n))
    x = torch.randn(n, 2, dtype=DT, generator=gen(n + 1), requires_grad=True)
    summed = layer(x, edge_index)
    weighted = layer(x, edge_index, edge_weight=torch.ones(len(edges), dtype=DT))
    torch.testing.assert_close(summed, weighted)
    params = [x, layer.cell.weight_hh]
    for a, b in zip(torch.autograd.grad(summed.square().sum(), params),
                    torch.autograd.grad(weighted.square().sum(), params)):
        torch.testing.assert_close(a, b)


def test_nodes_without_predecessors_on_a_later_level_get_their_initial_state():
    """Levels given by the caller can put a node without predecessors beside nodes with them:
    its bag is empty, and its initial state (not zero) must win; gradcheck through both."""
    edges = torch.tensor([[0, 1, 0], [2, 2, 3]])
    level = torch.tensor([0, 0, 1, 1, 1])  # node 4 has no predecessor but sits on level 1
    layer = ChainRNN(2, 2).double()
    plan = layer.plan(edges, 5, level=level)
    assert plan.root_ptr[2] > plan.root_ptr[1] and not plan.single_predecessor[1]
    x = torch.randn(5, 2, dtype=DT, generator=gen(0), requires_grad=True)
    h0 = torch.randn(5, 2, dtype=DT, generator=gen(1), requires_grad=True)
    c0 = torch.randn(5, 2, dtype=DT, generator=gen(2))
    alone = ChainRNN(2, 2).double()
    alone.load_state_dict(layer.state_dict())
    expected = alone(x[4:], torch.zeros(2, 0, dtype=torch.long), initial_state=(h0[4:], c0[4:]))
    torch.testing.assert_close(layer(x, edges, plan=plan, initial_state=(h0, c0))[4:], expected)
    assert torch.autograd.gradcheck(lambda x, h0: layer(x, edges, plan=plan, initial_state=(h0, c0)), (x, h0))


def test_a_multi_predecessor_level_is_one_embedding_bag_unless_messages_change():
    edges = torch.tensor([[0, 1, 2, 3], [2, 2, 4, 4]])
    layer = ChainRNN(2, 3)
    x = torch.randn(5, 2, generator=gen(0))
    plan = layer.plan(edges, 5)
    names = profiled_op_names(lambda: layer(x, edges, plan=plan))
    assert "aten::_embedding_bag_forward_only" in names
    assert "aten::index_add_" not in names and "aten::scatter_add_" not in names
    weighted = profiled_op_names(lambda: layer(x, edges, plan=plan, edge_weight=torch.rand(4, generator=gen(1))))
    assert "aten::index_add_" in weighted and "aten::_embedding_bag_forward_only" not in weighted


def test_a_flat_state_buffer_is_summed_without_views():
    # before: the [N, 2H] buffer was viewed as [N, 2H] and the sum back as [B, 2H]: two aten events a level
    edges = torch.tensor([[0, 1, 2, 3], [2, 2, 4, 4]])
    layer = ChainRNN(2, 3)
    x = torch.randn(5, 2, generator=gen(0))
    plan = layer.plan(edges, 5)
    layer(x, edges, plan=plan)
    assert "aten::view" not in profiled_op_names(lambda: layer(x, edges, plan=plan))


def test_a_subclass_that_changes_the_message_is_not_summed_behind_its_back():
    class Doubled(ChainRNN):
        def message(self, state_j, edge_weight=None, edge_message=None):
            return 2 * state_j[0]

    edges = torch.tensor([[0, 1], [2, 2]])
    x = torch.randn(3, 2, generator=gen(0))
    plain = ChainRNN(2, 3, cell="rnn")
    doubled = Doubled(2, 3, cell="rnn")
    doubled.load_state_dict(plain.state_dict())
    h = plain(x, edges)
    expected = plain.cell(x[2:], 2 * (h[0] + h[1]).unsqueeze(0))
    torch.testing.assert_close(doubled(x, edges)[2:], expected)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("with_initial", [False, True])
def test_a_tree_pass_runs_under_cpu_autocast(cell, with_initial):
    """The layer's own bfloat16 input gates are not mistaken for a caller's wrong dtype, and a float32
    initial state joins them in bfloat16."""
    edges = torch.tensor([[1, 2, 3, 4], [0, 0, 1, 1]])
    layer = ChainRNN(3, 4, cell=cell)
    init_params(layer, gen(0))
    x = torch.randn(5, 3, generator=gen(1))
    h0 = torch.randn(5, 4, generator=gen(2)) if with_initial else None
    initial = (h0, torch.zeros(5, 4)) if with_initial and cell == "lstm" else h0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = layer(x, edges, initial_state=initial)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), layer(x, edges, initial_state=initial), atol=0.05, rtol=0.05)


def test_a_second_order_gradient_is_refused_clearly():
    edges = torch.tensor([[1, 2], [0, 0]])
    layer = ChainRNN(2, 3, fused=False).double()
    x = torch.randn(3, 2, dtype=DT, generator=gen(0), requires_grad=True)
    (grad,) = torch.autograd.grad(layer(x, edges).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad.sum().backward()
