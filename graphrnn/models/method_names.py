r"""Method-name prediction (code2seq's task): an AST encoder and an attention decoder of subtokens.

:class:`MethodNameModel` is :class:`~graphrnn.models.Seq2Seq`'s decoder (teacher forcing,
``step`` for :mod:`graphrnn.decoding`, attention over the encoder's node states) on top of one
of three encoders of the same AST nodes, each node embedded as
:math:`\mathbf{x}_v = E_{type}[t_v] + \sum_{s \in \mathrm{sub}(v)} E_{sub}[s]` (its node type and
the subtokens of the identifier it holds, if any):

* ``"tree"``: :class:`~graphrnn.nn.ChildSumTreeLSTM` leaves to root over the parent -> child
  edges; the summary is the root's state;
* ``"sequence"``: an LSTM (:class:`~graphrnn.nn.ChainRNN`) over the nodes in pre-order; the
  summary is the last node's state;
* ``"bag"``: no structure, :math:`\tanh(W \mathbf{x}_v + \mathbf{b})` per node; the summary is
  their mean. With ``identifiers=False`` (any encoder) the nodes are embedded by type only.

A batch is a PyG batch of :func:`method_example` graphs.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import global_mean_pool
from torch_geometric.utils import to_dense_batch

from graphrnn.data.graphs import chain_edge_index
from graphrnn.models.seq2seq import Seq2Seq
from graphrnn.nn import ChainRNN, ChildSumTreeLSTM

__all__ = ["MethodNameModel", "method_example", "ENCODERS", "NodeEmbedding"]

ENCODERS = ("tree", "sequence", "bag")


def method_example(node_types: Tensor, node_tokens: Tensor, parents: Sequence[int], target: Tensor) -> Data:
    """One function as a graph for :class:`MethodNameModel`.

    Args:
        node_types: ``LongTensor [n]`` node type ids, nodes in pre-order (root first).
        node_tokens: ``LongTensor [n, K]`` identifier subtoken ids per node, ``0`` = padding.
        parents: parent of every node (``-1`` for the root), each parent before its children.
        target: ``LongTensor [T]`` name subtoken ids ending with ``<eos>``.

    Returns:
        Data with ``node_type``, ``node_tokens``, ``edge_index`` (parent -> child),
        ``seq_edge_index`` (the pre-order chain), ``tgt``, ``tgt_len`` and ``num_nodes``.

    Raises:
        ValueError: if the sizes disagree or the nodes are not in pre-order.
    """
    n = node_types.numel()
    if n == 0 or node_tokens.size(0) != n or len(parents) != n:
        raise ValueError(f"node_types, node_tokens and parents need one entry per node (n >= 1), got "
                         f"{n}, {node_tokens.size(0)} and {len(parents)}")
    parents_tensor = torch.as_tensor(list(parents), dtype=torch.long)
    nodes = torch.arange(n)
    if int(parents_tensor[0]) != -1 or bool((parents_tensor[1:] >= nodes[1:]).any()) or \
            bool((parents_tensor[1:] < 0).any()):
        raise ValueError("nodes must be in pre-order: node 0 is the root (parent -1) and every parent comes "
                         "before its children")
    if target.dim() != 1 or target.numel() == 0:
        raise ValueError(f"target must be a non-empty LongTensor [T] ending with <eos>, got {list(target.shape)}")
    edge_index = torch.stack([parents_tensor[1:], nodes[1:]])
    return Data(node_type=node_types, node_tokens=node_tokens, edge_index=edge_index,
                seq_edge_index=chain_edge_index(n), tgt=target, tgt_len=torch.tensor([target.numel()]),
                num_nodes=n)


class NodeEmbedding(nn.Module):
    r""":math:`\mathbf{x}_v = E_{type}[t_v] + \sum_s E_{sub}[s]` (the second term only with ``identifiers``)."""

    def __init__(self, num_node_types: int, num_subtokens: int, channels: int, identifiers: bool = True) -> None:
        super().__init__()
        self.types = nn.Embedding(num_node_types, channels)
        self.subtokens = nn.EmbeddingBag(num_subtokens, channels, mode="sum", padding_idx=0) if identifiers else None

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, node_type: Tensor, node_tokens: Tensor) -> Tensor:
        x = self.types(node_type)
        if self.subtokens is not None:
            x = x + self.subtokens(node_tokens)
        return x


class _BagEncoder(nn.Module):
    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(channels, hidden)

    def forward(self, x: Tensor, batch) -> Tensor:
        return torch.tanh(self.linear(x))


class _TreeEncoder(nn.Module):
    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.layer = ChildSumTreeLSTM(channels, hidden)

    def forward(self, x: Tensor, batch) -> Tensor:
        return self.layer(x, batch.edge_index)


class _SequenceEncoder(nn.Module):
    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.layer = ChainRNN(channels, hidden, cell="lstm")

    def forward(self, x: Tensor, batch) -> Tensor:
        return self.layer(x, batch.seq_edge_index)


_ENCODER_CLASSES = {"tree": _TreeEncoder, "sequence": _SequenceEncoder, "bag": _BagEncoder}


class MethodNameModel(Seq2Seq):  # Seq2Seq prints on one line (OneLineRepr)
    r"""An AST encoder (tree, pre-order sequence or bag of nodes) and Seq2Seq's attention decoder.

    The decoder is :class:`~graphrnn.models.Seq2Seq`'s, with
    :math:`\mathbf{h}_0 = \tanh(W_0 \bar{\mathbf{m}})` from the encoder's summary
    :math:`\bar{\mathbf{m}}` (root state, last pre-order state, or mean) and, at every step,
    attention over all node states :math:`\mathbf{m}_v` of the function:

    .. math::
        \mathbf{h}_{t+1} = \mathrm{LSTM}\big([E w_t ; \mathbf{c}_t], \mathbf{h}_t\big), \quad
        \mathbf{c}_t = \sum_v \mathrm{softmax}_v\big(s(\mathbf{h}_t, \mathbf{m}_v)\big) \mathbf{m}_v, \quad
        p(w_{t+1} \mid \cdot) = \mathrm{softmax}(M_o \mathbf{h}_{t+1} + \mathbf{b}_o).

    Args:
        encoder (str): ``"tree"``, ``"sequence"`` or ``"bag"``.
        num_node_types (int): node type vocabulary size.
        num_subtokens (int): identifier subtoken vocabulary size (id ``0`` is padding).
        num_tokens (int): name subtoken vocabulary size :math:`V` (``<pad> <bos> <eos> <unk>`` = 0..3).
        hidden_channels (int): node embedding, encoder and decoder width. (default: ``128``)
        identifiers (bool): embed identifier subtokens, not only node types. (default: ``True``)
        tie_subtokens (bool): one vocabulary for identifier and name subtokens
            (``num_subtokens == num_tokens``): the output layer :math:`M_o` and the decoder's
            input embedding :math:`E` are the identifier subtoken embedding :math:`E_{sub}`, so a
            name subtoken seen in the body scores high wherever attention reads it (a soft copy
            that generalises across words). Needs ``identifiers``. (default: ``False``)
        attention (str): ``"dot"`` or ``"mlp"``. (default: ``"dot"``)
        dropout (float): on the node states and the decoder output. (default: ``0``)

    Shapes:
        - **forward(batch):** logits :math:`(N_{tgt}, V)` for the teacher-forced targets.
        - **encode(batch):** the decoder state ``(h, c, memory, mask)`` of :class:`Seq2Seq`.
    """

    def __init__(self, encoder: str, num_node_types: int, num_subtokens: int, num_tokens: int,
                 hidden_channels: int = 128, identifiers: bool = True, attention: str = "dot",
                 dropout: float = 0.0, tie_subtokens: bool = False) -> None:
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if tie_subtokens and (not identifiers or num_subtokens != num_tokens):
            raise ValueError("tie_subtokens needs identifiers=True and one shared vocabulary "
                             f"(num_subtokens == num_tokens), got identifiers={identifiers}, "
                             f"{num_subtokens} and {num_tokens}")
        super().__init__(hidden_channels, num_tokens, hidden_channels=hidden_channels, source="features",
                         attention=attention, dropout=dropout)
        self.encoder_type = encoder
        self.identifiers = identifiers
        self.node_embedding = NodeEmbedding(num_node_types, num_subtokens, hidden_channels, identifiers)
        self.encoder = _ENCODER_CLASSES[encoder](hidden_channels, hidden_channels)
        self.tie_subtokens = tie_subtokens
        if tie_subtokens:
            self.output.weight = self.node_embedding.subtokens.weight
            self.embedding.weight = self.node_embedding.subtokens.weight

    def encode(self, batch) -> tuple:
        x = self.node_embedding(batch.node_type, batch.node_tokens)
        states = self.dropout(self.encoder(x, batch))
        num_graphs = batch.num_graphs
        memory, mask = to_dense_batch(states, batch.batch, batch_size=num_graphs)
        summary = self._summary(states, batch)
        if self.attention is None:
            memory, mask = summary.unsqueeze(1), mask[:, :1]
        return self.initial_state(summary, memory, mask)

    def _summary(self, states: Tensor, batch) -> Tensor:
        if self.encoder_type == "tree":
            return states.index_select(0, batch.ptr[:-1])
        if self.encoder_type == "sequence":
            return states.index_select(0, batch.ptr[1:] - 1)
        return global_mean_pool(states, batch.batch, size=batch.num_graphs)

    def extra_repr(self) -> str:
        return (f"encoder={self.encoder_type!r}, num_tokens={self.num_tokens}, hidden={self.hidden_channels}, "
                f"identifiers={self.identifiers}, tie_subtokens={self.tie_subtokens}, "
                f"attention={self.attention_type!r}")


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__.append("count_parameters")
