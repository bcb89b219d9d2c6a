r"""Beam search, batched over inputs x beams, over a model-agnostic ``step_fn``.

Every input keeps :math:`k` live hypotheses (``beam_size``); all :math:`B k` of them advance
in one ``step_fn`` call per time step (no Python loop over inputs or beams). A hypothesis
:math:`y = w_1 \dots w_L` (``eos`` included when generated, ``bos`` never) is scored by

.. math::
    s(y) = \frac{\sum_{t=1}^{L} \log p_\theta(w_t \mid w_{<t}, c)}{L^{\alpha}},

with :math:`\alpha` = ``length_penalty`` (0 gives the raw sum of log-probs).

At every step the :math:`k V` extensions of the live beams are ranked by their summed
log-prob and the best :math:`2k` kept (as in fairseq). Those among the best :math:`k` that
end in ``eos`` are set aside in a pool of finished hypotheses (the :math:`k` best so far,
by :math:`s`); the best :math:`k` that do not end in ``eos`` live on, and the decoder state is
reordered by gathering its rows (dimension 0) from their parents. At step ``max_len`` the
live beams are finished as they are. An input is done once its pool is full and no live
beam can still beat the worst pooled hypothesis: the log-probs of later tokens are
:math:`\le 0`, so a live beam with summed log-prob :math:`S` at length :math:`t` ends with a
score of at most :math:`\max(S/(t+1)^{\alpha}, S/\text{max\_len}^{\alpha})`.

Consequences (tested): ``beam_size=1`` with :math:`\alpha = 0` is greedy decoding, and a beam
as wide as the number of possible sequences returns the exact top-:math:`k` of all of them.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from graphrnn.counts import is_int
from graphrnn.decoding.search import (
    Hypothesis,
    State,
    StepFn,
    check_max_len,
    check_token,
    checked_step,
    map_state,
    state_batch_size,
    state_tensors,
)

__all__ = ["beam_search"]


def _check_beam_size(beam_size: int) -> int:
    if not is_int(beam_size) or beam_size < 1:
        raise ValueError(f"beam_size must be an integer >= 1 (1 is greedy decoding), got {beam_size!r}")
    return beam_size


def _gather_rows(values: Tensor, index: Tensor) -> Tensor:
    """``values[b, index[b, j], ...]`` for ``values`` [B, N, *] and ``index`` [B, M]."""
    shape = index.shape + values.shape[2:]
    return values.gather(1, index.view(index.shape + (1,) * (values.dim() - 2)).expand(shape))


class _Beams:
    """The live beams and the pool of finished hypotheses of ``B`` inputs, as tensors.

    Attributes: ``scores`` [B, k] summed log-probs of the live beams (``-inf`` = empty),
    ``seqs`` [B, k, max_len] their tokens (``-1`` past the end), and the pool ``pool_scores``
    [B, k] (normalised, best first), ``pool_seqs`` [B, k, max_len], ``pool_lengths`` [B, k].
    """

    def __init__(self, batch: int, beam_size: int, max_len: int, length_penalty: float, device, dtype):
        k = beam_size
        self.k, self.max_len, self.alpha = k, max_len, length_penalty
        self.scores = torch.full((batch, k), float("-inf"), device=device, dtype=dtype)
        self.scores[:, 0] = 0.0  # the k copies of the start are one hypothesis: expand only the first
        self.seqs = torch.full((batch, k, max_len), -1, dtype=torch.long, device=device)
        self.pool_scores = torch.full((batch, k), float("-inf"), device=device, dtype=dtype)
        self.pool_seqs = self.seqs.clone()
        self.pool_lengths = torch.zeros(batch, k, dtype=torch.long, device=device)
        self.done = torch.zeros(batch, dtype=torch.bool, device=device)

    def normalise(self, scores: Tensor, length: int) -> Tensor:
        return scores / float(length) ** self.alpha if self.alpha else scores

    def advance(self, log_probs: Tensor, t: int, eos: int) -> tuple[Tensor, Tensor]:
        """Extend by one token at step ``t``; returns the flat parent row and the new token [B * k] of each beam."""
        batch, k = self.scores.shape
        vocab = log_probs.size(1)
        candidates = (self.scores[:, :, None] + log_probs.view(batch, k, vocab)).view(batch, k * vocab)
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=1)
        parents, tokens = top_index // vocab, top_index % vocab
        seqs = _gather_rows(self.seqs, parents)
        seqs[:, :, t] = tokens
        self._finish(top_scores, tokens, seqs, t, eos)
        live_scores, pick = top_scores.masked_fill(tokens == eos, float("-inf")).topk(k, dim=1)
        self.scores, self.seqs = live_scores, _gather_rows(seqs, pick)
        parents = parents.gather(1, pick)
        self._update_done(t)
        offsets = torch.arange(batch, device=parents.device)[:, None] * k
        return (offsets + parents).view(-1), tokens.gather(1, pick).view(-1)

    def _finish(self, top_scores: Tensor, tokens: Tensor, seqs: Tensor, t: int, eos: int) -> None:
        """Move the candidates among the best ``k`` that end in ``eos`` (all at the last step) to the pool."""
        final = torch.ones_like(tokens, dtype=torch.bool) if t == self.max_len - 1 else tokens == eos
        final[:, self.k:] = False
        final &= ~self.done[:, None]
        scores = self.normalise(top_scores, t + 1).masked_fill(~final, float("-inf"))
        lengths = torch.full_like(tokens, t + 1)
        all_scores = torch.cat([self.pool_scores, scores], dim=1)
        self.pool_scores, pick = all_scores.topk(self.k, dim=1)
        self.pool_seqs = _gather_rows(torch.cat([self.pool_seqs, seqs], dim=1), pick)
        self.pool_lengths = torch.cat([self.pool_lengths, lengths], dim=1).gather(1, pick)

    def _update_done(self, t: int) -> None:
        """Done: the pool is full and its worst score is at least any live beam's best reachable score."""
        shortest, longest = t + 2, self.max_len
        if shortest > longest:
            self.done[:] = True
            return
        bound = torch.maximum(self.normalise(self.scores, shortest), self.normalise(self.scores, longest))
        self.done |= self.pool_scores[:, -1] >= bound.max(dim=1).values

    def hypotheses(self) -> list[list[Hypothesis]]:
        """Per input, the pooled ``(tokens, score)`` best first, without impossible (``-inf``) ones."""
        result = []
        for seqs, lengths, scores in zip(self.pool_seqs.tolist(), self.pool_lengths.tolist(),
                                         self.pool_scores.tolist()):
            result.append([(seq[:length], score) for seq, length, score in zip(seqs, lengths, scores)
                           if score != float("-inf")])
        return result


