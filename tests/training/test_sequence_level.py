"""Sequence-level objectives: REINFORCE gradient = formula, MIXER stages, E2E gradients, DAD, resume."""
import pytest
import torch
from torch_geometric.loader import DataLoader

from graphrnn.data.vocab import Vocab
from graphrnn.models.seq2seq import Seq2Seq, seq2seq_pair
from graphrnn.training import TrainConfig
from graphrnn.training.sequence_level import (
    AnnealedProbability,
    EndToEnd,
    Mixer,
    MixerSchedule,
    ScheduledSampling,
    fit,
    mixed_loss,
    reinforce_terms,
    soft_embedding,
    xent_loss,
)

V = 8


def pairs(count=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        src = torch.randint(3, 10, (int(torch.randint(1, 5, (1,), generator=g)),), generator=g)
        tgt = torch.cat([torch.randint(4, V, (int(torch.randint(1, 5, (1,), generator=g)),), generator=g),
                         torch.tensor([Vocab.eos])])
        out.append(seq2seq_pair(src, tgt))
    return out


def batch(count=4, seed=0):
    return next(iter(DataLoader(pairs(count, seed), batch_size=count)))


def model(seed=0, attention=None):
    torch.manual_seed(seed)
    return Seq2Seq(10, V, 5, attention=attention)


def overlap_reward(hyps, refs):
    return torch.tensor([len(set(h) & set(r)) / max(len(r), 1) for h, r in zip(hyps, refs)])


# ---------------------------------------------------------------- REINFORCE
def test_reinforce_terms_gradient_is_advantage_times_p_minus_onehot():
    logits = torch.randn(5, V, dtype=torch.float64, requires_grad=True)
    actions = torch.tensor([1, 4, 4, 7, 0])
    rewards = torch.rand(5, dtype=torch.float64)
    baselines = torch.rand(5, dtype=torch.float64, requires_grad=True)
    policy, regression = reinforce_terms(logits, actions, rewards, baselines)
    (policy + regression).backward()
    onehot = torch.nn.functional.one_hot(actions, V).double()
    expected = (rewards - baselines.detach()).unsqueeze(1) * (torch.softmax(logits.detach(), -1) - onehot)
    torch.testing.assert_close(logits.grad, expected)
    torch.testing.assert_close(baselines.grad, -2 * (rewards - baselines.detach()))


def test_reinforce_terms_in_expectation_is_the_exact_gradient_of_the_expected_reward():
    """Enumerate every sequence of a two-step policy over 3 tokens: the probability-weighted sum of
    reinforce_terms' gradients must be -grad E[r], computed by autograd on sum_s p(s) r(s)."""
    g = torch.Generator().manual_seed(0)
    first = torch.randn(3, dtype=torch.float64, generator=g).requires_grad_()
    second = torch.randn(3, 3, dtype=torch.float64, generator=g).requires_grad_()  # logits of w2 given w1
    reward = torch.rand(3, 3, dtype=torch.float64, generator=g)
    step_baseline = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64)  # r-bar_2 may depend on w1, not on w2

    def probability(a, b):
        return torch.softmax(first, 0)[a] * torch.softmax(second[a], 0)[b]

    expected = sum(probability(a, b) * reward[a, b] for a in range(3) for b in range(3))
    exact = torch.autograd.grad(expected, (first, second))
    surrogate = 0.0
    for a in range(3):
        for b in range(3):
            logits = torch.stack([first, second[a]])
            baselines = torch.stack([torch.tensor(0.4, dtype=torch.float64), step_baseline[a]])
            policy, _ = reinforce_terms(logits, torch.tensor([a, b]), reward[a, b].repeat(2), baselines)
            surrogate = surrogate + probability(a, b).detach() * policy
    estimate = torch.autograd.grad(surrogate, (first, second))
    for want, got in zip(exact, estimate):
        torch.testing.assert_close(got, -want)


