"""Fuzzing the layers: random graphs, batches and plans, each possibly corrupted one way.

Every call must end in a ``ValueError``/``TypeError`` raised by graphrnn's own code, or in a
result equal to a reference computed without the corruption (node by node for ChainRNN, or the
same layer on a freshly built, uncorrupted input). Derandomized, so CI runs the same cases.
"""
import traceback

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nn_testing import child_sum_reference, permuted_dags

from graphrnn.data import PARENT, DataLoader, chain_graph, scene_graph, tree_graph
from graphrnn.nn import DRNN, HMM, ChainRNN, StructureInferenceMachine

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
COUNTS = {"clear error": 0, "equal to reference": 0}


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    """Prints the figures of the README's Reliability section (``pytest -s tests/nn/test_fuzz_nn.py``)."""
    yield
    print(f"\nnn fuzz: {sum(COUNTS.values())} inputs, {COUNTS['clear error']} clear errors, "
          f"{COUNTS['equal to reference']} results equal to the reference")


def raised_by_graphrnn(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return any("/graphrnn/" in frame.filename and "/tests/" not in frame.filename for frame in frames[-1:])


def outcome(call):
    """``(result, None)`` or ``(None, error)``; any error that is not graphrnn's clear one fails the test."""
    try:
        return call(), None
    except (ValueError, TypeError) as error:
        assert raised_by_graphrnn(error), f"{type(error).__name__} from outside graphrnn: {error}"
        assert len(str(error)) > 20, f"an unhelpful message: {error!r}"
        COUNTS["clear error"] += 1
        return None, error


CHAIN_CORRUPTIONS = ["none", "float edges", "transposed edges", "out of range", "negative", "self loop", "cycle",
                     "wide x", "int x", "float64 x", "nan x", "foreign plan", "plan type", "short edge_weight",
                     "nan edge_weight", "edge_types without edge_type", "1-d edges"]


@FUZZ
@given(permuted_dags(max_nodes=8), st.sampled_from(CHAIN_CORRUPTIONS),
       st.sampled_from(["lstm", "gru", "rnn"]), st.booleans())
def test_chain_rnn(graph, corruption, cell, with_plan):
    n, edges = graph
    generator = torch.Generator().manual_seed(n)
    layer = ChainRNN(3, 4, cell=cell, edge_types=[PARENT] if corruption == "edge_types without edge_type" else None)
    x = torch.randn(n, 3, generator=generator)
    edge_index = torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)
    kwargs = {}
    if corruption == "float edges":
        edge_index = edge_index.float()
    elif corruption == "transposed edges" and edges:
        edge_index = edge_index.t().contiguous()
    elif corruption == "1-d edges":
        edge_index = edge_index.reshape(-1)
    elif corruption == "out of range" and edges:
        edge_index = edge_index.clone()
        edge_index[1, 0] = n + 3
    elif corruption == "negative" and edges:
        edge_index = edge_index.clone()
        edge_index[0, 0] = -1
    elif corruption == "self loop":
        edge_index = torch.cat([edge_index, torch.tensor([[0], [0]])], 1)
    elif corruption == "cycle" and edges:
        u, v = edges[0]
        edge_index = torch.cat([edge_index, torch.tensor([[v], [u]])], 1)
    elif corruption == "wide x":
        x = torch.randn(n, 5)
    elif corruption == "int x":
        x = torch.ones(n, 3, dtype=torch.long)
    elif corruption == "float64 x":
        x = x.double()
    elif corruption == "nan x":
        x[-1, 0] = float("nan")
    elif corruption == "foreign plan":
        kwargs["plan"] = layer.plan(torch.tensor([[0], [n]]), n + 1)
    elif corruption == "plan type":
        kwargs["plan"] = {"levels": 3}
    elif corruption == "short edge_weight":
        kwargs["edge_weight"] = torch.ones(max(len(edges) - 1, 0) if edges else 2)
    elif corruption == "nan edge_weight":
        kwargs["edge_weight"] = torch.full((len(edges),), float("nan"))
    if with_plan and "plan" not in kwargs:
        built, error = outcome(lambda: layer.plan(edge_index, x.size(0) if x.dim() else n))
        if error is not None:
            return
        kwargs["plan"] = built
    result, error = outcome(lambda: layer(x, edge_index, **kwargs))
    if error is None:
        weight = kwargs.get("edge_weight")
        if weight is not None and len(edges):  # a valid weight vector of all-NaN can't get here
            pytest.fail("a corrupted edge_weight was accepted")
        expected, _ = child_sum_reference(layer.cell, cell, x, n, [tuple(e) for e in edge_index.t().tolist()])
        torch.testing.assert_close(result, expected, rtol=1e-4, atol=1e-5)
        COUNTS["equal to reference"] += 1


