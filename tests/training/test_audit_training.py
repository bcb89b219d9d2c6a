"""Devices that torch names but this machine cannot use are refused before any work, with what to use."""
import pytest
import torch
from training_testing import make_dataset, make_model

from graphrnn.training import TrainConfig, Trainer, resolve_device


def _fake_cuda(monkeypatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has an MPS device")
def test_mps_without_mps_is_refused():
    # before: torch.device('mps') was accepted and training died in the first .to() with a RuntimeError
    with pytest.raises(ValueError, match=r"device 'mps' asks for MPS but this torch .* no usable mps device; "
                                         r"use device='cpu'"):
        resolve_device("mps")


@pytest.mark.parametrize("device", ["meta", "hpu"])
def test_devices_that_cannot_compute_are_refused(device):
    # before: 'meta' trained until Tensor.item() failed on a meta tensor
    with pytest.raises(ValueError, match=rf"device '{device}' is a '{device}' device, on which graphrnn cannot "
                                         r"train or predict; use 'auto', 'cpu'"):
        resolve_device(device)


def test_cuda_index_beyond_the_visible_gpus_is_refused(monkeypatch):
    _fake_cuda(monkeypatch, 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"'cuda:3' asks for CUDA device 3, but torch sees 1 \(cuda:0 to cuda:0"):
        resolve_device("cuda:3")


def test_cuda_without_index_under_torchrun_checks_the_local_rank(monkeypatch):
    _fake_cuda(monkeypatch, 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("cuda") == torch.device("cuda", 1)
    monkeypatch.setenv("LOCAL_RANK", "2")  # 3 processes on a 2-GPU machine
    with pytest.raises(ValueError, match=r"'cuda' asks for CUDA device 2, but torch sees 2"):
        resolve_device("cuda")


def test_cpu_and_auto_still_resolve():
    assert resolve_device("cpu") == resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("cpu:0").type == "cpu"


def test_trainer_refuses_a_meta_device_when_built(tmp_path):
    config = TrainConfig(epochs=1, batch_size=8, device="meta", out=tmp_path / "run")
    with pytest.raises(ValueError, match="'meta' device"):
        Trainer(make_model(), lambda model, batch: model(batch.x).sum(), make_dataset(8), config)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
