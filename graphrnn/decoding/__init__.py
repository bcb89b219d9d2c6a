"""Model-agnostic decoding: greedy, sampling and beam search over a ``step_fn``.

Every decoder takes ``step_fn(tokens [B'], state) -> (log_probs [B', V], state)``,
where ``state`` is a tensor or a tuple of tensors with the batch in dimension 0.
"""
