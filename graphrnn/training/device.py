"""Device choice and moving batches to a device."""
from __future__ import annotations

import os
from typing import Any, Mapping, Union

import torch
from torch_geometric.data.data import BaseData

__all__ = ["resolve_device", "move_to", "batch_size_of"]


def resolve_device(device: Union[str, torch.device, None] = "auto") -> torch.device:
    """Turns a device setting into a ``torch.device``.

    ``"auto"`` (or ``None``) means CUDA when available, else CPU. Under ``torchrun``
    a CUDA device without an index becomes ``cuda:<LOCAL_RANK>``, so each process
    of a machine gets its own GPU.

    Args:
        device: ``"auto"``, ``None``, a device string (``"cpu"``, ``"cuda"``,
            ``"cuda:1"``) or a ``torch.device``.

    Returns:
        The device.

    Raises:
        ValueError: if the string is not a device, names a device that torch does not see here (CUDA
            on a machine without it, ``cuda:3`` with fewer GPUs, ``mps`` off a Mac), or one that
            cannot compute (``meta``).
    """
    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device {device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
        ) from error
    if resolved.type == "cuda":
        return _cuda_device(device, resolved)
    if resolved.type in _OTHER_ACCELERATORS:
        _check_available(device, resolved)
    elif resolved.type != "cpu":  # meta (tensors without values), hpu, ...
        raise ValueError(
            f"device {device!r} is a {resolved.type!r} device, on which graphrnn cannot train or predict; "
            "use 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
        )
    return resolved


#: Accelerators other than CUDA that torch may have, each checked with ``torch.<type>.is_available()``.
_OTHER_ACCELERATORS = ("mps", "xpu")


def _cuda_device(device: Any, resolved: torch.device) -> torch.device:
    """``resolved`` after checking that torch sees it (``cuda`` alone becomes ``cuda:<LOCAL_RANK>``)."""
    if not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} asks for CUDA but torch sees no CUDA device "
            f"(torch {torch.__version__}); use device='cpu' or 'auto'"
        )
    if resolved.index is None:
        resolved = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    count = torch.cuda.device_count()
    if resolved.index >= count:
        raise ValueError(
            f"device {device!r} asks for CUDA device {resolved.index}, but torch sees {count} "
            f"(cuda:0 to cuda:{count - 1}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '(unset)')}); "
            "use one of them, or 'auto'"
        )
    return resolved


def _check_available(device: Any, resolved: torch.device) -> None:
    backend = getattr(torch, resolved.type, None) if resolved.type != "mps" else torch.backends.mps
    if backend is None or not backend.is_available():
        raise ValueError(
            f"device {device!r} asks for {resolved.type.upper()} but this torch ({torch.__version__}) has no "
            f"usable {resolved.type} device; use device='cpu' or 'auto'"
        )


def move_to(obj: Any, device: Union[str, torch.device], non_blocking: bool = False) -> Any:
    """Moves tensors to ``device``, recursively through tuples, lists and dicts.

    Tensors, PyG ``Data``/``Batch`` and other objects with a ``.to(device)`` method
    are moved with it; tuples, named tuples, lists and dicts keep their type;
    anything else (numbers, strings, ``None``) is returned as is.

    Args:
        obj: a batch: tensor, PyG ``Data``/``Batch``, or nested tuple/list/dict of them.
        device: the target device.
        non_blocking: passed to tensor ``.to`` calls.

    Returns:
        The same structure on ``device``.
    """
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, Mapping):
        return _same_mapping_type(obj, {key: move_to(value, device, non_blocking) for key, value in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # named tuple
        return type(obj)(*(move_to(value, device, non_blocking) for value in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(move_to(value, device, non_blocking) for value in obj)
    if isinstance(obj, BaseData):
        return obj.to(device, non_blocking=non_blocking)
    if callable(getattr(obj, "to", None)):
        return obj.to(device)
    return obj


def batch_size_of(batch: Any) -> int:
    """Returns the number of items in a batch, to weight per-batch means.

    A PyG ``Batch`` counts its graphs, a tensor its first dimension, a tuple/list
    or dict its first element; anything else counts as 1.

    Args:
        batch: a batch as produced by a data loader.

    Returns:
        The number of items (at least 0).
    """
    num_graphs = getattr(batch, "num_graphs", None)
    if isinstance(num_graphs, int):
        return num_graphs
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() > 0 else 1
    if isinstance(batch, Mapping) and batch:
        return batch_size_of(next(iter(batch.values())))
    if isinstance(batch, (tuple, list)) and batch:
        return batch_size_of(batch[0])
    return 1


def _same_mapping_type(original: Mapping, moved: dict) -> Mapping:
    """Rebuilds ``moved`` with ``original``'s mapping type when that type allows it."""
    if type(original) is dict:
        return moved
    try:
        return type(original)(moved)
    except TypeError:  # e.g. defaultdict, whose first argument is a factory
        return moved
