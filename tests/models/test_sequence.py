"""Sequence models over chain graphs against torch's RNNs and hand-unrolled equations."""
import pytest
import torch

import graphrnn as gr
from graphrnn.models import FeedForward, NextStepPredictor, SequenceClassifier, SequenceEncoder, SequenceTagger
from graphrnn.models.feedforward import chain_windows

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def batch_of(sequences):
    return next(iter(gr.data.DataLoader([gr.data.chain_graph(s) for s in sequences], batch_size=len(sequences))))


def copy_stack(encoder: SequenceEncoder, reference: torch.nn.RNNBase):
    """Load a torch multi-layer (bi)directional RNN's weights into the encoder."""
    for layer in range(reference.num_layers):
        for suffix, stack in (("", encoder.forward_layers), ("_reverse", encoder.backward_layers)):
            if stack is None:
                continue
            cell = stack[layer].cell
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).data.copy_(getattr(reference, f"{name}_l{layer}{suffix}"))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_encoder_equals_torch_multilayer(cell, bidirectional):
    torch.manual_seed(0)
    reference = MODULES[cell](3, 5, num_layers=2, bidirectional=bidirectional).double()
    encoder = SequenceEncoder(3, 5, num_layers=2, cell=cell, bidirectional=bidirectional).double()
    copy_stack(encoder, reference)
    sequences = [torch.randn(t, 3, dtype=torch.float64) for t in (4, 1, 6)]
    batch = batch_of(sequences)
    expected = torch.cat([reference(s.unsqueeze(1))[0].squeeze(1) for s in sequences])
    torch.testing.assert_close(encoder(batch.x, batch.edge_index), expected, rtol=0, atol=1e-9)


def test_elman_classifier_equals_hand_unrolled_equations():
    torch.manual_seed(0)
    model = SequenceClassifier(2, 3, 4, cell="rnn").double()
    cell = model.encoder.forward_layers[0].cell
    x = torch.randn(5, 2, dtype=torch.float64)
    s = torch.zeros(3, dtype=torch.float64)
    for t in range(5):  # s_t = tanh(U x_t + W s_{t-1}), biases included
        s = torch.tanh(cell.weight_ih @ x[t] + cell.bias_ih + cell.weight_hh @ s + cell.bias_hh)
    expected = model.head.weight @ s + model.head.bias  # o = softmax(V s_T): logits
    batch = batch_of([x])
    torch.testing.assert_close(model(batch.x, batch.edge_index, batch.batch)[0], expected, rtol=0, atol=1e-12)


def test_lstm_tagger_equals_hand_unrolled_gate_equations():
    torch.manual_seed(0)
    model = SequenceTagger(2, 3, 4, cell="lstm").double()
    cell = model.encoder.forward_layers[0].cell
    x = torch.randn(4, 2, dtype=torch.float64)
    h = c = torch.zeros(3, dtype=torch.float64)
    rows = []
    for t in range(4):
        gates = cell.weight_ih @ x[t] + cell.bias_ih + cell.weight_hh @ h + cell.bias_hh
        i, f, g, o = gates.chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # C_t = f_t C_{t-1} + i_t C~_t
        h = torch.sigmoid(o) * torch.tanh(c)  # h_t = o_t tanh(C_t)
        rows.append(model.head.weight @ h + model.head.bias)
    batch = batch_of([x])
    torch.testing.assert_close(model(batch.x, batch.edge_index), torch.stack(rows), rtol=0, atol=1e-12)


def test_bidirectional_classifier_reads_last_forward_and_first_backward_state():
    torch.manual_seed(0)
    model = SequenceClassifier(3, 4, 2, cell="gru", bidirectional=True).double()
    sequences = [torch.randn(t, 3, dtype=torch.float64) for t in (3, 5)]
    batch = batch_of(sequences)
    states = model.encoder(batch.x, batch.edge_index)
    first, last = torch.tensor([0, 3]), torch.tensor([2, 7])
    summary = torch.cat([states[last, :4], states[first, 4:]], dim=1)
    torch.testing.assert_close(model(batch.x, batch.edge_index, batch.batch), model.head(summary))


