"""Greedy decoding and sampling against hand-set probabilities and a step-by-step reference."""
import math

import pytest
import torch
from decoding_testing import BOS, EOS, TableModel

from graphrnn.decoding import beam_search, greedy, map_state, sample, state_batch_size
from graphrnn.decoding.search import check_log_probs

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
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        sample(model.step, state, BOS, EOS, 3, temperature=0.0)
    with pytest.raises(ValueError, match="same batch size in dimension 0"):
        greedy(model.step, (torch.zeros(2, 3), torch.zeros(3, 3)), BOS, EOS, 3)
    with pytest.raises(ValueError, match=r"log_probs of shape \[2, V\]"):
        greedy(lambda t, s: (torch.zeros(5), s), torch.zeros(2, 3), BOS, EOS, 3)


# ------------------------------------------------- step_fn contract (every decoder)
def _decoders():
    return {
        "greedy": lambda step, state: greedy(step, state, BOS, 3, 4),
        "sample": lambda step, state: sample(step, state, BOS, 3, 4, generator=torch.Generator().manual_seed(0)),
        "beam": lambda step, state: beam_search(step, state, BOS, 3, 2, 4),
    }


def _uniform(rows, vocab=4):
    return torch.full((rows, vocab), -math.log(vocab))


BAD_STEPS = {
    "probabilities": (lambda t, s: (torch.softmax(torch.randn(t.size(0), 4), 1), s), ValueError,
                      r"not log-probabilities: row 0 has a score .* > 0 .*look like probabilities"),
    "logits": (lambda t, s: (torch.tensor([[2.0, -1.0, 0.5, -3.0]]).repeat(t.size(0), 1), s), ValueError,
               r"not log-probabilities.*return log_softmax\(logits\), not the logits"),
    "nan": (lambda t, s: (_uniform(t.size(0)).index_fill(1, torch.tensor([2]), float("nan")), s), ValueError,
            r"scores at step 0 hold NaN \(rows \[0"),
    "plus inf": (lambda t, s: (_uniform(t.size(0)).index_fill(1, torch.tensor([2]), float("inf")), s), ValueError,
                 "not log-probabilities"),
    "all -inf": (lambda t, s: (torch.full((t.size(0), 4), float("-inf")), s), ValueError,
                 "sum to less than 1 \\(or are all 0\\)"),
    "all zeros (probability 1 everywhere)": (lambda t, s: (torch.zeros(t.size(0), 4), s), ValueError,
                                             "smallest log-probability of row 0 is 0, above -log V"),
    "integer scores": (lambda t, s: (torch.zeros(t.size(0), 4, dtype=torch.long) - 2, s), TypeError,
                       "floating-point log_probs, got dtype torch.int64"),
    "three values": (lambda t, s: (_uniform(t.size(0)), s, None), TypeError,
                     r"must return a pair \(log_probs \[B', V\], state\), got a tuple of 3 items at step 0"),
    "only log_probs": (lambda t, s: _uniform(t.size(0)), TypeError, "must return a pair .* got a Tensor"),
    "dropped a state row": (lambda t, s: (_uniform(t.size(0)), s[:-1]), ValueError,
                            r"state whose tensors have \[\d\] rows .* keep the rows of finished sequences"),
    "empty state": (lambda t, s: (_uniform(t.size(0)), ()), ValueError, "returned a state with no tensor at step 0"),
    "None state": (lambda t, s: (_uniform(t.size(0)), None), ValueError, "returned a state with no tensor"),
    "dict state": (lambda t, s: (_uniform(t.size(0)), {"h": s}), TypeError, "returned an invalid state at step 0"),
}


@pytest.mark.parametrize("decoder", sorted(_decoders()))
@pytest.mark.parametrize("case", sorted(BAD_STEPS))
def test_step_fn_contract_is_checked_by_every_decoder(decoder, case):
    step, error, message = BAD_STEPS[case]
    with pytest.raises(error, match=message):
        _decoders()[decoder](step, torch.zeros(2, 3))


def test_bad_scores_later_in_decoding_name_the_step():
    never_eos = torch.log_softmax(torch.tensor([0.0, 0.0, 0.0, float("-inf")]), 0)  # eos = 3 is impossible

    def step(tokens, count):  # the state counts the steps; at the third, probabilities come back
        scores = never_eos.expand(tokens.size(0), 4)
        return (scores.exp() if int(count[0]) == 2 else scores), count + 1

    for decode in _decoders().values():
        with pytest.raises(ValueError, match="scores at step 2 are not log-probabilities"):
            decode(lambda t, s: step(t, s), torch.zeros(2))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_rounded_log_softmax_passes_in_every_dtype(dtype):
    generator = torch.Generator().manual_seed(0)
    logits = 30 * torch.randn(64, 5000, generator=generator)
    logits[:, 7] = 1e4  # one token with probability ~1: its log-prob rounds to about 0, maybe above
    for row_logits in (logits, torch.zeros(3, 5000)):  # peaked and uniform rows
        log_probs = torch.log_softmax(row_logits.to(dtype), dim=1)
        check_log_probs(log_probs)
        check_log_probs(torch.log_softmax(row_logits.double(), dim=1).to(dtype))


def test_bad_temperature_and_length_penalty():
    state = torch.zeros(1, 3)
    for temperature in (float("nan"), float("inf"), -1.0, True):
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            sample(lambda t, s: (_uniform(t.size(0)), s), state, BOS, EOS, 3, temperature=temperature)
    for penalty in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="length_penalty must be finite"):
            beam_search(lambda t, s: (_uniform(t.size(0)), s), state, BOS, EOS, 2, 3, length_penalty=penalty)
