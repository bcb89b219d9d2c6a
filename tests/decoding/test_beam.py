"""Beam search against hand-set probabilities, brute-force enumeration and greedy decoding."""
import math

import pytest
import torch
from decoding_testing import BOS, EOS, TableModel, assert_hypotheses_close, brute_force
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.decoding import beam_search, greedy

A, B = 2, 3  # the two word tokens of the hand-set model (0 = bos, 1 = eos)
# P(next | prefix) over (bos, eos, a, b); bos is never generated.
HAND = {
    (0, ()): (0.0, 0.1, 0.5, 0.4),
    (0, (A,)): (0.0, 0.4, 0.35, 0.25),
    (0, (B,)): (0.0, 0.9, 0.06, 0.04),
}
# every sequence of at most 2 tokens with its probability
HAND_ALL = {(EOS,): 0.1, (A, EOS): 0.2, (A, A): 0.175, (A, B): 0.125, (B, EOS): 0.36, (B, A): 0.024, (B, B): 0.016}


def hand_model(max_len=2):
    return TableModel(vocab=4, max_len=max_len, table=HAND)


def run_beam(model, inputs, beam_size, length_penalty=0.0):
    return beam_search(model.step, model.initial_state(inputs), BOS, EOS, beam_size, model.max_len, length_penalty)


def expected(*sequences):
    return [(list(seq), math.log(HAND_ALL[seq])) for seq in sequences]


def test_hand_set_beam_of_two_beats_greedy():
    model = hand_model()
    (greedy_tokens, greedy_score), = greedy(model.step, model.initial_state([0]), BOS, EOS, max_len=2)
    assert greedy_tokens == [A, EOS] and math.isclose(greedy_score, math.log(0.2))
    # step 1 keeps a (.5) and b (.4); eos (.1) is not among the best two, so it is not finished
    assert_hypotheses_close(run_beam(model, [0], 2)[0], expected((B, EOS), (A, EOS)))


def test_hand_set_beam_of_three_finishes_eos_early_then_drops_it():
    # step 1: [eos] (.1) is among the best three, so it is set aside; at step 2 three better ones replace it
    assert_hypotheses_close(run_beam(hand_model(), [0], 3)[0], expected((B, EOS), (A, EOS), (A, A)))


def test_hand_set_exhaustive_beam_returns_every_sequence_sorted():
    everything = sorted(HAND_ALL, key=lambda seq: -HAND_ALL[seq])
    assert_hypotheses_close(run_beam(hand_model(), [0], 10)[0], expected(*everything))


def test_hand_set_length_penalty_rescores_finished_hypotheses():
    # alpha = 1: [eos] scores log(.1) / 1 = -2.30, [a, eos] log(.2) / 2 = -0.80, [b, eos] log(.36) / 2 = -0.51
    result = run_beam(hand_model(), [0], 3, length_penalty=1.0)[0]
    want = sorted(((list(seq), math.log(p) / len(seq)) for seq, p in HAND_ALL.items()), key=lambda x: -x[1])[:3]
    assert_hypotheses_close(result, want)


def test_max_len_one_finishes_live_beams_as_they_are():
    result = run_beam(hand_model(max_len=1), [0], 2)[0]
    assert_hypotheses_close(result, [([A], math.log(0.5)), ([B], math.log(0.4))])


@pytest.mark.parametrize("length_penalty", [0.0, 0.7])
def test_exhaustive_beam_equals_brute_force_on_a_batch(length_penalty):
    model = TableModel(vocab=4, max_len=3, seed=1)
    inputs = [0, 1, 2]
    result = run_beam(model, inputs, beam_size=4 ** 3, length_penalty=length_penalty)
    assert len(result) == len(inputs)
    for input_id, hypotheses in zip(inputs, result):
        assert_hypotheses_close(hypotheses, brute_force(model, input_id, length_penalty))


@settings(max_examples=8, deadline=None)
@given(vocab=st.integers(2, 4), max_len=st.integers(1, 3), seed=st.integers(0, 10 ** 6),
       length_penalty=st.sampled_from([0.0, 0.5, 1.0]))
def test_exhaustive_beam_equals_brute_force_property(vocab, max_len, seed, length_penalty):
    model = TableModel(vocab=vocab, max_len=max_len, seed=seed)
    result = run_beam(model, [0, 1], beam_size=vocab ** max_len, length_penalty=length_penalty)
    for input_id, hypotheses in zip([0, 1], result):
        assert_hypotheses_close(hypotheses, brute_force(model, input_id, length_penalty))


@pytest.mark.parametrize("beam_size", [2, 3])
def test_narrow_beam_returns_the_top_of_brute_force_when_it_finds_it(beam_size):
    # every returned hypothesis carries its true score and the list is sorted
    model = TableModel(vocab=5, max_len=4, seed=3)
    for input_id, hypotheses in enumerate(run_beam(model, [0, 1, 2, 3], beam_size)):
        assert 1 <= len(hypotheses) <= beam_size
        scores = [score for _, score in hypotheses]
        assert scores == sorted(scores, reverse=True)
        for tokens, score in hypotheses:
            assert math.isclose(score, model.score(input_id, tokens), rel_tol=1e-9)
            assert EOS not in tokens[:-1] and BOS not in tokens


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_one_equals_greedy(seed):
    model = TableModel(vocab=6, max_len=7, seed=seed)
    inputs = list(range(8))
    beams = run_beam(model, inputs, beam_size=1)
    greedy_result = greedy(model.step, model.initial_state(inputs), BOS, EOS, model.max_len)
    for beam, (tokens, score) in zip(beams, greedy_result):
        assert_hypotheses_close(beam, [(tokens, score)])


