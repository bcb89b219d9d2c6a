"""HMM as chain message passing: against brute-force enumeration over all state paths."""
import copy
import itertools
import math
import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from graphrnn.data import DataLoader, TopologicalLevels, chain_graph
from graphrnn.nn.hmm import HMM

ATOL = 1e-6


# ------------------------------------------------------------------ references
def random_hmm(num_states, num_symbols, seed, dtype=torch.float64):
    return HMM(num_states, num_symbols, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def brute_force(start, trans, emit, x):
    """Log-likelihood, node marginals [T, S], edge marginals [T-1, S, S], best path, its log prob.

    Enumerates all S^T state paths with plain python floats.
    """
    S, T = len(start), len(x)
    joint = {}
    for path in itertools.product(range(S), repeat=T):
        p = start[path[0]] * emit[path[0]][x[0]]
        for t in range(1, T):
            p *= trans[path[t - 1]][path[t]] * emit[path[t]][x[t]]
        joint[path] = p
    total = sum(joint.values())
    gamma = [[0.0] * S for _ in range(T)]
    xi = [[[0.0] * S for _ in range(S)] for _ in range(T - 1)]
    for path, p in joint.items():
        for t in range(T):
            gamma[t][path[t]] += p / total
        for t in range(T - 1):
            xi[t][path[t]][path[t + 1]] += p / total
    best = max(joint, key=joint.get)
    return math.log(total), gamma, xi, list(best), math.log(joint[best])


def reference(hmm, x):
    probs = [p.detach().tolist() for p in (hmm.start_probs, hmm.transition_probs, hmm.emission_probs)]
    return brute_force(*probs, x.tolist())


def make_batch(sequences, **kwargs):
    graphs = [chain_graph(torch.as_tensor(s, dtype=torch.long), **kwargs) for s in sequences]
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def make_batch_of(graphs):
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def random_sequences(lengths, num_symbols, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, num_symbols, (t,), generator=g) for t in lengths]


LENGTHS = [3, 1, 5, 2, 4]


# ------------------------------------------------------------ brute force checks
def test_inference_equals_brute_force_enumeration():
    hmm = random_hmm(3, 4, seed=0)
    sequences = random_sequences(LENGTHS, 4, seed=1)
    batch = make_batch(sequences)
    loglik = hmm.log_likelihood(batch)
    gamma = hmm.posterior(batch)
    xi = hmm.pairwise_posterior(batch)
    path, best = hmm.viterbi(batch, return_log_prob=True)
    assert loglik.shape == (len(LENGTHS),) and loglik.dtype == torch.float64
    assert gamma.shape == (sum(LENGTHS), 3) and path.dtype == torch.long and path.shape == (sum(LENGTHS),)
    assert xi.shape == (sum(LENGTHS) - len(LENGTHS), 3, 3)
    assert torch.equal(hmm(batch), loglik)
    edge_offset = 0
    for g, x in enumerate(sequences):
        ref_ll, ref_gamma, ref_xi, ref_path, ref_best = reference(hmm, x)
        nodes = slice(int(batch.ptr[g]), int(batch.ptr[g + 1]))
        edges = slice(edge_offset, edge_offset + len(x) - 1)
        edge_offset += len(x) - 1
        assert loglik[g].item() == pytest.approx(ref_ll, abs=ATOL)
        torch.testing.assert_close(gamma[nodes], torch.tensor(ref_gamma, dtype=torch.float64), atol=ATOL, rtol=0)
        torch.testing.assert_close(xi[edges], torch.tensor(ref_xi, dtype=torch.float64).view(-1, 3, 3),
                                   atol=ATOL, rtol=0)
        assert path[nodes].tolist() == ref_path
        assert best[g].item() == pytest.approx(ref_best, abs=ATOL)


