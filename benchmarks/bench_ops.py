"""Operators per step, from the profiler: aten events and top-level ops per level, and host syncs.

    python benchmarks/bench_ops.py [--trees 256 --device cpu|cuda]

Counts do not depend on the machine's speed, so they measure a schedule's Python and
kernel-launch overhead on any device. Below the table, the ratios the issue sets goals for:
the fused chain step's aten events against ``torch.nn.LSTM``'s (goal <= 2x) and the tree
forward's ops per level given a plan (goal <= 30), top-level and all aten events; the compute
ops (events that are not views, metadata or allocations) are shown beside them.
"""
from __future__ import annotations

import argparse

from graphrnn.bench import add_device_argument, bench_device, describe_environment, markdown_table, op_counts_table


def _row(rows, start: str):
    return next(row for row in rows if row[0].startswith(start))


def goal_lines(header, rows) -> list:
    """The ratios against the anchors: fused chain step vs ``torch.nn.LSTM``, tree forward per level."""
    events, top = header.index("aten events"), header.index("top-level ops")
    lstm = _row(rows, "torch.nn.LSTM forward+backward")
    lines = []
    for plan in ("plan given", "no plan"):
        name = f"ChainRNN fused forward+backward, 64 x 50, {plan}"
        row = _row(rows, name)
        ratio = row[events] / lstm[events]
        lines.append(f"{name}: {ratio:.2f}x the aten events of torch.nn.LSTM ({row[events]} vs {lstm[events]}; "
                     f"goal <= 2x: {'met' if ratio <= 2 else 'NOT met'}), {row[-1]} host syncs")
    tree = _row(rows, "child-sum LSTM forward")
    verdicts = []
    for what, column in (("top-level ops", top), ("aten events", events)):
        per_level = float(tree[column + 1])
        verdicts.append(f"{per_level:.1f} {what} per level ({'met' if per_level <= 30 else 'NOT met'})")
    compute = float(tree[header.index("compute ops") + 1])
    lines.append(f"{tree[0]}: {', '.join(verdicts)} against the goal of <= 30 aten ops per level; "
                 f"{tree[-1]} host syncs (goal 0); of the events, {compute:.1f} per level are compute ops "
                 "(not views, metadata or allocations: about one kernel each on a GPU)")
    return lines


def main(args: argparse.Namespace):
    header, rows = op_counts_table(trees=args.trees, seed=args.seed, device=bench_device(args.device))
    print(f"# {describe_environment(args.device)}")
    print(markdown_table(header, rows))
    print("\n".join(goal_lines(header, rows)))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=256, help="random trees of 10-30 nodes (default: 256)")
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
