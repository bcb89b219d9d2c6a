"""The command line as a new user meets it: devices this machine lacks, resumed runs whose seed would
switch the data, error prefixes, a pipe closed by its reader, and the times a resumed run reports."""
import json
import subprocess
import sys

import pytest
import torch
from cli_testing import one_error_line, run_cli

from graphrnn import cli
from graphrnn.cli_checks import BROKEN_PIPE_STATUS, COMMAND_FILE, run_guarded
from graphrnn.tasks import TASKS


@pytest.fixture
def fake_tasks(monkeypatch):
    """Every task's run records the options it got instead of training."""
    seen = []

    def run(args):
        seen.append(dict(vars(args)))
        return "trained"

    for name, task in TASKS.items():
        monkeypatch.setitem(TASKS, name, task._replace(run=run))
    return seen


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has an MPS device")
@pytest.mark.parametrize("command", [["train", "rnn", "--quick"], ["predict", "rnn", "--checkpoint", "x.pt"]])
def test_a_device_this_machine_lacks_fails_before_any_work(capsys, tmp_path, fake_tasks, command):
    # before: `train rnn --device mps` ran, then died with "PyTorch is not linked with support for mps devices"
    # (unexpected RuntimeError, exit 1); --device meta trained until Tensor.item() failed
    out = ["--out", tmp_path / "run"] if command[0] == "train" else []
    for device, message in (("mps", "--device: device 'mps' asks for MPS but this torch"),
                            ("meta", "--device: device 'meta' is a 'meta' device, on which graphrnn cannot")):
        status, _, err = run_cli(capsys, *command, "--device", device, *out)
        line = one_error_line(err)
        assert status == 2 and message in line and "'cpu'" in line
    assert fake_tasks == []


def _start(capsys, out, *options):
    status, _, err = run_cli(capsys, *options, "--out", out)
    assert status == 0, err
    (out / "checkpoint.pt").write_bytes(b"")  # what --resume looks for; the fake task never reads it


def test_resume_with_another_seed_is_refused_as_a_data_change(capsys, tmp_path, fake_tasks):
    # before: the seed change was only warned about, and `train rnn --resume --seed 5` trained on another
    # validation/test split (the digits' majority class moved from 7.0% to 9.4%): test items of the resumed
    # run had been training items of its first epochs
    out = tmp_path / "run"
    _start(capsys, out, "train", "rnn", "--quick", "--seed", "1")
    assert json.loads((out / COMMAND_FILE).read_text())["settings"]["seed"] == 1
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--seed", "5", "--out", out)
    line = one_error_line(err)
    assert status == 2 and len(fake_tasks) == 1
    assert (f"{out} was trained with --seed 1, this command has 5: resuming would switch the data mid-run (the seed "
            "draws the validation and test splits and the synthetic data); resume with --seed 1") in line
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--out", out)
    assert status == 0 and fake_tasks[-1]["seed"] == 1 and fake_tasks[-1]["quick"] is True
    assert "resuming with the run's own options: --quick --seed 1" in err


def test_resume_with_distractors_added_says_to_resume_without_them(capsys, tmp_path, fake_tasks):
    # before: --distractors (it draws other synthetic scenes) was only warned about on --resume
    out = tmp_path / "run"
    _start(capsys, out, "train", "sim", "--quick")
    status, _, err = run_cli(capsys, "train", "sim", "--resume", "--distractors", "1", "3", "--out", out)
    line = one_error_line(err)
    assert status == 2 and "this command has 1 3" in line and "resume without --distractors," in line
    _start(capsys, tmp_path / "other", "train", "sim", "--quick", "--distractors", "2", "4")
    status, _, err = run_cli(capsys, "train", "sim", "--resume", "--distractors", "0", "4", "--out", tmp_path / "other")
    assert status == 2 and "resume with --distractors 2 4," in one_error_line(err)


def test_predict_errors_name_the_task(capsys, tmp_path):
    # before: "graphrnn predict: error: --beam must be ..." while every other predict error says "predict rnn"
    status, _, err = run_cli(capsys, "predict", "rnn", "--checkpoint", tmp_path / "missing.pt")
    assert status == 2 and one_error_line(err).startswith("graphrnn predict rnn: error: --checkpoint")
    (tmp_path / "best.pt").write_bytes(b"")
    status, _, err = run_cli(capsys, "predict", "mixer", "--checkpoint", tmp_path / "best.pt", "--beam", "0")
    assert status == 2 and one_error_line(err) == "graphrnn predict mixer: error: --beam must be an integer >= 1, got 0"


