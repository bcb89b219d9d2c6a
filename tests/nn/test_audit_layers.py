"""Audit of the public layers on inputs from elsewhere: other devices, sparse adjacency, PyG's ``EdgeIndex``,
half precision, bad constructor sizes, mismatched bags.

Every case here failed before inside torch (``RuntimeError``/``AttributeError``/``ZeroDivisionError``, or
``item()`` on a tensor of another device) or built a layer with empty weights; each must now be a clear
``ValueError``/``TypeError`` from graphrnn naming the argument. The meta device stands in for "another
device" (a CUDA tensor beside CPU ones), so the checks run without a GPU.
"""
import copy
import traceback

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nn_testing import permuted_dags
from torch_geometric import EdgeIndex

from graphrnn.data import DataLoader, scene_graph, tree_graph
from graphrnn.nn import (
    DAGNN,
    DRNN,
    HMM,
    Attention,
    ChainRNN,
    ChildSumTreeLSTM,
    DAGNNConv,
    NaryTreeLSTM,
    RecurrentMessagePassing,
    StructureInferenceMachine,
    TypedLinear,
)
from graphrnn.nn.bags import bag_sum, edge_bags

TREE = torch.tensor([[0, 0, 1, 3], [1, 2, 3, 4]])  # 0 -> 1, 0 -> 2, 1 -> 3, 3 -> 4


def meta(tensor):
    return tensor.to("meta")


def node_layers():
    torch.manual_seed(0)
    return {"ChainRNN": ChainRNN(3, 4), "ChildSumTreeLSTM": ChildSumTreeLSTM(3, 4),
            "NaryTreeLSTM": NaryTreeLSTM(3, 4, 2), "DAGNNConv": DAGNNConv(3, 4), "DAGNN": DAGNN(3, 4)}


# ------------------------------------------------------------------ another device
def tree_batch():
    trees = [tree_graph([1, 2, 3, 4], [-1, 0, 0, 1]), tree_graph([0, 1], [-1, 0])]
    return next(iter(DataLoader(trees, batch_size=2)))


def drnn_call(**changed):
    torch.manual_seed(0)
    batch = tree_batch()
    args = dict(labels=batch.y, edge_index=batch.edge_index, edge_type=batch.edge_type, root_state=torch.zeros(2, 4),
                has_children=batch.has_children, has_next_sibling=batch.has_next_sibling)
    args.update({k: v for k, v in changed.items() if k != "batch"})
    return lambda: DRNN(5, 4)(*args.values(), batch=changed.get("batch", batch.batch))


def sim_call(name):
    torch.manual_seed(0)
    sim = StructureInferenceMachine(4, 3, 6, num_actions=3, num_activities=2, num_iterations=2)
    scenes = [scene_graph(torch.randn(k, 4), torch.randn(3)) for k in (2, 3)]
    batch = next(iter(DataLoader(scenes, batch_size=2)))
    x = torch.zeros(batch.num_nodes, 4)
    graph = {"edge_index": batch.edge_index, "edge_type": batch.edge_type, "node_type": batch.node_type}
    graph[name] = meta(graph[name])
    return lambda: sim(x, graph["edge_index"], graph["edge_type"], graph["node_type"])


def hmm_call(name):
    hmm = HMM(3, 4, generator=torch.Generator().manual_seed(0))
    inputs = {"x": torch.tensor([0, 1, 2, 3, 0]), "edge_index": torch.tensor([[0, 1, 3], [1, 2, 4]]),
              "batch": torch.tensor([0, 0, 0, 1, 1])}
    inputs[name] = meta(inputs[name])
    return lambda: hmm(inputs["x"], inputs["edge_index"], batch=inputs["batch"])


