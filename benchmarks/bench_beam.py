"""Beam search throughput: batched over inputs x beams vs a per-input, per-beam Python loop.

    python benchmarks/bench_beam.py [--batch 64 --vocab 2000 --hidden 256 --max-len 25 --beams 1 5 10
                                     --device cpu|cuda]

Both decode the same batch with the same small LSTM decoder step (``torch.nn.LSTMCell`` +
``Linear`` + log-softmax, random weights, an eos logit growing with the step so that
hypotheses end after 10-20 tokens) under the same rules (best 2k candidates, eos finished only among the best k, pool of
k finished, stop when no live beam can beat the pool). ``graphrnn.decoding.beam_search`` makes
one step call per time step for the whole batch; the loop makes one per input, beam and step,
as one would write it by hand. Reported: sentences per second (median of interleaved runs),
the speed-up, and whether both return the same best hypothesis for every input. A second table
times the batch rewards (``sentence_bleu_batch``, ``rouge_n_batch``) on one batch of samples.
With --device cuda the decoder, its state and every token tensor live on the GPU (the rewards
work on token lists, on the CPU).
"""
import argparse

import torch

from graphrnn.bench import add_device_argument, describe_environment, interleaved_medians, markdown_table, synchronizer
from graphrnn.decoding import beam_search, greedy, map_state, sample, state_batch_size
from graphrnn.metrics import rouge_n_batch, sentence_bleu_batch

BOS, EOS = 1, 2


class LSTMDecoder(torch.nn.Module):
    """A decoder step: embed the previous token, one LSTM cell, project to log-probs.

    The state is ``((h, c), t)`` with ``t`` [B] the step count; the eos logit gets
    ``eos_slope * (t - eos_after)`` so that the random decoder ends sentences after about
    ``eos_after`` tokens, and the logits are scaled by ``sharpness`` so that it is confident.
    """

    def __init__(self, vocab: int, embed: int, hidden: int, eos_after: float, eos_slope: float = 1.0,
                 sharpness: float = 4.0):
        super().__init__()
        self.embed, self.cell = torch.nn.Embedding(vocab, embed), torch.nn.LSTMCell(embed, hidden)
        self.out = torch.nn.Linear(hidden, vocab)
        self.eos_after, self.eos_slope, self.sharpness = eos_after, eos_slope, sharpness

    def initial_state(self, batch: int, generator: torch.Generator):
        """A random ``((h, c), t=0)`` on the decoder's device (drawn on the CPU by ``generator``)."""
        hidden, device = self.cell.hidden_size, self.out.weight.device
        h, c = (torch.randn(batch, hidden, generator=generator).to(device) for _ in range(2))
        return (h, c), torch.zeros(batch, device=device)

    def step(self, tokens, state):
        (h, c), t = state
        h, c = self.cell(self.embed(tokens), (h, c))
        logits = self.sharpness * self.out(h)
        logits[:, EOS] += self.eos_slope * (t - self.eos_after)
        return torch.log_softmax(logits, dim=1), ((h, c), t + 1)


def naive_beam_search(step_fn, state, bos, eos, beam_size, max_len, length_penalty=0.0):
    """The hand-written reference: a Python loop over inputs, and per input over beams."""
    return [_naive_one(step_fn, map_state(lambda s: s[b:b + 1], state), bos, eos, beam_size, max_len,  # noqa: B023
                       length_penalty) for b in range(state_batch_size(state))]


def _token(token: int, state) -> torch.Tensor:
    """``[token]`` on the device of ``state``'s tensors."""
    return torch.tensor([token], device=state[1].device)


