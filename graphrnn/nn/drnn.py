r"""DRNN: the doubly-recurrent tree decoder (Alvarez-Melis & Jaakkola, ICLR 2017)."""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Tuple, Union

import torch
from torch import Tensor, nn
from torch_geometric.data.data import BaseData

from graphrnn.graph.checks import device_assert
from graphrnn.nn.one_line_repr import OneLineRepr

from .attention import Attention
from .cells import cell_state_size
from .chain import ChainRNN
from .tree_plan import PLAN_KEY, SenderPlan, TreePlan, TreePlanner, build_tree_plan, tree_links
from .validation import check_dtype, check_features, check_on_device, check_positive_ints

__all__ = ["DRNN", "DRNNOutput", "tree_links", "TreePlan", "build_tree_plan"]

RootState = Union[Tensor, Tuple[Tensor, ...]]


class DRNNOutput(NamedTuple):
    """Teacher-forced predictions of :class:`DRNN`, one row per node."""

    label_logits: Tensor  #: ``[N, V]``
    has_children_logits: Tensor  #: ``[N]``, logit of :math:`p^a_i`
    has_next_sibling_logits: Tensor  #: ``[N]``, logit of :math:`p^f_i`


class _Frontier(NamedTuple):
    """Nodes of the current generation wavefront (one row per node, across all trees)."""

    tree: Tensor
    depth: Tensor
    position: Tensor  # index among its siblings
    parent: Tensor  # local id of the parent in its tree (-1 for a root)
    ancestral: Tuple[Tensor, ...]
    fraternal: Tuple[Tensor, ...]


