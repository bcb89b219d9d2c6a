"""Small input checks shared by the graph builders (private).

Every helper raises an error that says what is wrong and what to do about it.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

_VOCAB_HINT = "map string tokens or labels to integer ids with a vocabulary first"


def to_tensor(value: Any, name: str) -> Tensor:
    """Converts ``value`` (tensor, list, numpy array, number) with :func:`torch.as_tensor`.

    Args:
        value: anything :func:`torch.as_tensor` accepts.
        name (str): argument name used in error messages.

    Returns:
        Tensor: ``value`` itself when it already is a tensor.

    Raises:
        ValueError: if ``value`` cannot be converted (e.g. it holds strings or ragged rows).
    """
    if isinstance(value, Tensor):
        return value
    if value is None:
        raise TypeError(f"{name} must be a tensor, list or numpy array, got None")
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(
            f"could not convert {name} to a tensor ({err}); {name} must hold numbers "
            f"with equal-length rows — {_VOCAB_HINT}"
        ) from err


def require_integer(tensor: Tensor, name: str) -> Tensor:
    """Returns ``tensor`` as ``torch.long`` after checking it holds integer ids.

    Raises:
        ValueError: if ``tensor`` is floating point, complex or boolean (an empty
            tensor of any dtype is accepted: ``torch.as_tensor([])`` is float).
    """
    if tensor.numel() > 0 and (tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool):
        raise ValueError(
            f"{name} must hold integer ids (torch.long), got dtype {tensor.dtype}; "
            f"{_VOCAB_HINT} (or cast with .long() if the values are whole numbers)"
        )
    return tensor.long()


def to_index_vector(value: Any, name: str) -> Tensor:
    """Converts ``value`` to a 1-D ``LongTensor`` of integer ids.

    Raises:
        ValueError: if ``value`` is not 1-D or does not hold integers.
    """
    tensor = require_integer(to_tensor(value, name), name)
    if tensor.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one entry per node), got shape {list(tensor.shape)}")
    return tensor


def to_float_features(value: Any, name: str) -> Tensor:
    """Converts ``value`` to a floating-point tensor (integer inputs become the default float dtype).

    Raises:
        ValueError: if ``value`` cannot be converted or is complex.
    """
    tensor = to_tensor(value, name)
    if tensor.is_complex():
        raise ValueError(f"{name} must hold real features, got dtype {tensor.dtype}")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return tensor
