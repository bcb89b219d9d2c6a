r"""Sequence models over chain graphs: classification, tagging and next-step prediction.

A batch of sequences is a PyG batch of :func:`graphrnn.data.chain_graph`; every
model runs stacked :class:`~graphrnn.nn.ChainRNN` layers over it (optionally also
against the edges, for a bidirectional encoder) and puts a linear head on the states.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

from graphrnn.counts import is_int, is_positive_int
from graphrnn.graph.checks import check_batch_vector, device_assert
from graphrnn.models.inputs import SequenceInput
from graphrnn.nn import ChainRNN
from graphrnn.nn.one_line_repr import OneLineRepr
from graphrnn.nn.validation import refuse_levels_with_plan

__all__ = ["SequenceEncoder", "SequenceClassifier", "SequenceTagger", "NextStepPredictor", "chain_ends",
           "check_chains"]


def check_chains(edge_index: Tensor, num_nodes: int, model: str) -> None:
    """``edge_index`` must be chains: integer ``[2, E]`` ids of the ``num_nodes`` nodes, at most one predecessor and
    one successor per node, no self loop and no ring. For models that index predecessors directly, where a merge, a
    negative id or a ring would be used silently. Shapes on the host; values with
    :func:`~graphrnn.graph.device_assert` (no host-device sync on an accelerator).

    Raises:
        ValueError: saying what is wrong.
    """
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        shape = list(edge_index.shape) if isinstance(edge_index, Tensor) else type(edge_index).__name__
        raise ValueError(f"{model}: edge_index must have shape [2, E] (chain edges t -> t+1), got {shape}; transpose "
                         "an [E, 2] edge list with edge_index.t()")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{model}: edge_index must hold integer node ids (torch.long), got dtype {edge_index.dtype}")
    if edge_index.numel() == 0:
        return
    src, dst = edge_index.long()
    device_assert(((edge_index >= 0) & (edge_index < num_nodes)).all(),
                  f"{model}: edge_index refers to a node outside 0..{num_nodes - 1}")
    ones = torch.ones_like(src)
    in_degree = torch.zeros(num_nodes, dtype=torch.long, device=src.device).index_add_(0, dst, ones)
    out_degree = torch.zeros_like(in_degree).index_add_(0, src, ones)
    device_assert((in_degree <= 1).all() & (out_degree <= 1).all() & (src != dst).all(),
                  f"{model} runs on chains, but a node has two predecessors or two successors, or an edge is a self "
                  "loop; build sequences with graphrnn.data.chain_graph")
    # pointer jumping with a fixed number of rounds: every node must reach a first node (a ring never does)
    parent = torch.arange(num_nodes, device=src.device).index_copy(0, dst, src)
    ancestor = parent
    for _ in range(max(1, math.ceil(math.log2(max(num_nodes, 2)))) + 1):
        ancestor = ancestor.index_select(0, ancestor)
    device_assert((parent.index_select(0, ancestor) == ancestor).all(),
                  f"{model} runs on chains, but some edges close a cycle (a ring has no first element); build "
                  "sequences with graphrnn.data.chain_graph")


class SequenceEncoder(OneLineRepr, nn.Module):
    r"""Stacked (optionally bidirectional) recurrent layers over chain graphs.

    Layer :math:`\ell` runs a cell along the edges,
    :math:`\mathbf{s}^{\ell}_t = \mathrm{cell}(\mathbf{s}^{\ell-1}_t, \mathbf{s}^{\ell}_{t-1})`,
    and, when bidirectional, a second cell against them,
    :math:`\overleftarrow{\mathbf{s}}^{\ell}_t = \mathrm{cell}'(\mathbf{s}^{\ell-1}_t,
    \overleftarrow{\mathbf{s}}^{\ell}_{t+1})` (the reversed topological schedule);
    the two are concatenated. :math:`\mathbf{s}^0_t` is :math:`\mathbf{x}_t`, or its
    embedding when the inputs are tokens.

    Args:
        in_channels (int): features per node for real-valued inputs, or the number of
            tokens (vocabulary size) when ``tokens=True``.
        hidden_channels (int): state size :math:`H` of every layer and direction.
        num_layers (int): stacked layers. (default: ``1``)
        cell (str): ``"rnn"`` (Elman), ``"gru"`` or ``"lstm"``. (default: ``"lstm"``)
        bidirectional (bool): add a reverse pass. (default: ``False``)
        dropout (float): dropout on the inputs of layers above the first. (default: ``0``)
        tokens (bool): inputs are token ids, embedded to ``embedding_dim``.
        embedding_dim (int, optional): embedding size (default: ``hidden_channels``).

    Shapes:
        - **input:** :math:`(N, D)` floats or :math:`(N)` token ids; edges :math:`(2, E)`.
        - **output:** :math:`(N, H \cdot \text{directions})`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 1, cell: str = "lstm",
                 bidirectional: bool = False, dropout: float = 0.0, tokens: bool = False,
                 embedding_dim: Optional[int] = None) -> None:
        super().__init__()
        if not is_positive_int(num_layers):
            raise ValueError(f"num_layers must be >= 1 (an int), got {num_layers!r}")
        if not is_positive_int(hidden_channels):
            raise ValueError(f"hidden_channels must be a positive integer, got {hidden_channels!r}")
        hidden_channels, num_layers = int(hidden_channels), int(num_layers)
        self.hidden_channels, self.num_layers = hidden_channels, num_layers
        self.bidirectional = bidirectional
        self.inputs = SequenceInput(in_channels, tokens, embedding_dim or hidden_channels)
        width = self.inputs.out_channels
        directions = 2 if bidirectional else 1
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList() if bidirectional else None
        for layer in range(num_layers):
            size = width if layer == 0 else hidden_channels * directions
            self.forward_layers.append(ChainRNN(size, hidden_channels, cell=cell))
            if bidirectional:
                self.backward_layers.append(ChainRNN(size, hidden_channels, cell=cell, flow="target_to_source"))
        self.dropout = nn.Dropout(dropout)

    @property
    def out_channels(self) -> int:
        return self.hidden_channels * (2 if self.bidirectional else 1)

    def settings_repr(self) -> str:
        """The keyword settings of the ``repr`` (the models that wrap this encoder print them too)."""
        return (f"num_layers={self.num_layers}, cell={self.forward_layers[0].cell_type!r}, "
                f"bidirectional={self.bidirectional}, tokens={self.inputs.tokens}")

    def extra_repr(self) -> str:
        return f"{self.inputs.in_channels}, {self.hidden_channels}, {self.settings_repr()}"

    def reset_parameters(self) -> None:
        self.inputs.reset_parameters()
        for layer in self.layers():
            layer.reset_parameters()

    def layers(self):
        yield from self.forward_layers
        if self.backward_layers is not None:
            yield from self.backward_layers

    def planners(self, edge_index_key: str = "edge_index", prefix: str = "") -> dict:
        """The plans of this encoder's passes, for ``graphrnn.data.DataLoader(..., plans=...)``:
        ``{prefix + "plan": ..., prefix + "reverse_plan": ...}`` (the second when bidirectional);
        every layer of a direction shares its plan."""
        plans = {f"{prefix}plan": self.forward_layers[0].planner(edge_index_key=edge_index_key)}
        if self.backward_layers is not None:
            plans[f"{prefix}reverse_plan"] = self.backward_layers[0].planner(edge_index_key=edge_index_key)
        return plans

    def forward(self, x: Tensor, edge_index: Tensor, level: Optional[Tensor] = None,
                reverse_level: Optional[Tensor] = None, *, plan=None, reverse_plan=None) -> Tensor:
        """``plan`` / ``reverse_plan``: the passes' plans (see :meth:`planners`), built once per batch."""
        refuse_levels_with_plan(level, plan)
        refuse_levels_with_plan(reverse_level, reverse_plan, "reverse_level")
        h = self.inputs(x)
        if plan is None:  # one plan per direction, shared by the stacked layers
            plan = self.forward_layers[0].plan(edge_index, h.size(0), level)
        if self.backward_layers is not None and reverse_plan is None:
            reverse_plan = self.backward_layers[0].plan(edge_index, h.size(0), reverse_level)
        for index, forward_layer in enumerate(self.forward_layers):
            if index > 0:
                h = self.dropout(h)
            out = forward_layer(h, edge_index, plan=plan)
            if self.backward_layers is not None:
                back = self.backward_layers[index](h, edge_index, plan=reverse_plan)
                out = torch.cat([out, back], dim=-1)
            h = out
        return h