def test_a_closed_pipe_ends_quietly_with_status_141(capsys):
    # before: `graphrnn predict ... | head -1` printed "graphrnn predict rnn: error: Broken pipe" and exited 2
    def run(args):
        raise BrokenPipeError(32, "Broken pipe")

    args = cli.build_parser().parse_args(["reproduce", "--only", "core"])
    assert run_guarded(cli.build_parser(), args, ["reproduce"], run) == BROKEN_PIPE_STATUS == 141
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classifier")
    data = folder / "reviews.csv"
    data.write_text("".join(f"{words},{label}\n" for words, label in
                            [("good fun", "pos"), ("bad dull", "neg"), ("fun good good", "pos"),
                             ("dull bad", "neg")] * 10))
    assert cli.main(["train", "rnn", "--data", str(data), "--epochs", "1", "--hidden", "8",
                     "--out", str(folder / "run")]) == 0
    return folder / "run" / "best.pt"


def test_predict_into_a_pipe_closed_early_is_silent(classifier, tmp_path):
    inputs = tmp_path / "many.txt"
    inputs.write_text("good fun\n" * 30000)  # 120 kB of answers: more than a pipe holds
    process = subprocess.Popen([sys.executable, "-m", "graphrnn", "predict", "rnn", "--checkpoint", str(classifier),
                                "--input", str(inputs), "--device", "cpu", "--batch-size", "10000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"OMP_NUM_THREADS": "1",
                                                                                    "PATH": "/usr/bin:/bin"})
    first = process.stdout.readline()
    process.stdout.close()  # what `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert first.strip() in (b"pos", b"neg") and stderr == ""


def test_resumed_digits_run_reports_each_epochs_own_time(tmp_path):
    # before: seconds_per_epoch was this process's wall time over all epochs, so a resumed run that trained
    # nothing new reported 0.01 s/epoch instead of 0.13
    from graphrnn.datasets.digits import split_digit_sequences_with_validation
    from graphrnn.experiments.digits import train_one

    train, validation, test = split_digit_sequences_with_validation(0)
    train, validation, test = train[:64], validation[:32], test[:32]
    first = train_one("rnn", train, validation, test, 2, 8, 0, tmp_path)
    again = train_one("rnn", train, validation, test, 2, 8, 0, tmp_path, resume=True)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    mean = sum(record["seconds"] for record in records) / len(records)
    assert first["seconds_per_epoch"] == pytest.approx(mean) and again["seconds_per_epoch"] == pytest.approx(mean)
    assert again["test_accuracy"] == first["test_accuracy"]


def test_a_checkpoint_one_folder_down_is_pointed_at(classifier, tmp_path, capsys):
    # before: "--checkpoint OUT/best.pt does not exist; check the path" for a drnn run, which keeps it in OUT/model/
    out = tmp_path / "drnn_run"
    (out / "model").mkdir(parents=True)
    (out / "model" / "best.pt").write_bytes(classifier.read_bytes())
    status, _, err = run_cli(capsys, "predict", "rnn", "--checkpoint", out / "best.pt")
    assert status == 2 and one_error_line(err).endswith(f"does not exist; did you mean {out / 'model' / 'best.pt'}?")
    status, _, err = run_cli(capsys, "predict", "rnn", "--checkpoint", out)
    assert status == 2 and one_error_line(err).endswith(f"is a directory, not a checkpoint file; pass "
                                                        f"{out / 'model' / 'best.pt'}")


def test_a_checkpoint_of_an_unknown_kind_says_so(classifier, tmp_path, capsys):
    # before: "carries no inference settings ... train it again", although it carried them, of a kind unknown here
    checkpoint = torch.load(classifier, weights_only=True)
    checkpoint["extra_state"]["inference"]["kind"] = "from_the_future"
    torch.save(checkpoint, tmp_path / "future.pt")
    status, _, err = run_cli(capsys, "predict", "rnn", "--checkpoint", tmp_path / "future.pt")
    assert status == 2 and ("holds a model of kind 'from_the_future', which this graphrnn cannot read (it reads "
                            "digits, drnn, language_model, mixer, sequence_classifier, sim)") in one_error_line(err)


def _section(title):
    from graphrnn import reproduce

    return lambda quick, seed: reproduce.Section(title, f"{title} table, seed {seed}", {"seed": seed})


