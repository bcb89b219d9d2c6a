"""Vocabulary: special tokens, count cut-off, encode/decode, save/restore."""
import numpy as np
import pytest
import torch

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


def test_a_string_instead_of_a_token_list_raises():
    # before: read as its characters (Vocab("hello") had tokens h, e, l, o; encode("ab") gave two ids)
    with pytest.raises(TypeError, match="Vocab tokens must be a list of str tokens, got the string 'hello'"):
        Vocab("hello")
    with pytest.raises(TypeError, match="each sentence must be a list of str tokens"):
        Vocab.build(["hello world"])
    with pytest.raises(TypeError, match="encode's tokens must be a list of str tokens"):
        Vocab(["a"]).encode("a b")


def test_non_string_tokens_raise():
    # before: ids or None were kept as tokens that no text can ever match, or encoded as <unk>
    with pytest.raises(TypeError, match="must hold str tokens, got int 3"):
        Vocab(["a", 3])
    with pytest.raises(TypeError, match="must hold str tokens, got NoneType"):
        Vocab.build([["a", None]])
    with pytest.raises(TypeError, match="must hold str tokens, got int"):
        Vocab(["a"]).encode([4, 5])
    with pytest.raises(TypeError, match="tokenize takes a str, got NoneType"):
        tokenize(None)


@pytest.mark.parametrize("max_size", [-1, 1.5, True])
def test_max_size_must_be_a_count(max_size):
    # before: -1 silently dropped the rarest token
    with pytest.raises(ValueError, match="max_size must be None"):
        Vocab.build([["a", "b"]], max_size=max_size)


def test_max_size_zero_keeps_only_the_specials():
    # before: 0 was read as "no cap" and kept every token
    assert Vocab.build([["a", "b", "a"]], max_size=0).itos == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert Vocab.build([["a", "b", "a"]], max_size=1).itos[4:] == ["a"]


def test_decode_refuses_float_ids_instead_of_truncating():
    # before: int() truncated 4.7 to 4 (a real token) silently
    vocab = Vocab(["a", "b"])
    with pytest.raises(TypeError, match="decode takes integer token ids, got float 4.7"):
        vocab.decode([4.7])
    with pytest.raises(TypeError, match="a 1-d integer tensor, got torch.float32"):
        vocab.decode(torch.tensor([4.0, 5.0]))
    assert vocab.decode(torch.tensor([4, 5, 2, 4])) == ["a", "b"]
    assert vocab.decode([np.int64(5)]) == ["b"]


def test_control_tokens_written_in_the_text_are_unknown_words_not_control():
    """A literal '<eos>' in a user's sentence used to encode to the end id (the sentence ended early in
    decoding and scoring) and '<pad>' to the padding id (masked out of losses and baselines)."""
    vocab = Vocab.build([["a", "<eos>", "b"], ["<pad>", "a"]])
    assert vocab.itos == [PAD, BOS, EOS, UNK, "a", "b"]
    ids = vocab.encode(["a", EOS, "b", PAD, BOS, UNK], bos=True, eos=True)
    assert ids.tolist() == [vocab.bos, 4, vocab.unk, 5, vocab.unk, vocab.unk, vocab.unk, vocab.eos]
    assert vocab.decode(ids) == ["a", UNK, "b", UNK, UNK, UNK]
    restored = Vocab.from_list(vocab.to_list())
    assert torch.equal(restored.encode([EOS, "a"]), torch.tensor([vocab.unk, 4]))
