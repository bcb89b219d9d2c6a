"""Speed measurements of the core against the anchors, shared by ``benchmarks/`` and
``graphrnn reproduce``.

Each function runs ours and the anchor side by side in one process (round-robin, so
drift hits both alike) and returns a header and rows of a table, ratios included.
Every function takes a ``device`` (``"cpu"`` or ``"cuda"``): data and models are built
there, and on CUDA the timed region is closed by ``torch.cuda.synchronize()`` so that it
measures the kernels, not their launch. Rows marked "plan built once" give the layer the
:class:`~graphrnn.graph.TopologicalPlan` that :class:`~graphrnn.data.DataLoader` built in its
collate (on the CPU, moved to the device with the batch), as a training loop would.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import networkx as nx
import torch

from graphrnn.data import PARENT, DataLoader, chain_graph, tree_graph
from graphrnn.data.loader import planners_of
from graphrnn.nn import ChainRNN, topological_levels

__all__ = ["interleaved_medians", "markdown_table", "chain_vs_torch", "tree_vs_recursion", "tree_cuda_graphs",
           "TREE_SETTINGS", "levels_scaling", "profiled_ops", "host_sync_ops", "op_counts_table", "SYNC_OPS",
           "VIEW_AND_ALLOCATION_OPS",
           "DEVICES", "bench_device", "synchronizer", "describe_environment", "add_device_argument", "loader_batch",
           "planners_of", "format_ratio"]

Table = Tuple[List[str], List[list]]
TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
DEVICES = ("cpu", "cuda")
DeviceLike = Union[str, torch.device]


# ------------------------------------------------------------------ devices
def bench_device(device: DeviceLike) -> torch.device:
    """``device`` as a ``torch.device``, after checking that this machine has it."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"benchmarks run on one of {DEVICES}, got device {device!r}") from error
    if device.type not in DEVICES:
        raise ValueError(f"benchmarks run on one of {DEVICES}, got device {str(device)!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} asked for, but this torch ({torch.__version__}) sees no CUDA GPU; "
                         "run with --device cpu, or on a machine with a GPU and a CUDA build of torch")
    return device


def _no_sync() -> None:
    return None


