r"""The recurrent message-passing layer every model of graphrnn is built on."""
from __future__ import annotations

import inspect
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from .levels import check_edge_index
from .schedule import TopologicalPlan, build_topological_plan, check_edge_type

__all__ = ["RecurrentMessagePassing", "SynchronousStep", "State"]

#: A recurrent state: one tensor (e.g. ``h``) or a tuple of tensors (e.g. ``(h, c)``),
#: each with the node (or edge) dimension first.
State = Union[Tensor, Tuple[Tensor, ...]]

SCHEDULES = ("topological", "synchronous")
#: Aggregations whose value on a single message is that message.
_IDENTITY_ON_ONE = frozenset({"sum", "add", "mean", "max", "min", "mul"})


class SynchronousStep(NamedTuple):
    """The node states (and edge states, if any) after one synchronous step."""

    state: State
    edge_state: Optional[State]


def as_tuple(state: State) -> Tuple[Tensor, ...]:
    return state if isinstance(state, tuple) else (state,)


def like_input(state: Tuple[Tensor, ...], template: State) -> State:
    """Returns ``state`` as a single tensor if ``template`` was one, else as a tuple."""
    return state if isinstance(template, tuple) else state[0]


class RecurrentMessagePassing(MessagePassing):
    r"""Base class of recurrent message passing: it owns the *schedule*, a subclass the *math*.

    Two schedules are provided.

    **Topological** (``schedule="topological"``) on a DAG: every node :math:`v` is
    updated once, after all its predecessors :math:`u \to v`,

    .. math::
        \mathbf{m}_v = \bigoplus_{u \to v} \phi\big(\mathbf{s}_u, \mathbf{x}_u, r_{uv}\big),
        \qquad
        \mathbf{s}_v = \gamma\big(\mathbf{m}_v, \mathbf{x}_v\big),

    where :math:`\phi` is :meth:`message`, :math:`\bigoplus` is :meth:`aggregate`
    (``aggr``, sum by default; per edge type when ``aggregate_per_type=True``), and
    :math:`\gamma` is :meth:`update` (the recurrent cell). Nodes without predecessors
    receive :meth:`initial_message` instead (zeros, or a given initial state). Nodes
    are grouped in topological levels and a whole level, across all graphs of a
    mini-batch, is one batched call: the cost is :math:`O(L)` batched calls for
    :math:`L` levels, and memory :math:`O(N H)` plus what autograd saves.
    With ``flow="target_to_source"`` every edge is reversed (e.g. leaves to root).

    **Synchronous** (``schedule="synchronous"``, ``num_steps=T``) on any graph,
    cycles included: for :math:`t = 0, \dots, T-1` all edges and nodes update in
    parallel,

    .. math::
        \mathbf{e}_{uv}^{(t+1)} = \psi_t\big(\mathbf{e}_{uv}^{(t)}, \mathbf{s}_u^{(t)},
        \mathbf{s}_v^{(t)}, \mathbf{x}_u, \mathbf{x}_v\big), \quad
        \mathbf{s}_v^{(t+1)} = \gamma_t\Big(\bigoplus_{u \to v}
        \phi_t\big(\mathbf{s}_u^{(t)}, \mathbf{e}_{uv}^{(t+1)}, \dots\big), \mathbf{s}_v^{(t)},
        \mathbf{x}_v\Big),

    with an optional recurrent edge state :math:`\mathbf{e}` (:meth:`edge_update`).
    Weights are tied across steps by default; with ``tie_weights=False`` a subclass
    keeps one set per step and picks it with :meth:`step_module`.

    Hooks receive keyword arguments filtered by their signatures: ``state_j``
    (source states), ``state_i`` (target states, synchronous only), ``edge_state``,
    ``edge_type``, ``step`` (the level or iteration), node inputs ``<name>_j`` /
    ``<name>_i`` gathered for the edges' sources / targets, and ``<name>`` for the
    updated nodes; see each hook.

    Args:
        schedule (str): ``"topological"`` or ``"synchronous"``.
        num_steps (int, optional): number of synchronous steps :math:`T`.
        tie_weights (bool): share weights across synchronous steps. (default: ``True``)
        num_edge_types (int): number of edge types :math:`R`; ``edge_type`` is
            required when :math:`R > 1`. (default: ``1``)
        aggregate_per_type (bool): aggregate messages separately per edge type, giving
            the update ``[n, R, ...]`` tensors, so a node can keep one state per type.
        aggr (str): aggregation, as in :class:`~torch_geometric.nn.MessagePassing`.
        flow (str): ``"source_to_target"`` or ``"target_to_source"`` (reverse every edge).
    """

    def __init__(self, schedule: str = "topological", num_steps: Optional[int] = None,
                 tie_weights: bool = True, num_edge_types: int = 1,
                 aggregate_per_type: bool = False, aggr: str = "sum",
                 flow: str = "source_to_target") -> None:
        super().__init__(aggr=aggr, flow=flow, node_dim=0)
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if schedule == "synchronous" and (num_steps is None or num_steps < 1):
            raise ValueError(f"schedule='synchronous' needs num_steps >= 1, got {num_steps}")
        if num_edge_types < 1:
            raise ValueError(f"num_edge_types must be >= 1, got {num_edge_types}")
        self.schedule = schedule
        self.num_steps = num_steps
        self.tie_weights = tie_weights
        self.num_edge_types = num_edge_types
        self.aggregate_per_type = aggregate_per_type
        self._hook_params = {name: _accepted_params(getattr(self, name))
                             for name in ("message", "update", "edge_update", "initial_message")}

    def _set_jittable_templates(self, raise_on_error: bool = False) -> None:
        """Skipped: the schedules never call PyG's one-shot ``propagate``, whose code template
        PyG would otherwise regenerate (parsing this class's source) for every new layer."""

    # ------------------------------------------------------------------ hooks
    def message(self, state_j: Tuple[Tensor, ...]) -> State:
        r"""Message along each edge :math:`u \to v` from the source state (default: the state)."""
        return state_j

    def update(self, aggr: Tuple[Tensor, ...]) -> State:
        r"""New state of the updated nodes from their aggregated messages (the cell)."""
        return aggr

    def initial_message(self, num_nodes: int) -> State:
        r"""Aggregated message of nodes without predecessors (topological schedule)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement initial_message(num_nodes, ...) for nodes "
            "without predecessors (e.g. a zero state)"
        )

    def edge_update(self, edge_state: Tuple[Tensor, ...]) -> State:
        r"""Next recurrent edge state (synchronous schedule with ``edge_state``)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no edge state: implement edge_update")

    def step_module(self, modules: Sequence[torch.nn.Module], step: int) -> torch.nn.Module:
        """The module to use at ``step``: the shared one if weights are tied, else ``modules[step]``."""
        return modules[0] if self.tie_weights else modules[step]

    # ------------------------------------------------------------ topological
    def plan(self, edge_index: Tensor, num_nodes: Optional[int] = None,
             level: Optional[Tensor] = None) -> TopologicalPlan:
        """The level-by-level plan of this layer's flow (precompute it to reuse across layers)."""
        return build_topological_plan(self._oriented(edge_index), num_nodes, level)

    def propagate_topological(self, edge_index: Tensor, num_nodes: Optional[int] = None, *,
                              level: Optional[Tensor] = None, plan: Optional[TopologicalPlan] = None,
                              edge_type: Optional[Tensor] = None,
                              node_inputs: Optional[Dict[str, Tensor]] = None,
                              edge_inputs: Optional[Dict[str, Tensor]] = None) -> Tuple[Tensor, ...]:
        r"""Runs the topological schedule and returns the state of every node.

        Args:
            edge_index (LongTensor): ``[2, E]``.
            num_nodes (int, optional): :math:`N` (inferred from inputs or edges if omitted).
            level (LongTensor, optional): ``[N]`` precomputed levels *for this layer's flow*
                (``data.level``, or ``data.reverse_level`` for ``target_to_source``).
            plan (TopologicalPlan, optional): a plan from :meth:`plan` to reuse.
            edge_type (LongTensor, optional): ``[E]`` edge types.
            node_inputs (dict): tensors ``[N, ...]`` handed to the hooks.
            edge_inputs (dict): tensors ``[E, ...]`` handed to :meth:`message`.

        Returns:
            tuple of tensors ``[N, ...]`` in the original node order.
        """
        node_inputs = dict(node_inputs or {})
        edge_inputs = dict(edge_inputs or {})
        num_nodes = self._num_nodes(edge_index, num_nodes, node_inputs)
        edge_type = check_edge_type(edge_type, edge_index.size(1), self.num_edge_types)
        if plan is None:
            plan = self.plan(edge_index, num_nodes, level)
        elif plan.num_nodes != num_nodes or plan.edge_order.numel() != edge_index.size(1):
            raise ValueError("plan was built for a different graph; rebuild it with layer.plan(edge_index)")
        node_inputs = {k: v.index_select(0, plan.node_order) for k, v in node_inputs.items()}
        edge_inputs = {k: v.index_select(0, plan.edge_order) for k, v in edge_inputs.items()}
        if edge_type is not None:
            edge_type = edge_type.index_select(0, plan.edge_order)

        outputs: List[Optional[Tuple[Tensor, ...]]] = []
        for level_index in range(plan.num_levels):
            outputs.append(self._update_level(plan, level_index, outputs, edge_type, node_inputs, edge_inputs))
        return self._in_node_order(plan, outputs)

    def _update_level(self, plan: TopologicalPlan, level_index: int, outputs, edge_type,
                      node_inputs, edge_inputs) -> Optional[Tuple[Tensor, ...]]:
        start, end = plan.level_ptr[level_index], plan.level_ptr[level_index + 1]
        if end == start:
            return None
        here = {k: v[start:end] for k, v in node_inputs.items()}
        edges = plan.level_edges[level_index]
        if edges.end == edges.start:
            aggr = self._initial(end - start, here)
        else:
            aggr = self._aggregate_level(plan, edges, outputs, edge_type, node_inputs, edge_inputs,
                                         end - start, level_index)
            if not edges.all_have_predecessor:
                initial = self._initial(end - start, here)
                keep = plan.has_predecessor[start:end]
                aggr = tuple(torch.where(keep.view(-1, *[1] * (a.dim() - 1)), a, b) for a, b in zip(aggr, initial))
        new_state = self._call("update", aggr, step=level_index, **here)
        return as_tuple(new_state)

    def _aggregate_level(self, plan, edges, outputs, edge_type, node_inputs, edge_inputs,
                         size: int, level_index: int) -> Tuple[Tensor, ...]:
        state_j = self._gather_sources(plan, edges, outputs)
        window = slice(edges.start, edges.end)
        accepted = self._hook_params["message"]
        kwargs = {f"{k}_j": self._gather_inputs(plan, edges, v) for k, v in node_inputs.items()
                  if f"{k}_j" in accepted or "**" in accepted}
        targets = plan.local_target[window] + plan.level_ptr[level_index]
        kwargs.update({f"{k}_i": v.index_select(0, targets) for k, v in node_inputs.items()
                       if f"{k}_i" in accepted or "**" in accepted})
        kwargs.update({k: v[window] for k, v in edge_inputs.items()})
        types = edge_type[window] if edge_type is not None else None
        messages = as_tuple(self._call("message", state_j=state_j, edge_type=types, step=level_index, **kwargs))
        if edges.one_per_target and self._single_message_is_identity():
            return self._place_single_messages(messages, plan.local_target[window], len(edges.sources))
        return self._aggregate_state(messages, plan.local_target[window], size, types)

    def _single_message_is_identity(self) -> bool:
        """Whether aggregating one message gives the message itself (so no scatter is needed)."""
        return not self.aggregate_per_type and isinstance(self.aggr, str) and self.aggr in _IDENTITY_ON_ONE

    @staticmethod
    def _place_single_messages(messages: Tuple[Tensor, ...], target: Tensor, runs: int) -> Tuple[Tensor, ...]:
        if runs == 1:  # edges are sorted by target inside a run: already in node order
            return messages
        inverse = torch.empty_like(target)
        inverse[target] = torch.arange(target.numel(), device=target.device)
        return tuple(m.index_select(0, inverse) for m in messages)

    def _gather_sources(self, plan: TopologicalPlan, edges, outputs) -> Tuple[Tensor, ...]:
        pieces = []
        for source_level, a, b in edges.sources:
            index = plan.local_source[a:b]
            pieces.append(tuple(s.index_select(0, index) for s in outputs[source_level]))
        if len(pieces) == 1:
            return pieces[0]
        return tuple(torch.cat(parts, 0) for parts in zip(*pieces))

    def _gather_inputs(self, plan: TopologicalPlan, edges, tensor: Tensor) -> Tensor:
        pieces = []
        for source_level, a, b in edges.sources:
            index = plan.local_source[a:b] + plan.level_ptr[source_level]
            pieces.append(tensor.index_select(0, index))
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces, 0)

    def _initial(self, size: int, here: Dict[str, Tensor]) -> Tuple[Tensor, ...]:
        return as_tuple(self._call("initial_message", size, **here))

    @staticmethod
    def _in_node_order(plan: TopologicalPlan, outputs) -> Tuple[Tensor, ...]:
        present = [o for o in outputs if o is not None]
        if not present:
            return ()
        stacked = tuple(torch.cat(parts, 0) for parts in zip(*present))
        return tuple(s.index_select(0, plan.node_position) for s in stacked)

    # ------------------------------------------------------------ synchronous
    def propagate_synchronous(self, edge_index: Tensor, state: State, *, num_steps: Optional[int] = None,
                              edge_type: Optional[Tensor] = None, edge_state: Optional[State] = None,
                              node_inputs: Optional[Dict[str, Tensor]] = None,
                              edge_inputs: Optional[Dict[str, Tensor]] = None) -> List[SynchronousStep]:
        r"""Runs ``num_steps`` synchronous updates and returns the states after every step.

        Args:
            edge_index (LongTensor): ``[2, E]`` (cycles allowed).
            state: initial node state, tensor(s) ``[N, ...]``.
            num_steps (int, optional): overrides the layer's ``num_steps``.
            edge_type (LongTensor, optional): ``[E]``.
            edge_state (optional): initial edge state ``[E, ...]``; enables :meth:`edge_update`.
            node_inputs / edge_inputs (dict): extra tensors ``[N, ...]`` / ``[E, ...]``.

        Returns:
            list of :class:`SynchronousStep`, one per step (tensors in the input's form).
        """
        steps = self.num_steps if num_steps is None else num_steps
        if steps is None or steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {steps}")
        if not self.tie_weights and self.num_steps is not None and steps > self.num_steps:
            raise ValueError(f"untied weights exist for {self.num_steps} steps, got num_steps={steps}")
        node_inputs = dict(node_inputs or {})
        edge_inputs = dict(edge_inputs or {})
        num_nodes = as_tuple(state)[0].size(0)
        check_edge_index(edge_index, num_nodes)
        edge_type = check_edge_type(edge_type, edge_index.size(1), self.num_edge_types)
        src, dst = self._oriented(edge_index).long()
        endpoint_inputs = self._endpoint_inputs(node_inputs, src, dst)
        template, edge_template = state, edge_state
        node_state = as_tuple(state)
        current_edge_state = as_tuple(edge_state) if edge_state is not None else None
        history = []
        for step in range(steps):
            node_state, current_edge_state = self._synchronous_step(
                step, node_state, current_edge_state, src, dst, edge_type, node_inputs,
                endpoint_inputs, edge_inputs)
            history.append(SynchronousStep(
                like_input(node_state, template),
                None if current_edge_state is None else like_input(current_edge_state, edge_template)))
        return history

    def _synchronous_step(self, step, node_state, edge_state, src, dst, edge_type, node_inputs,
                          endpoint_inputs, edge_inputs):
        state_j = tuple(s.index_select(0, src) for s in node_state)
        state_i = tuple(s.index_select(0, dst) for s in node_state)
        shared = dict(state_j=state_j, state_i=state_i, edge_type=edge_type, step=step,
                      **endpoint_inputs, **edge_inputs)
        if edge_state is not None:
            edge_state = as_tuple(self._call("edge_update", edge_state=edge_state, **shared))
        messages = as_tuple(self._call("message", edge_state=edge_state, **shared))
        aggr = self._aggregate_state(messages, dst, node_state[0].size(0), edge_type)
        new_state = as_tuple(self._call("update", aggr, state=node_state, step=step, **node_inputs))
        return new_state, edge_state

    @staticmethod
    def _endpoint_inputs(node_inputs: Dict[str, Tensor], src: Tensor, dst: Tensor) -> Dict[str, Tensor]:
        gathered = {}
        for name, tensor in node_inputs.items():
            gathered[f"{name}_j"] = tensor.index_select(0, src)
            gathered[f"{name}_i"] = tensor.index_select(0, dst)
        return gathered

    # ----------------------------------------------------------------- shared
    def _aggregate_state(self, messages: Tuple[Tensor, ...], index: Tensor, size: int,
                         edge_type: Optional[Tensor]) -> Tuple[Tensor, ...]:
        if not self.aggregate_per_type:
            return tuple(self.aggregate(m, index, dim_size=size) for m in messages)
        types = self.num_edge_types
        typed_index = index * types + (edge_type if edge_type is not None else torch.zeros_like(index))
        return tuple(self.aggregate(m, typed_index, dim_size=size * types).view(size, types, *m.shape[1:])
                     for m in messages)

    def _oriented(self, edge_index: Tensor) -> Tensor:
        return edge_index.flip(0) if self.flow == "target_to_source" else edge_index

    @staticmethod
    def _num_nodes(edge_index: Tensor, num_nodes: Optional[int], node_inputs: Dict[str, Tensor]) -> int:
        if num_nodes is not None:
            sizes = {k: v.size(0) for k, v in node_inputs.items() if v.size(0) != num_nodes}
            if sizes:
                raise ValueError(f"node inputs must have num_nodes={num_nodes} rows, got {sizes}")
            return num_nodes
        if node_inputs:
            return next(iter(node_inputs.values())).size(0)
        return check_edge_index(edge_index)

    def _call(self, hook: str, *args, **kwargs):
        accepted = self._hook_params[hook]
        if "**" not in accepted:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        return getattr(self, hook)(*args, **kwargs)

    def extra_repr(self) -> str:
        parts = [f"schedule={self.schedule!r}"]
        if self.schedule == "synchronous":
            parts.append(f"num_steps={self.num_steps}, tie_weights={self.tie_weights}")
        if self.num_edge_types > 1:
            parts.append(f"num_edge_types={self.num_edge_types}, aggregate_per_type={self.aggregate_per_type}")
        if self.flow != "source_to_target":
            parts.append(f"flow={self.flow!r}")
        if self.aggr != "sum":
            parts.append(f"aggr={self.aggr!r}")
        return ", ".join(parts)

    __repr__ = torch.nn.Module.__repr__


def _accepted_params(function) -> frozenset:
    """Keyword names a hook accepts ("**" if it takes ``**kwargs``)."""
    names = set()
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            names.add("**")
        elif parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(parameter.name)
    return frozenset(names)