def chain_ends(edge_index: Tensor, num_nodes: int, batch: Optional[Tensor] = None,
               num_graphs: Optional[int] = None) -> tuple:
    """The first and last node of every chain: ``(first [B], last [B])``.

    ``batch`` (``[N]``, graph of every node) defaults to one graph. ``num_graphs`` (a PyG
    batch's ``num_graphs``) is the number of chains :math:`B`; without it :math:`B` is read
    from ``batch`` as ``batch.max() + 1``, which cannot see empty sequences at the end of a
    batch (their rows would be missing, and the rows of the others would not line up with
    their labels), so pass it when a batch may hold one.

    Raises:
        ValueError: if a graph does not have exactly one first and one last node (an empty
            sequence has none), or ``batch`` names a graph ``>= num_graphs``.
    """
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=edge_index.device)
    elif not isinstance(batch, Tensor) or batch.shape != (num_nodes,) or batch.is_floating_point():
        check_batch_vector(batch, num_nodes, None, edge_index)  # raises, naming the shape it wants
    batch = batch.long()
    seen = int(batch.max()) + 1 if batch.numel() else 0
    if num_graphs is None:
        num_graphs = seen
    elif not is_int(num_graphs) or not seen <= num_graphs:
        raise ValueError(f"num_graphs={num_graphs!r} must be an integer >= the graphs that batch names ({seen}); "
                         "pass the PyG batch's num_graphs")
    has_in = torch.zeros(num_nodes, dtype=torch.bool, device=batch.device)
    has_out = torch.zeros_like(has_in)
    has_in[edge_index[1]] = True
    has_out[edge_index[0]] = True
    ends = []
    for mask, name in ((~has_in, "first"), (~has_out, "last")):
        nodes = mask.nonzero().view(-1)
        counts = torch.bincount(batch[nodes], minlength=num_graphs)
        if not bool((counts == 1).all()):
            graph = int((counts != 1).nonzero()[0, 0])
            raise ValueError(f"graph {graph} has {int(counts[graph])} {name} nodes; sequence models need one "
                             "chain per graph (use graphrnn.data.chain_graph, and no empty sequences)")
        position = torch.empty(num_graphs, dtype=torch.long, device=batch.device)
        position[batch[nodes]] = nodes
        ends.append(position)
    return tuple(ends)


