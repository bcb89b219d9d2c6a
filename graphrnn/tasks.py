"""Tasks of ``graphrnn train <task>``: one per paper or experiment family.

A task adds its own options to the ``train`` parser and runs with the shared ones
(``--quick --epochs --data --out --resume --device --seed``). Paper reproductions
register theirs in :data:`TASKS`.
"""
from __future__ import annotations

import argparse
import importlib
from typing import Callable, Dict, NamedTuple


class Task(NamedTuple):
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], str]


def _rnn_arguments(parser: argparse.ArgumentParser) -> None:
    from graphrnn.datasets.text import TOKENIZERS

    parser.add_argument("--model", choices=("feedforward", "rnn", "gru", "lstm"), default="lstm",
                        help="sequence model to train (default: lstm)")
    parser.add_argument("--hidden", type=int, default=64, help="hidden size (default: 64)")
    own = parser.add_argument_group(
        "your own sequences (--data FILE)",
        "A .csv/.tsv[.gz] of 'sequence,label' records (tab-separated in .tsv; an optional header line "
        "'sequence,label') trains a classifier; any other file, one sentence per line, a language model. "
        "A tenth is cut at random (seeded) as test, then a tenth of the rest as validation. Without --data: "
        "scikit-learn's digits read row by row.")
    own.add_argument("--tokenizer", choices=TOKENIZERS, default="13a",
                     help="13a: sacrebleu's default; whitespace: split on spaces; words: the built-in presets' "
                          "(default: 13a)")
    own.add_argument("--lowercase", action="store_true", help="lower-case the text first (sacrebleu's -lc)")
    own.add_argument("--min-count", type=int, default=1,
                     help="language model: words seen fewer times in training become <unk> (default: 1)")


def _run_rnn(args: argparse.Namespace) -> str:
    if args.data is not None:
        return _run_rnn_on_file(args)
    from graphrnn.datasets.digits import split_digit_sequences_with_validation
    from graphrnn.experiments.digits import majority_row, train_one

    epochs = args.epochs if args.epochs is not None else (3 if args.quick else 30)
    train, validation, test = split_digit_sequences_with_validation(args.seed)
    if args.quick:
        train, validation, test = train[:256], validation[:96], test[:128]
    row = train_one(args.model, train, validation, test, epochs, args.hidden, args.seed, args.out, progress=True,
                    device=args.device, resume=args.resume)
    majority = majority_row(train, test)
    return (f"{args.model} on digits read row by row: test accuracy {row['test_accuracy']:.1f}% at epoch "
            f"{row['best_epoch']} of {row['epochs']} (chosen on validation, {row['validation_accuracy']:.1f}%; "
            f"{row['seconds_per_epoch']:.2f} s/epoch); {majority['model']}: {majority['test_accuracy']:.1f}%")


def _run_rnn_on_file(args: argparse.Namespace) -> str:
    """``graphrnn train rnn --data FILE``: a classifier or a language model; ``OUT/best.pt`` is the best epoch."""
    from graphrnn.datasets.sequence_files import is_labelled_file
    from graphrnn.datasets.text import TextOptions
    from graphrnn.experiments.sequence_data import summary, train_on_file

    epochs = args.epochs if args.epochs is not None else (3 if args.quick else 20)
    settings = dict(hidden=args.hidden, epochs=epochs, seed=args.seed, out=args.out, device=args.device,
                    resume=args.resume, text=TextOptions(args.tokenizer, args.lowercase), progress=True)
    if not is_labelled_file(args.data):
        settings["min_count"] = args.min_count
    elif args.min_count != 1:  # a classifier keeps every training token: the option would be ignored
        raise ValueError(f"--min-count applies to language models (a text file, one sentence per line); {args.data} "
                         "holds sequence,label records, which train a classifier on every training token: drop "
                         "--min-count")
    row = train_on_file(args.data, args.model, **settings)
    return summary(args.data, row) + f"\nsaved the best epoch as {args.out / 'best.pt'}"


def _experiment_task(help: str, module: str) -> Task:
    """A task whose options and run live in ``graphrnn.experiments.<module>`` (imported when used)."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(f"graphrnn.experiments.{module}").add_arguments(parser)

    def run(args: argparse.Namespace) -> str:
        return importlib.import_module(f"graphrnn.experiments.{module}").run_task(args)

    return Task(help, add_arguments, run)


TASKS: Dict[str, Task] = {
    "rnn": Task("sequence models over chain graphs: digits read row by row (FeedForward/RNN/GRU/LSTM), or your "
                "own sequences (--data FILE: a sequence,label .csv/.tsv, or a text file for a language model)",
                _rnn_arguments, _run_rnn),
    "mixer": _experiment_task("sequence-level training (Ranzato et al. 2016): encoder-decoder trained with "
                              "XENT, DAD, E2E and MIXER; captioning, translation or summarization", "mixer"),
    "drnn": _experiment_task("doubly-recurrent tree decoder (Alvarez-Melis & Jaakkola 2017): synthetic tree "
                             "recovery, any directory in the authors' s.toks/t.toks/t.parents layout, or a "
                             "sentence<TAB>bracketed tree .tsv file", "drnn"),
    "sim": _experiment_task("Structure Inference Machine (Deng et al. 2016): group activity on person/scene "
                            "graphs with gated messages", "sim"),
}
