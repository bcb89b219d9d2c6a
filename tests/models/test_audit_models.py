"""Sequence classifiers on batches with an empty sequence: an error, never a missing row; one-line reprs;
sizes that build no model are refused."""
import pytest
import torch

from graphrnn.data import DataLoader, chain_graph
from graphrnn.models import (
    FeedForward,
    NextStepPredictor,
    Seq2Seq,
    Seq2Tree,
    SequenceClassifier,
    SequenceTagger,
    UnaryMLP,
)
from graphrnn.models.sequence import chain_ends


def _batch(*lengths, features=4):
    generator = torch.Generator().manual_seed(0)
    graphs = [chain_graph(torch.randn(length, features, generator=generator)) for length in lengths]
    return next(iter(DataLoader(graphs, batch_size=len(graphs))))


def _classifier(**settings):
    torch.manual_seed(0)
    return SequenceClassifier(4, 8, 3, **settings)


@pytest.mark.parametrize("settings", [{}, {"bidirectional": True, "num_layers": 2}])
def test_a_trailing_empty_sequence_is_an_error_with_num_graphs(settings):
    # before: [3 nodes, empty] gave 1 row of logits for 2 sequences, and [empty] gave 0 rows for 1: the
    # batch vector cannot show empty sequences at its end, so the rows no longer lined up with the labels
    model = _classifier(**settings)
    for lengths, graph in (((3, 0), 1), ((0,), 0)):
        batch = _batch(*lengths)
        with pytest.raises(ValueError, match=rf"graph {graph} has 0 first nodes; .* no empty sequences"):
            model(batch.x, batch.edge_index, batch.batch, num_graphs=batch.num_graphs)


def test_num_graphs_changes_nothing_on_sequences_that_are_not_empty():
    model, batch = _classifier(bidirectional=True), _batch(3, 1, 5)
    with torch.no_grad():
        expected = torch.stack([model(g.x, g.edge_index)[0] for g in batch.to_data_list()])
        given = model(batch.x, batch.edge_index, batch.batch, num_graphs=3)
        read = model(batch.x, batch.edge_index, batch.batch)
    assert given.shape == (3, 3) and torch.equal(given, read)
    torch.testing.assert_close(given, expected)


def test_num_graphs_smaller_than_the_batch_vector_says_so():
    batch = _batch(2, 2)
    with pytest.raises(ValueError, match=r"num_graphs=1 must be an integer >= the graphs that batch names \(2\)"):
        chain_ends(batch.edge_index, batch.num_nodes, batch.batch, num_graphs=1)
    with pytest.raises(ValueError, match=r"num_graphs=2.0 must be an integer"):
        chain_ends(batch.edge_index, batch.num_nodes, batch.batch, num_graphs=2.0)


def test_feedforward_on_no_nodes_gives_no_rows_and_checks_empty_sequences():
    # before: an empty batch failed in reshape(0, -1) with torch's "ambiguous" RuntimeError
    model = FeedForward(4, 8, 3, window=2)
    out = model(torch.zeros(0, 4), torch.zeros(2, 0, dtype=torch.long))
    assert out.shape == (0, 3)
    batch = _batch(2, 0)
    with pytest.raises(ValueError, match="graph 1 has 0 first nodes"):
        model(batch.x, batch.edge_index, batch.batch, readout="last", num_graphs=batch.num_graphs)
    batch = _batch(2, 3)
    last = model(batch.x, batch.edge_index, batch.batch, readout="last", num_graphs=2)
    torch.testing.assert_close(last, model(batch.x, batch.edge_index)[torch.tensor([1, 4])])


@pytest.mark.parametrize("make, text", [
    (lambda: SequenceClassifier(4, 8, 3), "SequenceClassifier(4, 8, 3, num_layers=1, cell='lstm', bidirectional=False, "
                                          "tokens=False)"),
    (lambda: NextStepPredictor(10, 8, 10, tokens=True, num_layers=2, cell="gru"),
     "NextStepPredictor(10, 8, 10, num_layers=2, cell='gru', bidirectional=False, tokens=True)"),
    (lambda: SequenceTagger(4, 8, 3, bidirectional=True), "SequenceTagger(4, 8, 3, num_layers=1, cell='lstm', "
                                                          "bidirectional=True, tokens=False)"),
    (lambda: FeedForward(4, 8, 3, window=2), "FeedForward(4, 8, 3, window=2, tokens=False)"),
    (lambda: Seq2Seq(6, 7, 8, attention="mlp"), "Seq2Seq(in_channels=6, num_tokens=7, hidden=8, cell='lstm', "
                                                "source='tokens', attention='mlp', dropout=0.0)"),
    (lambda: Seq2Tree(5, 6, 8), "Seq2Tree(5, 6, 8, cell='lstm', bidirectional=True, encoder_layers=1, attention=None, "
                                "dropout=0.0)"),
    (lambda: UnaryMLP(6, 5, 8, 9, 8), "UnaryMLP(6, 5, 8, num_actions=9, num_activities=8, activation='relu')"),
])
def test_models_print_on_one_line(make, text):
    # before: torch's nested listing of every submodule (20-40 lines per model)
    assert repr(make()) == text


@pytest.mark.parametrize("make, message", [
    (lambda: SequenceClassifier(4, 8, 0), r"out_channels .* must be a positive integer, got 0"),
    (lambda: SequenceTagger(4, 8, 2.5), r"out_channels .* must be a positive integer, got 2.5"),
    (lambda: Seq2Tree(0, 5), r"in_channels must be a positive integer \(the vocabulary size, as tokens=True\), got 0"),
    (lambda: Seq2Tree(5, 0), r"num_labels \(the tree label vocabulary\) must be a positive integer, got 0"),
    (lambda: SequenceClassifier(0, 8, 3, tokens=True), r"in_channels must be a positive integer"),
])
def test_sizes_that_build_no_model_are_refused(make, message):
    # before: SequenceClassifier(4, 8, 0) and Seq2Tree(0, 5) were built (torch warned about a zero-element tensor)
    with pytest.raises(ValueError, match=message):
        make()
