"""Long-range memory: remember the first symbol across growing delays (Elman RNN vs GRU vs LSTM).

Models: rnn, gru, lstm (torch's initialisation) and lstm-fb5 (forget-gate bias 5, see
graphrnn.nn.set_forget_bias).

    python examples/sequence_memory.py [--delays 5 20 50 100 200] [--train-size 2000] [--epochs 20] [--seed 0]
        [--plot runs/memory/gradient_vs_lag.png]

Prints test accuracy per cell and delay beside the majority class (chance, about 25%) and the
Bayes-optimal rule (read the first symbol: 100%), each model at its last epoch (no selection;
test is read once), then the gradient norm
||dL_T/dx_t|| against the lag T - t of the models trained at the longest delay, and
saves it as a plot (needs matplotlib, the `examples` extra).
"""
import argparse
from pathlib import Path

from graphrnn.experiments.memory import (
    CELLS,
    accuracy_table,
    gradient_table,
    gradient_vs_lag,
    plot_gradient_vs_lag,
    run,
)


def main(args):
    rows = run(args.delays, args.cells, args.train_size, args.test_size, args.epochs, args.hidden, args.seed,
               args.device, progress=not args.no_progress)
    print(accuracy_table(rows))
    longest = max(args.delays)
    trained = {r["cell"]: r["model"] for r in rows if r["delay"] == longest and "model" in r}
    norms = gradient_vs_lag(trained, length=longest + 1, seed=args.seed)
    print(f"\ngradient norm ||dL_T/dx_t|| at lag T - t (models trained with delay {longest}):")
    print(gradient_table(norms))
    if args.plot is not None:
        saved = plot_gradient_vs_lag(norms, args.plot)
        print(f"\nplot: {saved}" if saved else "\n(matplotlib not installed: no plot)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", type=int, nargs="+", default=[5, 20, 50, 100])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--train-size", type=int, default=1000)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--plot", type=Path, default=Path("runs/memory/gradient_vs_lag.png"))
    main(parser.parse_args())