def _select_rows(state: State, rows: Tensor) -> State:
    """Rows ``rows`` (dimension 0) of every tensor of ``state``."""
    return map_state(lambda tensor: tensor.index_select(0, rows), state)


@torch.no_grad()
def beam_search(step_fn: StepFn, state: State, bos: int, eos: int, beam_size: int, max_len: int,
                length_penalty: float = 0.0) -> list[list[tuple[list[int], float]]]:
    r"""Beam search with ``beam_size`` beams per input, batched over inputs x beams.

    Args:
        step_fn: ``(tokens [B k], state) -> (log_probs [B k, V], state)``; the log-probs must be
            normalised: every row's largest entry lies in :math:`[-\log V, 0]` up to rounding,
            no NaN or :math:`+\infty` (:math:`-\infty` marks impossible tokens), and the state
            keeps all :math:`B k` rows (checked every step). It is called with the beams of input ``b`` in rows
            ``b k .. b k + k - 1``.
        state: the initial decoder state for the ``B`` inputs: a tensor or (nested) tuple/list
            of tensors with the batch in dimension 0 (e.g. ``((h, c), encoder_outputs)``). Each
            row is repeated ``k`` times, then reordered after every step with ``index_select``
            along dimension 0.
        bos: token fed at the first step (not part of the output).
        eos: end token, kept at the end of the hypotheses that generate it.
        beam_size: :math:`k \ge 1`.
        max_len: most tokens per hypothesis (>= 1); live beams are finished there.
        length_penalty: :math:`\alpha` in :math:`s(y) = \log p(y) / |y|^{\alpha}`; 0 ranks by the raw
            sum of log-probs, larger values favour longer hypotheses.

    Runs under ``torch.no_grad()``.

    Raises:
        ValueError: for a bad ``beam_size``, ``max_len``, token id or non-finite
            ``length_penalty``, and when ``step_fn`` returns scores that are not
            log-probabilities (probabilities, logits, NaN) or a state that lost rows.
        TypeError: when ``step_fn`` does not return a pair, or arguments have the wrong type.

    Returns:
        Per input, up to ``k`` pairs ``(tokens, score)`` best first (fewer when fewer than ``k``
        sequences have a finite score).

    Shapes:
        - state tensors: :math:`(B, *)`, seen by ``step_fn`` as :math:`(B k, *)`.
        - ``log_probs``: :math:`(B k, V)`.
    """
    bos, eos = check_token("bos", bos), check_token("eos", eos)
    beam_size, max_len = _check_beam_size(beam_size), check_max_len(max_len)
    if not isinstance(length_penalty, (int, float)) or isinstance(length_penalty, bool):
        raise TypeError(f"length_penalty must be a number (0 = raw sum of log-probs), got {length_penalty!r}")
    if not math.isfinite(length_penalty):
        raise ValueError(f"length_penalty must be finite (0 = raw sum of log-probs, 1 = mean per token), "
                         f"got {length_penalty!r}")
    batch = state_batch_size(state)
    state = map_state(lambda t: t.repeat_interleave(beam_size, dim=0), state)
    tokens = torch.full((batch * beam_size,), bos, dtype=torch.long, device=state_tensors(state)[0].device)
    beams = None
    for t in range(max_len):
        log_probs, state = checked_step(step_fn, tokens, state, bos, eos, t)
        if beams is None:  # the scores follow the dtype and device of the model's log-probs
            beams = _Beams(batch, beam_size, max_len, float(length_penalty), log_probs.device, log_probs.dtype)
        rows, tokens = beams.advance(log_probs, t, eos)
        state = _select_rows(state, rows)
        if bool(beams.done.all()):
            break
    return beams.hypotheses()


