"""What counts as an integer argument (sizes, counts, token ids): Python's ints and numpy's (``np.int64``
from ``labels.max() + 1`` or a shape read off an array), never a bool (``True`` is not a size)."""
from __future__ import annotations

import numbers

__all__ = ["is_int", "is_positive_int"]


def is_int(value) -> bool:
    """An integer, Python's or numpy's, but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_positive_int(value) -> bool:
    """:func:`is_int` and at least 1."""
    return is_int(value) and value >= 1
