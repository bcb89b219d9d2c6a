"""Checkpoint files: written atomically, read with clear errors.

A graphrnn checkpoint is one ``torch.save`` file holding a dict with the format
marker ``format == "graphrnn.checkpoint"`` and ``version``, plus what the writer
put in it. The :class:`~graphrnn.training.Trainer` writes

=================  ==========================================================
``model``          the (unwrapped) model's ``state_dict``
``optimizer``      the optimizer's ``state_dict``
``scheduler``      the LR scheduler's ``state_dict``, or ``None``
``rng``            one :func:`~graphrnn.training.seeding.get_rng_state` per process
``epoch``          number of epochs done
``step``           number of optimizer steps done
``history``        list of per-epoch metric dicts
``early_stopping`` ``{"best", "best_epoch", "bad_epochs"}``
``config``         :meth:`TrainConfig.to_dict <graphrnn.training.TrainConfig.to_dict>`
``extra_state``    the task's own state (its settings, vocabulary, ...), or ``None``
``world_size``     number of processes of the run
=================  ==========================================================

Everything in it is a tensor or a plain Python value, so it loads with
``torch.load(path, weights_only=True)``: no arbitrary code runs when reading it.
"""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Tuple, Type, Union

import torch

from graphrnn.files import write_atomic

__all__ = [
    "CheckpointError",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "save_checkpoint",
    "load_checkpoint",
    "load_model_state",
    "require_entries",
    "check_weights_only",
    "non_finite_entries",
]

CHECKPOINT_FORMAT = "graphrnn.checkpoint"
CHECKPOINT_VERSION = 1

PathLike = Union[str, "os.PathLike[str]"]
_TYPE_NAMES = {type(None): "None", Mapping: "dict"}


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, not graphrnn's, or does not fit the model."""


def save_checkpoint(path: PathLike, checkpoint: Mapping[str, Any]) -> Path:
    """Writes ``checkpoint`` to ``path`` atomically, adding the format marker and version.

    The file is written to a temporary file in the same directory, flushed and
    fsynced, then renamed over ``path`` with ``os.replace``. A crash at any point
    leaves either the previous file or the new one, never a partial file, and no
    temporary file is left behind when the write fails with an exception. The file gets
    the permissions of any new file under the umask (:func:`graphrnn.files.new_file_mode`).

    Args:
        path: the file to write (its directory is created if needed).
        checkpoint: a dict of tensors and plain Python values.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: if the file cannot be written (the previous file, if any, is kept).
    """
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **checkpoint}
    return write_atomic(path, lambda handle: torch.save(payload, handle), binary=True, durable=True)


