"""Checks run on a layer's hot path: shapes and dtypes on the host, values with :func:`device_assert`.

Nothing here synchronises with an accelerator: what needs a tensor's values is either
checked where the plan is built (on the CPU) or queued as an asynchronous device assert.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from graphrnn.counts import is_int, is_positive_int
from graphrnn.graph.checks import device_assert
from graphrnn.graph.plan import TopologicalPlan

__all__ = ["refuse_tracing", "check_plan_type", "refuse_levels_with_plan",
           "check_edge_type_shape", "check_edge_inputs", "check_features",
           "check_dtype", "check_index_device", "check_positive_ints", "check_on_device",
           "check_num_graphs"]


def refuse_tracing(layer: str) -> None:
    """``torch.jit.trace`` records one graph's levels as constants and would replay them on any
    other graph, silently wrong: refuse it with a clear error (``torch.compile`` works)."""
    if torch.jit.is_tracing():
        raise TypeError(f"{layer} cannot be traced with torch.jit.trace: its loop over levels depends on the graph, "
                        "so a trace would replay one graph's schedule on every other graph. Use torch.compile "
                        "(0 graph breaks given a plan) or run it eagerly")


def check_plan_type(plan) -> None:
    if not isinstance(plan, TopologicalPlan):
        raise TypeError(f"plan must be a graphrnn.graph.TopologicalPlan (from layer.plan(edge_index, num_nodes)), "
                        f"got {type(plan).__name__}")


def refuse_levels_with_plan(level: Optional[Tensor], plan, name: str = "level") -> None:
    """Refuses precomputed levels given beside a plan: the plan carries its own levels, so the ``level`` tensor
    would be ignored without a word (and could disagree with the plan)."""
    if level is not None and plan is not None:
        raise ValueError(f"got both {name} and a plan; a plan carries its own levels (built from {name} when it "
                         f"was given to layer.plan(edge_index, num_nodes, {name})): pass one of them")


def check_edge_type_shape(edge_type: Optional[Tensor], num_edges: int, num_edge_types: Optional[int]) -> Tensor:
    """``edge_type`` of shape ``[E]`` with integer values in ``[0, num_edge_types)`` (values checked asynchronously;
    any non-negative type when ``num_edge_types`` is ``None``)."""
    if edge_type is None:
        raise ValueError(f"this layer has num_edge_types={num_edge_types}: pass edge_type (LongTensor [E]) "
                         "with the type of every edge")
    if not isinstance(edge_type, Tensor) or edge_type.dim() != 1 or edge_type.numel() != num_edges:
        shape = list(edge_type.shape) if isinstance(edge_type, Tensor) else type(edge_type).__name__
        raise ValueError(f"edge_type must be a LongTensor of shape [E]=[{num_edges}], got {shape}")
    if edge_type.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"edge_type must hold integer type ids (torch.long), got dtype {edge_type.dtype}")
    if num_edges and num_edge_types is None:
        device_assert((edge_type >= 0).all(), "edge_type holds a negative type id")
    elif num_edges:
        device_assert(((edge_type >= 0) & (edge_type < num_edge_types)).all(),
                      f"edge_type holds a type outside 0..{num_edge_types - 1} (the layer has "
                      f"num_edge_types={num_edge_types})")
    return edge_type.long()


def check_edge_inputs(edge_inputs: Dict[str, Tensor], num_edges: int) -> None:
    for name, tensor in edge_inputs.items():
        if not isinstance(tensor, Tensor) or tensor.dim() == 0 or tensor.size(0) != num_edges:
            shape = list(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
            raise ValueError(f"edge input {name!r} must have one row per edge ([E]=[{num_edges}] first), got {shape}")


def check_features(x: Tensor, name: str, enabled: bool = True, skippable: bool = True) -> None:
    """NaN/inf in ``x`` raise (asynchronously on an accelerator) unless ``enabled`` is False; ``skippable``: the
    layer has a ``check_finite`` option, which the message then names."""
    if enabled and x.numel():
        skip = ", or pass check_finite=False to skip this check" if skippable else ""
        device_assert(torch.isfinite(x).all(),
                      f"{name} has a NaN or inf value; it would spread to every node downstream. Clean the input{skip}")


def _autocast_dtype(x: Tensor, weight_dtype: torch.dtype) -> bool:
    """``x`` has the lower precision that autocast, enabled on its device, computes in (e.g. the bfloat16 output
    of a linear layer run under ``torch.autocast``): the layer's own products are autocast too."""
    device_type = x.device.type
    return (torch.is_autocast_enabled(device_type) and x.dtype == torch.get_autocast_dtype(device_type)
            and weight_dtype == torch.float32)  # autocast lowers float32 products only


