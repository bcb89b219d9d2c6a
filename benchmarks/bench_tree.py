"""Topological pass over a batch of random trees vs a node-by-node recursion.

    python benchmarks/bench_tree.py [--trees 256 --min-nodes 10 --max-nodes 30]

Both use the same ``ChainRNN`` cell (LSTM, child-sum over predecessors) on the same
batch in one process. The recursion is the code one would write by hand: a Python
loop over the nodes in topological order (order and predecessor lists precomputed,
outside the timing), one cell call per node. Goal: >= 30x faster.
"""
from __future__ import annotations

import argparse

import networkx as nx
import torch

from _timing import interleaved_medians, markdown_table
from graphrnn.data import DataLoader, PARENT, TopologicalLevels, tree_graph
from graphrnn.nn import ChainRNN


def random_parents(num_nodes: int, generator: torch.Generator) -> list:
    """A random recursive tree: node i > 0 hangs below a uniformly chosen earlier node."""
    return [-1] + [int(torch.randint(0, i, (1,), generator=generator)) for i in range(1, num_nodes)]


def make_batch(args, generator: torch.Generator, with_siblings: bool, reverse: bool):
    graphs = []
    for _ in range(args.trees):
        n = int(torch.randint(args.min_nodes, args.max_nodes + 1, (1,), generator=generator))
        data = tree_graph(torch.zeros(n, dtype=torch.long), random_parents(n, generator))
        if not with_siblings:
            keep = data.edge_type == PARENT
            data.edge_index, data.edge_type = data.edge_index[:, keep], data.edge_type[keep]
        data.x = torch.randn(n, args.input, generator=generator)
        graphs.append(TopologicalLevels(reverse=True)(data))
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    return batch, (batch.reverse_level if reverse else batch.level)


def node_by_node(layer: ChainRNN, x: torch.Tensor, order: list, predecessors: list):
    """Hand-written recursion: one cell call per node, child-sum of predecessor states."""
    zeros = x.new_zeros(1, layer.hidden_channels)
    h, c = [None] * x.size(0), [None] * x.size(0)
    for v in order:
        preds = predecessors[v]
        h_in = sum((h[u] for u in preds), zeros)
        c_in = sum((c[u] for u in preds), zeros)
        h[v], c[v] = layer.cell(x[v:v + 1], (h_in, c_in))
    return torch.cat(h)


def graph_structure(edge_index: torch.Tensor, num_nodes: int):
    graph = nx.DiGraph(edge_index.t().tolist())
    graph.add_nodes_from(range(num_nodes))
    return list(nx.topological_sort(graph)), [list(graph.predecessors(v)) for v in range(num_nodes)]


def bench_setting(name: str, args, generator, with_siblings: bool, reverse: bool):
    flow = "target_to_source" if reverse else "source_to_target"
    layer = ChainRNN(args.input, args.hidden, cell="lstm", flow=flow)
    batch, level = make_batch(args, generator, with_siblings, reverse)
    edges = batch.edge_index.flip(0) if reverse else batch.edge_index
    order, predecessors = graph_structure(edges, batch.num_nodes)
    x = batch.x.requires_grad_()

    def ours():
        return layer(x, batch.edge_index, level=level)

    def recursion():
        return node_by_node(layer, x, order, predecessors)

    with torch.no_grad():
        error = (ours() - recursion()).abs().max().item()
    forward = interleaved_medians({"ours": lambda: ours(), "recursion": lambda: recursion()},
                                  repeats=args.repeats, warmup=1)
    both = interleaved_medians({"ours": lambda: ours().sum().backward(),
                                "recursion": lambda: recursion().sum().backward()},
                               repeats=args.repeats, warmup=1)
    levels = int(level.max()) + 1
    return [name, batch.num_nodes, levels,
            f"{forward['recursion'] * 1e3:.0f}", f"{forward['ours'] * 1e3:.1f}",
            f"{forward['recursion'] / forward['ours']:.0f}x",
            f"{both['recursion'] * 1e3:.0f}", f"{both['ours'] * 1e3:.1f}",
            f"{both['recursion'] / both['ours']:.0f}x", f"{error:.1e}"]


def main(args):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    settings = [("root -> leaves, PARENT edges", False, False),
                ("root -> leaves, PARENT + SIBLING (DRNN wavefront)", True, False),
                ("leaves -> root, child-sum", False, True)]
    rows = [bench_setting(name, args, generator, siblings, reverse) for name, siblings, reverse in settings]
    print(f"{args.trees} random trees of {args.min_nodes}-{args.max_nodes} nodes, LSTM D={args.input} "
          f"H={args.hidden}, median of {args.repeats}, {torch.get_num_threads()} threads")
    print(markdown_table(["setting", "nodes", "levels", "recursion fwd ms", "ours fwd ms", "speed-up fwd",
                          "recursion fwd+bwd ms", "ours fwd+bwd ms", "speed-up fwd+bwd", "max |diff|"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=256)
    parser.add_argument("--min-nodes", type=int, default=10)
    parser.add_argument("--max-nodes", type=int, default=30)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
