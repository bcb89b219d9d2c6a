"""``graphrnn predict TASK --checkpoint PATH [--input FILE] [--beam K]``: one prediction per input line.

Reads one input per line from ``--input`` (or stdin), and writes one prediction per line to
stdout, in input order, batched and on the GPU when there is one. It is
:func:`graphrnn.load` (``graphrnn.inference``) over those lines, so the Python entry point
gives the same output. What an input and a prediction look like for each task is in
:mod:`graphrnn.inference`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO, List, Optional, TextIO, Tuple

from graphrnn.cli_checks import STDIN_NAME
from graphrnn.datasets.text import DataFormatError, decode_lines, read_lines
from graphrnn.training import CheckpointError

__all__ = ["PREDICT_TASKS", "add_predict", "read_inputs", "run_predict"]

PREDICT_TASKS = ("mixer", "drnn", "rnn", "sim")

_EPILOG = """inputs (one per line) and predictions (one per line):
  mixer  a sentence -> its translation or summary (tokens separated by spaces; --beam K for beam search)
  drnn   a sentence, tokens separated by spaces -> its tree, e.g. ROOT ( a ( b c ) d )
  rnn    a sequence -> its label (a classifier), a prefix -> its continuation (a language model; --beam K),
         or 64 pixel values 0-16 -> the digit (the digits models)
  sim    a Volleyball annotation line (<frame>.jpg [activity] x y w h [action] ...) or a JSON object
         ({"boxes": [[x, y, w, h], ...]} or {"person_x": [[...]], "scene_x": [...]})
         -> activity<TAB>one action per person"""


def add_predict(commands) -> None:
    """Adds the ``predict`` command to the ``graphrnn`` sub-commands."""
    parser = commands.add_parser(
        "predict", help="answer new inputs with a trained checkpoint, one line in, one line out",
        description="Load a checkpoint written by `graphrnn train TASK` and write one prediction per input line "
                    "to stdout, in input order.", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=PREDICT_TASKS, metavar="TASK", help=f"one of {', '.join(PREDICT_TASKS)}")
    parser.add_argument("--checkpoint", type=Path, required=True, help="best.pt (or checkpoint.pt) of a training run")
    parser.add_argument("--input", type=Path, default=None,
                        help="UTF-8 file, one input per line (default, or '-': stdin)")
    parser.add_argument("--beam", type=int, default=None, help="beam size (mixer, rnn language models); "
                                                              "default: greedy decoding")
    parser.add_argument("--batch-size", type=int, default=64, help="inputs per batch (default: 64)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:1")


def read_inputs(path: Optional[Path], stdin: Optional[BinaryIO] = None) -> Tuple[List[str], str]:
    """``(lines, name)`` of ``path``, or of ``stdin`` (binary; default ``sys.stdin.buffer``) when ``path`` is None
    or ``-``."""
    if path is not None and str(path) != STDIN_NAME:
        return read_lines(path, "one input"), str(path)
    stream = stdin if stdin is not None else sys.stdin.buffer
    return decode_lines(stream.read(), "<stdin>", "one input"), "<stdin>"


def run_predict(args: argparse.Namespace, stdin: Optional[BinaryIO] = None, stdout: Optional[TextIO] = None,
                stderr: Optional[TextIO] = None) -> int:
    """Runs ``graphrnn predict``; returns the exit status (2 with a one-line error on stderr)."""
    from graphrnn.inference import check_task, load

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        model = load(args.checkpoint, args.device)
        check_task(model, args.task, args.checkpoint)
        lines, source = read_inputs(args.input, stdin)
        predictions = model.predict(lines, beam=args.beam, batch_size=args.batch_size, source=source)
    except (FileNotFoundError, CheckpointError, DataFormatError, ValueError, TypeError) as error:
        print(f"graphrnn predict {args.task}: error: {error}", file=stderr)
        return 2
    for prediction in predictions:
        print(prediction, file=stdout)
    stdout.flush()  # a closed pipe fails here, inside the command's error handling, not at interpreter exit
    return 0
