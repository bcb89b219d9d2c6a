"""Devices that torch names but this machine cannot use are refused before any work, with what to use; a resumed
run that would choose best.pt by another metric or direction is refused."""
import pytest
import torch
from training_testing import config, make_dataset, make_model, mse_loss

from graphrnn.training import CheckpointError, TrainConfig, Trainer, resolve_device


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


def _fit(out, **settings):
    trainer = Trainer(make_model(), mse_loss, make_dataset(32), config(out=out, **settings),
                      eval_data=make_dataset(16, seed=1))
    trainer.fit()
    return trainer


@pytest.mark.parametrize("changed, message", [
    ({"mode": "max"}, r"by mode='min', this run has mode='max'"),
    ({"monitor": "train_loss"}, r"by monitor='loss', this run has monitor='train_loss'"),
])
def test_resume_that_would_choose_best_pt_another_way_is_refused(tmp_path, changed, message):
    # before: only a warning, and with mode='max' the restored best (a low loss) was "beaten" by any higher
    # loss, so a worse epoch replaced best.pt
    _fit(tmp_path, epochs=1)
    best = (tmp_path / "best.pt").read_bytes()
    with pytest.raises(CheckpointError, match=message + r": the best value so far would be compared .* resume with"):
        _fit(tmp_path, epochs=3, resume=True, **changed)
    assert (tmp_path / "best.pt").read_bytes() == best
    assert len(_fit(tmp_path, epochs=2, resume=True).history) == 2  # the same selection resumes


def test_an_out_that_is_not_a_path_is_a_type_error_naming_the_setting():
    # before: TypeError "expected str, bytes or os.PathLike object, not int" from pathlib, when fit() started
    with pytest.raises(TypeError, match=r"TrainConfig.out must be a directory path \(str or pathlib.Path\) or None, "
                                        r"got int 3"):
        TrainConfig(epochs=1, out=3)
