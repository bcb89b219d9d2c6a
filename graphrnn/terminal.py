"""Whether output goes to a person at a terminal (progress bars) or to a log (plain lines)."""
from __future__ import annotations

import sys
from typing import Any, Optional

__all__ = ["is_terminal"]


def is_terminal(stream: Optional[Any] = None) -> bool:
    """``stream`` (default: ``sys.stderr``, where progress goes) is an interactive terminal;
    ``False`` for files, pipes, captured or closed streams and objects without ``isatty``."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
