"""From training to use: graphrnn train on your own files, then graphrnn predict and graphrnn.load (issue 16).

One small mixer run (600 pairs of a toy language: the words reversed and upper-cased) and one
small DRNN run are shared by the tests; the command line is run as a real process once per task.
"""
import contextlib
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import graphrnn
from graphrnn.cli import main
from graphrnn.datasets.tree_tsv import format_bracketed, parse_bracketed

ROOT = Path(__file__).resolve().parents[1]
WORDS = "red blue cat dog sees eats big small the a runs fast".split()
LINES = ["red cat sees", "the big dog eats a cat", "blue runs fast"]


def toy_pairs(path: Path, count: int = 600, seed: int = 0) -> Path:
    """``count`` lines ``source<TAB>target<TAB>attribution``: the target is the source reversed and upper-cased."""
    draw = random.Random(seed)
    with open(path, "w", encoding="utf-8") as stream:
        for _ in range(count):
            words = [draw.choice(WORDS) for _ in range(draw.randint(3, 6))]
            stream.write(f"{' '.join(words)}\t{' '.join(w.upper() for w in reversed(words))}\tCC-BY 2.0\n")
    return path


def toy_trees(path: Path, count: int = 80) -> Path:
    from graphrnn.datasets.synthetic_trees import generate_dataset

    examples = generate_dataset(0, sizes=(count, 0, 0))["train"]
    path.write_text("".join(f"{' '.join(e.source)}\t{format_bracketed(e.labels, e.parents)}\n" for e in examples),
                    encoding="utf-8")
    return path


def graphrnn_command(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
    return subprocess.run([sys.executable, "-m", "graphrnn", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=environment)


@pytest.fixture(scope="module")
def mixer_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixer")
    pairs = toy_pairs(folder / "pairs.tsv")
    out = folder / "OUT"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", "mixer", "--task", "translation", "--data", str(pairs), "--source", "xx", "--target",
                     "yy", "--quick", "--methods", "xent", "--out", str(out), "--epochs", "1", "--hidden", "16",
                     "--device", "cpu"]) == 0
    (out / "printed.txt").write_text(printed.getvalue(), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def drnn_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drnn")
    out = folder / "OUT"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["train", "drnn", "--data", str(toy_trees(folder / "trees.tsv")), "--epochs", "1", "--hidden",
                     "8", "--out", str(out), "--device", "cpu"]) == 0
    (out / "printed.txt").write_text(printed.getvalue(), encoding="utf-8")
    return out / "model"


def test_train_drnn_on_a_tsv_states_the_cut_once_and_prints_the_rules(drnn_out):
    printed = (drnn_out.parent / "printed.txt").read_text(encoding="utf-8")
    assert printed.count("holds one split of") == 1, printed
    assert "| flat rule (all under ROOT) |" in printed and "| chain rule (each under the previous) |" in printed


def test_train_mixer_on_a_tsv_states_the_cut_and_saves_best_pt(mixer_out):
    printed = (mixer_out / "printed.txt").read_text(encoding="utf-8")
    assert "no test split in" in printed and "cut 60 of the 600 training pairs at random (seed 0)" in printed
    assert "no val split in" in printed and "486 train / 54 val / 60 test pairs" in printed
    assert "| trivial: copy the source |" in printed and "| XENT |" in printed and "| oracle: " in printed
    assert f"best on validation: XENT, saved as {mixer_out / 'best.pt'}" in printed
    assert (mixer_out / "best.pt").is_file() and (mixer_out / "xent" / "best.pt").is_file()
    history = [json.loads(line) for line in (mixer_out / "xent" / "metrics.jsonl").read_text().splitlines()]
    assert history and all("val_score" in h for h in history)


def test_predict_mixer_answers_three_stdin_lines_and_load_gives_the_same(mixer_out):
    done = graphrnn_command("predict", "mixer", "--checkpoint", str(mixer_out / "best.pt"), stdin="\n".join(LINES))
    assert done.returncode == 0, done.stderr
    answers = done.stdout.splitlines()
    assert len(answers) == 3
    assert all(word.isupper() for line in answers for word in line.split())  # the toy language's vocabulary
    model = graphrnn.load(mixer_out / "best.pt", device="cpu")
    assert model.predict(LINES) == answers
    # batching does not change the answers, and beam search answers every line too
    assert model.predict(LINES, batch_size=1) == answers
    assert len(model.predict(LINES, beam=3)) == 3