def scene_batch(sizes, seed):
    generator = torch.Generator().manual_seed(seed)
    scenes = [scene_graph(torch.randn(k, 4, generator=generator), torch.randn(3, generator=generator)) for k in sizes]
    return next(iter(DataLoader(scenes, batch_size=len(scenes))))


SIM_CORRUPTIONS = ["none", "float edges", "out of range", "negative", "bad node_type", "flipped edge_type",
                   "edge_type out of range", "nan x", "short x", "foreign plan", "extra row x"]


@FUZZ
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.sampled_from(SIM_CORRUPTIONS), st.booleans())
def test_structure_inference_machine(sizes, corruption, with_plan):
    torch.manual_seed(0)
    sim = StructureInferenceMachine(4, 3, 6, num_actions=3, num_activities=2, num_iterations=2)
    batch = scene_batch(sizes, len(sizes))
    persons = batch.node_type == 0
    x = torch.zeros(batch.num_nodes, 4)
    x[persons] = batch.person_x
    x[~persons, :3] = batch.scene_x
    edge_index, edge_type, node_type = batch.edge_index.clone(), batch.edge_type.clone(), batch.node_type.clone()
    plan = None
    if with_plan:
        plan = sim.planners()["sim_plan"](batch)
    if corruption == "float edges":
        edge_index = edge_index.float()
    elif corruption == "out of range" and edge_index.numel():
        edge_index[0, 0] = batch.num_nodes
    elif corruption == "negative" and edge_index.numel():
        edge_index[1, -1] = -2
    elif corruption == "bad node_type":
        node_type[0] = 5
    elif corruption == "flipped edge_type" and edge_type.numel():
        edge_type[0] = (int(edge_type[0]) + 1) % 3
    elif corruption == "edge_type out of range" and edge_type.numel():
        edge_type[-1] = 3
    elif corruption == "nan x":
        x[0, 0] = float("inf")
    elif corruption == "short x":
        x = x[:, :2]
    elif corruption == "extra row x":
        x = torch.cat([x, x[:1]])
    elif corruption == "foreign plan":
        plan = sim.planners()["sim_plan"](scene_batch([5, 1], 99))
    result, error = outcome(lambda: sim(x, edge_index, edge_type, node_type, plan=plan))
    if error is None:
        expected = sim(batch)
        for (a, b), (c, d) in zip(result, expected):
            torch.testing.assert_close(a, c)
            torch.testing.assert_close(b, d)
        COUNTS["equal to reference"] += 1


TREE_CORRUPTIONS = ["none", "label out of range", "short has_children", "crossing batch", "batch beyond",
                    "two parents", "parent cycle", "foreign plan", "no edge_type", "float labels", "wrong root rows"]


@st.composite
def forest(draw):
    trees = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 6))
        trees.append([-1] + [draw(st.integers(0, i - 1)) for i in range(1, n)])
    return trees


