"""NL -> Python AST on the Django corpus: DRNN tree decoder vs Seq2Seq over the linearised tree.

Each English pseudo-code line is encoded by a BiLSTM; the DRNN decodes the AST of the
Python line (node types, field names, identifiers and literals as labels), the baseline
decodes its bracketed pre-order token by token. Each is tested once, at its epoch with the
best dev edge F1, by node / edge F1 (edges as (parent, child) pairs and by parent label
only) and by exact match of the regenerated code (``ast.unparse``). Two baselines that do
not learn are scored the same way: the most frequent training tree for every line, and the
tree of the training line whose English words overlap most with the test line's (Jaccard).

    GRAPHRNN_DATA=../shared/data OMP_NUM_THREADS=1 python examples/django_ast.py [--train-limit 5000] [--epochs 4]
        [--hidden 128] [--attention mlp] [--seed 0]
"""
import argparse
from pathlib import Path

from graphrnn.experiments.drnn import django_table, run_django


def main(args):
    result = run_django(args.data, limits=(args.train_limit, args.dev_limit, args.test_limit),
                        max_train_nodes=args.max_train_nodes, epochs=args.epochs, hidden=args.hidden,
                        seed=args.seed, device=args.device, progress=not args.no_progress, min_count=args.min_count,
                        attention=args.attention)
    print(django_table(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="folder with all.anno.gz / all.code.gz "
                        "(default: $GRAPHRNN_DATA/django)")
    parser.add_argument("--train-limit", type=int, default=None, help="first N parsed training lines")
    parser.add_argument("--dev-limit", type=int, default=300)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--max-train-nodes", type=int, default=60)
    parser.add_argument("--min-count", type=int, default=3, help="rarer labels and words become <unk>")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--attention", choices=["mlp"], default=None,
                        help="both decoders attend over the source (default: none, as in the paper)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    main(parser.parse_args())
