"""Topological pass over a batch of random trees vs a node-by-node recursion.

    python benchmarks/bench_tree.py [--trees 256 --min-nodes 10 --max-nodes 30]

Both use the same ChainRNN LSTM cell (child-sum over predecessors) on the same batch
in one process. The recursion is the code one would write by hand: a Python loop over
the nodes in topological order (order and predecessor lists precomputed outside the
timing), one cell call per node. Goal: >= 30x faster.
"""
import argparse

import torch

from graphrnn.bench import markdown_table, tree_vs_recursion


def main(args):
    header, rows = tree_vs_recursion(args.trees, args.min_nodes, args.max_nodes, args.input, args.hidden,
                                     args.repeats, args.seed)
    print(f"{args.trees} random trees of {args.min_nodes}-{args.max_nodes} nodes, LSTM D={args.input} "
          f"H={args.hidden}, median of {args.repeats}, {torch.get_num_threads()} threads")
    print(markdown_table(header, rows))


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
