"""Sequence labelling on HMM-sampled data: Bayes-optimal vs EM-learned HMM vs RNN vs LSTM.

    python examples/sequence_hmm_tagging.py [--train-size 2000] [--em-iterations 300] [--em-restarts 3]
        [--epochs 10] [--seed 0]

The data come from a known 4-state, 8-symbol HMM (graphrnn.datasets.hmm), so the best
possible accuracy is known: the true model's posterior. Prints test accuracy and the
gap to it for each tagger.
"""
import argparse

from graphrnn.experiments.hmm_tagging import results_table, run


def main(args):
    rows = run(args.train_size, args.test_size, (args.min_length, args.max_length), args.em_iterations, args.epochs,
               args.hidden, args.seed, args.device, args.em_restarts, progress=not args.no_progress)
    print(results_table(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--min-length", type=int, default=20)
    parser.add_argument("--max-length", type=int, default=60)
    parser.add_argument("--em-iterations", type=int, default=300)
    parser.add_argument("--em-restarts", type=int, default=3, help="random EM starts; the best likelihood wins")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    main(parser.parse_args())
