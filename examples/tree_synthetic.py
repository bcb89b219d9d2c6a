"""Synthetic tree recovery with a DRNN decoder (Alvarez-Melis & Jaakkola 2017, Sec. 5.1).

A BiLSTM encoder reads the depth-first pre-order string of a tree's letters; a DRNN-LSTM
decoder rebuilds the tree. Prints node and edge precision / recall / F1 on the test split
(edges as (parent, child) pairs and by parent label only, the authors' evaluation), at the
epoch with the best dev edge F1, beside the flat and chain rules and, on generated data,
the Bayes-optimal (MAP) tree; optionally F1 against the training-set size (the paper's Fig. 3).

    python examples/tree_synthetic.py [--grammar released|deep] [--data DIR] [--epochs 30] [--attention mlp]
        [--sizes 250 500 1000 2000 4000] [--plot docs/drnn_f1_vs_size.png] [--seed 0]
    python examples/tree_synthetic.py --grammar deep --epochs 20 --seeds 0 1 2 3 4 [--attention mlp]

Without --data the synthetic set (4000/500/500 trees) is generated from --seed with the
grammar preset --grammar: "released" (default; the statistics of the authors' released
data, 3.64 letters per tree, 74.6% flat trees) or "deep" (the earlier, deeper grammar).
With --data, any directory in the authors' layout <dir>/{train,dev,test}/{s.toks,t.toks,t.parents}.
"""
import argparse
from pathlib import Path

from graphrnn.datasets.synthetic_trees import GRAMMARS
from graphrnn.experiments.drnn import (
    f1_vs_size,
    over_seeds,
    plot_f1_vs_size,
    references,
    results_table,
    run,
    seeds_table,
    size_table,
)


def main(args):
    settings = dict(epochs=args.epochs, hidden=args.hidden, device=args.device, progress=not args.no_progress,
                    attention=args.attention)
    if args.seeds:
        rows = over_seeds(args.seeds, args.data, grammar=args.grammar, train_size=args.train_size, **settings)
        print(seeds_table(rows))
        return rows
    row = run(args.data, seed=args.seed, train_size=args.train_size, grammar=args.grammar, **settings)
    print(f"{row['train_trees']} training trees, {row['epochs']} epochs, {row['seconds']:.0f} s")
    reference = references(args.data, args.seed, args.grammar)
    print(results_table([row, *reference]))
    if args.sizes:
        rows = f1_vs_size(args.sizes, args.data, seed=args.seed, grammar=args.grammar, **settings)
        print("\nF1 against training-set size (the rules and the Bayes-optimal tree on the same test set below):")
        print(size_table(rows, reference))
        if args.plot is not None:
            print(f"plot: {plot_f1_vs_size(rows, args.plot)}")
    return row


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="a directory in the authors' layout")
    parser.add_argument("--grammar", choices=sorted(GRAMMARS), default="released",
                        help="without --data: the synthetic grammar preset (default: released)")
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--attention", choices=["mlp"], default=None,
                        help="the decoder attends over the encoder states (default: none, the paper's model)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[])
    parser.add_argument("--seeds", type=int, nargs="*", default=[],
                        help="instead: one run per seed, F1 per seed with the rules of each seed "
                             "(without --data each seed draws a new grammar)")
    parser.add_argument("--plot", type=Path, default=Path("runs/drnn/f1_vs_size.png"),
                        help="where --sizes draws its figure (default: runs/drnn/f1_vs_size.png)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    main(parser.parse_args())
