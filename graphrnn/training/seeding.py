"""Seeds and random-number-generator states, for reproducible and resumable runs.

Determinism. On CPU, a run is a function of its seed: two :meth:`Trainer.fit
<graphrnn.training.Trainer.fit>` calls with the same seed, data, model
initialisation and torch version give bit-identical parameters, and a run that is
interrupted and resumed from its checkpoint ends with the same parameters as one
that was not (the checkpoint stores every generator's state). The shuffling
order of epoch ``e`` comes from its own ``torch.Generator`` seeded from
``(seed, e)`` (:func:`epoch_generator`), so it does not depend on how many random
numbers earlier epochs drew. On CUDA, some kernels are nondeterministic; for
bit-identical GPU runs call ``torch.use_deterministic_algorithms(True)`` and set
``CUBLAS_WORKSPACE_CONFIG=:4096:8`` yourself (the Trainer does not change these
process-wide switches).

These functions touch the *global* generators of Python, NumPy and torch on
purpose: they are what the Trainer uses to seed a run and to save/restore it.
Library code elsewhere takes a ``torch.Generator`` instead.
"""
from __future__ import annotations

import random
from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import torch

from graphrnn.counts import is_int

__all__ = ["seed_everything", "epoch_generator", "get_rng_state", "set_rng_state"]

_NUMPY_SEED_MODULUS = 2**32
_EPOCH_SEED_STRIDE = 1_000_003  # a prime, so that (seed, epoch) pairs do not collide in practice


def seed_everything(seed: int) -> None:
    """Seeds Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Args:
        seed: a non-negative integer (NumPy receives ``seed mod 2**32``).

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.
    """
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)  # random.seed refuses numpy integers
    random.seed(seed)
    np.random.seed(seed % _NUMPY_SEED_MODULUS)
    torch.manual_seed(seed)  # also seeds every CUDA device


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """Returns a CPU ``torch.Generator`` seeded from ``(seed, epoch)``.

    Args:
        seed: the run's seed.
        epoch: 0-based epoch index.

    Returns:
        A fresh generator; the same ``(seed, epoch)`` always gives the same stream.
    """
    generator = torch.Generator()
    generator.manual_seed((seed * _EPOCH_SEED_STRIDE + epoch) % 2**63)
    return generator


def get_rng_state() -> Dict[str, Any]:
    """Returns the states of the global Python, NumPy and torch (CPU, CUDA) generators.

    Returns:
        A dict of tensors and plain Python values only, so that a checkpoint holding
        it loads with ``torch.load(..., weights_only=True)``: ``python`` (the tuple of
        ``random.getstate()`` as lists), ``numpy`` (the legacy state, keys as an int64
        tensor), ``torch`` (uint8 tensor) and ``cuda`` (list of uint8 tensors, one per
        device, or ``None`` without CUDA).
    """
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    return {
        "python": [version, list(internal), gauss],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restores the generators from :func:`get_rng_state`'s output.

    CUDA states are restored only when this machine has as many CUDA devices as the
    one that saved them (otherwise the CUDA generators are left as they are).

    Args:
        state: a dict from :func:`get_rng_state`.

    Raises:
        KeyError: if ``state`` lacks one of the generators.
    """
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    _set_cuda_rng_state(state.get("cuda"))


def _set_cuda_rng_state(cuda_states: Optional[List[torch.Tensor]]) -> None:
    if cuda_states is None or not torch.cuda.is_available():
        return
    if len(cuda_states) != torch.cuda.device_count():
        return
    torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])
