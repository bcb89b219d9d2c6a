"""Shared helpers of the Trainer tests: a tiny dataset, tiny models, launching workers."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import torch
from torch import nn
from torch_geometric.data import Data

from graphrnn.training import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "ddp_worker.py"
EXPECTED_KEYS = {"epoch", "step", "train_loss", "lr", "seconds"}


def make_dataset(num_items: int = 64, seed: int = 0) -> List[Data]:
    """A regression set: ``x`` [1, 4], ``y`` [1] = sum of x plus noise, item index in ``idx``."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_items, 4, generator=generator)
    y = x.sum(dim=1) + 0.1 * torch.randn(num_items, generator=generator)
    return [Data(x=x[i:i + 1], y=y[i:i + 1], idx=torch.tensor([i])) for i in range(num_items)]


def make_model(dropout: float = 0.3, hidden: int = 16, seed: int = 0) -> nn.Module:
    """An MLP initialised from ``seed`` without touching the caller's global generator."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = [nn.Linear(4, hidden), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, 1))
        return nn.Sequential(*layers)


def mse_loss(model: nn.Module, batch) -> torch.Tensor:
    return ((model(batch.x).squeeze(-1) - batch.y) ** 2).mean()


def config(**overrides) -> TrainConfig:
    settings = dict(epochs=2, batch_size=8, lr=1e-2, progress=False, device="cpu")
    settings.update(overrides)
    return TrainConfig(**settings)


def parameters(model: nn.Module) -> Dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def assert_same_parameters(left: Dict[str, torch.Tensor], right: Dict[str, torch.Tensor]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        assert torch.equal(left[name], right[name]), f"parameter {name} differs"


def without_seconds(history: List[dict]) -> List[dict]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_workers(scenarios: List[dict], world_size: int = 2, timeout: float = 150.0) -> List[str]:
    """Runs ``ddp_worker.py`` over ``scenarios`` as ``world_size`` gloo processes on this machine.

    Each scenario gets a free ``port``. Returns each process's output; fails on a
    non-zero exit or a timeout (a deadlock), after killing the processes.
    """
    ports = set()
    while len(ports) < len(scenarios):
        ports.add(free_port())
    scenarios = [dict(scenario, port=port) for scenario, port in zip(scenarios, sorted(ports))]
    processes = [subprocess.Popen([sys.executable, str(WORKER), json.dumps(scenarios)],
                                  env=_worker_env(rank, world_size), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
                 for rank in range(world_size)]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=timeout)[0])
    except subprocess.TimeoutExpired:
        _kill(processes)
        raise AssertionError(f"DDP workers did not finish within {timeout} s (deadlock?)")
    for rank, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"rank {rank} failed:\n{output}"
    return outputs


def _worker_env(rank: int, world_size: int) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(MASTER_ADDR="127.0.0.1", RANK=str(rank), LOCAL_RANK=str(rank),
               WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def _kill(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        process.wait()