def expected_overlap(net, data, length, emitted):
    """E[number of positions where the sample equals the reference], by enumerating all ``emitted``-token
    sequences of ``length`` (eos is masked out, so every sample has exactly ``length`` tokens)."""
    import itertools

    targets, mask = net.targets(data)
    total = 0.0
    for sequence in itertools.product(emitted, repeat=length):
        state, token, log_p = net.encode(data), torch.full((targets.size(0),), Vocab.bos), 0.0
        for t, word in enumerate(sequence):
            log_probs, state = net.step(token, state)
            token = torch.full_like(token, word)
            log_p = log_p + log_probs[:, word]
        reference = [targets[i][mask[i]].tolist()[:-1] for i in range(targets.size(0))]
        reward = torch.tensor([float(sum(w == r for w, r in zip(sequence, ref))) for ref in reference])
        total = total + (log_p.exp() * reward).sum()
    return total


def position_match_reward(hyps, refs):
    return torch.tensor([float(sum(h == r for h, r in zip(hyp, ref))) for hyp, ref in zip(hyps, refs)])


def test_mixed_loss_gradient_is_a_monte_carlo_estimate_of_the_exact_policy_gradient():
    """mixed_loss (REINFORCE only, learned baseline) on 2,000 copies of two pairs against the exact gradient
    of the expected reward, found by enumerating all 5**3 sequences with the model's own step function.
    Samples run to the targets' length (3 with <eos>, masked out here), so the loss averages 3 positions."""
    torch.manual_seed(0)
    net = Seq2Seq(10, 8, 6)
    net.never_emitted[Vocab.eos] = True  # fixed-length samples: the loss's 1 / (sampled positions) is constant
    emitted = [t for t in range(8) if not net.never_emitted[t]]
    pairs = [seq2seq_pair(torch.tensor([3, 4]), torch.tensor([5, 6, Vocab.eos])),
             seq2seq_pair(torch.tensor([7]), torch.tensor([4, 4, Vocab.eos]))]
    policy = [p for name, p in net.named_parameters() if not name.startswith("baseline")]
    two = next(iter(DataLoader(pairs, batch_size=2)))
    exact = torch.autograd.grad(expected_overlap(net, two, 3, emitted) / (2 * 3), policy)
    copies = next(iter(DataLoader(pairs * 2000, batch_size=4000)))
    loss = mixed_loss(net, copies, 0, position_match_reward, max_len=2, xent_weight=0.0, reinforce_weight=1.0,
                      generator=torch.Generator().manual_seed(1))
    estimate = torch.autograd.grad(loss, policy)
    flat_exact = -torch.cat([g.reshape(-1) for g in exact])
    flat_estimate = torch.cat([g.reshape(-1) for g in estimate])
    assert torch.nn.functional.cosine_similarity(flat_exact, flat_estimate, dim=0) > 0.95
    assert 0.9 < float(flat_estimate.norm() / flat_exact.norm()) < 1.1


def test_reinforce_rewards_see_the_prefix_and_the_sample_against_the_reference():
    net, data = model(), batch()
    seen = []

    def reward(hyps, refs):
        seen.append((hyps, refs))
        return overlap_reward(hyps, refs)

    _, details = mixed_loss(net, data, 2, reward, max_len=6, generator=torch.Generator().manual_seed(3),
                            return_details=True)
    hyps, refs = seen[0]
    targets, mask = net.targets(data)
    rl_rows = (mask.sum(1) > 2).nonzero().view(-1).tolist()
    assert refs == [targets[i][mask[i]].tolist()[:-1] for i in rl_rows]
    for hyp, i in zip(hyps, rl_rows):
        row = details.sequences[i].tolist()
        expected = row[:row.index(Vocab.eos)] if Vocab.eos in row else [t for t in row if t >= 0]
        assert hyp == expected and hyp[:2] == targets[i, :2].tolist()


def class_captions(count=30):
    """Context = one-hot class k, caption = [word k]: reward 1/2 for the right word first, 1/2 for stopping
    right after it, so the optimum (expected reward 1) is known."""
    return [seq2seq_pair(None, torch.tensor([4 + k % 3, Vocab.eos]), context=torch.eye(3)[k % 3])
            for k in range(count)]