def synchronizer(device: DeviceLike) -> Callable[[], None]:
    """What waits for ``device`` to finish queued work: ``torch.cuda.synchronize`` on CUDA, nothing on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return _no_sync


def describe_environment(device: DeviceLike) -> str:
    """One line naming the device (the GPU's name on CUDA), the torch version and the CPU threads."""
    device = bench_device(device)
    if device.type == "cuda":
        where = f"device {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    else:
        where = "device cpu"
    return f"{where}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads"


def _device_option(name: str) -> str:
    try:
        bench_device(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return name


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--device cpu|cuda`` option every benchmark script takes (default ``cpu``); a device this
    machine lacks is refused when the arguments are parsed."""
    parser.add_argument("--device", type=_device_option, default="cpu", metavar="{cpu,cuda}",
                        help="where data and models live and the timing happens (default: cpu)")


def loader_batch(graphs: Sequence, device: DeviceLike = "cpu", plans: Optional[Mapping[str, Callable]] = None):
    """All ``graphs`` in one batch of :class:`graphrnn.data.DataLoader` (with ``plans`` built in its collate,
    on the CPU), moved to ``device`` with its plans."""
    return next(iter(DataLoader(list(graphs), batch_size=len(graphs), plans=plans))).to(device)


def format_ratio(numerator: float, denominator: float, digits: int = 2) -> str:
    return f"{numerator / denominator:.{digits}f}x"


# ------------------------------------------------------------------ timing
def interleaved_medians(fns: Dict[str, Callable[[], object]], repeats: int = 10, warmup: int = 2,
                        sync: Optional[Callable[[], None]] = None) -> Dict[str, float]:
    """Median seconds of each function, run round-robin ``repeats`` times after ``warmup`` runs.

    ``sync`` (e.g. :func:`synchronizer` of the device) is called before and after every timed
    call, so that on an accelerator a call's time includes the kernels it queued.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    sync = sync or _no_sync
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _backward(fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
    return lambda: fn().sum().backward()


def _ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1e3:.{digits}f}"


# ------------------------------------------------------------------ chains
def _chain_lengths(batch: int, length: int, min_length: Optional[int], generator: torch.Generator) -> torch.Tensor:
    if min_length is None or min_length >= length:
        return torch.full((batch,), length, dtype=torch.long)
    if min_length < 1:
        raise ValueError(f"min_length must be >= 1, got {min_length}")
    return torch.randint(min_length, length + 1, (batch,), generator=generator)


def _torch_rnn_anchor(reference: torch.nn.RNNBase, x: torch.Tensor,
                      lengths: torch.Tensor) -> Callable[[], torch.Tensor]:
    """The anchor's output rows: the padded kernel on equal lengths, else cuDNN-style packing of the padded batch
    (``pack_padded_sequence`` inside the timed call, as a training step does it)."""
    if bool((lengths == x.size(0)).all()):
        return lambda: reference(x)[0]
    pack = torch.nn.utils.rnn.pack_padded_sequence
    return lambda: reference(pack(x, lengths, enforce_sorted=False))[0].data


def _torch_rnn_per_node(reference: torch.nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The anchor's outputs in the batch's node order (chain by chain, step by step)."""
    rnn = torch.nn.utils.rnn
    packed = reference(rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))[0]
    padded = rnn.pad_packed_sequence(packed, total_length=x.size(0))[0].transpose(0, 1)  # [B, T, H]
    valid = torch.arange(x.size(0))[None, :] < lengths[:, None]
    return padded[valid.to(padded.device)]


def chain_vs_torch(cells=("lstm", "gru", "rnn"), batch: int = 64, length: int = 50, input_size: int = 64,
                   hidden: int = 128, repeats: int = 20, seed: int = 0, device: DeviceLike = "cpu",
                   min_length: Optional[int] = None) -> Table:
    """ChainRNN (fused and generic paths, each without and with a plan built once) vs ``torch.nn.LSTM/GRU/RNN``,
    forward + backward.

    Chains have ``length`` steps, or with ``min_length`` a random length in ``[min_length, length]``; the
    anchor then runs on the packed batch (``pack_padded_sequence``, as cuDNN wants variable lengths).
    Ratios are ours / the anchor's time.
    """
    device = bench_device(device)
    generator = torch.Generator().manual_seed(seed)
    header = ["cell", "torch ms", "ChainRNN ms", "ratio", "ChainRNN, plan built once ms", "plan ratio",
              "generic path ms", "generic ratio", "generic, plan built once ms", "generic plan ratio", "max abs diff"]
    rows = []
    for cell in cells:
        torch.manual_seed(seed)
        reference = TORCH_MODULES[cell](input_size, hidden)
        fused = ChainRNN.from_torch(reference).to(device)
        generic = ChainRNN.from_torch(reference, fused=False).to(device)
        reference = reference.to(device)
        lengths = _chain_lengths(batch, length, min_length, generator)
        x_cpu = torch.randn(length, batch, input_size, generator=generator)
        data = loader_batch([chain_graph(x_cpu[:n, b]) for b, n in enumerate(lengths.tolist())], device,
                            plans={"fused_plan": fused.planner(), "generic_plan": generic.planner()})
        x = x_cpu.to(device)
        ours = {
            "fused": lambda: fused(data.x, data.edge_index),
            "fused, plan": lambda: fused(data.x, data.edge_index, plan=data.fused_plan),
            "generic": lambda: generic(data.x, data.edge_index),
            "generic, plan": lambda: generic(data.x, data.edge_index, plan=data.generic_plan),
        }
        anchor = _torch_rnn_anchor(reference, x, lengths)
        times = interleaved_medians({"torch": _backward(anchor), **{k: _backward(f) for k, f in ours.items()}},
                                    repeats=repeats, sync=synchronizer(device))
        with torch.no_grad():
            expected = _torch_rnn_per_node(reference, x, lengths)
            error = max((fn() - expected).abs().max().item() for fn in ours.values())
        row = [cell, _ms(times["torch"])]
        for name in ours:
            row += [_ms(times[name]), format_ratio(times[name], times["torch"])]
        rows.append(row + [f"{error:.1e}"])
    return header, rows


# ------------------------------------------------------------------- trees
def random_parents(num_nodes: int, generator: torch.Generator) -> List[int]:
    """A random recursive tree: node ``i > 0`` hangs below a uniformly chosen earlier node."""
    return [-1] + [int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, num_nodes)]


def _tree_graphs(trees: int, min_nodes: int, max_nodes: int, input_size: int, with_siblings: bool,
                 generator: torch.Generator) -> list:
    graphs = []
    for _ in range(trees):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=generator))
        data = tree_graph(torch.zeros(n, dtype=torch.long), random_parents(n, generator))
        if not with_siblings:
            keep = data.edge_type == PARENT
            data.edge_index, data.edge_type = data.edge_index[:, keep], data.edge_type[keep]
        data.x = torch.randn(n, input_size, generator=generator)
        graphs.append(data)
    return graphs


def _tree_batch(trees: int, min_nodes: int, max_nodes: int, input_size: int, with_siblings: bool,
                generator: torch.Generator, plans: Optional[Mapping[str, Callable]] = None):
    """One batch of random trees (CPU), with ``plans`` built by the loader."""
    return loader_batch(_tree_graphs(trees, min_nodes, max_nodes, input_size, with_siblings, generator),
                        plans=plans)


def node_by_node(layer: ChainRNN, x: torch.Tensor, order: Sequence[int], predecessors: Sequence[Sequence[int]]):
    """The hand-written recursion: one LSTM cell call per node on the child-sum of its predecessors.

    Returns the states of the nodes in ``order`` (all of them, or those of some trees), by node index.
    """
    zeros = x.new_zeros(1, layer.hidden_channels)
    h, c = [None] * x.size(0), [None] * x.size(0)
    for v in order:
        h_in = sum((h[u] for u in predecessors[v]), zeros)
        c_in = sum((c[u] for u in predecessors[v]), zeros)
        h[v], c[v] = layer.cell(x[v:v + 1], (h_in, c_in))
    return torch.cat([state for state in h if state is not None])


def _order_and_predecessors(edge_index: torch.Tensor, num_nodes: int):
    graph = nx.DiGraph(edge_index.t().tolist())
    graph.add_nodes_from(range(num_nodes))
    return list(nx.topological_sort(graph)), [list(graph.predecessors(v)) for v in range(num_nodes)]


#: name -> (description, with SIBLING edges, leaves -> root)
TREE_SETTINGS = {
    "parent": ("root -> leaves, PARENT edges", False, False),
    "siblings": ("root -> leaves, PARENT + SIBLING edges (DRNN wavefronts)", True, False),
    "child-sum": ("leaves -> root, child-sum over children", False, True),
}


def _tree_layer(input_size: int, hidden: int, reverse: bool, seed: int, device: torch.device) -> ChainRNN:
    torch.manual_seed(seed)
    return ChainRNN(input_size, hidden, cell="lstm",
                    flow="target_to_source" if reverse else "source_to_target").to(device)


def tree_vs_recursion(trees: int = 256, min_nodes: int = 10, max_nodes: int = 30, input_size: int = 64,
                      hidden: int = 128, repeats: int = 5, seed: int = 0, device: DeviceLike = "cpu",
                      settings: Sequence[str] = tuple(TREE_SETTINGS), recursion_max_nodes: Optional[int] = None,
                      check_trees: int = 64) -> Table:
    """Topological pass (ChainRNN LSTM, child-sum) over random trees vs :func:`node_by_node`.

    "ours" is given the batch's levels, computed once (it builds its plan in every forward);
    "plan built once" is given the plan the loader built. Batches of more than
    ``recursion_max_nodes`` nodes skip timing the recursion (its columns show "-"); the
    outputs are then checked against the recursion on the first ``check_trees`` trees.
    """
    device = bench_device(device)
    unknown = set(settings) - set(TREE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown tree settings {sorted(unknown)}; choose among {list(TREE_SETTINGS)}")
    generator = torch.Generator().manual_seed(seed)
    sync = synchronizer(device)
    header = ["setting", "nodes", "levels", "recursion fwd ms", "ours fwd ms", "speed-up fwd",
              "ours fwd, plan built once ms", "speed-up fwd, plan", "recursion fwd+bwd ms", "ours fwd+bwd ms",
              "speed-up fwd+bwd", "ours fwd+bwd, plan built once ms", "speed-up fwd+bwd, plan", "max abs diff"]
    rows = []
    for key in settings:
        name, with_siblings, reverse = TREE_SETTINGS[key]
        layer = _tree_layer(input_size, hidden, reverse, seed, device)
        batch = _tree_batch(trees, min_nodes, max_nodes, input_size, with_siblings, generator,
                            plans={"plan": layer.planner()})
        edges = batch.edge_index.flip(0) if reverse else batch.edge_index
        level = topological_levels(edges, batch.num_nodes)  # those of every tree (a batch is a disjoint union)
        timed_recursion = recursion_max_nodes is None or batch.num_nodes <= recursion_max_nodes
        checked = torch.ones(batch.num_nodes, dtype=torch.bool) if timed_recursion else batch.batch < check_trees
        order, predecessors = _order_and_predecessors(edges[:, checked[edges[0]] & checked[edges[1]]],
                                                      batch.num_nodes)
        keep = checked.tolist()
        order = [v for v in order if keep[v]]
        batch = batch.to(device)
        x, level = batch.x.requires_grad_(), level.to(device)
        ours = lambda: layer(x, batch.edge_index, level=level)  # noqa: E731
        planned = lambda: layer(x, batch.edge_index, plan=batch.plan)  # noqa: E731
        recursion = lambda: node_by_node(layer, x, order, predecessors)  # noqa: E731
        with torch.no_grad():
            expected = node_by_node(layer, x, order, predecessors)
            mask = checked.to(device)
            error = max((fn()[mask] - expected).abs().max().item() for fn in (ours, planned))
        forward = {"ours": ours, "planned": planned, **({"recursion": recursion} if timed_recursion else {})}
        forward_times = interleaved_medians(forward, repeats=repeats, warmup=1, sync=sync)
        both_times = interleaved_medians({k: _backward(f) for k, f in forward.items()}, repeats=repeats,
                                         warmup=1, sync=sync)
        row = [name, batch.num_nodes, batch.plan.num_levels]
        for times, digits in ((forward_times, 0), (both_times, 0)):
            anchor = times.get("recursion")
            row.append(_ms(anchor, digits) if anchor else "-")
            for ours_name in ("ours", "planned"):
                row += [_ms(times[ours_name]), format_ratio(anchor, times[ours_name], 0) if anchor else "-"]
        rows.append(row + [f"{error:.1e}"])
    return header, rows


class _PlannedForward(torch.nn.Module):
    """``layer(x, edge_index, plan=plan)`` as a module of ``x`` alone (what CUDA-graph helpers take)."""

    def __init__(self, layer: ChainRNN, edge_index: torch.Tensor, plan) -> None:
        super().__init__()
        self.layer, self.edge_index, self.plan = layer, edge_index, plan

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x, self.edge_index, plan=self.plan)


def _captured_forward(forward: Callable[[], torch.Tensor], warmup: int = 3):
    """Captures ``forward()`` (no grad) in a CUDA graph; returns ``(replay, static output)``."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad():
        with torch.cuda.stream(side):  # warm up on a side stream, as torch.cuda.graphs asks
            for _ in range(warmup):
                forward()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            output = forward()
    return graph.replay, output


def tree_cuda_graphs(trees: int = 256, min_nodes: int = 10, max_nodes: int = 30, input_size: int = 64,
                     hidden: int = 128, repeats: int = 20, seed: int = 0, device: DeviceLike = "cuda") -> Table:
    """The child-sum tree pass given a plan, eager vs captured in a CUDA graph (``torch.cuda.CUDAGraph`` for the
    forward, ``torch.cuda.make_graphed_callables`` for forward + backward).

    A capture that fails is reported in its row (with the error), not raised, so that one run of
    the benchmarks shows every result.
    """
    device = bench_device(device)
    if device.type != "cuda":
        raise ValueError(f"CUDA graphs need --device cuda, got {str(device)!r}")
    generator = torch.Generator().manual_seed(seed)
    _, with_siblings, reverse = TREE_SETTINGS["child-sum"]
    layer = _tree_layer(input_size, hidden, reverse, seed, device)
    batch = _tree_batch(trees, min_nodes, max_nodes, input_size, with_siblings, generator,
                        plans={"plan": layer.planner()}).to(device)
    planned = _PlannedForward(layer, batch.edge_index, batch.plan)
    x = batch.x.detach().clone()
    x_grad = x.clone().requires_grad_()
    with torch.no_grad():
        expected = planned(x)
    sync = synchronizer(device)
    header = ["pass (leaves -> root child-sum LSTM, plan given)", "nodes", "levels", "eager ms", "CUDA graph ms",
              "ratio", "max abs diff"]
    rows = []

    def add_row(name, eager, capture):
        try:
            replay, check = capture()
            replay()
            sync()
            error = f"{(check() - expected).abs().max().item():.1e}"
            times = interleaved_medians({"eager": eager, "graph": replay}, repeats=repeats, sync=sync)
            rows.append([name, batch.num_nodes, batch.plan.num_levels, _ms(times["eager"], 2),
                         _ms(times["graph"], 2), format_ratio(times["graph"], times["eager"]), error])
        except Exception as error:  # noqa: BLE001 -- the failure is the result to report
            with contextlib.suppress(Exception):  # a broken capture may fail the wait too
                sync()
            message = " ".join(f"{type(error).__name__}: {error}".split())[:300].replace("|", "/")
            rows.append([name, batch.num_nodes, batch.plan.num_levels, "-", f"capture failed: {message}", "-", "-"])

    def capture_forward():
        replay, output = _captured_forward(lambda: planned(x))
        return replay, lambda: output

    def capture_training():
        # a second wrapper: make_graphed_callables replaces the forward of the module it is given
        graphed = torch.cuda.make_graphed_callables(_PlannedForward(layer, batch.edge_index, batch.plan), (x_grad,),
                                                    allow_unused_input=True)
        holder = {}

        def step():
            holder["out"] = graphed(x_grad)
            holder["out"].sum().backward()
        return step, lambda: holder["out"].detach()

    def eager_forward():
        with torch.no_grad():
            planned(x)

    add_row(f"forward, {trees} trees", eager_forward, capture_forward)
    add_row(f"forward + backward (make_graphed_callables), {trees} trees",
            _backward(lambda: planned(x_grad)), capture_training)
    return header, rows


# ------------------------------------------------------------------ levels
def _random_forest_edges(num_nodes: int, generator: torch.Generator, parents_per_node: int) -> torch.Tensor:
    """Each node ``i > 0`` gets ``parents_per_node`` uniformly chosen earlier nodes (a tree for 1)."""
    targets = torch.arange(1, num_nodes)
    edges = []
    for _ in range(parents_per_node):
        sources = (torch.rand(num_nodes - 1, generator=generator) * targets).long()
        edges.append(torch.stack([sources, targets]))
    edges = torch.unique(torch.cat(edges, 1), dim=1)
    permutation = torch.randperm(num_nodes, generator=generator)  # hide the index order
    return permutation[edges]


def levels_scaling(sizes=(125_000, 250_000, 500_000, 1_000_000, 2_000_000), repeats: int = 3,
                   seed: int = 0, device: DeviceLike = "cpu") -> Table:
    """Time of :func:`topological_levels` on random trees, random DAGs and single chains (edges on ``device``)."""
    device = bench_device(device)
    generator = torch.Generator().manual_seed(seed)
    header = ["nodes", "graph", "edges", "levels", "seconds", "ns per node"]
    rows = []
    for n in sizes:
        graphs = {
            "random tree": _random_forest_edges(n, generator, 1),
            "random DAG, 2 parents": _random_forest_edges(n, generator, 2),
            "one chain": torch.stack([torch.arange(n - 1), torch.arange(1, n)]),
        }
        for name, edge_index in graphs.items():
            edge_index = edge_index.to(device)
            times = interleaved_medians({name: lambda: topological_levels(edge_index, n)},  # noqa: B023
                                        repeats=repeats, warmup=1, sync=synchronizer(device))
            levels = int(topological_levels(edge_index, n).max()) + 1
            rows.append([f"{n:,}", name, f"{edge_index.size(1):,}", f"{levels:,}", f"{times[name]:.3f}",
                         f"{times[name] / n * 1e9:.0f}"])
    return header, rows


# ------------------------------------------------------------- operator counts
#: operators that read a tensor's value on the host: each is a host-device sync on an accelerator
SYNC_OPS = frozenset({"aten::item", "aten::_local_scalar_dense", "aten::nonzero", "aten::unique", "aten::_unique2",
                      "aten::unique_consecutive", "aten::bincount", "aten::masked_select", "aten::equal"})


def host_sync_ops(fn: Callable[[], object]) -> List[str]:
    """The names of the host-sync operators (:data:`SYNC_OPS`) one call of ``fn`` runs, from the CPU
    profiler, sorted; ``[]`` for a step that never reads a device value on the host."""
    from torch.profiler import profile

    with profile() as prof:
        fn()
    return sorted({e.name for e in prof.events()} & SYNC_OPS)


#: operators that only make views, read metadata or allocate: no arithmetic (on a GPU, no kernel launch)
VIEW_AND_ALLOCATION_OPS = frozenset(f"aten::{name}" for name in (
    "as_strided", "slice", "select", "narrow", "view", "_unsafe_view", "reshape", "expand", "t", "transpose",
    "permute", "unsqueeze", "squeeze", "split", "split_with_sizes", "unbind", "chunk", "alias", "detach",
    "resolve_conj", "resolve_neg", "empty", "empty_strided", "new_empty", "empty_like", "lift_fresh", "to",
    "_to_copy", "contiguous", "view_as", "flatten", "unflatten"))


def profiled_ops(fn: Callable[[], object]) -> Tuple[int, int, int, int]:
    """``(all aten events, top-level aten ops, compute ops, host-sync ops)`` of one call, from the CPU profiler.

    "All events" counts nested calls too (``index_select`` is several events on the CPU);
    "top-level" counts the operators our Python code issues; "compute ops" are the events that
    are not views, metadata or allocations (:data:`VIEW_AND_ALLOCATION_OPS`), about one kernel
    each on a GPU (``aten::to`` and ``aten::_to_copy`` are counted through the ``copy_`` they run).
    """
    from torch.profiler import profile

    with profile() as prof:
        fn()
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    top = [e for e in events if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    compute = [e for e in events if e.name not in VIEW_AND_ALLOCATION_OPS]
    return len(events), len(top), len(compute), sum(e.name in SYNC_OPS for e in events)


def op_counts_table(trees: int = 256, seed: int = 0, device: str = "cpu") -> Table:
    """Operators per step of the ChainRNN schedules, with and without a plan, beside ``torch.nn.LSTM``."""
    generator = torch.Generator().manual_seed(seed)
    data = _tree_batch(trees, 10, 30, 64, True, generator).to(device)
    up = ChainRNN(64, 128, flow="target_to_source", edge_types=[PARENT]).to(device)
    plan = up.plan(data.edge_index, data.num_nodes, edge_type=data.edge_type)
    header = ["step", "levels", "aten events", "per level", "top-level ops", "per level", "compute ops", "per level",
              "host syncs"]
    rows = []

    def row(name, fn, levels):
        fn()
        events, top, compute, syncs = profiled_ops(fn)
        rows.append([name, levels, *(part for count in (events, top, compute)
                                     for part in (count, f"{count / levels:.1f}" if levels else "-")), syncs])

    kwargs = dict(edge_type=data.edge_type)
    row(f"child-sum LSTM forward, {trees} trees, plan given",
        lambda: up(data.x, data.edge_index, plan=plan, **kwargs), plan.num_levels)
    row(f"child-sum LSTM forward, {trees} trees, no plan",
        lambda: up(data.x, data.edge_index, **kwargs), plan.num_levels)
    row(f"child-sum LSTM forward+backward, {trees} trees, plan given",
        _backward(lambda: up(data.x, data.edge_index, plan=plan, **kwargs)), plan.num_levels)
    reference = torch.nn.LSTM(64, 128).to(device)
    fused = ChainRNN.from_torch(reference).to(device)
    x = torch.randn(50, 64, 64, generator=generator).to(device)
    chains = next(iter(DataLoader([chain_graph(x[:, b].cpu()) for b in range(64)], batch_size=64,
                                  plans={"plan": fused.planner()}))).to(device)
    row("torch.nn.LSTM forward+backward, 64 x 50", _backward(lambda: reference(x)[0]), 50)
    row("ChainRNN fused forward+backward, 64 x 50, plan given",
        _backward(lambda: fused(chains.x, chains.edge_index, plan=chains.plan)), 50)
    row("ChainRNN fused forward+backward, 64 x 50, no plan",
        _backward(lambda: fused(chains.x, chains.edge_index)), 50)
    return header, rows
