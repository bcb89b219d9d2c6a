r"""Greedy decoding and ancestral sampling over a model-agnostic ``step_fn``.

Both run the same loop: feed the previous token, read the next-token log-probabilities,
choose a token (the arg max, or a draw from the softmax), until every sequence has emitted
``eos`` or ``max_len`` tokens were produced. With :math:`p_\theta(w_t \mid w_{<t}, c)` the
model's distribution, a decoded sequence :math:`w_1 \dots w_L` is scored by

.. math::
    \operatorname{score}(w_{1:L}) = \sum_{t=1}^{L} \log p_\theta(w_t \mid w_{<t}, c),

where :math:`L \le` ``max_len`` counts ``eos`` when it was generated (``bos`` is never part
of the output).

``step_fn(tokens, state) -> (log_probs, state)`` takes ``tokens`` (LongTensor ``[B']``) and a
state, and returns ``log_probs`` (``[B', V]``) and the next state. The state is a tensor, or a
(possibly nested) tuple/list of tensors, all with the batch in dimension 0; ``None`` leaves
are carried unchanged. Decoding runs under ``torch.no_grad()`` and returns plain Python
lists and floats (a training objective that needs gradients re-scores the decoded tokens
with a teacher-forced pass). The helpers :func:`map_state` and :func:`state_batch_size` are shared
with :mod:`graphrnn.decoding.beam`.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["Hypothesis", "StepFn", "check_log_probs", "greedy", "map_state", "sample", "state_batch_size",
           "state_tensors"]

State = object  # a Tensor, None, or a tuple/list of States
StepFn = Callable[[Tensor, State], tuple[Tensor, State]]
Hypothesis = tuple[list[int], float]


# ------------------------------------------------------------------ state
def map_state(fn: Callable[[Tensor], Tensor], state: State) -> State:
    """Apply ``fn`` to every tensor of a (nested tuple/list) state; ``None`` stays ``None``."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return fn(state)
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(fn, s) for s in state)
    raise TypeError(f"decoder state must be a Tensor, None, or a tuple/list of them; got {type(state).__name__}")


def state_tensors(state: State) -> list[Tensor]:
    """The tensors of ``state``, depth first."""
    leaves: list[Tensor] = []
    map_state(lambda t: leaves.append(t) or t, state)
    return leaves


def state_batch_size(state: State) -> int:
    """The common size of dimension 0 of every tensor in ``state``; a clear error otherwise."""
    leaves = state_tensors(state)
    if not leaves:
        raise ValueError("decoder state holds no tensor, so the batch size is unknown: pass at least one tensor "
                         "with the batch in dimension 0 (e.g. the initial hidden state [B, H])")
    sizes = sorted({t.size(0) if t.dim() > 0 else -1 for t in leaves})
    if len(sizes) != 1 or sizes[0] < 1:
        raise ValueError(f"every tensor of the decoder state must have the same batch size in dimension 0, "
                         f"got sizes {sizes} (-1 = a 0-d tensor); put the batch first in each tensor")
    return sizes[0]


# ------------------------------------------------------------ validation
def check_token(name: str, token: int) -> int:
    """``token`` as a non-negative Python int (``bos``/``eos``)."""
    if isinstance(token, Tensor) and token.numel() == 1:
        token = token.item()
    if not is_int(token) or token < 0:
        raise ValueError(f"{name} must be a non-negative integer token id, got {token!r}")
    return token


def check_max_len(max_len: int) -> int:
    if not is_int(max_len) or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1 (the most tokens to generate, eos included), "
                         f"got {max_len!r}")
    return max_len


