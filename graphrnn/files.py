"""Files written whole or not at all: checkpoints, ``command.json``, the results of ``graphrnn reproduce``.

Every writer goes through :func:`write_atomic`: the content goes to a temporary file in the
same folder, which then replaces the target with one rename, so a crash, a full disk or a
Ctrl-C leaves either the previous file or the new one, never half of one. The new file gets
the permissions of any new file under the umask (:func:`new_file_mode`), not the private
``0o600`` of :func:`tempfile.mkstemp`.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Union

__all__ = ["write_atomic", "new_file_mode"]


def new_file_mode() -> int:
    """The permissions ``open(path, "w")`` gives a new file under this process's umask (``0o644`` under ``022``)."""
    umask = os.umask(0o077)  # read by setting it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Union[str, os.PathLike], write: Callable[[IO], None], binary: bool = False,
                 durable: bool = False) -> Path:
    """Calls ``write(handle)`` on a temporary file next to ``path``, then renames it to ``path``.

    Args:
        path: the file to write (its folder is created).
        write: writes the content to the open handle (text, UTF-8; bytes with ``binary=True``).
        binary (bool): open the handle in binary mode.
        durable (bool): ``fsync`` the file and its folder, so the rename survives a power cut
            (checkpoints; best effort where the platform does not allow it).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OSError: if the file cannot be written (the previous file, if any, is kept).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
            os.fchmod(handle.fileno(), new_file_mode())
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        _remove_quietly(temporary)
        raise
    if durable:
        _fsync_directory(path.parent)
    return path


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_directory(directory: Path) -> None:
    """Makes a rename durable where the platform allows it (best effort)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