def test_batched_equals_alone():
    model = TableModel(vocab=5, max_len=5, seed=7)
    inputs = [3, 1, 4, 1, 5]
    together = run_beam(model, inputs, beam_size=3, length_penalty=0.5)
    for input_id, hypotheses in zip(inputs, together):
        assert_hypotheses_close(hypotheses, run_beam(model, [input_id], beam_size=3, length_penalty=0.5)[0])


def test_one_step_call_per_time_step_for_the_whole_batch():
    model = TableModel(vocab=5, max_len=6, seed=2)
    run_beam(model, list(range(6)), beam_size=4)
    assert model.calls <= model.max_len


def test_lstm_decoder_with_nested_state_batched_equals_alone():
    torch.manual_seed(0)
    cell, embed, out = torch.nn.LSTMCell(8, 16), torch.nn.Embedding(7, 8), torch.nn.Linear(32, 7)

    def step(tokens, state):
        ((h, c), memory) = state
        h, c = cell(embed(tokens), (h, c))
        context = torch.softmax((memory @ h[:, :, None]).squeeze(2), 1)[:, None, :] @ memory  # dot attention
        return torch.log_softmax(out(torch.cat([h, context.squeeze(1)], 1)), 1), ((h, c), memory)

    h0, c0, memory = torch.randn(3, 16), torch.randn(3, 16), torch.randn(3, 5, 16)
    with torch.no_grad():
        together = beam_search(step, ((h0, c0), memory), 0, 1, beam_size=4, max_len=6)
        for b in range(3):
            alone = beam_search(step, ((h0[b:b + 1], c0[b:b + 1]), memory[b:b + 1]), 0, 1, beam_size=4, max_len=6)
            assert_hypotheses_close(together[b], alone[0], tol=1e-5)
        first = greedy(step, ((h0, c0), memory), 0, 1, max_len=6)
        one = beam_search(step, ((h0, c0), memory), 0, 1, beam_size=1, max_len=6)
    assert [hyps[0][0] for hyps in one] == [tokens for tokens, _ in first]


def test_scores_follow_the_log_probs_dtype():
    model = TableModel(vocab=4, max_len=3, seed=0, dtype=torch.float32)
    hypotheses = run_beam(model, [0], beam_size=2)[0]
    assert all(isinstance(score, float) for _, score in hypotheses)
    assert math.isclose(hypotheses[0][1], model.score(0, hypotheses[0][0]), rel_tol=1e-5)


# ------------------------------------------------------------------- errors
def test_bad_beam_size_and_max_len():
    model = hand_model()
    with pytest.raises(ValueError, match="beam_size must be an integer >= 1"):
        beam_search(model.step, model.initial_state([0]), BOS, EOS, beam_size=0, max_len=2)
    with pytest.raises(ValueError, match="max_len must be an integer >= 1"):
        beam_search(model.step, model.initial_state([0]), BOS, EOS, beam_size=2, max_len=0)
    with pytest.raises(TypeError, match="length_penalty must be a number"):
        beam_search(model.step, model.initial_state([0]), BOS, EOS, 2, 2, length_penalty="long")


def test_bad_bos_eos():
    model = hand_model()
    with pytest.raises(ValueError, match="bos must be a non-negative integer"):
        beam_search(model.step, model.initial_state([0]), -1, EOS, 2, 2)
    with pytest.raises(ValueError, match="eos=9 is outside the vocabulary of size 4"):
        beam_search(model.step, model.initial_state([0]), BOS, 9, 2, 2)


def test_state_batch_mismatch():
    h = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="same batch size in dimension 0"):
        beam_search(lambda t, s: (torch.zeros(t.size(0), 5), s), (h, torch.zeros(2, 4)), 0, 1, 2, 3)
    with pytest.raises(ValueError, match=r"log_probs of shape \[6, V\]"):
        beam_search(lambda t, s: (torch.zeros(1, 5), s), h, 0, 1, 2, 3)
    with pytest.raises(ValueError, match="holds no tensor"):
        beam_search(lambda t, s: (torch.zeros(1, 5), s), (None, ()), 0, 1, 2, 3)
    with pytest.raises(TypeError, match="decoder state must be a Tensor"):
        beam_search(lambda t, s: (torch.zeros(1, 5), s), {"h": h}, 0, 1, 2, 3)


def test_keeps_searching_while_a_live_beam_can_beat_the_pool():
    # k = 2. Step 1 sets [eos] (.5) aside; step 3 sets [b, b, eos] (.098) aside, which fills the pool, but the
    # live [a, a, a] (.243) can still beat it and does at step 4: [a, a, a, eos] = .2187. Stopping as soon as
    # the pool is full (fairseq's rule) would return [b, b, eos] second.
    table = {
        (0, ()): (0.0, 0.5, 0.3, 0.2),
        (0, (A,)): (0.0, 0.04, 0.9, 0.06),
        (0, (B,)): (0.0, 0.01, 0.01, 0.98),
        (0, (A, A)): (0.0, 0.02, 0.9, 0.08),
        (0, (B, B)): (0.0, 0.5, 0.3, 0.2),
        (0, (A, A, A)): (0.0, 0.9, 0.05, 0.05),
        (0, (B, B, A)): (0.0, 0.5, 0.25, 0.25),
        (0, (A, A, B)): (0.0, 0.5, 0.25, 0.25),
    }
    model = TableModel(vocab=4, max_len=4, table=table)
    want = [([EOS], math.log(0.5)), ([A, A, A, EOS], math.log(0.3 * 0.9 * 0.9 * 0.9))]
    assert_hypotheses_close(run_beam(model, [0], beam_size=2)[0], want)