@FUZZ
@given(forest(), st.sampled_from(TREE_CORRUPTIONS), st.booleans())
def test_drnn(parents, corruption, with_plan):
    torch.manual_seed(0)
    drnn = DRNN(6, 5)
    graphs = [tree_graph(torch.arange(len(p)) % 6, p) for p in parents]
    plans = drnn.planners() if with_plan else None
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs), plans=plans)))
    root = torch.randn(len(parents), 5, generator=torch.Generator().manual_seed(1))
    labels, edge_index, edge_type = batch.y.clone(), batch.edge_index.clone(), batch.edge_type.clone()
    has_children, tree = batch.has_children, batch.batch.clone()
    plan = getattr(batch, "drnn_plan", None)
    if corruption == "label out of range":
        labels[-1] = 6
    elif corruption == "short has_children":
        has_children = has_children[:-1]
    elif corruption == "crossing batch" and edge_index.numel():
        tree[int(edge_index[1, 0])] = (int(tree[int(edge_index[1, 0])]) + 1) % max(len(parents), 2)
        plan = None
    elif corruption == "batch beyond":
        tree[-1] = len(parents) + 2
        plan = None
    elif corruption == "two parents" and labels.numel() > 2:
        edge_index = torch.cat([edge_index, torch.tensor([[1], [2]])], 1)
        edge_type = torch.cat([edge_type, torch.tensor([PARENT])])
        plan = None
    elif corruption == "parent cycle" and edge_index.numel():
        u, v = edge_index[:, 0].tolist()
        edge_index = torch.cat([edge_index, torch.tensor([[v], [u]])], 1)
        edge_type = torch.cat([edge_type, torch.tensor([PARENT])])
        plan = None
    elif corruption == "foreign plan":
        plan = drnn.planners()["drnn_plan"](next(iter(DataLoader([tree_graph([0] * 3, [-1, 0, 1])] * len(parents),
                                                                  batch_size=len(parents)))))
    elif corruption == "no edge_type":
        edge_type = None
    elif corruption == "float labels":
        labels = labels.float()
    elif corruption == "wrong root rows":
        root = torch.randn(len(parents) + 1, 5)
    result, error = outcome(lambda: drnn(labels, edge_index, edge_type, root, has_children, batch.has_next_sibling,
                                         batch=tree, plan=plan))
    if error is None:
        plain = next(iter(DataLoader(graphs, batch_size=len(graphs))))
        for a, b in zip(result, drnn(plain, root)):
            torch.testing.assert_close(a, b)
        COUNTS["equal to reference"] += 1


HMM_CORRUPTIONS = ["none", "float x", "symbol out of range", "crossing batch", "batch beyond", "branching",
                   "foreign plan", "2-d x"]


@FUZZ
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.sampled_from(HMM_CORRUPTIONS), st.booleans())
def test_hmm(lengths, corruption, with_plan):
    hmm = HMM(2, 3, dtype=torch.float64)
    generator = torch.Generator().manual_seed(len(lengths))
    graphs = [chain_graph(torch.randint(0, 3, (n,), generator=generator)) for n in lengths]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs), plans=hmm.planners() if with_plan else None)))
    x, edge_index, tree = batch.x.clone(), batch.edge_index.clone(), batch.batch.clone()
    plan = getattr(batch, "hmm_plan", None)
    if corruption == "float x":
        x = x.double()
    elif corruption == "symbol out of range":
        x[0] = 3
    elif corruption == "crossing batch" and len(lengths) > 1:
        edge_index = torch.cat([edge_index, torch.tensor([[lengths[0] - 1], [lengths[0]]])], 1)
        plan = None
    elif corruption == "batch beyond":
        tree[-1] = len(lengths) + 1
        plan = None
    elif corruption == "branching" and sum(lengths) > 2 and lengths[0] >= 3:
        edge_index = torch.cat([edge_index, torch.tensor([[0], [2]])], 1)
        plan = None
    elif corruption == "foreign plan":
        plan = hmm.planners()["hmm_plan"](next(iter(DataLoader([chain_graph(torch.zeros(sum(lengths) + 1,
                                                                                        dtype=torch.long))]))))
    elif corruption == "2-d x":
        x = x.view(-1, 1)
    result, error = outcome(lambda: hmm(x, edge_index, batch=tree, num_graphs=len(lengths), plan=plan))
    if error is None:
        plain = next(iter(DataLoader(graphs, batch_size=len(graphs))))
        expected = torch.stack([hmm(g) for g in graphs]).view(-1) if corruption != "crossing batch" else None
        if expected is not None:
            torch.testing.assert_close(result, expected)
        torch.testing.assert_close(result.sum(), hmm(plain).sum())
        COUNTS["equal to reference"] += 1
