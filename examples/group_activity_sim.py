"""Group activity recognition with Structure Inference Machines (Deng et al., CVPR 2016).

Trains the unary MLP baseline and a gated SIM on synthetic collective-activity scenes
(graphrnn.datasets.collective), prints scene and per-person action accuracy, the mean
learned gates from the main group, a second group and passers-by, and draws one test scene
with its gates.

    python examples/group_activity_sim.py [--iterations 3] [--epochs 12] [--seed 0] [--plot docs/sim_gates.png]
    python examples/group_activity_sim.py --grid        # the whole comparison (T = 1-4, gates, tied/untied)
    python examples/group_activity_sim.py --distractors 1 8   # scenes with 1-8 distractors each

Every model's epoch is chosen on validation scenes held out of the training scenes; test is read once.
"""
import argparse
from pathlib import Path

from graphrnn.experiments.sim import GRID, Variant, gate_summary, plot_gates, results_table, run, synthetic_data


def main(args):
    distractors = None if getattr(args, "distractors", None) is None else tuple(args.distractors)
    data = synthetic_data(args.train_size, args.test_size, args.seed, distractors)
    variants = GRID if args.grid else [Variant("mlp"), Variant("sim", args.iterations, gated=False),
                                       Variant("sim", args.iterations, gated=True)]
    rows = run(data, args.epochs, variants, hidden=args.hidden, seed=args.seed, progress=not args.no_progress,
               device=args.device)
    print(f"{data.description}, {args.epochs} epochs")
    print(results_table(rows))
    gated = [r for r in rows if r["kind"] == "sim" and r["gated"]][-1]
    model = gated["trained"].cpu()
    print(f"\nmean last-iteration gates of {gated['model']} on the test scenes:")
    for key, value in gate_summary(model, data.test).items():
        print(f"  {key}: {value:.3f}")
    if args.plot is not None:
        wanted = (lambda s: bool(s.distractor.any()) and 4 <= s.person_x.size(0) <= 10) if distractors else \
            (lambda s: bool(s.passer_by.any()) and bool(s.second_group.any()))
        scene = next((s for s in data.test if wanted(s)), data.test[0])
        saved = plot_gates(model, scene, args.plot)
        print(f"\nplot: {saved}" if saved else "\n(matplotlib not installed: no plot)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=1500)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--grid", action="store_true", help="train the whole comparison grid")
    parser.add_argument("--distractors", type=int, nargs=2, default=None, metavar=("LO", "HI"),
                        help="LO..HI distractors per scene (graphrnn.datasets.collective)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--plot", type=Path, default=Path("runs/sim/gates.png"))
    main(parser.parse_args())