def attention_call(name):
    h, memory, mask = torch.randn(2, 4), torch.randn(2, 5, 3), torch.ones(2, 5, dtype=torch.bool)
    inputs = {"memory": memory, "mask": mask, "index": torch.tensor([0, 1])}
    inputs[name] = meta(inputs[name])
    return lambda: Attention("mlp", 4, 3)(h, inputs["memory"], inputs["mask"], inputs["index"])


def bags_call(name):
    bags = edge_bags(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 2]), 2, 3)
    inputs = {"table": torch.randn(2, 4), "weights": torch.ones(3)}
    inputs[name] = meta(inputs[name])
    return lambda: bag_sum(inputs["table"], bags, inputs["weights"])


x5 = torch.randn(5, 3)
ON_ANOTHER_DEVICE = {
    # before: RuntimeError "Tensor.item() cannot be called on meta tensors" / index_select device errors
    "TypedLinear types": (lambda: TypedLinear(3, 2, 3)(x5, meta(torch.tensor([0, 1, 2, 0, 1]))), "types is on meta"),
    "Attention memory": (attention_call("memory"), "memory is on meta"),
    "Attention mask": (attention_call("mask"), "mask is on meta"),
    "Attention index": (attention_call("index"), "index is on meta"),  # before: silently accepted
    "bag_sum table": (bags_call("table"), "on meta"),
    "bag_sum weights": (bags_call("weights"), "weights is on meta"),  # before: silently accepted
    "HMM x": (hmm_call("x"), "data.x is on meta"),
    "HMM edge_index": (hmm_call("edge_index"), "data.edge_index is on meta"),
    "HMM batch": (hmm_call("batch"), "data.batch is on meta"),
    "DRNN labels": (drnn_call(labels=meta(tree_batch().y)), "labels is on meta"),
    "DRNN edge_index": (drnn_call(edge_index=meta(tree_batch().edge_index)), "edge_index is on meta"),
    "DRNN edge_type": (drnn_call(edge_type=meta(tree_batch().edge_type)), "edge_type is on meta"),
    "DRNN has_children": (drnn_call(has_children=meta(tree_batch().has_children)), "has_children is on meta"),
    "DRNN batch": (drnn_call(batch=meta(tree_batch().batch)), "batch is on meta"),
    "DRNN memory_mask": (lambda: DRNN(5, 4, attention="dot")(tree_batch(), torch.zeros(2, 4),
                                                              memory=torch.randn(2, 3, 4),
                                                              memory_mask=meta(torch.ones(2, 3, dtype=torch.bool))),
                         "memory_mask is on meta"),
    "SIM edge_index": (sim_call("edge_index"), "edge_index is on meta"),
    "SIM edge_type": (sim_call("edge_type"), "edge_type is on meta"),
    "SIM node_type": (sim_call("node_type"), "node_type is on meta"),
    "DAGNN batch": (lambda: DAGNN(3, 4, readout="mean")(x5, TREE, batch=meta(torch.zeros(5, dtype=torch.long))),
                    "batch is on meta"),
    "DAGNN edge_type": (lambda: DAGNN(3, 4, num_edge_types=2)(x5, TREE, edge_type=meta(torch.zeros(4).long())),
                        "edge_type is on meta"),
    "DAGNNConv edge_type": (lambda: DAGNNConv(3, 4, num_edge_types=2)(x5, TREE, edge_type=meta(torch.zeros(4).long())),
                            "edge_type is on meta"),
    "NaryTreeLSTM child_index": (lambda: NaryTreeLSTM(3, 4, 2)(x5, TREE, child_index=meta(torch.zeros(4).long())),
                                 "child_index is on meta"),
    "ChainRNN level": (lambda: ChainRNN(3, 4)(x5, TREE, meta(torch.tensor([0, 1, 1, 2, 3]))), "level is on meta"),
}