def test_batched_equals_each_sequence_alone_and_precomputed_levels():
    hmm = random_hmm(4, 5, seed=2)
    sequences = random_sequences([7, 1, 12, 3, 9], 5, seed=3)
    batch = make_batch(sequences)
    with_levels = next(iter(DataLoader([TopologicalLevels(reverse=True)(chain_graph(s)) for s in sequences],
                                       batch_size=len(sequences))))
    for b in (batch, with_levels):
        loglik, gamma, path = hmm.log_likelihood(b), hmm.posterior(b), hmm.viterbi(b)
        for g, x in enumerate(sequences):
            alone = chain_graph(x)  # a plain Data: one graph, no batch vector
            nodes = slice(int(batch.ptr[g]), int(batch.ptr[g + 1]))
            torch.testing.assert_close(loglik[g:g + 1], hmm.log_likelihood(alone), atol=1e-12, rtol=0)
            torch.testing.assert_close(gamma[nodes], hmm.posterior(alone), atol=1e-12, rtol=0)
            assert torch.equal(path[nodes], hmm.viterbi(alone))


def test_shuffled_node_order_gives_the_same_answer():
    """Nothing assumes nodes are stored in time order."""
    hmm = random_hmm(3, 4, seed=4)
    x = random_sequences([6], 4, seed=5)[0]
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(6))
    position = torch.empty_like(perm)
    position[perm] = torch.arange(6)  # node perm[t] holds time step t
    data = chain_graph(x)
    shuffled = chain_graph(x[perm])
    shuffled.x = torch.empty_like(x)
    shuffled.x[perm] = x
    shuffled.edge_index = perm[data.edge_index]
    torch.testing.assert_close(hmm.log_likelihood(shuffled), hmm.log_likelihood(data), atol=1e-12, rtol=0)
    torch.testing.assert_close(hmm.posterior(shuffled)[perm], hmm.posterior(data), atol=1e-12, rtol=0)
    assert torch.equal(hmm.viterbi(shuffled)[perm], hmm.viterbi(data))


def test_empty_graph_has_log_likelihood_zero():
    hmm = random_hmm(2, 3, seed=7)
    batch = make_batch([[0, 2], [], [1]])
    loglik = hmm.log_likelihood(batch)
    assert loglik.shape == (3,) and loglik[1].item() == 0.0
    alone = hmm.log_likelihood(make_batch([[0, 2], [1]]))
    torch.testing.assert_close(loglik[[0, 2]], alone, atol=1e-12, rtol=0)
    empty = chain_graph(torch.zeros(0, dtype=torch.long))
    assert hmm.log_likelihood(empty).tolist() == [0.0]
    assert hmm.posterior(empty).shape == (0, 2) and hmm.viterbi(empty).shape == (0,)
    assert hmm.pairwise_posterior(empty).shape == (0, 2, 2)


def test_log_likelihood_is_differentiable():
    hmm = random_hmm(2, 3, seed=8)
    batch = make_batch([[0, 1, 2], [2]])
    names = ("start_logits", "transition_logits", "emission_logits")

    def fn(*logits):
        return torch.func.functional_call(hmm, dict(zip(names, logits)), (batch,))

    inputs = tuple(getattr(hmm, n).detach().clone().requires_grad_() for n in names)
    assert torch.autograd.gradcheck(fn, inputs)


def test_structural_zeros_from_probs():
    """Zero probabilities are -inf logits; impossible paths never appear."""
    start = torch.tensor([1.0, 0.0], dtype=torch.float64)
    trans = torch.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=torch.float64)
    emit = torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64)
    hmm = HMM.from_probs(start, trans, emit)
    batch = make_batch([[0, 0, 1, 1], [1]])
    ref = brute_force(start.tolist(), trans.tolist(), emit.tolist(), [0, 0, 1, 1])
    assert hmm.log_likelihood(batch)[0].item() == pytest.approx(ref[0], abs=ATOL)
    torch.testing.assert_close(hmm.posterior(batch)[:4], torch.tensor(ref[1], dtype=torch.float64), atol=ATOL,
                               rtol=0)
    assert hmm.viterbi(batch)[:4].tolist() == ref[3]


