"""Batched HMM forward algorithm (chain message passing) vs a per-sequence Python loop.

    python benchmarks/bench_hmm.py [--sequences 1000 --length 100 --states 8 --symbols 16 --device cpu|cuda]

Both compute log p(x) of every sequence in log space (logsumexp), in float64 by
default, in one process, timed round-robin (median of --repeats). "ours" is
``HMM.log_likelihood`` on one PyG batch of chain graphs: one batched step per time
step for all sequences (plan building included). "loop" is the straightforward
recursion, one sequence at a time, with torch ops on the same log-probabilities.
Goal: ours at least 20x faster.

Both run single-threaded by default (``--threads 1``): the ratio then measures batching,
not intra-op parallelism, and stays meaningful on a shared machine, where OpenMP
barriers in the batched ops can wait milliseconds for a busy core. ``--threads 0``
keeps torch's default. With --device cuda the parameters, sequences and batch live on the
GPU. Where HMM offers ``planners()``, a column times it on a batch whose plans
graphrnn.data.DataLoader built in its collate ("plans built once").
"""
import argparse

import torch

from graphrnn.bench import (
    add_device_argument,
    describe_environment,
    format_ratio,
    interleaved_medians,
    loader_batch,
    markdown_table,
    planners_of,
    synchronizer,
)
from graphrnn.data import chain_graph
from graphrnn.nn.hmm import HMM


def loop_log_likelihood(log_start, log_trans, log_emit, sequences):
    """The per-sequence forward recursion: alpha_t = logsumexp_i(alpha_{t-1}(i) + log A_i.) + log B_.(x_t)."""
    results = []
    for x in sequences:
        emission = log_emit.t()[x]  # [T, S]
        alpha = log_start + emission[0]
        for t in range(1, x.numel()):
            alpha = torch.logsumexp(alpha.unsqueeze(1) + log_trans, dim=0) + emission[t]
        results.append(torch.logsumexp(alpha, dim=0))
    return torch.stack(results)


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    generator = torch.Generator().manual_seed(args.seed)
    hmm = HMM(args.states, args.symbols, generator=generator, dtype=dtype).to(args.device)
    sequences = [torch.randint(0, args.symbols, (args.length,), generator=generator) for _ in range(args.sequences)]
    graphs = [chain_graph(x) for x in sequences]
    sequences = [x.to(args.device) for x in sequences]
    planners = planners_of(hmm)
    batches = {"ours": loader_batch(graphs, args.device)}
    if planners is not None:
        batches["ours, plans"] = loader_batch(graphs, args.device, plans=planners)
    with torch.no_grad():
        log_start, log_trans, log_emit = (torch.log_softmax(p, -1) for p in
                                          (hmm.start_logits, hmm.transition_logits, hmm.emission_logits))
        loop = loop_log_likelihood(log_start, log_trans, log_emit, sequences)
        error = max((hmm.log_likelihood(batch) - loop).abs().max().item() for batch in batches.values())
        if error > (1e-8 if dtype == torch.float64 else 1e-3):
            raise SystemExit(f"batched and per-sequence log-likelihoods disagree: max abs diff {error:.3e}")
        times = interleaved_medians({
            "loop": lambda: loop_log_likelihood(log_start, log_trans, log_emit, sequences),
            **{name: (lambda b=batch: hmm.log_likelihood(b)) for name, batch in batches.items()},
        }, repeats=args.repeats, warmup=1, sync=synchronizer(args.device))
    ratio = times["loop"] / times["ours"]
    planned = ([f"{times['ours, plans'] * 1e3:.1f}", format_ratio(times["loop"], times["ours, plans"], 0)]
               if planners is not None else ["-", "-"])
    header = ["sequences x length", "S", "V", "dtype", "per-sequence loop ms", "batched (ours) ms", "speed-up",
              "ours, plans built once ms", "speed-up, plans", "max abs diff"]
    rows = [[f"{args.sequences:,} x {args.length}", args.states, args.symbols, args.dtype,
             f"{times['loop'] * 1e3:.0f}", f"{times['ours'] * 1e3:.1f}", f"{ratio:.0f}x", *planned, f"{error:.1e}"]]
    print(f"HMM forward algorithm, log p(x) per sequence, no grad; median of {args.repeats} round-robin runs; "
          f"{describe_environment(args.device)}")
    if planners is None:
        print("HMM offers no planners(): no plans-built-once column")
    print(markdown_table(header, rows))
    for name in times:
        if name != "loop":
            speed_up = times["loop"] / times[name]
            print(f"speed-up of {name}: {speed_up:.1f}x (goal >= 20x): {'met' if speed_up >= 20 else 'NOT met'}")
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--states", type=int, default=8)
    parser.add_argument("--symbols", type=int, default=16)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
