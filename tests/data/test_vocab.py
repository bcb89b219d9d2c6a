"""Vocabulary: special tokens, count cut-off, encode/decode, save/restore."""
import pytest

from graphrnn.data.vocab import BOS, EOS, PAD, UNK, Vocab, tokenize


def test_tokenize_splits_punctuation_and_lowercases():
    assert tokenize("Two young, White males are outside.") == ["two", "young", ",", "white", "males", "are",
                                                               "outside", "."]
    assert tokenize("A dog's toy") == ["a", "dog's", "toy"]


def test_build_orders_by_count_and_applies_cut_off():
    vocab = Vocab.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_count=2)
    assert vocab.itos == [PAD, BOS, EOS, UNK, "b", "a"]
    assert (vocab.pad, vocab.bos, vocab.eos, vocab.unk) == (0, 1, 2, 3)
    assert len(vocab) == 6


def test_encode_decode_round_trip_with_unknown_words():
    vocab = Vocab(["the", "dog"])
    ids = vocab.encode(["the", "cat", "dog"], bos=True, eos=True)
    assert ids.tolist() == [1, 4, 3, 5, 2]
    assert vocab.decode(ids) == ["the", UNK, "dog"]
    assert vocab.decode(ids, strip_specials=False) == [BOS, "the", UNK, "dog", EOS]
    assert vocab.decode([4, 2, 5]) == ["the"]  # stops at <eos>


def test_save_and_restore():
    vocab = Vocab(["x", "y"])
    assert Vocab.from_list(vocab.to_list()).itos == vocab.itos


def test_bad_input():
    with pytest.raises(ValueError, match="special token"):
        Vocab(["<unk>"])
    with pytest.raises(ValueError, match="min_count must be >= 1"):
        Vocab.build([["a"]], min_count=0)
    with pytest.raises(ValueError, match="outside the vocabulary of 5"):
        Vocab(["a"]).decode([7])
    with pytest.raises(ValueError, match="starts with"):
        Vocab.from_list(["a", "b", "c", "d"])
