"""ROUGE-N on hand-computed examples and against a brute-force n-gram count."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.metrics import rouge_n, rouge_n_batch


def approx(scores):
    return {key: pytest.approx(value) for key, value in scores.items()}


def test_lin_2004_style_example():
    hyp = ["the", "cat", "was", "found", "under", "the", "bed"]
    ref = ["the", "cat", "was", "under", "the", "bed"]
    # unigrams: overlap 6 (the x2, cat, was, under, bed); ref 6, hyp 7
    assert rouge_n(hyp, ref, n=1) == approx({"recall": 6 / 6, "precision": 6 / 7, "f1": 2 * (6 / 7) / (1 + 6 / 7)})
    # bigrams: ref {the cat, cat was, was under, under the, the bed}; hyp shares the cat, cat was, under the,
    # the bed -> overlap 4, ref 5, hyp 6
    r, p = 4 / 5, 4 / 6
    assert rouge_n(hyp, ref, n=2) == approx({"recall": r, "precision": p, "f1": 2 * p * r / (p + r)})


def test_clipping_repeated_ngrams():
    # hyp repeats "a" five times; the reference has it twice
    assert rouge_n(["a"] * 5, ["a", "b", "a"], n=1) == approx({"recall": 2 / 3, "precision": 2 / 5,
                                                              "f1": 2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5)})


def test_edge_cases():
    zero = {"recall": 0.0, "precision": 0.0, "f1": 0.0}
    assert rouge_n([], [1, 2, 3], n=2) == zero
    assert rouge_n([1], [1], n=2) == zero  # no bigram on either side
    assert rouge_n([1, 2], [3, 4], n=2) == zero
    assert rouge_n([1, 2], [1, 2], n=2) == {"recall": 1.0, "precision": 1.0, "f1": 1.0}


def test_several_references_use_the_best_f1():
    assert rouge_n([1, 2, 3], [[4, 5, 6], [1, 2, 9], [1, 2, 3, 4, 5, 6, 7]], n=1) == approx(
        {"recall": 2 / 3, "precision": 2 / 3, "f1": 2 / 3})


@settings(max_examples=40, deadline=None)
@given(hyp=st.lists(st.integers(0, 4), max_size=10), ref=st.lists(st.integers(0, 4), max_size=10),
       n=st.integers(1, 3))
def test_matches_brute_force_counts(hyp, ref, n):
    hyp_grams = [tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1)]
    ref_grams = [tuple(ref[i:i + n]) for i in range(len(ref) - n + 1)]
    overlap = sum(min(hyp_grams.count(g), ref_grams.count(g)) for g in set(hyp_grams))
    scores = rouge_n(hyp, ref, n)
    assert scores["recall"] == pytest.approx(overlap / len(ref_grams) if ref_grams else 0.0)
    assert scores["precision"] == pytest.approx(overlap / len(hyp_grams) if hyp_grams else 0.0)
    p, r = scores["precision"], scores["recall"]
    assert scores["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)


def test_batch_matches_one_by_one():
    hyps = [[1, 2, 3], [4, 4], [], [7, 8, 9]]
    refs = [[1, 2, 4], [4, 4, 4], [1], [[7, 8], [9]]]
    batch = rouge_n_batch(hyps, refs, n=1)
    for key in ("recall", "precision", "f1"):
        assert isinstance(batch[key], torch.Tensor) and batch[key].shape == (4,)
        assert batch[key].tolist() == pytest.approx([rouge_n(h, r, 1)[key] for h, r in zip(hyps, refs)])


def test_bad_inputs():
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        rouge_n([1], [1], n=0)
    with pytest.raises(ValueError, match="no hypotheses"):
        rouge_n_batch([], [])
    with pytest.raises(ValueError, match="2 hypotheses and 3 references"):
        rouge_n_batch([[1], [2]], [[1], [2], [3]])
    with pytest.raises(TypeError, match="split it first"):
        rouge_n([1, 2], "a b")


def test_generators_and_unordered_inputs():
    hyps, refs = [[1, 2, 3, 4], [5, 6]], [[1, 2, 3, 5], [5, 6, 7]]
    want = rouge_n_batch(hyps, refs, n=2)
    got = rouge_n_batch((h for h in hyps), (r for r in refs), n=2)
    assert all(torch.equal(got[key], want[key]) for key in want)
    assert rouge_n(iter(hyps[0]), refs[0]) == rouge_n(hyps[0], refs[0])
    with pytest.raises(TypeError, match="ordered sequence, got a set"):
        rouge_n({1, 2}, [1, 2])