@pytest.mark.parametrize("case", list(ON_ANOTHER_DEVICE), ids=list(ON_ANOTHER_DEVICE))
def test_an_input_on_another_device_is_named(case):
    call, message = ON_ANOTHER_DEVICE[case]
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------ adjacency formats
@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("name", list(node_layers()))
def test_sparse_adjacency_is_refused_with_the_conversion(name):
    """A torch.sparse adjacency [N, N] used to be told to 'transpose an [E, 2] edge list'."""
    layer = node_layers()[name]
    adjacency = torch.sparse_coo_tensor(TREE, torch.ones(4), (5, 5), check_invariants=True)
    for sparse in (adjacency, adjacency.to_sparse_csr()):
        with pytest.raises(TypeError, match="sparse adjacency.*to_edge_index"):
            layer(x5, sparse)


@pytest.mark.parametrize("name", list(node_layers()))
def test_dense_adjacency_matrix_gets_its_own_advice(name):
    layer = node_layers()[name]
    adjacency = torch.zeros(5, 5, dtype=torch.long)
    adjacency[TREE[0], TREE[1]] = 1
    with pytest.raises(ValueError, match=r"adj.nonzero\(\).t\(\)"):
        layer(x5, adjacency)
    with pytest.raises(ValueError, match=r"torch.stack\(\[sources, targets\]\)"):
        layer(x5, TREE.reshape(-1))


@pytest.mark.parametrize("name", list(node_layers()))
def test_pyg_edge_index_is_accepted_and_equal(name):
    layer = node_layers()[name]
    expected = layer(x5, TREE)
    for wrapped in (EdgeIndex(TREE, sparse_size=(5, 5)), EdgeIndex(TREE, sparse_size=(5, 5), sort_order="row")):
        torch.testing.assert_close(layer(x5, wrapped), expected)


# ------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", list(node_layers()))
def test_half_precision_on_the_cpu_stays_in_that_dtype(name, dtype):
    layer = node_layers()[name]
    expected = layer(x5, TREE)
    low = copy.deepcopy(layer).to(dtype)
    got = low(x5.to(dtype), TREE)
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), expected, atol=0.05, rtol=0.05)
    got.float().sum().backward()  # the backward runs in that dtype too


@pytest.mark.parametrize("name", list(node_layers()))
def test_expanded_and_transposed_views_give_the_contiguous_answer(name):
    layer = node_layers()[name]
    row = torch.randn(1, 3)
    expected = layer(row.repeat(5, 1), TREE)
    torch.testing.assert_close(layer(row.expand(5, 3), TREE), expected)
    edges_view = torch.stack([TREE[1], TREE[0]], 1).t().flip(0)  # non-contiguous [2, E]
    assert not edges_view.is_contiguous()
    torch.testing.assert_close(layer(row.expand(5, 3), edges_view), expected)
    x = row.expand(5, 3).clone().requires_grad_()
    layer(x.t().contiguous().t(), TREE).sum().backward()
    assert x.grad.shape == (5, 3) and torch.isfinite(x.grad).all()


# ------------------------------------------------------------------ constructor sizes
BAD_SIZES = {
    # before: ZeroDivisionError in reset_parameters / RuntimeError "negative dimension" / torch's TypeError
    "TypedLinear in 0": (lambda: TypedLinear(0, 2, 2), "in_channels must be >= 1"),
    "TypedLinear in -1": (lambda: TypedLinear(-1, 2, 2), "in_channels must be >= 1"),
    "TypedLinear types 2.5": (lambda: TypedLinear(3, 2, 2.5), "num_types must be >= 1"),
    "TypedLinear types 0": (lambda: TypedLinear(3, 2, 0), "num_types must be >= 1"),
    # before: accepted, a layer with empty weights
    "DAGNNConv hidden 0": (lambda: DAGNNConv(3, 0), "hidden_channels must be >= 1"),
    "DAGNNConv in 0": (lambda: DAGNNConv(0, 3), "in_channels must be >= 1"),
    "DAGNN hidden 0": (lambda: DAGNN(3, 0), "hidden_channels must be >= 1"),
    "DAGNN in 3.0": (lambda: DAGNN(3.0, 4), "in_channels must be >= 1"),
    "DAGNN layers 0": (lambda: DAGNN(3, 4, num_layers=0), "num_layers must be >= 1"),
    # before: torch's TypeError from nn.Embedding, or "the input size must be a positive integer" for the hidden size
    "DRNN hidden 4.0": (lambda: DRNN(5, 4.0), "hidden_channels must be >= 1"),
    "DRNN hidden 0": (lambda: DRNN(5, 0), "DRNN: hidden_channels must be >= 1"),
    "DRNN embedding 0.5": (lambda: DRNN(5, 4, embedding_dim=0.5), "embedding_dim must be >= 1"),
    "DRNN labels 0": (lambda: DRNN(0, 4), "num_labels must be >= 1"),
}


