"""Operator counts per step, from the CPU profiler: aten ops per level and host-sync ops.

These figures do not depend on the machine's speed, so they measure the Python and kernel-launch
overhead of a schedule on any device. Run: ``python benchmarks/bench_ops.py``.
"""
from __future__ import annotations

import argparse

import torch

from graphrnn.bench import op_counts_table


def main(args: argparse.Namespace) -> None:
    header, rows = op_counts_table(trees=args.trees, seed=args.seed, device=args.device)
    from graphrnn.bench import markdown_table

    print(f"# torch {torch.__version__}, device {args.device}")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trees", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    main(parser.parse_args())
