"""Faults during training: SIGKILL at random moments, a full disk and a read-only directory while
checkpointing. After each, the previous checkpoint loads, and resuming gives a run bit-identical to
an uninterrupted one (weights, best epoch, metrics)."""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from training_testing import config, make_dataset, make_model, mse_loss, parameters

from graphrnn.training import Trainer, load_checkpoint

WORKER = Path(__file__).resolve().parent / "fault_worker.py"
ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 6


class Zygote:
    """Drives fault_worker.py: forked training runs that start at once and can be SIGKILLed."""

    def __init__(self):
        environment = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=environment, cwd=ROOT)
        assert self.ask({"ping": 1}) == "ready"

    def ask(self, request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def start(self, out, resume):
        return self.ask({"run": {"out": str(out), "epochs": EPOCHS, "resume": resume}})

    def wait(self, pid):
        return self.ask({"wait": pid})["status"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def finished_run(out):
    """What must be identical: final and best weights, the history, the metrics log (without timings)."""
    checkpoint, best = load_checkpoint(out / "checkpoint.pt"), load_checkpoint(out / "best.pt")
    history = [{k: v for k, v in record.items() if k != "seconds"} for record in checkpoint["history"]]
    log = [{k: v for k, v in json.loads(line).items() if k != "seconds"}
           for line in (out / "metrics.jsonl").read_text().splitlines()]
    return checkpoint["model"], best["model"], history, log, checkpoint["optimizer"]["state"]


def assert_identical(left, right):
    for a, b in zip(left[:2], right[:2]):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert left[2] == right[2] and left[3] == right[3]
    for key in left[4]:
        assert all(torch.equal(left[4][key][name], right[4][key][name]) for name in left[4][key])


@pytest.fixture(scope="module")
def zygote():
    process = Zygote()
    yield process
    process.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_sigkill_at_random_moments_then_resume_is_bit_identical(zygote, tmp_path, seed):
    reference = tmp_path / "reference"
    started = time.perf_counter()
    assert zygote.wait(zygote.start(reference, resume=False)) == 0
    duration = time.perf_counter() - started

    rng = random.Random(seed)
    out, kills, epochs_at_kill = tmp_path / "killed", 0, []
    for _ in range(3):  # three kills per seed, each at a random moment of what is left of the run
        done = load_checkpoint(out / "checkpoint.pt")["epoch"] if (out / "checkpoint.pt").exists() else 0
        pid = zygote.start(out, resume=done > 0)
        time.sleep(rng.uniform(0.0, duration * (EPOCHS - done + 0.5) / EPOCHS))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = zygote.wait(pid)
        assert status in (0, -signal.SIGKILL)
        kills += status == -signal.SIGKILL
        epochs_at_kill.append(load_checkpoint(out / "checkpoint.pt")["epoch"] if (out / "checkpoint.pt").exists()
                              else 0)  # the previous checkpoint always loads
    while True:  # then let it finish (a kill that came after the end leaves nothing to do)
        status = zygote.wait(zygote.start(out, resume=(out / "checkpoint.pt").exists()))
        assert status == 0
        if load_checkpoint(out / "checkpoint.pt")["epoch"] == EPOCHS:
            break
    assert kills >= 1, "no kill landed during training: the sleeps were too long"
    assert not list(out.glob(".*.tmp"))  # temporaries of writes cut short are cleaned up on resume
    assert_identical(finished_run(out), finished_run(reference))
    print(f"seed {seed}: {kills} kills, checkpoints at epochs {epochs_at_kill}")


class FailingSave:
    """Stands in for torch.save: the ``fail_at``-th call writes half the payload, then raises ``error``."""

    def __init__(self, fail_at, error):
        self.calls, self.fail_at, self.error = 0, fail_at, error
        self.save = torch.save

    def __call__(self, payload, handle):
        self.calls += 1
        if self.calls != self.fail_at:
            return self.save(payload, handle)
        import io
        buffer = io.BytesIO()
        self.save(payload, buffer)
        handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise self.error


def fault_settings(out, **overrides):
    return config(**dict(dict(epochs=4, lr_schedule="cosine", out=str(out), seed=2), **overrides))


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   OSError(errno.EROFS, "Read-only file system"),
                                   OSError(errno.EDQUOT, "Disk quota exceeded")])
