"""Volleyball annotation reader: a sample written here, errors, and the real files under $GRAPHRNN_DATA."""
import os
from pathlib import Path

import pytest
import torch

from graphrnn.data import DataLoader
from graphrnn.datasets.text import DataFormatError
from graphrnn.datasets.volleyball import (
    ACTIONS,
    ACTIVITIES,
    normalize_label,
    player_features,
    read_annotations,
    volleyball_scenes,
)

SAMPLE = (
    "100.jpg r_spike 10 20 5 10 standing 30 20 5 10 spiking 50 25 5 10 blocking\n"
    "\n"
    "200.jpg r-spike 12 22 6 12 moving 40 30 6 12 waiting\n"
    "300.jpg l-pass 5 5 4 8 digging 9 5 4 8 falling 20 6 4 8 jumping 30 6 4 8 setting\n"
)


def write(root: Path, video: str, text: str) -> Path:
    path = root / "videos" / video / "annotations.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_reads_sample_and_unifies_spellings(tmp_path):
    frames = read_annotations(write(tmp_path, "3", SAMPLE))
    assert [f.frame for f in frames] == [100, 200, 300]
    assert frames[0].activity == frames[1].activity == ACTIVITIES.index("r_spike")
    assert frames[2].activity == ACTIVITIES.index("l_pass")
    assert [ACTIONS[a] for a in frames[0].actions] == ["standing", "spiking", "blocking"]
    torch.testing.assert_close(frames[1].boxes, torch.tensor([[12.0, 22, 6, 12], [40, 30, 6, 12]]))
    assert frames[0].video == "3"
    assert normalize_label(" R-Spike ") == "r_spike"