@pytest.mark.parametrize("case", list(BAD_SIZES), ids=list(BAD_SIZES))
def test_bad_constructor_sizes_are_named(case):
    build, message = BAD_SIZES[case]
    with pytest.raises(ValueError, match=message):
        build()


# ------------------------------------------------------------------ TypedLinear and bags
def test_typed_linear_names_a_non_tensor_x():
    with pytest.raises(ValueError, match=r"x must have shape \[rows, in_channels=3\], got list"):
        TypedLinear(3, 2, 2)([[0.0, 0.0, 0.0]], torch.zeros(1, dtype=torch.long))  # before: AttributeError


BAGS = edge_bags(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 2]), 2, 3)


@pytest.mark.parametrize("table, weights", [
    (torch.randn(2, 4, dtype=torch.float64), torch.ones(3)),  # before: embedding_bag's RuntimeError
    (torch.randn(2, 4), torch.ones(3, dtype=torch.long)),
    (torch.ones(2, 4, dtype=torch.long), torch.ones(3, dtype=torch.long)),
])
def test_bag_sum_refuses_mixed_or_integer_dtypes(table, weights):
    with pytest.raises(TypeError, match="table must be floating point and weights of its dtype"):
        bag_sum(table, BAGS, weights)


def test_bag_sum_and_edge_bags_name_bad_arguments():
    with pytest.raises(TypeError, match="bags must be an EdgeBags"):
        bag_sum(torch.randn(2, 4), tuple(BAGS)[:3], torch.ones(3))  # before: AttributeError
    empty = torch.zeros(0, dtype=torch.long)
    for counts in ((-1, 3), (2, -1), (2.0, 3), (True, 3)):
        with pytest.raises(ValueError, match="must be an int >= 0"):  # before: bincount's RuntimeError
            edge_bags(empty, empty, *counts)


def test_bag_sum_in_half_precision_matches_float():
    table, weights = torch.randn(2, 4), torch.rand(3)
    expected = bag_sum(table, BAGS, weights)
    for dtype in (torch.float16, torch.bfloat16):
        got = bag_sum(table.to(dtype), BAGS, weights.to(dtype))
        assert got.dtype == dtype
        torch.testing.assert_close(got.float(), expected, atol=0.02, rtol=0.02)


# ------------------------------------------------------------------ the shared base, both schedules
class SummingCell(RecurrentMessagePassing):
    """A synchronous layer with a weight and a node input: h <- tanh(W sum_j h_j + h) + x."""

    def __init__(self):
        super().__init__(schedule="synchronous", num_steps=2, aggr="sum")
        self.lin = torch.nn.Linear(3, 3)

    def message(self, state_j):
        return state_j

    def update(self, aggr, state, x=None):
        out = torch.tanh(self.lin(aggr[0]) + state[0])
        return (out if x is None else out + x,)


class AddingTopological(RecurrentMessagePassing):
    def update(self, aggr, x):
        return (aggr[0] + x,)

    def initial_message(self, num_nodes, x):
        return (x.new_zeros(num_nodes, x.size(1)),)


