"""ChainRNN vs torch.nn.LSTM/GRU/RNN, forward + backward, on a batch of equal-length chains.

    python benchmarks/bench_chain.py [--batch 64 --length 50 --input 64 --hidden 128]

Same weights, same data, one process, round-robin. "ratio" is ChainRNN time / torch
time (goal for LSTM: <= 1.25x). "generic" is the level-by-level message-passing path
(fused=False), shown for reference.
"""
import argparse

import torch

from graphrnn.bench import chain_vs_torch, markdown_table


def main(args):
    header, rows = chain_vs_torch(args.cells, args.batch, args.length, args.input, args.hidden,
                                  args.repeats, args.seed)
    print(f"B={args.batch} T={args.length} D={args.input} H={args.hidden}, forward+backward, "
          f"median of {args.repeats}, {torch.get_num_threads()} threads")
    print(markdown_table(header, rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"], choices=["lstm", "gru", "rnn"])
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