def class_reward(hyps, refs):
    return torch.tensor([0.5 * float(hyp[:1] == ref[:1]) + 0.5 * float(len(hyp) == 1) for hyp, ref in zip(hyps, refs)])


def exact_class_reward(net):
    """E[class_reward] by enumeration: p(w1 = word k) (1/2 + 1/2 p(eos | word k)) + 1/2 p(w1 != word k, eos next)."""
    data = next(iter(DataLoader(class_captions(3), batch_size=3)))
    log_p1, state = net.step(torch.full((3,), Vocab.bos), net.encode(data))
    right = torch.tensor([4, 5, 6])
    total = 0.0
    for word in range(7):
        if net.never_emitted[word] or word == Vocab.eos:
            continue
        log_p2, _ = net.step(torch.full((3,), word), state)
        stop = log_p2[:, Vocab.eos].exp()
        p_word = log_p1[:, word].exp()
        total = total + p_word * (0.5 * (right == word).float() + 0.5 * stop)
    # a caption that is <eos> at once has length 0: reward 0
    return float(total.mean())


def test_reinforce_stage_raises_the_expected_reward_toward_the_known_optimum():
    torch.manual_seed(0)
    net = Seq2Seq(3, 7, 16, source="vector")
    data = next(iter(DataLoader(class_captions(), batch_size=30)))
    generator = torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    with torch.no_grad():
        before = exact_class_reward(net)
    for _ in range(60):
        optimizer.zero_grad()
        mixed_loss(net, data, 0, class_reward, max_len=3, xent_weight=0.0, reinforce_weight=1.0,
                   generator=generator).backward()
        optimizer.step()
    with torch.no_grad():
        after = exact_class_reward(net)
    assert before < 0.5 and after > 0.9 and after > before + 0.4


def test_mixed_loss_with_s_past_every_target_is_xent():
    net, data = model(), batch()
    torch.testing.assert_close(mixed_loss(net, data, 10, overlap_reward, 6, xent_weight=1.0),
                               xent_loss(net, data))


def test_mixed_loss_bad_arguments():
    with pytest.raises(ValueError, match="xent_steps >= 0 and max_len >= 1"):
        mixed_loss(model(), batch(), -1, overlap_reward, 5)
    with pytest.raises(ValueError, match="returned 1 rewards"):
        mixed_loss(model(), batch(), 0, lambda h, r: torch.zeros(1), 5)


# ------------------------------------------------------------ MIXER schedule
def test_mixer_schedule_default_stages_follow_algorithm_1():
    schedule = MixerSchedule()
    assert schedule.stages() == [(25, 25), (5, 22), (5, 19), (5, 16), (5, 13), (5, 10), (5, 7), (5, 4), (5, 1)]
    assert schedule.total_epochs == 65
    assert [schedule.xent_steps(e) for e in (0, 24, 25, 29, 30, 64, 100)] == [25, 25, 22, 22, 19, 1, 1]


def test_mixer_schedule_custom_and_invalid():
    assert MixerSchedule(T=5, delta=2, xent_epochs=3, mixed_epochs=1).stages() == [(3, 5), (1, 3), (1, 1)]
    assert MixerSchedule(T=4, delta=3, xent_epochs=0, mixed_epochs=2).stages() == [(0, 4), (2, 1)]
    with pytest.raises(ValueError, match="delta must be >= 1"):
        MixerSchedule(delta=0)
    with pytest.raises(ValueError, match="xent_epochs must be >= 0"):
        MixerSchedule(xent_epochs=-1)