RING = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
h4 = torch.randn(4, 3)
SYNCHRONOUS_INPUTS = {
    # before: torch's RuntimeError (index_add device, shape broadcast, mat1/mat2 dtype) or AttributeError
    "state on another device": (dict(state=meta(h4)), ValueError, "state is on meta"),
    "edges on another device": (dict(edge_index=meta(RING)), ValueError, "edge_index is on meta but state is on cpu"),
    "node input on another device": (dict(node_inputs={"x": meta(h4)}), ValueError, "x is on meta"),
    "edge_type on another device": (dict(edge_type=meta(torch.zeros(4, dtype=torch.long))), ValueError,
                                    "edge_type is on meta"),
    "node input with too few rows": (dict(node_inputs={"x": h4[:3]}), ValueError, "num_nodes=4 rows, got {'x': 3}"),
    "float64 node input": (dict(node_inputs={"x": h4.double()}), TypeError, "x is torch.float64"),
    "float64 state": (dict(state=h4.double()), TypeError, "state is torch.float64"),
    "state as a list": (dict(state=[h4]), ValueError, "state must be a tensor"),
    "edge_state with too few rows": (dict(edge_state=torch.zeros(3, 2)), ValueError, "'edge_state' must have one row"),
    # before: range()'s TypeError for 2.5; True ran one step
    "num_steps 2.5": (dict(num_steps=2.5), ValueError, r"num_steps must be >= 1 \(an int\), got 2.5"),
    "num_steps True": (dict(num_steps=True), ValueError, r"num_steps must be >= 1 \(an int\), got True"),
}


@pytest.mark.parametrize("case", list(SYNCHRONOUS_INPUTS), ids=list(SYNCHRONOUS_INPUTS))
def test_synchronous_schedule_names_bad_inputs(case):
    changed, error, message = SYNCHRONOUS_INPUTS[case]
    args = dict(edge_index=RING, state=h4)
    args.update(changed)
    with pytest.raises(error, match=message):
        SummingCell().propagate_synchronous(args.pop("edge_index"), args.pop("state"), **args)


def test_synchronous_schedule_runs_in_float64_and_matches_a_dense_reference():
    torch.manual_seed(0)
    layer = SummingCell().double()
    state, x = h4.double(), torch.randn(4, 3, dtype=torch.float64)
    got = layer.propagate_synchronous(RING, state, node_inputs={"x": x})[-1].state
    adjacency = torch.zeros(4, 4, dtype=torch.float64)
    adjacency[RING[1], RING[0]] = 1  # row v sums its senders u
    expected = state
    for _ in range(2):
        expected = torch.tanh(layer.lin(adjacency @ expected) + expected) + x
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("build, message", [
    (lambda: RecurrentMessagePassing(schedule="synchronous", num_steps=2.5), r"num_steps >= 1 \(an int\)"),
    (lambda: RecurrentMessagePassing(num_edge_types=1.5), r"num_edge_types must be >= 1 \(an int\)"),
])
def test_base_constructor_sizes_must_be_ints(build, message):
    with pytest.raises(ValueError, match=message):  # before: accepted, failing later in range() or one_hot
        build()


@pytest.mark.parametrize("value, shown", [(torch.tensor(1.0), r"\[\]"), ([1.0] * 5, "list")])
def test_topological_node_inputs_must_be_tensors_with_rows(value, shown):
    with pytest.raises(ValueError, match=f"node input 'x' must be a tensor \\[N, ...\\].*got {shown}"):
        AddingTopological().propagate_topological(TREE, 5, node_inputs={"x": value})  # before: IndexError


def test_a_lazy_chain_rnn_refuses_a_first_input_without_features():
    layer = ChainRNN(-1, 4)
    with pytest.raises(ValueError, match="x has 0 features per node; a lazy ChainRNN"):
        layer(torch.randn(5, 0), TREE)  # before: in_channels became 0 for good
    assert layer(x5, TREE).shape == (5, 4) and layer.in_channels == 3  # still lazy after the refusal


