"""The ``graphrnn`` command line (also ``python -m graphrnn``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from graphrnn import reproduce
from graphrnn.cli_checks import run_guarded
from graphrnn.datasets.text import DataFormatError
from graphrnn.predict import add_predict, run_predict
from graphrnn.tasks import TASKS
from graphrnn.training import CheckpointError, NonFiniteError, is_main_process


def _add_reproduce(commands) -> None:
    rep = commands.add_parser(
        "reproduce", help="run the experiments and write results.md / results.json",
        description="Run every experiment (or those given with --only) and write results.md and "
                    "results.json, with the reference numbers beside ours, into --out.")
    rep.add_argument("--quick", action="store_true", help="small settings: minutes on 2 CPU cores")
    rep.add_argument("--out", type=Path, default=Path("results"), help="output directory (default: ./results)")
    rep.add_argument("--seed", type=int, default=0, help="random seed of every experiment (default: 0)")
    rep.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(reproduce.EXPERIMENTS),
                     help=f"run only these experiments: {', '.join(sorted(reproduce.EXPERIMENTS))}")


def _add_train(commands) -> None:
    train = commands.add_parser("train", help="train one task's model (checkpoints, resume, torchrun)",
                                description="Train a task's model with the shared Trainer. Under "
                                            "`torchrun --nproc_per_node=N` the same command trains with DDP.")
    tasks = train.add_subparsers(dest="train_task", required=True, metavar="TASK")
    for name, task in TASKS.items():
        parser = tasks.add_parser(name, help=task.help, description=task.help)
        parser.add_argument("--quick", action="store_true", help="a small, fast setting (seconds to minutes)")
        parser.add_argument("--epochs", type=int, default=None,
                            help="total epochs (a resumed run counts the epochs already done)")
        parser.add_argument("--data", type=Path, default=None,
                            help="data directory (default: $GRAPHRNN_DATA); unused by tasks on built-in data")
        parser.add_argument("--out", type=Path, default=Path("runs") / name,
                            help=f"checkpoint.pt, best.pt and metrics.jsonl go here (default: runs/{name})")
        parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
        parser.add_argument("--overwrite", action="store_true",
                            help="start afresh in an --out that holds a previous run, replacing its checkpoint.pt "
                                 "and best.pt (without it such an --out is refused)")
        parser.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:1")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
        task.add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphrnn", description="Recurrent models as message passing over graphs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_reproduce(commands)
    _add_train(commands)
    add_predict(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # options checked before any work; OSError, NaN and Ctrl-C become one line on stderr (graphrnn/cli_checks.py)
    return run_guarded(parser, args, argv, _run)


def _run(args: argparse.Namespace) -> int:
    if args.command == "reproduce":
        reproduce.run_all(args.out, args.quick, args.seed, args.only,
                          log=lambda message: print(message, file=sys.stderr, flush=True))
        print(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'}")
    elif args.command == "train":
        try:
            summary = TASKS[args.train_task].run(args)
        except NonFiniteError:
            raise  # a diverged run: run_guarded exits with 1
        except (FileNotFoundError, CheckpointError, DataFormatError, ValueError) as error:
            print(f"graphrnn train {args.train_task}: error: {error}", file=sys.stderr)
            return 2
        if is_main_process():
            print(summary)
    elif args.command == "predict":
        return run_predict(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
