r"""ChainRNN: an RNN/GRU/LSTM cell run over a DAG by the topological schedule."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor, nn

from .cells import cell_name, cell_state_size, fused_chain_kernel, make_cell
from .levels import check_edge_index, forest_depth_and_root
from .recurrent import RecurrentMessagePassing
from .schedule import check_levels

__all__ = ["ChainRNN"]


class ChainRNN(RecurrentMessagePassing):
    r"""A recurrent cell (Elman RNN, GRU or LSTM) run along the edges of a DAG.

    On a chain :math:`1 \to 2 \to \dots \to T` this is exactly ``torch.nn.RNN`` /
    ``GRU`` / ``LSTM``. On a general DAG every node :math:`v` runs the cell once, after
    its predecessors, on the *sum* of their states (child-sum; roots start from zeros
    or from ``initial_state``; a duplicated edge adds its source's state once per copy):

    .. math::
        \tilde{\mathbf{h}}_v = \sum_{u \to v} \mathbf{h}_u, \qquad
        \tilde{\mathbf{c}}_v = \sum_{u \to v} \mathbf{c}_u \ \text{(LSTM)}, \qquad
        (\mathbf{h}_v, \mathbf{c}_v) = \mathrm{cell}\big(\mathbf{x}_v,
        (\tilde{\mathbf{h}}_v, \tilde{\mathbf{c}}_v)\big).

    The cells are torch's (``layer.cell``): for ``cell="rnn"`` (Elman)
    :math:`\mathbf{h}_v = \tanh(W_{ih} \mathbf{x}_v + b_{ih} + W_{hh} \tilde{\mathbf{h}}_v + b_{hh})`;
    for ``cell="lstm"``

    .. math::
        \begin{aligned}
        \mathbf{i} &= \sigma(W_{ii} \mathbf{x} + W_{hi} \tilde{\mathbf{h}} + b_i), &
        \mathbf{f} &= \sigma(W_{if} \mathbf{x} + W_{hf} \tilde{\mathbf{h}} + b_f), \\
        \mathbf{g} &= \tanh(W_{ig} \mathbf{x} + W_{hg} \tilde{\mathbf{h}} + b_g), &
        \mathbf{o} &= \sigma(W_{io} \mathbf{x} + W_{ho} \tilde{\mathbf{h}} + b_o), \\
        \mathbf{c}_v &= \mathbf{f} \odot \tilde{\mathbf{c}} + \mathbf{i} \odot \mathbf{g}, &
        \mathbf{h}_v &= \mathbf{o} \odot \tanh(\mathbf{c}_v),
        \end{aligned}

    and ``cell="gru"`` follows ``torch.nn.GRUCell``. Parameters are initialised as
    torch's cells do, :math:`\mathcal{U}(-1/\sqrt{H}, 1/\sqrt{H})`.

    When every node has at most one predecessor and one successor (a batch of plain
    chains) and ``fused=True``, the pass runs torch's fused packed-sequence kernel
    with the same weights; the result equals the level-by-level path.

    Args:
        in_channels (int): input features :math:`D` per node.
        hidden_channels (int): state size :math:`H`.
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"``. (default: ``"lstm"``)
        bias (bool): use biases in the cell. (default: ``True``)
        nonlinearity (str): ``"tanh"`` or ``"relu"`` for ``cell="rnn"``.
        flow (str): ``"source_to_target"``, or ``"target_to_source"`` to run against
            the edges (e.g. a backward pass over a chain, or leaves-to-root on a tree).
        fused (bool): allow the fused kernel on plain chains. (default: ``True``)
        check_finite (bool): raise on NaN/inf in ``x`` or ``initial_state``; a NaN
            would otherwise poison the state of every descendant. (default: ``True``)

    Shapes:
        - **input:** node features :math:`(N, D)`, edge indices :math:`(2, E)`,
          optional levels :math:`(N)`, optional initial state :math:`(N, H)` (or a
          tuple ``(h, c)`` for LSTM) used at nodes without predecessors.
        - **output:** :math:`(N, H)`; with ``return_state=True`` and LSTM a tuple
          ``(h, c)`` of :math:`(N, H)`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, cell: str = "lstm", bias: bool = True,
                 nonlinearity: str = "tanh", flow: str = "source_to_target", fused: bool = True,
                 check_finite: bool = True) -> None:
        super().__init__(schedule="topological", aggr="sum", flow=flow)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.cell_type = cell
        self.fused = fused
        self.check_finite = check_finite
        self.cell = make_cell(cell, in_channels, hidden_channels, bias=bias, nonlinearity=nonlinearity)

    def reset_parameters(self) -> None:
        self.cell.reset_parameters()

    @classmethod
    def from_torch(cls, module: Union[nn.RNN, nn.GRU, nn.LSTM], **kwargs) -> "ChainRNN":
        """A ChainRNN with the weights of a one-layer, one-direction ``nn.RNN``/``GRU``/``LSTM``."""
        name = cell_name(module)
        if isinstance(module, nn.RNNBase):
            if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
                raise ValueError(
                    "from_torch copies a 1-layer, unidirectional RNN without projection "
                    f"(got num_layers={module.num_layers}, bidirectional={module.bidirectional}, "
                    f"proj_size={getattr(module, 'proj_size', 0)}); stack ChainRNN layers for more"
                )
        nonlinearity = getattr(module, "nonlinearity", "tanh")
        layer = cls(module.input_size, module.hidden_size, cell=name, bias=module.bias,
                    nonlinearity=nonlinearity, **kwargs)
        suffix = "_l0" if isinstance(module, nn.RNNBase) else ""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if module.bias else [])
        with torch.no_grad():
            for param in names:
                source = getattr(module, param + suffix)
                getattr(layer.cell, param).data = source.detach().clone()
        return layer

    def forward(self, x: Tensor, edge_index: Tensor, level: Optional[Tensor] = None,
                initial_state: Optional[Union[Tensor, Tuple[Tensor, Tensor]]] = None,
                return_state: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Runs the cell over the graph; see the class docstring for shapes.

        Args:
            level (LongTensor, optional): precomputed levels for this layer's flow
                (``data.level``; ``data.reverse_level`` when ``flow="target_to_source"``).
            initial_state: state at nodes without predecessors (default zeros).
            return_state (bool): for LSTM also return the cell states ``c``.
        """
        self._check_input(x)
        num_nodes = x.size(0)
        check_edge_index(edge_index, num_nodes)
        initial = self._initial_state(initial_state, num_nodes, x)
        if num_nodes == 0:
            empty = x.new_zeros(0, self.hidden_channels)
            return (empty, empty.clone()) if return_state and self.cell_type == "lstm" else empty
        wants_cell_states = return_state and self.cell_type == "lstm"
        if self.fused and not wants_cell_states and self._is_chain_batch(edge_index, num_nodes):
            if level is not None:
                check_levels(level, self._oriented(edge_index), num_nodes)
            return self._fused_forward(x, self._oriented(edge_index), initial)
        inputs = {"x": x}
        if initial is not None:
            inputs.update(zip(("initial_h", "initial_c"), initial))
        state = self.propagate_topological(edge_index, num_nodes, level=level, node_inputs=inputs)
        if wants_cell_states:
            return state[0], state[1]
        return state[0]

    # ------------------------------------------------------------- the math
    def message(self, state_j: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        return state_j

    def update(self, aggr: Tuple[Tensor, ...], x: Tensor) -> Tuple[Tensor, ...]:
        if self.cell_type == "lstm":
            return self.cell(x, (aggr[0], aggr[1]))
        return (self.cell(x, aggr[0]),)

    def initial_message(self, num_nodes: int, x: Tensor, initial_h: Optional[Tensor] = None,
                        initial_c: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        if initial_h is not None:
            return (initial_h,) if initial_c is None else (initial_h, initial_c)
        zeros = x.new_zeros(num_nodes, self.hidden_channels)
        return (zeros,) * cell_state_size(self.cell_type)

    # ------------------------------------------------------------ fast path
    @staticmethod
    def _is_chain_batch(edge_index: Tensor, num_nodes: int) -> bool:
        if edge_index.size(1) == 0:
            return True
        in_degree = torch.bincount(edge_index[1], minlength=num_nodes)
        out_degree = torch.bincount(edge_index[0], minlength=num_nodes)
        return int(in_degree.max()) <= 1 and int(out_degree.max()) <= 1

    def _fused_forward(self, x: Tensor, edge_index: Tensor, initial: Optional[Tuple[Tensor, ...]]) -> Tensor:
        num_nodes = x.size(0)
        depth, root = forest_depth_and_root(edge_index[0].long(), edge_index[1].long(), num_nodes)
        packed_position, batch_sizes, roots_by_rank = _pack_chains(depth, root)
        packed_index = torch.empty_like(packed_position)
        packed_index[packed_position] = torch.arange(num_nodes, device=x.device)
        if initial is None:
            zeros = x.new_zeros(roots_by_rank.numel(), self.hidden_channels)
            start = (zeros,) * cell_state_size(self.cell_type)
        else:
            start = tuple(s.index_select(0, roots_by_rank) for s in initial)
        output = fused_chain_kernel(self.cell, x.index_select(0, packed_index), batch_sizes, start,
                                    self.training)[0]
        return output.index_select(0, packed_position)

    # ----------------------------------------------------------- validation
    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 2:
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"x must be a float tensor of shape [num_nodes, in_channels={self.in_channels}], got {shape}; "
                "embed token ids first (e.g. with torch.nn.Embedding)"
            )
        if x.size(1) != self.in_channels:
            raise ValueError(
                f"x has {x.size(1)} features per node, but this ChainRNN expects in_channels={self.in_channels}"
            )
        if not x.is_floating_point():
            raise ValueError(f"x must be floating point, got dtype {x.dtype}; embed token ids first")
        if self.check_finite and not bool(torch.isfinite(x).all()):
            bad = int((~torch.isfinite(x)).any(1).nonzero()[0, 0])
            raise ValueError(
                f"x has a NaN or inf value (first at node {bad}); it would spread to every node downstream. "
                "Clean the input, or pass check_finite=False to skip this check"
            )

    def _initial_state(self, initial_state, num_nodes: int, x: Tensor) -> Optional[Tuple[Tensor, ...]]:
        if initial_state is None:
            return None
        state = initial_state if isinstance(initial_state, tuple) else (initial_state,)
        expected = cell_state_size(self.cell_type)
        if len(state) != expected:
            raise ValueError(
                f"initial_state for cell={self.cell_type!r} must be "
                f"{'a tuple (h, c)' if expected == 2 else 'one tensor h'}, got {len(state)} tensor(s)"
            )
        for s in state:
            if s.shape != (num_nodes, self.hidden_channels):
                raise ValueError(
                    f"initial_state must have shape [num_nodes, hidden_channels]="
                    f"[{num_nodes}, {self.hidden_channels}], got {list(s.shape)} (rows of nodes with "
                    "predecessors are ignored; index a per-graph state with batch, e.g. h0[batch])"
                )
            if self.check_finite and not bool(torch.isfinite(s).all()):
                raise ValueError("initial_state has a NaN or inf value; pass check_finite=False to skip this check")
        return tuple(s.to(x.dtype) for s in state)

    def extra_repr(self) -> str:
        flow = f", flow={self.flow!r}" if self.flow != "source_to_target" else ""
        return f"{self.in_channels}, {self.hidden_channels}, cell={self.cell_type!r}{flow}"


def _pack_chains(depth: Tensor, root: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Time-major packed layout of a set of disjoint chains.

    Chains are sorted by length, longest first, as in ``PackedSequence``.

    Returns:
        ``(packed_position [N], batch_sizes [T] (CPU), roots_by_rank [B])``.
    """
    num_nodes = depth.numel()
    roots = (depth == 0).nonzero().view(-1)
    lengths = torch.bincount(root, minlength=num_nodes)[roots]
    rank_order = torch.argsort(lengths, descending=True, stable=True)
    rank = torch.empty(num_nodes, dtype=torch.long, device=depth.device)
    rank[roots[rank_order]] = torch.arange(roots.numel(), device=depth.device)
    longest = int(lengths.max())
    ends = torch.bincount(lengths - 1, minlength=longest)
    batch_sizes = torch.flip(torch.cumsum(torch.flip(ends, (0,)), 0), (0,))
    offsets = torch.cumsum(batch_sizes, 0) - batch_sizes
    packed_position = offsets[depth] + rank[root]
    return packed_position, batch_sizes.cpu(), roots[rank_order]
