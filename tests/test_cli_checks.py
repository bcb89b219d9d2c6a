"""The command line checks every option before any work and turns failures into one line on stderr."""
import errno
import json
import os
import re

import pytest
from cli_testing import one_error_line, run_cli

from graphrnn import cli
from graphrnn.cli_checks import COMMAND_FILE, CommandLineError, check_output_directory
from graphrnn.tasks import TASKS
from graphrnn.training import NonFiniteError, TrainingInterrupted, load_checkpoint


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a task or the reproduce job starts."""
    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the options were checked")

    for name, task in TASKS.items():
        monkeypatch.setitem(TASKS, name, task._replace(run=forbidden))
    monkeypatch.setattr(cli.reproduce, "run_all", forbidden)


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "--epochs must be an integer >= 1, got 0"),
    ("--epochs", "-3", "--epochs must be an integer >= 1, got -3"),
    ("--hidden", "0", "--hidden must be an integer >= 1, got 0"),
])
def test_bad_options_fail_before_any_work(capsys, tmp_path, no_work, option, value, message):
    out = tmp_path / "run"
    status, _, err = run_cli(capsys, "train", "rnn", "--quick", "--out", str(out), option, value)
    assert status == 2 and message in one_error_line(err)
    assert not out.exists()


@pytest.mark.parametrize("command", [["train", "rnn", "--quick"], ["train", "sim", "--quick"],
                                     ["reproduce", "--quick"]])
def test_out_that_is_a_file_or_under_a_file(capsys, tmp_path, no_work, command):
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    status, _, err = run_cli(capsys, *command, "--out", str(a_file))
    assert status == 2 and "is a file, not a directory" in one_error_line(err)
    status, _, err = run_cli(capsys, *command, "--out", str(a_file / "sub"))
    assert status == 2 and f"cannot be created: {a_file} is a file" in one_error_line(err)


@pytest.mark.parametrize("command", [["train", "rnn"], ["reproduce", "--quick"]])
def test_out_that_cannot_be_written(capsys, tmp_path, monkeypatch, no_work, command):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("graphrnn.cli_checks.tempfile.TemporaryFile", read_only)
    status, _, err = run_cli(capsys, *command, "--out", str(tmp_path / "out"))
    assert status == 2 and "cannot be written (Read-only file system)" in one_error_line(err)


def test_out_on_a_file_system_without_directories(capsys, no_work):
    status, _, err = run_cli(capsys, "reproduce", "--out", "/proc/graphrnn-test/results")
    assert status == 2 and "--out /proc/graphrnn-test/results cannot be" in one_error_line(err)


def test_resume_without_a_checkpoint(capsys, tmp_path, no_work):
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path), "--resume")
    assert status == 2 and "--resume: there is no checkpoint.pt in" in one_error_line(err)


def test_os_error_during_work_is_one_line_and_status_2(capsys, tmp_path, monkeypatch):
    def disk_full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(args.out / "checkpoint.pt"))

    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=disk_full))
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path))
    assert status == 2
    assert one_error_line(err) == f"graphrnn train rnn: error: No space left on device: {tmp_path / 'checkpoint.pt'}"


def test_diverged_training_is_one_line_and_status_1(capsys, tmp_path, monkeypatch):
    def diverge(args):
        raise NonFiniteError("training stopped at step 3 (epoch 1, batch 3): the loss is nan")

    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=diverge))
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path))
    assert status == 1 and "step 3 (epoch 1, batch 3): the loss is nan" in one_error_line(err)


def test_ctrl_c_names_the_checkpoint_and_the_resume_command(capsys, tmp_path, monkeypatch):
    def interrupted(args):
        raise TrainingInterrupted(args.out / "checkpoint.pt", 2)

    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=interrupted))
    status, _, err = run_cli(capsys, "train", "rnn", "--quick", "--out", str(tmp_path), "--hidden", "8")
    assert status == 130
    assert one_error_line(err) == (f"graphrnn train rnn: interrupted; {tmp_path / 'checkpoint.pt'} (epoch 2) is kept, "
                                   f"continue with: graphrnn train rnn --quick --out {tmp_path} --hidden 8 --resume")


def test_ctrl_c_before_any_checkpoint(capsys, tmp_path, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=interrupted))
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path))
    assert status == 130 and "no checkpoint was written, run the command again" in one_error_line(err)


def test_out_is_where_the_files_go_and_resume_keeps_the_quick_data(capsys, tmp_path):
    out = tmp_path / "rnn"
    status, summary, err = run_cli(capsys, "train", "rnn", "--quick", "--epochs", "1", "--hidden", "8",
                                   "--out", str(out), "--device", "cpu")
    assert status == 0 and "test accuracy" in summary
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "checkpoint.pt", COMMAND_FILE, "metrics.jsonl"]
    assert "\r" not in err and [line for line in err.splitlines() if line.startswith("epoch")] == \
        [line for line in err.splitlines() if line.startswith("epoch 1/1: step 4, train_loss")]
    assert json.loads((out / COMMAND_FILE).read_text())["settings"]["quick"] is True

    # resumed without --quick (as in the README): the run keeps its 256 training digits, 4 steps per epoch
    status, _, err = run_cli(capsys, "train", "rnn", "--epochs", "2", "--out", str(out), "--device", "cpu",
                             "--resume")
    assert status == 0, err
    assert "resuming with the run's own options: --quick --hidden 8" in err
    assert "warning: resuming with changed options: --epochs 1 -> 2" in err
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["epoch"] == 2 and checkpoint["step"] == 8  # full data would be 22 steps per epoch


def test_an_option_typed_at_its_default_value_is_not_taken_as_left_out(capsys, tmp_path):
    # before: --hidden 64 (the default) on a --hidden 8 run was read as left out, and training went on with 8
    out = tmp_path / "rnn"
    assert run_cli(capsys, "train", "rnn", "--quick", "--epochs", "1", "--hidden", "8", "--out", str(out),
                   "--device", "cpu")[0] == 0
    for typed in (["--hidden", "64"], ["--hidden=64"], ["--hid", "64"]):  # argparse takes a unique prefix too
        status, _, err = run_cli(capsys, "train", "rnn", "--epochs", "2", *typed, "--out", str(out), "--resume")
        assert status == 2 and (f"{out} was trained with --hidden 8, this command has 64: resuming would go on "
                                "training the run's weights in another model") in one_error_line(err)
    status, _, err = run_cli(capsys, "train", "rnn", "--epochs", "2", "--out", str(out), "--device", "cpu",
                             "--resume")
    assert status == 0 and "resuming with the run's own options: --quick --hidden 8" in err


def test_resume_refuses_to_switch_the_data(capsys, tmp_path):
    out = tmp_path / "rnn"
    assert run_cli(capsys, "train", "rnn", "--quick", "--epochs", "1", "--hidden", "8", "--out", str(out),
                   "--device", "cpu")[0] == 0
    data = tmp_path / "digits.csv"
    data.write_text("1 2 3,a\n")
    status, _, err = run_cli(capsys, "train", "rnn", "--data", str(data), "--out", str(out), "--resume")
    assert status == 2
    assert (f"{out} was trained with --data (default), this command has {data}: resuming would switch the data "
            "mid-run") in one_error_line(err)


def test_check_output_directory_creates_it(tmp_path):
    check_output_directory(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())
    (tmp_path / "a" / "file").write_text("x")
    with pytest.raises(CommandLineError, match="--results .*file is a file, not a directory"):
        check_output_directory(tmp_path / "a" / "file", option="--results")


@pytest.mark.parametrize("command, option, values, message", [
    # each was a ValueError traceback (exit 1) from inside the task, some after data was read
    (["train", "rnn"], "--min-count", ["0"], "--min-count must be an integer >= 1, got 0"),
    (["train", "rnn"], "--seed", ["-1"], "--seed must be an integer >= 0, got -1"),
    (["train", "sim"], "--distractors", ["5", "2"], "--distractors LO HI needs 0 <= LO <= HI, got 5 2"),
    (["train", "sim"], "--distractors", ["-3", "-1"], "--distractors LO HI needs 0 <= LO <= HI, got -3 -1"),
    (["train", "rnn"], "--device", ["tpu"], "--device: device 'tpu' is not a torch device"),
])
def test_more_bad_options_fail_before_any_work(capsys, tmp_path, no_work, command, option, values, message):
    out = tmp_path / "run"
    status, _, err = run_cli(capsys, *command, "--quick", "--out", str(out), option, *values)
    assert status == 2 and message in one_error_line(err)
    assert not out.exists()


@pytest.mark.parametrize("task, text", [("rnn", ""), ("drnn", ""), ("drnn", "a\tROOT ( a )\n")])
def test_an_empty_or_one_line_data_file_is_one_line(capsys, tmp_path, task, text):
    data = tmp_path / "data.tsv"
    data.write_text(text, encoding="utf-8")
    status, _, err = run_cli(capsys, "train", task, "--data", str(data), "--out", str(tmp_path / "run"))
    assert status == 2 and re.search(r"cannot cut the test and (val|dev) splits from [01] item", one_error_line(err))
    assert "data.tsv" in err


@pytest.mark.parametrize("task, records", [("rnn", "good,pos\nbad,neg\n"), ("drnn", "a\tROOT ( a )\nb\tROOT ( b )\n")])
def test_two_records_are_counted_as_the_file_holds_them(capsys, tmp_path, task, records):
    # before: "cannot cut a held-out split from 1 item(s) ...; give at least 2" for a file of 2 records
    data = tmp_path / "data.tsv"
    data.write_text(records.replace(",", "\t"), encoding="utf-8")
    status, _, err = run_cli(capsys, "train", task, "--data", str(data), "--out", str(tmp_path / "run"))
    assert status == 2 and "splits from 2 item(s)" in one_error_line(err) and "give at least 3" in err


@pytest.mark.parametrize("task, options, message", [
    # both were ValueError tracebacks (exit 1)
    ("mixer", ["--task", "translation", "--source", "xx", "--target", "yy"], "pairs.txt is a file but not .tsv"),
    ("sim", ["--distractors", "1", "2"], "--distractors makes synthetic scenes; it cannot be combined with --data"),
])
def test_a_value_error_of_a_task_is_one_line(capsys, tmp_path, task, options, message):
    data = tmp_path / "pairs.txt"
    data.write_text("a b\tB A\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "train", task, "--data", str(data), *options, "--quick", "--out",
                             str(tmp_path / "run"))
    assert status == 2 and message in one_error_line(err)


@pytest.mark.parametrize("previous", ["checkpoint.pt", "best.pt", "xent/checkpoint.pt"])
def test_a_fresh_run_over_a_previous_run_is_refused(capsys, tmp_path, no_work, previous):
    # before: the run started, deleted best.pt at once and replaced checkpoint.pt after its first epoch
    (tmp_path / previous).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / previous).write_bytes(b"the previous run")
    (tmp_path / COMMAND_FILE).write_text("{}")
    status, _, err = run_cli(capsys, "train", "rnn", "--quick", "--out", str(tmp_path))
    assert status == 2
    assert one_error_line(err) == (f"graphrnn train rnn: error: --out {tmp_path} holds a previous run ({previous}), "
                                   "which a fresh run would replace; continue it with --resume, replace it with "
                                   "--overwrite, or choose another --out")
    assert (tmp_path / previous).read_bytes() == b"the previous run" and (tmp_path / COMMAND_FILE).read_text() == "{}"


def test_overwrite_starts_afresh_over_a_previous_run(capsys, tmp_path, monkeypatch):
    (tmp_path / "checkpoint.pt").write_bytes(b"the previous run")
    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=lambda args: "trained"))
    status, summary, _ = run_cli(capsys, "train", "rnn", "--quick", "--out", str(tmp_path), "--overwrite")
    assert status == 0 and summary == "trained\n"
    assert "overwrite" not in json.loads((tmp_path / COMMAND_FILE).read_text())["settings"]


def test_an_empty_or_unrelated_out_directory_is_not_a_previous_run(capsys, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=lambda args: "trained"))
    assert run_cli(capsys, "train", "rnn", "--out", str(tmp_path))[0] == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_resume_and_overwrite_together_are_refused(capsys, tmp_path, no_work):
    (tmp_path / "checkpoint.pt").write_bytes(b"the previous run")
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path), "--resume", "--overwrite")
    assert status == 2 and "--resume continues the run in --out, --overwrite replaces it" in one_error_line(err)


def test_ctrl_c_after_overwrite_suggests_resume_without_overwrite(capsys, tmp_path, monkeypatch):
    def interrupted(args):
        raise TrainingInterrupted(args.out / "checkpoint.pt", 1)

    (tmp_path / "checkpoint.pt").write_bytes(b"the previous run")
    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=interrupted))
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path), "--overwrite")
    assert status == 130
    assert one_error_line(err).endswith(f"continue with: graphrnn train rnn --out {tmp_path} --resume")


def test_resume_with_fewer_epochs_than_done_is_one_line(capsys, tmp_path):
    out = tmp_path / "rnn"
    assert run_cli(capsys, "train", "rnn", "--quick", "--epochs", "2", "--hidden", "4", "--out", str(out),
                   "--device", "cpu")[0] == 0
    status, _, err = run_cli(capsys, "train", "rnn", "--epochs", "1", "--out", str(out), "--resume")
    assert status == 2 and "checkpoint.pt holds 2 epochs, more than this run's epochs=1" in err.splitlines()[-1]


def test_resuming_another_tasks_run_names_that_task(capsys, tmp_path, no_work):
    # before: a misleading "written with lr_schedule='cosine' but this run has lr_schedule=None" (or a model mismatch)
    (tmp_path / "checkpoint.pt").write_bytes(b"a run")
    (tmp_path / COMMAND_FILE).write_text(json.dumps({"argv": "train rnn", "settings": {"train_task": "rnn"}}))
    status, _, err = run_cli(capsys, "train", "sim", "--out", str(tmp_path), "--resume")
    assert status == 2 and one_error_line(err) == (
        f"graphrnn train sim: error: {tmp_path} holds a run of `graphrnn train rnn`, not sim: continue it with "
        f"`graphrnn train rnn --resume --out {tmp_path}`, or give sim another --out")


def test_command_json_gets_the_permissions_of_any_new_file(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=lambda args: "trained"))
    previous = os.umask(0o022)
    try:
        assert run_cli(capsys, "train", "rnn", "--out", str(tmp_path))[0] == 0
    finally:
        os.umask(previous)
    assert (tmp_path / COMMAND_FILE).stat().st_mode & 0o777 == 0o644  # was 0600 (mkstemp's)


def test_a_warning_during_a_command_is_one_line(capsys, tmp_path, monkeypatch):
    # before: Python's two-line form, "/.../trainer.py:363: UserWarning: ..." then the source line "self._resume()"
    def warns(args):
        import warnings

        warnings.warn("resuming checkpoint.pt with epochs 1 -> 2: the run continues to epoch 2", UserWarning)
        return "trained"

    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=warns))
    status, _, err = run_cli(capsys, "train", "rnn", "--out", str(tmp_path))
    assert status == 0 and one_error_line(err) == ("graphrnn train rnn: warning: resuming checkpoint.pt with epochs "
                                                   "1 -> 2: the run continues to epoch 2")


def test_an_unexpected_error_is_one_line_and_the_traceback_is_on_request(capsys, tmp_path, monkeypatch):
    # before: a 30-line traceback ending in tarfile.ReadError for `train mixer --task summarization --data empty.txt`
    import tarfile

    def unreadable(args):
        raise tarfile.ReadError("file could not be opened successfully:\n- method gz: ReadError('empty file')")

    monkeypatch.setitem(TASKS, "mixer", TASKS["mixer"]._replace(run=unreadable))
    monkeypatch.delenv("GRAPHRNN_TRACEBACK", raising=False)
    status, _, err = run_cli(capsys, "train", "mixer", "--out", str(tmp_path))
    assert status == 1 and one_error_line(err) == (
        "graphrnn train mixer: error: file could not be opened successfully: - method gz: ReadError('empty file') "
        "(unexpected ReadError; run again with GRAPHRNN_TRACEBACK=1 to see where it came from, and report it)")
    monkeypatch.setenv("GRAPHRNN_TRACEBACK", "1")
    with pytest.raises(tarfile.ReadError):
        cli.main(["train", "mixer", "--out", str(tmp_path / "again")])


def test_runs_deeper_in_out_are_not_this_run(capsys, tmp_path, monkeypatch):
    # --out . in a folder that keeps older runs further down is not refused for them (nor walked to the bottom)
    (tmp_path / "archive" / "2025" / "run").mkdir(parents=True)
    (tmp_path / "archive" / "2025" / "run" / "checkpoint.pt").write_bytes(b"an old run")
    monkeypatch.setitem(TASKS, "rnn", TASKS["rnn"]._replace(run=lambda args: "trained"))
    assert run_cli(capsys, "train", "rnn", "--out", str(tmp_path))[0] == 0


def _mixer_args(tmp_path, task="translation", data=None):
    import argparse

    return argparse.Namespace(train_task="mixer", task=task, data=data, out=tmp_path, seed=0, resume=False,
                              overwrite=False)


def test_resume_refuses_a_run_whose_corpus_directory_moved(tmp_path, monkeypatch):
    # before: $GRAPHRNN_DATA was not recorded, so a resumed Multi30k/AESLC run could read another corpus
    from graphrnn.cli_checks import reconcile_resumed, record_command

    first, second = tmp_path / "corpora", tmp_path / "other"
    monkeypatch.setenv("GRAPHRNN_DATA", str(first))
    record_command(_mixer_args(tmp_path), ["train", "mixer", "--task", "translation"])
    logged = []
    reconcile_resumed(_mixer_args(tmp_path), {"task": "captioning", "data": None}, logged.append)  # the same: fine
    monkeypatch.setenv("GRAPHRNN_DATA", str(second))
    with pytest.raises(CommandLineError, match=f"GRAPHRNN_DATA={first}, and GRAPHRNN_DATA is now {second}"):
        reconcile_resumed(_mixer_args(tmp_path), {"task": "captioning", "data": None}, logged.append)
    monkeypatch.delenv("GRAPHRNN_DATA")
    with pytest.raises(CommandLineError, match="GRAPHRNN_DATA is now unset: resuming would switch the data"):
        reconcile_resumed(_mixer_args(tmp_path), {"task": "captioning", "data": None}, logged.append)


def test_the_corpus_directory_is_not_compared_where_the_run_did_not_read_it(tmp_path, monkeypatch):
    from graphrnn.cli_checks import reconcile_resumed, record_command

    monkeypatch.setenv("GRAPHRNN_DATA", str(tmp_path / "corpora"))
    for args in (_mixer_args(tmp_path, task="captioning"), _mixer_args(tmp_path, data=tmp_path / "pairs.tsv")):
        record_command(args, ["train", "mixer"])
        assert "environment_GRAPHRNN_DATA" not in json.loads((tmp_path / COMMAND_FILE).read_text())["settings"]
        monkeypatch.setenv("GRAPHRNN_DATA", str(tmp_path / "elsewhere"))
        reconcile_resumed(args, {"task": "captioning", "data": None}, lambda message: None)  # no error


@pytest.mark.parametrize("option, before, after", [("iterations", 3, 5), ("no_output_activation", False, True),
                                                   ("hidden", 32, 64)])
def test_resume_refuses_another_model(tmp_path, option, before, after):
    # before: --iterations of a tied SIM and --no-output-activation change no parameter, so the checkpoint loaded
    # and the run trained its weights in another model, with a warning only
    import argparse

    from graphrnn.cli_checks import reconcile_resumed, record_command

    def args(value):
        return argparse.Namespace(train_task="sim", data=None, out=tmp_path, seed=0, resume=False, overwrite=False,
                                  **{option: value})

    record_command(args(before), ["train", "sim"])
    reconcile_resumed(args(before), {option: before}, lambda message: None)  # the same model: fine
    flag = "--" + option.replace("_", "-")
    with pytest.raises(CommandLineError, match=f"trained with {flag}.*go on training the run's weights in another "
                                               "model; resume (with|without) " + flag):
        reconcile_resumed(args(after), {option: before if option != "hidden" else None}, lambda message: None)


def test_a_path_starting_with_a_tilde_is_the_home_directory(capsys, tmp_path, monkeypatch):
    # '--data=~/x' (or a quoted '~/x') reaches argparse unexpanded: it named a folder called '~'
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits.csv").write_text("".join(f"{i} {i + 1},{'ab'[i % 2]}\n" for i in range(40)))
    status, summary, err = run_cli(capsys, "train", "rnn", "--data=~/digits.csv", "--epochs", "1", "--hidden", "4",
                                   "--out", "~/run", "--device", "cpu")
    assert status == 0, err
    assert (tmp_path / "run" / "best.pt").is_file() and not (tmp_path / "~").exists()


def test_a_tilde_path_of_an_unknown_user_is_kept_as_written():
    import argparse
    from pathlib import Path

    from graphrnn.cli_checks import _expand_home

    args = argparse.Namespace(data=Path("~no_such_user_here/x.csv"), out=None, checkpoint=None, input=None)
    _expand_home(args)  # before: 'Could not determine home directory' (a RuntimeError) for a file named so
    assert args.data == Path("~no_such_user_here/x.csv")
