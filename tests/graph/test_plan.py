"""TopologicalPlan: its layout against networkx, its fingerprint checks, and the loader that builds it."""
import pickle

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.data import PARENT, SIBLING, DataLoader, chain_graph, tree_graph
from graphrnn.graph import Planner, TopologicalPlan, build_topological_plan, topological_levels
from graphrnn.nn import ChainRNN


@st.composite
def small_dags(draw, max_nodes=12):
    n = draw(st.integers(1, max_nodes))
    perm = draw(st.permutations(range(n)))
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=2 * n, unique=True)) if pairs else []
    return n, [(perm[u], perm[v]) for u, v in chosen]


def edge_index_of(edges):
    return torch.tensor(edges, dtype=torch.long).t().reshape(2, -1)


@settings(max_examples=60, deadline=None)
@given(small_dags(), st.sampled_from(["source_to_target", "target_to_source"]))
def test_plan_layout_matches_networkx(graph, flow):
    n, edges = graph
    plan = build_topological_plan(edge_index_of(edges), n, flow=flow)
    followed = edges if flow == "source_to_target" else [(v, u) for u, v in edges]
    g = nx.DiGraph(followed)
    g.add_nodes_from(range(n))
    generations = list(nx.topological_generations(g))
    assert plan.num_levels == len(generations)
    for level, nodes in enumerate(generations):  # level-major, stable by node id
        a, b = plan.level_ptr[level], plan.level_ptr[level + 1]
        assert plan.node_order[a:b].tolist() == sorted(nodes)
    assert torch.equal(plan.node_order[plan.node_position], torch.arange(n))
    # every followed edge appears once, sorted by target position, source on an earlier level
    level_of_position = torch.repeat_interleave(torch.arange(plan.num_levels), torch.tensor(plan.level_sizes()))
    got = []
    for level in range(plan.num_levels):
        a = plan.level_ptr[level]
        sources, targets = plan.level_source[level], plan.level_target[level] + a
        assert torch.all(level_of_position[sources] < level)
        assert sorted(set(level_of_position[sources].tolist())) == sorted(plan.source_levels[level])
        assert targets.tolist() == sorted(targets.tolist())
        local = plan.level_target[level].tolist()  # bag offsets: edges of the level before each node's first
        assert plan.level_bag_offsets[level].tolist() == [sum(t < v for t in local)
                                                         for v in range(plan.level_sizes()[level])]
        got += [(int(plan.node_order[s]), int(plan.node_order[t])) for s, t in zip(sources, targets)]
        roots = {int(plan.node_order[a + r]) for r in plan.level_roots[level]}
        assert roots == {v for v in generations[level] if g.in_degree(v) == 0}
        assert plan.single_predecessor[level] == all(g.in_degree(v) == 1 for v in generations[level])
    assert sorted(got) == sorted(followed)
    assert [tuple(edges[e]) if flow == "source_to_target" else tuple(edges[e])[::-1]
            for e in plan.edge_order.tolist()] == [tuple(p) for p in got]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=6))
def test_chain_batches_get_a_packed_layout(lengths):
    graphs = [chain_graph(torch.zeros(length, 1)) for length in lengths]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    chains = build_topological_plan(batch.edge_index, batch.num_nodes).chains
    assert chains is not None
    assert chains.batch_sizes.tolist() == [sum(length > t for length in lengths) for t in range(max(lengths))]
    assert torch.equal(chains.packed_index[chains.packed_position], torch.arange(batch.num_nodes))
    assert chains.equal_lengths == (len(set(lengths)) == 1)


def test_non_chains_get_no_packed_layout():
    tree = tree_graph(torch.zeros(4, dtype=torch.long), [-1, 0, 0, 1])
    assert build_topological_plan(tree.edge_index, 4).chains is None


