r"""The Volleyball dataset's annotations (Ibrahim et al., CVPR 2016) as scene graphs.

Layout: ``<root>/videos/<id>/annotations.txt`` (or ``<root>/<id>/annotations.txt``), one
annotated frame per line::

    {frame}.jpg {group activity} {x} {y} {w} {h} {action} {x} {y} {w} {h} {action} ...

with 8 group activities (:data:`ACTIVITIES`; the files mix ``r_spike`` and ``r-spike``
spellings, unified here to ``_``) and 9 player actions (:data:`ACTIONS`). No images are
read: each frame becomes a :func:`~graphrnn.data.scene_graph` whose features are
geometric, computed from the boxes only (:func:`player_features`). The root defaults
to ``$GRAPHRNN_DATA/volleyball``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from graphrnn.data import scene_graph
from graphrnn.datasets.multi30k import data_directory
from graphrnn.datasets.text import DataFormatError, read_lines

__all__ = [
    "ACTIONS",
    "ACTIVITIES",
    "PERSON_FEATURES",
    "SCENE_FEATURES",
    "VolleyballFrame",
    "annotation_files",
    "normalize_label",
    "player_features",
    "read_annotations",
    "volleyball_scenes",
]

ACTIVITIES = ("r_set", "r_spike", "r_pass", "r_winpoint", "l_winpoint", "l_pass", "l_spike", "l_set")
ACTIONS = ("waiting", "setting", "digging", "falling", "spiking", "blocking", "jumping", "moving", "standing")
PERSON_FEATURES = ("dx", "dy", "width", "height", "spread_x", "spread_y")
SCENE_FEATURES = ("players_over_12", "extent_x", "extent_y", "mean_height", "left_fraction")
_FIELDS_PER_PLAYER = 5


class VolleyballFrame(NamedTuple):
    """One annotated frame: boxes ``[K, 4]`` as ``x, y, w, h`` (pixels) and label ids."""

    video: str
    frame: int
    activity: int
    boxes: Tensor
    actions: Tensor


def normalize_label(label: str) -> str:
    """Lower case with ``-`` spelled ``_`` (``r-spike`` and ``r_spike`` are the same activity)."""
    return label.strip().lower().replace("-", "_")


def _label_id(label: str, names: Tuple[str, ...], kind: str, where: str) -> int:
    name = normalize_label(label)
    if name not in names:
        raise DataFormatError(f"{where}: unknown {kind} {label!r}; expected one of {list(names)}")
    return names.index(name)


def read_annotations(path: os.PathLike, video: Optional[str] = None) -> List[VolleyballFrame]:
    """Parses one ``annotations.txt``.

    Raises:
        FileNotFoundError: if the file is missing.
        DataFormatError: naming the file and line, for a line that is not ``frame activity`` followed
            by groups of ``x y w h action``, a box that is not finite or has a negative size, a frame
            without players, unknown labels, bytes that are not UTF-8, a file without any frame, or a
            frame annotated twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; expected <root>/videos/<id>/annotations.txt")
    video = path.parent.name if video is None else video
    frames = []
    lines = read_lines(path, "one annotated frame ('<frame>.jpg <activity>' then 'x y w h action' per player)")
    seen = {}
    for number, line in enumerate(lines, start=1):
        if line.strip():
            frame = _parse_line(line.split(), video, f"{path}:{number}")
            if frame.frame in seen:  # one frame twice would be weighted twice, or land in training and validation
                raise DataFormatError(f"{path}:{number}: frame {frame.frame} is annotated again (first on line "
                                      f"{seen[frame.frame]}); expected one line per frame: remove one of the two")
            seen[frame.frame] = number
            frames.append(frame)
    if not frames:  # a video without frames would leave its split empty (nothing to train on, or to score)
        raise DataFormatError(f"{path}:1: the file holds no annotated frame; expected one line per frame, "
                              "'<frame>.jpg <activity>' then 'x y w h action' per player")
    return frames


