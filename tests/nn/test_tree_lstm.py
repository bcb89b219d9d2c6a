"""ChildSumTreeLSTM and NaryTreeLSTM against node-by-node implementations of Tai et al.'s equations."""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testing import dags, disjoint_union, init_params, to_edge_index
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv, global_mean_pool

from graphrnn.data import tree_graph
from graphrnn.data.graphs import PARENT
from graphrnn.nn import ChildSumTreeLSTM, NaryTreeLSTM
from graphrnn.nn.tree_lstm import child_positions

Edges = Sequence[Tuple[int, int]]


# ------------------------------------------------------------ references
def children_of(edges: Edges) -> Dict[int, List[int]]:
    children = defaultdict(list)
    for parent, child in edges:
        children[parent].append(child)
    return {p: sorted(c) for p, c in children.items()}


def leaves_first(num_nodes: int, edges: Edges) -> List[int]:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(edges)
    return list(reversed(list(nx.topological_sort(graph))))


def gates_from_input(layer, x_j: torch.Tensor):
    """W x + b split in the documented gate order i, o, u, f."""
    return (layer.W_iouf.weight @ x_j + layer.W_iouf.bias).chunk(4)


def child_sum_reference(layer: ChildSumTreeLSTM, x: torch.Tensor, edges: Edges):
    H = layer.out_channels
    U_i, U_o, U_u = layer.U_iou.weight.split(H)
    U_f = layer.U_f.weight
    children = children_of(edges)
    h, c = {}, {}
    for j in leaves_first(x.size(0), edges):
        wi, wo, wu, wf = gates_from_input(layer, x[j])
        kids = children.get(j, [])
        h_sum = sum((h[k] for k in kids), x.new_zeros(H))
        i = torch.sigmoid(wi + U_i @ h_sum)
        o = torch.sigmoid(wo + U_o @ h_sum)
        u = torch.tanh(wu + U_u @ h_sum)
        c[j] = i * u + sum((torch.sigmoid(wf + U_f @ h[k]) * c[k] for k in kids), x.new_zeros(H))
        h[j] = o * torch.tanh(c[j])
    return torch.stack([h[j] for j in range(x.size(0))]), torch.stack([c[j] for j in range(x.size(0))])


def nary_reference(layer: NaryTreeLSTM, x: torch.Tensor, edges: Edges, positions=None):
    H, N = layer.out_channels, layer.N
    U_iou = layer.U_iou.weight.view(3 * H, N, H)  # [:, l] is U_l for the three gates
    U_f = layer.U_f.weight.view(N, H, N, H)  # [k, :, l] is U^f_kl
    slots = defaultdict(dict)
    for e, (parent, child) in enumerate(edges):
        rank = positions[e] if positions is not None else children_of(edges)[parent].index(child)
        slots[parent][rank] = child
    h, c = {}, {}
    for j in leaves_first(x.size(0), edges):
        wi, wo, wu, wf = gates_from_input(layer, x[j])
        h_l = [h[slots[j][s]] if s in slots[j] else x.new_zeros(H) for s in range(N)]
        c_l = [c[slots[j][s]] if s in slots[j] else x.new_zeros(H) for s in range(N)]
        pre = sum(U_iou[:, s] @ h_l[s] for s in range(N))
        i = torch.sigmoid(wi + pre[:H])
        o = torch.sigmoid(wo + pre[H:2 * H])
        u = torch.tanh(wu + pre[2 * H:])
        f = [torch.sigmoid(wf + sum(U_f[k, :, s] @ h_l[s] for s in range(N))) for k in range(N)]
        c[j] = i * u + sum(f[k] * c_l[k] for k in range(N))
        h[j] = o * torch.tanh(c[j])
    return torch.stack([h[j] for j in range(x.size(0))]), torch.stack([c[j] for j in range(x.size(0))])


def double_layer(cls, *args, seed=0):
    layer = cls(*args).double()
    init_params(layer, torch.Generator().manual_seed(seed), scale=0.6)
    return layer


