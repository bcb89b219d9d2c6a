"""Method-name prediction from Python ASTs (code2seq's task) on this Python's standard library.

Every function of the standard library (test folders and dunder methods left out) becomes an
AST with its name masked; the target is the name's subtokens (``read_config_file`` -> read
config file). Split by module with a fixed seed. Trains a Child-Sum Tree-LSTM encoder, a
pre-order LSTM encoder, a bag-of-nodes encoder and a bag of node types, all with the same
attention decoder, picks each model's epoch on validation F1, and prints code2seq's subtoken
precision / recall / F1 on test with parameter counts and training times. Training functions
over ``--max-train-nodes`` AST nodes are left out; validation and test keep every function, and
every test function is scored.

    python examples/method_names.py [--quick] [--epochs 4] [--hidden 64] [--seed 0]
        [--source DIR] [--max-train-nodes 150] [--threads 1]
"""
import argparse
import json
from pathlib import Path

from graphrnn.experiments.method_names import describe, results_table, run


def main(args):
    result = run(quick=args.quick, seed=args.seed, root=args.source, epochs=args.epochs, hidden=args.hidden,
                 train_limit=args.train_limit, max_train_nodes=args.max_train_nodes or None,
                 threads=args.threads or None)
    print(describe(result))
    print(results_table(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 / 300 / 400 sampled functions, 3 epochs")
    parser.add_argument("--epochs", type=int, default=None, help="default: 4 (3 with --quick)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--train-limit", type=int, default=None, help="sample this many training functions")
    parser.add_argument("--max-train-nodes", type=int, default=150,
                        help="leave out training functions with more AST nodes (0: no cap); validation and test "
                             "are never filtered")
    parser.add_argument("--source", type=Path, default=None,
                        help="folder of .py files (default: this Python's standard library)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: keep torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    main(parser.parse_args())
