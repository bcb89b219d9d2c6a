"""SIM as a PyG layer: the tensor form, plans carried by the batch, no host reads in a step, bad scenes."""
import pytest
import torch

from graphrnn.bench import host_sync_ops
from graphrnn.data import PERSON, PERSON_TO_SCENE, SCENE_TO_PERSON, DataLoader, scene_graph
from graphrnn.nn import StructureInferenceMachine
from graphrnn.nn.scene_plan import ScenePlan, build_scene_plan

F_P, F_S = 5, 3


def scenes(count=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    out = []
    for i in range(count):
        persons = 1 + i % 4
        out.append(scene_graph(torch.randn(persons, F_P, generator=generator), torch.randn(F_S, generator=generator),
                               person_y=torch.randint(0, 3, (persons,), generator=generator),
                               scene_y=int(torch.randint(0, 2, (1,), generator=generator))))
    return out


def model():
    torch.manual_seed(0)
    return StructureInferenceMachine(F_P, F_S, 8, num_actions=3, num_activities=2, num_iterations=2)


def tensor_form(batch):
    x = torch.zeros(batch.num_nodes, max(F_P, F_S))
    persons = (batch.node_type == PERSON).nonzero().view(-1)
    scenes_ = (batch.node_type != PERSON).nonzero().view(-1)
    x[persons, :F_P] = batch.person_x
    x[scenes_, :F_S] = batch.scene_x
    return x


def test_tensor_form_equals_batch_form_and_the_carried_plan():
    sim = model()
    batch = next(iter(DataLoader(scenes(), batch_size=4, plans=sim.planners())))
    assert isinstance(batch.sim_plan, ScenePlan)
    from_batch, gates = sim(batch, return_gates=True)
    plain = next(iter(DataLoader(scenes(), batch_size=4)))
    from_tensors, gates_t = sim(tensor_form(plain), plain.edge_index, plain.edge_type, plain.node_type,
                                return_gates=True)
    for (a, b), (c, d) in zip(from_batch, from_tensors):
        torch.testing.assert_close(a, c)
        torch.testing.assert_close(b, d)
    torch.testing.assert_close(gates, gates_t)


def test_a_training_step_given_a_plan_reads_nothing_on_the_host():
    sim = model()
    optimizer = torch.optim.SGD(sim.parameters(), lr=0.1)
    batch = next(iter(DataLoader(scenes(6), batch_size=6, plans=sim.planners())))

    def step():
        optimizer.zero_grad()
        actions, activities = sim(batch)[-1]
        (torch.nn.functional.cross_entropy(actions, batch.person_y)
         + torch.nn.functional.cross_entropy(activities, batch.scene_y)).backward()
        optimizer.step()

    step()
    assert host_sync_ops(step) == []


def test_nan_features_raise():
    sim = model()
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    batch.person_x[1, 2] = float("nan")
    with pytest.raises(ValueError, match="person_x has a NaN or inf"):
        sim(batch)
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    batch.scene_x[0, 0] = float("inf")
    with pytest.raises(ValueError, match="scene_x has a NaN or inf"):
        sim(batch)


def test_edge_type_that_disagrees_with_node_type_raises():
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    wrong = batch.edge_type.clone()
    e = int((wrong == PERSON_TO_SCENE).nonzero()[0, 0])
    wrong[e] = SCENE_TO_PERSON
    with pytest.raises(ValueError, match=r"has type SCENE_TO_PERSON, but it goes from a person to a scene"):
        model()(tensor_form(batch), batch.edge_index, wrong, batch.node_type)


@pytest.mark.parametrize("edit, message", [
    (lambda ei: ei.float(), "integer node indices"),
    (lambda ei: torch.where(ei == 0, torch.full_like(ei, -1), ei), "refers to node -1"),
    (lambda ei: ei + 100, "refers to node 1"),
])
def test_bad_edge_index_raises(edit, message):
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    with pytest.raises(ValueError, match=message):
        model()(tensor_form(batch), edit(batch.edge_index), batch.edge_type, batch.node_type)


def test_bad_node_type_and_plans():
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    node_type = batch.node_type.clone()
    node_type[0] = 7
    with pytest.raises(ValueError, match=r"node_type\[0\] is 7"):
        build_scene_plan(batch.edge_index, batch.edge_type, node_type)
    sim = model()
    with pytest.raises(TypeError, match="plan must be a ScenePlan"):
        sim(tensor_form(batch), batch.edge_index, batch.edge_type, batch.node_type, plan=object())
    other = next(iter(DataLoader(scenes(3, seed=1), batch_size=3)))
    foreign = build_scene_plan(other.edge_index, other.edge_type, other.node_type)
    with pytest.raises(ValueError, match="different graph"):
        sim(tensor_form(batch), batch.edge_index, batch.edge_type, batch.node_type, plan=foreign)
    with pytest.raises(ValueError, match=r"max\(person_channels, scene_channels\)=5 columns"):
        sim(torch.zeros(batch.num_nodes, 4), batch.edge_index, batch.edge_type, batch.node_type)


def test_float64_scene_into_a_float32_model():
    batch = next(iter(DataLoader(scenes(), batch_size=4)))
    batch.person_x, batch.scene_x = batch.person_x.double(), batch.scene_x.double()
    with pytest.raises(TypeError, match=r"layer.double\(\)"):
        model()(batch)


def test_no_graph_breaks_given_a_plan():
    sim = model()
    batch = next(iter(DataLoader(scenes(), batch_size=4, plans=sim.planners())))
    x = tensor_form(batch)
    explanation = torch._dynamo.explain(sim)(x, batch.edge_index, batch.edge_type, batch.node_type,
                                             plan=batch.sim_plan)
    assert explanation.graph_break_count == 0


def test_a_scene_graph_edited_in_place_after_its_plan_is_refused():
    sim = model()
    batch = next(iter(DataLoader(scenes(), batch_size=4, plans=sim.planners())))
    sim(batch)
    batch.edge_type[-1] = PERSON_TO_SCENE  # the same tensor, another value (was SCENE_TO_PERSON)
    with pytest.raises(ValueError, match="edge_type was changed in place after the plan was built"):
        sim(batch)