def test_reproduce_keeps_the_sections_done_when_a_later_one_fails(tmp_path, monkeypatch):
    # before: results.md and results.json were written once, at the end: a failing (or interrupted) last section
    # lost every finished one, minutes to hours of work
    from graphrnn import reproduce

    def broken(quick, seed):
        raise RuntimeError("the corpus is damaged")

    monkeypatch.setattr(reproduce, "EXPERIMENTS", {"first": _section("First"), "second": broken})
    with pytest.raises(RuntimeError, match="damaged"):
        reproduce.run_all(tmp_path, quick=True, seed=0, log=lambda message: None)
    text = (tmp_path / "results.md").read_text()
    assert "## First" in text and "First table, seed 0" in text and "still to do second" in text
    assert json.loads((tmp_path / "results.json").read_text())["still_to_run"] == ["second"]


def test_a_rerun_that_stops_early_keeps_the_earlier_runs_sections(tmp_path, monkeypatch):
    # results.md is rewritten after every section: the earlier run's other sections must not vanish with it
    from graphrnn import reproduce

    monkeypatch.setattr(reproduce, "EXPERIMENTS", {"a": _section("A"), "b": _section("B")})
    reproduce.run_all(tmp_path, quick=True, seed=0, log=lambda message: None)

    def broken(quick, seed):
        raise RuntimeError("stopped")

    monkeypatch.setattr(reproduce, "EXPERIMENTS", {"a": _section("A again"), "b": broken})
    with pytest.raises(RuntimeError):
        reproduce.run_all(tmp_path, quick=True, seed=0, log=lambda message: None)
    text = (tmp_path / "results.md").read_text()
    assert "## A again" in text and "## B" in text and "B table, seed 0" in text and "still to do b" in text


def test_reproduce_only_keeps_the_other_sections_of_the_same_run(tmp_path, monkeypatch):
    # before: `graphrnn reproduce --only b` replaced results.md with section b alone
    from graphrnn import reproduce

    monkeypatch.setattr(reproduce, "EXPERIMENTS", {"a": _section("A"), "b": _section("B"), "c": _section("C")})
    reproduce.run_all(tmp_path, quick=True, seed=0, log=lambda message: None)
    monkeypatch.setitem(reproduce.EXPERIMENTS, "b", _section("B rerun"))
    messages = []
    reproduce.run_all(tmp_path, quick=True, seed=0, only=["b"], log=messages.append)
    text = (tmp_path / "results.md").read_text()
    assert [line for line in text.splitlines() if line.startswith("## ")] == ["## A", "## B rerun", "## C"]
    assert text.count("from an earlier run with the same --quick and --seed") == 2 and "Partial" not in text
    assert messages[0].endswith(f"keeping the earlier run's a, c from {tmp_path / 'results.json'}")
    experiments = json.loads((tmp_path / "results.json").read_text())["experiments"]
    assert experiments["a"]["earlier_run"] is True and "earlier_run" not in experiments["b"]
    reproduce.run_all(tmp_path, quick=True, seed=1, only=["b"], log=lambda message: None)  # another seed: alone
    assert [line for line in (tmp_path / "results.md").read_text().splitlines()
            if line.startswith("## ")] == ["## B rerun"]


def test_ctrl_c_in_reproduce_points_at_the_sections_kept(tmp_path, monkeypatch, capsys):
    from graphrnn import reproduce

    def interrupted(quick, seed):
        raise KeyboardInterrupt

    monkeypatch.setattr(reproduce, "EXPERIMENTS", {"a": _section("A"), "b": interrupted})
    monkeypatch.setattr(cli.reproduce, "EXPERIMENTS", reproduce.EXPERIMENTS)
    status, _, err = run_cli(capsys, "reproduce", "--out", tmp_path)
    assert status == 130 and "## A" in (tmp_path / "results.md").read_text()
    assert err.strip().splitlines()[-1] == (f"graphrnn reproduce: interrupted; {tmp_path / 'results.md'} is rewritten "
                                            "after every finished section, so it holds what finished; run the rest "
                                            "with --only NAME ... (the finished sections are kept)")


