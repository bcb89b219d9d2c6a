r"""The feed-forward baseline: a fixed window of inputs, no state carried along the chain."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphrnn.models.inputs import SequenceInput
from graphrnn.models.sequence import chain_ends, check_chains
from graphrnn.nn.one_line_repr import OneLineRepr
from graphrnn.nn.validation import check_features

__all__ = ["FeedForward", "chain_windows"]


def chain_windows(edge_index: Tensor, num_nodes: int, window: int) -> Tensor:
    """Node ids of the ``window`` most recent elements at every node, oldest first.

    Returns:
        LongTensor ``[N, window]``; column ``window - 1`` is the node itself, ``-1`` marks
        positions before the start of the chain.

    Raises:
        ValueError: if ``edge_index`` is not chains (see :func:`~graphrnn.models.sequence.check_chains`).
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    check_chains(edge_index, num_nodes, "chain_windows")  # a merge, a negative id or a ring was read silently
    predecessor = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
    predecessor[edge_index[1]] = edge_index[0]
    columns = [torch.arange(num_nodes, device=edge_index.device)]
    for _ in range(window - 1):
        previous = columns[-1]
        columns.append(torch.where(previous >= 0, predecessor[previous.clamp(min=0)], previous))
    return torch.stack(columns[::-1], dim=1)


class FeedForward(OneLineRepr, nn.Module):
    r"""A multilayer perceptron on a fixed window of inputs: the "fixed number of inputs,
    inputs independent" model that recurrent networks are contrasted with.

    .. math::
        \mathbf{s}_t = f\big(U [\mathbf{x}_{t-w+1}; \dots; \mathbf{x}_t]\big), \qquad
        \mathbf{o}_t = \mathrm{softmax}(V \mathbf{s}_t),

    with zeros for positions before the start of the sequence (logits returned). With
    ``window`` equal to the sequence length and ``readout="last"`` it sees the whole
    sequence at once; with a short window on tokens it is an n-gram language model.

    Args:
        in_channels (int): features per node, or vocabulary size when ``tokens=True``.
        hidden_channels (int): size of :math:`\mathbf{s}`.
        out_channels (int): output classes.
        window (int): :math:`w`, number of inputs seen.
        tokens (bool): inputs are token ids, embedded to ``embedding_dim``.
        embedding_dim (int, optional): embedding size (default ``hidden_channels``).
        activation (str): ``"tanh"`` or ``"relu"`` for :math:`f`.

    Shapes:
        input :math:`(N, D)` or :math:`(N)` ids, edges :math:`(2, E)`; output :math:`(N, C)`,
        or :math:`(B, C)` with ``readout="last"`` (needs ``batch``).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, window: int,
                 tokens: bool = False, embedding_dim: Optional[int] = None, activation: str = "tanh") -> None:
        super().__init__()
        if activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self.inputs = SequenceInput(in_channels, tokens, embedding_dim or hidden_channels)
        self.input_to_hidden = nn.Linear(window * self.inputs.out_channels, hidden_channels)
        self.hidden_to_output = nn.Linear(hidden_channels, out_channels)
        self.activation = torch.tanh if activation == "tanh" else torch.relu

    def reset_parameters(self) -> None:
        for module in (self.inputs, self.input_to_hidden, self.hidden_to_output):
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None, readout: str = "node",
                num_graphs: Optional[int] = None) -> Tensor:
        """``readout="last"`` reads each chain's last node; ``num_graphs`` as in
        :meth:`SequenceClassifier.forward <graphrnn.models.SequenceClassifier.forward>`."""
        features = self.inputs(x)
        check_features(features, "x", skippable=False)
        windows = chain_windows(edge_index, features.size(0), self.window)
        padded = torch.cat([features, features.new_zeros(1, features.size(1))])  # row -1 -> zeros
        stacked = padded[windows].reshape(features.size(0), self.window * features.size(1))
        logits = self.hidden_to_output(self.activation(self.input_to_hidden(stacked)))
        if readout == "node":
            return logits
        if readout != "last":
            raise ValueError(f"readout must be 'node' or 'last', got {readout!r}")
        return logits[chain_ends(edge_index, features.size(0), batch, num_graphs)[1]]

    def extra_repr(self) -> str:
        sizes = (self.inputs.in_channels, self.input_to_hidden.out_features, self.hidden_to_output.out_features)
        return f"{', '.join(map(str, sizes))}, window={self.window}, tokens={self.inputs.tokens}"
