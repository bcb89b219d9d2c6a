"""The sequence experiments at a tiny scale: they run, and their bookkeeping is right."""
import torch

from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.experiments import hmm_tagging
from graphrnn.nn import HMM


def test_match_states_recovers_a_permutation_of_the_true_states():
    truth = sequence_labelling_hmm()
    order = torch.tensor([2, 0, 3, 1])  # learned state k is true state order[k]
    permuted = HMM.from_probs(truth.start_probs[order], truth.transition_probs[order][:, order],
                              truth.emission_probs[order])
    data = sample_hmm_dataset(truth, 200, 20, 40, torch.Generator().manual_seed(0))
    permutation = hmm_tagging.match_states(permuted, data)
    assert permutation.tolist() == order.tolist()
    assert hmm_tagging.hmm_accuracy(permuted, data, permutation) == hmm_tagging.hmm_accuracy(truth, data)


def test_hmm_tagging_runs_and_reports_gaps():
    rows = hmm_tagging.run(train_size=60, test_size=30, em_iterations=5, em_restarts=2, epochs=1, hidden=8)
    assert rows[0]["model"].startswith("Bayes-optimal") and rows[0]["gap_to_bayes"] == 0.0
    assert len(rows) == 5 and all(0.0 <= r["accuracy"] <= 100.0 for r in rows)
    assert "points below Bayes-optimal" in hmm_tagging.results_table(rows)