@pytest.mark.parametrize("options, message", [
    (["train", "sim", "--data", "DATA", "--train-size", "5"],
     "--train-size sizes the synthetic scenes, so it only works without --data; drop --train-size, or drop --data"),
    (["train", "drnn", "--data", "DATA", "--grammar", "deep"],
     "--grammar chooses the grammar of the synthetic trees, so it only works without --data"),
    (["train", "rnn", "--lowercase"], "--lowercase reads your own text (--data FILE), so it only works with --data; "
                                      "drop --lowercase, or give --data"),
    (["train", "rnn", "--tokenizer", "whitespace"], "--tokenizer reads your own text"),
    (["train", "rnn", "--min-count", "3"], "--min-count builds a language model's vocabulary"),
])
def test_an_option_the_task_would_ignore_is_refused(capsys, tmp_path, fake_tasks, options, message):
    # before: `train sim --data DIR --train-size 5` trained on all 204 frames, `train drnn --data F --grammar deep`
    # and `train rnn --lowercase` (digits) ran as if the option were not there
    options = [str(tmp_path) if option == "DATA" else option for option in options]
    status, _, err = run_cli(capsys, *options, "--out", tmp_path / "run")
    assert status == 2 and message in one_error_line(err) and fake_tasks == []


def test_options_at_their_defaults_or_where_they_apply_pass(capsys, tmp_path, fake_tasks):
    for options in (["train", "sim", "--train-size", "5", "--distractors", "1", "2"], ["train", "drnn", "--grammar",
                    "deep"], ["train", "rnn", "--data", tmp_path / "x.txt", "--lowercase", "--min-count", "2"],
                    ["train", "drnn", "--data", tmp_path, "--grammar", "released"]):
        status, _, err = run_cli(capsys, *options, "--out", tmp_path / "run", "--overwrite")
        assert status == 0, err
    assert len(fake_tasks) == 4


def test_min_count_on_a_classifier_file_is_refused(capsys, tmp_path):
    data = tmp_path / "labelled.csv"
    data.write_text("good fun,pos\nbad dull,neg\n")
    status, _, err = run_cli(capsys, "train", "rnn", "--data", data, "--min-count", "2", "--out", tmp_path / "run")
    assert status == 2 and "--min-count applies to language models" in one_error_line(err)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def _epochs_without_seconds(out):
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{key: value for key, value in record.items() if key != "seconds"} for record in records]


def test_train_with_the_same_seed_twice_writes_the_same_metrics_and_another_seed_does_not(capsys, tmp_path):
    runs = {}
    for name, seed in (("first", "1"), ("again", "1"), ("other", "2")):
        status, _, err = run_cli(capsys, "train", "rnn", "--quick", "--epochs", "2", "--hidden", "8", "--seed", seed,
                                 "--device", "cpu", "--out", tmp_path / name)
        assert status == 0 and "\r" not in err, err  # not a terminal: plain lines, no bar redraws
        assert err.count("epoch ") >= 2
        runs[name] = _epochs_without_seconds(tmp_path / name)
    assert len(runs["first"]) == 2 and runs["first"] == runs["again"] and runs["first"] != runs["other"]


def test_resume_from_another_directory_reads_the_same_data_file(capsys, tmp_path, fake_tasks, monkeypatch):
    # before: command.json kept --data as typed (relative), so `--resume` from another directory read
    # <new cwd>/x.csv (an error, or silently another file of that name); and ./x.csv was refused as a data change
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "x.csv").write_text(f"{folder} words,pos\n")
    monkeypatch.chdir(tmp_path / "a")
    out = tmp_path / "run"
    _start(capsys, out, "train", "rnn", "--data", "x.csv")
    monkeypatch.chdir(tmp_path / "b")
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--out", out)
    assert status == 0, err
    assert str(fake_tasks[-1]["data"]) == str(tmp_path / "a" / "x.csv")
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--data", "../a/./x.csv", "--out", out)
    assert status == 0 and "changed options" not in err, err
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--data", "x.csv", "--out", out)
    assert status == 2 and "resuming would switch the data mid-run" in one_error_line(err)


@pytest.fixture(scope="module")
def sim_checkpoint(tmp_path_factory):
    from graphrnn.experiments.sim import Variant, synthetic_data, train_one

    folder = tmp_path_factory.mktemp("sim")
    train_one(Variant("sim", 2, gated=True), synthetic_data(40, 10, 0), 1, hidden=8, out=folder, device="cpu")
    return folder / "best.pt"