def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch, error):
    out = tmp_path / "run"
    # epoch 1: best.pt and checkpoint.pt (calls 1, 2); epoch 2 improves too: best.pt (3), checkpoint.pt (4) fails
    monkeypatch.setattr("graphrnn.training.checkpoint.torch.save", FailingSave(4, error))
    with pytest.raises(OSError) as caught:
        Trainer(make_model(), mse_loss, make_dataset(32), fault_settings(out)).fit()
    assert caught.value.errno == error.errno
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1  # the previous one, intact
    assert not list(out.glob(".*.tmp"))
    monkeypatch.undo()

    resumed = Trainer(make_model(seed=9), mse_loss, make_dataset(32), fault_settings(out, resume=True))
    resumed.fit()
    full = Trainer(make_model(), mse_loss, make_dataset(32), fault_settings(tmp_path / "full"))
    full.fit()
    assert all(torch.equal(a, b) for a, b in zip(parameters(resumed.model).values(), parameters(full.model).values()))
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in full.history]


def test_a_directory_that_turns_read_only_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    calls = {"n": 0}
    mkstemp = __import__("tempfile").mkstemp

    def read_only_after_epoch_1(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.EROFS, "Read-only file system", str(out))
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr("graphrnn.files.tempfile.mkstemp", read_only_after_epoch_1)
    with pytest.raises(OSError, match="Read-only file system"):
        Trainer(make_model(), mse_loss, make_dataset(32), fault_settings(out)).fit()
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1
    assert load_checkpoint(out / "best.pt")["epoch"] == 1


def test_disk_full_through_the_command_line_is_one_line_and_the_checkpoint_survives(tmp_path, monkeypatch, capsys):
    from graphrnn import cli

    out = tmp_path / "rnn"
    monkeypatch.setattr("graphrnn.training.checkpoint.torch.save",
                        FailingSave(4, OSError(errno.ENOSPC, "No space left on device")))  # 1: extra_state check
    status = cli.main(["train", "rnn", "--quick", "--epochs", "3", "--hidden", "8", "--out", str(out),
                       "--device", "cpu"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "graphrnn train rnn: error: No space left on device"
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1


@pytest.mark.slow
def test_ctrl_c_on_the_command_line_prints_one_line_and_its_resume_command_works(zygote, tmp_path):
    out, log = tmp_path / "rnn", tmp_path / "stderr.txt"
    # far more epochs than can run before the signal (a quiet machine does 40 in under 2 s): Ctrl-C must land mid-run
    argv = ["train", "rnn", "--quick", "--epochs", "100000", "--hidden", "8", "--out", str(out), "--device", "cpu"]
    pid = zygote.ask({"cli": argv, "stderr": str(log)})
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(pid, signal.SIGINT)
    status = zygote.wait(pid)
    err = log.read_text()
    assert status == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = err.strip().splitlines()[-1]
    epoch = load_checkpoint(out / "checkpoint.pt")["epoch"]
    assert 1 <= epoch < 100000
    assert last == (f"graphrnn train rnn: interrupted; {out / 'checkpoint.pt'} (epoch {epoch}) is kept, continue with: "
                    f"graphrnn {' '.join(argv)} --resume")

    resume = last.split("continue with: graphrnn ")[1].split()
    resume[resume.index("100000")] = str(epoch + 1)  # one more epoch is enough to show that it continues
    pid = zygote.ask({"cli": resume, "stderr": str(tmp_path / "resumed.txt")})
    assert zygote.wait(pid) == 0, (tmp_path / "resumed.txt").read_text()
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == epoch + 1
