"""Operators per step, from the profiler: aten events and top-level ops per level, and host syncs.

Counts do not depend on the machine's speed, so they measure a schedule's Python and
kernel-launch overhead on any device. Run: ``python benchmarks/bench_ops.py [--device cuda]``.
"""
from __future__ import annotations

import argparse

import torch

from graphrnn.bench import markdown_table, op_counts_table


def main(args: argparse.Namespace) -> None:
    header, rows = op_counts_table(trees=args.trees, seed=args.seed, device=args.device)
    print(f"# torch {torch.__version__}, device {args.device}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trees", type=int, default=256, help="random trees of 10-30 nodes (default: 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    main(parser.parse_args())
