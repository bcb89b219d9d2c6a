"""run_directory: the given folder, or a temporary one that is gone afterwards; the shared unigram baseline."""
import math
from collections import Counter

import pytest

from graphrnn.data.vocab import Vocab
from graphrnn.experiments.common import predicted_tokens, run_directory, unigram_perplexity


def test_run_directory_keeps_a_given_folder(tmp_path):
    with run_directory(str(tmp_path / "out")) as out:
        assert out == tmp_path / "out"
    with run_directory(tmp_path) as out:
        (out / "kept.txt").write_text("x")
    assert (tmp_path / "kept.txt").is_file()


def test_run_directory_without_a_folder_removes_its_temporary_one():
    with run_directory(None) as out:
        assert out.is_dir()
        (out / "checkpoint.pt").write_text("x")
    assert not out.exists()


# ---------------------------------------------------------------- the shared unigram baseline
def _chains(sentences, vocab):
    from graphrnn.data import chain_graph

    return [chain_graph(vocab.encode(s, bos=True, eos=True)) for s in sentences]


def _string_unigram_perplexity(train, test):
    """The former ``sequence_data.unigram_perplexity``, on token strings: every training word its own
    class, plus ``<eos>`` and one class for all unknown words."""
    counts = Counter(token for sentence in train for token in list(sentence) + ["<eos>"])
    total = sum(counts.values()) + len(counts) + 1
    nll = [-math.log((counts.get(token, 0) + 1) / total) for sentence in test for token in list(sentence) + ["<eos>"]]
    return math.exp(sum(nll) / len(nll))


def test_unigram_perplexity_is_the_former_string_count_when_every_training_word_is_in_the_vocabulary():
    train = [["a", "b", "a"], ["c"], ["a", "c", "c", "b"]]
    test = [["a", "zebra"], ["c", "b", "quokka", "a"], []]
    vocab = Vocab.build(train)  # min_count 1: the callers' default
    shared = unigram_perplexity(_chains(train, vocab), _chains(test, vocab), len(vocab))
    assert shared == pytest.approx(_string_unigram_perplexity(train, test), rel=1e-12)


def test_unigram_perplexity_predicts_over_the_models_classes_when_rare_words_are_unk():
    train, test = [["a", "a", "b"]], [["b", "c"]]
    vocab = Vocab.build(train, min_count=2)  # only 'a'; the rare 'b' is <unk> for the model
    # add-one counts over a, <unk>, <eos>: 3, 2, 2 -> total 7; test tokens b -> <unk>, c -> <unk>, <eos>
    assert unigram_perplexity(_chains(train, vocab), _chains(test, vocab), len(vocab)) == pytest.approx(7 / 2)
    # the former string count gave 'b' its own class: another event space than the model's
    assert _string_unigram_perplexity(train, test) == pytest.approx((0.25 * 0.125 * 0.25) ** (-1 / 3))


def test_predicted_tokens_drop_each_leading_bos():
    vocab = Vocab(["a", "b"])
    tokens = predicted_tokens(_chains([["a"], ["b", "a"]], vocab))
    assert tokens.tolist() == [4, Vocab.eos, 5, 4, Vocab.eos]