def max_fan_out(edges: Edges) -> int:
    return max((len(c) for c in children_of(edges).values()), default=1)


# ---------------------------------------------------------------- tests
@settings(max_examples=25, deadline=None)
@given(dags(min_nodes=1, max_nodes=14, kind="forest"), st.integers(0, 2**31 - 1))
def test_child_sum_equals_equations_node_by_node(graph, seed):
    num_nodes, edges = graph
    layer = double_layer(ChildSumTreeLSTM, 3, 4, seed=seed % 100)
    x = torch.randn(num_nodes, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    h, c = layer(x, to_edge_index(edges), return_cell=True)
    h_ref, c_ref = child_sum_reference(layer, x, edges)
    torch.testing.assert_close(h, h_ref, atol=1e-9, rtol=0)
    torch.testing.assert_close(c, c_ref, atol=1e-9, rtol=0)


def test_child_sum_on_a_dag_sends_a_shared_child_to_both_parents():
    edges = [(0, 2), (1, 2), (0, 3), (2, 4), (3, 4)]  # 2 and 4 have two parents
    layer = double_layer(ChildSumTreeLSTM, 2, 3)
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(layer(x, to_edge_index(edges)), child_sum_reference(layer, x, edges)[0],
                               atol=1e-9, rtol=0)


@settings(max_examples=25, deadline=None)
@given(dags(min_nodes=1, max_nodes=14, kind="forest"), st.integers(0, 2**31 - 1))
def test_nary_equals_equations_node_by_node(graph, seed):
    num_nodes, edges = graph
    layer = double_layer(NaryTreeLSTM, 3, 2, max_fan_out(edges), seed=seed % 100)
    x = torch.randn(num_nodes, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    h, c = layer(x, to_edge_index(edges), return_cell=True)
    h_ref, c_ref = nary_reference(layer, x, edges)
    torch.testing.assert_close(h, h_ref, atol=1e-9, rtol=0)
    torch.testing.assert_close(c, c_ref, atol=1e-9, rtol=0)


def test_nary_explicit_child_index_leaves_a_slot_empty():
    edges = [(0, 1), (0, 2), (1, 3)]
    positions = [2, 0, 1]  # node 0: slots 0 and 2 used, slot 1 empty; node 1: only slot 1
    layer = double_layer(NaryTreeLSTM, 2, 3, 3)
    x = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    h = layer(x, to_edge_index(edges), child_index=torch.tensor(positions))
    torch.testing.assert_close(h, nary_reference(layer, x, edges, positions)[0], atol=1e-9, rtol=0)
    assert not torch.allclose(h, layer(x, to_edge_index(edges)))  # the default positions differ


def test_child_positions_rank_children_by_index():
    edge_index = torch.tensor([[0, 0, 1, 0, 1], [5, 2, 3, 9, 4]])
    assert child_positions(edge_index).tolist() == [1, 0, 0, 2, 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30)), max_size=25, unique_by=lambda e: e[1]))