def checked_step(step_fn: StepFn, tokens: Tensor, state: State, bos: int, eos: int,
                 step: int = 0) -> tuple[Tensor, State]:
    """Call ``step_fn`` and check what it returned: a pair ``(log_probs [B', V], state)`` whose
    log-probs are normalised (see :func:`check_log_probs`) and cover ``bos`` and ``eos``, and
    whose state still has ``B'`` rows in dimension 0 of every tensor."""
    result = step_fn(tokens, state)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        what = f"a {type(result).__name__} of {len(result)} items" if isinstance(result, (tuple, list)) \
            else f"a {type(result).__name__}"
        raise TypeError(f"step_fn must return a pair (log_probs [B', V], state), got {what} at step {step}; "
                        "return exactly two values (put extra outputs inside the state)")
    log_probs, state = result
    rows = tokens.size(0)
    if not isinstance(log_probs, Tensor) or log_probs.dim() != 2 or log_probs.size(0) != rows:
        shape = tuple(log_probs.shape) if isinstance(log_probs, Tensor) else type(log_probs).__name__
        raise ValueError(f"step_fn must return log_probs of shape [{rows}, V] (one row per token fed), "
                         f"got {shape} at step {step}; check that the state's batch size matches the tokens")
    vocab = log_probs.size(1)
    for name, token in (("bos", bos), ("eos", eos)):
        if token >= vocab:
            raise ValueError(f"{name}={token} is outside the vocabulary of size {vocab} returned by step_fn")
    check_log_probs(log_probs, step)
    _check_returned_state(state, rows, step)
    return log_probs, state


def _slack(dtype: torch.dtype) -> float:
    """How far rounding may push a log-prob of ``dtype`` past its bounds."""
    return 1e-2 if dtype in (torch.float16, torch.bfloat16) else 1e-4


def check_log_probs(log_probs: Tensor, step: int = 0) -> None:
    r"""Checks that every row of ``log_probs`` [B', V] can be a normalised log-distribution.

    A normalised row has its largest entry :math:`m` in :math:`[-\log V, 0]` and its smallest
    entry at most :math:`-\log V` (some probability is at least, and some at most, :math:`1/V`);
    both are checked up to rounding. Above 0 the scores are not log-probabilities
    (probabilities or logits were returned); a largest entry below :math:`-\log V`, or a
    smallest above it, means the probabilities sum to less, or more, than 1. NaN and
    :math:`+\infty` fail too; :math:`-\infty` entries (impossible tokens) are fine. Cost: one
    min/max reduction over the scores and one host synchronisation per call; the slow
    diagnosis runs only on failure.

    Raises:
        TypeError: if the scores are not floating point.
        ValueError: naming the step, the row and the value when a row fails.
    """
    if not log_probs.is_floating_point():
        raise TypeError(f"step_fn must return floating-point log_probs, got dtype {log_probs.dtype} at step {step}")
    if log_probs.numel() == 0:
        return
    slack, log_vocab = _slack(log_probs.dtype), math.log(log_probs.size(1))
    row_min, row_max = torch.aminmax(log_probs, dim=1)  # NaN propagates into both
    too_high = row_max > slack
    sums_below_one = ~(row_max >= -log_vocab * (1 + slack) - slack)
    sums_above_one = ~(row_min <= -log_vocab * (1 - slack) + slack)
    if bool((too_high | sums_below_one | sums_above_one).any()):
        _explain_bad_log_probs(log_probs, too_high, sums_below_one, sums_above_one, (row_min, row_max), step)


def _explain_bad_log_probs(log_probs: Tensor, too_high: Tensor, sums_below_one: Tensor, sums_above_one: Tensor,
                           row_min_max: tuple[Tensor, Tensor], step: int) -> None:
    row_min, row_max = row_min_max
    vocab = log_probs.size(1)
    nan_rows = log_probs.isnan().any(dim=1).nonzero().flatten().tolist()
    where = f"step_fn's scores at step {step}"
    if nan_rows:
        raise ValueError(f"{where} hold NaN (rows {nan_rows[:5]}); decoding needs finite log-probabilities "
                         "(-inf for impossible tokens is fine): check the model's inputs and weights")
    high = too_high.nonzero().flatten().tolist()
    if high:
        row, value = high[0], float(row_max[high[0]])
        hint = ("they look like probabilities: return probs.log() or log_softmax(logits)"
                if bool((log_probs[row] >= 0).all()) else "return log_softmax(logits), not the logits")
        raise ValueError(f"{where} are not log-probabilities: row {row} has a score {value:.4g} > 0 "
                         f"(log-probabilities are <= 0); {hint}")
    low = sums_below_one.nonzero().flatten().tolist()
    if low:
        row, value, side, sums = low[0], float(row_max[low[0]]), "largest", "less than 1 (or are all 0)"
    else:
        row = int(sums_above_one.nonzero()[0, 0])
        value, side, sums = float(row_min[row]), "smallest", "more than 1"
    beyond = "below" if side == "largest" else "above"
    raise ValueError(f"{where} are not normalised: the {side} log-probability of row {row} is {value:.4g}, "
                     f"{beyond} -log V = {-math.log(vocab):.4g} for V = {vocab}, so its probabilities sum to {sums}; "
                     "normalise with log_softmax over the vocabulary")


