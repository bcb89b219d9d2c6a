r"""Synthetic collective activity scenes, in the spirit of the Collective Activity Dataset (Choi et al. 2009).

Every scene has one collective activity among :data:`ACTIVITIES` (crossing, waiting,
queueing, walking, talking), performed by a group of 2-12 persons, plus (sometimes) a
few unrelated passers-by. As in the real dataset, a person's action label is the
activity they take part in, so the group's members carry the scene's label and a
passer-by carries another one.

Each person is seen through noisy features (``person_x``, :data:`PERSON_FEATURES`):

* position ``x, y`` relative to the centroid of all persons of the scene (camera
  centred on the scene);
* velocity ``vx, vy``: crossing and walking groups move (speed about 1), the others
  stand (about 0.15). A crossing group moves together across the street (a shared
  heading near :math:`\pm 90°`), a walking group along it (near 0° or 180°); each
  person's heading deviates from the group's by :math:`\mathcal{N}(0, 0.7^2)` rad, so
  one person's velocity is an unreliable cue while the group's mean is a good one;
* facing ``cos, sin``: movers face their heading; a queue faces one shared direction
  (the queue's axis), talkers face the centre of their circle, waiters face anywhere;
* five appearance scores: ``signal`` on the person's own action plus
  :math:`\mathcal{N}(0, \text{noise}^2)` on all five, so appearance alone is weak
  (``noise = 1.5`` by default).

Arrangement: a queue stands on a line along its facing direction (spacing 0.5), talkers
on a circle of radius 0.5, waiters scattered (spread 1), movers in a loose cluster
(spread 0.6); passers-by stand anywhere in a 6 x 6 field, with their own action (drawn
uniformly among the other activities) and their own, independent motion and facing.
With ``second_group_probability`` (0.5 by default) a scene of 5 or more group members
holds a second, smaller group (2 or more persons) doing another activity 2.5 away from
the first: the scene's label is the main group's activity, the second group's members
carry their own. Listening to every other person alike then misleads the second group
(and the scene); which relations to trust depends on who is talking to whom — what the
SIM's gates, which see both the message and the receiver's current belief, can learn.

The scene features ``scene_x`` (:data:`SCENE_FEATURES`) are a weak global cue: the scene's
activity scored like a person's appearance, with ``scene_signal`` and the same noise,
plus the number of persons / 12.

So a person is often ambiguous alone (stationary actions differ only by their weak
appearance and by where the others stand and look), while the group agrees: averaging
the members' evidence, and ignoring passers-by, is what relational models can exploit.

Distractors (``distractors=(lo, hi)``, off by default; :data:`DISTRACTORS` is the preset of
the README's table): each scene gets a number of distractors drawn uniformly from
``lo..hi``, so their share of the persons varies from scene to scene. All distractors of a
scene take one decoy activity (drawn uniformly among the activities other than the
scene's) and look like persons doing it: their appearance, velocity and facing are drawn
exactly as for a group of the decoy activity (the same ``signal`` and ``noise``), and their
action label is the decoy activity. Only where they stand gives them away: they are
scattered over the 6 x 6 field like passers-by instead of standing together. When they
outnumber the main group, the persons' plurality evidence names the decoy, so a model
that averages every sender alike is misled in exactly the scenes where there are many of
them, which is what a gate that can switch senders off should fix.

Each scene graph also holds ``passer_by``, ``second_group`` and ``distractor`` (bool ``[K]``) for analysis.
Fully determined by the ``torch.Generator`` passed in.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphrnn.data import scene_graph

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "DISTRACTORS",
    "PERSON_FEATURES",
    "SCENE_FEATURES",
    "collective_activity_dataset",
    "split_collective_activity",
    "split_collective_activity_with_validation",
]

ACTIVITIES = ("crossing", "waiting", "queueing", "walking", "talking")
#: A person's action is the collective activity they take part in (as in the Collective Activity Dataset).
ACTIONS = ACTIVITIES
CROSSING, WAITING, QUEUEING, WALKING, TALKING = range(5)
MOVING = (CROSSING, WALKING)
PERSON_FEATURES = ("x", "y", "vx", "vy", "facing_cos", "facing_sin") + tuple(f"looks_{a}" for a in ACTIVITIES)
SCENE_FEATURES = tuple(f"scene_looks_{a}" for a in ACTIVITIES) + ("persons_over_12",)

_HEADING_NOISE = 0.7
_SECOND_GROUP_DISTANCE = 2.5
_SPREAD = {CROSSING: 0.6, WALKING: 0.6, WAITING: 1.0}
#: The distractor preset of the README's gated-vs-ungated table: 1 to 8 distractors per scene.
DISTRACTORS = (1, 8)


def collective_activity_dataset(num_scenes: int, generator: torch.Generator, min_persons: int = 2,
                                max_persons: int = 12, passer_by_probability: float = 0.4,
                                second_group_probability: float = 0.5, noise: float = 1.5, signal: float = 1.0,
                                scene_signal: float = 0.6,
                                distractors: Optional[Sequence[int]] = None) -> List[Data]:
    """``num_scenes`` scene graphs (see the module documentation for how they are made).

    Args:
        num_scenes (int): number of scenes.
        generator (torch.Generator): the only source of randomness.
        min_persons / max_persons (int): persons per scene, passers-by included (2-12 by default).
        passer_by_probability (float): chance that a scene has passers-by (1 or 2, while the
            group keeps at least 2 members).
        second_group_probability (float): chance that a scene with 5 or more group members
            splits them into a main group and a smaller second group with another activity.
        noise (float): standard deviation of the appearance noise.
        signal (float): appearance score of a person's own action.
        scene_signal (float): score of the scene's activity in ``scene_x``.
        distractors (pair of int, optional): ``(lo, hi)``: every scene gets ``lo..hi``
            distractors (uniformly), on top of its ``min_persons..max_persons`` persons; see the
            module documentation. ``None`` (default): none, and the scenes are those of earlier versions.

    Returns:
        list of :func:`~graphrnn.data.scene_graph` with ``person_x`` ``[K, 11]``, ``scene_x``
        ``[1, 6]``, ``person_y``, ``scene_y``, ``passer_by``, ``second_group`` and ``distractor``.

    Raises:
        ValueError: for sizes, probabilities or distractor counts out of range.
    """
    if num_scenes < 1 or not 2 <= min_persons <= max_persons:
        raise ValueError(f"need num_scenes >= 1 and 2 <= min_persons <= max_persons, got {num_scenes}, "
                         f"{min_persons}, {max_persons}")
    if not (0.0 <= passer_by_probability <= 1.0 and 0.0 <= second_group_probability <= 1.0) or noise < 0:
        raise ValueError(f"passer_by_probability and second_group_probability must be in [0, 1] and noise >= 0, "
                         f"got {passer_by_probability}, {second_group_probability}, {noise}")
    distractors = _check_distractors(distractors)
    return [_scene(generator, min_persons, max_persons, passer_by_probability, second_group_probability, noise,
                   signal, scene_signal, distractors) for _ in range(num_scenes)]


def split_collective_activity(train_size: int, test_size: int, seed: int, **options) -> tuple:
    """``(train, test)`` scenes from two generators seeded from ``seed`` (options as in the dataset function)."""
    train = collective_activity_dataset(train_size, torch.Generator().manual_seed(2 * seed), **options)
    test = collective_activity_dataset(test_size, torch.Generator().manual_seed(2 * seed + 1), **options)
    return train, test


def split_collective_activity_with_validation(train_size: int, test_size: int, seed: int,
                                              validation_fraction: float = 0.15, **options) -> tuple:
    """``(train, validation, test)``: the scenes of :func:`split_collective_activity` (the same for the same
    seed), with a seeded ``validation_fraction`` of the training scenes held out to choose epochs and
    checkpoints, so that test is read once. The test scenes come from their own generator."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must lie in (0, 1), got {validation_fraction}")
    train, test = split_collective_activity(train_size, test_size, seed, **options)
    cut = int(round(len(train) * validation_fraction))
    if not 1 <= cut < len(train):
        raise ValueError(f"validation_fraction={validation_fraction} of {len(train)} training scenes leaves "
                         f"{cut} for validation and {len(train) - cut} for training; both need at least one: "
                         "use more training scenes")
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(1_000_003 + seed)).tolist()
    return [train[i] for i in order[cut:]], [train[i] for i in order[:cut]], test


