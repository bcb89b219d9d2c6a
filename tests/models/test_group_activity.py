"""Group activity models: the unary MLP baseline, the loss over iterations, metrics and label checks."""
import pytest
import torch
from torch.nn.functional import cross_entropy

from graphrnn.data import DataLoader, scene_graph
from graphrnn.models.group_activity import UnaryMLP, group_activity_loss, group_activity_metrics
from graphrnn.nn import StructureInferenceMachine


def scenes(generator, sizes=(2, 4), num_actions=3, num_activities=4):
    graphs = [scene_graph(torch.randn(k, 3, generator=generator), torch.randn(2, generator=generator),
                          person_y=torch.randint(0, num_actions, (k,), generator=generator),
                          scene_y=int(torch.randint(0, num_activities, (1,), generator=generator)))
              for k in sizes]
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def test_mlp_is_the_sims_unary_part():
    generator = torch.Generator().manual_seed(0)
    batch = scenes(generator)
    torch.manual_seed(0)
    mlp = UnaryMLP(3, 2, 8, 3, 4)
    sim = StructureInferenceMachine(3, 2, 8, 3, 4)
    sim.unary.load_state_dict(mlp.unary.state_dict())
    [(actions, activities)] = mlp(batch)
    assert actions.shape == (6, 3) and activities.shape == (2, 4)
    expected = torch.relu(batch.scene_x @ mlp.unary.scene_proj.weight.T + mlp.unary.scene_proj.bias)
    torch.testing.assert_close(activities, mlp.unary.scene_head(expected))
    _, _, sim_actions, sim_activities = sim.unary(batch.person_x, batch.scene_x)
    torch.testing.assert_close(actions, sim_actions)
    torch.testing.assert_close(activities, sim_activities)
    before = mlp.unary.person_head.weight.detach().clone()
    mlp.reset_parameters()
    assert not torch.equal(before, mlp.unary.person_head.weight)


def test_loss_sums_iterations_with_weights():
    generator = torch.Generator().manual_seed(1)
    batch = scenes(generator)
    outputs = [(torch.randn(6, 3, generator=generator), torch.randn(2, 4, generator=generator)) for _ in range(3)]
    terms = [cross_entropy(a, batch.person_y) + 0.5 * cross_entropy(c, batch.scene_y) for a, c in outputs]
    loss = group_activity_loss(outputs, batch, activity_weight=0.5, iteration_weights=[0.2, 0.3, 1.0])
    torch.testing.assert_close(loss, 0.2 * terms[0] + 0.3 * terms[1] + terms[2])
    torch.testing.assert_close(group_activity_loss(outputs, batch, activity_weight=0.5), sum(terms))
    with pytest.raises(ValueError, match="iteration_weights has 2 entries for 3 iterations"):
        group_activity_loss(outputs, batch, iteration_weights=[1.0, 1.0])


def test_metrics_are_sums_over_the_batch():
    generator = torch.Generator().manual_seed(2)
    batch = scenes(generator)
    actions = torch.nn.functional.one_hot(batch.person_y, 3).float()
    actions[0] = actions[0].flip(0) if batch.person_y[0] != 1 else torch.tensor([1.0, 0.0, 0.0])
    activities = torch.nn.functional.one_hot(batch.scene_y, 4).float()
    metrics = group_activity_metrics([(actions, activities)], batch)
    assert metrics["scene_accuracy"].item() == 2 and metrics["count"].item() == 2
    assert metrics["action_hits"].item() == 5 and metrics["persons"].item() == 6


def test_label_errors():
    generator = torch.Generator().manual_seed(3)
    batch = scenes(generator, num_actions=3, num_activities=4)
    outputs = [(torch.randn(6, 2), torch.randn(2, 4))]  # a model with only 2 actions
    if int(batch.person_y.max()) < 2:
        batch.person_y[0] = 2
    with pytest.raises(ValueError, match=r"person_y must lie in \[0, 2\)"):
        group_activity_loss(outputs, batch)
    batch.scene_y[0] = -1
    with pytest.raises(ValueError, match=r"scene_y must lie in \[0, 4\)"):
        group_activity_metrics([(torch.randn(6, 3), torch.randn(2, 4))], batch)
    del batch.scene_y
    with pytest.raises(ValueError, match="the batch has no scene_y"):
        group_activity_loss([(torch.randn(6, 3), torch.randn(2, 4))], batch)
    with pytest.raises(ValueError, match="has 6 labels for 5 predictions"):
        group_activity_loss([(torch.randn(5, 3), torch.randn(2, 4))], scenes(generator))


def test_training_step_reduces_loss():
    generator = torch.Generator().manual_seed(4)
    batch = scenes(generator, sizes=(3, 2, 5))
    torch.manual_seed(0)
    model = StructureInferenceMachine(3, 2, 8, 3, 4, num_iterations=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = group_activity_loss(model(batch), batch)
    for _ in range(30):
        optimizer.zero_grad()
        group_activity_loss(model(batch), batch).backward()
        optimizer.step()
    assert group_activity_loss(model(batch), batch) < 0.5 * first
