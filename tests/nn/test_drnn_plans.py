"""DRNN as a PyG layer: the tensor form, plans carried by the batch, no host reads in a step, bad batches."""
import pytest
import torch

from graphrnn.bench import host_sync_ops
from graphrnn.data import DataLoader, tree_graph
from graphrnn.nn import DRNN
from graphrnn.nn.tree_plan import TreePlan, build_tree_plan

PARENTS = [[-1, 0, 0, 1, 1, 2], [-1], [-1, 0, 1, 2], [-1, 0, 0, 0, 3]]


def trees():
    generator = torch.Generator().manual_seed(0)
    return [tree_graph(torch.randint(0, 5, (len(p),), generator=generator), p) for p in PARENTS]


def model(attention=None):
    torch.manual_seed(0)
    return DRNN(5, 8, attention=attention, memory_channels=6 if attention else None)


def memory():
    generator = torch.Generator().manual_seed(1)
    mask = torch.ones(len(PARENTS), 3, dtype=torch.bool)
    mask[1, 2] = False
    return torch.randn(len(PARENTS), 3, 6, generator=generator), mask


@pytest.mark.parametrize("attention", [None, "mlp"])
def test_tensor_form_and_carried_plan_equal_the_batch_form(attention):
    drnn = model(attention)
    extra = dict(zip(("memory", "memory_mask"), memory())) if attention else {}
    root = torch.randn(len(PARENTS), 8, generator=torch.Generator().manual_seed(2))
    plain = next(iter(DataLoader(trees(), batch_size=4)))
    expected = drnn(plain, root, **extra)
    planned = next(iter(DataLoader(trees(), batch_size=4, plans=drnn.planners())))
    assert isinstance(planned.drnn_plan, TreePlan)
    from_plan = drnn(planned, root, **extra)
    from_tensors = drnn(plain.y, plain.edge_index, plain.edge_type, root, plain.has_children,
                        plain.has_next_sibling, batch=plain.batch, **extra)
    for got in (from_plan, from_tensors):
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("attention", [None, "mlp"])
def test_a_teacher_forced_step_given_a_plan_reads_nothing_on_the_host(attention):
    drnn = model(attention)
    root = torch.nn.Parameter(torch.zeros(len(PARENTS), 8))
    extra = dict(zip(("memory", "memory_mask"), memory())) if attention else {}
    optimizer = torch.optim.SGD([*drnn.parameters(), root], lr=0.1)
    batch = next(iter(DataLoader(trees(), batch_size=4, plans=drnn.planners())))

    def step():
        optimizer.zero_grad()
        DRNN.loss(drnn(batch, root, **extra), batch).backward()
        optimizer.step()

    step()
    assert host_sync_ops(step) == []


def test_missing_or_short_topology_targets():
    drnn, root = model(), torch.zeros(len(PARENTS), 8)
    batch = next(iter(DataLoader(trees(), batch_size=4)))
    del batch.has_children
    with pytest.raises(ValueError, match=r"lacks \['has_children'\]"):
        drnn(batch, root)
    batch = next(iter(DataLoader(trees(), batch_size=4)))
    batch.has_children = batch.has_children[:-2]
    with pytest.raises(ValueError, match=r"has_children must be a tensor \[N\]=\[16\]"):
        drnn(batch, root)


def test_a_batch_id_pointing_at_another_tree_is_refused():
    drnn = model("mlp")
    batch = next(iter(DataLoader(trees(), batch_size=4)))
    batch.batch = batch.batch.clone()
    batch.batch[3] = 2  # node 3 is a child of node 1 (tree 0): it would attend over tree 2's memory
    with pytest.raises(ValueError, match="joins tree 0 to tree 2"):
        drnn(batch, torch.zeros(4, 8), *memory())
    batch.batch[3] = 9
    with pytest.raises(ValueError, match="tree id 9, but the batch has 4 trees"):
        drnn(batch, torch.zeros(4, 8), *memory())


def test_a_plan_for_another_batch_is_refused():
    drnn = model()
    batch = next(iter(DataLoader(trees(), batch_size=4)))
    other = trees()[:3] + [tree_graph(torch.zeros(5, dtype=torch.long), [-1, 0, 1, 1, 0])]
    foreign = build_tree_plan(*(lambda b: (b.edge_index, b.edge_type, b.num_nodes, b.batch))(
        next(iter(DataLoader(other, batch_size=4)))))
    with pytest.raises(ValueError, match="different graph|another graph"):
        drnn(batch.y, batch.edge_index, batch.edge_type, torch.zeros(4, 8), batch.has_children,
             batch.has_next_sibling, batch=batch.batch, plan=foreign)
    with pytest.raises(TypeError, match="plan must be a TreePlan"):
        drnn(batch.y, batch.edge_index, batch.edge_type, torch.zeros(4, 8), batch.has_children,
             batch.has_next_sibling, batch=batch.batch, plan=object())


def test_float64_inputs_into_a_float32_drnn():
    batch = next(iter(DataLoader(trees(), batch_size=4)))
    with pytest.raises(TypeError, match=r"root_state is torch.float64 .*layer.double\(\)"):
        model()(batch, torch.zeros(4, 8, dtype=torch.float64))
    memory_, mask = memory()
    with pytest.raises(TypeError, match=r"memory is torch.float64"):
        model("mlp")(batch, torch.zeros(4, 8), memory_.double(), mask)


def test_a_tree_edited_in_place_after_its_plan_is_refused():
    drnn = model()
    batch = next(iter(DataLoader(trees(), batch_size=4, plans=drnn.planners())))
    drnn(batch, torch.zeros(4, 8))
    batch.edge_index[1, 0] = batch.edge_index[1, 1]  # the same tensor, another value
    with pytest.raises(ValueError, match="edge_index was changed in place after the plan was built"):
        drnn(batch, torch.zeros(4, 8))
