"""One-line ``repr`` for layers that hold submodules, as PyG layers print (``ChainRNN(16, 32, cell='lstm')``)."""
from __future__ import annotations

__all__ = ["OneLineRepr"]


class OneLineRepr:
    """Mixin placed before ``torch.nn.Module`` (or PyG's ``MessagePassing``): ``repr`` is
    ``Name(<extra_repr()>)`` on one line instead of torch's nested listing of every submodule."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