def test_the_plan_builders_name_an_index_on_another_device():
    """build_tree_plan / build_scene_plan (what the DRNN's and SIM's planners run) read these on the CPU: a meta or
    other-device tensor failed in .cpu() or item() (NotImplementedError, RuntimeError)."""
    from graphrnn.nn.scene_plan import build_scene_plan
    from graphrnn.nn.tree_plan import build_tree_plan

    tree = tree_graph([1, 2, 3], [-1, 0, 0])
    with pytest.raises(ValueError, match="edge_type is on meta but edge_index is on cpu"):
        build_tree_plan(tree.edge_index, meta(tree.edge_type), 3)
    with pytest.raises(ValueError, match="batch is on meta but edge_index is on cpu"):
        build_tree_plan(tree.edge_index, tree.edge_type, 3, meta(torch.zeros(3, dtype=torch.long)))
    with pytest.raises(TypeError, match="edge_index must be a torch.Tensor"):
        build_tree_plan([[0], [1]], tree.edge_type, 3)  # before: AttributeError
    scene = scene_graph(torch.randn(2, 4), torch.randn(3))
    with pytest.raises(ValueError, match="edge_type is on meta"):
        build_scene_plan(scene.edge_index, meta(scene.edge_type), scene.node_type)
    with pytest.raises(ValueError, match="node_type is on meta"):
        build_scene_plan(scene.edge_index, scene.edge_type, meta(scene.node_type))


# ------------------------------------------------------------------ fuzzing the reference layers
# test_fuzz_nn.py fuzzes ChainRNN, the SIM, the DRNN and the HMM; these are the other topological layers (and
# ChainRNN again, on the storages and devices that file does not try).
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
SAME_MEANING = ["none", "int32 edges", "non-contiguous edges", "EdgeIndex", "shuffled edges", "non-contiguous x",
                "extra isolated node"]
BAD = ["float edges", "transposed edges", "1-d edges", "out of range", "negative", "self loop", "cycle", "wide x",
       "int x", "float64 x", "nan x", "foreign plan", "plan type", "edges on meta", "x on meta", "sparse edges"]
REFERENCE_LAYERS = {"ChildSumTreeLSTM": lambda: ChildSumTreeLSTM(3, 4), "NaryTreeLSTM": lambda: NaryTreeLSTM(3, 4, 8),
                    "DAGNNConv": lambda: DAGNNConv(3, 4), "ChainRNN": lambda: ChainRNN(3, 4, cell="gru")}


def corrupt(corruption, x, edge_index, n, generator):
    """The corrupted ``(x, edge_index, plan or None)``; a plan only for 'foreign plan' / 'plan type'."""
    edges = edge_index.size(1)
    changed = {
        "int32 edges": lambda: (x, edge_index.int()),
        "non-contiguous edges": lambda: (x, torch.stack([edge_index[1], edge_index[0]], 1).t().flip(0)),
        "EdgeIndex": lambda: (x, EdgeIndex(edge_index, sparse_size=(n, n))),
        "shuffled edges": lambda: (x, edge_index[:, torch.randperm(edges, generator=generator)]),
        "non-contiguous x": lambda: (x.t().contiguous().t(), edge_index),
        "extra isolated node": lambda: (torch.cat([x, torch.randn(1, 3, generator=generator)]), edge_index),
        "float edges": lambda: (x, edge_index.float()),
        "transposed edges": lambda: (x, edge_index.t()) if edges != 2 else (x, edge_index.reshape(-1)),
        "1-d edges": lambda: (x, edge_index.reshape(-1)),
        "out of range": lambda: (x, torch.cat([edge_index, torch.tensor([[0], [n]])], 1)),
        "negative": lambda: (x, torch.cat([edge_index, torch.tensor([[-1], [0]])], 1)),
        "self loop": lambda: (x, torch.cat([edge_index, torch.tensor([[n - 1], [n - 1]])], 1)),
        "cycle": lambda: (x, torch.cat([edge_index, edge_index[:, :1].flip(0)], 1)) if edges
        else (x, torch.tensor([[0], [0]])),
        "wide x": lambda: (torch.randn(n, 5, generator=generator), edge_index),
        "int x": lambda: (x.long(), edge_index),
        "float64 x": lambda: (x.double(), edge_index),
        "nan x": lambda: (x.index_fill(0, torch.tensor([n - 1]), float("nan")), edge_index),
        "edges on meta": lambda: (x, meta(edge_index)),
        "x on meta": lambda: (meta(x), edge_index),
        "sparse edges": lambda: (x, torch.sparse_coo_tensor(edge_index, torch.ones(edges), (n, n),
                                                            check_invariants=True)),
    }
    if corruption in ("none", "foreign plan", "plan type"):
        return x, edge_index
    return changed[corruption]()