def test_self_loop_is_a_cycle_for_every_path():
    edge_index = torch.tensor([[0, 1, 1], [1, 1, 2]])
    with pytest.raises(ValueError, match="self loop 1 -> 1"):
        build_topological_plan(edge_index, 3)
    with pytest.raises(ValueError, match="self loop 1 -> 1"):  # the fused chain path too
        ChainRNN(2, 3)(torch.randn(3, 2), edge_index)


def test_plan_records_its_graph():
    edge_index = torch.tensor([[0, 1], [1, 2]])
    plan = build_topological_plan(edge_index, 3)
    plan.check(edge_index, 3, "source_to_target")  # the same tensor: identity
    plan.check(edge_index.clone(), 3, "source_to_target")  # equal values
    with pytest.raises(ValueError, match="another graph of the same size"):
        plan.check(torch.tensor([[1, 0], [2, 1]]), 3, "source_to_target")
    with pytest.raises(ValueError, match=r"different graph \(3 nodes and 2 edges\), but this one has 4 nodes"):
        plan.check(edge_index, 4, "source_to_target")
    with pytest.raises(ValueError, match="flow='source_to_target'"):
        plan.check(edge_index, 3, "target_to_source")
    with pytest.raises(TypeError, match="edge_index must be a torch.Tensor"):
        plan.check([[0, 1], [1, 2]], 3, "source_to_target")


def test_edge_type_selection_needs_and_records_edge_types():
    tree = tree_graph(torch.zeros(4, dtype=torch.long), [-1, 0, 0, 0])
    with pytest.raises(ValueError, match="needs edge_type"):
        build_topological_plan(tree.edge_index, 4, edge_types=[PARENT])
    plan = build_topological_plan(tree.edge_index, 4, edge_type=tree.edge_type, edge_types=[PARENT])
    assert plan.num_levels == 2 and plan.edge_ptr[-1] == 3  # the sibling chain 1 -> 2 -> 3 is not followed
    with pytest.raises(ValueError, match="follows edge types"):
        plan.check(tree.edge_index, 4, "source_to_target", edge_types=[PARENT])
    with pytest.raises(ValueError, match=r"plan follows edge types \[0\], but this layer follows every edge type"):
        plan.check(tree.edge_index, 4, "source_to_target", tree.edge_type)
    with pytest.raises(ValueError, match=r"but this layer follows \[1\]"):
        plan.check(tree.edge_index, 4, "source_to_target", tree.edge_type, edge_types=[SIBLING])
    plan.check(tree.edge_index, 4, "source_to_target", tree.edge_type, edge_types=[PARENT])
    other = tree.edge_type.clone()
    other[other == SIBLING] = PARENT
    other[0] = SIBLING
    with pytest.raises(ValueError, match="its edge_type differs"):
        plan.check(tree.edge_index, 4, "source_to_target", other, edge_types=[PARENT])


def test_plan_moves_and_prints_on_one_line():
    plan = build_topological_plan(torch.tensor([[0], [1]]), 2)
    moved = plan.to("cpu")
    assert isinstance(moved, TopologicalPlan) and moved.level_ptr == plan.level_ptr
    assert repr(plan) == ("TopologicalPlan(num_nodes=2, num_edges=1, num_levels=2, flow='source_to_target', "
                          "chains, device=cpu)")


def test_bad_plan_argument():
    layer = ChainRNN(2, 3)
    with pytest.raises(TypeError, match="plan must be a graphrnn.graph.TopologicalPlan"):
        layer(torch.randn(2, 2), torch.tensor([[0], [1]]), plan=torch.tensor([0, 1]))