@pytest.mark.parametrize("line, box", [
    ("1.jpg r_set 10 20 -3 40 standing", "[10.0, 20.0, -3.0, 40.0]"),
    ('{"boxes": [[1, 2, 3, 4], [5, 6, 7, -8]]}', "[5.0, 6.0, 7.0, -8.0]"),
    ('{"boxes": [[1, 2, 3, NaN]]}', "[1.0, 2.0, 3.0, nan]"),
])
def test_predict_sim_refuses_boxes_the_training_reader_refuses(sim_checkpoint, tmp_path, capsys, line, box):
    # before: a negative width or height was read into features and answered (the training files refuse it)
    inputs = tmp_path / "scenes.txt"
    inputs.write_text(line + "\n")
    status, out, err = run_cli(capsys, "predict", "sim", "--checkpoint", sim_checkpoint, "--input", inputs)
    player = "2" if "-8" in line else "1"
    assert status == 2 and out == "" and one_error_line(err) == (
        f"graphrnn predict sim: error: {inputs}:1: player {player} has the box {box}; x y w h must be finite numbers "
        "with w, h >= 0, as in the training annotations")


def test_checkpoints_are_read_onto_the_cpu_first(classifier, monkeypatch):
    # a best.pt written on a GPU holds CUDA storages: without map_location, torch.load on a CPU-only machine fails
    import graphrnn
    from graphrnn.training import checkpoint as checkpoint_module

    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("map_location"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "load", spy)
    model = graphrnn.load(classifier, device="cpu")
    assert seen == ["cpu"] and model.device.type == "cpu"


def test_mixer_copies_a_checkpoint_whole_or_not_at_all(tmp_path, monkeypatch):
    # before: shutil.copy, so a kill mid-copy left OUT/best.pt (or OUT/<method>/checkpoint.pt) truncated
    from graphrnn import files
    from graphrnn.experiments.mixer import _copy_atomic

    source, target = tmp_path / "xent" / "best.pt", tmp_path / "best.pt"
    source.parent.mkdir()
    source.write_bytes(b"new best" * 1000)
    target.write_bytes(b"previous best")

    def killed(*args):
        raise OSError("killed during the rename")

    monkeypatch.setattr(files.os, "replace", killed)
    with pytest.raises(OSError, match="killed"):
        _copy_atomic(source, target)
    assert target.read_bytes() == b"previous best" and sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "xent"]
    monkeypatch.undo()
    _copy_atomic(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_a_resumed_sim_run_reports_the_time_of_all_its_epochs(tmp_path):
    # before: "seconds" was this process's time, so a resumed run that trained nothing new reported ~0 s
    from graphrnn.experiments.sim import Variant, synthetic_data, train_one

    data = synthetic_data(30, 10, 0)
    first = train_one(Variant("mlp"), data, 2, hidden=4, out=tmp_path, device="cpu")
    again = train_one(Variant("mlp"), data, 2, hidden=4, out=tmp_path, device="cpu", resume=True)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    total = sum(record["seconds"] for record in records)
    assert first["seconds"] == pytest.approx(total) and again["seconds"] == pytest.approx(total)


@pytest.mark.parametrize("argv, option", [
    (["train", "rnn", "--quick", "--out", ""], "--out"),
    (["train", "rnn", "--quick", "--out", "RUN", "--data="], "--data"),
    (["predict", "rnn", "--checkpoint", " "], "--checkpoint"),
    (["reproduce", "--out="], "--out"),
])
def test_an_empty_path_is_refused_not_read_as_the_current_directory(capsys, tmp_path, fake_tasks, monkeypatch, argv,
                                                                     option):
    # before: pathlib read "" as ".", so `--out $UNSET` wrote checkpoint.pt and best.pt into the current directory
    monkeypatch.chdir(tmp_path)
    argv = [str(tmp_path / "run") if a == "RUN" else a for a in argv]
    status, _, err = run_cli(capsys, *argv)
    assert status == 2 and one_error_line(err).endswith(f"error: {option} is empty (an unset shell variable?); give a "
                                                        "path, or '.' for the current directory")
    assert fake_tasks == [] and list(tmp_path.iterdir()) == []


def test_resuming_a_run_on_own_text_may_repeat_its_text_options(capsys, tmp_path, fake_tasks):
    # the options are checked against --data as given; on --resume, --data comes from the run's command.json
    data = tmp_path / "lines.txt"
    data.write_text("a b\n")
    out = tmp_path / "run"
    _start(capsys, out, "train", "rnn", "--data", data, "--lowercase", "--min-count", "2")
    status, _, err = run_cli(capsys, "train", "rnn", "--resume", "--lowercase", "--min-count", "2", "--out", out)
    assert status == 0, err
    assert fake_tasks[-1]["lowercase"] is True and str(fake_tasks[-1]["data"]) == str(data.resolve())
