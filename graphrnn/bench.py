"""Speed measurements of the core against the anchors, shared by ``benchmarks/`` and
``graphrnn reproduce``.

Each function runs ours and the anchor side by side in one process (round-robin, so
drift hits both alike) and returns a header and rows of a table, ratios included.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, List, Sequence, Tuple

import networkx as nx
import torch

from graphrnn.data import PARENT, DataLoader, TopologicalLevels, chain_graph, tree_graph
from graphrnn.nn import ChainRNN, topological_levels

__all__ = ["interleaved_medians", "markdown_table", "chain_vs_torch", "tree_vs_recursion", "levels_scaling",
           "profiled_ops", "op_counts_table", "SYNC_OPS"]

Table = Tuple[List[str], List[list]]
TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def interleaved_medians(fns: Dict[str, Callable[[], object]], repeats: int = 10, warmup: int = 2) -> Dict[str, float]:
    """Median seconds of each function, run round-robin ``repeats`` times after ``warmup`` runs."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _backward(fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
    return lambda: fn().sum().backward()


# ------------------------------------------------------------------ chains
def chain_vs_torch(cells=("lstm", "gru", "rnn"), batch: int = 64, length: int = 50, input_size: int = 64,
                   hidden: int = 128, repeats: int = 20, seed: int = 0) -> Table:
    """ChainRNN (fused and generic paths) vs ``torch.nn.LSTM/GRU/RNN``, forward + backward."""
    generator = torch.Generator().manual_seed(seed)
    header = ["cell", "torch ms", "ChainRNN ms", "ratio", "generic path ms", "generic ratio", "max abs diff"]
    rows = []
    for cell in cells:
        torch.manual_seed(seed)
        reference = TORCH_MODULES[cell](input_size, hidden)
        fused = ChainRNN.from_torch(reference)
        generic = ChainRNN.from_torch(reference, fused=False)
        x = torch.randn(length, batch, input_size, generator=generator)
        data = next(iter(DataLoader([chain_graph(x[:, b]) for b in range(batch)], batch_size=batch)))
        times = interleaved_medians({
            "torch": _backward(lambda: reference(x)[0]),
            "fused": _backward(lambda: fused(data.x, data.edge_index)),
            "generic": _backward(lambda: generic(data.x, data.edge_index)),
        }, repeats=repeats)
        with torch.no_grad():
            expected = reference(x)[0].transpose(0, 1).reshape(-1, hidden)
            error = max((layer(data.x, data.edge_index) - expected).abs().max().item() for layer in (fused, generic))
        rows.append([cell, f"{times['torch'] * 1e3:.1f}", f"{times['fused'] * 1e3:.1f}",
                     f"{times['fused'] / times['torch']:.2f}x", f"{times['generic'] * 1e3:.1f}",
                     f"{times['generic'] / times['torch']:.2f}x", f"{error:.1e}"])
    return header, rows


# ------------------------------------------------------------------- trees
def random_parents(num_nodes: int, generator: torch.Generator) -> List[int]:
    """A random recursive tree: node ``i > 0`` hangs below a uniformly chosen earlier node."""
    return [-1] + [int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, num_nodes)]


def _tree_batch(trees: int, min_nodes: int, max_nodes: int, input_size: int, with_siblings: bool,
                generator: torch.Generator):
    graphs = []
    for _ in range(trees):
        n = int(torch.randint(min_nodes, max_nodes + 1, (1,), generator=generator))
        data = tree_graph(torch.zeros(n, dtype=torch.long), random_parents(n, generator))
        if not with_siblings:
            keep = data.edge_type == PARENT
            data.edge_index, data.edge_type = data.edge_index[:, keep], data.edge_type[keep]
        data.x = torch.randn(n, input_size, generator=generator)
        graphs.append(TopologicalLevels(reverse=True)(data))
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def node_by_node(layer: ChainRNN, x: torch.Tensor, order: Sequence[int], predecessors: Sequence[Sequence[int]]):
    """The hand-written recursion: one LSTM cell call per node on the child-sum of its predecessors."""
    zeros = x.new_zeros(1, layer.hidden_channels)
    h, c = [None] * x.size(0), [None] * x.size(0)
    for v in order:
        h_in = sum((h[u] for u in predecessors[v]), zeros)
        c_in = sum((c[u] for u in predecessors[v]), zeros)
        h[v], c[v] = layer.cell(x[v:v + 1], (h_in, c_in))
    return torch.cat(h)


def _order_and_predecessors(edge_index: torch.Tensor, num_nodes: int):
    graph = nx.DiGraph(edge_index.t().tolist())
    graph.add_nodes_from(range(num_nodes))
    return list(nx.topological_sort(graph)), [list(graph.predecessors(v)) for v in range(num_nodes)]