def test_scenes_and_geometric_features(tmp_path):
    write(tmp_path, "3", SAMPLE)
    write(tmp_path, "11", SAMPLE.splitlines()[0] + "\n")
    scenes = volleyball_scenes(tmp_path)
    assert len(scenes) == 4 and [s.person_x.size(0) for s in scenes] == [3, 2, 4, 3]
    assert int(scenes[-1].frame) == 100  # video 11 after video 3 (numeric order)
    assert len(volleyball_scenes(tmp_path, videos=["11"])) == 1
    first = scenes[0]
    assert first.edge_index.size(1) == 3 * 2 + 2 * 3
    person_x, scene_x = player_features(torch.tensor([[10.0, 20, 5, 10], [30, 20, 5, 10], [50, 25, 5, 10]]))
    torch.testing.assert_close(first.person_x, person_x)
    # centres (12.5, 25), (32.5, 25), (52.5, 30); unit = median height 10
    torch.testing.assert_close(person_x[:, 0], torch.tensor([-2.0, 0.0, 2.0]) / 10)
    torch.testing.assert_close(person_x[:, 4], torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(scene_x, torch.tensor([3 / 12, 0.4, 0.05, 1.0, 1 / 3]))
    # scale-free: the same frame at twice the resolution has the same features
    torch.testing.assert_close(player_features(2 * torch.tensor([[10.0, 20, 5, 10], [30, 20, 5, 10]]))[0],
                               player_features(torch.tensor([[10.0, 20, 5, 10], [30, 20, 5, 10]]))[0])
    batch = next(iter(DataLoader(scenes, batch_size=4)))
    assert batch.person_y.numel() == 12 and batch.scene_y.tolist()[0] == ACTIVITIES.index("r_spike")


@pytest.mark.parametrize("line, message", [
    ("1.jpg r_set 1 2 3 standing\n", "groups of 'x y w h action', got 6 fields"),
    ("1.jpg r_set\n", "frame 1.jpg has no players"),
    ("1.jpg r_kick 1 2 3 4 standing\n", "unknown group activity 'r_kick'"),
    ("1.jpg r_set 1 2 3 4 sitting\n", "unknown action 'sitting'"),
    ("1.jpg r_set 1 2 x 4 standing\n", "must be numbers"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "1", SAMPLE.splitlines()[0] + "\n" + line)
    with pytest.raises(ValueError, match=message) as error:
        read_annotations(path)
    assert f"{path}:2" in str(error.value)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="annotations.txt"):
        read_annotations(tmp_path / "nope" / "annotations.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no <id>/annotations.txt"):
        volleyball_scenes(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"boxes must have shape \[K >= 1, 4\]"):
        player_features(torch.zeros(0, 4))


REAL = Path(os.environ.get("GRAPHRNN_DATA", "")) / "volleyball"


@pytest.mark.skipif(not (REAL / "videos").is_dir(), reason="needs $GRAPHRNN_DATA/volleyball")
def test_real_annotations():
    scenes = volleyball_scenes(REAL)
    lines = sum(len([x for x in (REAL / "videos" / v / "annotations.txt").read_text().splitlines() if x.strip()])
                for v in ("7", "10"))
    assert len(scenes) == lines
    labels = torch.cat([s.scene_y for s in scenes])
    assert set(labels.tolist()) == set(range(len(ACTIVITIES)))  # both spellings of r_spike land on one id
    assert all(1 <= s.person_x.size(0) <= 12 for s in scenes)
    assert all(torch.isfinite(s.person_x).all() for s in scenes)
    simple = volleyball_scenes(REAL / "simple")
    assert len(simple) == 4


@pytest.mark.parametrize("box, shown", [("1 2 nan 4", "'nan'"), ("1 2 inf 4", "'inf'"), ("1 2 -3 4", "'-3'"),
                                        ("1 2 3 -0.5", "'-0.5'")])
def test_non_finite_or_negative_boxes_raise(tmp_path, box, shown):
    # before: read silently, then NaN features (or a negative size) reached the model
    path = write(tmp_path, "1", SAMPLE.splitlines()[0] + "\n" + f"1.jpg r_set 5 5 4 8 waiting {box} standing\n")
    message = f"{path}:2: player 2 has the box .*{shown}.*finite numbers with w, h >= 0"
    with pytest.raises(DataFormatError, match=message):
        read_annotations(path)


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    # before: a raw UnicodeDecodeError (a traceback on the command line)
    path = write(tmp_path, "1", "")
    path.write_bytes(SAMPLE.splitlines()[0].encode() + b"\n1.jpg r_set 1 2 3 4 caf\xe9\n")
    with pytest.raises(DataFormatError, match=f"{path}:2: byte 0xe9 is not UTF-8"):
        read_annotations(path)


def _scene_values(root: Path):
    return [(g.person_x.tolist(), g.scene_x.tolist(), g.person_y.tolist(), g.scene_y.tolist(), g.frame.tolist())
            for g in volleyball_scenes(root)]


@pytest.mark.parametrize("variant", ["crlf and mark", "old Mac cr", "trailing spaces and tabs", "upper case, .JPG, "
                                     "tabs", "extra files, symlinked video"])
def test_harmless_variants_give_the_plain_scenes(tmp_path, variant):
    write(tmp_path / "plain", "3", SAMPLE)
    lines = SAMPLE.splitlines()
    text = {"crlf and mark": "\ufeff" + "\r\n".join(lines) + "\r\n\r\n", "old Mac cr": "\r".join(lines) + "\r",
            "trailing spaces and tabs": "".join(line + " \t \n" for line in lines),
            "upper case, .JPG, tabs": SAMPLE.upper().replace(" ", "\t")}.get(variant, SAMPLE)
    root = tmp_path / "my volleyball"
    if variant.startswith("extra files"):
        (root / "videos").mkdir(parents=True)
        (root / "videos" / "3").symlink_to(tmp_path / "plain" / "videos" / "3")
        (root / "README.txt").write_text("unrelated")
        (root / "videos" / ".DS_Store").write_text("unrelated")
        (root / "videos" / "3" / "notes.txt").write_text("unrelated")
    else:
        (root / "videos" / "3").mkdir(parents=True)
        (root / "videos" / "3" / "annotations.txt").write_bytes(text.encode("utf-8"))
    assert _scene_values(root) == _scene_values(tmp_path / "plain")