def test_predict_drnn_answers_each_sentence_with_one_tree(drnn_out, tmp_path):
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("a b c d\nq r\nz\n", encoding="utf-8")
    done = graphrnn_command("predict", "drnn", "--checkpoint", str(drnn_out / "best.pt"), "--input", str(sentences))
    assert done.returncode == 0, done.stderr
    trees = done.stdout.splitlines()
    assert len(trees) == 3
    for tree in trees:
        labels, parents = parse_bracketed(tree)  # a well-formed bracketed tree
        assert labels[0] == "ROOT" and format_bracketed(labels, parents) == tree
    assert graphrnn.load(drnn_out / "best.pt", device="cpu").predict(["a b c d", "q r", "z"]) == trees


def test_a_checkpoint_of_another_task_gets_a_clear_error(mixer_out, drnn_out, capsys):
    assert main(["predict", "drnn", "--checkpoint", str(mixer_out / "best.pt")]) == 2
    error = capsys.readouterr().err.strip()
    assert "holds a mixer model written by `graphrnn train mixer`, not drnn" in error and "\n" not in error
    assert main(["predict", "sim", "--checkpoint", str(drnn_out / "best.pt")]) == 2
    assert "run `graphrnn predict drnn" in capsys.readouterr().err


def test_bad_input_lines_are_named(mixer_out, tmp_path, capsys):
    inputs = tmp_path / "in.txt"
    inputs.write_text("red cat\n\nblue\n", encoding="utf-8")
    assert main(["predict", "mixer", "--checkpoint", str(mixer_out / "best.pt"), "--input", str(inputs)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"graphrnn predict mixer: error: {inputs}:2: empty input; expected a sentence (one per line)"
    inputs.write_bytes("red\ncaf\xe9\n".encode("latin-1"))
    assert main(["predict", "mixer", "--checkpoint", str(mixer_out / "best.pt"), "--input", str(inputs)]) == 2
    assert f"{inputs}:2: byte 0xe9 is not UTF-8" in capsys.readouterr().err
    assert main(["predict", "mixer", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert f"{tmp_path / 'none.pt'} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    (b"a b\tB A\nno tab here\n", "pairs.tsv:2: expected 'source<TAB>target', found no tab"),
    (b"a b\tB A\n\nc\tC\n", "pairs.tsv:2: empty line"),
    ("a b\tB A\ncaf\xe9\tX\n".encode("latin-1"), "pairs.tsv:2: byte 0xe9 is not UTF-8"),
])
def test_train_on_a_bad_tsv_gives_one_line_naming_the_line(tmp_path, capsys, content, message):
    (tmp_path / "pairs.tsv").write_bytes(content)
    code = main(["train", "mixer", "--task", "translation", "--data", str(tmp_path / "pairs.tsv"), "--quick",
                 "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and message in error and "\n" not in error


def test_train_on_mismatched_files_names_the_line(tmp_path, capsys):
    (tmp_path / "train.xx").write_text("a\nb\nc\n", encoding="utf-8")
    (tmp_path / "train.yy").write_text("A\nB\n", encoding="utf-8")
    code = main(["train", "mixer", "--task", "translation", "--data", str(tmp_path), "--source", "xx", "--target", "yy",
                 "--quick", "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "train.yy:3: the file ends here but train.xx has 3 lines" in error and "\n" not in error


def test_train_drnn_on_a_bad_tree_file_names_the_line(tmp_path, capsys):
    (tmp_path / "trees.tsv").write_text("a b\tROOT ( a b )\nc\tROOT ( c\n", encoding="utf-8")
    assert main(["train", "drnn", "--data", str(tmp_path / "trees.tsv"), "--epochs", "1", "--out",
                 str(tmp_path / "out")]) == 2
    assert "trees.tsv:2: bad tree in column 2: 1 '(' left open" in capsys.readouterr().err


def test_train_sim_on_a_bad_volleyball_file_names_the_line(tmp_path, capsys):
    for video in ("7", "10"):
        folder = tmp_path / "videos" / video
        folder.mkdir(parents=True)
        (folder / "annotations.txt").write_text("1.jpg r_spike 10 10 20 40 spiking\n2.jpg r_set 1 2 3\n",
                                                encoding="utf-8")
    assert main(["train", "sim", "--data", str(tmp_path), "--epochs", "1", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert "videos/7/annotations.txt:2: expected '<frame>.jpg <activity>'" in error and "\n" not in error


def test_inputs_from_windows_and_other_editors_get_the_plain_answers(mixer_out, tmp_path):
    plain, variant = tmp_path / "plain.txt", tmp_path / "from windows.txt"
    plain.write_text("".join(line + "\n" for line in LINES), encoding="utf-8")
    variant.write_bytes(("\ufeff" + "".join(line + " \t\r\n" for line in LINES) + "\r\n").encode("utf-8"))
    answers = []
    for path in (plain, variant):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["predict", "mixer", "--checkpoint", str(mixer_out / "best.pt"), "--input", str(path)]) == 0
        answers.append(printed.getvalue())
    assert len(answers[0].splitlines()) == 3 and answers[1] == answers[0]
