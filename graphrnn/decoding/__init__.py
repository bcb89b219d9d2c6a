"""Model-agnostic decoding: greedy, sampling and beam search over a ``step_fn``.

Every decoder takes ``step_fn(tokens [B'], state) -> (log_probs [B', V], state)``,
where ``state`` is a tensor or a tuple of tensors with the batch in dimension 0.
"""
from graphrnn.decoding.beam import beam_search
from graphrnn.decoding.search import greedy, map_state, sample, state_batch_size

__all__ = ["beam_search", "greedy", "map_state", "sample", "state_batch_size"]