def _naive_one(step_fn, state, bos, eos, k, max_len, alpha):
    live, pool = [([], 0.0, state)], []
    for t in range(max_len):
        candidates = []
        for tokens, score, beam_state in live:
            log_probs, new_state = step_fn(_token(tokens[-1] if tokens else bos, beam_state), beam_state)
            values, words = log_probs[0].topk(min(2 * k, log_probs.size(1)))
            candidates += [(score + v, tokens + [w], new_state) for v, w in zip(values.tolist(), words.tolist())]
        candidates = sorted(candidates, key=lambda c: -c[0])[:2 * k]
        for score, tokens, _ in candidates[:k]:
            if tokens[-1] == eos or t == max_len - 1:
                pool.append((tokens, score / len(tokens) ** alpha))
        pool = sorted(pool, key=lambda p: -p[1])[:k]
        live = [(tokens, score, s) for score, tokens, s in candidates if tokens[-1] != eos][:k]
        if not live:
            break
        best = max(max(score / (t + 2) ** alpha, score / max_len ** alpha) for _, score, _ in live)
        if len(pool) == k and pool[-1][1] >= best:
            break
    return pool


def beam_table(decoder, state, beams, max_len, repeats, sync=None):
    header = ["k", "loop sent/s", "batched sent/s", "speed-up", "same best hypothesis", "max |score diff|"]
    rows, batch = [], state_batch_size(state)
    for k in beams:
        times = interleaved_medians({
            "loop": lambda: naive_beam_search(decoder.step, state, BOS, EOS, k, max_len),  # noqa: B023
            "batched": lambda: beam_search(decoder.step, state, BOS, EOS, k, max_len),  # noqa: B023
        }, repeats=repeats, warmup=1, sync=sync)
        ours = beam_search(decoder.step, state, BOS, EOS, k, max_len)
        loop = naive_beam_search(decoder.step, state, BOS, EOS, k, max_len)
        same = sum(a[0][0] == b[0][0] for a, b in zip(ours, loop))
        diff = max(abs(a[0][1] - b[0][1]) for a, b in zip(ours, loop))
        rows.append([k, f"{batch / times['loop']:.1f}", f"{batch / times['batched']:.1f}",
                     f"{times['loop'] / times['batched']:.1f}x", f"{same}/{batch}", f"{diff:.1e}"])
    return header, rows


def reward_table(decoder, state, max_len, repeats, seed, sync=None):
    device = state[1].device  # sample() wants a generator on the device of the log-probs
    samples = [tokens for tokens, _ in sample(decoder.step, state, BOS, EOS, max_len,
                                              generator=torch.Generator(device=device).manual_seed(seed))]
    references = [tokens for tokens, _ in greedy(decoder.step, state, BOS, EOS, max_len)]
    times = interleaved_medians({
        "decode (sample)": lambda: sample(decoder.step, state, BOS, EOS, max_len),
        "sentence_bleu_batch": lambda: sentence_bleu_batch(samples, references),
        "rouge_n_batch n=2": lambda: rouge_n_batch(samples, references, n=2),
    }, repeats=repeats, warmup=1, sync=sync)
    lengths = tuple(sum(map(len, seqs)) / len(seqs) for seqs in (samples, references))
    header = ["what (one batch)", "ms", "us per sentence"]
    rows = [[name, f"{t * 1e3:.2f}", f"{t * 1e6 / len(samples):.0f}"] for name, t in times.items()]
    return header, rows, lengths


def main(args):
    torch.manual_seed(args.seed)
    decoder = LSTMDecoder(args.vocab, args.embed, args.hidden, args.eos_after).to(args.device).eval()
    state = decoder.initial_state(args.batch, torch.Generator().manual_seed(args.seed))
    sync = synchronizer(args.device)
    with torch.no_grad():
        header, rows = beam_table(decoder, state, args.beams, args.max_len, args.repeats, sync)
        print(f"beam search, one batch of {args.batch} inputs, LSTMCell E={args.embed} H={args.hidden} "
              f"V={args.vocab} max_len={args.max_len}, median of {args.repeats}; {describe_environment(args.device)}")
        print(markdown_table(header, rows))
        reward_header, reward_rows, lengths = reward_table(decoder, state, args.max_len, args.repeats, args.seed, sync)
        print(f"\nrewards of {args.batch} sampled sequences (mean length {lengths[0]:.1f}) against the greedy outputs "
              f"(mean length {lengths[1]:.1f})")
        print(markdown_table(reward_header, reward_rows))
    return header, rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--max-len", type=int, default=25)
    parser.add_argument("--eos-after", type=float, default=10.0,
                        help="the random decoder's eos logit grows by 1 per step after this many tokens")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    add_device_argument(parser)
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
