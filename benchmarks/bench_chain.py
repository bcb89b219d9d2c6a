"""ChainRNN vs torch.nn.LSTM/GRU/RNN, forward + backward, on a batch of chains.

    python benchmarks/bench_chain.py [--batch 64 --length 50 --input 64 --hidden 128 --device cpu|cuda]
    python benchmarks/bench_chain.py --batch 256 --length 100 --input 256 --hidden 512 --device cuda
    python benchmarks/bench_chain.py --min-length 10     # variable lengths vs packed cuDNN/torch

Same weights, same data, one process, round-robin. "ratio" is ChainRNN time / torch
time (goal for LSTM: <= 1.25x on the CPU, <= 1.15x of cuDNN on a GPU). "generic" is the
level-by-level message-passing path (fused=False), shown for reference. "plan built once"
columns give the layer the plan that graphrnn.data.DataLoader built in its collate; the
others let the layer build it in every forward. With --min-length, chain lengths are drawn
in [min-length, length] and the anchor runs on ``pack_padded_sequence`` of the padded batch.
"""
import argparse

from graphrnn.bench import add_device_argument, chain_vs_torch, describe_environment, markdown_table


def main(args):
    header, rows = chain_vs_torch(args.cells, args.batch, args.length, args.input, args.hidden,
                                  args.repeats, args.seed, device=args.device, min_length=args.min_length)
    lengths = f"T={args.length}" if args.min_length is None else f"T={args.min_length}-{args.length} (packed anchor)"
    print(f"B={args.batch} {lengths} D={args.input} H={args.hidden}, forward+backward, median of {args.repeats}; "
          f"{describe_environment(args.device)}")
    print(markdown_table(header, rows))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--min-length", type=int, default=None,
                        help="draw each chain's length in [min-length, length] (default: all equal to --length)")
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"], choices=["lstm", "gru", "rnn"])
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
