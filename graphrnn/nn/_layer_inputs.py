"""Input checks shared by the reference recurrent layers (Tree-LSTMs, DAGNN); private.

Every check raises a ``ValueError``/``TypeError`` that says what came and what to do. The checks
that read tensor values (NaN, node ids in range) are skipped while ``torch.compile`` traces, where
they would break the graph; shapes and dtypes are always checked.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from graphrnn.graph.checks import check_edge_index_format, device_assert

from .validation import check_dtype, check_index_device


def check_node_features(x: Tensor, in_channels: int, layer: str, weight: Optional[Tensor] = None) -> None:
    """``x`` must be a finite float tensor ``[N, in_channels]`` of the layer's dtype (``weight``'s).

    The finite check is a :func:`~graphrnn.graph.checks.device_assert`: no host-device sync on a GPU.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: x must be a torch.Tensor [num_nodes, {in_channels}], got {type(x).__name__}")
    if x.dim() != 2 or x.size(1) != in_channels:
        raise ValueError(f"{layer}: x must have shape [num_nodes, in_channels={in_channels}], got {list(x.shape)}; "
                         "embed token ids first (e.g. with torch.nn.Embedding)")
    if not x.is_floating_point():
        raise ValueError(f"{layer}: x must be floating point, got dtype {x.dtype}; embed token ids first")
    if weight is not None:
        check_dtype(x, weight, "x", layer)
    if not torch.compiler.is_compiling() and x.numel():
        device_assert(torch.isfinite(x).all(), f"{layer}: x has a NaN or inf value; it would spread to every node "
                                               "it reaches. Clean the input first")


def check_edges(edge_index: Tensor, num_nodes: int, layer: str, x: Optional[Tensor] = None, rows: str = "x") -> None:
    """``edge_index`` must be an integer ``[2, E]`` tensor of node ids in ``[0, num_nodes)`` (the rows of the tensor
    named ``rows``), on ``x``'s device.

    The range is one :func:`~graphrnn.graph.checks.device_assert`: asynchronous on an accelerator,
    read from host memory on the CPU (no ``item``); the offending id is looked up only on failure."""
    check_edge_index_format(edge_index, f"{layer}: ")
    if x is not None:
        check_index_device(edge_index, x)
    if torch.compiler.is_compiling() or edge_index.numel() == 0:
        return

    def explain() -> str:
        bad = int(edge_index.min()) if int(edge_index.min()) < 0 else int(edge_index.max())
        return (f"{layer}: edge_index refers to node {bad}, but {rows} has {num_nodes} rows "
                f"(valid ids 0..{num_nodes - 1})")

    device_assert(((edge_index >= 0) & (edge_index < num_nodes)).all(),
                  f"{layer}: edge_index refers to a node outside 0..{num_nodes - 1} ({rows} has {num_nodes} rows)",
                  explain)


def check_edge_vector(value: Optional[Tensor], num_edges: int, name: str, layer: str,
                      x: Optional[Tensor] = None, features: str = "x") -> Optional[Tensor]:
    """An optional integer per-edge vector ``[E]`` (edge types, child positions), on the device of ``x`` (named
    ``features`` in the message) when given."""
    if value is None:
        return None
    if not isinstance(value, Tensor) or value.dim() != 1 or value.numel() != num_edges:
        shape = list(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"{layer}: {name} must be a LongTensor [E]=[{num_edges}] (one entry per edge), got {shape}")
    if x is not None:
        check_index_device(value, x, name, features)
    if value.is_floating_point() or value.dtype == torch.bool:
        raise ValueError(f"{layer}: {name} must hold integers (torch.long), got dtype {value.dtype}")
    return value.long()
