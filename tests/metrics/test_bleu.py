"""BLEU against sacrebleu (the reference implementation) and hand-computed values."""
import math

import pytest
import sacrebleu
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.metrics import corpus_bleu, sentence_bleu, sentence_bleu_batch

WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat"]
sentences = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12)


def join(tokens):
    return " ".join(str(t) for t in tokens)


def sacre_corpus(hyps, refs_per_stream):
    return sacrebleu.corpus_bleu([join(h) for h in hyps], [[join(r) for r in stream] for stream in refs_per_stream],
                                 tokenize="none").score


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(sentences, sentences), min_size=1, max_size=8))
def test_corpus_bleu_equals_sacrebleu_one_reference(pairs):
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    assert math.isclose(corpus_bleu(hyps, refs), sacre_corpus(hyps, [refs]), rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(triples=st.lists(st.tuples(sentences, sentences, sentences, sentences), min_size=1, max_size=6))
def test_corpus_bleu_equals_sacrebleu_several_references(triples):
    hyps = [t[0] for t in triples]
    refs = [list(t[1:]) for t in triples]
    streams = [[t[i] for t in triples] for i in (1, 2, 3)]
    assert math.isclose(corpus_bleu(hyps, refs), sacre_corpus(hyps, streams), rel_tol=1e-9, abs_tol=1e-9)


def test_corpus_bleu_on_a_real_looking_corpus_and_int_tokens():
    generator = torch.Generator().manual_seed(0)
    refs = [torch.randint(0, 30, (int(torch.randint(5, 20, (1,), generator=generator)),), generator=generator)
            .tolist() for _ in range(200)]
    hyps = [[w if torch.rand(1, generator=generator) < 0.7 else w + 1 for w in r[:len(r) - i % 3]]
            for i, r in enumerate(refs)]
    ours = corpus_bleu(hyps, refs)
    assert 10 < ours < 100
    assert math.isclose(ours, sacre_corpus(hyps, [refs]), rel_tol=1e-12)


def test_corpus_bleu_hand_values():
    assert corpus_bleu([["a", "b", "c", "d"]], [["a", "b", "c", "d"]]) == pytest.approx(100.0)
    assert corpus_bleu([["x", "y", "z", "w"]], [["a", "b", "c", "d"]]) == 0.0
    # all 5 words, 3 of 4 bigrams, 2 of 3 trigrams, 1 of 2 4-grams match; 5 words for 6 in the reference
    hyp, ref = ["the", "cat", "sat", "on", "mat"], ["the", "cat", "sat", "on", "the", "mat"]
    p1, p2, p3, p4 = 5 / 5, 3 / 4, 2 / 3, 1 / 2
    want = math.exp(1 - 6 / 5) * (p1 * p2 * p3 * p4) ** 0.25 * 100
    assert corpus_bleu([hyp], [ref]) == pytest.approx(want)


@settings(max_examples=60, deadline=None)
@given(hyp=sentences, ref=sentences)
def test_sentence_bleu_equals_sacrebleu_add_one(hyp, ref):
    want = sacrebleu.sentence_bleu(join(hyp), [join(ref)], smooth_method="add-k", smooth_value=1,
                                   tokenize="none").score / 100
    assert math.isclose(sentence_bleu(hyp, ref), want, rel_tol=1e-9, abs_tol=1e-12)


def test_sentence_bleu_hand_values_and_range():
    assert sentence_bleu([3, 4, 5, 6], [3, 4, 5, 6]) == pytest.approx(1.0)
    assert sentence_bleu([1, 2], [3, 4]) == 0.0
    assert sentence_bleu([], [3, 4]) == 0.0
    # one word, right: p1 = 1, p2..p4 = (0 + 1) / (0 + 1) = 1, brevity penalty exp(1 - 3)
    assert sentence_bleu(["a"], ["a", "b", "c"]) == pytest.approx(math.exp(-2.0))
    # [a, b, x]: p1 = 2/3, p2 = (1 + 1) / (2 + 1), p3 = (0 + 1) / (1 + 1), p4 = 1 / 1
    assert sentence_bleu(["a", "b", "x"], ["a", "b", "c"]) == pytest.approx((2 / 3 * 2 / 3 * 1 / 2) ** 0.25)
    # the best of several references
    assert sentence_bleu([1, 2, 3], [[7, 8, 9], [1, 2, 3]]) == pytest.approx(1.0)


def test_sentence_bleu_batch_matches_one_by_one():
    hyps = [[1, 2, 3, 4], [2, 2], [], [5, 6, 7]]
    refs = [[1, 2, 3], [2, 2, 2], [1], [[5, 6, 7], [1]]]
    batch = sentence_bleu_batch(hyps, refs)
    assert batch.shape == (4,)
    assert batch.tolist() == pytest.approx([sentence_bleu(h, r) for h, r in zip(hyps, refs)])
    assert sentence_bleu(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 3])) == pytest.approx(1.0)


