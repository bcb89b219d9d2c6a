r"""BLEU (Papineni et al. 2002) on token lists: corpus BLEU-4 as sacrebleu computes it, and a
smoothed sentence BLEU for rewards.

With clipped n-gram matches :math:`m_n = \sum_g \min(c_{hyp}(g), \max_r c_r(g))` over the
:math:`n`-grams :math:`g` of a hypothesis, :math:`t_n` its number of :math:`n`-grams, hypothesis
length :math:`c` and reference length :math:`r` (per sentence, the reference length closest
to the hypothesis, the shorter one on ties):

.. math::
    \mathrm{BLEU} = \mathrm{BP} \cdot \exp\Big(\frac{1}{N}\sum_{n=1}^{N} \log p_n\Big),
    \qquad \mathrm{BP} = \min\big(1, e^{1 - r / c}\big),

- corpus BLEU (:func:`corpus_bleu`, 0-100): :math:`m_n, t_n, c, r` summed over the corpus,
  :math:`p_n = m_n / t_n`; a zero :math:`m_n` is replaced by :math:`1 / (2^{j} t_n)` for the
  :math:`j`-th such order (sacrebleu's default "exp" smoothing), and the score is 0 when no
  n-gram matches or some order has no n-gram at all. Equal to
  ``sacrebleu.corpus_bleu([" ".join(h) ...], ..., tokenize="none")`` (tested).
- sentence BLEU (:func:`sentence_bleu`, 0-1): add-one smoothing of the precisions of order
  :math:`n \ge 2` (Lin & Och 2004), :math:`p_n = (m_n + 1) / (t_n + 1)`, so that short or
  partly wrong samples still get a graded reward; 0 when no unigram matches. Equal to
  sacrebleu's ``sentence_bleu(..., smooth_method="add-k", smooth_value=1) / 100``.

:math:`N = 4` by default. Tokens are compared as given, without Unicode normalisation, as
sacrebleu does (see :mod:`graphrnn.metrics.ngrams`).
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import torch
from torch import Tensor

from graphrnn.metrics.ngrams import (
    as_references,
    as_tokens,
    check_max_order,
    check_pairs,
    clipped_overlap,
    max_counts,
    ngram_counts,
)

__all__ = ["bleu_statistics", "corpus_bleu", "sentence_bleu", "sentence_bleu_batch"]

Tokens = Sequence[Hashable]


def _closest_length(length: int, ref_lengths: list[int]) -> int:
    return min(ref_lengths, key=lambda r: (abs(r - length), r))


def bleu_statistics(hyp: Tokens, refs, max_order: int = 4) -> tuple[int, int, list[int], list[int]]:
    """``(hyp length, closest reference length, matches[n], totals[n])`` for ``n = 1..max_order``.

    ``refs`` is one reference token list or a list of several; a hypothesis n-gram is credited
    at most as often as it occurs in any single reference.
    """
    hyp, refs, max_order = as_tokens(hyp), as_references(refs), check_max_order(max_order)
    matches, totals = [], []
    for n in range(1, max_order + 1):
        ref_counts = max_counts([ngram_counts(ref, n) for ref in refs])
        matches.append(clipped_overlap(ngram_counts(hyp, n), ref_counts))
        totals.append(max(len(hyp) - n + 1, 0))
    return len(hyp), _closest_length(len(hyp), [len(ref) for ref in refs]), matches, totals


def _brevity_penalty(hyp_length: int, ref_length: int) -> float:
    if hyp_length >= ref_length:
        return 1.0
    return math.exp(1.0 - ref_length / hyp_length) if hyp_length > 0 else 0.0


def _corpus_precisions(matches: list[int], totals: list[int]) -> list[float] | None:
    """sacrebleu's "exp"-smoothed precisions (in percent), ``None`` where BLEU is 0."""
    if not any(matches) or not all(totals):
        return None
    precisions, halvings = [], 1.0
    for match, total in zip(matches, totals):
        if match == 0:
            halvings *= 2.0
            precisions.append(100.0 / (halvings * total))
        else:
            precisions.append(100.0 * match / total)
    return precisions


def corpus_bleu(hyps: Sequence[Tokens], refs: Sequence, max_order: int = 4) -> float:
    r"""Corpus BLEU-``max_order`` in [0, 100] (see the module docstring).

    Args:
        hyps: one token list per sentence (any iterable, e.g. a generator).
        refs: per sentence, one reference token list or a list of several.
        max_order: the largest n-gram order :math:`N \ge 1`.

    Returns:
        The score, as sacrebleu prints it (0-100).

    Raises:
        ValueError: if ``max_order < 1``, there are no hypotheses, or hyps and refs differ in length.
        TypeError: for strings instead of token lists, unordered or non-iterable inputs,
            unhashable tokens.
    """
    hyps, refs = check_pairs(hyps, refs)
    max_order = check_max_order(max_order)
    hyp_length = ref_length = 0
    matches, totals = [0] * max_order, [0] * max_order
    for hyp, ref in zip(hyps, refs):
        c, r, m, t = bleu_statistics(hyp, ref, max_order)
        hyp_length, ref_length = hyp_length + c, ref_length + r
        matches = [a + b for a, b in zip(matches, m)]
        totals = [a + b for a, b in zip(totals, t)]
    precisions = _corpus_precisions(matches, totals)
    if precisions is None:
        return 0.0
    return _brevity_penalty(hyp_length, ref_length) * math.exp(sum(map(math.log, precisions)) / max_order)


def sentence_bleu(hyp: Tokens, ref, max_order: int = 4) -> float:
    """Sentence BLEU in [0, 1] with add-one smoothing of the orders ``n >= 2`` (see the module docstring).

    Args:
        hyp: the hypothesis tokens (ints or strings).
        ref: one reference token list, or a list of several.
        max_order: the largest n-gram order :math:`N`.
    """
    hyp_length, ref_length, matches, totals = bleu_statistics(hyp, ref, max_order)
    if matches[0] == 0:
        return 0.0
    log_precision = math.log(matches[0] / totals[0])
    log_precision += sum(math.log((m + 1) / (t + 1)) for m, t in zip(matches[1:], totals[1:]))
    return _brevity_penalty(hyp_length, ref_length) * math.exp(log_precision / max_order)


def sentence_bleu_batch(hyps: Sequence[Tokens], refs: Sequence, max_order: int = 4) -> Tensor:
    """:func:`sentence_bleu` of every pair, as a float tensor ``[B]`` (e.g. the rewards of a batch of samples)."""
    hyps, refs = check_pairs(hyps, refs)
    return torch.tensor([sentence_bleu(hyp, ref, max_order) for hyp, ref in zip(hyps, refs)])
