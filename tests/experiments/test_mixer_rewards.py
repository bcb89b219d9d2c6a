"""MIXER's training rewards read token ids the way the test metrics read the texts: ``<unk>`` never
matches (a model rewarded for "<unk> <unk>" in training scores 0 for it at test)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.data.vocab import Vocab
from graphrnn.experiments import mixer
from graphrnn.metrics.standard import hypothesis_text, rouge2_text

KNOWN = ["alpha", "beta", "gamma", "delta", "eps"]
CASED = ["Re", ":", "Meeting", "meeting", "don't", "-", "Q3"]  # rouge_score: lower-cased, punctuation dropped
UNKNOWN = ["zulu", "yankee"]  # words of the references the vocabulary lacks
VOCAB = Vocab.build([KNOWN + CASED])
rouge2_reward = mixer.Rouge2Reward(VOCAB)


def ids(words):
    return VOCAB.encode(words)


@pytest.mark.parametrize("reward", [mixer.bleu_reward, rouge2_reward])
def test_a_predicted_unk_never_matches_a_reference_unk(reward):
    unk = Vocab.unk
    assert reward([[unk, unk]], [[unk, unk]]).tolist() == [0.0]
    # the known words still match: the same pair with real words gets the full reward
    assert reward([ids(["alpha", "beta"])], [ids(["alpha", "beta"])]).tolist() == [pytest.approx(1.0)]


def test_bleu_reward_counts_a_predicted_unk_as_a_wrong_token():
    """The same reward as with two distinct words in the unk places, neither in the other sentence."""
    hyp, ref = ids(["alpha", "zulu", "beta", "gamma"]), ids(["alpha", "yankee", "beta", "gamma"])
    stand_in = [ids(["alpha", "delta", "beta", "gamma"])], [ids(["alpha", "eps", "beta", "gamma"])]
    assert mixer.bleu_reward([hyp], [ref]).tolist() == pytest.approx(mixer.bleu_reward(*stand_in).tolist())
    assert 0.0 < mixer.bleu_reward([hyp], [ref]).item() < 1.0


sentences = st.lists(st.sampled_from(KNOWN + CASED + UNKNOWN), min_size=0, max_size=7)


@settings(max_examples=300, deadline=None)
@given(hyp=sentences, ref=sentences.filter(bool))
def test_rouge2_reward_equals_the_test_metric_on_the_texts(hyp, ref):
    """Reward x 100 == ROUGE-2 F1 of the hypothesis text (``<unk>`` shown as a mark, detokenised)
    against the raw reference, which keeps its case, its punctuation and the words the vocabulary
    lacks."""
    hyp_ids = ids(hyp)
    reward = rouge2_reward([hyp_ids], [ids(ref)]).item()
    assert 100 * reward == pytest.approx(rouge2_text([hypothesis_text(hyp_ids, VOCAB)], [" ".join(ref)]))


def test_rouge2_reward_reads_case_and_punctuation_as_rouge_score_does():
    assert rouge2_reward([ids(["Re", ":", "Meeting", "alpha"])], [ids(["Re", "meeting", "-", "alpha"])]).tolist() \
        == [pytest.approx(1.0)]
    specials = [Vocab.bos, *ids(["alpha", "beta"]).tolist(), Vocab.pad]  # never shown in a hypothesis text
    assert rouge2_reward([specials], [ids(["alpha", "beta"])]).tolist() == [pytest.approx(1.0)]
    with pytest.raises(ValueError, match="outside the reward's vocabulary"):
        rouge2_reward([[len(VOCAB)]], [[4, 5]])
    assert repr(rouge2_reward) == f"Rouge2Reward({len(VOCAB)} tokens)"


def test_the_bleu_reward_of_a_task_and_the_rouge2_reward_of_summarization():
    assert mixer.bleu_reward_for(VOCAB) is mixer.bleu_reward
    assert mixer.bleu_reward([[Vocab.bos, *ids(["alpha", "beta", "gamma", "delta"]).tolist()]],
                             [ids(["alpha", "beta", "gamma", "delta"])]).tolist() == [pytest.approx(1.0)]


def test_the_training_pairs_are_left_as_they_were():
    hyps, refs = [[Vocab.unk, 5]], [[5, Vocab.unk]]
    rouge2_reward(hyps, refs)
    mixer.bleu_reward(hyps, refs)
    assert hyps == [[Vocab.unk, 5]] and refs == [[5, Vocab.unk]]


@pytest.mark.parametrize("reward", [mixer.bleu_reward, rouge2_reward])
def test_rewards_take_tensors_and_several_references_per_pair(reward):
    hyp = ids(["alpha", "beta", "gamma"])  # a tensor
    several = [ids(["delta", "eps"]).tolist(), hyp.tolist()]  # the best reference counts
    assert reward([hyp], [hyp]).tolist() == [pytest.approx(1.0)]
    assert reward([hyp.tolist()], [several]).tolist() == [pytest.approx(1.0)]
    unk = Vocab.unk
    assert reward([[unk, unk]], [[[unk, unk], [unk, unk, unk]]]).tolist() == [0.0]


def test_rewards_refuse_unequal_counts():
    with pytest.raises(ValueError, match="one entry per sentence"):
        rouge2_reward([[4, 5]], [[4, 5], [6]])
