"""The Trainer refuses NaN: non-finite losses, gradients and weights stop the run, name the step, and
are never applied or saved; checkpoints holding them cannot be resumed. Also Ctrl-C, progress
output in logs, and the warnings of a resumed run with changed settings."""
import io
import math

import pytest
import torch
from training_testing import config, make_dataset, make_model, mse_loss, parameters

from graphrnn.training import CheckpointError, NonFiniteError, Trainer, TrainingInterrupted, load_checkpoint
from graphrnn.training.checkpoint import non_finite_entries, save_checkpoint


class PoisonAt:
    """``mse_loss``, except at the ``at``-th call: the loss (``where="loss"``) or one gradient is ``value``."""

    def __init__(self, at, where="loss", value=float("nan")):
        self.calls, self.at, self.where, self.value = 0, at, where, value

    def __call__(self, model, batch):
        self.calls += 1
        loss = mse_loss(model, batch)
        if self.calls != self.at:
            return loss
        if self.where == "loss":
            return loss * self.value
        weight = model[0].weight  # a finite loss whose gradient w.r.t. the first layer is poisoned
        poisoned = weight.register_hook(lambda grad: grad * self.value)
        model._poison_hook = poisoned
        return loss


def trainer(tmp_path, loss_fn, **settings):
    return Trainer(make_model(dropout=0.0), loss_fn, make_dataset(32), config(out=str(tmp_path), **settings))


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_loss_stops_the_run_naming_the_step_and_saves_nothing_of_that_epoch(tmp_path, value):
    run = trainer(tmp_path, PoisonAt(7, "loss", value), epochs=3)  # 4 batches per epoch: step 7 is epoch 2, batch 3
    before = None

    def remember(*args):
        nonlocal before
        before = parameters(run.model)

    with pytest.raises(NonFiniteError, match=rf"step 7 \(epoch 2, batch 3\): the loss is {value}.*"
                                             r"holds epoch 1 \(resume from it"):
        run.model[0].weight.register_hook(lambda grad: remember() or grad)
        run.fit()
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    assert checkpoint["epoch"] == 1 and not non_finite_entries(checkpoint["model"])
    assert not non_finite_entries(run.model.state_dict())  # the poisoned update was not applied
    assert all(torch.equal(before[k], v) for k, v in parameters(run.model).items())
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize("grad_clip", [5.0, None])
def test_non_finite_gradient_with_a_finite_loss_stops_the_run(tmp_path, grad_clip):
    run = trainer(tmp_path, PoisonAt(2, "grad", float("inf")), epochs=2, grad_clip=grad_clip)
    with pytest.raises(NonFiniteError, match=r"step 2 \(epoch 1, batch 2\): the loss .* is finite but the gradient "
                                             r"norm is (inf|nan); non-finite gradients in 0.weight "
                                             r"\(0 NaN, [0-9]+ inf of 64\)\. .*no checkpoint was written yet"):
        run.fit()
    assert not (tmp_path / "checkpoint.pt").exists()
    assert not non_finite_entries(run.model.state_dict())


def test_weights_that_overflow_are_not_saved(tmp_path, monkeypatch):
    run = trainer(tmp_path, mse_loss, epochs=2)
    step = run.optimizer.step

    def overflowing_step(*args, **kwargs):  # a finite gradient, but the update overflows the weights
        result = step(*args, **kwargs)
        if run.step == 7:  # the last step (8) of epoch 2: no later loss sees the overflow
            with torch.no_grad():
                run.model[2].bias.fill_(float("inf"))
        return result

    monkeypatch.setattr(run.optimizer, "step", overflowing_step)
    with pytest.raises(NonFiniteError, match=r"after epoch 2 .* weights are not finite: 2.bias \(0 NaN, 1 inf of 1\)"
                                             ".* holds epoch 1"):
        run.fit()
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 1


def test_loss_without_gradient_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not depend on the model's parameters"):
        trainer(tmp_path, lambda model, batch: mse_loss(model, batch).detach()).fit()


