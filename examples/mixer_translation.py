r"""MIXER (Ranzato et al., ICLR 2016) on Multi30k de->en translation (BLEU-4):
XENT vs DAD vs E2E vs MIXER under greedy decoding, XENT and MIXER under beam search.

    GRAPHRNN_DATA=/path/to/data python examples/mixer_translation.py [--quick] [--epochs N] [--seed 0] \
        [--out runs/mixer_translation]

All methods share the first XENT stage, then train the same number of epochs with their
own objective; the best validation epoch is tested (see graphrnn/experiments/mixer.py
and docs/mixer.md for the protocol, the sizes and the measured tables).
"""
import argparse
from pathlib import Path

from graphrnn.experiments.mixer import METHODS, load_task, results_table, run, settings_for


def main(args):
    settings = settings_for("translation", args.quick, args.epochs)
    settings.methods = tuple(args.methods)
    if args.train_size:
        settings.train_size = args.train_size
    task = load_task("translation", settings, args.seed, args.data)
    print(task.details)
    result = run(task, settings, args.seed, args.out, args.device, progress=not args.no_progress,
                 resume=args.resume, log=print)
    print(results_table(result))
    print(f"total {result['seconds']:.0f} s; MIXER stages (epochs, s): {result['schedule']}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="data location (default: under $GRAPHRNN_DATA)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of the shared XENT stage")
    parser.add_argument("--train-size", type=int, default=None, help="training pairs (default: the preset's)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help="run directory (checkpoints; --resume continues)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    main(parser.parse_args())
