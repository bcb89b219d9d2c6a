"""Helpers shared by the experiment modules."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Union

__all__ = ["run_directory"]


@contextlib.contextmanager
def run_directory(out: Optional[Union[str, Path]]) -> Iterator[Path]:
    """``out`` as a ``Path``, or, when it is ``None``, a temporary directory removed on exit
    (for runs whose checkpoints are only needed until their best epoch is read back)."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)
