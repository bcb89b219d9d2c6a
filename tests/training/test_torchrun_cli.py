"""The acceptance check of the Trainer issue: ``graphrnn train sim`` under torchrun, then resumed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphrnn.training import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def torchrun_train_sim(out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "graphrnn", "train", "sim", "--quick", "--out", str(out), "--device", "cpu", *extra]
    environment = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, cwd=ROOT)


@pytest.mark.slow
def test_torchrun_two_processes_write_a_checkpoint_and_resume_from_it(tmp_path):
    out = tmp_path / "sim"
    first = torchrun_train_sim(out, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1

    second = torchrun_train_sim(out, "--epochs", "2", "--resume")
    assert second.returncode == 0, second.stderr[-2000:]
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["epoch"] == 2
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]  # one log, written by rank 0 only
    assert records[1]["step"] == 2 * records[0]["step"]  # epoch 2 continued from epoch 1's step count
