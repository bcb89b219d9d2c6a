"""Greedy decoding and sampling against hand-set probabilities and a step-by-step reference."""
import math

import pytest
import torch
from decoding_testing import BOS, EOS, TableModel

from graphrnn.decoding import greedy, map_state, sample, state_batch_size

A, B = 2, 3
HAND = {  # P(next | prefix) over (bos, eos, a, b)
    (0, ()): (0.0, 0.1, 0.5, 0.4),
    (0, (A,)): (0.0, 0.4, 0.35, 0.25),
    (0, (A, A)): (0.0, 0.2, 0.7, 0.1),
    (1, ()): (0.0, 0.7, 0.2, 0.1),
}


def reference_greedy(model, input_id):
    """One input at a time, a Python loop over steps with the table's arg max."""
    tokens, score = [], 0.0
    for _ in range(model.max_len):
        log_probs = model.log_probs(input_id, tuple(tokens))
        word = int(log_probs.argmax())
        tokens.append(word)
        score += float(log_probs[word])
        if word == EOS:
            break
    return tokens, score


def test_greedy_hand_set():
    model = TableModel(vocab=4, max_len=3, table=HAND)
    (first, first_score), (second, second_score) = greedy(model.step, model.initial_state([0, 1]), BOS, EOS, 3)
    assert first == [A, EOS] and math.isclose(first_score, math.log(0.5 * 0.4))
    assert second == [EOS] and math.isclose(second_score, math.log(0.7))


def test_greedy_stops_at_max_len_without_eos():
    table = dict(HAND)
    table[(0, (A,))] = (0.0, 0.1, 0.6, 0.3)
    model = TableModel(vocab=4, max_len=3, table=table)
    (tokens, score), = greedy(model.step, model.initial_state([0]), BOS, EOS, 3)
    assert tokens == [A, A, A] and math.isclose(score, math.log(0.5 * 0.6 * 0.7))


@pytest.mark.parametrize("seed", range(3))
def test_greedy_batched_equals_reference(seed):
    model = TableModel(vocab=6, max_len=8, seed=seed)
    inputs = list(range(10))
    for input_id, (tokens, score) in zip(inputs, greedy(model.step, model.initial_state(inputs), BOS, EOS, 8)):
        want_tokens, want_score = reference_greedy(model, input_id)
        assert tokens == want_tokens and math.isclose(score, want_score, rel_tol=1e-9)


def test_sample_is_reproducible_and_scored_by_the_model():
    model = TableModel(vocab=6, max_len=6, seed=4)
    inputs = list(range(20))
    draws = [sample(model.step, model.initial_state(inputs), BOS, EOS, 6, generator=torch.Generator().manual_seed(5))
             for _ in range(2)]
    assert draws[0] == draws[1]
    other = sample(model.step, model.initial_state(inputs), BOS, EOS, 6, generator=torch.Generator().manual_seed(6))
    assert other != draws[0]
    for input_id, (tokens, score) in zip(inputs, draws[0]):
        assert 1 <= len(tokens) <= 6 and EOS not in tokens[:-1]
        assert math.isclose(score, model.score(input_id, tokens), rel_tol=1e-9)


def test_sample_frequencies_match_the_probabilities():
    model = TableModel(vocab=4, max_len=1, table=HAND)
    draws = sample(model.step, model.initial_state([0] * 4000), BOS, EOS, 1, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(torch.tensor([tokens[0] for tokens, _ in draws]), minlength=4).double() / len(draws)
    # binomial standard error at n = 4000 is below 0.008; 0.03 is about four of them
    assert torch.allclose(counts, torch.tensor(HAND[(0, ())], dtype=torch.float64), atol=0.03)


def test_sample_at_low_temperature_is_greedy():
    model = TableModel(vocab=6, max_len=6, seed=9)
    inputs = list(range(6))
    cold = sample(model.step, model.initial_state(inputs), BOS, EOS, 6, generator=torch.Generator().manual_seed(0),
                  temperature=1e-4)
    assert [t for t, _ in cold] == [t for t, _ in greedy(model.step, model.initial_state(inputs), BOS, EOS, 6)]


def test_state_helpers_on_nested_tuples():
    state = ((torch.zeros(3, 2), torch.ones(3, 4)), [torch.arange(3), None])
    assert state_batch_size(state) == 3
    doubled = map_state(lambda t: t.repeat_interleave(2, 0), state)
    assert isinstance(doubled[1], list) and doubled[1][1] is None and doubled[0][1].shape == (6, 4)


# ------------------------------------------------------------------- errors
def test_bad_inputs():
    model = TableModel(vocab=4, max_len=3, table=HAND)
    state = model.initial_state([0])
    with pytest.raises(ValueError, match="max_len must be an integer >= 1"):
        greedy(model.step, state, BOS, EOS, 0)
    with pytest.raises(ValueError, match="max_len must be an integer >= 1"):
        sample(model.step, state, BOS, EOS, -2)
    with pytest.raises(ValueError, match="eos must be a non-negative integer"):
        greedy(model.step, state, BOS, 1.5, 3)
    with pytest.raises(ValueError, match="bos=4 is outside the vocabulary of size 4"):
        greedy(lambda t, s: (torch.zeros(t.size(0), 4), s), state, 4, EOS, 3)
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        sample(model.step, state, BOS, EOS, 3, temperature=0.0)
    with pytest.raises(ValueError, match="same batch size in dimension 0"):
        greedy(model.step, (torch.zeros(2, 3), torch.zeros(3, 3)), BOS, EOS, 3)
    with pytest.raises(ValueError, match=r"log_probs of shape \[2, V\]"):
        greedy(lambda t, s: (torch.zeros(5), s), torch.zeros(2, 3), BOS, EOS, 3)
