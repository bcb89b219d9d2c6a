"""Checkpoints: atomic writes, clear errors for missing, corrupted, foreign and mismatched files."""
import os

import pytest
import torch
from training_testing import (
    assert_same_parameters,
    config,
    make_dataset,
    make_model,
    mse_loss,
    parameters,
    without_seconds,
)

import graphrnn.training.trainer as trainer_module
from graphrnn.training import (
    CHECKPOINT_VERSION,
    CheckpointError,
    Trainer,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)


class Opaque:
    """Not a tensor nor a plain value: weights_only loading must refuse it."""


def train(out, epochs=2, model=None, **overrides):
    trainer = Trainer(model or make_model(), mse_loss, make_dataset(32),
                      config(out=str(out), epochs=epochs, **overrides))
    trainer.fit()
    return trainer


def boom(*args, **kwargs):
    raise OSError("simulated crash during the write")


# ------------------------------------------------------------------ atomic writes
def test_failed_rename_keeps_the_previous_checkpoint_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(3)}, "epoch": 1})
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(path, {"model": {"w": torch.zeros(3)}, "epoch": 2})
    monkeypatch.undo()
    checkpoint = load_checkpoint(path)
    assert checkpoint["epoch"] == 1 and torch.equal(checkpoint["model"]["w"], torch.ones(3))
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


def test_crash_half_way_through_torch_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1})
    real_save = torch.save

    def half_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a zip file")
        raise RuntimeError("simulated crash inside torch.save")

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(RuntimeError, match="simulated crash"):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


def test_crash_while_writing_epoch_2_resumes_from_epoch_1(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_replace = os.replace

    def replace_once(src, dst):
        calls["n"] += 1
        if calls["n"] > 2:  # epoch 1 writes checkpoint.pt and best.pt; epoch 2's first write dies
            raise OSError("simulated crash during the write")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_once)
    with pytest.raises(OSError):
        train(tmp_path, epochs=3)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1
    assert sorted(os.listdir(tmp_path)) == ["best.pt", "checkpoint.pt", "metrics.jsonl"]
    resumed = train(tmp_path, epochs=3, resume=True)
    uninterrupted = train(tmp_path / "reference", epochs=3)
    assert_same_parameters(parameters(resumed.model), parameters(uninterrupted.model))
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3


# ---------------------------------------------------------------------- contents
def test_checkpoint_loads_with_weights_only_and_holds_everything(tmp_path):
    vocabulary = ["<pad>", "<s>", "</s>", "a"]
    trainer = Trainer(make_model(), mse_loss, make_dataset(16),
                      config(out=str(tmp_path), lr_schedule="plateau"),
                      extra_state={"task": "toy", "vocabulary": vocabulary, "sizes": (4, 16)})
    trainer.fit()
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert checkpoint["format"] == "graphrnn.checkpoint" and checkpoint["version"] == CHECKPOINT_VERSION
    assert {"model", "optimizer", "scheduler", "rng", "epoch", "step", "history", "early_stopping", "config",
            "extra_state", "world_size"} <= set(checkpoint)
    assert checkpoint["epoch"] == 2 and checkpoint["step"] == 4 and len(checkpoint["history"]) == 2
    assert checkpoint["extra_state"]["vocabulary"] == vocabulary
    assert checkpoint["config"]["lr_schedule"] == "plateau" and checkpoint["config"]["out"] == str(tmp_path)
    assert set(checkpoint["rng"][0]) == {"python", "numpy", "torch", "cuda"}
    assert checkpoint["early_stopping"]["best_epoch"] in (1, 2)
    assert_same_parameters(checkpoint["model"], parameters(trainer.model))


def test_extra_state_that_weights_only_cannot_load_is_refused_up_front():
    with pytest.raises(ValueError, match="extra_state must hold only tensors and plain Python values"):
        Trainer(make_model(), mse_loss, make_dataset(8), config(), extra_state={"vocab": Opaque()})


# ------------------------------------------------------------------------ errors
def test_missing_checkpoint_says_where_it_looked_and_what_resume_needs(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*nowhere.*--out directory of a previous run"):
        load_checkpoint(tmp_path / "nowhere" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        train(tmp_path / "empty", resume=True)


def test_truncated_checkpoint_is_reported_as_corrupted(tmp_path):
    train(tmp_path, epochs=1)
    path = tmp_path / "checkpoint.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        train(tmp_path, epochs=2, resume=True)


def test_garbage_file_is_reported_as_corrupted(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path)
    path.write_text("hello\n")  # before: the cause read "(101)", the unpickler's bare KeyError
    with pytest.raises(CheckpointError, match=r"truncated or corrupted and cannot be read \(KeyError: 101\)"):
        load_checkpoint(path)


def test_bare_state_dict_is_a_foreign_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(make_model().state_dict(), path)
    with pytest.raises(CheckpointError, match="not a graphrnn checkpoint.*bare state_dict"):
        load_checkpoint(path)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"format": "graphrnn.checkpoint", "version": 1, "thing": Opaque()}, path)
    with pytest.raises(CheckpointError, match="objects other than tensors"):
        load_checkpoint(path)


@pytest.mark.parametrize("version", [0, CHECKPOINT_VERSION + 1, "1"])
def test_unknown_version_is_refused(tmp_path, version):
    path = tmp_path / "checkpoint.pt"
    torch.save({"format": "graphrnn.checkpoint", "version": version, "model": {}}, path)
    with pytest.raises(CheckpointError, match="checkpoint version"):
        load_checkpoint(path)


