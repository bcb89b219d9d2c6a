"""N-gram counting and input checks shared by :mod:`graphrnn.metrics.bleu` and :mod:`graphrnn.metrics.rouge`.

Tokens are any hashable values (ints from a vocabulary, or strings); a token list may be
any ordered iterable (a list, a tuple, a generator, a 1-d tensor or numpy array; 0-d tensor
tokens, as ``list(ids)`` gives, are read as their values, since tensors hash by identity). A plain
string is refused, since splitting it silently into characters is almost never what is
meant, and so are sets and dicts, which have no token order, and string tokens that hold white
space (an unsplit sentence inside a list, which would match nothing). Lists of sentences may be any
iterable too (e.g. a generator over a file).

Tokens are compared as given, with no Unicode normalisation: a composed ``"é"`` (U+00E9)
and a decomposed ``"e" + U+0301`` are different tokens, exactly as in ``sacrebleu``
(which normalises neither with ``tokenize="none"`` nor with its default ``13a`` tokenizer;
tested). Normalise both sides first when the texts may differ in form, e.g.
``unicodedata.normalize("NFC", text).split()``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence, Set

from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["as_references", "as_tokens", "check_max_order", "check_pairs", "clipped_overlap", "max_counts",
           "ngram_counts", "scalar_token"]

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


def check_max_order(max_order: int) -> int:
    """``max_order`` as the largest n-gram order (an int >= 1)."""
    if not is_int(max_order) or max_order < 1:
        raise ValueError(f"max_order must be an integer >= 1 (the largest n-gram order, 4 for BLEU-4), "
                         f"got {max_order!r}")
    return max_order


def _as_list(values, what: str) -> list:
    """An ordered iterable as a list; a clear error for strings, sets, dicts and non-iterables."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be a list of tokens, got the string {values[:30]!r}...; "
                        "split it first (e.g. text.split())")
    if isinstance(values, (Set, Mapping)):
        raise TypeError(f"{what} must be an ordered sequence, got a {type(values).__name__}, which has no order")
    if isinstance(values, Sequence):
        return list(values)
    if not isinstance(values, Iterable):
        raise TypeError(f"{what} must be a list (or another iterable) of tokens, got {type(values).__name__}")
    return list(values)


def as_tokens(tokens, what: str = "hypothesis") -> list:
    """``tokens`` as a list of hashable tokens; a clear error for strings, sets and non-iterables."""
    if isinstance(tokens, Tensor):
        if tokens.dim() != 1:
            raise ValueError(f"a {what} tensor must be 1-d (one sequence), got shape {tuple(tokens.shape)}")
        return tokens.tolist()
    if getattr(tokens, "ndim", 1) != 1:  # a numpy array
        raise ValueError(f"a {what} array must be 1-d (one sequence), got shape {tuple(tokens.shape)}")
    tokens = _as_list(tokens, f"a {what}")
    words = [token for token in tokens if isinstance(token, str)]
    if words and all(len(token.split()) > 1 for token in words):
        raise ValueError(f"a {what} is made of tokens of several words ({words[0][:40]!r}): sentences not split "
                         "into tokens (e.g. refs=[['the cat sat', 'a cat sat']] instead of [['the', 'cat', 'sat'], "
                         "['a', 'cat', 'sat']]) would match nothing; split them first (text.split())")
    for index, token in enumerate(tokens):  # other tokens may hold white space: code ('\n', "'a b'"), subwords (' cat')
        if isinstance(token, Tensor):
            tokens[index] = scalar_token(token, what)
        elif not isinstance(token, Hashable) or isinstance(token, Iterator):
            raise TypeError(f"the tokens of a {what} must be hashable (ints or strings), got a "
                            f"{type(token).__name__} ({token!r:.40}); pass one token list per sentence")
    return tokens


def scalar_token(token: Tensor, what: str) -> Hashable:
    """A 0-d tensor token (``list(ids_tensor)`` gives them) as its Python value. A tensor hashes by identity, so
    two tensors holding the same id would never match: every n-gram would count as wrong."""
    if token.dim() != 0:
        raise TypeError(f"the tokens of a {what} must be ints or strings, got a tensor of shape "
                        f"{tuple(token.shape)}; pass one token list (or one 1-d tensor) per sentence")
    return token.item()


def _is_token_list(value) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, Tensor) and value.dim() > 0)


def as_references(refs) -> list[list]:
    """One reference token list, or a list of several, as a non-empty list of token lists."""
    if isinstance(refs, Tensor) and refs.dim() == 2:  # several references of equal length, one per row
        return [row.tolist() for row in refs]
    refs = as_tokens(refs, "reference") if isinstance(refs, Tensor) else _as_list(refs, "a reference")
    if refs and all(_is_token_list(ref) for ref in refs):
        return [as_tokens(ref, "reference") for ref in refs]
    if any(_is_token_list(ref) for ref in refs):
        raise TypeError("references must be one token list, or a list of token lists; got a mix of both")
    return [as_tokens(refs, "reference")]


def check_pairs(hyps, refs) -> tuple[list, list]:
    """Non-empty hypotheses and references of the same length, as lists (any iterable is read once)."""
    if isinstance(hyps, (str, bytes)) or isinstance(refs, (str, bytes)):
        raise TypeError("hyps and refs must be lists of token lists, not strings")
    for name, value in (("hyps", hyps), ("refs", refs)):
        if getattr(value, "ndim", 0) >= 2:  # a tensor or array: a padded batch of ids
            raise TypeError(f"{name} is a {type(value).__name__} of shape {tuple(value.shape)}: the padding of its "
                            "rows would be scored as tokens (and match the padding of other rows); pass one "
                            f"unpadded token list per sentence, e.g. [row[:length].tolist() for row, length in "
                            f"zip({name}, lengths)]")
    hyps, refs = _as_list(hyps, "hyps"), _as_list(refs, "refs")
    if len(hyps) == 0:
        raise ValueError("no hypotheses: hyps is empty (pass one token list per sentence)")
    if len(hyps) != len(refs):
        raise ValueError(f"hyps and refs must have one entry per sentence, got {len(hyps)} hypotheses "
                         f"and {len(refs)} references")
    return hyps, refs
