"""Topological pass over a batch of random trees vs a node-by-node recursion.

    python benchmarks/bench_tree.py [--trees 256 --min-nodes 10 --max-nodes 30 --device cpu|cuda]
    python benchmarks/bench_tree.py --trees 256 4096 --device cuda

Both use the same ChainRNN LSTM cell (child-sum over predecessors) on the same batch
in one process. The recursion is the code one would write by hand: a Python loop over
the nodes in topological order (order and predecessor lists precomputed outside the
timing), one cell call per node. Goal: >= 30x faster. "ours" is given the batch's
precomputed levels and builds its plan in every forward; "plan built once" is given the
plan graphrnn.data.DataLoader built in its collate. Batches larger than
--recursion-max-nodes skip timing the recursion (it would take minutes) and are checked
against it on their first 64 trees.

On --device cuda a second table captures the leaves -> root pass, given its plan, in a
CUDA graph (forward: torch.cuda.CUDAGraph; forward + backward:
torch.cuda.make_graphed_callables) and times its replay against the eager pass
(goal for 256 trees: <= 2 ms captured, <= 4 ms eager). --no-cuda-graphs skips it.
"""
import argparse

from graphrnn.bench import (
    TREE_SETTINGS,
    add_device_argument,
    describe_environment,
    markdown_table,
    tree_cuda_graphs,
    tree_vs_recursion,
)


def main(args):
    tables = []
    print(describe_environment(args.device))
    for trees in args.trees:
        header, rows = tree_vs_recursion(trees, args.min_nodes, args.max_nodes, args.input, args.hidden,
                                         args.repeats, args.seed, device=args.device, settings=args.settings,
                                         recursion_max_nodes=args.recursion_max_nodes)
        print(f"\n{trees} random trees of {args.min_nodes}-{args.max_nodes} nodes, LSTM D={args.input} "
              f"H={args.hidden}, median of {args.repeats}")
        print(markdown_table(header, rows), flush=True)
        tables.append((header, rows))
        if args.device == "cuda" and args.cuda_graphs:
            header, rows = tree_cuda_graphs(trees, args.min_nodes, args.max_nodes, args.input, args.hidden,
                                            max(args.repeats, 10), args.seed, device=args.device)
            print(f"\nCUDA graphs, {trees} trees, median of {max(args.repeats, 10)}")
            print(markdown_table(header, rows), flush=True)
            tables.append((header, rows))
    return tables


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, nargs="+", default=[256],
                        help="batch sizes to run, e.g. 256 4096 (default: 256)")
    parser.add_argument("--min-nodes", type=int, default=10)
    parser.add_argument("--max-nodes", type=int, default=30)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--settings", nargs="+", default=list(TREE_SETTINGS), choices=list(TREE_SETTINGS),
                        help="which passes to time (default: all)")
    parser.add_argument("--recursion-max-nodes", type=int, default=20_000,
                        help="time the node-by-node recursion only on batches of at most this many nodes")
    parser.add_argument("--no-cuda-graphs", dest="cuda_graphs", action="store_false",
                        help="on --device cuda, skip the CUDA-graph table")
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
