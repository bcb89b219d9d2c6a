r"""Structure Inference Machine (Deng, Vahdat, Hu, Mori, CVPR 2016): gated message passing on scenes."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torch_geometric.data.data import BaseData

from graphrnn.counts import is_int
from graphrnn.data.graphs import (
    NUM_SCENE_EDGE_TYPES,
    PERSON_TO_PERSON,
    PERSON_TO_SCENE,
    SCENE_TO_PERSON,
)
from graphrnn.nn.one_line_repr import OneLineRepr

from .bags import bag_sum
from .recurrent import RecurrentMessagePassing
from .scene_plan import EDGE_ENDPOINTS, PLAN_KEY, ScenePlan, ScenePlanner, build_scene_plan
from .typed import TypedLinear
from .validation import check_dtype, check_features, check_on_device

__all__ = ["SceneOutputs", "SceneUnary", "StructureInferenceMachine", "ScenePlan", "build_scene_plan"]

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}
#: In-place versions, applied to freshly computed pre-activations (their backward needs only the output).
INPLACE_ACTIVATIONS = {"relu": torch.relu_, "tanh": torch.tanh_}
_SCENE_FIELDS = ("person_x", "scene_x", "node_type", "edge_index", "edge_type")
#: the node kind (PERSON or SCENE) each edge type starts from / ends at, by edge type
SOURCE_KIND = tuple(EDGE_ENDPOINTS[r][0] for r in range(NUM_SCENE_EDGE_TYPES))
TARGET_KIND = tuple(EDGE_ENDPOINTS[r][1] for r in range(NUM_SCENE_EDGE_TYPES))

#: One iteration's predictions: ``(action_logits [P, A], activity_logits [B, C])``.
SceneOutputs = Tuple[Tensor, Tensor]


class SceneUnary(OneLineRepr, nn.Module):
    r"""Per node type input projection and unary predictions (the SIM's iteration 0, and the MLP baseline).

    .. math::
        \tilde{\mathbf{x}}_i = f(\mathbf{W}_{\tau_i} \mathbf{x}_i + \mathbf{b}_{\tau_i}), \qquad
        \mathbf{c}_i^{(0)} = \mathbf{U}_{\tau_i} \tilde{\mathbf{x}}_i + \mathbf{u}_{\tau_i},

    with one set of weights per node type :math:`\tau_i` (person or scene).

    Args:
        person_channels (int): person features :math:`F_p`.
        scene_channels (int): scene features :math:`F_s`.
        hidden_channels (int): projected size :math:`H`.
        num_actions (int): person classes :math:`A`.
        num_activities (int): scene classes :math:`C`.
        activation (str): ``"relu"`` or ``"tanh"``. (default: ``"relu"``)

    Shapes:
        - **input:** ``person_x`` :math:`(P, F_p)`, ``scene_x`` :math:`(B, F_s)`.
        - **output:** ``(x_person (P, H), x_scene (B, H), action_logits (P, A), activity_logits (B, C))``.
    """

    def __init__(self, person_channels: int, scene_channels: int, hidden_channels: int, num_actions: int,
                 num_activities: int, activation: str = "relu") -> None:
        super().__init__()
        person_channels, scene_channels, hidden_channels, num_actions, num_activities = _check_positive(
            person_channels=person_channels, scene_channels=scene_channels, hidden_channels=hidden_channels,
            num_actions=num_actions, num_activities=num_activities)
        self.activation = _activation(activation)
        self.activation_name = activation
        self.person_proj = nn.Linear(person_channels, hidden_channels)
        self.scene_proj = nn.Linear(scene_channels, hidden_channels)
        self.person_head = nn.Linear(hidden_channels, num_actions)
        self.scene_head = nn.Linear(hidden_channels, num_activities)

    def reset_parameters(self) -> None:
        for layer in (self.person_proj, self.scene_proj, self.person_head, self.scene_head):
            layer.reset_parameters()

    def forward(self, person_x: Tensor, scene_x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        _check_width(person_x, self.person_proj.in_features, "person_x", "person_channels")
        _check_width(scene_x, self.scene_proj.in_features, "scene_x", "scene_channels")
        x_person = self.activation(self.person_proj(person_x))
        x_scene = self.activation(self.scene_proj(scene_x))
        return x_person, x_scene, self.person_head(x_person), self.scene_head(x_scene)

    def extra_repr(self) -> str:
        return (f"{self.person_proj.in_features}, {self.scene_proj.in_features}, {self.person_proj.out_features}, "
                f"num_actions={self.person_head.out_features}, num_activities={self.scene_head.out_features}, "
                f"activation={self.activation_name!r}")


class SimIteration(nn.Module):
    """The weights of one SIM iteration (one set when tied, one per iteration when untied)."""

    def __init__(self, hidden: int, message: int, width: int, num_actions: int, num_activities: int,
                 gated: bool) -> None:
        super().__init__()
        types = NUM_SCENE_EDGE_TYPES
        self.input_message = TypedLinear(hidden, message, types)  # W_xm, b_m
        self.recurrent_message = TypedLinear(width + message, message, types, bias=False)  # [W_cm, W_mm]
        self.gate = TypedLinear(message + width, 1, types) if gated else None  # w_g, b_g
        self.person_out = nn.Linear(2 * message + hidden, num_actions)  # [W_mc(p->p), W_mc(s->p)], W_xc
        self.scene_out = nn.Linear(message + hidden, num_activities)  # W_mc(p->s), W_xc

    def reset_parameters(self) -> None:
        for module in (self.input_message, self.recurrent_message, self.gate, self.person_out, self.scene_out):
            if module is not None:
                module.reset_parameters()

    def input_predictions(self, x_person: Tensor, x_scene: Tensor) -> Tuple[Tensor, Tensor]:
        r""":math:`\mathbf{W}_{xc} \tilde{\mathbf{x}}_j + \mathbf{b}_c` of persons ``[P, A]`` and scenes ``[B, C]``."""
        message = self.scene_out.in_features - x_scene.size(1)
        return (nn.functional.linear(x_person, self.person_out.weight[:, 2 * message:], self.person_out.bias),
                nn.functional.linear(x_scene, self.scene_out.weight[:, message:], self.scene_out.bias))

    def message_predictions(self, person_means: Tensor, scene_means: Tensor) -> Tuple[Tensor, Tensor]:
        r""":math:`\sum_r \mathbf{W}^{r}_{mc} \bar{\mathbf{m}}^{r}_j` of persons (``[P, 2M]`` means in) and scenes."""
        return (nn.functional.linear(person_means, self.person_out.weight[:, :person_means.size(1)]),
                nn.functional.linear(scene_means, self.scene_out.weight[:, :scene_means.size(1)]))

    def source_inputs(self, x_person: Tensor, x_scene: Tensor) -> Tuple[Tensor, ...]:
        r""":math:`\mathbf{W}^{r}_{xm} \tilde{\mathbf{x}}_i + \mathbf{b}^{r}_m` of every type :math:`r`, over the
        rows of its source kind (``[P, M]`` or ``[B, M]``)."""
        rows = (x_person, x_scene)
        return tuple(nn.functional.linear(rows[SOURCE_KIND[r]], self.input_message.weight[r],
                                          self.input_message.bias[r]) for r in range(NUM_SCENE_EDGE_TYPES))

    def messages(self, previous: Optional[Sequence[Tensor]], c: Sequence[Tensor], inputs: Sequence[Tensor],
                 inplace_activation) -> Tuple[Tensor, ...]:
        r""":math:`\mathbf{m}^{(t)}` of every type over its source rows, from :math:`\mathbf{m}^{(t-1)}`
        (``previous``; ``None`` at :math:`t = 1`, where it is zero) and :math:`\mathbf{c}^{(t-1)}` (``c``:
        person and scene rows)."""
        width = self.recurrent_message.in_channels - self.recurrent_message.out_channels  # D
        out = []
        for r in range(NUM_SCENE_EDGE_TYPES):
            weight, c_source = self.recurrent_message.weight[r], c[SOURCE_KIND[r]]
            pre = torch.addmm(inputs[r], c_source, weight[:, :c_source.size(1)].T)  # padding columns of c are 0
            if previous is not None:
                pre = torch.addmm(pre, previous[r], weight[:, width:].T)
            out.append(inplace_activation(pre))
        return tuple(out)

    def gates(self, messages: Sequence[Tensor], c: Sequence[Tensor], plan: ScenePlan) -> Tuple[Tensor, ...]:
        r""":math:`g_e = \sigma(\mathbf{w}^{r}_g \cdot [\mathbf{m}_i; \mathbf{c}_j] + b^{r}_g)` of every edge
        (``[E_r]`` per type, plan order): each dot product once per row, then gathered per edge."""
        weight, bias = self.gate.weight[:, 0], self.gate.bias[:, 0]
        out = []
        for r, message in enumerate(messages):
            c_target, width = c[TARGET_KIND[r]], message.size(1)
            # .to(): under autocast the messages may be in a lower precision than the weights
            source_score = torch.mv(message, weight[r, :width].to(message.dtype))
            target_score = torch.mv(c_target, weight[r, width:width + c_target.size(1)].to(c_target.dtype)) + bias[r]
            out.append(torch.sigmoid(source_score.index_select(0, plan.bags[r].sources)
                                     + target_score.index_select(0, plan.bags[r].targets)))
        return tuple(out)


class StructureInferenceMachine(RecurrentMessagePassing):
    r"""The Structure Inference Machine of `Deng et al. (CVPR 2016) <https://arxiv.org/abs/1511.04196>`_:
    iterative gated message passing on a fully connected person/scene graph.

    On a batch of :func:`~graphrnn.data.scene_graph` scenes (persons plus one scene
    node each, typed edges :math:`r \in` {person→person, person→scene, scene→person}),
    inputs are projected per node type (:class:`SceneUnary`) to :math:`\tilde{\mathbf{x}}`
    and give unary predictions :math:`\mathbf{c}^{(0)}` (action logits for persons,
    activity logits for scenes). For :math:`t = 1, \dots, T`, on every edge
    :math:`e = (i \to j)` of type :math:`r` (the recurrent state lives on the edges):

    .. math::
        \mathbf{m}_e^{(t)} &= f\big(\mathbf{W}^{r}_{mm} \mathbf{m}_e^{(t-1)}
            + \mathbf{W}^{r}_{xm} \tilde{\mathbf{x}}_i + \mathbf{W}^{r}_{cm} \mathbf{c}_i^{(t-1)}
            + \mathbf{b}^{r}_m\big), \qquad \mathbf{m}_e^{(0)} = \mathbf{0},

        g_e^{(t)} &= \sigma\big(\mathbf{w}^{r}_g \cdot [\mathbf{m}_e^{(t)}; \mathbf{c}_j^{(t-1)}]
            + b^{r}_g\big), \qquad \mathbf{m}'_e = g_e^{(t)} \, \mathbf{m}_e^{(t)},

        \mathbf{c}_j^{(t)} &= f\Big(\sum_{r} \mathbf{W}^{r}_{mc}
            \operatorname{mean}_{e = (i \to j),\, r_e = r} \mathbf{m}'_e
            + \mathbf{W}_{xc} \tilde{\mathbf{x}}_j + \mathbf{b}_c\Big),

    with the output weights :math:`\mathbf{W}_{mc}, \mathbf{W}_{xc}, \mathbf{b}_c` per node
    type of :math:`j` (a person reads its person→person and scene→person means, the scene
    its person→scene mean). :math:`f` is ``activation``. The predictions
    :math:`\mathbf{c}^{(t)}` feed a softmax loss at every iteration, as in the paper (with
    :math:`f` = ReLU they are non-negative scores). ``output_activation=False`` drops the
    :math:`f` of :math:`\mathbf{c}^{(t)}` (:math:`t \ge 1`; plain logits, graphrnn's behaviour
    before this option existed); the unary :math:`\mathbf{c}^{(0)}` are logits either way. With
    :math:`f` = ReLU on :math:`\mathbf{c}^{(t)}`, the output biases :math:`\mathbf{b}_c` start at 1
    (:meth:`reset_parameters`), so that every class score starts where the ReLU passes a gradient:
    a score stuck at 0 for every scene cannot recover (with PyTorch's default biases, SIM T=3 reached
    54.7 ± 5.9% gated and 55.9 ± 16.5% ungated scene accuracy over 3 seeds on the synthetic scenes of
    ``docs/sim.md``; with :math:`\mathbf{b}_c = 1`, 65.1% and 64.7%).
    Without gates (``gated=False``) :math:`g_e = 1`. Weights are shared by all iterations
    (``tie_weights=True``) or one set per iteration.

    It runs on the shared synchronous schedule
    (:meth:`~graphrnn.nn.RecurrentMessagePassing.propagate_synchronous`) with sparse edges:
    scenes of any sizes batch together. The node state is :math:`\mathbf{c}` of persons
    ``[P, A]`` and of scenes ``[B, C]`` (:math:`\mathbf{W}_{cm}` and :math:`\mathbf{w}_g` read
    :math:`D = \max(A, C)` columns of :math:`\mathbf{c}`; a person uses the first :math:`A`, a scene
    the first :math:`C`, as if :math:`\mathbf{c}` were zero-padded to :math:`D`). The recurrent
    edge state is exact but compact: :math:`\mathbf{m}_e^{(t)}` depends on the edge only through
    its source :math:`i` and type :math:`r` (its recurrence reads :math:`\mathbf{m}_e^{(t-1)}`,
    :math:`\tilde{\mathbf{x}}_i` and :math:`\mathbf{c}_i^{(t-1)}`, from :math:`\mathbf{m}_e^{(0)} =
    \mathbf{0}`), so it is kept once per (source, type), in ``[P, M]`` / ``[B, M]`` tables (see
    :meth:`edge_update`). Only the gates :math:`g_e` are per edge, and the gated mean is one
    weighted :func:`~graphrnn.nn.bags.bag_sum` per type (:meth:`message_and_aggregate`): no
    ``[E, M]`` tensor is ever built.

    Args:
        person_channels (int): person features :math:`F_p`.
        scene_channels (int): scene features :math:`F_s`.
        hidden_channels (int): projected input size :math:`H`.
        num_actions (int): person classes :math:`A`.
        num_activities (int): scene classes :math:`C`.
        num_iterations (int): message-passing iterations :math:`T`. (default: ``3``)
        message_channels (int, optional): message size :math:`M` (default: ``hidden_channels``).
        gated (bool): learn the gates :math:`g_e`; otherwise :math:`g_e = 1`. (default: ``True``)
        tie_weights (bool): share weights across iterations. (default: ``True``)
        activation (str): :math:`f`, ``"relu"`` or ``"tanh"``. (default: ``"relu"``)
        output_activation (bool): apply :math:`f` to :math:`\mathbf{c}^{(t)}` as the paper's
            equations do; ``False`` leaves them linear. (default: ``True``)

    Shapes:
        - **input:** node features ``x`` :math:`(N, \max(F_p, F_s))`, ``edge_index``
          :math:`(2, E)`, ``edge_type`` :math:`(E)`, ``node_type`` :math:`(N)`, optional
          ``plan`` (:class:`~graphrnn.nn.scene_plan.ScenePlan`); or a PyG ``Batch`` (or one
          ``Data``) of scene graphs with ``person_x`` :math:`(P, F_p)`, ``scene_x``
          :math:`(B, F_s)`, ``node_type``, ``edge_index``, ``edge_type`` (and ``sim_plan`` when
          the loader built it: ``DataLoader(..., plans=model.planners())``).
        - **output:** a list of :math:`T` tuples ``(action_logits (P, A), activity_logits (B, C))``,
          persons and scenes in node order; with ``return_gates=True`` also the gates
          :math:`(T, E)` in :math:`[0, 1]` in edge order.
    """

    def __init__(self, person_channels: int, scene_channels: int, hidden_channels: int, num_actions: int,
                 num_activities: int, num_iterations: int = 3, message_channels: Optional[int] = None,
                 gated: bool = True, tie_weights: bool = True, activation: str = "relu",
                 output_activation: bool = True) -> None:
        if not isinstance(output_activation, bool):
            raise TypeError(f"output_activation must be True or False, got {output_activation!r}")
        message_channels = hidden_channels if message_channels is None else message_channels
        num_iterations, message_channels = _check_positive(num_iterations=num_iterations,
                                                           message_channels=message_channels)
        super().__init__(schedule="synchronous", num_steps=num_iterations, tie_weights=tie_weights,
                         num_edge_types=NUM_SCENE_EDGE_TYPES, aggregate_per_type=True, aggr="mean")
        self.num_actions, self.num_activities = num_actions, num_activities
        self.message_channels, self.gated = message_channels, gated
        self.output_activation = output_activation
        self.activation = _activation(activation)
        self.inplace_activation = INPLACE_ACTIVATIONS[activation]
        self.activation_name = activation
        self.unary = SceneUnary(person_channels, scene_channels, hidden_channels, num_actions, num_activities,
                                activation)
        width = max(num_actions, num_activities)
        self.iterations = nn.ModuleList(
            SimIteration(hidden_channels, message_channels, width, num_actions, num_activities, gated)
            for _ in range(1 if tie_weights else num_iterations))
        self._start_output_biases()

    def reset_parameters(self) -> None:
        self.unary.reset_parameters()
        for iteration in self.iterations:
            iteration.reset_parameters()
        self._start_output_biases()

    def _start_output_biases(self) -> None:
        r""":math:`\mathbf{b}_c = 1` under a ReLU on :math:`\mathbf{c}^{(t)}` (see the class docstring)."""
        if self.output_activation and self.activation_name == "relu":
            with torch.no_grad():
                for iteration in self.iterations:
                    iteration.person_out.bias.fill_(1.0)
                    iteration.scene_out.bias.fill_(1.0)

    # ------------------------------------------------------------------ forward
    def planners(self) -> dict:
        """``{"sim_plan": planner}`` for ``graphrnn.data.DataLoader(..., plans=model.planners())``: batches
        then carry their :class:`~graphrnn.nn.scene_plan.ScenePlan` and a step reads nothing on the host."""
        return {PLAN_KEY: ScenePlanner()}

    def forward(self, x, edge_index: Optional[Tensor] = None, edge_type: Optional[Tensor] = None,
                node_type: Optional[Tensor] = None, *, plan: Optional[ScenePlan] = None,
                return_gates: bool = False) -> Union[List[SceneOutputs], Tuple[List[SceneOutputs], Tensor]]:
        r"""Runs the SIM; see the class docstring for shapes.

        Args:
            x: ``[N, F]`` node features with :math:`F = \max(F_p, F_s)` (a person row's first
                :math:`F_p` columns, a scene row's first :math:`F_s`), or a batch of
                :func:`~graphrnn.data.scene_graph` scenes (then the other arguments come from it).
            edge_index, edge_type, node_type: the scene graph (tensor form).
            plan (ScenePlan, optional): from :meth:`planners` / :func:`build_scene_plan`; a batch from
                ``graphrnn.data.DataLoader(..., plans=model.planners())`` carries it as ``sim_plan``.
            return_gates (bool): also return the gates ``[T, E]``.
        """
        if isinstance(x, BaseData):
            if edge_index is not None or edge_type is not None or node_type is not None:
                raise TypeError("pass either a batch of scenes or the tensors (x, edge_index, edge_type, node_type)")
            person_x, scene_x, node_type, edge_index, edge_type = _scene_fields(x)
            plan = plan if plan is not None else getattr(x, PLAN_KEY, None)
            plan = self._plan(edge_index, edge_type, node_type, plan)
            return self._run(person_x, scene_x, edge_index, edge_type, plan, return_gates)
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise TypeError(f"x must be a float tensor [N, F] or a batch of scene graphs, got "
                            f"{list(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        if edge_index is None or edge_type is None or node_type is None:
            raise ValueError("the tensor form needs x, edge_index, edge_type and node_type")
        width = max(self.unary.person_proj.in_features, self.unary.scene_proj.in_features)
        if x.size(1) != width:
            raise ValueError(f"x must have max(person_channels, scene_channels)={width} columns (a person row's first "
                             f"{self.unary.person_proj.in_features}, a scene row's first "
                             f"{self.unary.scene_proj.in_features}), got {x.size(1)}")
        plan = self._plan(edge_index, edge_type, node_type, plan, x.size(0))
        person_x = x.index_select(0, plan.persons)[:, :self.unary.person_proj.in_features]
        scene_x = x.index_select(0, plan.scenes)[:, :self.unary.scene_proj.in_features]
        return self._run(person_x, scene_x, edge_index, edge_type, plan, return_gates)

    def _plan(self, edge_index, edge_type, node_type, plan, num_rows: Optional[int] = None) -> ScenePlan:
        check_on_device(type(self).__name__, self.unary.person_proj.weight.device, edge_index=edge_index,
                        edge_type=edge_type, node_type=node_type)
        if plan is None:
            plan = build_scene_plan(edge_index, edge_type, node_type)
        elif not isinstance(plan, ScenePlan):
            raise TypeError(f"plan must be a ScenePlan (from model.planners() or build_scene_plan), got "
                            f"{type(plan).__name__}")
        else:
            plan.check(edge_index, edge_type, node_type)
        if num_rows is not None and num_rows != plan.num_nodes:
            raise ValueError(f"x has {num_rows} rows but node_type has {plan.num_nodes} nodes")
        return plan

    def _run(self, person_x: Tensor, scene_x: Tensor, edge_index: Tensor, edge_type: Tensor, plan: ScenePlan,
             return_gates: bool):
        """The iterations over a plan already checked against the scene graph (by :meth:`_plan`)."""
        _check_node_counts(plan, person_x, scene_x)
        for name, features in (("person_x", person_x), ("scene_x", scene_x)):
            check_dtype(features, self.unary.person_proj.weight, name, type(self).__name__)
            check_features(features, name)
        x_person, x_scene, actions, activities = self.unary(person_x, scene_x)
        shared = {"plan": plan,
                  "source_inputs": [it.source_inputs(x_person, x_scene) for it in self.iterations],
                  "input_predictions": [it.input_predictions(x_person, x_scene) for it in self.iterations],
                  "inverse_degrees": tuple(1.0 / bags.degrees.to(x_person.dtype) for bags in plan.bags)}
        history = self._run_synchronous(self.num_steps, edge_index, (actions, activities), edge_type, (), {}, {},
                                        shared=shared)
        outputs = [step.state for step in history]
        if not return_gates:
            return outputs
        if self.gated:
            gates = torch.stack([torch.cat(step.edge_state[NUM_SCENE_EDGE_TYPES:]) for step in history])
            return outputs, torch.empty_like(gates).index_copy(1, plan.edge_order, gates)
        return outputs, x_person.new_ones(len(history), edge_index.size(1))

    # -------------------------------------------------------------------- hooks
    def edge_update(self, edge_state: Tuple[Tensor, ...], state: Tuple[Tensor, Tensor], step: int, plan: ScenePlan,
                    source_inputs: Sequence[Tuple[Tensor, ...]]) -> Tuple[Tensor, ...]:
        r"""The message states :math:`\mathbf{m}^{(t)}` (``[P, M]``, ``[P, M]``, ``[B, M]``: one per type, over
        its source rows), followed by the gates :math:`g_e^{(t)}` of every type (``[E_r]``) when gated.

        :math:`\mathbf{m}_e^{(t)}` depends on the edge only through its source :math:`i` and its type
        :math:`r` (the recurrence reads :math:`\mathbf{m}_e^{(t-1)}`, :math:`\tilde{\mathbf{x}}_i` and
        :math:`\mathbf{c}_i^{(t-1)}`, and :math:`\mathbf{m}_e^{(0)} = \mathbf{0}`), so every edge's state is
        its source row of this type's table: exactly the per-edge recurrence, computed once per source.
        """
        weights = self.step_module(self.iterations, step)
        previous = edge_state[:NUM_SCENE_EDGE_TYPES] if step > 0 else None  # m^(0) = 0
        messages = weights.messages(previous, state, self.step_module(source_inputs, step), self.inplace_activation)
        if weights.gate is None:
            return messages
        return (*messages, *weights.gates(messages, state, plan))

    def message_and_aggregate(self, edge_state: Tuple[Tensor, ...], plan: ScenePlan,
                              inverse_degrees: Tuple[Tensor, ...]) -> Tuple[Tensor, Tensor, Tensor]:
        r"""The mean gated message of every type into its target rows,
        :math:`\operatorname{mean}_{e = (i \to j),\, r_e = r} g_e \mathbf{m}^{r}_i` (0 without such edges):
        one :func:`~graphrnn.nn.bags.bag_sum` per type over the source table, with the gates divided
        by the in-degree as per-edge weights, so no per-edge message is materialised."""
        messages = edge_state[:NUM_SCENE_EDGE_TYPES]
        edge_weights = inverse_degrees if not self.gated else tuple(
            gate * inverse for gate, inverse in zip(edge_state[NUM_SCENE_EDGE_TYPES:], inverse_degrees))
        return tuple(bag_sum(messages[r], plan.bags[r], edge_weights[r].to(messages[r].dtype))
                     for r in range(NUM_SCENE_EDGE_TYPES))

    def update(self, aggr: Tuple[Tensor, Tensor, Tensor], step: int,
               input_predictions: Sequence[Tuple[Tensor, Tensor]]) -> Tuple[Tensor, Tensor]:
        r"""New predictions :math:`\mathbf{c}^{(t)}` of persons ``[P, A]`` and scenes ``[B, C]`` from the
        per-type means, through :math:`f` unless ``output_activation=False``.

        ``input_predictions`` holds :math:`\mathbf{W}_{xc} \tilde{\mathbf{x}}_j + \mathbf{b}_c` of every weight
        set, computed once in :meth:`forward`.
        """
        weights = self.step_module(self.iterations, step)
        person_input, scene_input = self.step_module(input_predictions, step)
        actions, activities = weights.message_predictions(
            torch.cat([aggr[PERSON_TO_PERSON], aggr[SCENE_TO_PERSON]], dim=1), aggr[PERSON_TO_SCENE])
        actions, activities = actions + person_input, activities + scene_input
        if not self.output_activation:
            return actions, activities
        return self.inplace_activation(actions), self.inplace_activation(activities)

    def extra_repr(self) -> str:
        return (f"{self.unary.person_proj.in_features}, {self.unary.scene_proj.in_features}, "
                f"{self.unary.person_proj.out_features}, "
                f"num_actions={self.num_actions}, num_activities={self.num_activities}, "
                f"message_channels={self.message_channels}, gated={self.gated}, "
                f"output_activation={self.output_activation}, " + super().extra_repr())


# -------------------------------------------------------------------- checks
def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _check_positive(**values: int) -> Tuple[int, ...]:
    """The values as Python ints (numpy's are taken), in order; a ValueError for one that is not an int >= 1."""
    for name, value in values.items():
        if not is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return tuple(int(value) for value in values.values())


def _check_width(x: Tensor, expected: int, name: str, argument: str) -> None:
    if x.dim() != 2 or x.size(1) != expected:
        raise ValueError(f"{name} must have shape [rows, {expected}] (the model was built with "
                         f"{argument}={expected}), got {list(x.shape)}; build the model with the data's width")


def _scene_fields(batch) -> Tuple[Tensor, ...]:
    missing = [name for name in _SCENE_FIELDS if getattr(batch, name, None) is None]
    if missing:
        raise ValueError(f"the batch lacks {missing}: build each scene with graphrnn.data.scene_graph and batch "
                         "them with graphrnn.data.DataLoader")
    return tuple(getattr(batch, name) for name in _SCENE_FIELDS)


def _check_node_counts(plan: ScenePlan, person_x: Tensor, scene_x: Tensor) -> None:
    if plan.num_persons != person_x.size(0) or plan.num_scenes != scene_x.size(0):
        raise ValueError(f"node_type marks {plan.num_persons} persons and {plan.num_scenes} scenes but "
                         f"person_x has {person_x.size(0)} rows and scene_x {scene_x.size(0)}; build scenes "
                         "with graphrnn.data.scene_graph")
    if plan.num_persons == 0:
        raise ValueError("the batch has no persons: every scene needs at least one person")