# ------------------------------------------------------------------ hypothesis
@st.composite
def hmm_and_sequences(draw):
    S = draw(st.integers(1, 3))
    V = draw(st.integers(1, 4))
    weight = st.floats(0.05, 1.0)

    def dist(*shape):
        rows = torch.tensor(draw(st.lists(st.lists(weight, min_size=shape[-1], max_size=shape[-1]),
                                          min_size=shape[0], max_size=shape[0])), dtype=torch.float64)
        return rows / rows.sum(-1, keepdim=True)

    start, trans, emit = dist(1, S)[0], dist(S, S), dist(S, V)
    sequences = draw(st.lists(st.lists(st.integers(0, V - 1), min_size=1, max_size=4), min_size=1, max_size=3))
    return start, trans, emit, sequences


@settings(max_examples=40, deadline=None)
@given(hmm_and_sequences())
def test_posterior_rows_sum_to_one_and_equal_brute_force(case):
    start, trans, emit, sequences = case
    hmm = HMM.from_probs(start, trans, emit)
    batch = make_batch(sequences)
    gamma, loglik = hmm.posterior(batch), hmm.log_likelihood(batch)
    torch.testing.assert_close(gamma.sum(1), torch.ones(gamma.size(0), dtype=torch.float64), atol=1e-9, rtol=0)
    for g, x in enumerate(sequences):
        ref = brute_force(start.tolist(), trans.tolist(), emit.tolist(), x)
        nodes = slice(int(batch.ptr[g]), int(batch.ptr[g + 1]))
        assert loglik[g].item() == pytest.approx(ref[0], abs=ATOL)
        torch.testing.assert_close(gamma[nodes], torch.tensor(ref[1], dtype=torch.float64), atol=ATOL, rtol=0)


# ------------------------------------------------------------------ parameters
def test_from_probs_round_trip_and_properties():
    g = torch.Generator().manual_seed(9)
    start = torch.rand(3, generator=g, dtype=torch.float64)
    trans = torch.rand(3, 3, generator=g, dtype=torch.float64)
    emit = torch.rand(3, 5, generator=g, dtype=torch.float64)
    start, trans, emit = (p / p.sum(-1, keepdim=True) for p in (start, trans, emit))
    hmm = HMM.from_probs(start, trans, emit)
    assert (hmm.num_states, hmm.num_symbols) == (3, 5) and hmm.start_logits.dtype == torch.float64
    for got, want in ((hmm.start_probs, start), (hmm.transition_probs, trans), (hmm.emission_probs, emit)):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    again = HMM.from_probs(hmm.start_probs.detach(), hmm.transition_probs.detach(), hmm.emission_probs.detach())
    torch.testing.assert_close(again.transition_probs, trans, atol=1e-12, rtol=0)
    from_lists = HMM.from_probs(start.tolist(), trans.tolist(), emit.tolist())
    assert from_lists.start_logits.dtype == torch.get_default_dtype()
    assert [n for n, _ in hmm.named_parameters()] == ["start_logits", "transition_logits", "emission_logits"]
    assert repr(hmm) == "HMM(num_states=3, num_symbols=5)"


def test_copy_and_pickle():
    hmm = random_hmm(3, 4, seed=20)
    batch = make_batch([[0, 1, 3], [2]])
    for other in (copy.deepcopy(hmm), pickle.loads(pickle.dumps(hmm))):
        torch.testing.assert_close(other.log_likelihood(batch), hmm.log_likelihood(batch), atol=0, rtol=0)
        assert torch.equal(other.viterbi(batch), hmm.viterbi(batch))
    with torch.no_grad():
        copy.deepcopy(hmm).emission_logits.zero_()
    assert not bool((hmm.emission_logits == 0).all())


def test_reset_parameters_is_seeded_without_global_rng():
    state = torch.get_rng_state()
    a = HMM(3, 4, generator=torch.Generator().manual_seed(1))
    b = HMM(3, 4)
    b.reset_parameters(torch.Generator().manual_seed(1))
    c, d = HMM(3, 4), HMM(3, 4)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a.transition_logits, b.transition_logits)
    assert torch.equal(c.emission_logits, d.emission_logits)  # generator=None is deterministic
    assert not torch.equal(a.emission_logits, c.emission_logits)
    for probs in (a.start_probs, a.transition_probs, a.emission_probs):
        torch.testing.assert_close(probs.sum(-1), torch.ones(probs.shape[:-1]))


