r"""Sequence-level training objectives of Ranzato et al. (ICLR 2016): XENT, DAD, E2E, REINFORCE, MIXER.

Every objective is a ``loss_fn(model, batch)`` for :class:`~graphrnn.training.Trainer`
on a :class:`~graphrnn.models.Seq2Seq` and a batch of
:class:`~graphrnn.models.seq2seq.Seq2SeqPair`. Objectives whose behaviour changes over
training (DAD/E2E annealing, the MIXER stages) read the epoch from the Trainer they
are attached to (:meth:`SequenceObjective.attach`, or :func:`fit`), so checkpoints and
``resume`` keep working: a resumed Trainer restores its epoch, and the objective follows.

Random choices (DAD/E2E coin flips, REINFORCE samples) use ``generator`` when given,
else torch's global generator, which :class:`~graphrnn.training.Trainer` seeds from
``config.seed`` and stores in every checkpoint (so a resumed run repeats an
uninterrupted one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from graphrnn.data.vocab import Vocab
from graphrnn.training.trainer import Trainer

__all__ = ["xent_loss", "AnnealedProbability", "SequenceObjective", "Xent", "ScheduledSampling", "EndToEnd",
           "MixerSchedule", "Mixer", "mixed_loss", "reinforce_terms", "MixedLossDetails", "fit",
           "soft_embedding"]

RewardFn = Callable[[List[List[int]], List[List[int]]], Tensor]


def xent_loss(model: nn.Module, batch: Any) -> Tensor:
    r"""Token-level cross-entropy with teacher forcing (XENT), mean over target tokens:
    :math:`-\frac{1}{N}\sum_{t} \log p_\theta(w_{t+1} \mid w_{\le t}, \mathbf{x})`."""
    return nn.functional.cross_entropy(model(batch), batch.tgt)


def _uniform(size: int, generator: Optional[torch.Generator], device: torch.device) -> Tensor:
    if generator is None:
        return torch.rand(size, device=device)
    return torch.rand(size, generator=generator, device=generator.device).to(device)


def _sample(probs: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    if generator is None:
        return torch.multinomial(probs, 1).view(-1)
    return torch.multinomial(probs.to(generator.device), 1, generator=generator).view(-1).to(probs.device)


@dataclass
class AnnealedProbability:
    r"""A probability that rises linearly over epochs:
    :math:`p(e) = p_0 + (p_1 - p_0) \cdot \mathrm{clip}\big(\frac{e - e_0}{e_1 - e_0}, 0, 1\big)`.

    Args:
        start: :math:`p_0`, before ``begin_epoch``. end: :math:`p_1`, from ``end_epoch`` on.
        begin_epoch, end_epoch: :math:`e_0 \le e_1` (0-based epochs).
    """

    start: float = 0.0
    end: float = 0.25
    begin_epoch: int = 0
    end_epoch: int = 10

    def __post_init__(self) -> None:
        if not (0.0 <= self.start <= 1.0 and 0.0 <= self.end <= 1.0):
            raise ValueError(f"probabilities must lie in [0, 1], got start={self.start}, end={self.end}")
        if not 0 <= self.begin_epoch <= self.end_epoch:
            raise ValueError(f"need 0 <= begin_epoch <= end_epoch, got {self.begin_epoch} and {self.end_epoch}")

    def __call__(self, epoch: int) -> float:
        span = max(self.end_epoch - self.begin_epoch, 1)
        progress = min(max((epoch - self.begin_epoch) / span, 0.0), 1.0)
        return self.start + (self.end - self.start) * progress


class SequenceObjective:
    """A ``loss_fn(model, batch)`` that may depend on the current epoch of its Trainer."""

    def __init__(self) -> None:
        self._clock: Callable[[], int] = lambda: 0

    def attach(self, trainer) -> "SequenceObjective":
        """Reads the epoch from ``trainer`` (0-based epoch in progress = ``trainer.epoch``)."""
        self._clock = lambda: trainer.epoch
        return self

    @property
    def epoch(self) -> int:
        return self._clock()

    def __call__(self, model: nn.Module, batch: Any) -> Tensor:
        raise NotImplementedError


class Xent(SequenceObjective):
    """XENT as an objective object (see :func:`xent_loss`)."""

    def __call__(self, model: nn.Module, batch: Any) -> Tensor:
        return xent_loss(model, batch)


class _FeedbackObjective(SequenceObjective):
    r"""Cross-entropy where the input of step :math:`t+1` is, with probability :math:`p(e)`
    (per sequence and step), built from the model's own output at step :math:`t`
    (:meth:`feedback`) instead of the ground-truth word :math:`w_t`. The loss is always
    against the ground truth.

    Args:
        probability: :math:`p(e)` by epoch (an :class:`AnnealedProbability` or any callable).
        generator: coin flips (default: torch's global generator, see the module docstring).
    """

    def __init__(self, probability: Callable[[int], float], generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        self.probability = probability
        self.generator = generator

    def feedback(self, model: nn.Module, logits: Tensor) -> Tensor:
        """The input embedding ``[B, E]`` made from this step's logits ``[B, V]``."""
        raise NotImplementedError

    def __call__(self, model: nn.Module, batch: Any) -> Tensor:
        state = model.encode(batch)
        targets, mask = model.targets(batch)
        gold = model.embed(model.teacher_inputs(targets))
        p = float(self.probability(self.epoch))
        inputs, outputs = gold[:, 0], []
        for t in range(targets.size(1)):
            logits, state = model.decode_step(inputs, state)
            outputs.append(logits)
            if t + 1 < targets.size(1):
                inputs = gold[:, t + 1]
                if p > 0:
                    use_model = _uniform(targets.size(0), self.generator, targets.device) < p
                    inputs = torch.where(use_model.unsqueeze(1), self.feedback(model, logits), inputs)
        return nn.functional.cross_entropy(torch.stack(outputs, 1)[mask], targets[mask])


class ScheduledSampling(_FeedbackObjective):
    r"""DAD (scheduled sampling, Bengio et al. 2015): feed the model's greedy prediction
    :math:`\arg\max_w p_\theta(w \mid \cdot)` (no gradient through the choice) with an
    annealed probability."""

    def feedback(self, model: nn.Module, logits: Tensor) -> Tensor:
        return model.embed(logits.detach().argmax(-1))


class EndToEnd(_FeedbackObjective):
    r"""E2E: feed the renormalised top-:math:`k` softmax-weighted embedding, differentiable
    in the probabilities:

    .. math::
        \tilde{\mathbf{e}}_{t+1} = \sum_{i \in \mathrm{top}_k(\mathbf{p}_t)}
        \frac{p_{t,i}}{\sum_{j \in \mathrm{top}_k} p_{t,j}} E_i .

    Args: as :class:`_FeedbackObjective`, plus ``k`` (default ``10``, as in the paper).
    """

    def __init__(self, probability: Callable[[int], float], k: int = 10,
                 generator: Optional[torch.Generator] = None) -> None:
        super().__init__(probability, generator)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k

    def feedback(self, model: nn.Module, logits: Tensor) -> Tensor:
        return soft_embedding(logits, model.embedding.weight, self.k)


def soft_embedding(logits: Tensor, weight: Tensor, k: int) -> Tensor:
    """The renormalised top-``k`` softmax-weighted embedding ``[B, E]`` of logits ``[B, V]``."""
    top, index = torch.topk(torch.softmax(logits, dim=-1), min(k, logits.size(-1)), dim=-1)
    top = top / top.sum(-1, keepdim=True)
    return torch.einsum("bk,bke->be", top, weight[index])


@dataclass
class MixerSchedule:
    r"""MIXER's Algorithm 1: :math:`N^{XENT}` epochs of XENT, then for
    :math:`s = T-\Delta, T-2\Delta, \dots` (while :math:`s \ge 1`) :math:`N^{XE+R}` epochs with
    XENT on the first :math:`s` target steps and REINFORCE on the rest, the two losses
    weighted ``xent_weight`` / ``reinforce_weight``. (The paper writes the loop as
    ``for s = T, 1, -Δ`` with the first pass, ``s = T``, the XENT-only stage.)
    Defaults: the paper's translation setup, :math:`T=25, \Delta=3, N^{XENT}=25, N^{XE+R}=5`.
    """

    T: int = 25
    delta: int = 3
    xent_epochs: int = 25
    mixed_epochs: int = 5
    xent_weight: float = 0.5
    reinforce_weight: float = 0.5

    def __post_init__(self) -> None:
        for name in ("T", "delta"):
            if getattr(self, name) < 1:
                raise ValueError(f"MixerSchedule.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("xent_epochs", "mixed_epochs"):
            if getattr(self, name) < 0:
                raise ValueError(f"MixerSchedule.{name} must be >= 0, got {getattr(self, name)}")
        if not (0 <= self.xent_weight < math.inf and 0 <= self.reinforce_weight < math.inf):  # NaN fails too
            raise ValueError(f"MixerSchedule weights must be finite and >= 0, got xent_weight={self.xent_weight}, "
                             f"reinforce_weight={self.reinforce_weight}")

    def stages(self) -> List[Tuple[int, int]]:
        """``[(epochs, s), ...]``: ``(xent_epochs, T)`` then ``(mixed_epochs, s)`` for each later ``s``."""
        return [(self.xent_epochs, self.T)] + [(self.mixed_epochs, s) for s in range(self.T - self.delta, 0,
                                                                                       -self.delta)]

    @property
    def total_epochs(self) -> int:
        return sum(epochs for epochs, _ in self.stages())

    def xent_steps(self, epoch: int) -> int:
        """:math:`s` at a 0-based epoch (the last stage's after the schedule ends)."""
        done = 0
        for epochs, s in self.stages():
            done += epochs
            if epoch < done:
                return s
        return self.stages()[-1][1]


class MixedLossDetails(NamedTuple):
    """What :func:`mixed_loss` sampled: ``actions``/``logits``/``rewards``/``baselines`` at the
    REINFORCE positions (rows ``[M]``/``[M, V]``), the sequences ``[B, L]`` and the reward per sequence."""

    logits: Tensor
    actions: Tensor
    rewards: Tensor
    baselines: Tensor
    sequences: Tensor
    sequence_rewards: Tensor


def reinforce_terms(logits: Tensor, actions: Tensor, rewards: Tensor, baselines: Tensor) -> Tuple[Tensor, Tensor]:
    r"""REINFORCE with a learned baseline, summed over the positions given:

    .. math::
        L_{RL} = -\sum_t (r - \bar{r}_t)\, \log p_\theta(w_t), \qquad
        \frac{\partial L_{RL}}{\partial \mathbf{o}_t} = (r - \bar{r}_t)\big(\mathbf{p}_\theta - \mathbf{1}(w_t)\big),
        \qquad L_{b} = \sum_t (r - \bar{r}_t)^2 ,

    where :math:`(r - \bar{r}_t)` is a constant for the policy term and :math:`L_b`
    trains only the regressor (its input state is detached by the caller).

    Shapes: logits :math:`(M, V)`, actions/rewards/baselines :math:`(M)`. Returns ``(L_RL, L_b)``.
    """
    if logits.dim() != 2 or any(t.shape != (logits.size(0),) for t in (actions, rewards, baselines)):
        # e.g. rewards [B] for logits [M, V] broadcast silently into an [M, M] advantage before
        raise ValueError(f"reinforce_terms needs logits [M, V] and actions, rewards, baselines [M], got "
                         f"{[list(t.shape) for t in (logits, actions, rewards, baselines)]}; repeat each sequence's "
                         "reward at its positions")
    log_probs = torch.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)
    advantage = (rewards - baselines).detach()
    return -(advantage * log_probs).sum(), ((rewards - baselines) ** 2).sum()


def mixed_loss(model: nn.Module, batch: Any, xent_steps: int, reward_fn: RewardFn, max_len: int,
               xent_weight: float = 0.5, reinforce_weight: float = 0.5, eos: int = Vocab.eos,
               generator: Optional[torch.Generator] = None, return_details: bool = False):
    r"""One MIXER step: XENT on the first :math:`s` target tokens, REINFORCE on the rest.

    For a target :math:`w_1 \dots w_L`: the decoder reads the ground truth
    :math:`w_{1..s}`; if :math:`L > s` it then samples :math:`\hat{w}_{s+1}, \dots` from
    itself until ``<eos>`` or ``max_len`` tokens, and the whole sequence
    :math:`w_{1..s}\hat{w}_{s+1..}` gets the reward :math:`r` = ``reward_fn`` against
    :math:`w_{1..L}` (``<eos>`` stripped from both). The loss is

    .. math::
        L = \lambda_{X} \frac{1}{N_X} \sum_{t \le \min(s, L)} -\log p_\theta(w_t)
          + \lambda_{R} \frac{1}{N_R} \big(L_{RL} + L_b\big)

    with :math:`L_{RL}, L_b` of :func:`reinforce_terms` over the :math:`N_R` sampled
    positions (``<eos>`` included), :math:`\bar{r}_t` = ``model.baseline`` on the
    detached state that gives :math:`p_\theta(\hat{w}_t)`. ``xent_steps=0`` is plain
    REINFORCE (with a baseline).

    Args:
        reward_fn: ``(hypotheses, references) -> rewards [B]`` on token-id lists.
        max_len: longest sequence the decoder may produce (targets may be longer: then
            the sample runs to the target's length).
        generator: for the samples (default: torch's global generator).
        return_details: also return :class:`MixedLossDetails`.
    """
    if xent_steps < 0 or max_len < 1:
        raise ValueError(f"need xent_steps >= 0 and max_len >= 1, got {xent_steps} and {max_len}")
    roll = _rollout(model, batch, xent_steps, max_len, eos, generator)
    sequence_rewards = _rewards(reward_fn, roll.sequences, roll.targets, roll.lengths, roll.lengths > xent_steps,
                                eos).to(roll.targets.device)
    loss = xent_weight * roll.xent
    details = None
    if roll.actions.numel():
        # rows were collected step by step (time-major): order the rewards the same way
        rewards = sequence_rewards.unsqueeze(0).expand_as(roll.positions)[roll.positions]
        policy, regression = reinforce_terms(roll.logits, roll.actions, rewards.to(roll.logits.dtype),
                                             roll.baselines)
        loss = loss + reinforce_weight * (policy + regression) / roll.actions.numel()
        details = MixedLossDetails(roll.logits, roll.actions, rewards, roll.baselines, roll.sequences,
                                   sequence_rewards)
    if return_details:
        return loss, details
    return loss


class _Rollout(NamedTuple):
    xent: Tensor        # mean XENT over the teacher-forced positions
    logits: Tensor      # [M, V] at the sampled positions, time-major
    actions: Tensor     # [M] sampled tokens
    baselines: Tensor   # [M] r-bar of the detached states
    positions: Tensor   # [steps with samples, B] which rows sampled at each of those steps
    sequences: Tensor   # [B, L] prefix + samples, -1 where nothing was produced
    targets: Tensor     # [B, T] padded targets
    lengths: Tensor     # [B] target lengths


def _rollout(model: nn.Module, batch: Any, xent_steps: int, max_len: int, eos: int,
             generator: Optional[torch.Generator]) -> _Rollout:
    """Reads the gold prefix :math:`w_{1..s}`, then samples until ``<eos>`` (rows with :math:`L > s`)."""
    state = model.encode(batch)
    targets, mask = model.targets(batch)
    lengths = mask.sum(1)
    batch_size = targets.size(0)
    alive = lengths > xent_steps
    xent_positions, rl_positions, logits_rows, actions, baselines, tokens_out = [], [], [], [], [], []
    token = targets.new_full((batch_size,), model.bos)
    for t in range(max(int(lengths.max()), max_len)):
        in_xent = (t < xent_steps) & (t < lengths)
        if not bool(alive.any()) and not bool(in_xent.any()):
            break
        logits, state = model.decode_step(model.embed(token), state)
        is_rl = (t >= xent_steps) & alive
        gold = targets[:, t] if t < targets.size(1) else targets.new_full((batch_size,), eos)
        token = gold if t < xent_steps else _sample(torch.softmax(logits.detach(), dim=-1), generator)
        xent_positions.append((logits, gold, in_xent))
        if bool(is_rl.any()):
            logits_rows.append(logits[is_rl])
            actions.append(token[is_rl])
            baselines.append(model.baseline(state[0].detach()).squeeze(-1)[is_rl])
            rl_positions.append(is_rl)
        tokens_out.append(torch.where(is_rl | in_xent, token, torch.full_like(token, -1)))
        alive = alive & ~(is_rl & (token == eos))
    if not rl_positions:
        empty = targets.new_zeros(0)
        return _Rollout(_masked_xent(xent_positions), logits.new_zeros(0, logits.size(-1)), empty,
                        logits.new_zeros(0), alive.new_zeros(0, batch_size), torch.stack(tokens_out, 1), targets,
                        lengths)
    return _Rollout(_masked_xent(xent_positions), torch.cat(logits_rows), torch.cat(actions), torch.cat(baselines),
                    torch.stack(rl_positions, 0), torch.stack(tokens_out, 1), targets, lengths)


def _masked_xent(positions: Sequence[Tuple[Tensor, Tensor, Tensor]]) -> Tensor:
    logits = torch.stack([p[0] for p in positions], 1)
    gold = torch.stack([p[1] for p in positions], 1)
    mask = torch.stack([p[2] for p in positions], 1)
    if not bool(mask.any()):
        return logits.sum() * 0.0
    return nn.functional.cross_entropy(logits[mask], gold[mask])


def _rewards(reward_fn: RewardFn, sequences: Tensor, targets: Tensor, lengths: Tensor, rows: Tensor,
             eos: int) -> Tensor:
    """Reward of every sequence (0 for rows without REINFORCE positions)."""
    rewards = torch.zeros(sequences.size(0), dtype=torch.float32)
    index = rows.nonzero().view(-1).tolist()
    if not index:
        return rewards
    hyps = [_strip(sequences[i].tolist(), eos) for i in index]
    refs = [_strip(targets[i, :int(lengths[i])].tolist(), eos) for i in index]
    values = torch.as_tensor(reward_fn(hyps, refs), dtype=torch.float32).view(-1)
    if values.numel() != len(index):
        raise ValueError(f"reward_fn returned {values.numel()} rewards for {len(index)} sequences")
    rewards[index] = values
    return rewards


def _strip(tokens: List[int], eos: int) -> List[int]:
    out = []
    for token in tokens:
        if token == eos or token < 0:
            break
        out.append(token)
    return out


class Mixer(SequenceObjective):
    """MIXER: the :class:`MixerSchedule` stage of the current epoch decides the loss.

    Args:
        schedule: the stages. reward_fn: ``(hyps, refs) -> rewards [B]`` on token ids.
        max_len: longest generated sequence in REINFORCE (default: ``schedule.T``).
        generator: for the samples (default: torch's global generator).
    """

    def __init__(self, schedule: MixerSchedule, reward_fn: RewardFn, max_len: Optional[int] = None,
                 eos: int = Vocab.eos, generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        self.schedule, self.reward_fn, self.eos, self.generator = schedule, reward_fn, eos, generator
        self.max_len = max_len or schedule.T

    def __call__(self, model: nn.Module, batch: Any) -> Tensor:
        if self.epoch < self.schedule.xent_epochs:
            return xent_loss(model, batch)
        return mixed_loss(model, batch, self.schedule.xent_steps(self.epoch), self.reward_fn, self.max_len,
                          self.schedule.xent_weight, self.schedule.reinforce_weight, self.eos, self.generator)


def fit(model: nn.Module, objective: SequenceObjective, train_data: Any, config=None, **trainer_kwargs):
    """Trains ``model`` with ``objective`` through one :class:`~graphrnn.training.Trainer`.

    Returns:
        ``(trainer, history)``.
    """
    trainer = Trainer(model, objective, train_data, config, **trainer_kwargs)
    objective.attach(trainer)
    return trainer, trainer.fit()