def test_child_positions_equal_the_rank_among_siblings(edges):
    """Each child's rank among its parent's children by node index, edges in any order."""
    expected = [children_of(edges)[parent].index(child) for parent, child in edges]
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    assert child_positions(edge_index).tolist() == expected


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTM(3, 4), lambda: NaryTreeLSTM(3, 4, 3)])
def test_a_training_step_given_a_plan_reads_no_value_on_the_host(make):
    from graphrnn.bench import host_sync_ops

    layer = make()
    edge_index = to_edge_index([(0, 1), (0, 2), (2, 3), (2, 4), (5, 6), (5, 7), (5, 8)])
    x = torch.randn(9, 3, generator=torch.Generator().manual_seed(0))
    plan = layer.plan(edge_index, 9)

    def step():
        layer(x, edge_index, plan=plan).square().sum().backward()

    step()
    assert host_sync_ops(step) == []


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTM(3, 4), lambda: NaryTreeLSTM(3, 4, 3)])
def test_batched_equals_alone_and_plan_reuse(make):
    layer = make().double()
    init_params(layer, torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(4)
    trees = [(5, [(0, 1), (0, 2), (2, 3), (2, 4)]), (1, []), (4, [(3, 0), (3, 1), (3, 2)])]
    xs = [torch.randn(n, 3, generator=generator, dtype=torch.float64) for n, _ in trees]
    alone = [layer(x, to_edge_index(e)) for x, (_, e) in zip(xs, trees)]
    total, edges, _ = disjoint_union(trees)
    edge_index = to_edge_index(edges)
    plan = layer.plan(edge_index, total)
    batched = layer(torch.cat(xs), edge_index, plan=plan)
    torch.testing.assert_close(batched, torch.cat(alone), atol=1e-12, rtol=0)
    torch.testing.assert_close(layer(torch.cat(xs), edge_index, plan=plan), batched, atol=0, rtol=0)


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTM(2, 3), lambda: NaryTreeLSTM(2, 3, 2)])
def test_gradcheck_inputs_and_weights(make):
    layer = make().double()
    init_params(layer, torch.Generator().manual_seed(5))
    edge_index = to_edge_index([(0, 1), (0, 2), (1, 3), (1, 4)])
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(6), requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in layer.named_parameters()]

    def run(x, *weights):
        h, c = torch.func.functional_call(layer, dict(zip(names, weights)), (x, edge_index),
                                          {"return_cell": True})
        return h, c

    assert torch.autograd.gradcheck(run, (x, *params), fast_mode=True)


def test_tree_graph_parent_edges_give_child_sum():
    tree = tree_graph(labels=[0, 1, 2, 1, 3], parents=[-1, 0, 0, 1, 1])
    parent_edges = tree.edge_index[:, tree.edge_type == PARENT]
    layer = double_layer(ChildSumTreeLSTM, 2, 3)
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    edges = [tuple(e) for e in parent_edges.t().tolist()]
    torch.testing.assert_close(layer(x, parent_edges), child_sum_reference(layer, x, edges)[0],
                               atol=1e-9, rtol=0)
    # the SIBLING edges are not child-sum: feeding them changes the result
    assert not torch.allclose(layer(x, parent_edges), layer(x, tree.edge_index))


def test_empty_graph_and_single_node():
    layer = ChildSumTreeLSTM(2, 3)
    assert layer(torch.zeros(0, 2), torch.zeros(2, 0, dtype=torch.long)).shape == (0, 3)
    h, c = layer(torch.ones(1, 2), torch.zeros(2, 0, dtype=torch.long), return_cell=True)
    assert h.shape == c.shape == (1, 3)


def test_repr_and_reset_parameters():
    assert repr(ChildSumTreeLSTM(16, 32)) == "ChildSumTreeLSTM(16, 32)"
    assert repr(NaryTreeLSTM(16, 32, 2)) == "NaryTreeLSTM(16, 32, N=2)"
    layer = ChildSumTreeLSTM(4, 5)
    assert layer.W_iouf.weight.shape == (20, 4) and layer.U_iou.weight.shape == (15, 5)
    assert layer.U_f.weight.shape == (5, 5) and layer.U_iou.bias is None and layer.U_f.bias is None
    before = [p.detach().clone() for p in layer.parameters()]
    torch.manual_seed(11)
    layer.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, layer.parameters()))


