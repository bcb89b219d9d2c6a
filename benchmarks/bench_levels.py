"""topological_levels on 125k..2M nodes: random trees, random DAGs (2 parents), one chain.

    python benchmarks/bench_levels.py [--sizes 125000 250000 500000 1000000 2000000 --device cpu|cuda]

Goal: <= 2 s at 1M nodes, and time per node flat as the graph grows (linear). The
graphs are generated on the CPU and moved to --device before timing.
"""
import argparse

from graphrnn.bench import add_device_argument, describe_environment, levels_scaling, markdown_table


def main(args):
    header, rows = levels_scaling(args.sizes, args.repeats, args.seed, device=args.device)
    print(f"median of {args.repeats}; {describe_environment(args.device)}")
    print(markdown_table(header, rows))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[125_000, 250_000, 500_000, 1_000_000, 2_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