def test_sample_is_seeded_and_follows_the_lengths():
    hmm = random_hmm(3, 4, seed=10)
    states, symbols = hmm.sample([5, 0, 1, 9], torch.Generator().manual_seed(0))
    again = hmm.sample(torch.tensor([5, 0, 1, 9]), torch.Generator().manual_seed(0))
    assert [len(s) for s in states] == [5, 0, 1, 9] and [len(s) for s in symbols] == [5, 0, 1, 9]
    assert all(torch.equal(a, b) for a, b in zip(states + symbols, again[0] + again[1]))
    assert all(s.dtype == torch.long for s in states + symbols)
    assert max(int(s.max()) for s in states if len(s)) < 3 and max(int(s.max()) for s in symbols if len(s)) < 4
    assert hmm.sample([], torch.Generator()) == ([], [])


def test_sample_statistics_match_the_model():
    hmm = HMM.from_probs([0.2, 0.8], [[0.9, 0.1], [0.3, 0.7]], [[0.6, 0.4, 0.0], [0.1, 0.2, 0.7]])
    states, symbols = hmm.sample([2] * 20000, torch.Generator().manual_seed(1))
    states, symbols = torch.stack(states), torch.stack(symbols)
    assert (states[:, 0] == 1).double().mean().item() == pytest.approx(0.8, abs=0.015)
    assert (states[states[:, 0] == 0, 1] == 0).double().mean().item() == pytest.approx(0.9, abs=0.02)
    assert (symbols[states == 0] == 2).sum().item() == 0


# ---------------------------------------------------------------------- fitting
def true_hmm():
    probs = ([0.5, 0.3, 0.2],
             [[0.8, 0.1, 0.1], [0.15, 0.7, 0.15], [0.1, 0.2, 0.7]],
             [[0.6, 0.3, 0.05, 0.05], [0.05, 0.15, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]])
    return HMM.from_probs(*(torch.tensor(p, dtype=torch.float64) for p in probs))


def sampled_graphs(hmm, num, min_length, max_length, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (num,), generator=g)
    states, symbols = hmm.sample(lengths, g)
    return [chain_graph(x, y=y) for x, y in zip(symbols, states)]


@pytest.fixture(scope="module")
def em_data():
    truth = true_hmm()
    graphs = sampled_graphs(truth, 100, 1, 30, seed=11)
    return truth, DataLoader(graphs, batch_size=50)


def test_em_never_decreases_the_log_likelihood(em_data):
    truth, loader = em_data
    hmm = random_hmm(3, 4, seed=12)
    history = hmm.fit_em(loader, num_iterations=25, tol=None, progress=False)
    assert len(history) == 26
    for before, after in zip(history, history[1:]):
        assert after >= before - 1e-9 * abs(before)
    assert history[-1] > history[0]
    final = sum(hmm.log_likelihood(b).sum().item() for b in loader)
    assert final == pytest.approx(history[-1], rel=1e-12)  # history[-1] is the returned model's
    for probs in (hmm.start_probs, hmm.transition_probs, hmm.emission_probs):
        torch.testing.assert_close(probs.sum(-1), torch.ones(probs.shape[:-1], dtype=torch.float64))


def test_em_from_random_init_approaches_the_true_likelihood():
    truth = HMM.from_probs(torch.tensor([0.6, 0.4], dtype=torch.float64),
                           torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64),
                           torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], dtype=torch.float64))
    batch = make_batch_of(sampled_graphs(truth, 200, 5, 15, seed=11))
    num_nodes, true_ll = batch.num_nodes, truth.log_likelihood(batch).sum().item()
    fits = []
    for seed in range(3):  # EM finds local optima: keep the best of a few random restarts, as usual
        hmm = random_hmm(2, 3, seed=seed)
        history = hmm.fit_em(batch, num_iterations=40, tol=1e-9, progress=False)
        assert history[0] < true_ll - 0.04 * num_nodes  # each random init is far off
        fits.append(history[-1])
    assert max(fits) > true_ll - 1e-3 * num_nodes  # the MLE is usually slightly above the truth