def test_trains_inside_a_pyg_module_on_data_batches():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = GCNConv(3, 8)
            self.tree = ChildSumTreeLSTM(8, 8)
            self.out = torch.nn.Linear(8, 2)

        def forward(self, data):
            x = torch.relu(self.conv(data.x, data.edge_index))
            return self.out(global_mean_pool(self.tree(x, data.edge_index), data.batch))

    generator = torch.Generator().manual_seed(0)
    graphs = []
    for i in range(16):
        x = torch.randn(4, 3, generator=generator) + (1.0 if i % 2 else -1.0)
        graphs.append(Data(x=x, edge_index=torch.tensor([[0, 0, 1], [1, 2, 3]]), y=torch.tensor([i % 2])))
    torch.manual_seed(0)
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(15):
        for batch in DataLoader(graphs, batch_size=8):
            loss = torch.nn.functional.cross_entropy(net(batch), batch.y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ----------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    layer = ChildSumTreeLSTM(2, 3)
    edges = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="in_channels=2"):
        layer(torch.zeros(2, 5), edges)
    with pytest.raises(ValueError, match="floating point"):
        layer(torch.zeros(2, 2, dtype=torch.long), edges)
    with pytest.raises(ValueError, match="NaN or inf"):
        layer(torch.tensor([[0.0, float("nan")], [0.0, 0.0]]), edges)
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        layer(torch.zeros(2, 2), edges.t().repeat(1, 3))
    with pytest.raises(ValueError, match="refers to node 5"):
        layer(torch.zeros(2, 2), torch.tensor([[0], [5]]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer([[0.0, 0.0]], edges)
    with pytest.raises(ValueError, match="cycle"):
        layer(torch.zeros(2, 2), torch.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="different graph"):
        layer(torch.zeros(3, 2), torch.tensor([[0, 0], [1, 2]]), plan=layer.plan(edges, 2))
    with pytest.raises(ValueError, match="positive int"):
        ChildSumTreeLSTM(0, 3)


def test_nary_bad_positions_raise():
    layer = NaryTreeLSTM(2, 3, 2)
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="outside 0..1"):
        layer(x, torch.tensor([[0, 0, 0], [1, 2, 3]]))
    with pytest.raises(ValueError, match="the child 3 of node 0 is in position 2, outside 0..1"):
        layer(x, torch.tensor([[0, 0, 0], [1, 2, 3]]), plan=layer.plan(torch.tensor([[0, 0, 0], [1, 2, 3]]), 4))
    with pytest.raises(ValueError, match="node 0 has two children in the same position"):
        layer(x, torch.tensor([[0, 0], [1, 2]]), child_index=torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="outside 0..1"):
        layer(x, torch.tensor([[0, 0], [1, 2]]), child_index=torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match=r"child_index must be a LongTensor \[E\]"):
        layer(x, torch.tensor([[0, 0], [1, 2]]), child_index=torch.tensor([0]))
    with pytest.raises(ValueError, match="integers"):
        layer(x, torch.tensor([[0, 0], [1, 2]]), child_index=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="positive int"):
        NaryTreeLSTM(2, 3, 0)


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTM(3, 4), lambda: NaryTreeLSTM(3, 4, N=2)])
def test_no_graph_breaks_under_torch_compile_given_a_plan(make):
    import torch._dynamo

    layer = make()
    edge_index = to_edge_index([(0, 1), (0, 2), (1, 3)])
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(layer)(x, edge_index, plan=layer.plan(edge_index, 4))
    assert explanation.graph_break_count == 0, [b.reason for b in explanation.break_reasons]


@pytest.mark.parametrize("layer", [ChildSumTreeLSTM(3, 4), NaryTreeLSTM(3, 4, N=2)])
def test_input_on_another_device_than_the_parameters_is_named(layer):
    with pytest.raises(ValueError, match=f"x is on meta but {type(layer).__name__}'s parameters are on cpu"):
        layer(torch.zeros(3, 3, device="meta"), torch.tensor([[0, 0], [1, 2]]))


@pytest.mark.parametrize("layer", [ChildSumTreeLSTM(3, 4), NaryTreeLSTM(3, 4, 2)], ids=["child-sum", "n-ary"])
def test_edges_on_another_device_than_x_are_named(layer):
    with pytest.raises(ValueError, match="edge_index is on meta but x is on cpu"):
        layer(torch.zeros(3, 3), torch.tensor([[0, 0], [1, 2]], device="meta"))