class DRNN(OneLineRepr, nn.Module):
    r"""Doubly-recurrent tree decoder over ``PARENT`` and ``SIBLING`` edges.

    Every node :math:`i` of an ordered tree keeps an *ancestral* state, passed down
    the ``PARENT`` edge from its parent :math:`p(i)`, and a *fraternal* state, passed
    along the ``SIBLING`` edge from its previous sibling :math:`s(i)`:

    .. math::
        \mathbf{h}^a_i = g^a\big(\mathbf{h}^a_{p(i)}, \mathbf{x}_{p(i)}\big), \qquad
        \mathbf{h}^f_i = g^f\big(\mathbf{h}^f_{s(i)}, \mathbf{x}_{s(i)}\big),

    where :math:`\mathbf{x}` is the label embedding, :math:`g^a, g^f` are LSTM (or
    GRU / Elman) cells, the root's ancestral state is ``root_state`` (e.g. an
    encoder's summary) and a first child's fraternal state is zero. Both are combined
    into the predictive state, which decides the topology and the label:

    .. math::
        \mathbf{h}^{pred}_i &= \tanh\big(U^f \mathbf{h}^f_i + U^a \mathbf{h}^a_i\big), \\
        p^a_i &= \sigma\big(\mathbf{u}^a \cdot \mathbf{h}^{pred}_i\big) \ \text{(has children)}, \qquad
        p^f_i = \sigma\big(\mathbf{u}^f \cdot \mathbf{h}^{pred}_i\big) \ \text{(has a next sibling)}, \\
        \mathbf{o}_i &= \mathrm{softmax}\big(W \mathbf{h}^{pred}_i + \alpha_i \mathbf{v}^a
        + \varphi_i \mathbf{v}^f\big),

    with :math:`\alpha_i, \varphi_i \in \{0, 1\}` the gold topology in training
    (teacher forcing) and the model's own decisions in :meth:`generate`.

    With ``attention`` (an addition to the paper's model), the output layers read an
    attentional state instead of :math:`\mathbf{h}^{pred}_i`: a context over the memory
    :math:`M_{t(i)}` of node :math:`i`'s tree (e.g. the encoder's states of its source),

    .. math::
        \mathbf{c}_i = \mathrm{attn}\big(\mathbf{h}^{pred}_i, M_{t(i)}\big), \qquad
        \tilde{\mathbf{h}}_i = \tanh\big(W_c [\mathbf{h}^{pred}_i; \mathbf{c}_i] + \mathbf{b}_c\big),

    (:class:`~graphrnn.nn.Attention`, ``"dot"`` or ``"mlp"``). The recurrences are unchanged.

    The two recurrences do not read each other, so :meth:`forward` runs them as two
    passes of the shared topological schedule (:class:`~graphrnn.nn.ChainRNN`, the
    attributes ``ancestral`` and ``fraternal``): :math:`g^a` over the ``PARENT`` edges,
    one batched cell call per depth across all trees of a batch, and :math:`g^f` over
    the ``SIBLING`` chains (torch's fused kernel). Each cell runs only on the nodes whose
    output someone reads (nodes with children; nodes with a next sibling). This is the
    same math as one wavefront pass over both edge types (levels = depth + sibling
    position) with half the cell work per wavefront and fewer, larger steps.
    The graph is a (batch of) :func:`graphrnn.data.tree_graph`.
    Parameters are initialised as torch's cells and ``nn.Linear`` do; the offsets
    :math:`\mathbf{v}^a, \mathbf{v}^f` start at zero.

    Args:
        num_labels (int): label vocabulary size :math:`V`.
        hidden_channels (int): state size :math:`H`.
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"`` for :math:`g^a` and :math:`g^f`.
            (default: ``"lstm"``)
        embedding_dim (int, optional): label embedding size :math:`D` (default :math:`H`).
        topology_offsets (bool): add :math:`\alpha_i \mathbf{v}^a + \varphi_i \mathbf{v}^f`
            to the label logits. (default: ``True``)
        dropout (float): dropout on :math:`\mathbf{h}^{pred}` (or :math:`\tilde{\mathbf{h}}`)
            before the output layers, in training only (teacher forcing). (default: ``0.0``)
        attention (str, optional): ``None``, ``"dot"`` or ``"mlp"``. (default: ``None``)
        memory_channels (int, optional): width :math:`M` of a memory slot (default :math:`H`).

    Shapes:
        - **input:** a batch of trees with ``y`` :math:`(N)`, ``edge_index``
          :math:`(2, E)`, ``edge_type`` :math:`(E)`, ``has_children`` and
          ``has_next_sibling`` :math:`(N)`, ``batch`` :math:`(N)` (absent for one
          tree); ``root_state`` :math:`(B, H)` or a tuple ``(h, c)`` of :math:`(B, H)`
          for LSTM (``c`` defaults to zeros); with attention, ``memory`` :math:`(B, S, M)`
          and ``memory_mask`` :math:`(B, S)` (``True`` for real slots; padded per tree).
        - **output:** :class:`DRNNOutput` with :math:`(N, V)`, :math:`(N)`, :math:`(N)`.
    """

    def __init__(self, num_labels: int, hidden_channels: int, cell: str = "lstm",
                 embedding_dim: Optional[int] = None, topology_offsets: bool = True, dropout: float = 0.0,
                 attention: Optional[str] = None, memory_channels: Optional[int] = None) -> None:
        super().__init__()
        optional = {name: value for name, value in (("embedding_dim", embedding_dim),
                                                    ("memory_channels", memory_channels)) if value is not None}
        num_labels, hidden_channels = check_positive_ints("DRNN", num_labels=num_labels,
                                                          hidden_channels=hidden_channels, **optional)[:2]
        embedding_dim, memory_channels = (None if v is None else int(v) for v in (embedding_dim, memory_channels))
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dropout = dropout
        self.num_labels = num_labels
        self.hidden_channels = hidden_channels
        self.cell_type = cell
        self.embedding_dim = embedding_dim or hidden_channels
        self.topology_offsets = topology_offsets
        self.embedding = nn.Embedding(num_labels, self.embedding_dim)
        self.ancestral = ChainRNN(self.embedding_dim, hidden_channels, cell=cell, check_finite=False)
        self.fraternal = ChainRNN(self.embedding_dim, hidden_channels, cell=cell, check_finite=False)
        self.predict_ancestral = nn.Linear(hidden_channels, hidden_channels)
        self.predict_fraternal = nn.Linear(hidden_channels, hidden_channels, bias=False)
        self.has_children = nn.Linear(hidden_channels, 1)
        self.has_next_sibling = nn.Linear(hidden_channels, 1)
        self.label = nn.Linear(hidden_channels, num_labels)
        self.offset_ancestral = nn.Parameter(torch.zeros(num_labels))
        self.offset_fraternal = nn.Parameter(torch.zeros(num_labels))
        self.memory_channels = memory_channels or hidden_channels
        self.attention = Attention(attention, hidden_channels, self.memory_channels) if attention else None
        self.attend = nn.Linear(hidden_channels + self.memory_channels, hidden_channels) if attention else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.embedding, self.ancestral, self.fraternal, self.predict_ancestral,
                       self.predict_fraternal, self.has_children, self.has_next_sibling, self.label):
            module.reset_parameters()
        if self.attention is not None:
            self.attention.reset_parameters()
            self.attend.reset_parameters()
        nn.init.zeros_(self.offset_ancestral)
        nn.init.zeros_(self.offset_fraternal)

    # ---------------------------------------------------------------- teacher forcing
    def planners(self) -> dict:
        """``{"drnn_plan": planner}`` for ``graphrnn.data.DataLoader(..., plans=model.planners())``: batches
        then carry their :class:`~graphrnn.nn.tree_plan.TreePlan` and a teacher-forced step reads nothing
        on the host."""
        return {PLAN_KEY: TreePlanner()}

    def forward(self, *args, **kwargs) -> DRNNOutput:
        """Teacher-forced pass; see the class docstring. Two forms:

        - ``model(labels, edge_index, edge_type, root_state, has_children, has_next_sibling, *,
          batch=None, plan=None, memory=None, memory_mask=None)`` over tensors, as a PyG layer;
        - ``model(data, root_state, memory=None, memory_mask=None)`` over a batch of
          :func:`~graphrnn.data.tree_graph` trees (``data.y`` are the labels; a batch from
          ``graphrnn.data.DataLoader(..., plans=model.planners())`` carries its plan).
        """
        if args and isinstance(args[0], BaseData):
            return self._forward_batch(*args, **kwargs)
        return self._forward_tensors(*args, **kwargs)

    def _forward_batch(self, data, root_state: RootState, memory: Optional[Tensor] = None,
                       memory_mask: Optional[Tensor] = None) -> DRNNOutput:
        missing = [name for name in ("y", "edge_index", "has_children", "has_next_sibling")
                   if getattr(data, name, None) is None]
        if missing:
            raise ValueError(f"the batch lacks {missing}: build each tree with graphrnn.data.tree_graph (it sets the "
                             "labels y, the typed edges and the topology targets has_children, has_next_sibling)")
        batch = getattr(data, "batch", None)
        plan = getattr(data, PLAN_KEY, None)
        if plan is None:
            num_trees = data.num_graphs if batch is not None and hasattr(data, "num_graphs") else None
            plan = build_tree_plan(data.edge_index, getattr(data, "edge_type", None), data.y.numel(), batch, num_trees)
            carried = False
        else:
            carried = True
        return self._forward_tensors(data.y, data.edge_index, getattr(data, "edge_type", None), root_state,
                                     data.has_children, data.has_next_sibling, batch=batch, plan=plan, memory=memory,
                                     memory_mask=memory_mask, _carried=carried)

    def _forward_tensors(self, labels: Tensor, edge_index: Tensor, edge_type: Tensor, root_state: RootState,
                         has_children: Tensor, has_next_sibling: Tensor, *, batch: Optional[Tensor] = None,
                         plan: Optional[TreePlan] = None, memory: Optional[Tensor] = None,
                         memory_mask: Optional[Tensor] = None, _carried: Optional[bool] = None) -> DRNNOutput:
        carried = plan is not None if _carried is None else _carried
        check_on_device("DRNN", self.embedding.weight.device, labels=labels, edge_index=edge_index, edge_type=edge_type,
                        has_children=has_children, has_next_sibling=has_next_sibling, batch=batch,
                        memory_mask=memory_mask)
        labels = self._check_labels(labels, on_device=carried)
        num_nodes = labels.numel()
        if plan is None:
            plan = build_tree_plan(edge_index, edge_type, num_nodes, batch)
        elif not isinstance(plan, TreePlan):
            raise TypeError(f"plan must be a TreePlan (from model.planners() or build_tree_plan), got "
                            f"{type(plan).__name__}")
        else:
            plan.check(edge_index, edge_type, num_nodes)
        _check_targets(has_children, has_next_sibling, num_nodes, plan)
        root = self._root_state(root_state, plan.num_trees)
        memory, memory_mask = self._check_memory(memory, memory_mask, plan.num_trees, on_device=carried)
        x = self.embedding(labels)
        ancestral, from_parent = _sent_states(self.ancestral, x, plan.ancestral, root)
        no_sibling = tuple(s.new_zeros(1, self.hidden_channels) for s in root)
        fraternal, from_sibling = _sent_states(self.fraternal, x, plan.fraternal, no_sibling)
        # U^a h^a + U^f h^f, with U applied to the distinct states before they are copied to their receivers
        mixed = (self.predict_ancestral(ancestral).index_select(0, from_parent)
                 + self.predict_fraternal(fraternal).index_select(0, from_sibling))
        output = self.output_state(torch.tanh(mixed), plan.tree, memory, memory_mask)
        predictive = nn.functional.dropout(output, self.dropout, self.training)
        return DRNNOutput(self._label_logits(predictive, has_children, has_next_sibling),
                          self.has_children(predictive).squeeze(-1),
                          self.has_next_sibling(predictive).squeeze(-1))

    def predictive(self, ancestral: Tensor, fraternal: Tensor) -> Tensor:
        r""":math:`\mathbf{h}^{pred} = \tanh(U^f \mathbf{h}^f + U^a \mathbf{h}^a)` from the two hidden states."""
        return torch.tanh(self.predict_ancestral(ancestral) + self.predict_fraternal(fraternal))

    def output_state(self, predictive: Tensor, tree: Tensor, memory: Optional[Tensor],
                     memory_mask: Optional[Tensor]) -> Tensor:
        r"""What the output layers read: :math:`\mathbf{h}^{pred}`, or with attention
        :math:`\tilde{\mathbf{h}} = \tanh(W_c [\mathbf{h}^{pred}; \mathbf{c}] + \mathbf{b}_c)` with the
        context :math:`\mathbf{c}` over the memory of each row's tree (``tree`` ``[n]``)."""
        if self.attention is None:
            return predictive
        context = self.attention(predictive, memory, memory_mask, index=tree)
        return torch.tanh(self.attend(torch.cat([predictive, context], -1)))

    def _label_logits(self, predictive: Tensor, alpha: Tensor, phi: Tensor) -> Tensor:
        logits = self.label(predictive)
        if self.topology_offsets:
            logits = (logits + alpha.to(logits.dtype).unsqueeze(-1) * self.offset_ancestral
                      + phi.to(logits.dtype).unsqueeze(-1) * self.offset_fraternal)
        return logits

    def _cell_step(self, cell: nn.Module, x: Tensor, state: Tuple[Tensor, ...]) -> Tuple[Tensor, ...]:
        if self.cell_type == "lstm":
            return tuple(cell(x, (state[0], state[1])))
        return (cell(x, state[0]),)

    # ---------------------------------------------------------------------- loss
    @staticmethod
    def loss(output: DRNNOutput, data, label_weight: float = 1.0, topology_weight: float = 1.0,
             reduction: str = "mean") -> Tensor:
        r"""Label cross-entropy plus the two topology binary cross-entropies.

        .. math::
            \mathcal{L} = \lambda_\ell \, \mathrm{CE}(\mathbf{o}_i, y_i)
            + \lambda_t \big(\mathrm{BCE}(p^a_i, \alpha_i) + \mathrm{BCE}(p^f_i, \varphi_i)\big),

        averaged over the nodes (``reduction="mean"``) or summed (``"sum"``).
        """
        bce = nn.functional.binary_cross_entropy_with_logits
        labels = nn.functional.cross_entropy(output.label_logits, data.y, reduction=reduction)
        topology = (bce(output.has_children_logits, data.has_children.to(output.has_children_logits.dtype),
                        reduction=reduction)
                    + bce(output.has_next_sibling_logits,
                          data.has_next_sibling.to(output.has_next_sibling_logits.dtype), reduction=reduction))
        return label_weight * labels + topology_weight * topology

    # ---------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, root_state: RootState, max_depth: int, max_children: int, max_nodes: Optional[int] = None,
                 sample: bool = False, generator: Optional[torch.Generator] = None,
                 root_label: Optional[int] = None, memory: Optional[Tensor] = None,
                 memory_mask: Optional[Tensor] = None) -> List[Tuple[List[int], List[int]]]:
        r"""Decodes one tree per row of ``root_state``, top-down and breadth-first.

        All trees of the batch grow together: each step takes the current wavefront
        (every node, across all trees, whose parent and previous sibling are decided),
        predicts its topology :math:`\alpha, \varphi` (greedy: probability > 0.5, or
        sampled) and then its label given them, and creates the first children and
        next siblings of the next wavefront.

        Args:
            root_state: ``[B, H]`` or ``(h, c)``; one tree per row.
            max_depth (int): nodes at depth ``max_depth`` (root at 0) get no children.
            max_children (int): at most this many children per node.
            max_nodes (int, optional): stop growing a tree once it has this many nodes.
            sample (bool): sample topology and labels instead of taking the most likely.
            generator (torch.Generator, optional): the random source when sampling.
            root_label (int, optional): fix the label of every root (e.g. ``ROOT``).
            memory, memory_mask: each tree's memory, as in :meth:`forward` (attention only).

        Returns:
            per tree ``(labels, parents)`` as lists; ``parents[0] = -1`` and every
            parent index is smaller than its children's; siblings are in order.
        """
        if max_depth < 0 or max_children < 1 or (max_nodes is not None and max_nodes < 1):
            raise ValueError(f"need max_depth >= 0, max_children >= 1 and max_nodes >= 1 (or None), got "
                             f"{max_depth}, {max_children} and {max_nodes}")
        if root_label is not None and not 0 <= root_label < self.num_labels:
            raise ValueError(f"root_label {root_label} is outside the vocabulary of {self.num_labels} labels")
        root = self._root_state(root_state, None)
        num_trees = root[0].size(0)
        memory_and_mask = self._check_memory(memory, memory_mask, num_trees)
        device = root[0].device
        arange = torch.arange(num_trees, device=device)
        frontier = _Frontier(arange, torch.zeros_like(arange), torch.zeros_like(arange), torch.full_like(arange, -1),
                             root, tuple(torch.zeros_like(s) for s in root))
        count = torch.zeros(num_trees, dtype=torch.long, device=device)
        records = []
        while frontier.tree.numel() > 0:
            local = _rank_in_tree(frontier.tree, num_trees) + count[frontier.tree]
            count += torch.bincount(frontier.tree, minlength=num_trees)
            alpha, phi, labels = self._decide(frontier, count, max_depth, max_children, max_nodes, sample,
                                              generator, root_label, num_trees, memory_and_mask)
            records.append(torch.stack([frontier.tree, local, frontier.parent, labels]))
            frontier = self._grow(frontier, local, alpha, phi, self.embedding(labels))
        return _split_trees(torch.cat(records, 1), num_trees)

    def _decide(self, frontier: _Frontier, count: Tensor, max_depth: int, max_children: int,
                max_nodes: Optional[int], sample: bool, generator, root_label: Optional[int], num_trees: int,
                memory_and_mask: Tuple[Optional[Tensor], Optional[Tensor]]):
        predictive = self.output_state(self.predictive(frontier.ancestral[0], frontier.fraternal[0]),
                                       frontier.tree, *memory_and_mask)
        alpha = self._bernoulli(self.has_children(predictive).squeeze(-1), sample, generator)
        phi = self._bernoulli(self.has_next_sibling(predictive).squeeze(-1), sample, generator)
        alpha &= frontier.depth < max_depth
        phi &= (frontier.position < max_children - 1) & (frontier.depth > 0)
        if max_nodes is not None:
            planned = _cumsum_in_tree(alpha.long() + phi.long(), frontier.tree, num_trees)
            within = count[frontier.tree] + planned <= max_nodes
            alpha, phi = alpha & within, phi & within
        logits = self._label_logits(predictive, alpha, phi)
        if sample:
            labels = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).view(-1)
        else:
            labels = logits.argmax(-1)
        if root_label is not None:
            labels = torch.where(frontier.depth == 0, torch.full_like(labels, root_label), labels)
        return alpha, phi, labels

    @staticmethod
    def _bernoulli(logits: Tensor, sample: bool, generator) -> Tensor:
        if sample:
            return torch.bernoulli(torch.sigmoid(logits), generator=generator).bool()
        return logits > 0

    def _grow(self, frontier: _Frontier, local: Tensor, alpha: Tensor, phi: Tensor, x: Tensor) -> _Frontier:
        """The next wavefront: first children of nodes with ``alpha``, next siblings of nodes with ``phi``."""
        kids = alpha.nonzero().view(-1)
        sibs = phi.nonzero().view(-1)
        child_ancestral = self._cell_step(self.ancestral.cell, x[kids], tuple(s[kids] for s in frontier.ancestral))
        sib_fraternal = self._cell_step(self.fraternal.cell, x[sibs], tuple(s[sibs] for s in frontier.fraternal))
        return _Frontier(
            tree=torch.cat([frontier.tree[kids], frontier.tree[sibs]]),
            depth=torch.cat([frontier.depth[kids] + 1, frontier.depth[sibs]]),
            position=torch.cat([torch.zeros_like(kids), frontier.position[sibs] + 1]),
            parent=torch.cat([local[kids], frontier.parent[sibs]]),
            ancestral=tuple(torch.cat([c, s[sibs]]) for c, s in zip(child_ancestral, frontier.ancestral)),
            fraternal=tuple(torch.cat([torch.zeros_like(c), f]) for c, f in zip(child_ancestral, sib_fraternal)),
        )

    # ---------------------------------------------------------------- validation
    def _check_labels(self, labels: Tensor, on_device: bool = False) -> Tensor:
        if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.dtype not in (torch.int64, torch.int32):
            raise ValueError("labels (data.y) must be a LongTensor [N] of label ids; build the trees with tree_graph")
        if on_device:  # no host read: an asynchronous assert on an accelerator
            if labels.numel():
                device_assert(((labels >= 0) & (labels < self.num_labels)).all(),
                              f"a label is outside the vocabulary of num_labels={self.num_labels} (map unknown "
                              "labels to <unk> first)")
            return labels.long()
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= self.num_labels):
            bad = int(labels.min()) if int(labels.min()) < 0 else int(labels.max())
            raise ValueError(f"label {bad} is outside the vocabulary of num_labels={self.num_labels} "
                             "(map unknown labels to <unk> first)")
        return labels.long()

    def _check_memory(self, memory: Optional[Tensor], mask: Optional[Tensor],
                      num_trees: int, on_device: bool = False) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        if self.attention is None:
            if memory is not None or mask is not None:
                raise ValueError("this DRNN has no attention, so it takes no memory; build it with attention='dot' "
                                 "or 'mlp' to attend over one")
            return None, None
        if memory is None or mask is None:
            raise ValueError(f"this DRNN attends ({self.attention.kind!r}): pass memory [num_trees, S, "
                             f"{self.memory_channels}] and memory_mask [num_trees, S]")
        check_dtype(memory, self.label.weight, "memory", type(self).__name__)
        if memory.dim() != 3 or memory.size(0) != num_trees or memory.size(2) != self.memory_channels:
            raise ValueError(f"memory must have shape [num_trees={num_trees}, S, memory_channels="
                             f"{self.memory_channels}], got {list(memory.shape)}")
        check_features(memory, "memory", skippable=False)
        if mask.shape != memory.shape[:2] or mask.dtype != torch.bool:
            raise ValueError(f"memory_mask must be a bool tensor of shape {list(memory.shape[:2])}, got "
                             f"{mask.dtype} {list(mask.shape)}")
        if num_trees and on_device:
            device_assert(mask.any(1).all(), "every tree needs at least one real memory slot (a row of memory_mask "
                                             "is all False)")
        elif num_trees and not bool(mask.any(1).all()):
            raise ValueError("every tree needs at least one real memory slot (a row of memory_mask is all False)")
        return memory, mask

    def _root_state(self, root_state: RootState, num_trees: Optional[int]) -> Tuple[Tensor, ...]:
        state = root_state if isinstance(root_state, tuple) else (root_state,)
        expected = cell_state_size(self.cell_type)
        if len(state) not in (1, expected):
            raise ValueError(f"root_state for cell={self.cell_type!r} must be h or (h, c), got {len(state)} tensors")
        rows = state[0].size(0) if isinstance(state[0], Tensor) and state[0].dim() == 2 else None
        for s in state:
            if not isinstance(s, Tensor):
                raise TypeError(f"root_state must be a tensor [num_trees, H] or a tuple (h, c), got {type(s).__name__}")
            check_dtype(s, self.label.weight, "root_state", type(self).__name__)
            if s.dim() != 2 or s.size(1) != self.hidden_channels or s.size(0) != rows:
                raise ValueError(f"root_state must have shape [num_trees, hidden_channels={self.hidden_channels}], "
                                 f"got {list(s.shape)}")
            check_features(s, "root_state", skippable=False)
        if num_trees is not None and rows != num_trees:
            raise ValueError(f"root_state has {rows} rows but the batch holds {num_trees} trees; pass one row per tree")
        if len(state) < expected:
            state = (state[0], torch.zeros_like(state[0]))
        return state

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Reads checkpoints written before the cells moved into ``ChainRNN`` passes
        (``ancestral.weight_ih`` is now ``ancestral.cell.weight_ih``, and so on)."""
        for recurrence in ("ancestral", "fraternal"):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                old, new = f"{prefix}{recurrence}.{name}", f"{prefix}{recurrence}.cell.{name}"
                if old in state_dict and new not in state_dict:
                    state_dict[new] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        offsets = "" if self.topology_offsets else ", topology_offsets=False"
        dropout = f", dropout={self.dropout}" if self.dropout else ""
        dropout += f", attention={self.attention.kind!r}" if self.attention is not None else ""
        return (f"{self.num_labels}, {self.hidden_channels}, cell={self.cell_type!r}, "
                f"embedding_dim={self.embedding_dim}{offsets}{dropout}")


# -------------------------------------------------------------------- helpers
def _sent_states(recurrence: ChainRNN, x: Tensor, plan: SenderPlan, start: Tuple[Tensor, ...]) -> Tuple[Tensor, Tensor]:
    r"""The states one kind of edge delivers, and which one every node receives.

    The cell runs once per *sender* (a node some node links to: a parent, or a previous
    sibling), by ``recurrence`` over the forest of senders given by ``plan`` (the shared
    topological schedule, or the fused kernel where the senders form chains); a sender
    without a link starts from its row of ``start`` (``[K, H]`` tensors, ``(h, c)`` for LSTM).

    Returns:
        ``(states [S + K, H], received [N])``: the senders' outputs followed by ``start[0]``, and
        the row of ``states`` that is each node's :math:`\mathbf{h}`.
    """
    sent = recurrence(x.index_select(0, plan.senders), plan.edges,
                      initial_state=tuple(s.index_select(0, plan.start_row) for s in start), plan=plan.plan)
    return torch.cat([sent, start[0].to(sent.dtype)]), plan.received


def _check_targets(has_children: Tensor, has_next_sibling: Tensor, num_nodes: int, plan: TreePlan) -> None:
    """Shapes on the host; values with :func:`device_assert`: each target is 0/1 and agrees with the tree
    (``has_children`` marks the plan's parents, ``has_next_sibling`` the nodes with a next sibling). With
    ``topology_offsets`` the targets enter the logits, so a stale or foreign target would silently change them."""
    for name, target, recurrence in (("has_children", has_children, plan.ancestral),
                                     ("has_next_sibling", has_next_sibling, plan.fraternal)):
        if not isinstance(target, Tensor) or target.shape != (num_nodes,):
            shape = list(target.shape) if isinstance(target, Tensor) else type(target).__name__
            raise ValueError(f"{name} must be a tensor [N]=[{num_nodes}] of 0/1 topology targets, got {shape}; "
                             "tree_graph sets it")
        if target.is_complex():
            raise ValueError(f"{name} must hold 0/1 topology targets, got dtype {target.dtype}")
        if num_nodes:
            truth = torch.zeros(num_nodes, dtype=torch.bool, device=target.device).index_fill_(
                0, recurrence.senders.to(target.device), True)
            device_assert((((target == 0) | (target == 1)) & ((target != 0) == truth)).all(),
                          f"{name} must be 0/1 and match the tree's edges ({name}[i] = 1 exactly where node i has "
                          f"{'a child' if recurrence is plan.ancestral else 'a next sibling'}); recompute it with "
                          "tree_graph")


def _group_start(tree: Tensor, num_trees: int) -> Tuple[Tensor, Tensor]:
    """Stable order of the rows by tree, and each tree's first position in that order."""
    order = torch.argsort(tree, stable=True)
    sizes = torch.bincount(tree, minlength=num_trees)
    return order, torch.cumsum(sizes, 0) - sizes


def _rank_in_tree(tree: Tensor, num_trees: int) -> Tensor:
    """Position of every row among the rows of its tree (in row order)."""
    order, start = _group_start(tree, num_trees)
    rank = torch.empty_like(tree)
    rank[order] = torch.arange(tree.numel(), device=tree.device) - start[tree[order]]
    return rank


def _cumsum_in_tree(values: Tensor, tree: Tensor, num_trees: int) -> Tensor:
    """Inclusive running sum of ``values`` over the rows of each tree (in row order)."""
    order, start = _group_start(tree, num_trees)
    running = torch.cumsum(values[order], 0)
    before = torch.cat([running.new_zeros(1), running])[start]
    out = torch.empty_like(values)
    out[order] = running - before[tree[order]]
    return out


def _split_trees(records: Tensor, num_trees: int) -> List[Tuple[List[int], List[int]]]:
    """``[4, M]`` rows (tree, local id, parent, label) -> per tree ``(labels, parents)`` by local id."""
    tree, local, parent, label = records
    order = torch.argsort(tree * (int(local.max()) + 1) + local)
    sizes = torch.bincount(tree, minlength=num_trees).tolist()
    labels, parents = label[order].tolist(), parent[order].tolist()
    out, start = [], 0
    for size in sizes:
        out.append((labels[start:start + size], parents[start:start + size]))
        start += size
    return out