# ------------------------------------------------------------------ loader
def random_trees(count, seed):
    generator = torch.Generator().manual_seed(seed)
    trees = []
    for _ in range(count):
        n = int(torch.randint(1, 8, (1,), generator=generator))
        parents = [-1] + [int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, n)]
        data = tree_graph(torch.zeros(n, dtype=torch.long), parents)
        data.x = torch.randn(n, 3, generator=generator)
        trees.append(data)
    return trees


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_builds_the_layers_plans_in_its_collate(num_workers):
    layer = ChainRNN(3, 4, flow="target_to_source", edge_types=[PARENT])
    loader = DataLoader(random_trees(12, 0), batch_size=5, plans={"plan": layer.planner()}, num_workers=num_workers)
    for batch in loader:
        batch = batch.to("cpu")
        assert isinstance(batch.plan, TopologicalPlan)
        expected = layer(batch.x, batch.edge_index, edge_type=batch.edge_type)
        got = layer(batch.x, batch.edge_index, plan=batch.plan, edge_type=batch.edge_type)
        torch.testing.assert_close(got, expected)
        assert batch.plan.level_ptr == layer.plan(batch.edge_index, batch.num_nodes,
                                                  edge_type=batch.edge_type).level_ptr


def test_planner_pickles_and_reads_other_keys():
    planner = pickle.loads(pickle.dumps(ChainRNN(3, 4).planner(edge_index_key="src_edge_index")))
    assert isinstance(planner, Planner) and planner.edge_index_key == "src_edge_index"

    class Pair:
        src_x = torch.zeros(3, 1)
        src_edge_index = torch.tensor([[0, 1], [1, 2]])

    assert planner(Pair()).num_nodes == 3
    with pytest.raises(ValueError, match="no 'edge_index'"):
        Planner()(object())


def test_loader_rejects_bad_plans_argument():
    with pytest.raises(TypeError, match="plans must be a dict"):
        DataLoader([], plans=[Planner()])
    with pytest.raises(TypeError, match="plans maps attribute names"):
        DataLoader([], plans={"plan": 3})


def test_levels_live_below_data_and_nn():
    import graphrnn.graph.levels as levels
    import graphrnn.nn.levels as old_home

    assert old_home.topological_levels is levels.topological_levels is topological_levels


def test_float_levels_are_refused_instead_of_truncated():
    # before: .long() truncated them (0.5 became 0), so a stale float schedule could pass the check
    edge_index = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="level must hold integer levels"):
        build_topological_plan(edge_index, 3, level=torch.tensor([0.0, 1.0, 2.0]))
    plan = build_topological_plan(edge_index, 3, level=torch.tensor([0, 1, 2]))
    assert plan.num_levels == 3


def test_an_edit_in_place_after_the_plan_is_refused_and_a_pickled_plan_still_fits():
    """A plan holds no copy of its graph: the very edge_index, edited in place afterwards, is refused
    (its version counter moved); a plan that went through pickle (a loader worker) still checks by identity."""
    layer = ChainRNN(3, 5)
    x, edge_index = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    plan = layer.plan(edge_index, 4)
    layer(x, edge_index, plan=plan)
    edge_index[0, 2] = 0  # 0 -> 3 instead of 2 -> 3: another DAG of the same size
    with pytest.raises(ValueError, match="edge_index was changed in place after the plan was built"):
        layer(x, edge_index, plan=plan)
    torch.testing.assert_close(layer(x, edge_index, plan=layer.plan(edge_index, 4)), layer(x, edge_index))
    batch = next(iter(DataLoader(random_trees(3, 0), batch_size=3, plans={"plan": layer.planner()})))
    batch.edge_index.add_(0)  # an in-place op moves the counter even when the values stay
    reloaded = pickle.loads(pickle.dumps(batch))
    assert reloaded.plan.edge_index is reloaded.edge_index
    layer(reloaded.x, reloaded.edge_index, plan=reloaded.plan)  # counters restart after unpickling: no false alarm


def test_a_plan_missing_one_level_slice_cuts_it_again():
    """A plan carrying some per-level slices but not all (e.g. unpickled from an older version) cuts the
    missing one on first use instead of recursing through __getattr__."""
    plan = build_topological_plan(torch.tensor([[0, 1], [2, 2]]), 3).cut_levels()
    del plan.__dict__["level_bag_offsets"]
    assert [t.tolist() for t in plan.level_bag_offsets] == [[0, 0], [0]]
    with pytest.raises(AttributeError, match="no attribute 'level_offsets'"):
        plan.level_offsets
