r"""ROUGE-N (Lin 2004) on token lists: n-gram recall, precision and F1, per sentence or per batch.

With the clipped overlap :math:`o = \sum_g \min(c_{hyp}(g), c_{ref}(g))` over the :math:`n`-grams
:math:`g`:

.. math::
    R = \frac{o}{\sum_g c_{ref}(g)}, \qquad P = \frac{o}{\sum_g c_{hyp}(g)}, \qquad
    F_1 = \frac{2 P R}{P + R},

each 0 when its denominator is (a side shorter than :math:`n` has no n-gram). With several
references the one giving the best :math:`F_1` is used (as ``rouge_score``'s ``score_multi``).
Scores lie in [0, 1]; reports multiply by 100. Tokens are compared as given (no Unicode
normalisation either): lower-case or
stem them beforehand to mimic the official ROUGE-1.5.5 options.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch
from torch import Tensor

from graphrnn.counts import is_int
from graphrnn.metrics.ngrams import as_references, as_tokens, check_pairs, clipped_overlap, ngram_counts

__all__ = ["rouge_n", "rouge_n_batch"]

Tokens = Sequence[Hashable]
KEYS = ("recall", "precision", "f1")


def _check_order(n: int) -> int:
    if not is_int(n) or n < 1:
        raise ValueError(f"the n-gram order n must be an integer >= 1 (ROUGE-1, ROUGE-2, ...), got {n!r}")
    return n


def _scores(hyp_counts, ref: list, n: int) -> tuple[float, float, float]:
    ref_counts = ngram_counts(ref, n)
    overlap = clipped_overlap(hyp_counts, ref_counts)
    hyp_total, ref_total = sum(hyp_counts.values()), sum(ref_counts.values())
    recall = overlap / ref_total if ref_total else 0.0
    precision = overlap / hyp_total if hyp_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return recall, precision, f1


def rouge_n(hyp: Tokens, ref, n: int = 2) -> dict[str, float]:
    """ROUGE-``n`` of one hypothesis.

    Args:
        hyp: hypothesis tokens (ints or strings).
        ref: one reference token list, or a list of several (the best-F1 one counts).
        n: n-gram order (1 for ROUGE-1, 2 for ROUGE-2).

    Returns:
        ``{"recall": R, "precision": P, "f1": F1}``, each in [0, 1].
    """
    n = _check_order(n)
    hyp_counts = ngram_counts(as_tokens(hyp), n)
    best = max((_scores(hyp_counts, r, n) for r in as_references(ref)), key=lambda s: s[2])
    return dict(zip(KEYS, best))


def rouge_n_batch(hyps: Sequence[Tokens], refs: Sequence, n: int = 2) -> dict[str, Tensor]:
    """:func:`rouge_n` of every pair: ``{"recall", "precision", "f1"}`` -> float tensors ``[B]``.

    Fast enough to score every sample of a training batch (a few microseconds per sentence;
    see ``benchmarks/bench_beam.py``); average the ``f1`` tensor for a corpus score.
    """
    hyps, refs = check_pairs(hyps, refs)
    rows = [rouge_n(hyp, ref, n) for hyp, ref in zip(hyps, refs)]
    return {key: torch.tensor([row[key] for row in rows]) for key in KEYS}
