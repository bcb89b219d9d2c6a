r"""DAGNN (Thost & Chen, ICLR 2021) on the shared recurrent base: :class:`DAGNNConv`, :class:`DAGNN`."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import GRUCell, Linear
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.utils import softmax

from graphrnn.graph.checks import device_assert

from ._layer_inputs import check_edge_vector, check_edges, check_node_features
from .recurrent import RecurrentMessagePassing
from .schedule import TopologicalPlan
from .validation import check_index_device, check_num_graphs, check_positive_ints

__all__ = ["DAGNNConv", "DAGNN", "READOUTS"]

READOUTS = (None, "max", "mean", "sum")
_POOLS = {"max": global_max_pool, "mean": global_mean_pool, "sum": global_add_pool}
_READOUT_NODES = ("all", "sinks")


class DAGNNConv(RecurrentMessagePassing):
    r"""One DAGNN layer in one direction, from `"Directed Acyclic Graph Neural Networks"
    <https://arxiv.org/abs/2101.07965>`_ (Thost & Chen, ICLR 2021): every node, after all its
    predecessors :math:`\mathcal{P}(v)`, attends over their states and runs a GRU,

    .. math::
        \alpha_{vu} = \mathrm{softmax}_{u \in \mathcal{P}(v)}\Big(\mathbf{w}^\top
            \big[\mathbf{x}_v ; \mathbf{h}_u + \mathbf{e}_{uv}\big] + b\Big), \qquad
        \mathbf{m}_v = \sum_{u \in \mathcal{P}(v)} \alpha_{vu} \mathbf{h}_u, \qquad
        \mathbf{h}_v = \mathrm{GRU}(\mathbf{x}_v, \mathbf{m}_v),

    with the GRU's input :math:`\mathbf{x}_v` (the node's features, or its state in the layer
    below) and hidden state :math:`\mathbf{m}_v` (zero at nodes without predecessors). As in
    the authors' layer (``AttnConv``), the query is :math:`\mathbf{x}_v`, the key is the
    predecessor's state plus, with edge types, a learnt embedding
    :math:`\mathbf{e}_{uv} = W_e \, \mathrm{onehot}(r_{uv}) + \mathbf{b}_e` of the edge type.
    (The query term :math:`\mathbf{w}_x^\top \mathbf{x}_v` is the same for every predecessor of
    :math:`v`, so it cancels in the softmax; it is kept as in the paper.)

    Args:
        in_channels (int): input features :math:`D` per node.
        hidden_channels (int): state size :math:`H`.
        num_edge_types (int): edge types :math:`R`; with :math:`R > 1` pass ``edge_type``. (default: ``1``)
        reverse (bool): run against the edges (successors instead of predecessors). (default: ``False``)

    Shapes:
        - **input:** node features :math:`(N, D)`, edges :math:`(2, E)`, optional ``edge_type``
          :math:`(E)`, optional ``plan`` from :meth:`plan`.
        - **output:** node states :math:`(N, H)`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_edge_types: int = 1, reverse: bool = False) -> None:
        super().__init__(schedule="topological", aggr="sum", num_edge_types=num_edge_types,
                         flow="target_to_source" if reverse else "source_to_target")
        in_channels, hidden_channels = check_positive_ints(type(self).__name__, in_channels=in_channels,
                                                           hidden_channels=hidden_channels)
        num_edge_types = self.num_edge_types  # checked and made an int by the base
        self.in_channels, self.hidden_channels, self.reverse = in_channels, hidden_channels, reverse
        self.attention = Linear(in_channels + hidden_channels, 1)
        self.edge_embedding = Linear(num_edge_types, hidden_channels) if num_edge_types > 1 else None
        self.cell = GRUCell(in_channels, hidden_channels)

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None,
                plan: Optional[TopologicalPlan] = None) -> Tensor:
        """Node states :math:`(N, H)`; see the class docstring."""
        check_node_features(x, self.in_channels, type(self).__name__, self.cell.weight_ih)
        check_edges(edge_index, x.size(0), type(self).__name__, x)
        if x.size(0) == 0:  # the cell on no rows: an empty state that still reaches the weights (a backward runs)
            return self.cell(x, x.new_zeros(0, self.hidden_channels))
        node = torch.arange(x.size(0), device=x.device)
        self._pass_size = x.size(0)  # the softmax's segment count, so that it reads no .max() per level
        try:
            return self.propagate_topological(edge_index, x.size(0), plan=plan, edge_type=edge_type,
                                              node_inputs={"x": x, "node": node})[0]
        finally:
            self._pass_size = None

    def message(self, state_j: Tuple[Tensor], x_i: Tensor, node_i: Tensor,
                edge_type: Optional[Tensor] = None) -> Tuple[Tensor]:
        h = state_j[0]
        key = h
        if self.edge_embedding is not None:
            types = nn.functional.one_hot(edge_type, self.num_edge_types).to(h.dtype)
            key = h + self.edge_embedding(types)
        size = getattr(self, "_pass_size", None)
        weight = softmax(self.attention(torch.cat([x_i, key], dim=-1)), node_i, num_nodes=size)  # per target
        return (weight * h,)

    def update(self, aggr: Tuple[Tensor], x: Tensor) -> Tuple[Tensor]:
        return (self.cell(x, aggr[0]),)

    def initial_message(self, num_nodes: int, x: Tensor) -> Tuple[Tensor]:
        return (x.new_zeros(num_nodes, self.hidden_channels),)

    def __repr__(self) -> str:
        reverse = ", reverse=True" if self.reverse else ""
        types = f", num_edge_types={self.num_edge_types}" if self.num_edge_types > 1 else ""
        return f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}{types}{reverse})"