class _SequenceModel(OneLineRepr, nn.Module):
    """An encoder plus a linear head; subclasses choose where the head reads."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 1,
                 cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0, tokens: bool = False,
                 embedding_dim: Optional[int] = None) -> None:
        super().__init__()
        if not is_positive_int(out_channels):
            raise ValueError(f"out_channels (classes, or outputs per element) must be a positive integer, got "
                             f"{out_channels!r}")
        out_channels = int(out_channels)
        self.encoder = SequenceEncoder(in_channels, hidden_channels, num_layers, cell, bidirectional, dropout,
                                       tokens, embedding_dim)
        self.head = nn.Linear(self.encoder.out_channels, out_channels)

    def extra_repr(self) -> str:
        encoder = self.encoder
        return (f"{encoder.inputs.in_channels}, {encoder.hidden_channels}, {self.head.out_features}, "
                f"{encoder.settings_repr()}")

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.head.reset_parameters()


class SequenceClassifier(_SequenceModel):
    r"""One label per sequence, read from the final state(s).

    Elman form (``cell="rnn"``): :math:`\mathbf{s}_t = \tanh(U \mathbf{x}_t + W \mathbf{s}_{t-1})`,
    :math:`\mathbf{o} = \mathrm{softmax}(V \mathbf{s}_T)` (this module returns the logits
    :math:`V \mathbf{s}_T + \mathbf{b}`). The LSTM form replaces the state update with the
    gated one of :class:`~graphrnn.nn.ChainRNN`:
    :math:`C_t = f_t \odot C_{t-1} + i_t \odot \tilde{C}_t`, :math:`h_t = o_t \odot \tanh(C_t)`.
    Bidirectional: :math:`[\mathbf{s}_T ; \overleftarrow{\mathbf{s}}_1]`.

    Args: as :class:`SequenceEncoder`, plus ``out_channels`` (number of classes).

    Shapes: input as :class:`SequenceEncoder` plus ``batch`` :math:`(N)` and ``num_graphs`` :math:`B`;
    output :math:`(B, C)`.
    """

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None,
                level: Optional[Tensor] = None, reverse_level: Optional[Tensor] = None,
                num_graphs: Optional[int] = None) -> Tensor:
        """``num_graphs``: the batch's number of sequences (``batch.num_graphs``); with it an empty sequence
        anywhere in the batch is an error instead of a missing row (see :func:`chain_ends`)."""
        h = self.encoder(x, edge_index, level, reverse_level)
        first, last = chain_ends(edge_index, h.size(0), batch, num_graphs)
        hidden = self.encoder.hidden_channels
        summary = h[last, :hidden]
        if self.encoder.bidirectional:
            summary = torch.cat([summary, h[first, hidden:]], dim=-1)
        return self.head(summary)


class SequenceTagger(_SequenceModel):
    r"""One label per element: :math:`\mathbf{o}_t = \mathrm{softmax}(V \mathbf{s}_t)`
    (logits returned), with :math:`\mathbf{s}_t` from :class:`SequenceEncoder`.

    Shapes: input as :class:`SequenceEncoder`; output :math:`(N, C)`.
    """

    def forward(self, x: Tensor, edge_index: Tensor, level: Optional[Tensor] = None,
                reverse_level: Optional[Tensor] = None) -> Tensor:
        return self.head(self.encoder(x, edge_index, level, reverse_level))


class NextStepPredictor(_SequenceModel):
    r"""Predicts :math:`\mathbf{x}_{t+1}` from :math:`\mathbf{x}_{\le t}`; a language model
    when the inputs are tokens: :math:`p(x_{t+1} \mid x_{\le t}) = \mathrm{softmax}(V \mathbf{s}_t)`.

    Only the forward direction is allowed (a reverse pass would see the future).

    Shapes: input as :class:`SequenceEncoder`; output :math:`(N, C)`, row :math:`t`
    predicting the node after :math:`t` (the last node's row predicts what follows
    the sequence, e.g. ``<eos>``).
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get("bidirectional"):
            raise ValueError("NextStepPredictor cannot be bidirectional: the reverse pass would see the "
                             "element it has to predict")
        super().__init__(*args, **kwargs)

    def forward(self, x: Tensor, edge_index: Tensor, level: Optional[Tensor] = None) -> Tensor:
        return self.head(self.encoder(x, edge_index, level))

    def step(self, tokens: Tensor, state: Optional[Tuple[Tensor, ...]] = None) -> Tuple[Tensor, Tuple[Tensor, ...]]:
        """One step of generation: ``(log_probs [B, V], state)`` after reading ``tokens``.

        ``state`` is ``(h,)`` or ``(h, c)`` with ``h``/``c`` of shape ``[B, layers, H]``
        (batch first, as :mod:`graphrnn.decoding` expects); ``None`` is the zero state.
        Running it over a sequence gives the rows of :meth:`forward` (in eval mode).
        """
        h = self.encoder.inputs(tokens)
        self._check_step_state(state, h.size(0))
        hidden, cells = [], []
        for index, layer in enumerate(self.encoder.forward_layers):
            if index > 0:
                h = self.encoder.dropout(h)
            previous = None if state is None else tuple(s[:, index] for s in state)
            if layer.cell_type == "lstm":
                h, c = layer.cell(h, previous)
                cells.append(c)
            else:
                h = layer.cell(h, None if previous is None else previous[0])
            hidden.append(h)
        new_state = (torch.stack(hidden, 1),) + ((torch.stack(cells, 1),) if cells else ())
        return torch.log_softmax(self.head(h), dim=-1), new_state

    def _check_step_state(self, state, batch_size: int) -> None:
        """``state`` as :meth:`step` returns it: ``(h,)`` or ``(h, c)`` of shape ``[B, layers, H]`` (host checks)."""
        if state is None:
            return
        layers = self.encoder.forward_layers
        count = 2 if layers[0].cell_type == "lstm" else 1
        want = [batch_size, len(layers), self.encoder.hidden_channels]
        if not isinstance(state, (tuple, list)) or len(state) != count or not all(
                isinstance(s, Tensor) and list(s.shape) == want for s in state):
            got = [list(s.shape) if isinstance(s, Tensor) else type(s).__name__ for s in state] \
                if isinstance(state, (tuple, list)) else type(state).__name__
            raise ValueError(f"state must be {'(h, c)' if count == 2 else '(h,)'} with tensors of shape [B, layers, H]="
                             f"{want} (as step returns it, or None for zeros), got {got}")

    @staticmethod
    def next_targets(x: Tensor, edge_index: Tensor, ignore_index: int = -100) -> Tensor:
        """Target of every node: the token of its successor (``ignore_index`` at chain ends).

        Raises:
            ValueError: if ``edge_index`` is not ``[2, E]`` integer ids of ``x``'s nodes, or a node has two
                successors (checked with :func:`~graphrnn.graph.device_assert`: no host sync on a GPU).
        """
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2 \
                or edge_index.dtype not in (torch.int64, torch.int32):
            shape = f"{edge_index.dtype} {list(edge_index.shape)}" if isinstance(edge_index, Tensor) \
                else type(edge_index).__name__
            raise ValueError(f"edge_index must be an integer tensor [2, E] (chain edges t -> t+1), got {shape}")
        if edge_index.numel():
            device_assert(((edge_index >= 0) & (edge_index < x.size(0))).all(),
                          f"edge_index refers to a node outside 0..{x.size(0) - 1} (x has {x.size(0)} nodes)")
            successors = torch.zeros(x.size(0), dtype=torch.long, device=x.device).index_add_(
                0, edge_index[0], torch.ones_like(edge_index[0], dtype=torch.long))
            device_assert((successors <= 1).all(), "a node has two successors, so its next token is ambiguous; "
                                                   "next-step targets need chains (graphrnn.data.chain_graph)")
        target = torch.full((x.size(0),), ignore_index, dtype=torch.long, device=x.device)
        target[edge_index[0]] = x[edge_index[1]]
        return target
