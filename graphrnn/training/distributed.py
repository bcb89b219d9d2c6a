"""Helpers for data-parallel training under ``torchrun`` (``torch.distributed``).

A process is *launched distributed* when ``torchrun`` (or you) set the environment
variable ``WORLD_SIZE`` to more than 1, together with ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``. :func:`setup_distributed` then joins the
process group (gloo for CPU, NCCL for CUDA). With ``WORLD_SIZE`` unset or 1 nothing
distributed is initialised and every helper acts as for a single process:
:func:`rank` is 0, :func:`all_reduce_sums` returns its input as floats.

Launch on one machine with ``torchrun --standalone --nproc_per_node=N ...``; on
several machines run on each ``torchrun --nnodes=M --nproc_per_node=N
--rdzv_backend=c10d --rdzv_endpoint=HOST:PORT --rdzv_id=JOB ...``.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Union

import torch
import torch.distributed as dist

__all__ = [
    "is_distributed",
    "launched_distributed",
    "rank",
    "local_rank",
    "world_size",
    "is_main_process",
    "setup_distributed",
    "cleanup_distributed",
    "barrier",
    "all_reduce_sums",
    "broadcast_object",
    "all_gather_objects",
]

Number = Union[int, float, torch.Tensor]


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ValueError(f"environment variable {name}={value!r} must be an integer") from error


def launched_distributed() -> bool:
    """Returns whether the environment asks for several processes (``WORLD_SIZE`` > 1).

    Returns:
        True under ``torchrun --nproc_per_node=N`` with ``N * nodes > 1``.
    """
    return _env_int("WORLD_SIZE", 1) > 1


def is_distributed() -> bool:
    """Returns whether this process is one of several in an initialised process group.

    Returns:
        True when a process group with more than one process is initialised.
    """
    return _initialized() and dist.get_world_size() > 1


def rank() -> int:
    """Returns this process's global rank (0 for a single process).

    Before the process group is initialised the rank is read from ``RANK``.

    Returns:
        The rank, in ``[0, world_size())``.
    """
    return dist.get_rank() if _initialized() else _env_int("RANK", 0)


def local_rank() -> int:
    """Returns this process's rank on its machine (``LOCAL_RANK``, 0 when unset).

    Returns:
        The local rank.
    """
    return _env_int("LOCAL_RANK", 0)


def world_size() -> int:
    """Returns the number of processes (1 for a single process).

    Before the process group is initialised the size is read from ``WORLD_SIZE``.

    Returns:
        The world size.
    """
    return dist.get_world_size() if _initialized() else _env_int("WORLD_SIZE", 1)


def is_main_process() -> bool:
    """Returns whether this is rank 0, the process that logs and writes files.

    Returns:
        True for rank 0 (and for a single process).
    """
    return rank() == 0


def setup_distributed(device: Union[str, torch.device]) -> bool:
    """Joins the process group if launched distributed and not yet joined.

    The backend is NCCL when ``device`` is a CUDA device (which also becomes the
    current CUDA device), else gloo. Rendezvous uses the ``env://`` variables set
    by ``torchrun``.

    Args:
        device: the device this process trains on.

    Returns:
        True if this call initialised the process group (so the caller should
        :func:`cleanup_distributed` it), False if there was nothing to do.

    Raises:
        RuntimeError: if launched distributed but ``torch.distributed`` is unavailable.
        ValueError: if a rendezvous variable (e.g. ``MASTER_ADDR``) is missing.
    """
    if not launched_distributed() or _initialized():
        return False
    if not dist.is_available():
        raise RuntimeError(
            f"WORLD_SIZE={os.environ['WORLD_SIZE']} asks for distributed training, but this torch "
            "build has no torch.distributed; run a single process (unset WORLD_SIZE)"
        )
    device = torch.device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, init_method="env://")
    return True


def cleanup_distributed() -> None:
    """Destroys the process group, if one is initialised (else does nothing)."""
    if _initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Waits until every process gets here (no-op for a single process)."""
    if is_distributed():
        dist.barrier()


def _reduce_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sums(values: Mapping[str, Number]) -> Dict[str, float]:
    """Sums each named value over all processes (in float64).

    Processes may report different names (e.g. one whose shard had no batches
    reports none): a name missing on a process counts as 0 there.

    Args:
        values: name -> number or one-element tensor (this process's partial sum).

    Returns:
        name -> the total over all processes, as a Python float; every process gets
        the same dict.
    """
    local = {name: _as_float(value) for name, value in values.items()}
    if not is_distributed():
        return local
    names = sorted(set().union(*all_gather_objects(sorted(local))))
    if not names:
        return {}
    totals = torch.tensor([local.get(name, 0.0) for name in names], dtype=torch.float64,
                          device=_reduce_device())
    dist.all_reduce(totals, op=dist.ReduceOp.SUM)
    return dict(zip(names, totals.tolist()))


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Sends a picklable object from rank ``src`` to every process.

    Args:
        obj: the object (only rank ``src``'s value matters).
        src: the sending rank.

    Returns:
        Rank ``src``'s object, on every process (``obj`` itself for a single process).
    """
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_objects(obj: Any) -> List[Any]:
    """Collects one picklable object from every process.

    Args:
        obj: this process's object.

    Returns:
        The objects ordered by rank, on every process (``[obj]`` for a single process).
    """
    if not is_distributed():
        return [obj]
    gathered: List[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def _as_float(value: Number) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"all_reduce_sums takes numbers or one-element tensors, got a tensor of shape "
                f"{tuple(value.shape)}; sum it first"
            )
        return float(value.detach().double().item())
    return float(value)