def test_batched_equals_alone_with_tokens():
    torch.manual_seed(0)
    model = SequenceClassifier(7, 5, 3, num_layers=2, cell="lstm", tokens=True)
    sequences = [torch.randint(0, 7, (t,)) for t in (2, 6, 1, 4)]
    batch = batch_of(sequences)
    together = model(batch.x, batch.edge_index, batch.batch)
    alone = torch.cat([model(*(lambda b: (b.x, b.edge_index, b.batch))(batch_of([s]))) for s in sequences])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_next_step_targets_and_no_bidirectional():
    batch = batch_of([torch.tensor([4, 5, 6]), torch.tensor([7, 8])])
    targets = NextStepPredictor.next_targets(batch.x, batch.edge_index)
    assert targets.tolist() == [5, 6, -100, 8, -100]
    with pytest.raises(ValueError, match="cannot be bidirectional"):
        NextStepPredictor(10, 4, 10, tokens=True, bidirectional=True)


def test_next_step_predictor_is_causal():
    torch.manual_seed(0)
    model = NextStepPredictor(9, 6, 9, tokens=True, cell="gru")
    a = batch_of([torch.tensor([1, 2, 3, 4])])
    b = batch_of([torch.tensor([1, 2, 3, 8])])
    out_a, out_b = model(a.x, a.edge_index), model(b.x, b.edge_index)
    torch.testing.assert_close(out_a[:3], out_b[:3])
    assert not torch.allclose(out_a[3], out_b[3])


def test_feedforward_window_equals_hand_computation():
    torch.manual_seed(0)
    model = FeedForward(2, 3, 4, window=3).double()
    x = torch.randn(4, 2, dtype=torch.float64)
    batch = batch_of([x])
    zero = torch.zeros(2, dtype=torch.float64)
    rows = []
    for t in range(4):
        window = [x[k] if k >= 0 else zero for k in (t - 2, t - 1, t)]
        s = torch.tanh(model.input_to_hidden(torch.cat(window)))
        rows.append(model.hidden_to_output(s))
    torch.testing.assert_close(model(batch.x, batch.edge_index), torch.stack(rows), rtol=0, atol=1e-12)
    last = model(batch.x, batch.edge_index, batch.batch, readout="last")
    torch.testing.assert_close(last[0], rows[-1], rtol=0, atol=1e-12)


def test_chain_windows_with_shuffled_node_order():
    edge_index = torch.tensor([[2, 0], [0, 1]])  # 2 -> 0 -> 1
    assert chain_windows(edge_index, 3, 2).tolist() == [[2, 0], [0, 1], [-1, 2]]


def test_bad_inputs():
    model = SequenceClassifier(5, 4, 2, tokens=True)
    batch = batch_of([torch.tensor([1, 2, 9])])
    with pytest.raises(ValueError, match="token id 9 is outside the vocabulary of 5"):
        model(batch.x, batch.edge_index, batch.batch)
    with pytest.raises(ValueError, match="LongTensor"):
        model(torch.randn(3, 5), batch.edge_index, batch.batch)
    real = SequenceTagger(3, 4, 2)
    with pytest.raises(ValueError, match="in_channels=3"):
        real(torch.randn(3, 4), batch.edge_index)
    with pytest.raises(ValueError, match="one chain per graph"):
        # two chains inside one graph
        SequenceClassifier(3, 4, 2)(torch.randn(4, 3), torch.tensor([[0, 2], [1, 3]]), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        SequenceEncoder(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="window must be >= 1"):
        FeedForward(3, 4, 2, window=0)
    with pytest.raises(ValueError, match="readout"):
        FeedForward(3, 4, 2, window=2)(torch.randn(2, 3), torch.tensor([[0], [1]]), readout="mean")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_next_step_predictor_step_equals_forward(cell):
    torch.manual_seed(0)
    model = NextStepPredictor(9, 6, 9, num_layers=2, tokens=True, cell=cell).double().eval()
    tokens = torch.tensor([1, 4, 2, 7, 3])
    batch = batch_of([tokens])
    expected = torch.log_softmax(model(batch.x, batch.edge_index), dim=-1)
    state, rows = None, []
    for token in tokens:
        log_probs, state = model.step(token.view(1), state)
        rows.append(log_probs[0])
    torch.testing.assert_close(torch.stack(rows), expected, rtol=0, atol=1e-12)
    assert state[0].shape == (1, 2, 6)


CHAIN = torch.tensor([[0, 1, 2], [1, 2, 3]])


@pytest.mark.parametrize("edge_index, message", [
    (torch.tensor([[0, 1, 2], [2, 2, 3]]), "two predecessors or two successors"),  # a merge: one predecessor kept
    (torch.tensor([[0, 0, 1], [1, 2, 3]]), "two predecessors or two successors"),
    (torch.tensor([[0, 1, 1], [1, 1, 2]]), "or an edge is a self loop"),
    (torch.tensor([[0, -1], [1, 2]]), r"refers to a node outside 0..3"),  # -1 wrote the last node's predecessor
    (CHAIN.t()[:, :2].contiguous(), r"must have shape \[2, E\]"),  # [E, 2] edges read as two chains
    (CHAIN.float(), "must hold integer node ids"),
    (torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]), "some edges close a cycle"),  # a ring wrapped the window around
    (torch.tensor([[0, 2, 3], [1, 3, 2]]), "some edges close a cycle"),  # a chain beside a ring
])
def test_feedforward_windows_need_chains(edge_index, message):
    # each of these ran silently before, on windows that were not the sequence's
    with pytest.raises(ValueError, match=message):
        FeedForward(3, 8, 2, window=3)(torch.randn(4, 3), edge_index)