def _check_distractors(distractors: Optional[Sequence[int]]) -> Optional[Tuple[int, int]]:
    if distractors is None:
        return None
    if (not isinstance(distractors, (tuple, list)) or len(distractors) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in distractors)
            or not 0 <= distractors[0] <= distractors[1]):
        raise ValueError(f"distractors must be a pair of integers (lo, hi) with 0 <= lo <= hi (each scene gets "
                         f"lo..hi distractors), or None; got {distractors!r}")
    return int(distractors[0]), int(distractors[1])


# ---------------------------------------------------------------------- one scene
def _scene(generator: torch.Generator, min_persons: int, max_persons: int, passer_by_probability: float,
           second_group_probability: float, noise: float, signal: float, scene_signal: float,
           distractors: Optional[Tuple[int, int]]) -> Data:
    activity = _randint(generator, 0, len(ACTIVITIES))
    total = _randint(generator, min_persons, max_persons + 1)
    passers = 0
    if total >= 3 and _uniform(generator, 1)[0] < passer_by_probability:
        passers = min(_randint(generator, 1, 3), total - 2)
    members = total - passers
    second = 0
    if members >= 5 and _uniform(generator, 1)[0] < second_group_probability:
        second = _randint(generator, 2, (members - 1) // 2 + 1)  # always smaller than the main group
    main = members - second
    position, velocity, facing = _group(activity, main, generator)
    actions = [activity] * main
    if second:
        other = (activity + _randint(generator, 1, len(ACTIVITIES))) % len(ACTIVITIES)
        p, v, f = _group(other, second, generator)
        p = p + _SECOND_GROUP_DISTANCE * _unit(2 * math.pi * _uniform(generator, 1))
        position, velocity, facing = torch.cat([position, p]), torch.cat([velocity, v]), torch.cat([facing, f])
        actions += [other] * second
    for _ in range(passers):
        action = (activity + _randint(generator, 1, len(ACTIVITIES))) % len(ACTIVITIES)
        p, v, f = _passer_by(action, generator)
        position, velocity, facing = torch.cat([position, p]), torch.cat([velocity, v]), torch.cat([facing, f])
        actions.append(action)
    decoys = 0
    if distractors is not None:
        decoys = _randint(generator, distractors[0], distractors[1] + 1)
    if decoys:
        decoy = (activity + _randint(generator, 1, len(ACTIVITIES))) % len(ACTIVITIES)
        _, v, f = _group(decoy, decoys, generator)  # the decoy activity's motion and facing
        p = 6.0 * _uniform(generator, 2 * decoys).view(decoys, 2) - 3.0  # scattered, like passers-by
        position, velocity, facing = torch.cat([position, p]), torch.cat([velocity, v]), torch.cat([facing, f])
        actions += [decoy] * decoys
    labels = torch.tensor(actions)
    known, total = total, total + decoys
    order = torch.randperm(total, generator=generator)  # passers-by and distractors anywhere in the list
    position, velocity, facing, labels = position[order], velocity[order], facing[order], labels[order]
    position = position - position.mean(0, keepdim=True)
    appearance = signal * torch.nn.functional.one_hot(labels, len(ACTIVITIES)).float() \
        + noise * torch.randn(total, len(ACTIVITIES), generator=generator)
    scene_looks = scene_signal * torch.nn.functional.one_hot(torch.tensor(activity), len(ACTIVITIES)).float() \
        + noise * torch.randn(len(ACTIVITIES), generator=generator)
    person_x = torch.cat([position, velocity, facing, appearance], dim=1)
    scene_x = torch.cat([scene_looks, torch.tensor([total / 12.0])])
    data = scene_graph(person_x, scene_x, person_y=labels, scene_y=activity)
    data.passer_by = (order >= members) & (order < known)
    data.second_group = (order >= main) & (order < members)
    data.distractor = order >= known
    return data


def _group(activity: int, members: int, generator: torch.Generator):
    """Positions, velocities and facing (unit vectors) of a group doing ``activity`` together."""
    if activity in MOVING:
        base = math.pi / 2 if activity == CROSSING else 0.0
        group_heading = base + math.pi * _randint(generator, 0, 2)
        heading = group_heading + _HEADING_NOISE * torch.randn(members, generator=generator)
        speed = 1.0 + 0.3 * torch.randn(members, generator=generator)
        position = _SPREAD[activity] * torch.randn(members, 2, generator=generator)
        return position, speed[:, None] * _unit(heading), _unit(heading)
    velocity = 0.15 * torch.randn(members, 2, generator=generator)
    if activity == QUEUEING:
        axis = 2 * math.pi * _uniform(generator, 1)
        along = 0.5 * torch.arange(members, dtype=torch.float) + 0.05 * torch.randn(members, generator=generator)
        position = along[:, None] * _unit(axis) + 0.1 * torch.randn(members, 2, generator=generator)
        facing = _unit(axis + 0.2 * torch.randn(members, generator=generator))
    elif activity == TALKING:
        angle = 2 * math.pi * (torch.arange(members) / members + 0.1 * _uniform(generator, members))
        position = 0.5 * _unit(angle)
        facing = _unit(angle + math.pi + 0.3 * torch.randn(members, generator=generator))
    else:  # waiting
        position = _SPREAD[WAITING] * torch.randn(members, 2, generator=generator)
        facing = _unit(2 * math.pi * _uniform(generator, members))
    return position, velocity, facing


def _passer_by(action: int, generator: torch.Generator):
    """One unrelated person with ``action``: anywhere in the field, own motion and facing."""
    position = 6.0 * _uniform(generator, 2).view(1, 2) - 3.0
    heading = 2 * math.pi * _uniform(generator, 1)
    if action in MOVING:
        return position, (1.0 + 0.3 * torch.randn(1, generator=generator))[:, None] * _unit(heading), _unit(heading)
    return position, 0.15 * torch.randn(1, 2, generator=generator), _unit(heading)


def _unit(angle: Tensor) -> Tensor:
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1).view(-1, 2)


def _uniform(generator: torch.Generator, n: int) -> Tensor:
    return torch.rand(n, generator=generator)


def _randint(generator: torch.Generator, low: int, high: int) -> int:
    return int(torch.randint(low, high, (1,), generator=generator))