def _check_returned_state(state: State, rows: int, step: int) -> None:
    try:
        leaves = state_tensors(state)
    except TypeError as error:
        raise TypeError(f"step_fn returned an invalid state at step {step}: {error}") from None
    if not leaves:
        raise ValueError(f"step_fn returned a state with no tensor at step {step}; return the next state "
                         f"(tensors with the {rows} rows of the batch in dimension 0), not None or ()")
    sizes = sorted({t.size(0) if t.dim() > 0 else -1 for t in leaves})
    if sizes != [rows]:
        raise ValueError(f"step_fn returned a state whose tensors have {sizes} rows in dimension 0 at step "
                         f"{step} (-1 = a 0-d tensor), expected {rows}: one row per token fed; keep the rows "
                         "of finished sequences (decoding ignores their outputs) instead of dropping them")


# ------------------------------------------------------------- decoding
def _decode(step_fn: StepFn, state: State, bos: int, eos: int, max_len: int,
            choose: Callable[[Tensor], Tensor]) -> list[Hypothesis]:
    """One token per sequence per step, ``choose(log_probs [B, V]) -> tokens [B]``."""
    bos, eos, max_len = check_token("bos", bos), check_token("eos", eos), check_max_len(max_len)
    batch = state_batch_size(state)
    device = state_tensors(state)[0].device
    tokens = torch.full((batch,), bos, dtype=torch.long, device=device)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    scores, outputs = None, []
    for step in range(max_len):
        log_probs, state = checked_step(step_fn, tokens, state, bos, eos, step)
        tokens = choose(log_probs)
        alive = ~finished
        step_score = log_probs.gather(1, tokens[:, None]).squeeze(1).masked_fill(finished, 0.0)
        scores = step_score if scores is None else scores + step_score
        outputs.append(tokens)
        lengths += alive.long()
        finished = finished | (tokens == eos)
        if bool(finished.all()):
            break
    rows = torch.stack(outputs, dim=1).tolist()
    return [(row[:length], score) for row, length, score in zip(rows, lengths.tolist(), scores.tolist())]


@torch.no_grad()
def greedy(step_fn: StepFn, state: State, bos: int, eos: int, max_len: int) -> list[Hypothesis]:
    r"""Greedy decoding: :math:`w_t = \arg\max_w \log p_\theta(w \mid w_{<t}, c)`.

    Args:
        step_fn: ``(tokens [B'], state) -> (log_probs [B', V], state)``.
        state: the initial decoder state (tensor or nested tuple of tensors, batch in dim 0).
        bos: token fed at the first step (not part of the output).
        eos: end token; a sequence stops after emitting it (it is kept in the output).
        max_len: most tokens generated per sequence (>= 1).

    Returns:
        One ``(tokens, score)`` per input: the generated token ids and the sum of their log-probs.

    Shapes:
        - state tensors: :math:`(B, *)`; ``log_probs``: :math:`(B, V)`.
    """
    return _decode(step_fn, state, bos, eos, max_len, lambda log_probs: log_probs.argmax(dim=1))


@torch.no_grad()
def sample(step_fn: StepFn, state: State, bos: int, eos: int, max_len: int,
           generator: torch.Generator | None = None, temperature: float = 1.0) -> list[Hypothesis]:
    r"""Ancestral sampling: :math:`w_t \sim \operatorname{softmax}(\log p_\theta(\cdot \mid w_{<t}, c) / \tau)`.

    The score is the sum of the *model's* log-probs (at :math:`\tau = 1`) of the drawn tokens,
    whatever the temperature :math:`\tau`.

    Args:
        step_fn, state, bos, eos, max_len: as in :func:`greedy`.
        generator: a ``torch.Generator`` on the device of the log-probs (for reproducible draws);
            ``None`` uses torch's default generator.
        temperature: :math:`\tau > 0`; below 1 sharpens, above 1 flattens the distribution.

    Returns:
        One ``(tokens, score)`` per input.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 < temperature < math.inf:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")

    def draw(log_probs: Tensor) -> Tensor:
        probs = torch.softmax(log_probs.float() / temperature, dim=1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)

    return _decode(step_fn, state, bos, eos, max_len, draw)
