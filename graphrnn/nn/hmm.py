r"""A discrete hidden Markov model run as message passing over chain graphs."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

from graphrnn.counts import is_int
from graphrnn.graph.checks import check_batch_vector, check_edge_index, device_assert
from graphrnn.graph.plan import TopologicalPlan, build_topological_plan
from graphrnn.nn.one_line_repr import OneLineRepr
from graphrnn.terminal import is_terminal

from .recurrent import RecurrentMessagePassing
from .validation import check_num_graphs, check_on_device

__all__ = ["HMM", "ChainsPlan", "build_chains_plan"]

#: the batch attribute that carries an HMM's plan (see :meth:`HMM.planners`)
PLAN_KEY = "hmm_plan"

#: Default random init of :class:`HMM` when no generator is given (no global RNG is used).
DEFAULT_INIT_SEED = 0
#: Tolerance on the row sums of the probabilities given to :meth:`HMM.from_probs`.
ROW_SUM_ATOL = 1e-6
#: Elements of the ``[E, S, S]`` pairwise posteriors materialised at a time in the E-step.
_XI_CHUNK_ELEMENTS = 1 << 21


# --------------------------------------------------------------------------- passes
class _HMMPass(RecurrentMessagePassing):
    r"""One recursion of the HMM over a batch of chains (topological schedule).

    A pass holds no parameters: :meth:`run` hands it the log-probabilities of the call,
    which the hooks read while the schedule walks the levels.
    """

    def __init__(self, flow: str = "source_to_target") -> None:
        super().__init__(schedule="topological", aggr="sum", flow=flow)
        self._log_start: Optional[Tensor] = None
        self._log_trans: Optional[Tensor] = None

    def run(self, chains: "_Chains", node_inputs, log_start: Optional[Tensor] = None,
            log_trans: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        plan = chains.plan.backward if self.flow == "target_to_source" else chains.plan.forward
        self._log_start, self._log_trans = log_start, log_trans
        try:
            return self._run_plan(plan, None, node_inputs, {})
        finally:
            self._log_start = self._log_trans = None


class _ForwardPass(_HMMPass):
    r"""Sum-product forward recursion, :math:`\log\alpha`."""

    def initial_message(self, num_nodes: int) -> Tensor:
        return self._log_start.expand(num_nodes, -1)

    def message(self, state_j: Tuple[Tensor, ...]) -> Tensor:
        return torch.logsumexp(state_j[0].unsqueeze(2) + self._log_trans, dim=1)

    def update(self, aggr: Tuple[Tensor, ...], emission: Tensor) -> Tensor:
        return aggr[0] + emission


class _ViterbiPass(_HMMPass):
    r"""Max-product forward recursion, :math:`\log\delta` and backpointers :math:`\psi`."""

    def initial_message(self, num_nodes: int) -> Tuple[Tensor, Tensor]:
        start = self._log_start.expand(num_nodes, -1)
        return start, torch.full(start.shape, -1, dtype=torch.long, device=start.device)

    def message(self, state_j: Tuple[Tensor, ...]) -> Tuple[Tensor, Tensor]:
        best, argbest = (state_j[0].unsqueeze(2) + self._log_trans).max(dim=1)
        return best, argbest

    def update(self, aggr: Tuple[Tensor, ...], emission: Tensor) -> Tuple[Tensor, Tensor]:
        return aggr[0] + emission, aggr[1]


class _BackwardPass(_HMMPass):
    r"""Sum-product backward recursion, :math:`\log\beta` (run against the edges)."""

    def __init__(self) -> None:
        super().__init__(flow="target_to_source")

    def initial_message(self, num_nodes: int, emission: Tensor) -> Tensor:
        return emission.new_zeros(num_nodes, emission.size(1))

    def message(self, state_j: Tuple[Tensor, ...], emission_j: Tensor) -> Tensor:
        return torch.logsumexp(self._log_trans + (state_j[0] + emission_j).unsqueeze(1), dim=2)

    def update(self, aggr: Tuple[Tensor, ...]) -> Tensor:
        return aggr[0]


class _BacktracePass(_HMMPass):
    r"""Viterbi backtrace: :math:`\hat z_T = \arg\max \delta_T`, :math:`\hat z_t = \psi_{t+1}(\hat z_{t+1})`."""

    def __init__(self) -> None:
        super().__init__(flow="target_to_source")

    def initial_message(self, num_nodes: int, score: Tensor) -> Tensor:
        return score.argmax(dim=1)

    def message(self, state_j: Tuple[Tensor, ...], backpointer_j: Tensor) -> Tensor:
        return backpointer_j.gather(1, state_j[0].unsqueeze(1)).squeeze(1)

    def update(self, aggr: Tuple[Tensor, ...]) -> Tensor:
        return aggr[0]


# --------------------------------------------------------------------------- inputs
class _Passes(NamedTuple):
    """The four topological passes of an :class:`HMM`."""

    forward: _ForwardPass  # log alpha
    backward: _BackwardPass  # log beta
    viterbi: _ViterbiPass  # log delta, backpointers
    backtrace: _BacktracePass  # Viterbi path


def _new_passes() -> _Passes:
    return _Passes(_ForwardPass(), _BackwardPass(), _ViterbiPass(), _BacktracePass())


class _Chains(NamedTuple):
    """A validated batch of chains: its symbols and its :class:`ChainsPlan`."""

    x: Tensor  # [N] symbols
    plan: "ChainsPlan"

    @property
    def num_nodes(self) -> int:
        return self.plan.num_nodes

    @property
    def num_graphs(self) -> int:
        return self.plan.num_graphs

    @property
    def edge_index(self) -> Tensor:
        return self.plan.forward.edge_index


@dataclass(frozen=True, eq=False)
class ChainsPlan:
    """What the HMM's passes need about a batch of chains, built once (e.g. in the loader's collate).

    Attributes:
        forward / backward: the topological plans along and against the edges.
        first / last: ``[C]`` node ids of the first and last node of every chain.
        last_graph: ``[C]`` graph of every chain's last node.
        num_graphs (int): :math:`B`.
    """

    forward: TopologicalPlan
    backward: TopologicalPlan
    first: Tensor
    last: Tensor
    last_graph: Tensor
    num_graphs: int

    @property
    def num_nodes(self) -> int:
        return self.forward.num_nodes

    def to(self, device, non_blocking: bool = False) -> "ChainsPlan":
        return ChainsPlan(self.forward.to(device, non_blocking), self.backward.to(device, non_blocking),
                          self.first.to(device, non_blocking=non_blocking),
                          self.last.to(device, non_blocking=non_blocking),
                          self.last_graph.to(device, non_blocking=non_blocking), self.num_graphs)

    def __repr__(self) -> str:
        return f"ChainsPlan(num_nodes={self.num_nodes}, num_chains={self.first.numel()}, num_graphs={self.num_graphs})"


@dataclass(frozen=True)
class ChainsPlanner:
    """Builds :class:`ChainsPlan` of a batch; picklable into loader workers (``HMM.planners()``)."""

    def __call__(self, data) -> ChainsPlan:
        return build_chains_plan(data)


def build_chains_plan(data: Data) -> ChainsPlan:
    """Validates a batch of chain graphs (edges, ``batch``) and builds its :class:`ChainsPlan`.

    Raises:
        ValueError: if a node has two predecessors or successors, an edge joins two graphs,
            ``batch`` has the wrong shape, ids outside ``0..num_graphs-1`` or is not sorted.
    """
    if not isinstance(data, Data):
        raise ValueError(
            f"expected a chain graph or a batch of them (torch_geometric Data/Batch, e.g. from "
            f"graphrnn.data.chain_graph and DataLoader), got {type(data).__name__}"
        )
    x = getattr(data, "x", None)
    num_nodes = data.num_nodes if data.num_nodes is not None else (x.size(0) if isinstance(x, Tensor) else 0)
    edge_index = data.edge_index if data.edge_index is not None else torch.zeros(  # no edges: x's device, so that
        2, 0, dtype=torch.long, device=x.device if isinstance(x, Tensor) else None)  # the plan sits with the model
    check_edge_index(edge_index, num_nodes)
    given = getattr(data, "batch", None)
    known = data.num_graphs if isinstance(data, Batch) and given is not None else None
    batch, num_graphs = check_batch_vector(given, num_nodes, known, edge_index, empty=1)
    cpu_edges = edge_index.detach().cpu().long()
    in_degree = torch.bincount(cpu_edges[1], minlength=num_nodes)
    out_degree = torch.bincount(cpu_edges[0], minlength=num_nodes)
    if num_nodes > 0 and cpu_edges.numel() > 0 and max(int(in_degree.max()), int(out_degree.max())) > 1:
        several = int(((in_degree > 1) | (out_degree > 1)).nonzero()[0, 0])
        raise ValueError(
            f"HMM runs on chains (every node has at most one predecessor and one successor), but node "
            f"{several} has {int(in_degree[several])} incoming and {int(out_degree[several])} outgoing "
            "edges; build sequences with graphrnn.data.chain_graph"
        )
    forward = build_topological_plan(edge_index, num_nodes, getattr(data, "level", None), chains=False)
    backward = build_topological_plan(edge_index, num_nodes, getattr(data, "reverse_level", None),
                                      flow="target_to_source", chains=False)
    device = edge_index.device
    first = (in_degree == 0).nonzero().view(-1)
    last = (out_degree == 0).nonzero().view(-1)
    return ChainsPlan(forward, backward, first.to(device), last.to(device),
                      batch[last].to(device), num_graphs)


def _check_plan_graphs(plan: ChainsPlan, data: Data) -> None:
    """A carried plan sums chains into ``plan.num_graphs`` graphs by ``plan.last_graph``: the batch given must
    agree (its graph count on the host; the graph of every chain's last node with :func:`device_assert`), or the
    log-likelihoods would silently belong to other graphs."""
    batch = getattr(data, "batch", None)
    if batch is None:
        return
    num_graphs = data.num_graphs if isinstance(data, Batch) else None
    if num_graphs is not None and num_graphs != plan.num_graphs:
        raise ValueError(f"plan was built for a batch of {plan.num_graphs} graphs, but this batch has {num_graphs}; "
                         "rebuild it with HMM.planners() (or graphrnn.data.DataLoader(..., plans=hmm.planners()))")
    if isinstance(batch, Tensor) and batch.shape == (plan.num_nodes,) and plan.last.numel():
        device_assert((batch.index_select(0, plan.last.to(batch.device)) == plan.last_graph.to(batch.device)).all(),
                      "plan was built for another batch vector: a chain's graph differs from the one the plan "
                      "records; rebuild it with HMM.planners()")
    elif isinstance(batch, Tensor) and batch.shape != (plan.num_nodes,):
        raise ValueError(f"batch must have shape [num_nodes]=[{plan.num_nodes}], got {list(batch.shape)}")


class _Counts(NamedTuple):
    """Sufficient statistics of the HMM (float64) and the data log-likelihood."""

    start: Tensor  # [S]
    transition: Tensor  # [S, S]
    emission: Tensor  # [S, V]
    log_likelihood: float
    num_nodes: int


def _as_batches(data) -> List[Data]:
    """A list of batches from a loader, a list of graphs/batches, or a single graph/batch."""
    if isinstance(data, Data):
        return [data]
    if not isinstance(data, Iterable):
        raise ValueError(
            f"expected a DataLoader, a list of chain graphs/batches or one graph, got {type(data).__name__}"
        )
    batches = list(data) if iter(data) is data else data
    for item in batches:
        if not isinstance(item, Data):
            raise ValueError(
                f"expected chain graphs (torch_geometric Data/Batch, e.g. chain_graph(x)), got "
                f"{type(item).__name__}"
            )
    return batches


# --------------------------------------------------------------------------- the model
class HMM(OneLineRepr, nn.Module):
    r"""A discrete hidden Markov model whose inference runs as message passing over chains.

    A sequence :math:`x_1, \dots, x_T` (symbols in :math:`\{0, \dots, V-1\}`) is a chain
    graph :math:`1 \to 2 \to \dots \to T` (:func:`graphrnn.data.chain_graph`), hidden
    states :math:`z_t \in \{0, \dots, S-1\}`, with start probabilities :math:`\pi`,
    transitions :math:`A_{ij} = P(z_{t+1} = j \mid z_t = i)` and emissions
    :math:`B_j(v) = P(x_t = v \mid z_t = j)`. Every recursion below is a topological
    pass of :class:`~graphrnn.nn.RecurrentMessagePassing`: one level per time step,
    all sequences of a mini-batch at once, in log space (``logsumexp``).

    **Forward** (sum-product, along the edges):

    .. math::
        \alpha_1(j) = \pi_j B_j(x_1), \qquad
        \alpha_t(j) = \Big[\sum_i \alpha_{t-1}(i) A_{ij}\Big] B_j(x_t), \qquad
        p(x_{1:T}) = \sum_j \alpha_T(j).

    **Backward** (the same schedule with ``flow="target_to_source"``):

    .. math::
        \beta_T(i) = 1, \qquad \beta_t(i) = \sum_j A_{ij} B_j(x_{t+1}) \beta_{t+1}(j).

    **Posteriors** (node and edge marginals):

    .. math::
        \gamma_t(i) = \frac{\alpha_t(i) \beta_t(i)}{p(x_{1:T})}, \qquad
        \xi_t(i, j) = \frac{\alpha_t(i) A_{ij} B_j(x_{t+1}) \beta_{t+1}(j)}{p(x_{1:T})}.

    **Viterbi** (max-product forward with backpointers, then a backtrace that is a
    reversed pass):

    .. math::
        \delta_1(j) = \pi_j B_j(x_1), \quad
        \delta_t(j) = \max_i \delta_{t-1}(i) A_{ij} \, B_j(x_t), \quad
        \psi_t(j) = \arg\max_i \delta_{t-1}(i) A_{ij}, \quad
        \hat z_T = \arg\max_j \delta_T(j), \quad \hat z_t = \psi_{t+1}(\hat z_{t+1}).

    **EM** (Baum–Welch, :meth:`fit_em`), with sums over all sequences of the data and
    an optional pseudo-count :math:`\lambda` (0 gives maximum likelihood):

    .. math::
        \pi_i \propto \lambda + \sum_{\text{seq}} \gamma_1(i), \qquad
        A_{ij} \propto \lambda + \sum_{\text{seq}} \sum_{t<T} \xi_t(i, j), \qquad
        B_j(v) \propto \lambda + \sum_{\text{seq}} \sum_{t:\, x_t = v} \gamma_t(j).

    Each EM iteration never decreases the log-likelihood (for :math:`\lambda = 0`).
    :meth:`fit_supervised` uses the same updates with observed states (counts of
    first states, transitions and emissions, plus add-:math:`\alpha` smoothing).

    Parameters are unconstrained logits (``start_logits``, ``transition_logits``,
    ``emission_logits``) normalised by a softmax over the last dimension, so the
    log-likelihood can also be trained by gradient descent. A probability of exactly
    zero is a logit of ``-inf`` (from :meth:`from_probs` or an M-step); such zeros
    stay zero under EM. A sequence of probability zero has log-likelihood ``-inf``
    and NaN posteriors.

    A graph with 0 nodes has log-likelihood 0 (the empty product), an empty
    posterior and an empty Viterbi path. A graph made of several disjoint chains has
    the sum of their log-likelihoods. Graphs must be chains: every node has at most
    one predecessor and one successor.

    Args:
        num_states (int): number of hidden states :math:`S`.
        num_symbols (int): number of observable symbols :math:`V`.
        generator (torch.Generator, optional): random source of the initial logits
            (see :meth:`reset_parameters`).
        dtype, device: of the parameters; use ``torch.float64`` for exact comparisons.

    Shapes:
        - **input:** a :class:`~torch_geometric.data.Data` or PyG ``Batch`` of chain
          graphs with ``x`` ``LongTensor`` :math:`(N)`, ``edge_index`` :math:`(2, E)`,
          ``batch`` :math:`(N)` (absent for a single graph, which then counts as
          :math:`B = 1`); optional ``level`` / ``reverse_level`` from
          :class:`~graphrnn.data.TopologicalLevels` are used when present;
          ``y`` ``LongTensor`` :math:`(N)` states for :meth:`fit_supervised`.
        - **output:** :meth:`log_likelihood` :math:`(B)`, :meth:`posterior`
          :math:`(N, S)`, :meth:`pairwise_posterior` :math:`(E, S, S)`,
          :meth:`viterbi` ``LongTensor`` :math:`(N)`.
    """

    def __init__(self, num_states: int, num_symbols: int, *, generator: Optional[torch.Generator] = None,
                 dtype: Optional[torch.dtype] = None, device: Optional[Union[str, torch.device]] = None) -> None:
        super().__init__()
        for name, value in (("num_states", num_states), ("num_symbols", num_symbols)):
            if not is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        num_states, num_symbols = int(num_states), int(num_symbols)
        self.num_states = num_states
        self.num_symbols = num_symbols
        factory = {"dtype": dtype, "device": device}
        self.start_logits = nn.Parameter(torch.empty(num_states, **factory))
        self.transition_logits = nn.Parameter(torch.empty(num_states, num_states, **factory))
        self.emission_logits = nn.Parameter(torch.empty(num_states, num_symbols, **factory))
        # Parameter-free message-passing passes of this model, kept out of the module tree (and the repr).
        self._passes = _new_passes()
        self.reset_parameters(generator)

    # ------------------------------------------------------------- parameters
    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        r"""Draws every logit from :math:`\mathcal{N}(0, 1)`.

        Args:
            generator (torch.Generator, optional): the random source. ``None`` uses a
                new generator seeded with :data:`DEFAULT_INIT_SEED`, so construction is
                deterministic and never touches the global RNG; pass your own
                generators for different random restarts.
        """
        if generator is None:
            generator = torch.Generator().manual_seed(DEFAULT_INIT_SEED)
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        with torch.no_grad():
            for param in (self.start_logits, self.transition_logits, self.emission_logits):
                draw = torch.randn(param.shape, generator=generator, dtype=torch.float64,
                                   device=generator.device)
                param.copy_(draw)

    @classmethod
    def from_probs(cls, start, transition, emission) -> "HMM":
        r"""An HMM with the given probabilities (lists, numpy arrays or tensors).

        Args:
            start: :math:`\pi`, shape :math:`(S)`.
            transition: :math:`A`, shape :math:`(S, S)`, rows sum to 1.
            emission: :math:`B`, shape :math:`(S, V)`, rows sum to 1.

        The parameters get the floating dtype of the inputs (``torch.float64`` inputs
        give a float64 model; integer inputs the default dtype).

        Raises:
            ValueError: on wrong shapes, negative or non-finite entries, or rows that do
                not sum to 1 within :data:`ROW_SUM_ATOL`.
        """
        tensors = {name: _float_tensor(value, name) for name, value in
                   (("start", start), ("transition", transition), ("emission", emission))}
        start, transition, emission = tensors["start"], tensors["transition"], tensors["emission"]
        if start.dim() != 1 or start.numel() == 0:
            raise ValueError(f"start must have shape [num_states] with num_states >= 1, got {list(start.shape)}")
        num_states = start.numel()
        if transition.shape != (num_states, num_states):
            raise ValueError(
                f"transition must have shape [num_states, num_states]=[{num_states}, {num_states}] "
                f"(num_states from start), got {list(transition.shape)}"
            )
        if emission.dim() != 2 or emission.size(0) != num_states or emission.size(1) == 0:
            raise ValueError(
                f"emission must have shape [num_states, num_symbols]=[{num_states}, V] with V >= 1, "
                f"got {list(emission.shape)}"
            )
        for name, probs in tensors.items():
            _check_distribution(probs, name)
        dtype = torch.promote_types(torch.promote_types(start.dtype, transition.dtype), emission.dtype)
        model = cls(num_states, emission.size(1), dtype=dtype, device=start.device)
        with torch.no_grad():
            model.start_logits.copy_(start.log())
            model.transition_logits.copy_(transition.log())
            model.emission_logits.copy_(emission.log())
        return model

    @property
    def start_probs(self) -> Tensor:
        r""":math:`\pi`, shape :math:`(S)`."""
        return torch.softmax(self.start_logits, dim=-1)

    @property
    def transition_probs(self) -> Tensor:
        r""":math:`A`, shape :math:`(S, S)`, rows sum to 1."""
        return torch.softmax(self.transition_logits, dim=-1)

    @property
    def emission_probs(self) -> Tensor:
        r""":math:`B`, shape :math:`(S, V)`, rows sum to 1."""
        return torch.softmax(self.emission_logits, dim=-1)

    def _log_params(self) -> Tuple[Tensor, Tensor, Tensor]:
        return (torch.log_softmax(self.start_logits, dim=-1), torch.log_softmax(self.transition_logits, dim=-1),
                torch.log_softmax(self.emission_logits, dim=-1))

    # -------------------------------------------------------------- inference
    def forward(self, x, edge_index: Optional[Tensor] = None, *, batch: Optional[Tensor] = None,
                num_graphs: Optional[int] = None, plan: Optional["ChainsPlan"] = None) -> Tensor:
        r""":meth:`log_likelihood` of every graph, shape :math:`(B)`. Two forms:

        - ``model(x, edge_index, batch=None, num_graphs=None, plan=None)`` over tensors, as a PyG
          layer: ``x`` ``LongTensor [N]`` symbols, chains in ``edge_index``, ``batch`` ``[N]``;
        - ``model(data)`` over a (batch of) :func:`~graphrnn.data.chain_graph` graph(s).
        """
        if isinstance(x, Data):
            if edge_index is not None or batch is not None or plan is not None:
                raise TypeError("pass either a batch of chain graphs or the tensors (x, edge_index, batch=...)")
            return self.log_likelihood(x)
        if not isinstance(x, Tensor) or not isinstance(edge_index, Tensor):
            raise TypeError(f"pass x (LongTensor [N]) and edge_index (LongTensor [2, E]), or a batch of chain graphs; "
                            f"got {type(x).__name__} and {type(edge_index).__name__}")
        if plan is not None and not isinstance(plan, ChainsPlan):
            raise TypeError(f"plan must be a ChainsPlan (from HMM.planners() or build_chains_plan), got "
                            f"{type(plan).__name__}")
        if num_graphs is not None:
            check_num_graphs(num_graphs, "HMM")
            if batch is None and num_graphs != 1:  # it was ignored: one log-likelihood came back
                raise ValueError(f"HMM: num_graphs={num_graphs} needs batch (the graph of every node); without batch "
                                 "all nodes form one graph")
        num_graphs = num_graphs if num_graphs is not None else (plan.num_graphs if plan is not None else None)
        data = Data(x=x, edge_index=edge_index, num_nodes=x.size(0))
        if batch is not None:
            data = Batch(x=x, edge_index=edge_index, num_nodes=x.size(0), batch=batch)
            if num_graphs is not None:
                data._num_graphs = num_graphs
        if plan is not None:
            setattr(data, PLAN_KEY, plan)
        return self.log_likelihood(data)

    def log_likelihood(self, batch: Data) -> Tensor:
        r""":math:`\log p(x_{1:T})` of every graph, shape :math:`(B)` (differentiable).

        Raises:
            ValueError: on symbols outside ``0..num_symbols-1``, non-integer ``x`` or
                graphs that are not chains.
        """
        chains = self._chains(batch)
        log_start, log_trans, log_emit = self._log_params()
        if chains.num_nodes == 0:  # log 1 per graph, through the (empty) sum of the parameters so that a backward runs
            return log_start.new_zeros(chains.num_graphs) + log_start[:0].sum()
        alpha = self._alpha(chains, log_start, log_trans, self._node_emissions(chains, log_emit))
        per_chain = torch.logsumexp(alpha.index_select(0, chains.plan.last), dim=1)
        return self._per_graph(chains, per_chain)

    def posterior(self, batch: Data) -> Tensor:
        r"""Node marginals :math:`\gamma_t(i) = P(z_t = i \mid x)`, shape :math:`(N, S)`."""
        chains = self._chains(batch)
        log_start, log_trans, log_emit = self._log_params()
        if chains.num_nodes == 0:
            return log_start.new_zeros(0, self.num_states)
        emission = self._node_emissions(chains, log_emit)
        alpha = self._alpha(chains, log_start, log_trans, emission)
        beta = self._beta(chains, log_trans, emission)
        joint = alpha + beta
        return torch.exp(joint - torch.logsumexp(joint, dim=1, keepdim=True))

    def pairwise_posterior(self, batch: Data) -> Tensor:
        r"""Edge marginals :math:`\xi(i, j) = P(z_u = i, z_v = j \mid x)` for every edge
        :math:`u \to v` of ``batch.edge_index``, shape :math:`(E, S, S)`."""
        chains = self._chains(batch)
        log_start, log_trans, log_emit = self._log_params()
        if chains.edge_index.size(1) == 0:
            return log_start.new_zeros(0, self.num_states, self.num_states)
        emission = self._node_emissions(chains, log_emit)
        alpha = self._alpha(chains, log_start, log_trans, emission)
        beta = self._beta(chains, log_trans, emission)
        return torch.exp(self._log_xi(chains.edge_index, alpha, beta, emission, log_trans))

    @torch.no_grad()
    def viterbi(self, batch: Data, return_log_prob: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        r"""Most likely state path, ``LongTensor`` :math:`(N)` (one state per node).

        Args:
            return_log_prob (bool): also return :math:`\max_z \log p(x, z)` per graph,
                shape :math:`(B)`.
        """
        chains = self._chains(batch)
        log_start, log_trans, log_emit = self._log_params()
        if chains.num_nodes == 0:
            path = torch.zeros(0, dtype=torch.long, device=chains.x.device)
            return (path, log_start.new_zeros(chains.num_graphs)) if return_log_prob else path
        emission = self._node_emissions(chains, log_emit)
        score, backpointer = self._passes.viterbi.run(chains, {"emission": emission}, log_start, log_trans)
        (path,) = self._passes.backtrace.run(chains, {"score": score, "backpointer": backpointer})
        if not return_log_prob:
            return path
        return path, self._per_graph(chains, score.index_select(0, chains.plan.last).max(dim=1).values)

    def _alpha(self, chains: _Chains, log_start: Tensor, log_trans: Tensor, emission: Tensor) -> Tensor:
        return self._passes.forward.run(chains, {"emission": emission}, log_start, log_trans)[0]

    def _beta(self, chains: _Chains, log_trans: Tensor, emission: Tensor) -> Tensor:
        return self._passes.backward.run(chains, {"emission": emission}, log_trans=log_trans)[0]

    @staticmethod
    def _log_xi(edge_index: Tensor, alpha: Tensor, beta: Tensor, emission: Tensor, log_trans: Tensor) -> Tensor:
        src, dst = edge_index
        log_z = torch.logsumexp(alpha[src] + beta[src], dim=1)  # log p(x) of each edge's chain
        right = emission[dst] + beta[dst]
        return alpha[src].unsqueeze(2) + log_trans + right.unsqueeze(1) - log_z.view(-1, 1, 1)

    @staticmethod
    def _node_emissions(chains: _Chains, log_emit: Tensor) -> Tensor:
        """:math:`\\log B_j(x_v)` for every node, ``[N, S]``."""
        return log_emit.t().index_select(0, chains.x)

    @staticmethod
    def _per_graph(chains: _Chains, per_chain: Tensor) -> Tensor:
        out = per_chain.new_zeros(chains.num_graphs)
        return out.index_add(0, chains.plan.last_graph, per_chain)

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, lengths: Union[Sequence[int], Tensor], generator: torch.Generator
               ) -> Tuple[List[Tensor], List[Tensor]]:
        r"""Samples one sequence per entry of ``lengths``, all sequences in parallel.

        Args:
            lengths: non-negative sequence lengths :math:`T_b`, shape :math:`(B)`.
            generator (torch.Generator): the only random source.

        Returns:
            ``(states, symbols)``: two lists of :math:`B` ``LongTensor`` :math:`(T_b)`;
            ``chain_graph(symbols[b], y=states[b])`` is a labelled sequence.
        """
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        lengths = _lengths(lengths)
        device = self.start_logits.device
        num = lengths.numel()
        longest = int(lengths.max()) if num > 0 else 0
        states = torch.zeros(num, longest, dtype=torch.long)
        symbols = torch.zeros(num, longest, dtype=torch.long)
        start, trans, emit = (p.detach().to(device="cpu") for p in
                              (self.start_probs, self.transition_probs, self.emission_probs))
        if num > 0 and longest > 0:
            current = torch.multinomial(start.expand(num, -1), 1, generator=generator).squeeze(1)
            for t in range(longest):
                states[:, t] = current
                symbols[:, t] = torch.multinomial(emit[current], 1, generator=generator).squeeze(1)
                if t + 1 < longest:
                    current = torch.multinomial(trans[current], 1, generator=generator).squeeze(1)
        mask = torch.arange(longest).unsqueeze(0) < lengths.unsqueeze(1)
        split = lengths.tolist()
        return ([s.to(device) for s in states[mask].split(split)],
                [s.to(device) for s in symbols[mask].split(split)])

    # ------------------------------------------------------------------ fitting
    def fit_em(self, loader, num_iterations: int = 100, tol: Optional[float] = 1e-6, pseudocount: float = 0.0,
               progress: bool = True) -> List[float]:
        r"""Baum–Welch: fits the parameters to unlabelled chains by expectation–maximisation.

        Each iteration runs the forward and backward passes over every batch of
        ``loader`` (E-step: expected counts from :math:`\gamma` and :math:`\xi`, summed
        with tensor operations) and sets the probabilities to the normalised counts
        (M-step, see the class docstring). Rows without any expected count (a state
        never visited) keep their previous values.

        Args:
            loader: a :class:`~graphrnn.data.DataLoader`, a list of chain graphs or
                batches, or one graph/batch; iterated once per iteration.
            num_iterations (int): maximum number of M-steps.
            tol (float, optional): stop when an iteration improves the total
                log-likelihood by less than ``tol * |log-likelihood|``; ``None`` runs every
                iteration.
            pseudocount (float): :math:`\lambda \ge 0` added to every count (a tiny
                value such as ``1e-3`` avoids zero probabilities; then EM maximises a
                smoothed objective and the likelihood alone may dip slightly).
            progress (bool): show a tqdm progress bar.

        Returns:
            list of float: the total log-likelihood of the data before each M-step and
            after the last one, so ``history[-1]`` is that of the returned parameters
            and ``len(history) <= num_iterations + 1``.

        Raises:
            ValueError: if the data holds no symbol at all, or on bad input (see
                :meth:`log_likelihood`).
        """
        if not is_int(num_iterations) or num_iterations < 0:
            raise ValueError(f"num_iterations must be a non-negative int, got {num_iterations!r}")
        if tol is not None and not tol >= 0:
            raise ValueError(f"tol must be >= 0 or None, got {tol!r}")
        _check_pseudocount(pseudocount, "pseudocount")
        batches = _as_batches(loader)
        history: List[float] = []
        # a bar only on a terminal: in a log file its carriage-return redraws would pile up
        bar = tqdm(total=num_iterations, desc="EM", disable=not (progress and is_terminal()), unit="it")
        try:
            for iteration in range(num_iterations + 1):
                counts = self._expected_counts(batches)
                history.append(counts.log_likelihood)
                bar.set_postfix(loglik=f"{counts.log_likelihood:.6g}")
                if iteration == num_iterations or (
                        tol is not None and iteration > 0
                        and history[-1] - history[-2] <= tol * abs(history[-2])):
                    break
                self._set_from_counts(counts, pseudocount, keep_unseen=True)
                bar.update(1)
        finally:
            bar.close()
        return history

    @torch.no_grad()
    def fit_supervised(self, data, smoothing: float = 0.0) -> "HMM":
        r"""Sets the probabilities to the normalised counts of labelled sequences.

        Every graph needs ``y`` (``LongTensor`` :math:`(N)`, the state of every node),
        e.g. ``chain_graph(symbols, y=states)``. Counts are of first states, state
        transitions along the edges, and (state, symbol) pairs, each plus
        ``smoothing`` (add-:math:`\alpha`). A row without any count (a state never
        seen) becomes uniform.

        Args:
            data: a loader, a list of graphs/batches, or one graph/batch.
            smoothing (float): :math:`\alpha \ge 0` added to every count.

        Returns:
            ``self``.

        Raises:
            ValueError: if ``y`` is missing, not integer, of the wrong shape or holds a
                state outside ``0..num_states-1``; if there is no node at all; or on bad
                ``x`` (see :meth:`log_likelihood`).
        """
        _check_pseudocount(smoothing, "smoothing")
        S, V = self.num_states, self.num_symbols
        start = torch.zeros(S, dtype=torch.float64, device=self.start_logits.device)
        trans = torch.zeros(S * S, dtype=torch.float64, device=start.device)
        emit = torch.zeros(S * V, dtype=torch.float64, device=start.device)
        num_nodes = 0
        for item in _as_batches(data):
            chains = self._chains(item)
            y = self._states(item, chains.num_nodes)
            src, dst = chains.edge_index
            ones = torch.ones(chains.num_nodes, dtype=torch.float64, device=start.device)
            first = chains.plan.first
            start.index_add_(0, y.index_select(0, first), ones.index_select(0, first))
            trans.index_add_(0, y[src] * S + y[dst], ones[: src.numel()])
            emit.index_add_(0, y * V + chains.x, ones)
            num_nodes += chains.num_nodes
        if num_nodes == 0:
            raise ValueError("fit_supervised needs at least one labelled node; all sequences are empty")
        counts = _Counts(start, trans.view(S, S), emit.view(S, V), 0.0, num_nodes)
        self._set_from_counts(counts, smoothing, keep_unseen=False)
        return self

    @torch.no_grad()
    def _expected_counts(self, batches: List[Data]) -> _Counts:
        """E-step over all batches: expected counts (float64) and the total log-likelihood."""
        S, V = self.num_states, self.num_symbols
        device = self.start_logits.device
        start = torch.zeros(S, dtype=torch.float64, device=device)
        trans = torch.zeros(S, S, dtype=torch.float64, device=device)
        emit = torch.zeros(V, S, dtype=torch.float64, device=device)
        total, num_nodes = 0.0, 0
        log_start, log_trans, log_emit = self._log_params()
        for item in batches:
            chains = self._chains(item)
            if chains.num_nodes == 0:
                continue
            emission = self._node_emissions(chains, log_emit)
            alpha = self._alpha(chains, log_start, log_trans, emission)
            beta = self._beta(chains, log_trans, emission)
            joint = alpha + beta
            gamma = torch.exp(joint - torch.logsumexp(joint, dim=1, keepdim=True)).double()
            start += gamma.index_select(0, chains.plan.first).sum(0)
            emit.index_add_(0, chains.x, gamma)
            edges = chains.edge_index
            step = max(1, _XI_CHUNK_ELEMENTS // (S * S))
            for first in range(0, edges.size(1), step):
                log_xi = self._log_xi(edges[:, first:first + step], alpha, beta, emission, log_trans)
                trans += torch.exp(log_xi).double().sum(0)
            total += float(torch.logsumexp(alpha.index_select(0, chains.plan.last), dim=1).double().sum())
            num_nodes += chains.num_nodes
        if num_nodes == 0:
            raise ValueError("fit_em needs at least one symbol; the data is empty (no batches, or only "
                             "empty sequences)")
        return _Counts(start, trans, emit.t(), total, num_nodes)

    @torch.no_grad()
    def _set_from_counts(self, counts: _Counts, pseudocount: float, keep_unseen: bool) -> None:
        for param, count in ((self.start_logits, counts.start), (self.transition_logits, counts.transition),
                             (self.emission_logits, counts.emission)):
            count = count + pseudocount
            total = count.sum(-1, keepdim=True)
            new = count.log() - total.log()
            fallback = torch.log_softmax(param.double(), -1) if keep_unseen else torch.zeros_like(new)
            param.copy_(torch.where(total > 0, new, fallback))

    # ---------------------------------------------------------------- validation
    def planners(self) -> dict:
        """``{"hmm_plan": planner}`` for ``graphrnn.data.DataLoader(..., plans=model.planners())``: batches
        then carry their :class:`ChainsPlan` and every method reads nothing on the host."""
        return {PLAN_KEY: ChainsPlanner()}

    def _chains(self, data: Data) -> _Chains:
        if isinstance(data, Data):
            check_on_device("HMM", self.start_logits.device, **{f"data.{name}": getattr(data, name, None)
                                                                  for name in ("x", "edge_index", "batch")})
        plan = getattr(data, PLAN_KEY, None) if isinstance(data, Data) else None
        carried = plan is not None
        if plan is None:
            plan = build_chains_plan(data)
        elif not isinstance(plan, ChainsPlan):
            raise TypeError(f"data.{PLAN_KEY} must be a ChainsPlan (from HMM.planners()), got {type(plan).__name__}")
        num_nodes = data.num_nodes if data.num_nodes is not None else plan.num_nodes
        # with a carried plan nothing is read on the host (an async assert); else the detailed check
        x = self._symbols(getattr(data, "x", None), num_nodes, checked_on_device=carried)
        edge_index = data.edge_index if data.edge_index is not None else x.new_zeros(2, 0)
        plan.forward.check(edge_index, num_nodes, "source_to_target")
        if carried:
            _check_plan_graphs(plan, data)
        return _Chains(x, plan)

    def _symbols(self, x, num_nodes: int, checked_on_device: bool = False) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(f"data.x must be a LongTensor of symbols [num_nodes], got {type(x).__name__}")
        if x.dim() != 1 or x.size(0) != num_nodes:
            raise ValueError(
                f"data.x must be a LongTensor of symbols with shape [num_nodes]=[{num_nodes}], got "
                f"{list(x.shape)}; an HMM observes one discrete symbol per node"
            )
        if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
            raise ValueError(
                f"data.x must hold integer symbol ids (torch.long), got dtype {x.dtype}; map tokens to ids "
                "in 0..num_symbols-1 first (or .long() whole numbers)"
            )
        x = x.long()
        if checked_on_device:  # no host read: an asynchronous assert on an accelerator
            if x.numel():
                device_assert(((x >= 0) & (x < self.num_symbols)).all(),
                              f"x holds a symbol outside 0..{self.num_symbols - 1} (the HMM has "
                              f"num_symbols={self.num_symbols})")
        else:
            _check_range(x, self.num_symbols, "symbol", "x", "num_symbols")
        return x

    def _states(self, data: Data, num_nodes: int) -> Tensor:
        y = getattr(data, "y", None)
        if not isinstance(y, Tensor):
            raise ValueError("fit_supervised needs data.y, the state of every node: chain_graph(symbols, y=states)")
        if y.dim() != 1 or y.size(0) != num_nodes:
            raise ValueError(f"data.y must be a LongTensor of states with shape [num_nodes]=[{num_nodes}], "
                             f"got {list(y.shape)}")
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise ValueError(f"data.y must hold integer state ids (torch.long), got dtype {y.dtype}")
        y = y.long()
        _check_range(y, self.num_states, "state", "y", "num_states")
        return y

    def extra_repr(self) -> str:
        return f"num_states={self.num_states}, num_symbols={self.num_symbols}"


# --------------------------------------------------------------------------- helpers


def _check_range(ids: Tensor, size: int, what: str, name: str, limit: str) -> None:
    if ids.numel() == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        node = int(((ids < 0) | (ids >= size)).nonzero()[0, 0])
        raise ValueError(
            f"{name} holds {what} {bad} (first bad node {node}), but the HMM has {limit}={size} "
            f"(valid {what}s 0..{size - 1})"
        )


def _float_tensor(value, name: str) -> Tensor:
    try:
        tensor = value if isinstance(value, Tensor) else torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"could not convert {name} to a tensor of probabilities ({err})") from err
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"{name} must hold real probabilities, got dtype {tensor.dtype}")
    return tensor if tensor.is_floating_point() else tensor.to(torch.get_default_dtype())


def _check_distribution(probs: Tensor, name: str) -> None:
    if not bool(torch.isfinite(probs).all()):
        raise ValueError(f"{name} has a NaN or inf entry; probabilities must be finite")
    if bool((probs < 0).any()):
        raise ValueError(f"{name} has a negative entry ({float(probs.min()):.4g}); probabilities must be >= 0")
    sums = probs.double().sum(-1)
    bad = (sums - 1).abs() > ROW_SUM_ATOL
    if bool(bad.any()):
        where = "" if probs.dim() == 1 else f" (row {int(bad.view(-1).nonzero()[0, 0])})"
        value = float(sums.view(-1)[bad.view(-1)][0])
        raise ValueError(
            f"{name} must sum to 1 over its last dimension within {ROW_SUM_ATOL}, but sums to {value:.8g}{where}; "
            "normalise it (p / p.sum(-1, keepdim=True))"
        )


def _check_pseudocount(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _lengths(lengths) -> Tensor:
    try:
        tensor = lengths if isinstance(lengths, Tensor) else torch.as_tensor(lengths)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"lengths must be a list or 1-D tensor of ints ({err})") from err
    if tensor.dim() == 0:
        tensor = tensor.view(1)
    if tensor.dim() != 1 or (tensor.numel() > 0 and (tensor.is_floating_point() or tensor.dtype == torch.bool)):
        raise ValueError(f"lengths must be a 1-D list or tensor of ints, got {list(tensor.shape)} {tensor.dtype}")
    tensor = tensor.long().cpu()
    if tensor.numel() > 0 and int(tensor.min()) < 0:
        raise ValueError(f"lengths must be >= 0, got {int(tensor.min())}")
    return tensor