def test_feedforward_checks_read_nothing_on_the_host():
    from graphrnn.bench import host_sync_ops

    model, x = FeedForward(3, 8, 2, window=3), torch.randn(4, 3)
    torch.testing.assert_close(model(x, CHAIN)[3], model(x[1:], CHAIN[:, :2])[2])  # the window of the last node
    assert host_sync_ops(lambda: model(x, CHAIN)) == []


def test_feedforward_refuses_non_finite_inputs():
    x = torch.randn(4, 3)
    x[2, 1] = float("inf")
    with pytest.raises(ValueError, match="x has a NaN or inf value"):
        FeedForward(3, 8, 2, window=2)(x, CHAIN)


def test_next_targets_refuse_two_successors_and_bad_ids():
    x = torch.tensor([5, 6, 7, 8])
    with pytest.raises(ValueError, match="a node has two successors"):
        NextStepPredictor.next_targets(x, torch.tensor([[0, 0, 1], [1, 2, 3]]))
    with pytest.raises(ValueError, match=r"refers to a node outside 0..3"):
        NextStepPredictor.next_targets(x, torch.tensor([[0, -1], [1, 2]]))
    with pytest.raises(ValueError, match=r"edge_index must be an integer tensor \[2, E\]"):
        NextStepPredictor.next_targets(x, CHAIN.float())
    assert NextStepPredictor.next_targets(x, CHAIN).tolist() == [6, 7, 8, -100]


def test_chain_ends_names_a_bad_batch_vector():
    with pytest.raises(ValueError, match=r"batch must be a LongTensor of shape \[num_nodes\]=\[4\], got \[3\]"):
        SequenceClassifier(3, 8, 2)(torch.randn(4, 3), CHAIN, batch=torch.tensor([0, 0, 0]))


def test_step_names_a_state_of_the_wrong_shape():
    model = NextStepPredictor(5, 8, 5, tokens=True)
    with pytest.raises(ValueError, match=r"state must be \(h, c\) with tensors of shape \[B, layers, H\]=\[2, 1, 8\]"):
        model.step(torch.tensor([1, 2]), (torch.zeros(2, 8), torch.zeros(2, 8)))
    with pytest.raises(ValueError, match=r"got \[\[2, 1, 8\]\]"):
        model.step(torch.tensor([1, 2]), (torch.zeros(2, 1, 8),))
    _, state = model.step(torch.tensor([1, 2]))
    model.step(torch.tensor([3, 4]), state)


def test_encoder_refuses_levels_beside_the_plans_they_would_be_ignored_for():
    encoder = SequenceEncoder(3, 4, bidirectional=True)
    batch = batch_of([torch.randn(t, 3) for t in (3, 2)])
    plans = {name: planner(batch) for name, planner in encoder.planners().items()}
    level = gr.graph.topological_levels(batch.edge_index, batch.num_nodes)
    with pytest.raises(ValueError, match="got both level and a plan"):
        encoder(batch.x, batch.edge_index, level, plan=plans["plan"])
    reverse_level = gr.graph.topological_levels(batch.edge_index.flip(0), batch.num_nodes)
    with pytest.raises(ValueError, match="got both reverse_level and a plan"):
        encoder(batch.x, batch.edge_index, reverse_level=reverse_level, reverse_plan=plans["reverse_plan"])
    with_levels = encoder(batch.x, batch.edge_index, level, reverse_level)
    torch.testing.assert_close(with_levels, encoder(batch.x, batch.edge_index, **plans))
