r"""MIXER (Ranzato et al., ICLR 2016) on digit-strip captioning (BLEU-4):
XENT vs DAD vs E2E vs MIXER under greedy decoding, XENT and MIXER under beam search.

    python examples/mixer_captioning.py [--quick] [--epochs N] [--seed 0] \
        [--out runs/mixer_captioning]

All methods share the first XENT stage, then train the same number of epochs with their
own objective; the best validation epoch is tested (see graphrnn/experiments/mixer.py
and docs/mixer.md for the protocol, the sizes and the measured tables).
"""

from graphrnn.experiments.mixer import example_parser, run_example


def main(args):
    return run_example("captioning", args)


if __name__ == "__main__":
    main(example_parser(__doc__).parse_args())