def _parse_line(tokens: List[str], video: str, where: str) -> VolleyballFrame:
    if len(tokens) < 2 or (len(tokens) - 2) % _FIELDS_PER_PLAYER:
        raise DataFormatError(f"{where}: expected '<frame>.jpg <activity>' then groups of 'x y w h action', got "
                         f"{len(tokens)} fields")
    if len(tokens) == 2:
        raise DataFormatError(f"{where}: frame {tokens[0]} has no players; a scene needs at least one person")
    players = [tokens[i:i + _FIELDS_PER_PLAYER] for i in range(2, len(tokens), _FIELDS_PER_PLAYER)]
    try:
        frame = int(Path(tokens[0]).stem)
        boxes = torch.tensor([[float(v) for v in p[:4]] for p in players])
    except ValueError as error:
        raise DataFormatError(f"{where}: frame id and box coordinates must be numbers ({error})") from None
    bad = ~torch.isfinite(boxes).all(1) | (boxes[:, 2:] < 0).any(1)  # nan/inf or a negative width or height
    if bool(bad.any()):
        player = int(bad.nonzero()[0, 0])
        raise DataFormatError(f"{where}: player {player + 1} has the box {players[player][:4]}; x y w h must be finite "
                              "numbers with w, h >= 0")
    actions = torch.tensor([_label_id(p[4], ACTIONS, "action", where) for p in players])
    return VolleyballFrame(video, frame, _label_id(tokens[1], ACTIVITIES, "group activity", where), boxes, actions)


def player_features(boxes: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Scale-free geometric features of one frame's players: ``(person_x [K, 6], scene_x [5])``.

    With box centres :math:`(u_k, v_k)`, the players' mean centre :math:`(\bar u, \bar v)`
    and their median box height :math:`s` (the unit of length), a player has
    ``dx = (u - ū)/s / 10``, ``dy = (v - v̄)/s``, ``width = w/s``, ``height = h/s`` and its
    place within the players' horizontal/vertical extent in ``[0, 1]``; the scene has the
    number of players / 12, the extents / (10 s), the mean height / s and the fraction
    of players left of the mean.
    """
    if boxes.dim() != 2 or boxes.size(1) != 4 or boxes.size(0) == 0:
        raise ValueError(f"boxes must have shape [K >= 1, 4] (x, y, w, h), got {list(boxes.shape)}")
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    scale = boxes[:, 3].median().clamp(min=1.0)
    offset = (centre - centre.mean(0)) / scale
    low, high = centre.min(0).values, centre.max(0).values
    extent = high - low
    spread = (centre - low) / extent.clamp(min=1.0)
    person_x = torch.cat([offset[:, :1] / 10, offset[:, 1:], boxes[:, 2:] / scale, spread], dim=1)
    scene_x = torch.stack([torch.tensor(boxes.size(0) / 12.0), extent[0] / scale / 10, extent[1] / scale / 10,
                           (boxes[:, 3] / scale).mean(), (offset[:, 0] < 0).float().mean()])
    return person_x, scene_x


def annotation_files(directory: Optional[os.PathLike] = None,
                     videos: Optional[Sequence[str]] = None) -> List[Tuple[str, Path]]:
    """``(video id, annotations.txt)`` pairs under ``directory`` (``videos/<id>/`` or ``<id>/``), in id order."""
    root = data_directory("volleyball", directory)
    base = root / "videos" if (root / "videos").is_dir() else root
    if videos is None:
        found = [p.parent.name for p in base.glob("*/annotations.txt")]
        videos = sorted(found, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v))
        if not videos:
            raise FileNotFoundError(f"no <id>/annotations.txt under {base}")
    return [(str(v), base / str(v) / "annotations.txt") for v in videos]


def volleyball_scenes(directory: Optional[os.PathLike] = None, videos: Optional[Sequence[str]] = None) -> List[Data]:
    """Every annotated frame of the given videos (default: all found) as a scene graph.

    Each graph has ``person_x`` ``[K, 6]`` and ``scene_x`` ``[1, 5]`` from :func:`player_features`,
    ``person_y`` (action ids, :data:`ACTIONS`), ``scene_y`` (activity id, :data:`ACTIVITIES`),
    and ``frame`` (the frame id).
    """
    scenes = []
    for video, path in annotation_files(directory, videos):
        for frame in read_annotations(path, video):
            person_x, scene_x = player_features(frame.boxes)
            data = scene_graph(person_x, scene_x, person_y=frame.actions, scene_y=frame.activity)
            data.frame = torch.tensor([frame.frame])
            scenes.append(data)
    return scenes