def clear_error(call):
    """``None`` and the error if ``call`` raised graphrnn's own ValueError/TypeError; anything else fails."""
    try:
        return call(), None
    except (ValueError, TypeError) as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        assert "/graphrnn/" in frame.filename, f"{type(error).__name__} from {frame.filename}: {error}"
        assert len(str(error)) > 20, f"an unhelpful message: {error!r}"
        return None, error


@FUZZ
@given(permuted_dags(max_nodes=7), st.sampled_from(SAME_MEANING + BAD),
       st.sampled_from(list(REFERENCE_LAYERS)), st.booleans())
def test_reference_layers_give_a_clear_error_or_the_uncorrupted_answer(graph, corruption, name, with_plan):
    n, edges = graph
    generator = torch.Generator().manual_seed(n + len(edges))
    torch.manual_seed(0)
    layer = REFERENCE_LAYERS[name]()
    x = torch.randn(n, 3, generator=generator)
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1).contiguous()
    expected = layer(x, edge_index)
    bad_x, bad_edges = corrupt(corruption, x, edge_index, n, generator)
    kwargs = {}
    if corruption == "foreign plan":
        kwargs["plan"] = layer.plan(torch.tensor([[0], [n]]), n + 1)
    elif corruption == "plan type":
        kwargs["plan"] = {"levels": 3}
    elif with_plan:
        rows = bad_x.size(0) if bad_x.dim() else n
        kwargs["plan"], error = clear_error(lambda: layer.plan(bad_edges, rows))
        if error is not None:
            assert corruption in BAD, f"{corruption}: {error}"
            return
    got, error = clear_error(lambda: layer(bad_x, bad_edges, **kwargs))
    if corruption in BAD:
        assert error is not None, f"{corruption} was accepted"
    else:
        assert error is None, f"{corruption}: {error}"
        torch.testing.assert_close(got[:n], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_hmm_on_cuda_with_a_batch_without_edges():
    """A Data without edge_index got a CPU plan (the empty edges were made on the CPU) beside CUDA symbols."""
    from torch_geometric.data import Data

    hmm = HMM(2, 3, generator=torch.Generator().manual_seed(0)).cuda()
    data = Data(x=torch.tensor([0, 1], device="cuda"), num_nodes=2)
    expected = HMM(2, 3, generator=torch.Generator().manual_seed(0)).log_likelihood(Data(x=torch.tensor([0, 1]),
                                                                                         num_nodes=2))
    torch.testing.assert_close(hmm.log_likelihood(data).cpu(), expected)


@pytest.mark.parametrize("name", ["ChainRNN", "ChainRNN gru", "ChildSumTreeLSTM", "NaryTreeLSTM", "DAGNNConv", "DAGNN",
                                  "DAGNN readout", "TypedLinear"])
def test_a_graph_without_nodes_gives_an_empty_output_a_backward_can_run_through(name):
    """A batch with no nodes returned detached zeros: loss.backward() failed with torch's 'element 0 of tensors does
    not require grad' in the middle of a training loop. Now the output is empty and reaches the weights."""
    torch.manual_seed(0)
    layers = {"ChainRNN": ChainRNN(3, 4), "ChainRNN gru": ChainRNN(3, 4, cell="gru"),
              "ChildSumTreeLSTM": ChildSumTreeLSTM(3, 4), "NaryTreeLSTM": NaryTreeLSTM(3, 4, 2),
              "DAGNNConv": DAGNNConv(3, 4), "DAGNN": DAGNN(3, 4), "DAGNN readout": DAGNN(3, 4, readout="mean"),
              "TypedLinear": TypedLinear(3, 4, 2)}
    layer = layers[name].double()
    x, edges = torch.zeros(0, 3, dtype=torch.float64), torch.zeros(2, 0, dtype=torch.long)
    out = layer(x, torch.zeros(0, dtype=torch.long)) if name == "TypedLinear" else layer(x, edges)
    assert out.shape[0] == 0 and out.dtype == torch.float64
    out.sum().backward()
    assert any(p.grad is not None and not p.grad.any() for p in layer.parameters())  # zero gradients, no error


def test_hmm_log_likelihood_of_no_nodes_can_be_backpropagated():
    hmm = HMM(2, 3, generator=torch.Generator().manual_seed(0))
    log_likelihood = hmm(torch.zeros(0, dtype=torch.long), torch.zeros(2, 0, dtype=torch.long))
    assert log_likelihood.tolist() == [0.0]  # log 1: the empty sequence
    (-log_likelihood.sum()).backward()  # before: 'element 0 of tensors does not require grad'
    assert not hmm.start_logits.grad.any()


@pytest.mark.parametrize("num_graphs, error, message", [
    (2.0, TypeError, "HMM: num_graphs must be an int"),  # before: new_zeros()'s TypeError
    ("2", TypeError, "HMM: num_graphs must be an int"),  # before: a '>=' TypeError
    (True, TypeError, "HMM: num_graphs must be an int"),  # before: 'the batch has True graphs'
    (-1, ValueError, "HMM: num_graphs must be >= 0"),
])
def test_hmm_num_graphs_must_be_a_count(num_graphs, error, message):
    hmm = HMM(3, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(error, match=message):
        hmm(torch.tensor([0, 1, 2, 3, 0]), torch.tensor([[0, 1, 3], [1, 2, 4]]), batch=torch.tensor([0, 0, 0, 1, 1]),
            num_graphs=num_graphs)


def test_hmm_num_graphs_without_batch_is_refused_not_ignored():
    hmm = HMM(3, 4, generator=torch.Generator().manual_seed(0))
    x, edges = torch.tensor([0, 1, 2, 3, 0]), torch.tensor([[0, 1, 3], [1, 2, 4]])
    with pytest.raises(ValueError, match="num_graphs=3 needs batch"):
        hmm(x, edges, num_graphs=3)  # before: one log-likelihood came back for the 3 graphs asked for
    torch.testing.assert_close(hmm(x, edges, num_graphs=1), hmm(x, edges))


def test_synchronous_schedule_reads_no_value_on_the_host():
    """propagate_synchronous checked the edges' range and edge types with min()/max() on the host: a GPU sync on
    every call. Now they are device asserts, and the CPU error still names the node."""
    from graphrnn.bench import host_sync_ops

    layer = SummingCell()
    assert host_sync_ops(lambda: layer.propagate_synchronous(RING, h4)) == []  # before: _local_scalar_dense, item
    with pytest.raises(ValueError, match="SummingCell: edge_index refers to node 4, but state has 4 rows"):
        layer.propagate_synchronous(RING + 1, h4)
    with pytest.raises(ValueError, match="edge_type holds a type outside 0..0"):
        layer.propagate_synchronous(RING, h4, edge_type=torch.tensor([0, 1, 0, 0]))
