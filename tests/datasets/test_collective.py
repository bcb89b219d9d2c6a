"""Synthetic collective-activity scenes: determinism, structure, labels, and that the group disambiguates."""
import pytest
import torch

from graphrnn.datasets.collective import (
    ACTIVITIES,
    DISTRACTORS,
    PERSON_FEATURES,
    SCENE_FEATURES,
    collective_activity_dataset,
    split_collective_activity,
    split_collective_activity_with_validation,
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
    for bad in ((3, 1), (-1, 2), (1,), (1.0, 2), "1-8"):
        with pytest.raises(ValueError, match=r"distractors must be a pair of integers \(lo, hi\)"):
            generate(0, n=2, distractors=bad)
    with pytest.raises(ValueError, match=r"validation_fraction must lie in \(0, 1\)"):
        split_collective_activity_with_validation(10, 5, 0, validation_fraction=1.0)
    with pytest.raises(ValueError, match="use more training scenes"):
        split_collective_activity_with_validation(3, 5, 0, validation_fraction=0.1)


def _key(scene):
    return (tuple(scene.person_x.flatten().tolist()), tuple(scene.scene_x.flatten().tolist()))


def test_validation_is_cut_from_train_disjoint_from_both_and_seeded():
    train, validation, test = split_collective_activity_with_validation(40, 20, seed=5)
    assert (len(train), len(validation), len(test)) == (34, 6, 20)
    full_train, full_test = split_collective_activity(40, 20, seed=5)
    keys = {name: {_key(s) for s in scenes} for name, scenes in
            (("train", train), ("validation", validation), ("test", test))}
    assert keys["train"] | keys["validation"] == {_key(s) for s in full_train}
    assert not keys["train"] & keys["validation"] and not keys["test"] & (keys["train"] | keys["validation"])
    assert keys["test"] == {_key(s) for s in full_test}
    again = split_collective_activity_with_validation(40, 20, seed=5)[1]
    assert [_key(s) for s in again] == [_key(s) for s in validation]
    other = split_collective_activity_with_validation(40, 20, seed=6)[1]
    assert {_key(s) for s in other} != keys["validation"]


def test_distractors_off_by_default_leave_the_scenes_unchanged():
    plain, explicit = generate(7, n=30), generate(7, n=30, distractors=None)
    assert all(torch.equal(a.person_x, b.person_x) for a, b in zip(plain, explicit))
    assert not any(bool(s.distractor.any()) for s in plain)


def test_distractor_counts_vary_by_scene_within_bounds():
    scenes = generate(8, n=400, distractors=(2, 6))
    counts = torch.tensor([int(s.distractor.sum()) for s in scenes])
    assert set(counts.tolist()) == {2, 3, 4, 5, 6}
    assert torch.bincount(counts, minlength=7)[2:].min() > 40  # uniform: 80 expected per value
    for s in scenes:
        others = ~s.distractor
        assert 2 <= int(others.sum()) <= 12 and s.person_x.size(0) == int(others.sum()) + int(s.distractor.sum())
        assert not bool((s.distractor & (s.passer_by | s.second_group)).any())
    assert DISTRACTORS[0] >= 1 and DISTRACTORS[1] > DISTRACTORS[0]


def test_distractors_are_drawn_from_another_activitys_distribution():
    """Distractors carry one decoy activity per scene, never the scene's; their appearance is that activity's
    signal plus N(0, 1.5^2) noise and their speed that of a group doing it (checked against the main groups
    doing the same activity), but they stand scattered."""
    scenes = generate(9, n=600, distractors=(1, 8), passer_by_probability=0.0, second_group_probability=0.0)
    appearance = slice(6, 11)
    residuals, speed, spread = [], {a: ([], []) for a in range(5)}, ([], [])
    for s in scenes:
        decoys, members = s.distractor, ~s.distractor
        labels = s.person_y[decoys]
        assert labels.unique().numel() == 1 and int(labels[0]) != int(s.scene_y)
        residuals.append(s.person_x[decoys][:, appearance] - torch.nn.functional.one_hot(labels, 5))
        for group, mask in enumerate((decoys, members)):
            speed[int(s.person_y[mask][0])][group].append(s.person_x[mask, 2:4].norm(dim=1))
        positions = s.person_x[:, :2]
        spread[0].append(positions[decoys].std(0).mean() if int(decoys.sum()) > 1 else None)
        spread[1].append(positions[members].std(0).mean())
    residual = torch.cat(residuals)
    assert residual.mean().abs() < 0.05 and abs(float(residual.std()) - 1.5) < 0.05
    for activity, (decoy, member) in speed.items():
        decoy, member = torch.cat(decoy).mean(), torch.cat(member).mean()
        assert abs(float(decoy - member)) < 0.08, (activity, decoy, member)
    assert (torch.cat(speed[0][0]).mean() > 0.8) and (torch.cat(speed[1][0]).mean() < 0.3)
    scattered = torch.stack([v for v in spread[0] if v is not None]).mean()
    assert scattered > 1.5 * torch.stack(spread[1]).mean()
