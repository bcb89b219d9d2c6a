r"""Tree-LSTMs (Tai, Socher & Manning, ACL 2015) on the shared recurrent base:
:class:`ChildSumTreeLSTM` and :class:`NaryTreeLSTM`."""
from __future__ import annotations

from typing import Dict, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Linear

from graphrnn.counts import is_int
from graphrnn.graph.checks import device_assert

from ._layer_inputs import check_edge_vector, check_edges, check_node_features
from .recurrent import RecurrentMessagePassing
from .schedule import TopologicalPlan
from .validation import check_positive_ints

__all__ = ["ChildSumTreeLSTM", "NaryTreeLSTM", "child_positions"]

#: What to do about a child position outside 0..N-1, or two children in one position.
_FAN_OUT_ADVICE = "binarise the tree, raise N, or use ChildSumTreeLSTM for unbounded fan-out"
_SLOT_ADVICE = "give each child of a node its own child_index"


class _TreeLSTM(RecurrentMessagePassing):
    """What both Tree-LSTMs share: the input projection ``W_iouf``, the leaves-to-root
    schedule over parent -> child edges, and the memory-cell update."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(schedule="topological", aggr="sum", flow="target_to_source")
        in_channels, out_channels = check_positive_ints(type(self).__name__, in_channels=in_channels,
                                                        out_channels=out_channels)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.W_iouf = Linear(in_channels, 4 * out_channels)

    def reset_parameters(self) -> None:
        for module in self.children():
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, plan: Optional[TopologicalPlan] = None,
                return_cell: bool = False, **edge_arguments) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        name = type(self).__name__
        check_node_features(x, self.in_channels, name, self.W_iouf.weight)
        check_edges(edge_index, x.size(0), name, x)
        hidden = self.out_channels
        projected = self.W_iouf(x)
        if x.size(0) == 0:  # no rows: empty states that still reach the weights, so a backward runs
            h, c = self._memory_cell(projected[:, :3 * hidden], projected[:, 3 * hidden:])
            return (h, c) if return_cell else h
        node_inputs = {"wiou": projected[:, :3 * hidden], "wf": projected[:, 3 * hidden:]}
        h, c = self.propagate_topological(edge_index, x.size(0), plan=plan, node_inputs=node_inputs,
                                          edge_inputs=self._edge_inputs(edge_index, **edge_arguments))
        return (h, c) if return_cell else h

    def _edge_inputs(self, edge_index: Tensor) -> Dict[str, Tensor]:
        return {}

    def _memory_cell(self, iou: Tensor, forgotten: Tensor) -> Tuple[Tensor, Tensor]:
        """:math:`\\mathbf{c} = \\mathbf{i} \\odot \\mathbf{u} + \\sum_k \\mathbf{f}_k \\odot \\mathbf{c}_k`,
        :math:`\\mathbf{h} = \\mathbf{o} \\odot \\tanh \\mathbf{c}` from the gate pre-activations."""
        i, o, u = iou.chunk(3, dim=-1)
        c = torch.sigmoid(i) * torch.tanh(u) + forgotten
        return torch.sigmoid(o) * torch.tanh(c), c

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"


class ChildSumTreeLSTM(_TreeLSTM):
    r"""The Child-Sum Tree-LSTM from `"Improved Semantic Representations From
    Tree-Structured Long Short-Term Memory Networks" <https://arxiv.org/abs/1503.00075>`_
    (Tai et al., ACL 2015), run leaves to root.

    For a node :math:`j` with children :math:`C(j)`:

    .. math::
        \begin{aligned}
        \tilde{\mathbf{h}}_j &= \textstyle\sum_{k \in C(j)} \mathbf{h}_k, \\
        \mathbf{i}_j &= \sigma\big(W^{(i)} \mathbf{x}_j + U^{(i)} \tilde{\mathbf{h}}_j + \mathbf{b}^{(i)}\big), &
        \mathbf{o}_j &= \sigma\big(W^{(o)} \mathbf{x}_j + U^{(o)} \tilde{\mathbf{h}}_j + \mathbf{b}^{(o)}\big), \\
        \mathbf{u}_j &= \tanh\big(W^{(u)} \mathbf{x}_j + U^{(u)} \tilde{\mathbf{h}}_j + \mathbf{b}^{(u)}\big), &
        \mathbf{f}_{jk} &= \sigma\big(W^{(f)} \mathbf{x}_j + U^{(f)} \mathbf{h}_k + \mathbf{b}^{(f)}\big), \\
        \mathbf{c}_j &= \mathbf{i}_j \odot \mathbf{u}_j
            + \textstyle\sum_{k \in C(j)} \mathbf{f}_{jk} \odot \mathbf{c}_k, &
        \mathbf{h}_j &= \mathbf{o}_j \odot \tanh(\mathbf{c}_j),
        \end{aligned}

    with one forget gate per child. Leaves have :math:`\tilde{\mathbf{h}} = \mathbf{0}` and no
    forget term. The parameters are ``W_iouf`` (``Linear(in, 4 * out)``, rows in the gate order
    i, o, u, f, holding all the biases), ``U_iou`` (``Linear(out, 3 * out, bias=False)``, order
    i, o, u) and ``U_f`` (``Linear(out, out, bias=False)``).

    ``edge_index`` holds parent -> child edges (for a :func:`~graphrnn.data.tree_graph`, its
    ``PARENT`` edges: ``edge_index[:, edge_type == PARENT]``); the layer runs against them
    (``flow="target_to_source"``), one batched step per depth level, over any number of trees
    in a batch. Any DAG works: a node with two parents sends its state to both.

    Args:
        in_channels (int): input features :math:`D` per node.
        out_channels (int): state size :math:`H`.

    Shapes:
        - **input:** node features :math:`(N, D)`, parent -> child edges :math:`(2, E)`,
          optional ``plan`` from :meth:`plan` (reused across calls on the same graph).
        - **output:** :math:`\mathbf{h}` of every node :math:`(N, H)`; with
          ``return_cell=True`` also the memory cells :math:`\mathbf{c}` :math:`(N, H)`.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels)
        self.U_iou = Linear(out_channels, 3 * out_channels, bias=False)
        self.U_f = Linear(out_channels, out_channels, bias=False)

    def forward(self, x: Tensor, edge_index: Tensor, plan: Optional[TopologicalPlan] = None,
                return_cell: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Runs the layer leaves to root; see the class docstring."""
        return super().forward(x, edge_index, plan=plan, return_cell=return_cell)

    def message(self, state_j: Tuple[Tensor, Tensor], wf_i: Tensor) -> Tuple[Tensor, Tensor]:
        # edge child k -> parent j: state_j is the child's (h_k, c_k), wf_i the parent's W_f x_j + b_f
        h_child, c_child = state_j
        forget = torch.sigmoid(wf_i + self.U_f(h_child))
        return h_child, forget * c_child

    def update(self, aggr: Tuple[Tensor, Tensor], wiou: Tensor) -> Tuple[Tensor, Tensor]:
        h_sum, forgotten = aggr
        return self._memory_cell(wiou + self.U_iou(h_sum), forgotten)

    def initial_message(self, num_nodes: int, wiou: Tensor) -> Tuple[Tensor, Tensor]:
        zeros = wiou.new_zeros(num_nodes, self.out_channels)
        return zeros, zeros


class NaryTreeLSTM(_TreeLSTM):
    r"""The N-ary Tree-LSTM from `"Improved Semantic Representations From
    Tree-Structured Long Short-Term Memory Networks" <https://arxiv.org/abs/1503.00075>`_
    (Tai et al., ACL 2015): ordered children, at most :math:`N` per node, each position
    :math:`\ell` with its own weights, run leaves to root.

    For a node :math:`j` whose child in position :math:`\ell` has state
    :math:`(\mathbf{h}_{j\ell}, \mathbf{c}_{j\ell})` (zeros where position :math:`\ell` is empty):

    .. math::
        \begin{aligned}
        \mathbf{i}_j &= \sigma\big(W^{(i)} \mathbf{x}_j + \textstyle\sum_{\ell=1}^N U^{(i)}_\ell
            \mathbf{h}_{j\ell} + \mathbf{b}^{(i)}\big), &
        \mathbf{o}_j &= \sigma\big(W^{(o)} \mathbf{x}_j + \textstyle\sum_{\ell} U^{(o)}_\ell
            \mathbf{h}_{j\ell} + \mathbf{b}^{(o)}\big), \\
        \mathbf{u}_j &= \tanh\big(W^{(u)} \mathbf{x}_j + \textstyle\sum_{\ell} U^{(u)}_\ell
            \mathbf{h}_{j\ell} + \mathbf{b}^{(u)}\big), &
        \mathbf{f}_{jk} &= \sigma\big(W^{(f)} \mathbf{x}_j + \textstyle\sum_{\ell} U^{(f)}_{k\ell}
            \mathbf{h}_{j\ell} + \mathbf{b}^{(f)}\big), \\
        \mathbf{c}_j &= \mathbf{i}_j \odot \mathbf{u}_j + \textstyle\sum_{\ell} \mathbf{f}_{j\ell}
            \odot \mathbf{c}_{j\ell}, &
        \mathbf{h}_j &= \mathbf{o}_j \odot \tanh(\mathbf{c}_j).
        \end{aligned}

    Parameters: ``W_iouf`` (``Linear(in, 4 * out)``, gate order i, o, u, f; :math:`W^{(f)}`
    and :math:`\mathbf{b}^{(f)}` are shared by the :math:`N` forget gates, as in the paper),
    ``U_iou`` (``Linear(N * out, 3 * out, bias=False)``: the input is
    :math:`[\mathbf{h}_{j1}; \dots; \mathbf{h}_{jN}]`) and ``U_f``
    (``Linear(N * out, N * out, bias=False)``: output block :math:`k` is the forget gate of
    position :math:`k`).

    **Child positions.** ``edge_index`` holds parent -> child edges. By default the
    position of a child is its rank among its parent's children ordered by node index
    (``0`` for the smallest index), which is the sibling order of
    :func:`~graphrnn.data.tree_graph`. Pass ``child_index`` (``[E]``, one position in
    ``0..N-1`` per edge) to set positions explicitly, e.g. to leave a slot empty. A node
    with more than :math:`N` children, or two children in one position, raises a
    ``ValueError``.

    Args:
        in_channels (int): input features :math:`D` per node.
        out_channels (int): state size :math:`H`.
        N (int): the branching factor :math:`N` (``2`` for binarised trees).

    Shapes:
        - **input:** node features :math:`(N_{nodes}, D)`, parent -> child edges
          :math:`(2, E)`, optional ``child_index`` :math:`(E)`, optional ``plan``.
        - **output:** :math:`\mathbf{h}` :math:`(N_{nodes}, H)`; with ``return_cell=True``
          also :math:`\mathbf{c}` :math:`(N_{nodes}, H)`.
    """

    def __init__(self, in_channels: int, out_channels: int, N: int) -> None:
        super().__init__(in_channels, out_channels)
        if not is_int(N) or N < 1:
            raise ValueError(f"NaryTreeLSTM: N (children per node) must be a positive int, got {N!r}")
        N, out_channels = int(N), self.out_channels
        self.N = N
        self.U_iou = Linear(N * out_channels, 3 * out_channels, bias=False)
        self.U_f = Linear(N * out_channels, N * out_channels, bias=False)

    def forward(self, x: Tensor, edge_index: Tensor, child_index: Optional[Tensor] = None,
                plan: Optional[TopologicalPlan] = None,
                return_cell: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Runs the layer leaves to root; see the class docstring for ``child_index``."""
        return super().forward(x, edge_index, plan=plan, return_cell=return_cell, child_index=child_index)

    def _edge_inputs(self, edge_index: Tensor, child_index: Optional[Tensor] = None) -> Dict[str, Tensor]:
        child_index = check_edge_vector(child_index, edge_index.size(1), "child_index", "NaryTreeLSTM",
                                        edge_index, "edge_index")
        given = child_index is not None
        if not given:
            child_index = child_positions(edge_index)  # ranks: distinct per parent by construction
        self._check_positions(edge_index, child_index, check_distinct=given)
        # one-hot by comparison: F.one_hot reads the indices' range on the host
        positions = torch.arange(self.N, device=child_index.device)
        return {"slot": (child_index.unsqueeze(1) == positions).to(self.W_iouf.weight.dtype)}

    def _check_positions(self, edge_index: Tensor, child_index: Tensor, check_distinct: bool = True) -> None:
        """Positions in ``0..N-1``, one child per position (``check_distinct``): checked on the device,
        without reading values on the host (:func:`~graphrnn.graph.checks.device_assert`; on the CPU
        the error names the node)."""
        if child_index.numel() == 0:
            return
        device_assert(((child_index >= 0) & (child_index < self.N)).all(),
                      f"NaryTreeLSTM(N={self.N}): a child position is outside 0..{self.N - 1}; {_FAN_OUT_ADVICE}",
                      lambda: self._position_message(edge_index, child_index))
        if not check_distinct:
            return
        key = (edge_index[0].long() * self.N + child_index).sort().values
        device_assert((key[1:] != key[:-1]).all(),
                      f"NaryTreeLSTM: a node has two children in the same position; {_SLOT_ADVICE}",
                      lambda: self._duplicate_message(edge_index, child_index))

    def _position_message(self, edge_index: Tensor, child_index: Tensor) -> str:
        bad = int(((child_index < 0) | (child_index >= self.N)).nonzero()[0, 0])
        return (f"NaryTreeLSTM(N={self.N}): the child {int(edge_index[1, bad])} of node {int(edge_index[0, bad])} "
                f"is in position {int(child_index[bad])}, outside 0..{self.N - 1}; {_FAN_OUT_ADVICE}")

    def _duplicate_message(self, edge_index: Tensor, child_index: Tensor) -> str:
        parent = int(edge_index[0, _first_duplicate(edge_index[0].long() * self.N + child_index)])
        return f"NaryTreeLSTM: node {parent} has two children in the same position; {_SLOT_ADVICE}"

    def message(self, state_j: Tuple[Tensor, Tensor], slot: Tensor) -> Tuple[Tensor, Tensor]:
        # the child's (h, c) placed in its position's block of an [E, N * H] message
        return tuple((slot.unsqueeze(-1) * s.unsqueeze(1)).flatten(1) for s in state_j)

    def update(self, aggr: Tuple[Tensor, Tensor], wiou: Tensor, wf: Tensor) -> Tuple[Tensor, Tensor]:
        h_children, c_children = aggr
        forget = torch.sigmoid(wf.repeat(1, self.N) + self.U_f(h_children))
        forgotten = (forget * c_children).view(-1, self.N, self.out_channels).sum(1)
        return self._memory_cell(wiou + self.U_iou(h_children), forgotten)

    def initial_message(self, num_nodes: int, wiou: Tensor) -> Tuple[Tensor, Tensor]:
        zeros = wiou.new_zeros(num_nodes, self.N * self.out_channels)
        return zeros, zeros

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, N={self.N}"


def child_positions(edge_index: Tensor) -> Tensor:
    """The rank of each edge's child among its parent's children, by node index: ``LongTensor [E]``.

    For parent -> child edges ``(0, 5), (0, 2), (1, 3)`` this is ``[1, 0, 0]``. Computed on the
    edges' device without reading a value on the host (no host-device sync).
    """
    parent, child = edge_index.long()
    order = torch.argsort(child, stable=True)
    order = order[torch.argsort(parent[order], stable=True)]
    grouped = parent[order]
    sorted_position = torch.arange(order.numel(), device=order.device)
    starts_group = torch.ones_like(grouped, dtype=torch.bool)
    starts_group[1:] = grouped[1:] != grouped[:-1]
    group_start = torch.where(starts_group, sorted_position, 0).cummax(0).values
    rank = torch.empty_like(order)
    rank[order] = sorted_position - group_start
    return rank


def _first_duplicate(key: Tensor) -> int:
    order = torch.argsort(key, stable=True)
    same = (key[order][1:] == key[order][:-1]).nonzero()
    return int(order[int(same[0, 0]) + 1])
