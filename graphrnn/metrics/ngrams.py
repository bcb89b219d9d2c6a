"""N-gram counting and input checks shared by :mod:`graphrnn.metrics.bleu` and :mod:`graphrnn.metrics.rouge`.

Tokens are any hashable values (ints from a vocabulary, or strings); a token list may be a
list, a tuple or a 1-d tensor. A plain string is refused, since splitting it silently into
characters is almost never what is meant.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

from torch import Tensor

__all__ = ["as_references", "as_tokens", "check_pairs", "clipped_overlap", "max_counts", "ngram_counts"]

Tokens = Sequence[Hashable]


def ngram_counts(tokens: Sequence[Hashable], n: int) -> Counter:
    """Counts of the ``n``-grams (tuples) of ``tokens``."""
    return Counter(zip(*(tokens[i:] for i in range(n))))


def max_counts(counters: Sequence[Counter]) -> Counter:
    """Element-wise maximum of n-gram counts (the clipping counts of several references)."""
    if len(counters) == 1:
        return counters[0]
    merged = Counter()
    for counts in counters:
        merged |= counts
    return merged


def clipped_overlap(hyp_counts: Counter, ref_counts: Counter) -> int:
    """:math:`\\sum_g \\min(c_{hyp}(g), c_{ref}(g))`, looping only over the shared n-grams."""
    return sum(min(hyp_counts[gram], ref_counts[gram]) for gram in hyp_counts.keys() & ref_counts.keys())


def as_tokens(tokens, what: str = "hypothesis") -> list:
    """``tokens`` as a list; a clear error for strings and non-sequences."""
    if isinstance(tokens, Tensor):
        if tokens.dim() != 1:
            raise ValueError(f"a {what} tensor must be 1-d (one sequence), got shape {tuple(tokens.shape)}")
        return tokens.tolist()
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"a {what} must be a list of tokens, got the string {tokens[:30]!r}...; "
                        "split it first (e.g. text.split())")
    if not isinstance(tokens, Sequence):
        raise TypeError(f"a {what} must be a list of tokens, got {type(tokens).__name__}")
    return list(tokens)


def _is_token_list(value) -> bool:
    return isinstance(value, (list, tuple, Tensor)) and not isinstance(value, (str, bytes))


def as_references(refs) -> list[list]:
    """One reference token list, or a list of several, as a non-empty list of token lists."""
    refs = as_tokens(refs, "reference")
    if refs and all(_is_token_list(ref) for ref in refs):
        return [as_tokens(ref, "reference") for ref in refs]
    if any(_is_token_list(ref) for ref in refs):
        raise TypeError("references must be one token list, or a list of token lists; got a mix of both")
    return [refs]


def check_pairs(hyps, refs) -> None:
    """Non-empty lists of hypotheses and references of the same length."""
    if isinstance(hyps, (str, bytes)) or isinstance(refs, (str, bytes)):
        raise TypeError("hyps and refs must be lists of token lists, not strings")
    if len(hyps) == 0:
        raise ValueError("no hypotheses: hyps is empty (pass one token list per sentence)")
    if len(hyps) != len(refs):
        raise ValueError(f"hyps and refs must have one entry per sentence, got {len(hyps)} hypotheses "
                         f"and {len(refs)} references")