@pytest.mark.parametrize("entry", ["model", "optimizer"])
def test_resume_refuses_a_checkpoint_with_non_finite_weights(tmp_path, entry):
    trainer(tmp_path, mse_loss, epochs=1).fit()
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    if entry == "model":
        checkpoint["model"]["0.weight"][1, 2] = float("nan")
    else:
        checkpoint["optimizer"]["state"][0]["exp_avg_sq"][0, 0] = float("inf")
    save_checkpoint(tmp_path / "checkpoint.pt", {k: v for k, v in checkpoint.items() if k not in ("format", "version")})
    what = "weights" if entry == "model" else "optimizer state"
    name = "0.weight (1 NaN, 0 inf of 64)" if entry == "model" else "state.0.exp_avg_sq (0 NaN, 1 inf of 64)"
    resumed = trainer(tmp_path, mse_loss, epochs=2, resume=True)
    with pytest.raises(CheckpointError, match=rf"holds non-finite {what} \(1 tensors: {re_escape(name)}\).*refused"):
        resumed.fit()
    assert resumed.epoch == 0 and not non_finite_entries(resumed.model.state_dict())


def re_escape(text):
    import re
    return re.escape(text)


def test_ctrl_c_names_the_checkpoint_to_resume(tmp_path):
    calls = {"n": 0}

    def interrupted_loss(model, batch):
        calls["n"] += 1
        if calls["n"] == 10:  # epoch 3
            raise KeyboardInterrupt
        return mse_loss(model, batch)

    with pytest.raises(TrainingInterrupted) as caught:
        trainer(tmp_path, interrupted_loss, epochs=4).fit()
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.checkpoint == tmp_path / "checkpoint.pt" and caught.value.epoch == 2
    assert load_checkpoint(caught.value.checkpoint)["epoch"] == 2


def test_ctrl_c_before_the_first_checkpoint(tmp_path):
    def interrupted_loss(model, batch):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="no checkpoint was written") as caught:
        trainer(tmp_path, interrupted_loss).fit()
    assert caught.value.checkpoint is None


def test_progress_to_a_file_is_one_plain_line_per_epoch(tmp_path, monkeypatch):
    log = io.StringIO()  # not a terminal
    monkeypatch.setattr("sys.stderr", log)
    trainer(tmp_path, mse_loss, epochs=3, progress=True).fit()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("train_loss" in line for line in lines)


def test_progress_on_a_terminal_uses_bars(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    trainer(tmp_path, mse_loss, epochs=2, progress=True).fit()
    assert "\r" in terminal.getvalue() and "epoch 1/2: step" not in terminal.getvalue()


def test_resume_warns_about_every_changed_setting_and_task_state(tmp_path):
    Trainer(make_model(dropout=0.0), mse_loss, make_dataset(32), config(out=str(tmp_path), epochs=1),
            extra_state={"task": "digits", "train_size": 256, "vocab": list("abcdefghijklmnopqrstuvwxyz" * 3)}).fit()
    resumed = Trainer(make_model(dropout=0.0), mse_loss, make_dataset(32),
                      config(out=str(tmp_path), epochs=2, batch_size=4, device="cpu", num_workers=0,
                             patience=3, progress=False, resume=True),
                      extra_state={"task": "digits", "train_size": 1348, "vocab": list("xyz")})
    with pytest.warns(UserWarning) as caught:
        resumed.fit()
    text = " | ".join(str(w.message) for w in caught)
    for change in ("epochs 1 -> 2", "batch_size 8 -> 4", "patience None -> 3", "train_size 256 -> 1348",
                   "vocab <list of 78> -> ['x', 'y', 'z']"):
        assert change in text
    assert "task 'digits'" not in text  # unchanged keys are not listed


def test_resume_with_only_more_epochs_says_so_plainly(tmp_path):
    trainer(tmp_path, mse_loss, epochs=1).fit()
    with pytest.warns(UserWarning, match=r"epochs 1 -> 3: the run continues to epoch 3$"):
        trainer(tmp_path, mse_loss, epochs=3, resume=True).fit()


def test_non_finite_entries_names_tensors_in_nested_states():
    state = {"a": torch.tensor([1.0, math.nan]), "b": [torch.ones(2), {"c": torch.tensor([math.inf, -math.inf])}],
             "steps": torch.tensor([3]), "lr": 0.1}
    assert non_finite_entries(state) == ["a (1 NaN, 0 inf of 2)", "b[1].c (0 NaN, 2 inf of 2)"]
    assert non_finite_entries({"w": torch.zeros(3)}) == []
