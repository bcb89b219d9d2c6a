r"""Scores on the standard footing: sacrebleu BLEU and ROUGE-2 on detokenised text against raw references.

A model writes token ids; reports compare *text*. :func:`hypothesis_text` turns the ids into
the string a reader would see: specials dropped, ``<unk>`` replaced by :data:`UNK_MARK`, the
tokens detokenised (:func:`detokenize`). The scores then take those strings and the
references exactly as the corpus has them (case, punctuation, spacing, long sentences
included), so no preprocessing choice of the model can make its own references easier:

- :func:`sacrebleu_corpus` is ``sacrebleu.corpus_bleu(hyps, [refs])`` with sacrebleu's defaults
  (its ``13a`` tokenizer, cased, "exp" smoothing, BLEU-4), 0-100. It is the number WMT papers
  report (Post 2018, https://aclanthology.org/W18-6319).
- :func:`rouge2_text` is ROUGE-2 F1 (Lin 2004), mean over sentences, 0-100, with
  ``rouge_score``'s default tokenisation (lower-cased, every run of characters other than
  ``a-z0-9`` a separator, no stemming).

``<unk>`` never matches: :data:`UNK_MARK` (U+2047, "⁇") survives both tokenisations as a
token of its own, and every reference containing it is refused, so an unknown word in a
hypothesis can only count as a wrong word (ROUGE's tokeniser drops it, so it adds nothing
to the matches; BLEU counts it as an unmatched token). Scoring the ids of the references
themselves (with ``<unk>`` for every word the vocabulary lacks) is what a model that
predicts every known word right could reach: the oracle row of the MIXER tables.

.. math::
    \mathrm{BLEU} = \mathrm{BP}\cdot\exp\Big(\tfrac14\sum_{n=1}^{4}\log p_n\Big)

with :math:`p_n` the corpus n-gram precisions of :mod:`graphrnn.metrics.bleu` (equal by test).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from graphrnn.data.vocab import SPECIALS, UNK, Vocab
from graphrnn.metrics.rouge import rouge_n

__all__ = ["UNK_MARK", "detokenize", "hypothesis_text", "sacrebleu_corpus", "rouge2_text", "rouge_tokens"]

#: What ``<unk>`` becomes in a hypothesis: a character no reference may contain (checked).
UNK_MARK = "\u2047"

_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")
_ROUGE_SEPARATOR = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[^\W_]")  # a letter or digit of any script
_ROUGE_CHARACTER = re.compile(r"[a-z0-9]")


def detokenize(tokens: Sequence[str]) -> str:
    """The tokens joined into text: spaces, except before ``. , ! ? ; : % ) ] }`` and after ``( [ { $``.

    Undoes the splitting of punctuation by the ``13a`` and ``words`` tokenisers
    (``["a", "man", ",", "smiling", "."]`` -> ``"a man, smiling."``); quotes and apostrophes are
    left as tokens of their own, which sacrebleu's ``13a`` splits off again anyway.
    """
    if isinstance(tokens, str):
        raise TypeError(f"tokens must be a list of strings, got the string {tokens[:30]!r}; split it first")
    text = " ".join(tokens)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


def hypothesis_text(ids: Sequence[int], vocab: Vocab) -> str:
    """The text of a predicted id sequence: stops at ``<eos>``, drops ``<pad>``/``<bos>``, ``<unk>`` ->
    :data:`UNK_MARK`, then :func:`detokenize`."""
    words = [UNK_MARK if word == UNK else word for word in vocab.decode(ids) if word not in SPECIALS or word == UNK]
    return detokenize(words)


def _check_texts(hyps: Sequence[str], refs: Sequence[str]) -> tuple[list[str], list[str]]:
    for name, texts in (("hyps", hyps), ("refs", refs)):
        if isinstance(texts, (str, bytes)):  # else read as one sentence per character
            raise TypeError(f"{name} must be a list of strings (one sentence each), got the string {texts[:30]!r}; "
                            f"pass [{name}] for a single sentence")
    hyps, refs = list(hyps), list(refs)
    for name, texts in (("hypotheses", hyps), ("references", refs)):
        if not all(isinstance(text, str) for text in texts):
            raise TypeError(f"{name} must be strings (one sentence each), got "
                            f"{type(next(t for t in texts if not isinstance(t, str))).__name__}; "
                            "turn token ids into text with hypothesis_text(ids, vocab)")
    if not hyps:
        raise ValueError("no hypotheses: pass one string per test sentence")
    if len(hyps) != len(refs):
        raise ValueError(f"one reference per hypothesis: got {len(hyps)} hypotheses and {len(refs)} references")
    for index, ref in enumerate(refs):
        if UNK_MARK in ref:
            raise ValueError(f"reference {index} contains {UNK_MARK!r} (UNK_MARK), which stands for <unk> in "
                             "hypotheses; remove it from the references so that <unk> can never match")
    return hyps, refs


def sacrebleu_corpus(hyps: Sequence[str], refs: Sequence[str], lowercase: bool = False) -> float:
    """sacrebleu's corpus BLEU-4 (defaults: ``13a``, cased) of detokenised hypotheses against raw references.

    Args:
        hyps: one hypothesis string per sentence (e.g. :func:`hypothesis_text`).
        refs: the raw reference string of each sentence.
        lowercase: case-insensitive BLEU (sacrebleu's ``-lc``), for models trained on lower-cased text.

    Raises:
        ImportError: if sacrebleu is not installed (``pip install graphrnn[examples]``).
        ValueError: for no hypotheses, unequal counts, or a reference containing :data:`UNK_MARK`.
        TypeError: for anything but strings.
    """
    hyps, refs = _check_texts(hyps, refs)
    try:
        import sacrebleu
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("BLEU on the standard footing needs sacrebleu: pip install 'graphrnn[examples]' "
                          "(or pip install sacrebleu)") from error
    return float(sacrebleu.corpus_bleu(hyps, [refs], lowercase=lowercase).score)


def rouge_tokens(text: str) -> list[str]:
    """``rouge_score``'s default tokens: lower-cased, split at every run of characters other than a-z, 0-9."""
    return [token for token in _ROUGE_SEPARATOR.split(text.lower()) if token]


def _check_rouge_script(refs: Sequence[str]) -> None:
    """Refuses references whose letters and digits are mostly outside ``a-z0-9`` once lower-cased: ``rouge_score``'s
    tokenisation drops them, so ROUGE would score a few stray Latin tokens, or 0 whatever the hypothesis."""
    kept = dropped = 0
    for ref in refs:
        characters = _WORD.findall(ref.lower())
        inside = sum(1 for character in characters if _ROUGE_CHARACTER.fullmatch(character))
        kept, dropped = kept + inside, dropped + len(characters) - inside
    if dropped > kept:
        raise ValueError(f"{dropped} of the {kept + dropped} letters and digits of the references are not a-z or "
                         "0-9, which rouge_score's tokenisation drops, so ROUGE would score text in another script "
                         "as 0 whatever the hypothesis. Score such text with graphrnn.metrics.rouge_n on your own "
                         "tokens (e.g. rouge_n(hyp.split(), ref.split(), n=2))")


def rouge2_text(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """Mean ROUGE-2 F1 (0-100) of hypothesis strings against raw reference strings (:func:`rouge_tokens`).

    Raises:
        ValueError: for no hypotheses, unequal counts, a reference containing :data:`UNK_MARK`, or a
            set of references whose letters and digits are mostly outside ``a-z0-9`` (text in a
            non-Latin script, which ``rouge_score``'s tokenisation drops, so it would score 0 whatever
            the hypothesis).
    """
    hyps, refs = _check_texts(hyps, refs)
    _check_rouge_script(refs)
    ref_tokens = [rouge_tokens(ref) for ref in refs]
    scores = [rouge_n(rouge_tokens(hyp), tokens, n=2)["f1"] for hyp, tokens in zip(hyps, ref_tokens)]
    return 100.0 * sum(scores) / len(scores)
