r"""Encoder–decoder over chain graphs (Ranzato et al. 2016, Sec. 2): :class:`Seq2Seq`.

A training pair is a :class:`Seq2SeqPair` (a PyG ``Data``): the source sequence as a
chain graph (``src``, ``src_edge_index``) or a fixed context vector (``context``,
e.g. image features), and the target tokens ``tgt`` = :math:`w_1 \dots w_T` (ending
with ``<eos>``, without ``<bos>``). The PyG ``DataLoader`` concatenates pairs without
padding; the decoder pads the targets of a batch only inside its time loop.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import to_dense_batch

from graphrnn.data.graphs import chain_edge_index
from graphrnn.data.vocab import Vocab
from graphrnn.graph.checks import device_assert
from graphrnn.models.sequence import SequenceEncoder
from graphrnn.nn.attention import Attention
from graphrnn.nn.cells import cell_state_size, make_cell
from graphrnn.nn.one_line_repr import OneLineRepr

__all__ = ["Seq2Seq", "Seq2SeqPair", "seq2seq_pair", "text_pair", "SOURCES", "ATTENTIONS"]

SOURCES = ("tokens", "features", "vector")
ATTENTIONS = (None, "dot", "mlp")
State = Tuple[Tensor, ...]


class Seq2SeqPair(Data):
    """One (source, target) pair; ``src_edge_index`` is shifted like ``edge_index`` when batched."""

    def __inc__(self, key, value, *args, **kwargs):
        if key == "src_edge_index":
            return self.src.size(0)
        return super().__inc__(key, value, *args, **kwargs)


def seq2seq_pair(src: Optional[Tensor], tgt: Tensor, context: Optional[Tensor] = None) -> Seq2SeqPair:
    """A training pair: a source chain (or a context vector) and the target tokens.

    Args:
        src: source token ids ``[S]`` or features ``[S, F]``; ``None`` with ``context``.
        tgt: target ids ``[T]`` = :math:`w_1 \\dots w_T` (end it with ``<eos>``; no ``<bos>``).
        context: a fixed context vector ``[F]`` (e.g. image features) instead of a source.

    Raises:
        ValueError: for an empty source or target, or neither/both of ``src`` and ``context``.
    """
    if (src is None) == (context is None):
        raise ValueError("give exactly one of src (a source sequence) and context (a fixed vector)")
    tgt = torch.as_tensor(tgt)
    if tgt.dim() != 1 or tgt.numel() == 0 or tgt.dtype != torch.long:
        raise ValueError(f"tgt must be a non-empty LongTensor [T] of token ids (ending with <eos>), "
                         f"got {tgt.dtype} {list(tgt.shape)}")
    pair = Seq2SeqPair(tgt=tgt, tgt_len=torch.tensor([tgt.numel()]))
    if context is not None:
        context = torch.as_tensor(context)
        if context.dim() != 1 or not context.is_floating_point():
            raise ValueError(f"context must be a float vector [F], got {context.dtype} {list(context.shape)}")
        if not bool(torch.isfinite(context).all()):  # the decoder's every state would be NaN
            raise ValueError("context has a NaN or inf value; clean the features first")
        pair.context = context.unsqueeze(0)
        pair.num_nodes = 1
        return pair
    src = torch.as_tensor(src)
    if src.dim() not in (1, 2) or src.size(0) == 0:
        raise ValueError(f"the source is empty or misshapen ({list(src.shape)}); give token ids [S] or features "
                         "[S, F] with S >= 1 (drop empty sentences before building pairs)")
    if src.dim() == 1 and (src.is_floating_point() or src.is_complex() or src.dtype == torch.bool):
        raise ValueError(f"a 1-d source holds token ids and must be integer (torch.long), got {src.dtype}; give "
                         "features as [S, F]")
    pair.src = src
    pair.src_edge_index = chain_edge_index(src.size(0), device=src.device)
    pair.src_len = torch.tensor([src.size(0)])
    pair.num_nodes = src.size(0)
    return pair


def text_pair(source: Sequence[str], target: Sequence[str], source_vocab: Vocab,
              target_vocab: Vocab) -> Seq2SeqPair:
    """A pair from tokenised text; unknown words become ``<unk>``, the target gets ``<eos>``.

    Raises:
        ValueError: if the source or the target has no tokens.
    """
    if len(target) == 0:
        raise ValueError("the target sentence is empty; drop it before building pairs")
    return seq2seq_pair(source_vocab.encode(source), target_vocab.encode(target, eos=True))


class Seq2Seq(OneLineRepr, nn.Module):
    r"""Encoder–decoder: a ChainRNN encoder over the source chain, an RNN decoder.

    The decoder is the text-generation RNN of Ranzato et al. (2016), conditioned on a
    context :math:`\mathbf{c}_t`:

    .. math::
        \mathbf{h}_{t+1} = \phi\big([E w_t ; \mathbf{c}_t], \mathbf{h}_t\big), \qquad
        p_\theta(w_{t+1} \mid w_{\le t}, \mathbf{x}) = \mathrm{softmax}(M_o \mathbf{h}_{t+1} + \mathbf{b}_o),

    with :math:`\phi` an LSTM/GRU/Elman cell (``<pad>`` and ``<bos>`` get logit :math:`-\infty`:
    never emitted), :math:`w_0 = \texttt{<bos>}` and
    :math:`\mathbf{h}_0 = \tanh(W_0 \bar{\mathbf{m}})` from the source summary
    :math:`\bar{\mathbf{m}}` (the encoder's last state, or the projected context vector).
    The context is, by ``attention``:

    .. math::
        \mathbf{c}_t = \bar{\mathbf{m}} \ (\text{None}), \qquad
        \mathbf{c}_t = \sum_i \alpha_{t,i} \mathbf{m}_i,\ \alpha_{t} = \mathrm{softmax}_i(s(\mathbf{h}_t, \mathbf{m}_i))
        \ (\text{"dot" or "mlp"}),

    over the encoder states :math:`\mathbf{m}_i`. With ``source="vector"`` the memory is
    one slot :math:`\tanh(W_c \mathbf{v})` of the fixed vector :math:`\mathbf{v}` (image features).
    ``baseline`` is the linear reward regressor :math:`\bar{r}_{t} = \mathbf{u}^\top
    \mathrm{sg}(\mathbf{h}_{t}) + b` of REINFORCE/MIXER (unused by cross-entropy training).

    Args:
        in_channels (int): source vocabulary size (``source="tokens"``), features per
            source node (``"features"``), or the context vector size (``"vector"``).
        num_tokens (int): target vocabulary size :math:`V` (``<pad> <bos> <eos> <unk>`` = 0..3).
        hidden_channels (int): state size :math:`H` of encoder and decoder. (default: ``128``)
        embedding_dim (int, optional): token embedding size (default: ``hidden_channels``).
        num_layers (int): encoder layers. (default: ``1``)
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"``. (default: ``"lstm"``)
        attention (str, optional): ``None``, ``"dot"`` or ``"mlp"``. (default: ``None``)
        source (str): ``"tokens"``, ``"features"`` or ``"vector"``. (default: ``"tokens"``)
        bidirectional (bool): bidirectional encoder. (default: ``False``)
        dropout (float): dropout between encoder layers, on the memory (context) and on
            :math:`\mathbf{h}_{t+1}` before :math:`M_o`. (default: ``0``)
        bos (int): id of ``<bos>``. (default: ``1``)

    Shapes:
        - **forward(batch):** a PyG batch of :class:`Seq2SeqPair` -> logits :math:`(N_{tgt}, V)`,
          one row per target token in ``batch.tgt`` order (teacher forcing).
        - **encode(batch):** -> decoder state ``(h, [c,] memory, mask)`` with ``h``/``c``
          :math:`(B, H)`, ``memory`` :math:`(B, S, H_m)`, ``mask`` :math:`(B, S)` (batch first,
          so :mod:`graphrnn.decoding` can reorder it).
        - **step(tokens, state):** tokens :math:`(B)` -> log-probs :math:`(B, V)`, state.
        - **decode_step(inputs, state):** input embeddings :math:`(B, E)` (hard or soft) ->
          logits :math:`(B, V)`, state.
    """

    def __init__(self, in_channels: int, num_tokens: int, hidden_channels: int = 128,
                 embedding_dim: Optional[int] = None, num_layers: int = 1, cell: str = "lstm",
                 attention: Optional[str] = None, source: str = "tokens", bidirectional: bool = False,
                 dropout: float = 0.0, bos: int = Vocab.bos) -> None:
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        if source == "vector" and attention is not None:
            raise ValueError("a fixed context vector has one memory slot; use attention=None with source='vector'")
        if num_tokens < 5:
            raise ValueError(f"num_tokens must count the 4 special tokens plus at least one word, got {num_tokens}")
        self.in_channels, self.num_tokens, self.hidden_channels = in_channels, num_tokens, hidden_channels
        self.embedding_dim = embedding_dim or hidden_channels
        self.cell_type, self.attention_type, self.source, self.bos = cell, attention, source, bos
        if source == "vector":
            self.encoder = None
            self.context_projection = nn.Linear(in_channels, hidden_channels)
            memory = hidden_channels
        else:
            self.encoder = SequenceEncoder(in_channels, hidden_channels, num_layers, cell, bidirectional, dropout,
                                           tokens=source == "tokens", embedding_dim=self.embedding_dim)
            self.context_projection = None
            memory = self.encoder.out_channels
        self.memory_channels = memory
        self.bridge = nn.Linear(memory, hidden_channels)
        self.attention = Attention(attention, hidden_channels, memory) if attention else None
        self.embedding = nn.Embedding(num_tokens, self.embedding_dim)
        self.cell = make_cell(cell, self.embedding_dim + memory, hidden_channels)
        self.output = nn.Linear(hidden_channels, num_tokens)
        self.baseline = nn.Linear(hidden_channels, 1)
        self.dropout = nn.Dropout(dropout)
        never = torch.zeros(num_tokens, dtype=torch.bool)
        never[[Vocab.pad, bos]] = True
        self.register_buffer("never_emitted", never, persistent=False)

    def reset_parameters(self) -> None:
        for module in self.children():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    # ------------------------------------------------------------ encoder
    def encode(self, batch) -> State:
        """The initial decoder state ``(h_0, [c_0,] memory, mask)`` of every pair in ``batch``."""
        if self.source == "vector":
            context = getattr(batch, "context", None)
            if context is None:
                raise ValueError("source='vector' needs pairs built with seq2seq_pair(None, tgt, context=...)")
            memory = self.dropout(torch.tanh(self.context_projection(context))).unsqueeze(1)
            mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
            return self.initial_state(memory[:, 0], memory, mask)
        if getattr(batch, "src", None) is None:
            raise ValueError(f"source={self.source!r} needs pairs with a source sequence (seq2seq_pair(src, tgt))")
        lengths = batch.src_len
        if bool((lengths < 1).any()):
            raise ValueError("a pair has an empty source; drop empty sentences before building pairs")
        states = self.dropout(self.encoder(batch.src, batch.src_edge_index, plan=getattr(batch, "src_plan", None),
                                           reverse_plan=getattr(batch, "src_reverse_plan", None)))
        graph = torch.repeat_interleave(torch.arange(lengths.numel(), device=lengths.device), lengths)
        memory, mask = to_dense_batch(states, graph, batch_size=lengths.numel())
        summary = self._summary(memory, lengths)
        if self.attention is None:
            memory, mask = summary.unsqueeze(1), mask[:, :1]
        return self.initial_state(summary, memory, mask)

    def _summary(self, memory: Tensor, lengths: Tensor) -> Tensor:
        """The last forward state (and, bidirectional, the first backward one) of each source."""
        hidden = self.hidden_channels
        rows = torch.arange(memory.size(0), device=memory.device)
        summary = memory[rows, lengths - 1, :hidden]
        if self.encoder.bidirectional:
            summary = torch.cat([summary, memory[rows, 0, hidden:]], dim=-1)
        return summary

    def initial_state(self, summary: Tensor, memory: Tensor, mask: Tensor) -> State:
        h = torch.tanh(self.bridge(summary))
        recurrent = (h, torch.zeros_like(h)) if cell_state_size(self.cell_type) == 2 else (h,)
        return recurrent + (memory, mask)

    # ------------------------------------------------------------ decoder
    def embed(self, tokens: Tensor) -> Tensor:
        """Target token embeddings :math:`E w`; ids must lie in ``[0, num_tokens)``."""
        self._check_target_ids(tokens)
        return self.embedding(tokens)

    def _check_target_ids(self, tokens: Tensor) -> None:
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.num_tokens):
            raise ValueError(f"target token ids must lie in [0, {self.num_tokens}); got "
                             f"{int(tokens.min())}..{int(tokens.max())} (map unknown words to <unk>)")

    def context(self, h: Tensor, memory: Tensor, mask: Tensor) -> Tensor:
        """:math:`\\mathbf{c}_t` from the decoder state :math:`\\mathbf{h}_t`."""
        if self.attention is None:
            return memory[:, 0]
        return self.attention(h, memory, mask)

    def decode_step(self, inputs: Tensor, state: State) -> Tuple[Tensor, State]:
        """One decoder step on input embeddings (a token's, or a soft mixture for E2E).

        Returns:
            ``(logits [B, V], new state)``; ``new_state[0]`` is :math:`\\mathbf{h}_{t+1}`.
        """
        self._check_state(inputs, state)
        recurrent, memory, mask = state[:-2], state[-2], state[-1]
        context = self.context(recurrent[0], memory, mask)
        cell_input = torch.cat([inputs, context], dim=-1)
        if self.cell_type == "lstm":
            recurrent = self.cell(cell_input, recurrent)
        else:
            recurrent = (self.cell(cell_input, recurrent[0]),)
        logits = self.output(self.dropout(recurrent[0])).masked_fill(self.never_emitted, float("-inf"))
        return logits, tuple(recurrent) + (memory, mask)

    def _check_state(self, inputs: Tensor, state: State) -> None:
        """``state`` as :meth:`encode` builds it, one row per input (host checks of sizes only)."""
        size = cell_state_size(self.cell_type) + 2
        if not isinstance(state, (tuple, list)) or len(state) != size or not all(isinstance(s, Tensor) for s in state):
            raise ValueError(f"state must be the tuple {'(h, c, memory, mask)' if size == 4 else '(h, memory, mask)'} "
                             f"from encode(batch) (or the previous step), got "
                             f"{type(state).__name__} of {len(state) if isinstance(state, (tuple, list)) else '?'}")
        if any(s.size(0) != inputs.size(0) for s in state):
            raise ValueError(f"state has batch sizes {[s.size(0) for s in state]} but {inputs.size(0)} inputs came; "
                             "feed one token per row of the state")

    def step(self, tokens: Tensor, state: State) -> Tuple[Tensor, State]:
        """``step_fn`` of :mod:`graphrnn.decoding`: reads ``tokens [B]``, returns log-probs ``[B, V]``."""
        logits, state = self.decode_step(self.embed(tokens), state)
        return torch.log_softmax(logits, dim=-1), state

    def targets(self, batch, pad: int = Vocab.pad) -> Tuple[Tensor, Tensor]:
        """Padded targets ``[B, T]`` (``pad`` after each end) and their mask ``[B, T]``."""
        lengths = batch.tgt_len
        if batch.tgt.numel():  # the last token is a target only, never embedded (and checked) by embed
            device_assert(((batch.tgt >= 0) & (batch.tgt < self.num_tokens)).all(),
                          f"target token ids must lie in [0, {self.num_tokens}) (map unknown words to <unk>)")
        graph = torch.repeat_interleave(torch.arange(lengths.numel(), device=lengths.device), lengths)
        return to_dense_batch(batch.tgt, graph, fill_value=pad, batch_size=lengths.numel())

    def teacher_inputs(self, targets: Tensor) -> Tensor:
        """Decoder input tokens ``[B, T]``: :math:`w_0 = \\texttt{<bos>}, w_1, \\dots, w_{T-1}`."""
        bos = targets.new_full((targets.size(0), 1), self.bos)
        return torch.cat([bos, targets[:, :-1]], dim=1)

    def planners(self) -> dict:
        """Plans a batch can carry (``DataLoader(..., plans=model.planners())``): the encoder's passes over
        ``src_edge_index`` (``src_plan``, and ``src_reverse_plan`` when bidirectional)."""
        return {} if self.encoder is None else self.encoder.planners("src_edge_index", prefix="src_")

    def forward(self, batch) -> Tensor:
        """Teacher-forced logits ``[N_tgt, V]``, one row per token of ``batch.tgt``."""
        state = self.encode(batch)
        targets, mask = self.targets(batch)
        inputs = self.embed(self.teacher_inputs(targets))
        logits = []
        for t in range(targets.size(1)):
            step_logits, state = self.decode_step(inputs[:, t], state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1)[mask]

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, num_tokens={self.num_tokens}, hidden={self.hidden_channels}, "
                f"cell={self.cell_type!r}, source={self.source!r}, attention={self.attention_type!r}, "
                f"dropout={self.dropout.p}")
