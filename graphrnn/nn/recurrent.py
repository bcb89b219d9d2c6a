r"""The recurrent message-passing layer every model of graphrnn is built on."""
from __future__ import annotations

import inspect
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing

from graphrnn.counts import is_positive_int
from graphrnn.graph.checks import check_edge_index, check_edge_types
from graphrnn.graph.plan import FLOWS, TopologicalPlan, build_topological_plan
from graphrnn.graph.planner import Planner
from graphrnn.nn.one_line_repr import OneLineRepr

from ._layer_inputs import check_edges
from .level_store import LevelStore, level_store
from .validation import (
    check_dtype,
    check_edge_inputs,
    check_edge_type_shape,
    check_index_device,
    check_plan_type,
    refuse_tracing,
)

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


class RecurrentMessagePassing(OneLineRepr, MessagePassing):
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
    A layer that overrides :meth:`message_and_aggregate` (PyG's fused hook) returns the
    aggregated messages :math:`\bigoplus_{u \to v} \phi_t(\dots)` itself, so per-edge
    messages need not be materialised (e.g. a weighted sum as one ``embedding_bag``).
    Weights are tied across steps by default; with ``tie_weights=False`` a subclass
    keeps one set per step and picks it with :meth:`step_module`.

    Hooks receive keyword arguments filtered by their signatures: ``state_j``
    (source states), ``state_i`` (target states, synchronous only), ``state`` (every
    node's state) and ``edge_index`` (``[2, E]``, senders in row 0 after the flow), both for
    the synchronous edge hooks, ``edge_state``,
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
        edge_types (list of int, optional): follow only the edges of these types in the
            topological schedule (e.g. ``[PARENT]`` for child-sum over a
            :func:`~graphrnn.data.tree_graph`'s parent edges); ``edge_type`` is then required.
    """

    #: whether :meth:`plan` also lays out chains for torch's fused kernels (set by layers that use them)
    plan_chains: bool = False

    def __init__(self, schedule: str = "topological", num_steps: Optional[int] = None,
                 tie_weights: bool = True, num_edge_types: int = 1,
                 aggregate_per_type: bool = False, aggr: str = "sum",
                 flow: str = "source_to_target", edge_types: Optional[Sequence[int]] = None) -> None:
        if flow not in FLOWS:
            raise ValueError(f"flow must be 'source_to_target' or 'target_to_source' (leaves to root), got {flow!r}")
        super().__init__(aggr=aggr, flow=flow, node_dim=0)
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if schedule == "synchronous" and not is_positive_int(num_steps):
            raise ValueError(f"schedule='synchronous' needs num_steps >= 1 (an int), got {num_steps!r}")
        if not is_positive_int(num_edge_types):
            raise ValueError(f"num_edge_types must be >= 1 (an int), got {num_edge_types!r}")
        if schedule == "topological" and self._fuses_message_and_aggregate():
            raise TypeError(f"{type(self).__name__} overrides message_and_aggregate, which only the synchronous "
                            "schedule calls; the topological schedule calls message and aggregate level by level")
        self.schedule = schedule
        self.num_steps = int(num_steps) if num_steps is not None else None
        self.tie_weights = tie_weights
        self.num_edge_types = int(num_edge_types)
        self.aggregate_per_type = aggregate_per_type
        self.edge_types = check_edge_types(edge_types)
        hooks = ("message", "update", "edge_update", "initial_message", "message_and_aggregate")
        self._hook_params = {name: _accepted_params(getattr(self, name)) for name in hooks}
        self._hook_required = {name: _required_params(getattr(self, name)) for name in hooks}
        _check_hook_names(self)

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
    def plan(self, edge_index: Tensor, num_nodes: Optional[int] = None, level: Optional[Tensor] = None,
             edge_type: Optional[Tensor] = None) -> TopologicalPlan:
        """The :class:`~graphrnn.graph.TopologicalPlan` of this layer's flow (and edge types) for a graph.

        Build it once (the :class:`~graphrnn.data.DataLoader` can build it in its collate) and
        pass it as ``plan=`` to every forward on that graph: the pass then reads no tensor value
        on the host. ``level`` (optional) are precomputed levels for this layer's flow.
        """
        return build_topological_plan(edge_index, num_nodes, level, flow=self.flow, edge_type=edge_type,
                                      edge_types=self.edge_types, num_edge_types=self.num_edge_types,
                                      chains=self.plan_chains)

    def planner(self, **keys: str) -> Planner:
        """A picklable :class:`~graphrnn.graph.Planner` of this layer's plans, for
        ``graphrnn.data.DataLoader(..., plans={"plan": layer.planner()})``; ``keys`` name the batch
        attributes to read (``edge_index_key``, ``edge_type_key``, ``level_key``)."""
        return Planner(flow=self.flow, edge_types=self.edge_types,
                       num_edge_types=self.num_edge_types if self.edge_types is None else None,
                       chains=self.plan_chains, **keys)

    def propagate_topological(self, edge_index: Tensor, num_nodes: Optional[int] = None, *,
                              level: Optional[Tensor] = None, plan: Optional[TopologicalPlan] = None,
                              edge_type: Optional[Tensor] = None,
                              node_inputs: Optional[Dict[str, Tensor]] = None,
                              edge_inputs: Optional[Dict[str, Tensor]] = None) -> Tuple[Tensor, ...]:
        r"""Runs the topological schedule and returns the state of every node.

        Level by level, the states live in one level-major buffer
        (:class:`~graphrnn.nn.level_store.LevelStore`): a level reads its predecessors with one
        gather, sums their messages with one ``index_add`` (other aggregations use
        :meth:`aggregate`; where the message is the identity and the sum aggregates, gather and
        sum are one ``embedding_bag``), places the :meth:`initial_message` of its nodes without
        predecessors with one ``index_copy``, runs :meth:`update`, and writes its states back.
        The pass is differentiable once (no second-order gradients).

        Args:
            edge_index (LongTensor): ``[2, E]``.
            num_nodes (int, optional): :math:`N` (inferred from inputs or edges if omitted).
            level (LongTensor, optional): ``[N]`` precomputed levels *for this layer's flow*
                (``data.level``, or ``data.reverse_level`` for ``target_to_source``).
            plan (TopologicalPlan, optional): a plan from :meth:`plan`; checked against the graph
                (identity, or an elementwise comparison, asynchronous on an accelerator).
            edge_type (LongTensor, optional): ``[E]`` edge types.
            node_inputs (dict): tensors ``[N, ...]`` handed to the hooks.
            edge_inputs (dict): tensors ``[E, ...]`` handed to :meth:`message`.

        Returns:
            tuple of tensors ``[N, ...]`` in the original node order.
        """
        node_inputs = dict(node_inputs or {})
        edge_inputs = dict(edge_inputs or {})
        _check_input_names(node_inputs, edge_inputs)
        _check_node_tensors(node_inputs, edge_index, edge_type)
        num_nodes = self._num_nodes(edge_index, num_nodes, node_inputs)
        if plan is None:
            plan = self.plan(edge_index, num_nodes, level, edge_type=edge_type)
        else:
            check_plan_type(plan)
            plan.check(edge_index, num_nodes, self.flow, edge_type, self.edge_types)
        if edge_type is not None or self.num_edge_types > 1:
            edge_type = check_edge_type_shape(edge_type, edge_index.size(1),
                                              self.num_edge_types if self.num_edge_types > 1 else None)
        check_edge_inputs(edge_inputs, edge_index.size(1))
        return self._run_plan(plan, edge_type, node_inputs, edge_inputs)

    def _run_plan(self, plan: TopologicalPlan, edge_type: Optional[Tensor], node_inputs: Dict[str, Tensor],
                  edge_inputs: Dict[str, Tensor], shared: Optional[Dict[str, object]] = None,
                  level_ordered: Optional[Dict[str, Tensor]] = None) -> Tuple[Tensor, ...]:
        """The level loop over a checked plan. ``shared`` values go unchanged to every hook call;
        ``level_ordered`` node inputs are already in the plan's order (``x.index_select(0, plan.node_order)``),
        e.g. a projection computed after permuting its narrower input."""
        refuse_tracing(type(self).__name__)
        if plan.num_nodes == 0:
            return ()
        shared = shared or {}
        # the caller's tensors only: level_ordered ones the layer made itself (bfloat16 under autocast)
        self._check_input_dtypes(node_inputs, edge_inputs)
        ordered = {k: v.index_select(0, plan.node_order) for k, v in node_inputs.items()}
        ordered.update(level_ordered or {})
        self._check_topological_inputs(ordered, edge_inputs, shared)
        sizes = plan.level_sizes()
        per_level = {k: v.split(sizes) for k, v in ordered.items()}
        sorted_inputs = {k: v for k, v in ordered.items() if self._wants_endpoint(k)}
        edge_inputs = {k: v.index_select(0, plan.edge_order) for k, v in edge_inputs.items()}
        if edge_type is not None:
            edge_type = edge_type.index_select(0, plan.edge_order)
        store = level_store(plan.level_ptr)
        for level_index in range(plan.num_levels):
            here = {k: v[level_index] for k, v in per_level.items()}
            store.write(level_index, self._update_level(plan, level_index, store, edge_type, here, sorted_inputs,
                                                        edge_inputs, shared))
        return store.gather(plan.node_position, range(plan.num_levels), final=True)

    def _check_input_dtypes(self, node_inputs, edge_inputs) -> None:
        """Floating inputs must have the dtype of the layer's floating parameters (no silent casts)."""
        weight = next((p for p in self.parameters() if p.is_floating_point()), None)
        if weight is None:
            return
        for name, tensor in {**node_inputs, **edge_inputs}.items():
            if isinstance(tensor, Tensor) and tensor.is_floating_point():
                check_dtype(tensor, weight, name, type(self).__name__)

    def _check_topological_inputs(self, node_inputs, edge_inputs, shared) -> None:
        """Every name a hook requires must be one this pass provides (checked once per pass)."""
        self._check_hook_inputs("topological", {
            "message": {"state_j", "edge_type", "step", *shared, *edge_inputs, *_endpoint_names(node_inputs)},
            "update": {"step", *shared, *node_inputs},
            "initial_message": {*shared, *node_inputs},
        })

    def _check_hook_inputs(self, schedule: str, provided: Dict[str, set]) -> None:
        """Raises a ``TypeError`` naming the hook, the missing names and the available ones."""
        for hook, available in provided.items():
            missing = self._hook_required[hook].difference(available)
            if missing:
                raise TypeError(
                    f"{type(self).__name__}.{hook}() asks for {sorted(missing)}, which the {schedule} schedule "
                    f"does not provide here; available: {sorted(available)} (node inputs as <name>, <name>_j for "
                    "the source and <name>_i for the target of each edge); fix the name or give it a default")

    def _wants_endpoint(self, name: str) -> bool:
        accepted = self._hook_params["message"]
        return "**" in accepted or f"{name}_j" in accepted or f"{name}_i" in accepted

    def _update_level(self, plan: TopologicalPlan, level_index: int, store: LevelStore, edge_type, here,
                      sorted_inputs, edge_inputs, shared) -> Tuple[Tensor, ...]:
        size = plan.level_ptr[level_index + 1] - plan.level_ptr[level_index]
        if plan.edge_ptr[level_index + 1] == plan.edge_ptr[level_index]:
            aggr = self._initial(size, here, shared)
        else:
            aggr = self._aggregate_level(plan, level_index, store, edge_type, here, sorted_inputs, edge_inputs,
                                         shared, size)
            if plan.root_ptr[level_index + 1] > plan.root_ptr[level_index]:
                rows = plan.level_roots[level_index]
                wanted = self._hook_params["initial_message"]
                initial = self._initial(rows.numel(), {k: v.index_select(0, rows) for k, v in here.items()
                                                       if k in wanted or "**" in wanted}, shared)
                aggr = tuple(a.index_copy(0, rows, b.to(a.dtype)) for a, b in zip(aggr, initial))
        return as_tuple(self._call("update", aggr, step=level_index, **here, **shared))

    def _aggregate_level(self, plan: TopologicalPlan, level_index: int, store: LevelStore, edge_type, here,
                         sorted_inputs, edge_inputs, shared, size: int) -> Tuple[Tensor, ...]:
        source = plan.level_source[level_index]
        target = plan.level_target[level_index]
        accepted = self._hook_params["message"]
        anything = "**" in accepted
        if (self._sums() and not self.aggregate_per_type and not plan.single_predecessor[level_index]
                and self._message_is_identity(edge_inputs)):
            # the sum of the predecessors' states, one embedding_bag: no message rows, no zero tensor
            return store.gather(source, plan.source_levels[level_index],
                                bags=(plan.level_bag_offsets[level_index], target))
        kwargs = dict(shared)
        if "state_j" in accepted or anything:
            kwargs["state_j"] = store.gather(source, plan.source_levels[level_index])
        for name, tensor in sorted_inputs.items():
            if f"{name}_j" in accepted or anything:
                kwargs[f"{name}_j"] = tensor.index_select(0, source)
            if f"{name}_i" in accepted or anything:
                kwargs[f"{name}_i"] = here[name].index_select(0, target)
        if edge_inputs or edge_type is not None:
            window = slice(plan.edge_ptr[level_index], plan.edge_ptr[level_index + 1])
            kwargs.update({k: v[window] for k, v in edge_inputs.items()})
            types = edge_type[window] if edge_type is not None else None
        else:
            types = None
        messages = as_tuple(self._call("message", edge_type=types, step=level_index, **kwargs))
        if plan.single_predecessor[level_index] and self._single_message_is_identity():
            return messages  # one edge per target, sorted by target: already one row per node, in order
        return self._aggregate_state(messages, target, size, types)

    def _message_is_identity(self, edge_inputs: Dict[str, Tensor]) -> bool:
        """Whether :meth:`message` returns ``state_j`` unchanged given these edge inputs (a subclass
        whose message is the identity in some cases says so by overriding this)."""
        return type(self).message is RecurrentMessagePassing.message

    def _single_message_is_identity(self) -> bool:
        """Whether aggregating one message gives the message itself (so no scatter is needed)."""
        return not self.aggregate_per_type and isinstance(self.aggr, str) and self.aggr in _IDENTITY_ON_ONE

    def _initial(self, size: int, here: Dict[str, Tensor], shared: Dict[str, object]) -> Tuple[Tensor, ...]:
        return as_tuple(self._call("initial_message", size, **here, **shared))

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
        steps = self._synchronous_steps(num_steps)
        node_inputs = dict(node_inputs or {})
        edge_inputs = dict(edge_inputs or {})
        _check_input_names(node_inputs, edge_inputs)
        states = _state_tensors(state, "state")
        _check_node_tensors({**states, **node_inputs}, edge_index, edge_type)
        num_nodes = next(iter(states.values())).size(0)
        self._num_nodes(edge_index, num_nodes, {**states, **node_inputs})  # every node input has N rows
        # values with device_assert: no host read (a GPU sync) per call, as in the topological schedule given a plan
        check_edges(edge_index, num_nodes, type(self).__name__, rows=next(iter(states)))
        if edge_type is not None or self.num_edge_types > 1:
            edge_type = check_edge_type_shape(edge_type, edge_index.size(1), self.num_edge_types)
        edge_states = _state_tensors(edge_state, "edge_state") if edge_state is not None else {}
        check_edge_inputs({**edge_states, **edge_inputs}, edge_index.size(1))
        self._check_input_dtypes({**node_inputs, **states}, {**edge_inputs, **edge_states})
        return self._run_synchronous(steps, edge_index.long(), state, edge_type, edge_state, node_inputs,
                                     edge_inputs)

    def _synchronous_steps(self, num_steps: Optional[int]) -> int:
        steps = self.num_steps if num_steps is None else num_steps
        if not is_positive_int(steps):
            raise ValueError(f"num_steps must be >= 1 (an int), got {steps!r}")
        if not self.tie_weights and self.num_steps is not None and steps > self.num_steps:
            raise ValueError(f"untied weights exist for {self.num_steps} steps, got num_steps={steps}")
        return steps

    def _run_synchronous(self, steps: int, edge_index: Tensor, state: State, edge_type: Optional[Tensor],
                         edge_state: Optional[State], node_inputs: Dict[str, Tensor], edge_inputs: Dict[str, Tensor],
                         shared: Optional[Dict[str, object]] = None) -> List[SynchronousStep]:
        """The step loop over checked inputs; ``shared`` values go unchanged to every hook call."""
        refuse_tracing(type(self).__name__)
        shared = shared or {}
        per_edge = {"state_j", "state_i", "state", "edge_index", "edge_type", "step", "edge_state", *edge_inputs,
                    *shared, *_endpoint_names(node_inputs)}
        hooks = {"update": {"state", "step", *node_inputs, *shared}}
        hooks["message_and_aggregate" if self._fuses_message_and_aggregate() else "message"] = per_edge
        if edge_state is not None:
            hooks["edge_update"] = per_edge
        self._check_hook_inputs("synchronous", hooks)
        wanted = self._edge_hook_params(edge_state is not None)
        oriented = self._oriented(edge_index)
        src, dst = oriented
        endpoint_inputs = self._endpoint_inputs(node_inputs, src, dst, wanted)
        template, edge_template = state, edge_state
        node_state = as_tuple(state)
        current_edge_state = as_tuple(edge_state) if edge_state is not None else None
        history = []
        for step in range(steps):
            node_state, current_edge_state = self._synchronous_step(
                step, node_state, current_edge_state, oriented, edge_type, node_inputs,
                endpoint_inputs, edge_inputs, shared, wanted)
            history.append(SynchronousStep(
                like_input(node_state, template),
                None if current_edge_state is None else like_input(current_edge_state, edge_template)))
        return history

    def _fuses_message_and_aggregate(self) -> bool:
        """Whether the layer overrides :meth:`message_and_aggregate` (then the synchronous step calls it
        instead of :meth:`message` and :meth:`aggregate`, and never materialises per-edge messages)."""
        return type(self).message_and_aggregate is not MessagePassing.message_and_aggregate

    def _edge_hook_params(self, with_edge_state: bool) -> frozenset:
        """The names the per-edge hooks of a synchronous step accept (gathers nobody reads are skipped)."""
        hooks = ["message_and_aggregate" if self._fuses_message_and_aggregate() else "message"]
        if with_edge_state:
            hooks.append("edge_update")
        return frozenset().union(*(self._hook_params[hook] for hook in hooks))

    def _synchronous_step(self, step, node_state, edge_state, oriented, edge_type, node_inputs,
                          endpoint_inputs, edge_inputs, shared, wanted):
        src, dst = oriented  # edge_index after the flow: senders in row 0
        per_edge = dict(state=node_state, edge_index=oriented, edge_type=edge_type, step=step, **endpoint_inputs,
                        **edge_inputs, **shared)
        if "state_j" in wanted or "**" in wanted:
            per_edge["state_j"] = tuple(s.index_select(0, src) for s in node_state)
        if "state_i" in wanted or "**" in wanted:
            per_edge["state_i"] = tuple(s.index_select(0, dst) for s in node_state)
        if edge_state is not None:
            edge_state = as_tuple(self._call("edge_update", edge_state=edge_state, **per_edge))
        if self._fuses_message_and_aggregate():
            aggr = as_tuple(self._call("message_and_aggregate", edge_state=edge_state, **per_edge))
        else:
            messages = as_tuple(self._call("message", edge_state=edge_state, **per_edge))
            aggr = self._aggregate_state(messages, dst, node_state[0].size(0), edge_type)
        new_state = as_tuple(self._call("update", aggr, state=node_state, step=step, **node_inputs, **shared))
        return new_state, edge_state

    @staticmethod
    def _endpoint_inputs(node_inputs: Dict[str, Tensor], src: Tensor, dst: Tensor,
                         wanted: frozenset = frozenset({"**"})) -> Dict[str, Tensor]:
        gathered = {}
        for name, tensor in node_inputs.items():
            for end, index in (("_j", src), ("_i", dst)):
                if f"{name}{end}" in wanted or "**" in wanted:
                    gathered[f"{name}{end}"] = tensor.index_select(0, index)
        return gathered

    # ----------------------------------------------------------------- shared
    def _aggregate_state(self, messages: Tuple[Tensor, ...], index: Tensor, size: int,
                         edge_type: Optional[Tensor]) -> Tuple[Tensor, ...]:
        if not self.aggregate_per_type:
            if self._sums():
                return tuple(m.new_zeros((size, *m.shape[1:])).index_add_(0, index, m) for m in messages)
            return tuple(self.aggregate(m, index, dim_size=size) for m in messages)
        types = self.num_edge_types
        typed_index = index * types + (edge_type if edge_type is not None else torch.zeros_like(index))
        return tuple(self.aggregate(m, typed_index, dim_size=size * types).view(size, types, *m.shape[1:])
                     for m in messages)

    def _sums(self) -> bool:
        """Whether :meth:`aggregate` is the plain sum (then one ``index_add`` does it)."""
        return (isinstance(self.aggr, str) and self.aggr in ("sum", "add")
                and type(self).aggregate is MessagePassing.aggregate)

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
        """Calls a hook with the keyword arguments it accepts (required ones were checked once per pass)."""
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


def _accepted_params(function) -> frozenset:
    """Keyword names a hook accepts ("**" if it takes ``**kwargs``)."""
    names = set()
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            names.add("**")
        elif parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(parameter.name)
    return frozenset(names)


def _check_input_names(node_inputs: Dict[str, Tensor], edge_inputs: Dict[str, Tensor]) -> None:
    """Node and edge inputs may not take a name the schedules pass themselves (``state``, ``step``, ...)."""
    taken = sorted(set(node_inputs).union(edge_inputs).intersection(_SCHEDULE_NAMES))
    if taken:
        raise ValueError(f"input name(s) {taken} are passed by the schedules themselves "
                         f"({sorted(_SCHEDULE_NAMES)}); rename the input")




def _state_tensors(state: State, name: str) -> Dict[str, Tensor]:
    """A state given as a tensor or a tuple of tensors, each with a leading row dimension, by name for the checks."""
    parts = state if isinstance(state, tuple) else (state,)
    if not parts or not all(isinstance(part, Tensor) and part.dim() >= 1 for part in parts):
        shown = [list(p.shape) if isinstance(p, Tensor) else type(p).__name__ for p in parts]
        raise ValueError(f"{name} must be a tensor [rows, ...] or a tuple of them, got {shown if parts else '()'}")
    return {name: parts[0]} if len(parts) == 1 else {f"{name}[{i}]": part for i, part in enumerate(parts)}


def _check_node_tensors(node_inputs: Dict[str, Tensor], edge_index: Tensor, edge_type: Optional[Tensor]) -> None:
    """Node inputs are tensors ``[N, ...]`` on the edges' device, and so is ``edge_type`` (metadata only)."""
    for name, tensor in node_inputs.items():
        if not isinstance(tensor, Tensor) or tensor.dim() == 0:
            shown = list(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
            raise ValueError(f"node input {name!r} must be a tensor [N, ...] with one row per node, got {shown}")
        check_index_device(edge_index, tensor, features=name)
    check_index_device(edge_type, edge_index, "edge_type", "edge_index")


def _endpoint_names(node_inputs) -> set:
    """``<name>_j`` and ``<name>_i`` of every node input: what an edge hook can read of its two ends."""
    return {f"{name}{end}" for name in node_inputs for end in ("_j", "_i")}


#: the first positional argument of each hook (the aggregated messages, the node count, the edge state)
_POSITIONAL = {"update": 1, "initial_message": 1, "message": 0, "edge_update": 0}
#: names the schedules hand to every hook besides node and edge inputs
_SCHEDULE_NAMES = frozenset({"state_j", "state_i", "state", "edge_state", "edge_index", "edge_type", "step"})


def _required_params(function) -> frozenset:
    """Keyword names a hook needs (no default), past its leading positional argument(s)."""
    hook = function.__name__
    parameters = [p for p in inspect.signature(function).parameters.values()
                  if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    parameters = parameters[_POSITIONAL.get(hook, 0):]
    return frozenset(p.name for p in parameters if p.default is inspect.Parameter.empty)


def _check_hook_names(layer) -> None:
    """At construction: a hook's required names must be schedule names or could be inputs.

    Endpoint names must end in ``_j``/``_i`` in :meth:`message`; a name that looks like a
    misspelt schedule name (``state``, ``stat_j``, ``edgetype``) is reported with the valid ones.
    """
    for hook, required in layer._hook_required.items():
        for name in required:
            close = [valid for valid in _SCHEDULE_NAMES if _one_edit_apart(name, valid)]
            if close and name not in _SCHEDULE_NAMES:
                raise TypeError(f"{type(layer).__name__}.{hook}() takes {name!r}: did you mean {close[0]!r}? The "
                                f"schedules pass {sorted(_SCHEDULE_NAMES)}, plus node inputs as <name>, <name>_j and "
                                "<name>_i, and edge inputs by name")


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1 or any(
            a[:i] + a[i + 1] + a[i] + a[i + 2:] == b for i in range(len(a) - 1))
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