def test_em_stops_at_tol_and_accepts_lists_and_pseudocounts(em_data):
    truth, loader = em_data
    batches = list(loader)
    hmm = random_hmm(3, 4, seed=13)
    history = hmm.fit_em(batches, num_iterations=200, tol=1e-3, progress=False)
    assert 2 <= len(history) < 201
    assert history[-1] - history[-2] <= 1e-3 * abs(history[-2]) < history[-2] - history[-3]
    assert HMM(3, 4, dtype=torch.float64).fit_em(batches[0], num_iterations=0, progress=False) == pytest.approx(
        [HMM(3, 4, dtype=torch.float64).log_likelihood(batches[0]).sum().item()])
    smoothed = random_hmm(3, 4, seed=13)
    smoothed.fit_em(iter(batches), num_iterations=5, pseudocount=1e-3, progress=False)
    assert bool((smoothed.emission_probs > 0).all())


def test_em_keeps_structural_zeros_and_unvisited_states():
    hmm = HMM.from_probs([1.0, 0.0, 0.0], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]],
                         [[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])
    before = hmm.transition_probs[2].clone()
    history = hmm.fit_em([make_batch([[0, 1, 1, 0], [1, 1]])], num_iterations=5, tol=None, progress=False)
    assert all(math.isfinite(v) for v in history)
    assert hmm.start_probs[1:].tolist() == [0.0, 0.0] and hmm.transition_probs[:2, 2].tolist() == [0.0, 0.0]
    torch.testing.assert_close(hmm.transition_probs[2], before)  # state 2 is never visited


def test_fit_supervised_recovers_the_true_probabilities():
    truth = true_hmm()
    graphs = sampled_graphs(truth, 2000, 20, 60, seed=14)
    hmm = random_hmm(3, 4, seed=15).fit_supervised(DataLoader(graphs, batch_size=500))
    torch.testing.assert_close(hmm.transition_probs, truth.transition_probs, atol=0.015, rtol=0)
    torch.testing.assert_close(hmm.emission_probs, truth.emission_probs, atol=0.015, rtol=0)
    torch.testing.assert_close(hmm.start_probs, truth.start_probs, atol=0.05, rtol=0)


def test_fit_supervised_counts_exactly_with_smoothing():
    data = chain_graph(torch.tensor([0, 1, 1]), y=torch.tensor([0, 0, 1]))
    hmm = HMM(2, 3, dtype=torch.float64).fit_supervised([data])
    torch.testing.assert_close(hmm.start_probs, torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(hmm.transition_probs, torch.tensor([[0.5, 0.5], [0.5, 0.5]], dtype=torch.float64))
    torch.testing.assert_close(hmm.emission_probs,
                               torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64))
    smoothed = HMM(2, 3, dtype=torch.float64).fit_supervised(data, smoothing=1.0)
    torch.testing.assert_close(smoothed.emission_probs,
                               torch.tensor([[2 / 5, 2 / 5, 1 / 5], [1 / 4, 2 / 4, 1 / 4]], dtype=torch.float64))


# -------------------------------------------------------------------- bad input
def test_bad_symbols_raise():
    hmm = random_hmm(2, 3, seed=16)
    with pytest.raises(ValueError, match=r"symbol 3 .*num_symbols=3"):
        hmm.log_likelihood(chain_graph(torch.tensor([0, 3])))
    with pytest.raises(ValueError, match=r"symbol -1"):
        hmm.posterior(chain_graph(torch.tensor([-1, 0])))
    with pytest.raises(ValueError, match="integer symbol ids"):
        hmm.viterbi(chain_graph(torch.tensor([0.0, 1.0])))
    with pytest.raises(ValueError, match="shape"):
        hmm.log_likelihood(chain_graph(torch.zeros(3, 2, dtype=torch.long)))
    with pytest.raises(ValueError, match="LongTensor of symbols"):
        hmm.log_likelihood(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))
    with pytest.raises(ValueError, match="chain graph"):
        hmm.log_likelihood(torch.tensor([0, 1]))


