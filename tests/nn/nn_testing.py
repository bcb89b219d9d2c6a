"""Shared helpers for the tests of graphrnn.nn: random graphs and independent references.

Nothing here calls graphrnn: the references are networkx and plain node-by-node loops.
"""
from __future__ import annotations

import random
import re
from typing import List, Optional, Sequence, Tuple

import networkx as nx
import torch
from hypothesis import strategies as st

Edges = List[Tuple[int, int]]


# ----------------------------------------------------------------- graphs
def to_edge_index(edges: Sequence[Tuple[int, int]]) -> torch.Tensor:
    if len(edges) == 0:
        return torch.zeros(2, 0, dtype=torch.long)
    return torch.tensor(list(edges), dtype=torch.long).t().contiguous()


def to_nx(num_nodes: int, edges: Sequence[Tuple[int, int]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(edges)
    return graph


def nx_levels(num_nodes: int, edges: Sequence[Tuple[int, int]]) -> List[int]:
    """Generation index of every node, from networkx."""
    level = [-1] * num_nodes
    for generation, nodes in enumerate(nx.topological_generations(to_nx(num_nodes, edges))):
        for v in nodes:
            level[v] = generation
    return level


def relabel(edges: Sequence[Tuple[int, int]], perm: Sequence[int]) -> Edges:
    return [(perm[u], perm[v]) for u, v in edges]


def disjoint_union(graphs: Sequence[Tuple[int, Sequence[Tuple[int, int]]]]) -> Tuple[int, Edges, List[int]]:
    """(total nodes, offset edges, offsets) of a list of (num_nodes, edges)."""
    total, edges, offsets = 0, [], []
    for n, e in graphs:
        offsets.append(total)
        edges += [(u + total, v + total) for u, v in e]
        total += n
    return total, edges, offsets


def chain_edges(lengths: Sequence[int]) -> Tuple[int, Edges, List[List[int]]]:
    """Chains with contiguous node ids; returns (num_nodes, edges, node ids of each chain)."""
    edges, chains, start = [], [], 0
    for length in lengths:
        nodes = list(range(start, start + length))
        edges += list(zip(nodes[:-1], nodes[1:]))
        chains.append(nodes)
        start += length
    return start, edges, chains


def cycle_edges(length: int, offset: int = 0) -> Edges:
    return [(offset + i, offset + (i + 1) % length) for i in range(length)]


@st.composite
def permuted_dags(draw, max_nodes: int) -> Tuple[int, Edges]:
    """A small random DAG ``(n, edges)`` of 1 to ``max_nodes`` nodes: edges u -> v (u < v) drawn without
    repeats, at most 2n of them, then the nodes relabelled by a random permutation."""
    n = draw(st.integers(1, max_nodes))
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=2 * n)) if pairs else []
    perm = draw(st.permutations(range(n)))
    return n, [(perm[u], perm[v]) for u, v in edges]


@st.composite
def dags(draw, min_nodes: int = 0, max_nodes: int = 40, kind: str = "general",
         max_density: float = 0.5) -> Tuple[int, Edges]:
    """Random DAG (num_nodes, edges) with edges u -> v for u < v under a random relabelling.

    kind="general": random edges, and (for n >= 3) one node forced to have two
    predecessors, so that some node has in-degree >= 2.
    kind="forest": every node has at most one predecessor (trees with parent edges).
    """
    n = draw(st.integers(min_nodes, max_nodes))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))  # faster than st.randoms for many draws
    edges: Edges = []
    if kind == "general":
        density = draw(st.sampled_from([d for d in (0.0, 0.03, 0.08, 0.15, 0.3, 0.5) if d <= max_density]))
        edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < density]
        if n >= 3:
            for forced in ((0, n - 1), (1, n - 1)):
                if forced not in edges:
                    edges.append(forced)
    elif kind == "forest":
        for j in range(1, n):
            parent = rng.randrange(-1, j)
            if parent >= 0:
                edges.append((parent, j))
    else:
        raise ValueError(kind)
    perm = list(range(n))
    rng.shuffle(perm)
    edges = relabel(edges, perm)
    rng.shuffle(edges)
    return n, edges


# -------------------------------------------------------------- messages
_PATH = re.compile(r"-?\d+(?: -> -?\d+)+")


def cycle_in_message(message: str) -> Tuple[List[int], bool]:
    """The node path named in a cycle error, and whether it was truncated with '...'."""
    match = _PATH.search(message)
    assert match is not None, f"no 'a -> b -> ...' path in the message: {message!r}"
    nodes = [int(t) for t in match.group(0).split(" -> ")]
    truncated = message[match.end():].startswith(" -> ...")
    return nodes, truncated


def assert_cycle_message(message: str, edges: Sequence[Tuple[int, int]]) -> List[int]:
    edge_set = set(map(tuple, edges))
    nodes, truncated = cycle_in_message(message)
    assert len(nodes) >= 2
    for u, v in zip(nodes[:-1], nodes[1:]):
        assert (u, v) in edge_set, f"{u} -> {v} in {message!r} is not an edge"
    if not truncated:
        assert nodes[0] == nodes[-1], f"the named cycle is not closed: {message!r}"
    return nodes


# ------------------------------------------------------------- modules
def init_params(module: torch.nn.Module, generator: torch.Generator, scale: float = 0.5) -> None:
    """Overwrites every parameter with U(-scale, scale) drawn from ``generator``."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) * (2 * scale) - scale)


def child_sum_reference(cell: torch.nn.Module, cell_type: str, x: torch.Tensor, num_nodes: int,
                        edges: Sequence[Tuple[int, int]],
                        initial: Optional[Tuple[torch.Tensor, ...]] = None):
    """Node-by-node child-sum recursion in a networkx topological order.

    Returns h [N, H] and, for LSTM, c [N, H].
    """
    graph = to_nx(num_nodes, edges)
    hidden = cell.hidden_size
    h: List[Optional[torch.Tensor]] = [None] * num_nodes
    c: List[Optional[torch.Tensor]] = [None] * num_nodes
    for v in nx.topological_sort(graph):
        preds = list(graph.predecessors(v))
        if preds:
            h_in = torch.stack([h[u] for u in preds]).sum(0)
            c_in = torch.stack([c[u] for u in preds]).sum(0) if cell_type == "lstm" else None
        elif initial is not None:
            h_in = initial[0][v]
            c_in = initial[1][v] if cell_type == "lstm" else None
        else:
            h_in = x.new_zeros(hidden)
            c_in = x.new_zeros(hidden) if cell_type == "lstm" else None
        xv = x[v].unsqueeze(0)
        if cell_type == "lstm":
            hv, cv = cell(xv, (h_in.unsqueeze(0), c_in.unsqueeze(0)))
            h[v], c[v] = hv[0], cv[0]
        else:
            h[v] = cell(xv, h_in.unsqueeze(0))[0]
    h_out = torch.stack(h) if num_nodes else x.new_zeros(0, hidden)
    if cell_type == "lstm":
        return h_out, (torch.stack(c) if num_nodes else x.new_zeros(0, hidden))
    return h_out, None


def grads(output: torch.Tensor, inputs: Sequence[torch.Tensor], weight: torch.Tensor):
    """Gradients of <output, weight> w.r.t. ``inputs`` (None where unused)."""
    return torch.autograd.grad((output * weight).sum(), list(inputs), allow_unused=True)
