r"""Sequence-to-tree: an RNN encoder over the source chain and a :class:`~graphrnn.nn.DRNN` decoder.

A training pair is a :class:`TreePair` (a PyG ``Data``): the target tree's fields of
:func:`graphrnn.data.tree_graph` (``y``, ``edge_index``, ``edge_type``,
``has_children``, ``has_next_sibling``; the nodes of the pair are the tree's nodes) and
the source tokens ``src`` with their chain ``src_edge_index``. The PyG ``DataLoader``
batches pairs; ``src_edge_index`` is shifted by the source lengths.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import to_dense_batch

from graphrnn.counts import is_positive_int
from graphrnn.data._checks import to_index_vector
from graphrnn.data.graphs import chain_edge_index, tree_graph
from graphrnn.models.sequence import SequenceEncoder, chain_ends
from graphrnn.nn.cells import cell_state_size
from graphrnn.nn.drnn import DRNN, DRNNOutput
from graphrnn.nn.one_line_repr import OneLineRepr

__all__ = ["Seq2Tree", "TreePair", "tree_pair"]


class TreePair(Data):
    """A (source sequence, target tree) pair; ``src_edge_index`` is shifted by source length when batched."""

    def __inc__(self, key, value, *args, **kwargs):
        if key == "src_edge_index":
            return self.src.size(0)
        return super().__inc__(key, value, *args, **kwargs)


def tree_pair(src: Sequence[int], labels: Sequence[int], parents: Sequence[int],
              num_labels: Optional[int] = None) -> TreePair:
    """A training pair from source ids ``[S]`` and a target tree ``(labels, parents)``.

    Raises:
        ValueError: for an empty source, or a target that is not one tree listed parents
            first (see :func:`~graphrnn.data.tree_graph` with ``ordered=True``).
    """
    src = to_index_vector(src, "src")  # as_tensor(dtype=long) truncated 1.7 to 1 silently
    if src.dim() != 1 or src.numel() == 0:
        raise ValueError(f"the source must be a non-empty list of token ids, got shape {list(src.shape)}")
    tree = tree_graph(labels, parents, num_labels=num_labels, ordered=True)
    pair = TreePair(**{key: tree[key] for key in tree.keys()})
    pair.src = src
    pair.src_edge_index = chain_edge_index(src.numel())
    pair.src_len = torch.tensor([src.numel()])
    return pair


class Seq2Tree(OneLineRepr, nn.Module):
    r"""Encodes a token sequence with an RNN and decodes a labelled ordered tree with a DRNN.

    The encoder (:class:`~graphrnn.models.SequenceEncoder`, optionally bidirectional)
    summarises the source into :math:`\mathbf{s}` (last forward state, and first
    backward state), which becomes the root's ancestral state of the decoder,

    .. math::
        \mathbf{h}^a_{root} = \tanh(W_h \mathbf{s} + \mathbf{b}_h), \qquad
        \mathbf{c}^a_{root} = W_c \mathbf{s} + \mathbf{b}_c \ \text{(LSTM)}.

    With ``attention``, the decoder also attends over the encoder's states of the
    source (its memory; see :class:`~graphrnn.nn.DRNN`).

    Args:
        num_tokens (int): source vocabulary size.
        num_labels (int): tree label vocabulary size.
        hidden_channels (int): state size of encoder and decoder. (default: ``128``)
        embedding_dim (int, optional): embedding size of tokens and labels (default hidden).
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"`` for both. (default: ``"lstm"``)
        bidirectional (bool): bidirectional encoder. (default: ``True``)
        encoder_layers (int): stacked encoder layers. (default: ``1``)
        dropout (float): the decoder's dropout on its predictive state. (default: ``0.0``)
        attention (str, optional): ``None``, ``"dot"`` or ``"mlp"``: the decoder attends over
            the encoder states. (default: ``None``, the paper's model)

    Shapes:
        - **input:** a batch of :class:`TreePair`.
        - **output:** :class:`~graphrnn.nn.DRNNOutput` over the batch's tree nodes.
    """

    def __init__(self, num_tokens: int, num_labels: int, hidden_channels: int = 128,
                 embedding_dim: Optional[int] = None, cell: str = "lstm", bidirectional: bool = True,
                 encoder_layers: int = 1, dropout: float = 0.0, attention: Optional[str] = None) -> None:
        super().__init__()
        if not is_positive_int(num_labels):
            raise ValueError(f"num_labels (the tree label vocabulary) must be a positive integer, got {num_labels!r}")
        num_labels = int(num_labels)
        self.encoder = SequenceEncoder(num_tokens, hidden_channels, encoder_layers, cell, bidirectional,
                                       tokens=True, embedding_dim=embedding_dim or hidden_channels)
        self.num_labels, self.attention_type, self.dropout_p = num_labels, attention, dropout
        self.state_size = cell_state_size(cell)
        self.bridge = nn.Linear(self.encoder.out_channels, hidden_channels * self.state_size)
        self.decoder = DRNN(num_labels, hidden_channels, cell=cell, embedding_dim=embedding_dim, dropout=dropout,
                            attention=attention, memory_channels=self.encoder.out_channels)

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.bridge.reset_parameters()
        self.decoder.reset_parameters()

    def extra_repr(self) -> str:
        encoder = self.encoder
        return (f"{encoder.inputs.in_channels}, {self.num_labels}, {encoder.hidden_channels}, "
                f"cell={encoder.forward_layers[0].cell_type!r}, bidirectional={encoder.bidirectional}, "
                f"encoder_layers={encoder.num_layers}, attention={self.attention_type!r}, dropout={self.dropout_p}")

    def encode(self, batch) -> Tuple[Tensor, ...]:
        """The decoder's root state, one row per pair: ``(h,)`` or ``(h, c)`` of ``[B, H]``."""
        return self._encode(batch)[0]

    def _encode(self, batch) -> Tuple[Tuple[Tensor, ...], dict]:
        """The root state and, with attention, the decoder's memory keywords (``memory``, ``memory_mask``)."""
        memory = self.encoder(batch.src, batch.src_edge_index, plan=getattr(batch, "src_plan", None),
                              reverse_plan=getattr(batch, "src_reverse_plan", None))
        lengths = batch.src_len
        src_batch = torch.repeat_interleave(torch.arange(lengths.numel(), device=lengths.device), lengths)
        first, last = chain_ends(batch.src_edge_index, memory.size(0), src_batch)
        hidden = self.encoder.hidden_channels
        summary = memory[last, :hidden]
        if self.encoder.bidirectional:
            summary = torch.cat([summary, memory[first, hidden:]], -1)
        state = self.bridge(summary).chunk(self.state_size, -1)
        root = (torch.tanh(state[0]),) + tuple(state[1:])
        if self.decoder.attention is None:
            return root, {}
        # the source chain lists each pair's tokens in order, so padding by pair keeps their order
        padded, mask = to_dense_batch(memory, src_batch, batch_size=lengths.numel())
        return root, {"memory": padded, "memory_mask": mask}

    def planners(self) -> dict:
        """Plans a batch can carry (``DataLoader(..., plans=model.planners())``): the encoder's passes over
        ``src_edge_index`` (``src_plan``, ``src_reverse_plan``) and the decoder's ``drnn_plan``."""
        return {**self.encoder.planners("src_edge_index", prefix="src_"), **self.decoder.planners()}

    def forward(self, batch) -> DRNNOutput:
        root, memory = self._encode(batch)
        return self.decoder(batch, root, **memory)

    def loss(self, batch, label_weight: float = 1.0, topology_weight: float = 1.0) -> Tensor:
        """Mean per-node loss of :meth:`DRNN.loss <graphrnn.nn.DRNN.loss>`, teacher forced."""
        return DRNN.loss(self(batch), batch, label_weight, topology_weight)

    @torch.no_grad()
    def generate(self, batch, max_depth: int, max_children: int, max_nodes: Optional[int] = None,
                 root_label: Optional[int] = None, sample: bool = False,
                 generator: Optional[torch.Generator] = None) -> List[Tuple[List[int], List[int]]]:
        """Decodes one tree per pair of ``batch`` (see :meth:`DRNN.generate <graphrnn.nn.DRNN.generate>`)."""
        root, memory = self._encode(batch)
        return self.decoder.generate(root, max_depth, max_children, max_nodes=max_nodes, sample=sample,
                                     generator=generator, root_label=root_label, **memory)