def test_bad_inputs():
    with pytest.raises(ValueError, match="no hypotheses"):
        corpus_bleu([], [])
    with pytest.raises(ValueError, match="2 hypotheses and 1 references"):
        corpus_bleu([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError, match="3 hypotheses and 2 references"):
        sentence_bleu_batch([[1], [2], [3]], [[1], [2]])
    with pytest.raises(TypeError, match="split it first"):
        sentence_bleu("the cat", ["the", "cat"])
    with pytest.raises(TypeError, match="a mix of both"):
        corpus_bleu([["a"]], [[["a"], "b"]])


@pytest.mark.parametrize("max_order", [0, -1, 2.0, True, None])
def test_max_order_must_be_a_positive_int(max_order):
    for score in (lambda: corpus_bleu([["a"]], [["a"]], max_order=max_order),
                  lambda: sentence_bleu(["a"], ["a"], max_order=max_order),
                  lambda: sentence_bleu_batch([["a"]], [["a"]], max_order=max_order)):
        with pytest.raises(ValueError, match="max_order must be an integer >= 1"):
            score()


def test_lower_orders_equal_sacrebleu():
    hyps = [["the", "cat", "sat", "on", "a", "mat"], ["a", "dog"]]
    refs = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog"]]
    for order in (1, 2, 3):
        want = sacrebleu.metrics.BLEU(tokenize="none", max_ngram_order=order).corpus_score(
            [join(h) for h in hyps], [[join(r) for r in refs]]).score
        assert math.isclose(corpus_bleu(hyps, refs, max_order=order), want, rel_tol=1e-12)


def test_any_iterable_is_accepted():
    import numpy as np

    hyps = [["the", "cat", "sat", "on", "a", "mat"], [1, 2, 3, 4, 5]]
    refs = [["the", "cat", "sat", "on", "the", "mat"], [1, 2, 3, 4, 6]]
    want = corpus_bleu(hyps, refs)
    assert corpus_bleu((h for h in hyps), (r for r in refs)) == want
    assert corpus_bleu([iter(h) for h in hyps], refs) == want
    assert corpus_bleu(map(tuple, hyps), [np.array(r) if i else r for i, r in enumerate(refs)]) == want
    assert sentence_bleu(iter(hyps[0]), refs[0]) == sentence_bleu(hyps[0], refs[0])
    assert torch.equal(sentence_bleu_batch(iter(hyps), iter(refs)), sentence_bleu_batch(hyps, refs))


def test_unordered_unhashable_and_non_iterable_tokens_are_refused():
    with pytest.raises(TypeError, match="ordered sequence, got a set"):
        corpus_bleu([{"a", "b"}], [["a", "b"]])
    with pytest.raises(TypeError, match="ordered sequence, got a dict"):
        sentence_bleu(["a"], {"a": 1})
    with pytest.raises(TypeError, match="tokens of a hypothesis must be hashable .* got a list"):
        corpus_bleu([[["a", "b"]]], [["a", "b"]])  # the references' nesting given for a hypothesis
    with pytest.raises(TypeError, match="list \\(or another iterable\\) of tokens, got int"):
        corpus_bleu([5], [["a"]])
    with pytest.raises(ValueError, match="array must be 1-d"):
        import numpy as np
        sentence_bleu(np.zeros((2, 2)), [1, 2])


def test_unicode_is_not_normalised_like_sacrebleu():
    import unicodedata

    words = "un café noir et un thé vert".split()
    composed = [unicodedata.normalize("NFC", w) for w in words]
    decomposed = [unicodedata.normalize("NFD", w) for w in words]
    assert composed != decomposed
    for tokenize in ("none", "13a"):
        want = sacrebleu.corpus_bleu([" ".join(composed)], [[" ".join(decomposed)]], tokenize=tokenize).score
        assert math.isclose(corpus_bleu([composed], [decomposed]), want, abs_tol=1e-9)
    assert corpus_bleu([composed], [decomposed]) < 100.0  # 'café' and 'thé' differ in form
    normalised = [unicodedata.normalize("NFC", w) for w in decomposed]
    assert corpus_bleu([composed], [normalised]) == pytest.approx(100.0)  # the documented fix