def check_dtype(x: Tensor, weight: Tensor, name: str, layer: str) -> None:
    """``x`` must have the dtype of the layer's parameters (no silent up- or down-cast), or the dtype autocast
    computes in while it is on, and sit on their device (a host check of metadata: no sync)."""
    if x.device != weight.device:
        raise ValueError(f"{name} is on {x.device} but {layer}'s parameters are on {weight.device}; move the "
                         f"input with {name}.to({str(weight.device)!r}) or the layer with layer.to({str(x.device)!r})")
    if x.dtype != weight.dtype and not _autocast_dtype(x, weight.dtype):
        fix = "double()" if x.dtype == torch.float64 else ("float()" if x.dtype == torch.float32 else f"to({x.dtype})")
        raise TypeError(f"{name} is {x.dtype} but {layer}'s parameters are {weight.dtype}; call "
                        f"layer.{fix} on the layer, or convert the input with {name}.to({weight.dtype})")


def check_index_device(index: Tensor, x: Tensor, name: str = "edge_index", features: str = "x") -> None:
    """An index tensor (``edge_index``, ``edge_type``) must sit on the device of the features it indexes."""
    if isinstance(index, Tensor) and isinstance(x, Tensor) and index.device != x.device:
        raise ValueError(f"{name} is on {index.device} but {features} is on {x.device}; move both to one device "
                         "(batch.to(device) moves a whole PyG batch)")


def check_positive_ints(layer: str, **sizes) -> Tuple[int, ...]:
    """Constructor sizes (channels, counts) must be ints >= 1 (numpy's too): a float or 0 would otherwise fail
    inside torch (``empty()`` argument errors, a division by zero in an init) or build a layer with empty weights.
    Returns them as Python ints, in order (a numpy ``uint8`` would wrap around in ``4 * hidden``)."""
    for name, value in sizes.items():
        if not is_positive_int(value):
            raise ValueError(f"{layer}: {name} must be >= 1 (a positive int), got {value!r}")
    return tuple(int(value) for value in sizes.values())


def check_num_graphs(num_graphs, layer: str) -> int:
    """A caller's graph count (``data.num_graphs``): an int >= 0 (a float, bool or string failed inside torch or was
    read as 1)."""
    if not is_int(num_graphs):
        raise TypeError(f"{layer}: num_graphs must be an int (data.num_graphs), got {num_graphs!r}")
    if num_graphs < 0:
        raise ValueError(f"{layer}: num_graphs must be >= 0 (data.num_graphs), got {num_graphs}")
    return int(num_graphs)


def check_on_device(layer: str, device: torch.device, **tensors) -> None:
    """Index and target tensors (``edge_index``, labels, ``batch``, ...) must sit on the layer's ``device`` (a host
    check of metadata: no sync); ``None`` and non-tensors are left to the shape checks. Without it a mix of devices
    fails inside torch (an ``index_select`` device error, or ``item()`` on a tensor of another device)."""
    for name, tensor in tensors.items():
        if isinstance(tensor, Tensor) and tensor.device != device:
            raise ValueError(f"{name} is on {tensor.device} but {layer}'s parameters are on {device}; move the inputs "
                             f"with .to({str(device)!r}) (batch.to(device) moves a whole PyG batch) or the layer with "
                             f"layer.to({str(tensor.device)!r})")
