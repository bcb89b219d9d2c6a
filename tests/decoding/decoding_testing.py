"""Fake decoders with known probabilities and a brute-force reference for the decoding tests.

Nothing here calls graphrnn. A :class:`TableModel` keeps the whole prefix in its state (so a
wrong reordering of the beams changes the probabilities it returns) and reads the next-token
distribution from a table keyed by ``(input, prefix)``, or draws it from a generator seeded by
that key, which makes every prefix's distribution fixed and reproducible.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

BOS, EOS = 0, 1
Key = tuple[int, tuple[int, ...]]


class TableModel:
    """``step_fn`` over a state ``((prefix [B, L], length [B]), input_id [B])`` (a nested tuple)."""

    def __init__(self, vocab: int, max_len: int, table: dict[Key, Sequence[float]] | None = None,
                 dtype: torch.dtype = torch.float64, seed: int = 0):
        self.vocab, self.max_len, self.table, self.dtype, self.seed = vocab, max_len, table, dtype, seed
        self.calls = 0

    def initial_state(self, inputs: Sequence[int]):
        batch = len(inputs)
        return ((torch.full((batch, self.max_len), -1, dtype=torch.long), torch.zeros(batch, dtype=torch.long)),
                torch.tensor(list(inputs), dtype=torch.long))

    def log_probs(self, input_id: int, prefix: tuple[int, ...]) -> torch.Tensor:
        if self.table is not None and EOS in prefix:  # a finished greedy/sampled row is still fed: any output
            return torch.full((self.vocab,), -math.log(self.vocab), dtype=self.dtype)
        if self.table is not None:
            probs = torch.tensor(self.table[(input_id, prefix)], dtype=torch.float64)
            return probs.log().to(self.dtype)
        generator = torch.Generator().manual_seed(hash((self.seed, input_id) + prefix) % (2 ** 31))
        logits = 3.0 * torch.randn(self.vocab, generator=generator, dtype=torch.float64)
        logits[BOS] = float("-inf")  # bos is never generated
        return logits.log_softmax(0).to(self.dtype)

    def step(self, tokens: torch.Tensor, state):
        self.calls += 1
        (prefix, length), input_id = state
        prefix, length = prefix.clone(), length.clone()
        fed = tokens != BOS
        prefix[fed, length[fed]] = tokens[fed]
        length = length + fed.long()
        rows = [self.log_probs(int(i), tuple(p[:n].tolist())) for i, p, n in zip(input_id, prefix, length)]
        return torch.stack(rows), ((prefix, length), input_id)

    def score(self, input_id: int, tokens: Sequence[int]) -> float:
        return sum(float(self.log_probs(input_id, tuple(tokens[:t]))[w]) for t, w in enumerate(tokens))


def all_sequences(vocab: int, max_len: int) -> list[tuple[int, ...]]:
    """Every output a decoder may return: ending in eos within max_len, or max_len tokens without eos."""
    outputs = []
    for length in range(1, max_len + 1):
        for body in itertools.product([w for w in range(vocab) if w != EOS], repeat=length - 1):
            outputs.append(body + (EOS,))
    outputs += list(itertools.product([w for w in range(vocab) if w != EOS], repeat=max_len))
    return outputs


def brute_force(model: TableModel, input_id: int, length_penalty: float = 0.0) -> list[tuple[list[int], float]]:
    """All finite-score sequences, best first, scored by sum log-prob / len ** length_penalty."""
    scored = []
    for seq in all_sequences(model.vocab, model.max_len):
        raw = model.score(input_id, seq)
        if raw != float("-inf"):
            scored.append((list(seq), raw / len(seq) ** length_penalty))
    return sorted(scored, key=lambda pair: -pair[1])


def assert_hypotheses_close(actual, expected, tol: float = 1e-9) -> None:
    assert [tokens for tokens, _ in actual] == [tokens for tokens, _ in expected]
    for (_, a), (_, e) in zip(actual, expected):
        assert math.isclose(a, e, rel_tol=tol, abs_tol=tol), (a, e)