def test_resuming_with_another_model_is_a_clear_error_and_loads_nothing(tmp_path):
    train(tmp_path, epochs=1)
    other = make_model(hidden=8, seed=5)
    before = parameters(other)
    with pytest.raises(CheckpointError, match=r"does not fit the model .*'0.weight' has shape \(16, 4\)"):
        train(tmp_path, epochs=2, model=other, resume=True)
    assert_same_parameters(parameters(other), before)


def test_load_model_state_names_missing_and_unexpected_entries():
    model = make_model(dropout=0.0)
    state = dict(make_model(dropout=0.0).state_dict())
    state["extra.weight"] = state.pop("2.weight")
    with pytest.raises(CheckpointError, match=r"missing '2.weight'.*unexpected 'extra.weight'"):
        load_model_state(model, state)


def test_resuming_with_another_optimizer_is_a_clear_error(tmp_path):
    train(tmp_path, epochs=1, optimizer="adam")
    with pytest.raises(CheckpointError, match="optimizer='adam' but this run has optimizer='sgd'"):
        train(tmp_path, epochs=2, optimizer="sgd", resume=True)


def test_checkpoint_without_trainer_state_cannot_be_resumed(tmp_path):
    save_checkpoint(tmp_path / "checkpoint.pt", {"model": make_model().state_dict()})
    with pytest.raises(CheckpointError, match="lacks .*'optimizer'"):
        train(tmp_path, epochs=1, resume=True)


def test_resume_after_the_last_epoch_trains_nothing(tmp_path):
    done = train(tmp_path, epochs=2)
    again = train(tmp_path, epochs=2, resume=True, model=make_model(seed=9))
    assert again.step == done.step
    assert without_seconds(again.history) == without_seconds(done.history)
    assert_same_parameters(parameters(again.model), parameters(done.model))


def test_changed_settings_on_resume_are_warned_about(tmp_path):
    train(tmp_path, epochs=1, batch_size=8)
    with pytest.warns(UserWarning, match="batch_size 8 -> 4"):
        train(tmp_path, epochs=2, batch_size=4, resume=True)


def test_saves_of_the_trainer_go_through_save_checkpoint(tmp_path, monkeypatch):
    written = []

    def spy(path, checkpoint):
        written.append(path.name)
        return save_checkpoint(path, checkpoint)

    monkeypatch.setattr(trainer_module, "save_checkpoint", spy)
    train(tmp_path, epochs=2)
    assert written.count("checkpoint.pt") == 2 and "best.pt" in written


def test_load_model_state_refuses_a_lossy_dtype_and_loads_nothing():
    # before: complex weights were cast to real (imaginary parts dropped) with only a torch warning
    model = torch.nn.Linear(2, 1)
    before = model.weight.detach().clone()
    state = {"weight": torch.ones(1, 2, dtype=torch.complex64), "bias": torch.zeros(1)}
    with pytest.raises(CheckpointError, match=r"'weight' holds torch.complex64 in the checkpoint, torch.float32"):
        load_model_state(model, state)
    assert torch.equal(model.weight, before)
    load_model_state(model, {"weight": torch.ones(1, 2, dtype=torch.float64), "bias": torch.zeros(1)})  # same kind
    assert torch.equal(model.weight, torch.ones(1, 2))


def damage(path, **entries):
    checkpoint = torch.load(path, weights_only=True)
    checkpoint.update(entries)
    torch.save(checkpoint, path)


@pytest.mark.parametrize("entries, message", [
    # before: AttributeError: 'list' object has no attribute 'get' (in the config comparison)
    ({"config": ["adam"]}, "its 'config' is list, where resuming needs dict"),
    # before: TypeError: int() argument must be ... 'NoneType'
    ({"epoch": None}, "its 'epoch' is NoneType, where resuming needs int"),
    # before: KeyError: 'bad_epochs'
    ({"early_stopping": {"best": 1.0, "best_epoch": 1}}, r"early_stopping lacks \['bad_epochs'\]"),
    # before: TypeError: 'int' object is not iterable
    ({"history": 3}, "its 'history' is int, where resuming needs list"),
    # before: ValueError: dictionary update sequence element #0 has length 1; 2 is required
    ({"history": ["epoch 1"]}, "'history' is not a list of per-epoch dicts"),
])
def test_a_damaged_checkpoint_is_a_checkpoint_error_naming_the_entry(tmp_path, entries, message):
    train(tmp_path, epochs=1)
    damage(tmp_path / "checkpoint.pt", **entries)
    with pytest.raises(CheckpointError, match=message):
        train(tmp_path, epochs=2, resume=True)


def test_load_best_of_a_file_without_weights_is_a_checkpoint_error(tmp_path):
    trainer = train(tmp_path, epochs=1)
    save_checkpoint(tmp_path / "best.pt", {"epoch": 1})
    with pytest.raises(CheckpointError, match=r"best.pt lacks \['model'\], which load_best needs"):
        trainer.load_best()


def test_resuming_with_fewer_epochs_than_done_is_refused(tmp_path):
    # before: it trained nothing, said nothing, and returned the old history as if the run had ended
    train(tmp_path, epochs=3)
    with pytest.raises(CheckpointError, match=r"holds 3 epochs, more than this run's epochs=2.*epochs > 3"):
        train(tmp_path, epochs=2, resume=True)


def test_a_checkpoint_gets_the_permissions_of_any_new_file(tmp_path):
    # before: 0600 (tempfile.mkstemp's), so a team could not read a run's best.pt
    previous = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "checkpoint.pt", {"epoch": 1})
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "checkpoint.pt").stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777 \
        == 0o644


def test_the_cause_of_a_corrupted_file_is_cut_to_one_short_line(tmp_path):
    # before: torch's zip error ran to about 600 characters inside the one-line message
    train(tmp_path, epochs=1)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert "\n" not in message and len(message) < 400 and "truncated or corrupted" in message
