"""Scores on the standard footing: the plumbing (ids -> text -> score) against sacrebleu called directly."""
import pytest
import sacrebleu
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.data.vocab import Vocab
from graphrnn.metrics import corpus_bleu, rouge_n
from graphrnn.metrics.standard import (
    UNK_MARK,
    detokenize,
    hypothesis_text,
    rouge2_text,
    rouge_tokens,
    sacrebleu_corpus,
)

VOCAB = Vocab(["A", "man", ",", "smiling", ".", "dog", "runs", "(", ")", "big", "the", "$", "5"])


def ids(*words):
    return [VOCAB.stoi[w] for w in words]


@pytest.mark.parametrize("tokens, text", [
    (["A", "man", ",", "smiling", "."], "A man, smiling."),
    (["a", "dog", "(", "big", ")", "runs", "!"], "a dog (big) runs!"),
    (["costs", "$", "5", "%", ";", "ok", "?"], "costs $5%; ok?"),
    ([], ""),
])
def test_detokenize_hand_written(tokens, text):
    assert detokenize(tokens) == text


def test_hypothesis_text_stops_at_eos_and_marks_unk():
    sequence = ids("A", "man", ",") + [Vocab.unk] + ids(".") + [Vocab.eos] + ids("dog")
    assert hypothesis_text(sequence, VOCAB) == f"A man, {UNK_MARK}."
    assert hypothesis_text([Vocab.bos] + ids("dog", "runs"), VOCAB) == "dog runs"


def test_bleu_equals_sacrebleu_called_on_the_same_strings():
    hyps = ["A man, smiling.", "the dog runs (big).", "A dog"]
    refs = ["A man is smiling.", "The big dog runs.", "A dog runs fast, the man smiles."]
    want = sacrebleu.corpus_bleu(hyps, [refs]).score
    assert sacrebleu_corpus(hyps, refs) == pytest.approx(want)
    assert sacrebleu_corpus(hyps, refs) == pytest.approx(corpus_bleu([h.replace(",", " ,").replace(".", " .")
                                                                      .replace("(", "( ").replace(")", " )").split()
                                                                      for h in hyps],
                                                                     [r.replace(",", " ,").replace(".", " .").split()
                                                                      for r in refs]))
    # case counts (cased BLEU), unless lowercase=True
    assert sacrebleu_corpus(["the man runs fast ."], ["The man runs fast."]) < 100.0
    assert sacrebleu_corpus(["the man runs fast ."], ["The man runs fast."], lowercase=True) == pytest.approx(100.0)


def test_detokenised_ids_score_like_the_hand_written_sentence():
    """The model's tokens, detokenised, get exactly sacrebleu's score of the sentence a person would write."""
    refs = ["A man, smiling.", "A dog runs."]
    outputs = [ids("A", "man", ",", "smiling", "."), ids("A", "dog", "runs", ".")]
    texts = [hypothesis_text(o, VOCAB) for o in outputs]
    assert texts == refs
    assert sacrebleu_corpus(texts, refs) == pytest.approx(100.0)
    assert sacrebleu_corpus(texts, refs) == pytest.approx(sacrebleu.corpus_bleu(refs, [refs]).score)


def test_unk_never_matches_even_where_the_reference_has_the_literal_word():
    # a vocabulary that lacks "dog": the model can only write <unk> there, which must score as a wrong word
    refs = ["the big dog runs .", "the man <unk> runs ."]
    outputs = [ids("the", "big") + [Vocab.unk] + ids("runs", "."), ids("the", "man") + [Vocab.unk] + ids("runs", ".")]
    texts = [hypothesis_text(o, VOCAB) for o in outputs]
    wrong = ["the big cat runs.", "the man cat runs."]  # a plain wrong word in the same place
    assert sacrebleu_corpus(texts, refs) == pytest.approx(sacrebleu.corpus_bleu(wrong, [refs]).score)
    assert sacrebleu_corpus(texts, refs) < 100.0
    # the literal token "<unk>" in a hypothesis would have matched the second reference
    literal = [t.replace(UNK_MARK, "<unk>") for t in texts]
    assert sacrebleu.corpus_bleu(literal, [refs]).score > sacrebleu_corpus(texts, refs)


def test_rouge2_on_raw_text_hand_computed():
    # "Meeting on Friday!" vs "Friday meeting, on-site": bigrams (meeting on)(on friday) vs
    # (friday meeting)(meeting on)(on site): overlap 1, P = 1/2, R = 1/3, F1 = 0.4
    assert rouge_tokens("Friday meeting, on-site") == ["friday", "meeting", "on", "site"]
    assert rouge2_text(["Meeting on Friday!"], ["Friday meeting, on-site"]) == pytest.approx(40.0)
    assert rouge2_text(["a b", f"x {UNK_MARK} y"], ["a b", "x y"]) == pytest.approx(100.0)  # unk adds nothing
    assert rouge2_text(["a c"], ["a b"]) == rouge_n(["a", "c"], ["a", "b"], 2)["f1"] * 100


def test_bad_inputs():
    with pytest.raises(ValueError, match="one reference per hypothesis"):
        sacrebleu_corpus(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="no hypotheses"):
        rouge2_text([], [])
    with pytest.raises(ValueError, match=r"reference 0 contains .* \(UNK_MARK\)"):
        sacrebleu_corpus(["a"], [f"a {UNK_MARK}"])
    with pytest.raises(TypeError, match="hypotheses must be strings"):
        sacrebleu_corpus([[4, 5]], ["a"])
    with pytest.raises(TypeError, match="split it first"):
        detokenize("a b")


TOKENS = ["a", "Man", "5", "3.5", ",", ".", "(", ")", "$", "%", "!", "?", ";", ":", "'", '"', "-", "[", "]", "{", "}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_detokenising_never_changes_what_sacrebleu_counts(tokens):
    """sacrebleu's 13a tokeniser reads the detokenised text as the same tokens as the spaced ones."""
    tokenize = sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()
    assert tokenize(detokenize(tokens)).split() == tokenize(" ".join(tokens)).split()


@pytest.mark.parametrize("score", [sacrebleu_corpus, rouge2_text])
def test_a_bare_string_is_not_read_as_one_sentence_per_character(score):
    # before: sacrebleu_corpus("a b", "a b") scored 3 one-character "sentences" and returned 0.0
    with pytest.raises(TypeError, match="hyps must be a list of strings"):
        score("the cat sat", ["the cat sat"])
    with pytest.raises(TypeError, match="refs must be a list of strings"):
        score(["the cat sat"], "the cat sat")
