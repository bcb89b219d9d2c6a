r"""ChainRNN: an RNN/GRU/LSTM cell run over a DAG by the topological schedule."""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from graphrnn.counts import is_int
from graphrnn.graph.plan import ChainPacking, TopologicalPlan

from .cells import cell_name, cell_state_size, fused_chain_kernel, hidden_step, input_gates, make_cell
from .recurrent import RecurrentMessagePassing, as_tuple
from .validation import (
    check_dtype,
    check_features,
    check_index_device,
    check_plan_type,
    refuse_levels_with_plan,
    refuse_tracing,
)

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
        in_channels (int): input features :math:`D` per node, or ``-1`` to take it from the
            first input (lazy, as in PyG; run one forward before building the optimizer).
        hidden_channels (int): state size :math:`H`.
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"``. (default: ``"lstm"``)
        bias (bool): use biases in the cell. (default: ``True``)
        nonlinearity (str): ``"tanh"`` or ``"relu"`` for ``cell="rnn"``.
        flow (str): ``"source_to_target"``, or ``"target_to_source"`` to run against
            the edges (e.g. a backward pass over a chain, or leaves-to-root on a tree).
        fused (bool): allow the fused kernel on plain chains. (default: ``True``)
        edge_types (list of int, optional): follow only edges of these types; e.g.
            ``ChainRNN(D, H, flow="target_to_source", edge_types=[PARENT])`` is a child-sum
            pass (leaves to root) over a :func:`~graphrnn.data.tree_graph`, ignoring its
            ``SIBLING`` edges. ``edge_type`` must then be passed to :meth:`forward`.
        check_finite (bool): raise on NaN/inf in ``x`` or ``initial_state``; a NaN
            would otherwise poison the state of every descendant. (default: ``True``)
        edge_dim (int, optional): width of ``edge_attr``; adds a learnable per-edge message
            :math:`\tilde{\mathbf{h}}_v = \sum_{u \to v} w_{uv} (\mathbf{h}_u + W_e \mathbf{e}_{uv})`
            (``W_e`` is ``layer.edge_lin``, no bias; the LSTM cell state passes unchanged).

    Shapes:
        - **input:** node features :math:`(N, D)`, edge indices :math:`(2, E)`,
          optional levels :math:`(N)`, optional initial state :math:`(N, H)` (or a
          tuple ``(h, c)`` for LSTM) used at nodes without predecessors, optional
          ``edge_weight`` :math:`(E)` and ``edge_attr`` :math:`(E, D_e)`.
        - **output:** :math:`(N, H)`; with ``return_state=True`` and LSTM a tuple
          ``(h, c)`` of :math:`(N, H)`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, cell: str = "lstm", bias: bool = True,
                 nonlinearity: str = "tanh", flow: str = "source_to_target", fused: bool = True,
                 check_finite: bool = True, edge_types: Optional[Sequence[int]] = None,
                 edge_dim: Optional[int] = None) -> None:
        super().__init__(schedule="topological", aggr="sum", flow=flow, edge_types=edge_types)
        if edge_dim is not None and (not is_int(edge_dim) or edge_dim < 1):
            raise ValueError(f"edge_dim must be a positive int (the width of edge_attr) or None, got {edge_dim!r}")
        in_channels, hidden_channels, edge_dim = (int(v) if is_int(v) else v for v in (in_channels, hidden_channels,
                                                                                      edge_dim))
        self.edge_dim = edge_dim
        self.edge_lin = nn.Linear(edge_dim, hidden_channels, bias=False) if edge_dim is not None else None
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.cell_type = cell
        self.fused = fused
        self.plan_chains = fused
        self.check_finite = check_finite
        lazy = in_channels == -1
        self.cell = make_cell(cell, 1 if lazy else in_channels, hidden_channels, bias=bias, nonlinearity=nonlinearity)
        if lazy:  # W_ih takes its width from the first input (as PyG's in_channels=-1)
            self.cell.weight_ih = nn.parameter.UninitializedParameter()

    def reset_parameters(self) -> None:
        if nn.parameter.is_lazy(self.cell.weight_ih):
            bound = 1.0 / math.sqrt(self.hidden_channels)
            for param in self.cell.parameters():
                if not nn.parameter.is_lazy(param):
                    nn.init.uniform_(param, -bound, bound)
        else:
            self.cell.reset_parameters()
        if self.edge_lin is not None:
            self.edge_lin.reset_parameters()

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
                return_state: bool = False, *, plan: Optional[TopologicalPlan] = None,
                edge_type: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None,
                edge_attr: Optional[Tensor] = None) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Runs the cell over the graph; see the class docstring for shapes.

        Args:
            level (LongTensor, optional): precomputed levels for this layer's flow
                (``data.level``; ``data.reverse_level`` when ``flow="target_to_source"``).
            initial_state: state at nodes without predecessors (default zeros).
            return_state (bool): for LSTM also return the cell states ``c``.
            plan (TopologicalPlan, optional): ``layer.plan(edge_index, num_nodes)``, built once
                (e.g. by :class:`~graphrnn.data.DataLoader`); the pass then reads no tensor value
                on the host.
            edge_type (LongTensor, optional): ``[E]``; needed when the layer follows ``edge_types``.
            edge_weight (Tensor, optional): ``[E]``; each message (``h``, and ``c`` for LSTM) is
                scaled by its edge's weight before the sum.
            edge_attr (Tensor, optional): ``[E, edge_dim]``, for a layer built with ``edge_dim``.
        """
        refuse_tracing(type(self).__name__)
        if isinstance(x, Tensor) and x.dim() == 2:
            self._materialize(x.size(1))
        self._check_input(x)
        check_index_device(edge_index, x)
        check_index_device(edge_type, x, "edge_type")
        refuse_levels_with_plan(level, plan)
        num_nodes = x.size(0)
        if plan is None:
            plan = self.plan(edge_index, num_nodes, level, edge_type=edge_type)
        else:
            check_plan_type(plan)
            plan.check(edge_index, num_nodes, self.flow, edge_type, self.edge_types)
        initial = self._initial_state(initial_state, num_nodes, x)
        wants_cell_states = return_state and self.cell_type == "lstm"
        if num_nodes == 0:  # the cell on no rows: empty states that still reach the weights, so a backward runs
            state = as_tuple(self.cell(x))
            return (state[0], state[1]) if wants_cell_states else state[0]
        edge_inputs = self._edge_inputs(edge_weight, edge_attr, edge_index.size(1), x)
        if self.fused and plan.chains is not None and not wants_cell_states and not edge_inputs:
            return self._fused_forward(x, plan.chains, initial)
        inputs = {}
        if initial is not None:
            inputs["initial"] = torch.cat(initial, 1) if len(initial) > 1 else initial[0]
        # W_ih x + b of every node, in level order: permuting x (D wide) costs less than the gates (4H wide)
        gates_x = input_gates(self.cell, x.index_select(0, plan.node_order))
        (state,) = self._run_plan(plan, None, inputs, edge_inputs, {"weight_hh_t": self.cell.weight_hh.t()},
                                  level_ordered={"gates_x": gates_x})
        if wants_cell_states:
            return state[:, :self.hidden_channels], state[:, self.hidden_channels:]
        return state[:, :self.hidden_channels] if self.cell_type == "lstm" else state

    # ------------------------------------------------------------- the math
    # The recurrent state is one tensor per node: h, or for LSTM [h | c] side by side (one gather,
    # one sum and one write per level instead of two).
    def message(self, state_j: Tuple[Tensor], edge_weight: Optional[Tensor] = None,
                edge_message: Optional[Tensor] = None) -> Tensor:
        state = state_j[0]
        if edge_message is not None:  # W_e e_uv, added to h (the first H columns)
            pad = state.size(1) - edge_message.size(1)
            state = state + (nn.functional.pad(edge_message, (0, pad)) if pad else edge_message)
        if edge_weight is None:
            return state
        return state * edge_weight.unsqueeze(-1)

    def _message_is_identity(self, edge_inputs: Dict[str, Tensor]) -> bool:
        return type(self).message is ChainRNN.message and not edge_inputs

    def update(self, aggr: Tuple[Tensor], gates_x: Tensor, weight_hh_t: Optional[Tensor] = None) -> Tensor:
        if self.cell_type != "lstm":
            return hidden_step(self.cell, gates_x, aggr, weight_hh_t)[0]
        hidden = self.hidden_channels
        state = aggr[0]
        h, c = hidden_step(self.cell, gates_x, state.split_with_sizes([hidden, hidden], 1), weight_hh_t)
        return torch.cat([h, c], 1)

    def initial_message(self, num_nodes: int, gates_x: Tensor, initial: Optional[Tensor] = None) -> Tensor:
        if initial is not None:
            return initial.to(gates_x.dtype)  # the layer's dtype, or bfloat16 gates under autocast
        return gates_x.new_zeros(num_nodes, self.hidden_channels * cell_state_size(self.cell_type))

    # ------------------------------------------------------------ lazy input width
    def _materialize(self, width: int) -> None:
        """Gives a lazy ``W_ih`` (``in_channels=-1``) the width of the first input, initialised as torch's cells."""
        weight = self.cell.weight_ih
        if not nn.parameter.is_lazy(weight):
            return
        if width < 1:  # a [N, 0] x would fix in_channels at 0 for good
            raise ValueError(f"x has {width} features per node; a lazy ChainRNN (in_channels=-1) takes its input "
                             "width from the first x, which needs at least one feature")
        reference = self.cell.weight_hh
        weight.materialize((reference.size(0), width), device=reference.device, dtype=reference.dtype)
        bound = 1.0 / math.sqrt(self.hidden_channels)
        with torch.no_grad():
            nn.init.uniform_(weight, -bound, bound)
        self.cell.input_size = self.in_channels = width

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A lazy layer takes ``W_ih``'s width from the checkpoint it loads."""
        saved = state_dict.get(f"{prefix}cell.weight_ih")
        if saved is not None and nn.parameter.is_lazy(self.cell.weight_ih):
            self._materialize(saved.size(1))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------ fast path
    def _fused_forward(self, x: Tensor, chains: ChainPacking, initial: Optional[Tuple[Tensor, ...]]) -> Tensor:
        if initial is None:
            zeros = x.new_zeros(chains.roots.numel(), self.hidden_channels)
            start = (zeros,) * cell_state_size(self.cell_type)
        else:
            start = tuple(s.index_select(0, chains.roots) for s in initial)
        output = fused_chain_kernel(self.cell, x.index_select(0, chains.packed_index), chains.batch_sizes, start,
                                    self.training, chains.equal_lengths)[0]
        return output.index_select(0, chains.packed_position)

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
        check_dtype(x, self.cell.weight_ih, "x", type(self).__name__)
        check_features(x, "x", self.check_finite)

    def _edge_inputs(self, edge_weight: Optional[Tensor], edge_attr: Optional[Tensor], num_edges: int,
                     x: Tensor) -> dict:
        inputs = {}
        if edge_weight is not None:
            inputs["edge_weight"] = self._check_edge_weight(edge_weight, num_edges, x)
        if edge_attr is not None or self.edge_lin is not None:
            if self.edge_lin is None:
                raise ValueError("edge_attr was given, but this ChainRNN has no edge_dim; build it with "
                                 "ChainRNN(..., edge_dim=edge_attr.size(1))")
            if not isinstance(edge_attr, Tensor) or edge_attr.dim() != 2 or edge_attr.shape != (num_edges,
                                                                                              self.edge_dim):
                shape = list(edge_attr.shape) if isinstance(edge_attr, Tensor) else type(edge_attr).__name__
                raise ValueError(f"edge_attr must have shape [E, edge_dim]=[{num_edges}, {self.edge_dim}], got {shape}")
            check_dtype(edge_attr, self.edge_lin.weight, "edge_attr", type(self).__name__)
            check_features(edge_attr, "edge_attr", self.check_finite)
            inputs["edge_message"] = self.edge_lin(edge_attr)
        return inputs

    def _check_edge_weight(self, edge_weight: Tensor, num_edges: int, x: Tensor) -> Tensor:
        if not isinstance(edge_weight, Tensor) or edge_weight.shape != (num_edges,):
            shape = list(edge_weight.shape) if isinstance(edge_weight, Tensor) else type(edge_weight).__name__
            raise ValueError(f"edge_weight must have shape [E]=[{num_edges}] (one weight per edge), got {shape}")
        if not edge_weight.is_floating_point():
            raise TypeError(f"edge_weight must be a float tensor, got dtype {edge_weight.dtype}")
        check_features(edge_weight, "edge_weight", self.check_finite)
        return edge_weight.to(x.dtype)

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
            if not isinstance(s, Tensor):
                raise TypeError(f"initial_state must be a tensor (or a tuple of tensors for LSTM), got "
                                f"{type(s).__name__}")
            check_dtype(s, self.cell.weight_hh, "initial_state", type(self).__name__)
            if s.shape != (num_nodes, self.hidden_channels):
                raise ValueError(
                    f"initial_state must have shape [num_nodes, hidden_channels]="
                    f"[{num_nodes}, {self.hidden_channels}], got {list(s.shape)} (rows of nodes with "
                    "predecessors are ignored; index a per-graph state with batch, e.g. h0[batch])"
                )
            check_features(s, "initial_state", self.check_finite)
        return state

    def extra_repr(self) -> str:
        flow = f", flow={self.flow!r}" if self.flow != "source_to_target" else ""
        types = f", edge_types={list(self.edge_types)}" if self.edge_types is not None else ""
        edges = f", edge_dim={self.edge_dim}" if self.edge_dim is not None else ""
        return f"{self.in_channels}, {self.hidden_channels}, cell={self.cell_type!r}{flow}{types}{edges}"