def test_mixer_objective_uses_the_stage_of_the_trainer_epoch():
    schedule = MixerSchedule(T=3, delta=1, xent_epochs=1, mixed_epochs=1)
    objective = Mixer(schedule, overlap_reward, generator=torch.Generator().manual_seed(0))
    net, data = model(), batch()

    class Clock:
        epoch = 0

    objective.attach(Clock)
    torch.testing.assert_close(objective(net, data), xent_loss(net, data))
    Clock.epoch = 2  # stage s = 1
    expected = mixed_loss(net, data, 1, overlap_reward, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(objective(net, data), expected)


# ---------------------------------------------------------------- DAD / E2E
def test_annealed_probability():
    p = AnnealedProbability(0.0, 0.5, begin_epoch=2, end_epoch=4)
    assert [p(e) for e in (0, 2, 3, 4, 9)] == [0.0, 0.0, 0.25, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        AnnealedProbability(0.0, 1.5)


def test_feedback_objectives_with_probability_zero_are_xent():
    net, data = model(), batch()
    for objective in (ScheduledSampling(lambda e: 0.0), EndToEnd(lambda e: 0.0, k=3)):
        torch.testing.assert_close(objective(net, data), xent_loss(net, data))


def test_dad_with_probability_one_feeds_the_greedy_prediction():
    net, data = model(attention="dot"), batch()
    state = net.encode(data)
    targets, mask = net.targets(data)
    token, rows = torch.full((targets.size(0),), Vocab.bos), []
    for _ in range(targets.size(1)):
        log_probs, state = net.step(token, state)
        rows.append(log_probs)
        token = log_probs.argmax(-1)
    expected = torch.nn.functional.nll_loss(torch.stack(rows, 1)[mask], targets[mask])
    torch.testing.assert_close(ScheduledSampling(lambda e: 1.0)(net, data), expected)


def test_soft_embedding_is_the_renormalised_top_k_mixture_and_differentiable():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]], dtype=torch.float64)
    weight = torch.eye(4, dtype=torch.float64)
    p = torch.softmax(logits, -1)[0, :2]
    torch.testing.assert_close(soft_embedding(logits, weight, 2)[0], torch.cat([p / p.sum(), torch.zeros(2,
                                                                                 dtype=torch.float64)]))
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: soft_embedding(a, b, 3), (x, w))
    with pytest.raises(ValueError, match="k must be >= 1"):
        EndToEnd(lambda e: 1.0, k=0)


def test_e2e_passes_gradients_through_the_soft_input():
    data = batch()

    class Detached(EndToEnd):
        def feedback(self, model, logits):
            return super().feedback(model, logits.detach())

    grads = []
    for objective in (EndToEnd(lambda e: 1.0, k=3), Detached(lambda e: 1.0, k=3)):
        net = model()
        objective(net, data).backward()
        grads.append(net.output.weight.grad.clone())
    # the soft input carries gradient from later steps back into earlier outputs
    assert not torch.allclose(grads[0], grads[1])


# ------------------------------------------------------- Trainer and resume
def test_mixer_through_trainer_resumes_like_an_uninterrupted_run(tmp_path):
    data = pairs(12, seed=5)
    schedule = MixerSchedule(T=3, delta=1, xent_epochs=1, mixed_epochs=1)

    def train(epochs, out, resume):
        net = model(seed=1)
        config = TrainConfig(epochs=epochs, batch_size=4, seed=0, out=out, resume=resume, progress=False,
                             device="cpu")
        _, history = fit(net, Mixer(schedule, overlap_reward), data, config)
        return net, history

    full, history = train(3, tmp_path / "full", False)
    assert len(history) == 3
    train(2, tmp_path / "cut", False)
    resumed, _ = train(3, tmp_path / "cut", True)
    for a, b in zip(full.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b)


def test_reinforce_terms_refuse_rewards_that_would_broadcast():
    # before: rewards [B] (one per sequence) against logits [M, V] broadcast into an [M, M] advantage, silently
    logits, actions = torch.randn(4, 5), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"actions, rewards, baselines \[M\], got \[\[4, 5\], \[4\], \[1\], \[4\]\]"):
        reinforce_terms(logits, actions, torch.randn(1), torch.randn(4))
    with pytest.raises(ValueError, match="reinforce_terms needs logits"):
        reinforce_terms(logits, actions, torch.randn(4, 1), torch.randn(4))


def test_mixer_schedule_refuses_nan_weights():
    with pytest.raises(ValueError, match="MixerSchedule weights must be finite and >= 0"):
        MixerSchedule(xent_weight=float("nan"))
