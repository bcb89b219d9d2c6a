"""Validation of graph inputs, shared by the loaders, the plans and the layers.

Every check raises a ``ValueError``/``TypeError`` that names the argument, what was expected,
what came, and what to change. Checks that read tensor values run where a plan is built (on
the CPU, once per batch); on the hot path of a layer, :func:`device_assert` checks a condition
without a host-device synchronisation on accelerators.
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["check_edge_index", "check_edge_index_format", "check_edge_type", "check_edge_types", "check_levels",
           "check_index_dtype", "check_batch_vector", "check_num_nodes", "check_recorded", "device_assert",
           "RecordsGraph"]


def check_index_dtype(tensor: Tensor, name: str) -> None:
    """``tensor`` must hold integer ids (``torch.long``/``int32``), not floats or bools."""
    if tensor.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{name} must hold integer node indices (torch.long), got dtype {tensor.dtype}; "
                         f"convert it with {name}.long()")


def device_assert(condition: Tensor, message: str, explain: Optional[Callable[[], str]] = None) -> None:
    """Raises ``ValueError(message)`` unless the 0-dim bool tensor ``condition`` is true.

    On the CPU the flag is read directly (there is no device to wait for), and a failure
    raises ``explain()`` when given (a message that may read values, e.g. to name the bad
    node). On an accelerator the check is ``torch._assert_async``: it is queued with the
    kernels instead of stalling the host, so a training step stays free of host-device syncs;
    a failure is a device-side assert, raised as a ``RuntimeError`` at the next
    synchronisation (``message`` goes to the kernel's error output where the build prints it,
    and the CUDA context cannot be used afterwards: rerun on the CPU to read the exact
    error). Under ``torch.compile`` it is always the device assert (traced into the graph).
    """
    if condition.device.type == "cpu" and not torch.compiler.is_compiling():
        if not condition.numpy().item():  # host memory: no sync, no dispatcher op
            raise ValueError(explain() if explain is not None else message)
    else:
        torch._assert_async(condition, message)


def check_edge_index_format(edge_index: Tensor, prefix: str = "") -> None:
    """``edge_index`` must be a dense integer tensor of shape ``[2, E]`` (metadata only: no value is read).

    A sparse adjacency (``torch.sparse``, or a dense ``[N, N]`` matrix) is refused with a ``TypeError``/``ValueError``
    saying how to turn it into an edge list; PyG's ``EdgeIndex`` is a ``[2, E]`` tensor and is accepted.
    ``prefix`` (e.g. ``"ChildSumTreeLSTM: "``) starts every message.

    Raises:
        TypeError: if ``edge_index`` is not a tensor, or is a sparse tensor.
        ValueError: on another shape or a non-integer dtype.
    """
    if not isinstance(edge_index, Tensor):
        hint = ("; take the edges of a torch_sparse SparseTensor with row, col, _ = adj.coo() and "
                "torch.stack([row, col]) (torch.stack([col, row]) for PyG's transposed adj_t)"
                if type(edge_index).__name__ == "SparseTensor" else "")
        raise TypeError(f"{prefix}edge_index must be a torch.Tensor of shape [2, E], got "
                        f"{type(edge_index).__name__}{hint}")
    if edge_index.layout != torch.strided:
        raise TypeError(f"{prefix}edge_index must be a dense [2, E] tensor of node indices, got a sparse adjacency "
                        f"({edge_index.layout}, shape {list(edge_index.shape)}); convert it with "
                        "torch_geometric.utils.to_edge_index(adj)[0] or adj.to_sparse_coo().coalesce().indices()")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        if edge_index.dim() == 2 and edge_index.size(1) == 2:
            fix = "transpose an [E, 2] edge list with edge_index.t()"
        elif edge_index.dim() == 2 and edge_index.size(0) == edge_index.size(1):
            fix = "a dense [N, N] adjacency matrix becomes an edge list with adj.nonzero().t()"
        else:
            fix = "stack the sources and targets with torch.stack([sources, targets])"
        raise ValueError(f"{prefix}edge_index must have shape [2, E] (row 0 sources, row 1 targets), got "
                         f"{list(edge_index.shape)}; {fix}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{prefix}edge_index must hold integer node indices (torch.long), got dtype "
                         f"{edge_index.dtype}; convert whole-number ids with edge_index.long()")


def check_num_nodes(num_nodes, name: str = "num_nodes") -> int:
    """A node count given by the caller: a non-negative ``int`` (a 0-dim integer tensor is read as one).

    Raises:
        TypeError: on a float, bool, string or any other type (``5.0`` sized ``bincount`` with a float).
        ValueError: on a negative count.
    """
    if isinstance(num_nodes, Tensor) and num_nodes.dim() == 0 and num_nodes.dtype in (torch.int64, torch.int32):
        num_nodes = int(num_nodes)
    if not is_int(num_nodes):
        shown = f"{num_nodes!r}" if isinstance(num_nodes, (float, str)) else type(num_nodes).__name__
        raise TypeError(f"{name} must be an int (the number of nodes, e.g. x.size(0) or data.num_nodes), got {shown}")
    num_nodes = int(num_nodes)  # numpy integers too
    if num_nodes < 0:
        raise ValueError(f"{name} must be >= 0, got {num_nodes}")
    return num_nodes


def check_edge_index(edge_index: Tensor, num_nodes: Optional[int] = None) -> int:
    """Validates ``edge_index`` and returns the number of nodes.

    Raises:
        TypeError: if ``edge_index`` is not a dense tensor or ``num_nodes`` not an int.
        ValueError: if ``edge_index`` is not an integer tensor of shape ``[2, E]`` or
            holds a node index outside ``[0, num_nodes)``.
    """
    check_edge_index_format(edge_index)
    if edge_index.is_meta:
        raise ValueError("edge_index is on the meta device, which holds no values to check or build a plan from; "
                         "pass the edges on the CPU or an accelerator")
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() > 0 else 0
    num_nodes = check_num_nodes(num_nodes)
    if edge_index.numel() > 0:
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0 or high >= num_nodes:
            bad = low if low < 0 else high
            raise ValueError(
                f"edge_index refers to node {bad}, but the graph has num_nodes={num_nodes} "
                f"(valid indices are 0..{num_nodes - 1}); pass the right num_nodes or fix the edges"
            )
    return num_nodes


def check_levels(level: Tensor, edge_index: Tensor, num_nodes: int) -> Tensor:
    """Checks that precomputed ``level`` is a valid schedule for ``edge_index``.

    Any levels with ``level[src] < level[dst]`` on every edge give the same result as
    :func:`topological_levels`; stale or foreign levels raise instead of silently
    computing a wrong answer.
    """
    if not isinstance(level, Tensor) or level.dim() != 1 or level.numel() != num_nodes:
        shape = list(level.shape) if isinstance(level, Tensor) else type(level).__name__
        raise ValueError(
            f"level must be a LongTensor of shape [num_nodes]=[{num_nodes}], got {shape}; "
            "compute it with graphrnn.nn.topological_levels or the TopologicalLevels transform"
        )
    if level.device != edge_index.device:
        raise ValueError(f"level is on {level.device} but edge_index is on {edge_index.device}; move both to one "
                         "device")
    if level.dtype not in (torch.int64, torch.int32):  # float levels were truncated by .long()
        raise ValueError(f"level must hold integer levels (torch.long), got dtype {level.dtype}; compute it with "
                         "graphrnn.nn.topological_levels")
    level = level.long()
    if num_nodes > 0 and int(level.min()) < 0:
        raise ValueError("level must be non-negative; recompute it with graphrnn.nn.topological_levels")
    if edge_index.numel() > 0:
        bad = (level[edge_index[0]] >= level[edge_index[1]]).nonzero()
        if bad.numel() > 0:
            e = int(bad[0, 0])
            u, v = int(edge_index[0, e]), int(edge_index[1, e])
            raise ValueError(
                f"level does not match edge_index: edge {u} -> {v} goes from level {int(level[u])} "
                f"to level {int(level[v])}; levels must increase along every edge (stale levels for a "
                "different graph or flow?). Recompute with graphrnn.nn.topological_levels"
            )
    return level


def check_edge_type(edge_type: Optional[Tensor], num_edges: int, num_edge_types: int) -> Optional[Tensor]:
    """Validates ``edge_type`` against the number of edges and edge types of a layer."""
    if edge_type is None:
        if num_edge_types > 1:
            raise ValueError(
                f"this layer has num_edge_types={num_edge_types}: pass edge_type (LongTensor [E]) "
                "with the type of every edge"
            )
        return None
    if not isinstance(edge_type, Tensor) or edge_type.dim() != 1 or edge_type.numel() != num_edges:
        shape = list(edge_type.shape) if isinstance(edge_type, Tensor) else type(edge_type).__name__
        raise ValueError(f"edge_type must be a LongTensor of shape [E]=[{num_edges}], got {shape}")
    if edge_type.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"edge_type must hold integer type ids (torch.long), got dtype {edge_type.dtype}")
    if num_edges > 0:
        low, high = int(edge_type.min()), int(edge_type.max())
        if low < 0 or high >= num_edge_types:
            raise ValueError(
                f"edge_type holds type {low if low < 0 else high}, but the layer has "
                f"num_edge_types={num_edge_types} (valid types 0..{num_edge_types - 1})"
            )
    return edge_type.long()


def check_edge_types(edge_types) -> Optional[Tuple[int, ...]]:
    """The edge types a layer or plan follows: ``None`` (every edge) or a non-empty sequence of distinct
    non-negative ints, returned as a tuple.

    Raises:
        TypeError: on a single int, a string (``"12"`` would read as types 1 and 2), a tensor, or a non-int entry.
        ValueError: on an empty sequence or a type named twice.
    """
    if edge_types is None:
        return None
    if isinstance(edge_types, (int, str, bytes, Tensor)) or not hasattr(edge_types, "__iter__") or not all(
            is_int(t) and t >= 0 for t in edge_types):
        raise TypeError(f"edge_types must be a list of non-negative ints such as [PARENT], got {edge_types!r}")
    edge_types = tuple(int(t) for t in edge_types)
    if len(edge_types) == 0:
        raise ValueError("edge_types must name at least one edge type (or be None to follow every edge)")
    if len(set(edge_types)) != len(edge_types):
        raise ValueError(f"edge_types names a type twice: {list(edge_types)}; name each followed type once")
    return edge_types


def check_batch_vector(batch: Optional[Tensor], num_nodes: int, num_graphs: Optional[int], edges: Tensor,
                       kind: str = "graph", consequence: str = "", empty: int = 1) -> Tuple[Tensor, int]:
    """A mini-batch's ``batch`` vector, checked on the CPU where the plan is built.

    ``batch`` must be an integer ``[N]`` tensor of ids in ``0..num_graphs-1`` (``num_graphs`` is
    inferred as ``max + 1`` when not given, ``empty`` when ``batch`` has no nodes), and no edge of ``edges``
    (``[2, E]``) may join two graphs. ``kind`` names a graph in the messages ("graph", "tree");
    ``consequence`` (with ``{target}`` for the edge's target) says what a crossing edge would break.

    Returns:
        ``(batch on the CPU as int64, num_graphs)``; without ``batch``, all nodes in one graph.
    """
    if batch is None:
        return torch.zeros(num_nodes, dtype=torch.long), 1 if num_graphs is None else num_graphs
    if not isinstance(batch, Tensor) or batch.shape != (num_nodes,) or batch.is_floating_point():
        shape = list(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__
        raise ValueError(f"batch must be a LongTensor of shape [num_nodes]=[{num_nodes}], got {shape}")
    ids = batch.detach().cpu().long()
    if num_graphs is None:
        num_graphs = int(ids.max()) + 1 if num_nodes else empty
    if num_nodes and (int(ids.min()) < 0 or int(ids.max()) >= num_graphs):
        bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
        raise ValueError(f"batch holds {kind} id {bad}, but the batch has {num_graphs} {kind}s "
                         f"(num_graphs={num_graphs}, ids 0..{num_graphs - 1}); build batches with "
                         "graphrnn.data.DataLoader")
    if edges.numel():
        src, dst = edges.detach().cpu().long()
        crossing = (ids[src] != ids[dst]).nonzero().view(-1)
        if crossing.numel():
            e = int(crossing[0])
            u, v = int(src[e]), int(dst[e])
            raise ValueError(f"batch disagrees with the edges: edge {u} -> {v} joins {kind} {int(ids[u])} to {kind} "
                             f"{int(ids[v])}{consequence.format(target=v)}; an edge stays inside one {kind} (batch "
                             "with graphrnn.data.DataLoader)")
    return ids, num_graphs


class RecordsGraph:
    """Mixin of the plans (frozen dataclasses): remembers the version counters of the graph tensors a
    plan was built for (the fields named in ``RECORDED``), so that :func:`check_recorded` notices
    when the very tensor was edited in place afterwards. Versions are taken whenever a plan is
    constructed (``build``, ``replace``, ``to``) or unpickled (a loader worker's plan)."""

    RECORDED: Tuple[str, ...] = ("edge_index", "edge_type")

    def __post_init__(self) -> None:
        self._record_versions()

    def _record_versions(self) -> None:
        versions = {name: getattr(self, name)._version for name in self.RECORDED
                    if isinstance(getattr(self, name, None), Tensor)}
        object.__setattr__(self, "_versions", versions)

    def recorded_version(self, name: str) -> Optional[int]:
        """The version counter ``name`` had when the plan was made (``None`` if unknown)."""
        return getattr(self, "_versions", {}).get(name)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_versions", None)  # counters restart in another process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._record_versions()


def check_recorded(recorded: Tensor, given, name: str, rebuild: str, version: Optional[int] = None) -> None:
    """A plan's fingerprint: the tensor it was built for (``recorded``) against the one a layer gets.

    Free when ``given`` is the very tensor (and, when ``version`` is given, its version counter has
    not moved since: an in-place edit after the plan was built is refused); else its dtype, shape
    and device on the host and its values with :func:`device_assert` (no sync on an accelerator).
    ``rebuild`` says how to make the right plan.

    Raises:
        ValueError: if ``given`` is not that graph's tensor.
    """
    if given is recorded:
        if version is not None and not torch.compiler.is_compiling() and given._version != version:
            raise ValueError(f"{name} was changed in place after the plan was built for it (a plan holds no "
                             f"copy of the graph); {rebuild}")
        return
    if not isinstance(given, Tensor):
        raise ValueError(f"plan was built for a different graph: its {name} is a tensor, got "
                         f"{type(given).__name__}; {rebuild}")
    check_index_dtype(given, name)
    if given.shape != recorded.shape or given.device != recorded.device:
        raise ValueError(f"plan was built for a different graph: its {name} has shape {list(recorded.shape)} on "
                         f"{recorded.device}, got {list(given.shape)} on {given.device}; {rebuild}")
    device_assert((given == recorded).all(), f"plan was built for another graph of the same size: its {name} "
                                             f"differs from the one given; {rebuild}")
