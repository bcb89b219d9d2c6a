"""Synthetic collective-activity scenes: determinism, structure, labels, and that the group disambiguates."""
import pytest
import torch

from graphrnn.datasets.collective import (
    ACTIVITIES,
    PERSON_FEATURES,
    SCENE_FEATURES,
    collective_activity_dataset,
    split_collective_activity,
)


def generate(seed, n=60, **options):
    return collective_activity_dataset(n, torch.Generator().manual_seed(seed), **options)


def test_deterministic_per_generator_and_different_across_seeds():
    a, b, c = generate(0), generate(0), generate(1)
    assert all(torch.equal(x.person_x, y.person_x) and torch.equal(x.person_y, y.person_y) for x, y in zip(a, b))
    assert any(x.person_x.shape != y.person_x.shape or not torch.equal(x.person_x, y.person_x) for x, y in zip(a, c))
    train, test = split_collective_activity(5, 5, seed=3)
    assert not torch.equal(train[0].person_x, test[0].person_x) or train[0].person_x.shape != test[0].person_x.shape


def test_structure_and_labels():
    scenes = generate(2, n=200)
    sizes = [s.person_x.size(0) for s in scenes]
    assert min(sizes) >= 2 and max(sizes) <= 12 and len(set(sizes)) > 5
    for s in scenes:
        k = s.person_x.size(0)
        assert s.person_x.shape == (k, len(PERSON_FEATURES)) and s.scene_x.shape == (1, len(SCENE_FEATURES))
        assert s.edge_index.size(1) == k * (k - 1) + 2 * k
        members = ~(s.passer_by | s.second_group)
        assert not bool((s.passer_by & s.second_group).any())
        assert int(members.sum()) >= 2 and int(members.sum()) > int(s.second_group.sum())
        assert bool((s.person_y[members] == s.scene_y).all())
        assert bool((s.person_y[~members] != s.scene_y).all())
        if s.second_group.any():
            assert int(s.second_group.sum()) >= 2 and s.person_y[s.second_group].unique().numel() == 1
        torch.testing.assert_close(s.person_x[:, :2].mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    labels = torch.cat([s.scene_y for s in scenes])
    assert torch.bincount(labels, minlength=len(ACTIVITIES)).min() > 20
    assert 0.2 < sum(bool(s.passer_by.any()) for s in scenes) / len(scenes) < 0.6
    assert 0.15 < sum(bool(s.second_group.any()) for s in scenes) / len(scenes) < 0.6
    assert not any(s.second_group.any() for s in generate(2, n=50, second_group_probability=0.0))


def test_group_evidence_beats_one_person():
    """The members' mean appearance names the activity far more often than one person's appearance."""
    scenes = generate(3, n=400, passer_by_probability=0.0, second_group_probability=0.0)
    appearance = slice(6, 11)
    alone = sum(int(s.person_x[0, appearance].argmax()) == int(s.scene_y) for s in scenes) / len(scenes)
    group = sum(int(s.person_x[:, appearance].mean(0).argmax()) == int(s.scene_y) for s in scenes) / len(scenes)
    assert group > alone + 0.15


def test_moving_groups_move_and_queues_face_one_way():
    scenes = generate(4, n=300, passer_by_probability=0.0, second_group_probability=0.0)
    speed = {a: [] for a in range(len(ACTIVITIES))}
    alignment = {a: [] for a in range(len(ACTIVITIES))}
    for s in scenes:
        speed[int(s.scene_y)].append(s.person_x[:, 2:4].norm(dim=1).mean())
        alignment[int(s.scene_y)].append(s.person_x[:, 4:6].mean(0).norm())
    mean = {a: {k: float(torch.stack(v[a]).mean()) for k, v in (("speed", speed), ("align", alignment))}
            for a in speed}
    assert mean[0]["speed"] > 0.8 and mean[3]["speed"] > 0.8 and mean[1]["speed"] < 0.3
    assert mean[2]["align"] > 0.9 and mean[4]["align"] < 0.5 and mean[1]["align"] < 0.7


def test_bad_arguments():
    with pytest.raises(ValueError, match="2 <= min_persons <= max_persons"):
        generate(0, n=2, min_persons=1)
    with pytest.raises(ValueError, match="passer_by_probability and second_group_probability must be in"):
        generate(0, n=2, passer_by_probability=1.5)
    with pytest.raises(ValueError, match="second_group_probability must be in"):
        generate(0, n=2, second_group_probability=-0.1)
