"""HMM-sampled labelled sequences: seeding, shapes, the default "true" model."""
import pytest
import torch

from graphrnn.data import DataLoader
from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.nn.hmm import HMM


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_dataset_is_seeded_labelled_chains_within_the_lengths():
    hmm = sequence_labelling_hmm()
    state = torch.get_rng_state()
    graphs = sample_hmm_dataset(hmm, 50, 3, 12, gen(0))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is never used
    assert len(graphs) == 50
    lengths = [g.num_nodes for g in graphs]
    assert min(lengths) >= 3 and max(lengths) <= 12 and len(set(lengths)) > 3
    for g in graphs:
        assert g.x.dtype == torch.long and g.y.dtype == torch.long and g.x.shape == g.y.shape == (g.num_nodes,)
        assert g.edge_index.tolist() == [list(range(g.num_nodes - 1)), list(range(1, g.num_nodes))]
        assert 0 <= int(g.x.min()) and int(g.x.max()) < 8 and 0 <= int(g.y.min()) and int(g.y.max()) < 4
    again = sample_hmm_dataset(hmm, 50, 3, 12, gen(0))
    assert all(torch.equal(a.x, b.x) and torch.equal(a.y, b.y) for a, b in zip(graphs, again))
    other = sample_hmm_dataset(hmm, 50, 3, 12, gen(1))
    assert any(a.num_nodes != b.num_nodes or not torch.equal(a.x, b.x) for a, b in zip(graphs, other))
    assert sample_hmm_dataset(hmm, 0, 1, 1, gen(0)) == []
    assert [g.num_nodes for g in sample_hmm_dataset(hmm, 4, 5, 5, gen(0))] == [5] * 4


def test_dataset_from_probabilities_follows_them():
    probs = ([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    graphs = sample_hmm_dataset(probs, 5, 4, 6, gen(2))
    for g in graphs:  # deterministic alternation 0, 1, 0, 1, ... emitting 0, 2, 0, 2, ...
        assert g.y.tolist() == [t % 2 for t in range(g.num_nodes)]
        assert g.x.tolist() == [2 * (t % 2) for t in range(g.num_nodes)]


def test_sequence_labelling_hmm_is_sticky_with_overlapping_emissions():
    hmm = sequence_labelling_hmm()
    assert (hmm.num_states, hmm.num_symbols) == (4, 8) and hmm.start_logits.dtype == torch.float64
    trans, emit = hmm.transition_probs, hmm.emission_probs
    torch.testing.assert_close(trans.diagonal(), torch.full((4,), 0.85, dtype=torch.float64))
    torch.testing.assert_close(hmm.start_probs, torch.full((4,), 0.25, dtype=torch.float64))
    torch.testing.assert_close(emit.sum(1), torch.ones(4, dtype=torch.float64))
    assert bool((emit > 0).all())  # every state can emit every symbol
    assert sequence_labelling_hmm(torch.float32).start_logits.dtype == torch.float32


def test_bayes_optimal_accuracy_is_clearly_below_100_percent():
    hmm = sequence_labelling_hmm()
    batch = next(iter(DataLoader(sample_hmm_dataset(hmm, 200, 100, 100, gen(3)), batch_size=200)))
    bayes = (hmm.posterior(batch).argmax(1) == batch.y).double().mean().item()
    viterbi = (hmm.viterbi(batch) == batch.y).double().mean().item()
    symbol_only = (hmm.emission_probs.t()[batch.x].argmax(1) == batch.y).double().mean().item()
    assert 0.74 < bayes < 0.82  # documented: about 78%
    assert 0.72 < viterbi <= bayes + 0.005
    assert symbol_only < bayes - 0.1  # context matters


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_sequences=-1), ValueError, "num_sequences must be >= 0"),
    (dict(min_length=0), ValueError, "min_length must be >= 1"),
    (dict(min_length=5, max_length=4), ValueError, "max_length must be >= min_length"),
    (dict(max_length=4.5), ValueError, "max_length must be an int"),
    (dict(generator=0), TypeError, "torch.Generator"),
    (dict(hmm_or_probs="hmm"), ValueError, "hmm_or_probs must be"),
    (dict(hmm_or_probs=([0.5, 0.6], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [1.0]])), ValueError, "start must sum to 1"),
])
def test_bad_arguments_raise(kwargs, error, match):
    args = dict(hmm_or_probs=HMM(2, 3), num_sequences=3, min_length=1, max_length=4, generator=gen(0))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sample_hmm_dataset(**args)