def load_checkpoint(path: PathLike, map_location: Any = "cpu") -> Dict[str, Any]:
    """Reads a graphrnn checkpoint with ``weights_only=True`` and checks its marker.

    Args:
        path: the checkpoint file.
        map_location: passed to ``torch.load`` (default: everything on CPU).

    Returns:
        The checkpoint dict (with ``format`` and ``version``).

    Raises:
        CheckpointError: if the file is missing, truncated or corrupted, holds
            objects other than tensors and plain values, is not a graphrnn
            checkpoint (e.g. a bare ``state_dict``), or has an unknown version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path.resolve()}: resuming (--resume, TrainConfig.resume=True) "
            f"needs the --out directory of a previous run, which holds {path.name}; "
            "check the path, or start a fresh run without --resume"
        )
    checkpoint = _read(path, map_location)
    _check_format(path, checkpoint)
    return checkpoint


def require_entries(checkpoint: Mapping[str, Any], expected: Mapping[str, Union[Type, Tuple[Type, ...]]],
                    path: PathLike, purpose: str) -> None:
    """Checks that ``checkpoint`` (or a dict inside it) holds every entry of ``expected``, of its type.

    One check for every reader of checkpoints (resuming, ``load_best``, :func:`graphrnn.load`),
    so that an edited, foreign or damaged file is a :class:`CheckpointError` naming the entry
    instead of a ``KeyError`` or ``AttributeError`` deep in the reader.

    Args:
        checkpoint: the checkpoint dict (or one of its dicts, e.g. its inference settings).
        expected: entry name -> type (or tuple of types) its value must have.
        path: the file, for the message.
        purpose: what needs the entries, e.g. ``"resuming"``.

    Raises:
        CheckpointError: naming the missing entries, or the first entry of another type.
    """
    missing = [name for name in expected if name not in checkpoint]
    if missing:
        raise CheckpointError(
            f"{path} lacks {missing}, which {purpose} needs; it was not written by graphrnn (Trainer or "
            "graphrnn train) or was edited: pass a checkpoint.pt or best.pt that graphrnn wrote, or train again"
        )
    for name, kind in expected.items():
        if not isinstance(checkpoint[name], kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            allowed = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise CheckpointError(
                f"{path} is damaged: its {name!r} is {type(checkpoint[name]).__name__}, where {purpose} needs "
                f"{allowed}; resume or predict from another copy (best.pt holds the best epoch), or train again"
            )


def load_model_state(model: torch.nn.Module, state_dict: Mapping[str, Any], source: str = "checkpoint") -> None:
    """Loads ``state_dict`` into ``model`` after checking that names and shapes match.

    Nothing is loaded when they do not match, so ``model`` is never left half-loaded.

    Args:
        model: the model (not wrapped in ``DistributedDataParallel``).
        state_dict: parameters and buffers, e.g. ``load_checkpoint(path)["model"]``.
        source: where ``state_dict`` comes from, for the error message.

    Raises:
        CheckpointError: if a parameter or buffer is missing, unexpected, of another shape, or of
            another kind of dtype (complex, float, integer or bool; float32 into float64 is fine).
    """
    problems = _state_dict_mismatches(model.state_dict(), state_dict)
    if problems:
        shown = "; ".join(problems[:6]) + ("; ..." if len(problems) > 6 else "")
        raise CheckpointError(
            f"{source} does not fit the model ({len(problems)} mismatches: {shown}); build the "
            "model with the same settings as the run that wrote it (see the checkpoint's "
            "'config' and 'extra_state'), or start a fresh run in a new --out directory"
        )
    model.load_state_dict(state_dict)


def check_weights_only(value: Any, name: str) -> None:
    """Checks that ``value`` survives ``torch.save`` + ``torch.load(weights_only=True)``.

    Args:
        value: what is about to be stored in a checkpoint.
        name: how to call it in the error message.

    Raises:
        ValueError: if ``value`` holds something other than tensors and plain
            Python values (dict, list, tuple, str, int, float, bool, None).
    """
    buffer = io.BytesIO()
    try:
        torch.save(value, buffer)
        buffer.seek(0)
        torch.load(buffer, weights_only=True)
    except Exception as error:  # any pickling or unpickling failure means "not storable"
        raise ValueError(
            f"{name} must hold only tensors and plain Python values (dict, list, tuple, str, "
            f"int, float, bool, None) so that checkpoints load with weights_only=True; convert "
            f"objects first (e.g. a vocabulary to its list of tokens): {error}"
        ) from error


def non_finite_entries(state: Any, prefix: str = "") -> List[str]:
    """The names of the floating-point tensors of ``state`` holding NaN or infinity.

    Args:
        state: a ``state_dict`` or any nesting of dicts, lists and tuples of tensors and
            plain values (e.g. an optimizer's ``state_dict``).
        prefix: prepended to every name (for nested states).

    Returns:
        ``["name (3 NaN, 1 inf of 120)", ...]``, empty when every tensor is finite.
    """
    found: List[str] = []
    if isinstance(state, torch.Tensor):
        if state.is_floating_point() or state.is_complex():
            finite = torch.isfinite(state)
            if not bool(finite.all()):
                nans = int(torch.isnan(state).sum())
                found.append(f"{prefix or 'tensor'} ({nans} NaN, {int((~finite).sum()) - nans} inf "
                             f"of {state.numel()})")
    elif isinstance(state, Mapping):
        for key, value in state.items():
            found += non_finite_entries(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, (list, tuple)):
        for index, value in enumerate(state):
            found += non_finite_entries(value, f"{prefix}[{index}]")
    return found


def _read(path: Path, map_location: Any) -> Any:
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path} holds objects other than tensors and plain Python values, so it is not a "
            f"graphrnn checkpoint (or it is corrupted); it was not loaded: {_first_line(error)}"
        ) from error
    except Exception as error:  # a damaged file makes the unpickler fail in many ways (EOFError, IndexError, ...)
        raise CheckpointError(
            f"{path} is truncated or corrupted and cannot be read ({_first_line(error)}); "
            "delete it and start again, or resume from a copy (best.pt holds the best epoch)"
        ) from error


def _check_format(path: Path, checkpoint: Any) -> None:
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        hint = _foreign_hint(checkpoint)
        raise CheckpointError(
            f"{path} is not a graphrnn checkpoint (no format marker {CHECKPOINT_FORMAT!r}){hint}; "
            "pass a checkpoint.pt written by graphrnn's Trainer or save_checkpoint"
        )
    version = checkpoint.get("version")
    if not isinstance(version, int) or not 1 <= version <= CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {version!r}, but this graphrnn reads versions 1 to "
            f"{CHECKPOINT_VERSION}; upgrade graphrnn to read it, or start a fresh run"
        )


def _foreign_hint(checkpoint: Any) -> str:
    if isinstance(checkpoint, dict) and checkpoint and all(
        isinstance(v, torch.Tensor) for v in checkpoint.values()
    ):
        return ": it looks like a bare state_dict, load it with model.load_state_dict(torch.load(path))"
    return f" (it holds a {type(checkpoint).__name__})"


def _state_dict_mismatches(expected: Mapping[str, Any], found: Mapping[str, Any]) -> List[str]:
    if not isinstance(found, Mapping):
        return [f"the model entry is a {type(found).__name__}, not a state_dict"]
    problems = [f"missing {name!r}" for name in expected if name not in found]
    problems += [f"unexpected {name!r}" for name in found if name not in expected]
    problems += list(_shape_mismatches(expected, found, (n for n in expected if n in found)))
    return problems


def _shape_mismatches(expected: Mapping[str, Any], found: Mapping[str, Any], names: Iterable[str]) -> Iterable[str]:
    for name in names:
        want, have = expected[name], found[name]
        if isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor) and want.shape != have.shape:
            yield f"{name!r} has shape {tuple(have.shape)} in the checkpoint, {tuple(want.shape)} in the model"
        elif isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor) and _kind(want) != _kind(have):
            # load_state_dict would cast, dropping imaginary parts or fractions silently
            yield f"{name!r} holds {have.dtype} in the checkpoint, {want.dtype} in the model"


def _kind(tensor: torch.Tensor) -> str:
    """A dtype's kind: a cast within one kind (float32 <-> float64) keeps the values, across kinds it does not."""
    if tensor.is_complex():
        return "complex"
    if tensor.is_floating_point():
        return "float"
    return "bool" if tensor.dtype == torch.bool else "integer"


def _first_line(error: BaseException, width: int = 160) -> str:
    """``Type: first line of the message``, cut at ``width`` (torch's zip errors run to 600 characters; a text
    file given as a checkpoint fails in the unpickler with a bare ``KeyError: 101``)."""
    text = str(error).strip()
    line = f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
    return line if len(line) <= width else line[:width].rstrip() + "..."
