"""Word-level language model on the English side of Multi30k: 4-gram window vs Elman RNN vs LSTM.

    GRAPHRNN_DATA=/path/to/data python examples/sequence_language_model.py [--epochs 5] [--hidden 256] [--seed 0]

Reads ``$GRAPHRNN_DATA/multi30k/{train,val,test_2016_flickr}.en.gz`` (or --data DIR), builds a
vocabulary of training words seen at least twice, trains each model, chooses its epoch on
validation perplexity, and prints test perplexity (read once, beside a unigram baseline) and
sentences sampled from the recurrent models.
"""
import argparse
from pathlib import Path

from graphrnn.experiments.language_model import MODELS, results_table, run


def main(args):
    result = run(args.data, args.models, args.train_limit, args.test_limit, args.epochs, args.hidden, args.seed,
                 args.device, progress=not args.no_progress, validation_limit=args.validation_limit)
    print(f"vocabulary {result['vocab_size']} tokens; {result['train_sentences']} train / "
          f"{result['validation_sentences']} validation / {result['test_sentences']} test sentences")
    print(results_table(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="directory with the Multi30k files "
                        "(default: $GRAPHRNN_DATA/multi30k)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training sentences")
    parser.add_argument("--validation-limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    main(parser.parse_args())
