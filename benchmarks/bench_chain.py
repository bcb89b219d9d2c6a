"""ChainRNN vs torch.nn.LSTM/GRU/RNN, forward + backward, on a batch of equal-length chains.

    python benchmarks/bench_chain.py [--batch 64 --length 50 --input 64 --hidden 128]

Both run the same weights on the same data in one process, round-robin; the ratio
is ChainRNN time / torch time (goal for LSTM: <= 1.25x). "generic" is the
level-by-level message-passing path (fused=False), shown for reference.
"""
from __future__ import annotations

import argparse

import torch

from _timing import interleaved_medians, markdown_table
from graphrnn.data import DataLoader, chain_graph
from graphrnn.nn import ChainRNN

TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def make_batch(batch: int, length: int, channels: int, generator: torch.Generator):
    x = torch.randn(length, batch, channels, generator=generator)
    graphs = [chain_graph(x[:, b]) for b in range(batch)]
    data = next(iter(DataLoader(graphs, batch_size=batch)))
    return x, data


def forward_backward(fn):
    def run():
        out = fn()
        out.sum().backward()
    return run


def bench_cell(cell: str, args, generator: torch.Generator):
    reference = TORCH_MODULES[cell](args.input, args.hidden)
    fused = ChainRNN.from_torch(reference)
    generic = ChainRNN.from_torch(reference, fused=False)
    x, data = make_batch(args.batch, args.length, args.input, generator)
    fns = {
        "torch": forward_backward(lambda: reference(x)[0]),
        "fused": forward_backward(lambda: fused(data.x, data.edge_index)),
        "generic": forward_backward(lambda: generic(data.x, data.edge_index)),
    }
    times = interleaved_medians(fns, repeats=args.repeats)
    with torch.no_grad():  # same numbers, in the same node order
        expected = reference(x)[0].transpose(0, 1).reshape(-1, args.hidden)
        error = (fused(data.x, data.edge_index) - expected).abs().max().item()
    return [cell, f"{times['torch'] * 1e3:.1f}", f"{times['fused'] * 1e3:.1f}",
            f"{times['fused'] / times['torch']:.2f}x", f"{times['generic'] * 1e3:.1f}",
            f"{times['generic'] / times['torch']:.2f}x", f"{error:.1e}"]


def main(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads) if args.threads else None
    generator = torch.Generator().manual_seed(args.seed)
    rows = [bench_cell(cell, args, generator) for cell in args.cells]
    print(f"B={args.batch} T={args.length} D={args.input} H={args.hidden}, forward+backward, "
          f"median of {args.repeats}, {torch.get_num_threads()} threads")
    print(markdown_table(["cell", "torch ms", "ChainRNN ms", "ratio", "generic path ms", "generic ratio",
                          "max |diff|"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