def tree_vs_recursion(trees: int = 256, min_nodes: int = 10, max_nodes: int = 30, input_size: int = 64,
                      hidden: int = 128, repeats: int = 5, seed: int = 0) -> Table:
    """Topological pass (ChainRNN LSTM, child-sum) over random trees vs :func:`node_by_node`."""
    generator = torch.Generator().manual_seed(seed)
    settings = [("root -> leaves, PARENT edges", False, False),
                ("root -> leaves, PARENT + SIBLING edges (DRNN wavefronts)", True, False),
                ("leaves -> root, child-sum over children", False, True)]
    header = ["setting", "nodes", "levels", "recursion fwd ms", "ours fwd ms", "speed-up fwd",
              "recursion fwd+bwd ms", "ours fwd+bwd ms", "speed-up fwd+bwd", "max abs diff"]
    rows = []
    for name, with_siblings, reverse in settings:
        torch.manual_seed(seed)
        layer = ChainRNN(input_size, hidden, cell="lstm", flow="target_to_source" if reverse else "source_to_target")
        batch = _tree_batch(trees, min_nodes, max_nodes, input_size, with_siblings, generator)
        level = batch.reverse_level if reverse else batch.level
        edges = batch.edge_index.flip(0) if reverse else batch.edge_index
        order, predecessors = _order_and_predecessors(edges, batch.num_nodes)
        x = batch.x.requires_grad_()
        ours = lambda: layer(x, batch.edge_index, level=level)  # noqa: E731
        recursion = lambda: node_by_node(layer, x, order, predecessors)  # noqa: E731
        with torch.no_grad():
            error = (ours() - recursion()).abs().max().item()
        forward = interleaved_medians({"ours": ours, "recursion": recursion}, repeats=repeats, warmup=1)
        both = interleaved_medians({"ours": _backward(ours), "recursion": _backward(recursion)},
                                   repeats=repeats, warmup=1)
        rows.append([name, batch.num_nodes, int(level.max()) + 1,
                     f"{forward['recursion'] * 1e3:.0f}", f"{forward['ours'] * 1e3:.1f}",
                     f"{forward['recursion'] / forward['ours']:.0f}x",
                     f"{both['recursion'] * 1e3:.0f}", f"{both['ours'] * 1e3:.1f}",
                     f"{both['recursion'] / both['ours']:.0f}x", f"{error:.1e}"])
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
                   seed: int = 0) -> Table:
    """Time of :func:`topological_levels` on random trees, random DAGs and single chains."""
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
            times = interleaved_medians({name: lambda: topological_levels(edge_index, n)}, repeats=repeats, warmup=1)
            levels = int(topological_levels(edge_index, n).max()) + 1
            rows.append([f"{n:,}", name, f"{edge_index.size(1):,}", f"{levels:,}", f"{times[name]:.3f}",
                         f"{times[name] / n * 1e9:.0f}"])
    return header, rows


# ------------------------------------------------------------- operator counts
#: operators that read a tensor's value on the host: each is a host-device sync on an accelerator
SYNC_OPS = frozenset({"aten::item", "aten::_local_scalar_dense", "aten::nonzero", "aten::unique", "aten::_unique2",
                      "aten::unique_consecutive", "aten::bincount", "aten::masked_select", "aten::equal"})


def profiled_ops(fn: Callable[[], object]) -> Tuple[int, int, int]:
    """``(all aten events, top-level aten ops, host-sync ops)`` of one call, from the CPU profiler.

    "All events" counts nested calls too (``index_select`` is several events on the CPU);
    "top-level" counts the operators our Python code issues.
    """
    from torch.profiler import profile

    with profile() as prof:
        fn()
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    top = [e for e in events if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    return len(events), len(top), sum(e.name in SYNC_OPS for e in events)


def op_counts_table(trees: int = 256, seed: int = 0, device: str = "cpu") -> Table:
    """Operators per step of the ChainRNN schedules, with and without a plan, beside ``torch.nn.LSTM``."""
    generator = torch.Generator().manual_seed(seed)
    data = _tree_batch(trees, 10, 30, 64, True, generator).to(device)
    up = ChainRNN(64, 128, flow="target_to_source", edge_types=[PARENT]).to(device)
    plan = up.plan(data.edge_index, data.num_nodes, edge_type=data.edge_type)
    header = ["step", "levels", "aten events", "per level", "top-level ops", "per level", "host syncs"]
    rows = []

    def row(name, fn, levels):
        fn()
        events, top, syncs = profiled_ops(fn)
        rows.append([name, levels, events, f"{events / levels:.1f}" if levels else "-", top,
                     f"{top / levels:.1f}" if levels else "-", syncs])

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
