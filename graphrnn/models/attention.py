"""``graphrnn.models.Attention`` is the layer :class:`graphrnn.nn.Attention` (kept here for its users)."""
from graphrnn.nn.attention import KINDS, Attention

__all__ = ["Attention", "KINDS"]
