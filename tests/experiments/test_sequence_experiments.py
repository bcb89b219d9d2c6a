"""The sequence experiments at a tiny scale: their baselines by hand, and each model beats its
trivial baseline on a small seeded run."""
import pytest
import torch

from graphrnn.data import chain_graph
from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.experiments import hmm_tagging, memory
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


def _tagged(symbols, states):
    return chain_graph(torch.tensor(symbols), y=torch.tensor(states))


def test_symbol_baselines_by_hand():
    # training: state 1 is the most frequent (4 of 7); symbol 0 -> state 0 (2 of 3), symbol 1 -> state 1,
    # symbol 2 never seen -> the majority state 1
    train = [_tagged([0, 0, 1, 1], [0, 0, 1, 1]), _tagged([0, 1, 1], [1, 1, 1])]
    test = [_tagged([0, 1, 2, 0], [0, 1, 0, 2])]
    majority, per_symbol = hmm_tagging.symbol_baselines(train, test, num_states=3, num_symbols=3)
    assert majority["model"] == "majority state (1) everywhere"
    assert majority["accuracy"] == pytest.approx(25.0)  # predicts 1, 1, 1, 1 against 0, 1, 0, 2
    assert per_symbol["accuracy"] == pytest.approx(50.0)  # predicts 0, 1, 1, 0 against 0, 1, 0, 2


def test_hmm_taggers_beat_the_context_free_baselines_on_a_small_seeded_run():
    rows = {r["model"]: r for r in hmm_tagging.run(train_size=150, test_size=60, em_iterations=5, em_restarts=1,
                                                    epochs=3, hidden=16, seed=0, device="cpu")}
    per_symbol = rows["most frequent state of each symbol (training counts)"]["accuracy"]
    bayes = rows["Bayes-optimal (true HMM posterior)"]
    assert bayes["gap_to_bayes"] == 0.0 and bayes["accuracy"] > per_symbol + 10  # measured: 78.8 against 61.0
    assert rows["HMM fitted to labelled sequences"]["accuracy"] > per_symbol + 10  # measured: 78.9
    assert rows["LSTM tagger (bidirectional)"]["accuracy"] > per_symbol + 3  # measured: 66.0
    assert rows["majority state (3) everywhere"]["accuracy"] < per_symbol - 20  # measured: 28.0
    table = hmm_tagging.results_table(list(rows.values()))
    assert "points below Bayes-optimal" in table and "no selection" in table


def test_memory_reference_rows_by_hand():
    def sequence(first, distractor):  # one-hot over 4 classes + 2 distractors, delay 2
        return chain_graph(torch.nn.functional.one_hot(torch.tensor([first, distractor, distractor]), 6).float(),
                           y=torch.tensor(first))

    train = [sequence(2, 4), sequence(2, 5), sequence(0, 4)]
    test = [sequence(2, 5), sequence(1, 4), sequence(3, 4), sequence(2, 4)]
    majority, bayes = memory.reference_rows(train, test, delay=2)
    assert (majority["cell"], majority["test_accuracy"]) == (memory.MAJORITY, pytest.approx(50.0))
    assert (bayes["cell"], bayes["test_accuracy"]) == (memory.BAYES_OPTIMAL, pytest.approx(100.0))


def test_memory_lstm_beats_chance_on_a_small_seeded_run():
    rows = memory.run(delays=(5,), cells=("lstm-fb5",), train_size=300, test_size=100, epochs=8, hidden=16, seed=0,
                      device="cpu")
    accuracy = {r["cell"]: r["test_accuracy"] for r in rows}
    assert accuracy["lstm-fb5"] > accuracy[memory.MAJORITY] + 50  # measured: 100.0 against 21.0
    table = memory.accuracy_table(rows)
    assert table.splitlines()[0] == ("| delay | majority class % | lstm-fb5 accuracy % | "
                                     "Bayes-optimal (reads the first symbol) % |")
    assert f"| 5 | {accuracy[memory.MAJORITY]:.1f} | 100.0 | 100.0 |" in table


def test_memory_bad_model_name():
    with pytest.raises(ValueError, match="model must be one of"):
        memory.build_model("transformer", 8, 4)
