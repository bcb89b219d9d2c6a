"""The ``graphrnn`` command line (also ``python -m graphrnn``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from graphrnn import reproduce


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphrnn", description="Recurrent models as message passing over graphs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = commands.add_parser(
        "reproduce", help="run the experiments and write results.md / results.json",
        description="Run every experiment (or those given with --only) and write results.md and "
                    "results.json, with the reference numbers beside ours, into --out.")
    rep.add_argument("--quick", action="store_true", help="small settings: minutes on 2 CPU cores")
    rep.add_argument("--out", type=Path, default=Path("results"), help="output directory (default: ./results)")
    rep.add_argument("--seed", type=int, default=0, help="random seed of every experiment (default: 0)")
    rep.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(reproduce.EXPERIMENTS),
                     help=f"run only these experiments: {', '.join(sorted(reproduce.EXPERIMENTS))}")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "reproduce":
        reproduce.run_all(args.out, args.quick, args.seed, args.only,
                          log=lambda message: print(message, file=sys.stderr, flush=True))
        print(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