def test_non_chain_graphs_raise():
    hmm = random_hmm(2, 3, seed=17)
    fork = chain_graph(torch.tensor([0, 1, 2]))
    fork.edge_index = torch.tensor([[0, 0], [1, 2]])
    with pytest.raises(ValueError, match="HMM runs on chains"):
        hmm.log_likelihood(fork)
    ring = chain_graph(torch.tensor([0, 1, 2]))
    ring.edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    with pytest.raises(ValueError, match="cycle"):
        hmm.log_likelihood(ring)


@pytest.mark.parametrize("args, match", [
    (([0.5, 0.5], [[1.0, 0.0]], [[1.0], [1.0]]), r"transition must have shape \[num_states, num_states\]"),
    (([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [1.0], [1.0]]), "emission must have shape"),
    (([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]), "emission must have shape"),
    (([[0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [1.0]]), "start must have shape"),
    (([], [], []), "start must have shape"),
    (([1.5, -0.5], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [1.0]]), "start has a negative entry"),
    (([0.5, 0.5], [[0.9, 0.0], [0.0, 1.0]], [[1.0], [1.0]]), r"transition must sum to 1 .* \(row 0\)"),
    (([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], [[float("nan")], [1.0]]), "emission has a NaN"),
    ((["a", "b"], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [1.0]]), "could not convert start"),
])
def test_from_probs_bad_input_raises(args, match):
    with pytest.raises(ValueError, match=match):
        HMM.from_probs(*args)


def test_other_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_states must be a positive int"):
        HMM(0, 3)
    with pytest.raises(ValueError, match="num_symbols must be a positive int"):
        HMM(2, 2.5)
    hmm = random_hmm(2, 3, seed=18)
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        hmm.sample([3, -1], torch.Generator())
    with pytest.raises(TypeError, match="torch.Generator"):
        hmm.sample([3], 0)
    with pytest.raises(TypeError, match="torch.Generator"):
        hmm.reset_parameters(42)
    with pytest.raises(ValueError, match="fit_em needs at least one symbol"):
        hmm.fit_em([], num_iterations=2, progress=False)
    with pytest.raises(ValueError, match="fit_em needs at least one symbol"):
        hmm.fit_em([chain_graph(torch.zeros(0, dtype=torch.long))], progress=False)
    with pytest.raises(ValueError, match="num_iterations"):
        hmm.fit_em([chain_graph(torch.tensor([0]))], num_iterations=-1, progress=False)
    with pytest.raises(ValueError, match="pseudocount"):
        hmm.fit_em([chain_graph(torch.tensor([0]))], pseudocount=-1.0, progress=False)
    with pytest.raises(ValueError, match="expected a DataLoader"):
        hmm.fit_em(5, progress=False)
    with pytest.raises(ValueError, match="expected chain graphs"):
        hmm.fit_em([torch.tensor([0, 1])], progress=False)


def test_fit_supervised_bad_labels_raise():
    hmm = random_hmm(2, 3, seed=19)
    with pytest.raises(ValueError, match=r"y holds state 2 .*num_states=2"):
        hmm.fit_supervised(chain_graph(torch.tensor([0, 1]), y=torch.tensor([0, 2])))
    with pytest.raises(ValueError, match="y holds state -1"):
        hmm.fit_supervised(chain_graph(torch.tensor([0, 1]), y=torch.tensor([-1, 0])))
    with pytest.raises(ValueError, match="needs data.y"):
        hmm.fit_supervised(chain_graph(torch.tensor([0, 1])))
    with pytest.raises(ValueError, match="shape"):
        hmm.fit_supervised(chain_graph(torch.tensor([0, 1]), y=3))
    with pytest.raises(ValueError, match="integer state ids"):
        hmm.fit_supervised(chain_graph(torch.tensor([0, 1]), y=torch.tensor([0.0, 1.0])))
    with pytest.raises(ValueError, match="at least one labelled node"):
        hmm.fit_supervised([chain_graph(torch.zeros(0, dtype=torch.long), y=torch.zeros(0, dtype=torch.long))])
    with pytest.raises(ValueError, match="smoothing"):
        hmm.fit_supervised(chain_graph(torch.tensor([0]), y=torch.tensor([0])), smoothing=-1)
