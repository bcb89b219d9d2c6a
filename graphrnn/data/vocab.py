"""Token vocabularies with the special tokens ``<pad> <bos> <eos> <unk>`` and a count cut-off."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Dict, Iterable, List, Sequence

import torch
from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["Vocab", "tokenize", "PAD", "BOS", "EOS", "UNK"]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]", re.UNICODE)


def tokenize(text: str, lowercase: bool = True) -> List[str]:
    """Words and punctuation marks of ``text`` (``"Two young, White"`` -> ``two young , white``).

    Combining marks belong to the word they follow: the vowel signs of Devanagari (``"हिंदी"``) and
    the accents of decomposed (NFD) text (``"cafe\u0301"``) are not word characters for Python's
    ``re``, which would cut such words into letters and marks."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes a str, got {type(text).__name__}; decode bytes first (text.decode('utf-8'))")
    text = text.lower() if lowercase else text
    tokens: List[str] = []
    end = -1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if tokens and match.start() == end and _joins(tokens[-1], token):
            tokens[-1] += token
        else:
            tokens.append(token)
        end = match.end()
    return tokens


def _is_mark(character: str) -> bool:
    return unicodedata.category(character).startswith("M")


def _joins(previous: str, token: str) -> bool:
    """Whether ``token``, right after ``previous`` in the text, continues the same word: it starts with a
    combining mark, or ``previous`` ends with one and ``token`` is a word."""
    return _is_mark(token[0]) or (_is_mark(previous[-1]) and (token[0].isalnum() or token[0] == "_"))


def _token_list(tokens, what: str) -> list:
    """``tokens`` as a list of str: a bare string would be read as its characters, and a non-string token
    (an id, ``None``) would never match the string keys, both silently."""
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"{what} must be a list of str tokens, got the string {tokens[:30]!r}; split it first "
                        "(e.g. tokenize(text) or text.split())")
    tokens = list(tokens)
    for token in tokens:
        if not isinstance(token, str):
            raise TypeError(f"{what} must hold str tokens, got {type(token).__name__} {token!r:.40}; map ids back to "
                            "tokens, or build the vocabulary from the tokens themselves")
    return tokens


def _id_list(ids) -> List[int]:
    """``ids`` (ints, or a 1-d integer tensor) as Python ints: ``int()`` would truncate 4.7 to 4 silently."""
    if isinstance(ids, Tensor):
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool or ids.dim() > 1:
            raise TypeError(f"decode takes token ids: a 1-d integer tensor, got {ids.dtype} {list(ids.shape)}")
        return ids.tolist()
    ids = list(ids)
    for i in ids:
        if not is_int(i):
            raise TypeError(f"decode takes integer token ids, got {type(i).__name__} {i!r:.40}")
    return [int(i) for i in ids]


class Vocab:
    """A mapping between tokens and ids; ids 0-3 are ``<pad> <bos> <eos> <unk>``.

    Args:
        tokens: the non-special tokens, in id order (ids start at 4), each listed once.
    """

    def __init__(self, tokens: Sequence[str] = ()) -> None:
        self.itos: List[str] = list(SPECIALS)
        tokens = _token_list(tokens, "Vocab tokens")
        first: Dict[str, int] = {}
        for position, token in enumerate(tokens):
            if token in SPECIALS:
                raise ValueError(f"{token!r} is a special token; do not list it")
            if token in first:  # dropping it would shift the ids of every later token (e.g. off their embeddings)
                raise ValueError(f"Vocab tokens list {token!r} twice (positions {first[token]} and {position}); a "
                                 "token list gives token i the id 4 + i, so list every token once "
                                 "(e.g. list(dict.fromkeys(tokens)))")
            first[token] = position
        self.itos += tokens
        self.stoi: Dict[str, int] = {token: i for i, token in enumerate(self.itos)}
        #: what encode reads: the ids of text tokens (a literal "<eos>" in text is not the control id)
        self._text_ids = {token: i for token, i in self.stoi.items() if token not in (PAD, BOS, EOS)}

    pad, bos, eos, unk = 0, 1, 2, 3

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1, max_size: int = None) -> "Vocab":
        """Tokens seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        if max_size is not None and (not is_int(max_size) or max_size < 0):
            # before: 0 kept every token and -1 silently dropped the rarest one
            raise ValueError(f"max_size must be None (no cap) or an integer >= 0 (non-special tokens kept), "
                             f"got {max_size!r}")
        counts = Counter(token for sentence in sentences for token in _token_list(sentence, "each sentence"))
        kept = sorted((t for t, c in counts.items() if c >= min_count and t not in SPECIALS),
                      key=lambda t: (-counts[t], t))
        return cls(kept if max_size is None else kept[:max_size])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str], bos: bool = False, eos: bool = False) -> Tensor:
        """Ids of ``tokens`` (unknown ones -> ``<unk>``), optionally framed by ``<bos>``/``<eos>``.

        A token that merely reads like a control token (``"<eos>"``, ``"<pad>"``, ``"<bos>"`` in
        the user's text) is text, not control: it is ``<unk>``, so it can neither end a sequence
        early nor be masked out as padding."""
        stoi, unk = self._text_ids, self.unk
        ids = [stoi.get(token, unk) for token in _token_list(tokens, "encode's tokens")]
        return torch.tensor(([self.bos] if bos else []) + ids + ([self.eos] if eos else []), dtype=torch.long)

    def decode(self, ids: Iterable[int], strip_specials: bool = True) -> List[str]:
        """Tokens of ``ids``; stops at ``<eos>`` and drops ``<pad>``/``<bos>`` when ``strip_specials``."""
        tokens = []
        for i in _id_list(ids):
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary of {len(self.itos)} tokens")
            if strip_specials and i == self.eos:
                break
            if not (strip_specials and i in (self.pad, self.bos)):
                tokens.append(self.itos[i])
        return tokens

    def to_list(self) -> List[str]:
        """The tokens in id order, for checkpoints (:meth:`from_list` restores it)."""
        return list(self.itos)

    @classmethod
    def from_list(cls, itos: Sequence[str]) -> "Vocab":
        if list(itos[:4]) != list(SPECIALS):
            raise ValueError(f"a saved vocabulary starts with {list(SPECIALS)}, got {list(itos[:4])}")
        return cls(itos[4:])

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens)"
