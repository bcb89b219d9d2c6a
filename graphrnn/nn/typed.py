r"""Per-edge-type weights, as in relational GNNs (``RGCNConv``)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from graphrnn.graph.checks import device_assert

from .validation import check_dtype, check_index_device, check_positive_ints

__all__ = ["TypedLinear"]


class TypedLinear(nn.Module):
    r"""A linear map with one weight matrix per type.

    .. math::
        \mathbf{y}_e = \mathbf{W}_{r_e} \mathbf{x}_e + \mathbf{b}_{r_e}

    Rows of one type are gathered and multiplied together: :math:`R` matrix products
    per call, whatever the number of rows.

    Args:
        in_channels (int): input size :math:`D`.
        out_channels (int): output size :math:`F`.
        num_types (int): number of types :math:`R`.
        bias (bool): add a per-type bias. (default: ``True``)

    Shapes:
        - **input:** :math:`(E, D)` and types :math:`(E)` in ``[0, R)``.
        - **output:** :math:`(E, F)`.
    """

    def __init__(self, in_channels: int, out_channels: int, num_types: int, bias: bool = True) -> None:
        super().__init__()
        in_channels, out_channels, num_types = check_positive_ints(type(self).__name__, in_channels=in_channels,
                                                                   out_channels=out_channels, num_types=num_types)
        self.in_channels, self.out_channels, self.num_types = in_channels, out_channels, num_types
        self.weight = nn.Parameter(torch.empty(num_types, out_channels, in_channels))
        self.bias = nn.Parameter(torch.empty(num_types, out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform :math:`\\mathcal{U}(-1/\\sqrt{D}, 1/\\sqrt{D})`, as ``torch.nn.Linear``."""
        bound = 1.0 / math.sqrt(self.in_channels)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, types: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must have shape [rows, in_channels={self.in_channels}], got {shape}")
        check_dtype(x, self.weight, "x", type(self).__name__)
        if not isinstance(types, Tensor) or types.shape != (x.size(0),):
            shape = list(types.shape) if isinstance(types, Tensor) else type(types).__name__
            raise ValueError(f"types must have shape [rows]=[{x.size(0)}], got {shape}")
        if types.dtype not in (torch.int64, torch.int32):  # a float type such as 0.5 matched no weight: rows left empty
            raise ValueError(f"types must hold integer type ids (torch.long), got dtype {types.dtype}")
        check_index_device(types, x, "types")
        if types.numel() > 0:  # a device assert: the values are read on the host only to explain a failure
            device_assert(((types >= 0) & (types < self.num_types)).all(), f"types must lie in [0, {self.num_types})",
                          lambda: f"types must lie in [0, {self.num_types}), got values in "
                                  f"[{int(types.min())}, {int(types.max())}]")
        if x.size(0) == 0:  # no rows: an empty result that still reaches the weights, so a backward runs
            return nn.functional.linear(x, self.weight[0], self.bias[0] if self.bias is not None else None)
        out = x.new_empty(x.size(0), self.out_channels)
        for r in range(self.num_types):
            rows = (types == r).nonzero().view(-1)
            if rows.numel() == 0:
                continue
            bias = self.bias[r] if self.bias is not None else None
            out = out.index_copy(0, rows, nn.functional.linear(x.index_select(0, rows), self.weight[r], bias))
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, num_types={self.num_types}, "
                f"bias={self.bias is not None}")