class DAGNN(nn.Module):
    r"""DAGNN from `"Directed Acyclic Graph Neural Networks" <https://arxiv.org/abs/2101.07965>`_
    (Thost & Chen, ICLR 2021): :math:`L` stacked :class:`DAGNNConv` layers along the edges and,
    with ``bidirectional=True``, :math:`L` more against them (their own weights, fed the same
    input features), then an optional readout.

    Layer :math:`\ell` reads the states of layer :math:`\ell - 1` as node inputs
    (:math:`\mathbf{h}^0_v = \mathbf{x}_v`):

    .. math::
        \mathbf{h}^\ell_v = \mathrm{GRU}^\ell\Big(\mathbf{h}^{\ell-1}_v,\ \sum_{u \in \mathcal{P}(v)}
        \alpha^\ell_{vu} \mathbf{h}^\ell_u\Big), \qquad
        \alpha^\ell_{vu} = \mathrm{softmax}_u\big(\mathbf{w}_\ell^\top [\mathbf{h}^{\ell-1}_v ;
        \mathbf{h}^\ell_u + \mathbf{e}^\ell_{uv}] + b_\ell\big).

    The node representation is :math:`\mathbf{z}_v = [\mathbf{x}_v ; \mathbf{h}^1_v ; \dots ;
    \mathbf{h}^L_v\,(; \overleftarrow{\mathbf{h}}^1_v ; \dots ; \overleftarrow{\mathbf{h}}^L_v)]`
    (the input is left out with ``include_input=False``). The readout, as in the paper,
    pools it per graph: ``readout_nodes="sinks"`` pools each direction over its target nodes
    (nodes without successors in that direction: sinks forward, sources backward), each
    with the input, and concatenates the directions; ``"all"`` pools :math:`\mathbf{z}_v` over
    every node (the authors' default in their code). One plan per direction is built (or
    given) once and reused by every layer.

    Args:
        in_channels (int): input features :math:`D`.
        hidden_channels (int): state size :math:`H` of every layer.
        num_layers (int): layers :math:`L` per direction. (default: ``2``)
        bidirectional (bool): add the reverse pass. (default: ``False``)
        num_edge_types (int): edge types (an embedding added to the attention keys). (default: ``1``)
        readout (str, optional): ``None`` (node representations), ``"max"``, ``"mean"`` or ``"sum"``.
        readout_nodes (str): ``"sinks"`` or ``"all"``. (default: ``"sinks"``)
        include_input (bool): put :math:`\mathbf{x}_v` into the representation. (default: ``True``)

    Shapes:
        - **input:** :math:`(N, D)` features, :math:`(2, E)` edges, optional ``edge_type`` :math:`(E)`,
          ``batch`` :math:`(N)` and ``num_graphs`` :math:`B` (for the readout), ``plan`` /
          ``reverse_plan`` (from :meth:`plans`); given the plans and ``num_graphs``, a forward
          reads no tensor value on the host.
        - **output:** :math:`(N, C)` without readout, else :math:`(B, C)`, with
          :math:`C` = ``out_channels``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2, bidirectional: bool = False,
                 num_edge_types: int = 1, readout: Optional[str] = None, readout_nodes: str = "sinks",
                 include_input: bool = True) -> None:
        super().__init__()
        in_channels, hidden_channels, num_layers, num_edge_types = check_positive_ints(
            "DAGNN", in_channels=in_channels, hidden_channels=hidden_channels, num_layers=num_layers,
            num_edge_types=num_edge_types)
        if readout not in READOUTS:
            raise ValueError(f"DAGNN: readout must be one of {READOUTS}, got {readout!r}")
        if readout_nodes not in _READOUT_NODES:
            raise ValueError(f"DAGNN: readout_nodes must be one of {_READOUT_NODES}, got {readout_nodes!r}")
        self.in_channels, self.hidden_channels, self.num_layers = in_channels, hidden_channels, num_layers
        self.bidirectional, self.num_edge_types = bidirectional, num_edge_types
        self.readout, self.readout_nodes, self.include_input = readout, readout_nodes, include_input
        self.forward_layers = self._stack(num_edge_types, reverse=False)
        self.backward_layers = self._stack(num_edge_types, reverse=True) if bidirectional else None

    def _stack(self, num_edge_types: int, reverse: bool) -> nn.ModuleList:
        sizes = [self.in_channels] + [self.hidden_channels] * (self.num_layers - 1)
        return nn.ModuleList(DAGNNConv(size, self.hidden_channels, num_edge_types, reverse) for size in sizes)

    @property
    def out_channels(self) -> int:
        directions = 2 if self.bidirectional else 1
        inputs = self.in_channels if self.include_input else 0
        if self.readout is not None and self.readout_nodes == "sinks":
            return directions * (inputs + self.num_layers * self.hidden_channels)
        return inputs + directions * self.num_layers * self.hidden_channels

    def reset_parameters(self) -> None:
        for layer in self.modules():
            if isinstance(layer, DAGNNConv):
                layer.reset_parameters()

    def plans(self, edge_index: Tensor, num_nodes: Optional[int] = None) -> Tuple[TopologicalPlan, ...]:
        """The forward (and reverse) plans, to pass as ``plan=`` / ``reverse_plan=`` on the same graph."""
        plans = (self.forward_layers[0].plan(edge_index, num_nodes),)
        return plans + ((self.backward_layers[0].plan(edge_index, num_nodes),) if self.bidirectional else ())

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None,
                batch: Optional[Tensor] = None, plan: Optional[TopologicalPlan] = None,
                reverse_plan: Optional[TopologicalPlan] = None, num_graphs: Optional[int] = None) -> Tensor:
        """Node representations, or graph representations with a readout; see the class docstring.

        ``num_graphs`` (``data.num_graphs``) is the number of graphs :math:`B` the readout pools
        into; without it the readout reads ``batch.max()`` on the host. Given it and the plans,
        a forward reads no tensor value on the host."""
        check_node_features(x, self.in_channels, "DAGNN", next(self.parameters()))
        check_edges(edge_index, x.size(0), "DAGNN", x)
        edge_type = check_edge_vector(edge_type, edge_index.size(1), "edge_type", "DAGNN", x)
        batch = self._check_batch(batch, x, edge_index)
        if self.readout is not None or num_graphs is not None:
            num_graphs = self._check_num_graphs(num_graphs, batch)
        if plan is None and x.size(0) > 0:
            plan = self.forward_layers[0].plan(edge_index, x.size(0))
        directions = [self._pass(self.forward_layers, x, edge_index, edge_type, plan)]
        if self.bidirectional:
            if reverse_plan is None and x.size(0) > 0:
                reverse_plan = self.backward_layers[0].plan(edge_index, x.size(0))
            directions.append(self._pass(self.backward_layers, x, edge_index, edge_type, reverse_plan))
        inputs = [x] if self.include_input else []
        if self.readout is None or self.readout_nodes == "all":
            z = torch.cat(inputs + [h for states in directions for h in states], dim=-1)
            return z if self.readout is None else _POOLS[self.readout](z, batch, size=num_graphs)
        return torch.cat([self._pool_ends(torch.cat(inputs + states, dim=-1), edge_index[d], batch, num_graphs)
                          for d, states in enumerate(directions)], dim=-1)

    def _pass(self, layers: nn.ModuleList, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor],
              plan: Optional[TopologicalPlan]) -> List[Tensor]:
        states, inputs = [], x
        for layer in layers:
            inputs = layer(inputs, edge_index, edge_type=edge_type, plan=plan)
            states.append(inputs)
        return states

    def _pool_ends(self, z: Tensor, outgoing: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        """Pools ``z`` over the nodes that have no outgoing edge (``outgoing`` = the edges' tails),
        with a mask rather than a boolean index (which would read the number of ends on the host)."""
        is_end = torch.ones(z.size(0), 1, dtype=z.dtype, device=z.device).index_fill_(0, outgoing.long(), 0)
        if self.readout == "max":
            return global_max_pool(z.masked_fill(is_end == 0, float("-inf")), batch, size=num_graphs)
        summed = global_add_pool(z * is_end, batch, size=num_graphs)
        if self.readout == "sum":
            return summed
        return summed / global_add_pool(is_end, batch, size=num_graphs).clamp_min(1)

    @staticmethod
    def _check_num_graphs(num_graphs: Optional[int], batch: Tensor) -> int:
        """The readout's number of graphs: given (checked against ``batch`` asynchronously), or read on the host."""
        if num_graphs is None:
            return int(batch.max()) + 1 if batch.numel() else 0
        check_num_graphs(num_graphs, "DAGNN")
        if batch.numel():
            device_assert((batch < num_graphs).all(),
                          f"DAGNN: batch holds a graph id >= num_graphs={num_graphs}; pass data.num_graphs")
        return num_graphs

    def _check_batch(self, batch: Optional[Tensor], x: Tensor, edge_index: Tensor) -> Tensor:
        """Shape on the host; ids >= 0 and no edge between two graphs with :func:`device_assert` (an edge across
        graphs put one graph's sink into another's readout, silently)."""
        if batch is None:
            return torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        if not isinstance(batch, Tensor) or batch.shape != (x.size(0),) or batch.is_floating_point():
            shape = list(batch.shape) if isinstance(batch, Tensor) else type(batch).__name__
            raise ValueError(f"DAGNN: batch must be a LongTensor [N]=[{x.size(0)}] of graph ids, got {shape}")
        check_index_device(batch, x, "batch")
        batch = batch.long()
        if batch.numel():
            device_assert((batch >= 0).all(), "DAGNN: batch holds a negative graph id")
        if edge_index.numel():
            device_assert((batch.index_select(0, edge_index[0]) == batch.index_select(0, edge_index[1])).all(),
                          "DAGNN: batch disagrees with the edges: an edge joins two graphs; an edge stays inside one "
                          "graph (batch with graphrnn.data.DataLoader)")
        return batch

    def __repr__(self) -> str:
        parts = [f"{self.in_channels}, {self.hidden_channels}, num_layers={self.num_layers}"]
        if self.bidirectional:
            parts.append("bidirectional=True")
        if self.num_edge_types > 1:
            parts.append(f"num_edge_types={self.num_edge_types}")
        if self.readout is not None:
            parts.append(f"readout={self.readout!r}, readout_nodes={self.readout_nodes!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
