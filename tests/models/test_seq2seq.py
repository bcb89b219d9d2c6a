"""Seq2Seq over chain graphs: against a hand-unrolled reference, step == teacher forcing, batched == alone."""
import pytest
import torch
from torch import nn
from torch_geometric.loader import DataLoader

from graphrnn.data.vocab import Vocab
from graphrnn.models.seq2seq import Seq2Seq, seq2seq_pair, text_pair

V_SRC, V_TGT, H = 11, 9, 6


def random_pairs(count, seed=0, vector=False):
    g = torch.Generator().manual_seed(seed)
    pairs = []
    for _ in range(count):
        tgt = torch.cat([torch.randint(4, V_TGT, (int(torch.randint(1, 5, (1,), generator=g)),), generator=g),
                         torch.tensor([Vocab.eos])])
        if vector:
            pairs.append(seq2seq_pair(None, tgt, context=torch.randn(5, generator=g)))
        else:
            src = torch.randint(3, V_SRC, (int(torch.randint(1, 6, (1,), generator=g)),), generator=g)
            pairs.append(seq2seq_pair(src, tgt))
    return pairs


def batch_of(pairs):
    return next(iter(DataLoader(pairs, batch_size=len(pairs))))


def model_for(attention=None, cell="lstm", vector=False, seed=0, **kwargs):
    torch.manual_seed(seed)
    if vector:
        return Seq2Seq(5, V_TGT, H, source="vector", cell=cell, **kwargs)
    return Seq2Seq(V_SRC, V_TGT, H, attention=attention, cell=cell, **kwargs)


def reference_logits(model, src, tgt):
    """One pair, unrolled by hand with torch.nn.LSTM / plain tensor ops and the model's weights."""
    lstm = nn.LSTM(model.embedding_dim, H, batch_first=True)
    cell = model.encoder.forward_layers[0].cell
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(lstm, name + "_l0").data = getattr(cell, name).data
    memory = lstm(model.encoder.inputs.embedding(src).unsqueeze(0))[0][0]  # [S, H]
    h = torch.tanh(model.bridge(memory[-1]))
    c = torch.zeros(H)
    inputs = [Vocab.bos] + tgt[:-1].tolist()
    rows = []
    for token in inputs:
        if model.attention_type is None:
            context = memory[-1]
        else:
            weights = torch.softmax(memory @ h, dim=0)
            context = weights @ memory
        x = torch.cat([model.embedding.weight[token], context])
        gates = model.cell.weight_ih @ x + model.cell.bias_ih + model.cell.weight_hh @ h + model.cell.bias_hh
        i, f, g, o = gates.chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        logits = model.output(h).clone()
        logits[[Vocab.pad, Vocab.bos]] = float("-inf")
        rows.append(logits)
    return torch.stack(rows)


@pytest.mark.parametrize("attention", [None, "dot"])
def test_teacher_forcing_matches_a_hand_unrolled_lstm(attention):
    pairs = random_pairs(3)
    model = model_for(attention)
    out = model(batch_of(pairs))
    expected = torch.cat([reference_logits(model, p.src, p.tgt) for p in pairs])
    finite = torch.isfinite(expected)
    assert torch.equal(finite, torch.isfinite(out))
    torch.testing.assert_close(out[finite], expected[finite], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("attention,cell,vector", [(None, "lstm", False), ("dot", "gru", False),
                                                   ("mlp", "lstm", False), ("mlp", "rnn", False),
                                                   (None, "lstm", True)])
def test_step_by_step_decoding_equals_teacher_forcing(attention, cell, vector):
    pairs = random_pairs(5, vector=vector)
    model = model_for(attention, cell, vector)
    batch = batch_of(pairs)
    state = model.encode(batch)
    targets, mask = model.targets(batch)
    token, rows = torch.full((len(pairs),), Vocab.bos), []
    for t in range(targets.size(1)):
        log_probs, state = model.step(token, state)
        rows.append(log_probs)
        token = targets[:, t]
    torch.testing.assert_close(torch.stack(rows, 1)[mask], torch.log_softmax(model(batch), -1))


@pytest.mark.parametrize("attention,vector", [(None, False), ("mlp", False), (None, True)])
def test_batched_equals_alone(attention, vector):
    pairs = random_pairs(6, seed=1, vector=vector)
    model = model_for(attention, vector=vector)
    together = model(batch_of(pairs))
    alone = torch.cat([model(batch_of([p])) for p in pairs])
    torch.testing.assert_close(together, alone, atol=1e-6, rtol=1e-5)


def test_state_is_batch_first_so_reordering_rows_reorders_outputs():
    pairs = random_pairs(4)
    model = model_for("dot")
    state = model.encode(batch_of(pairs))
    assert all(s.size(0) == 4 for s in state)
    order = torch.tensor([2, 0, 3, 1])
    tokens = torch.tensor([4, 5, 6, 7])
    direct = model.step(tokens, state)[0]
    reordered = model.step(tokens[order], tuple(s[order] for s in state))[0]
    torch.testing.assert_close(reordered, direct[order])


def test_pad_and_bos_are_never_emitted():
    model = model_for()
    log_probs, _ = model.step(torch.tensor([4, 5]), model.encode(batch_of(random_pairs(2))))
    assert torch.isinf(log_probs[:, [Vocab.pad, Vocab.bos]]).all()
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(2))


def test_decode_step_gradcheck_in_float64():
    model = model_for("mlp").double()
    state = tuple(s.detach() for s in model.encode(batch_of(random_pairs(2))))
    state = state[:-2] + (state[-2].double(), state[-1])
    inputs = torch.randn(2, model.embedding_dim, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: model.decode_step(x, state)[0][:, 2:], (inputs,))


def test_unknown_words_become_unk_and_bad_inputs_raise():
    src_vocab, tgt_vocab = Vocab(["ein", "hund"]), Vocab(["a", "dog"])
    pair = text_pair(["ein", "katze"], ["a", "cat"], src_vocab, tgt_vocab)
    assert pair.src.tolist() == [4, Vocab.unk] and pair.tgt.tolist() == [4, Vocab.unk, Vocab.eos]
    with pytest.raises(ValueError, match="source is empty"):
        text_pair([], ["a"], src_vocab, tgt_vocab)
    with pytest.raises(ValueError, match="target sentence is empty"):
        text_pair(["ein"], [], src_vocab, tgt_vocab)
    with pytest.raises(ValueError, match="exactly one of src"):
        seq2seq_pair(None, torch.tensor([4, 2]))
    with pytest.raises(ValueError, match="tgt must be a non-empty LongTensor"):
        seq2seq_pair(torch.tensor([4]), torch.tensor([], dtype=torch.long))


def test_model_errors_are_clear():
    with pytest.raises(ValueError, match="source must be one of"):
        Seq2Seq(5, 9, source="image")
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(5, 9, attention="luong")
    with pytest.raises(ValueError, match="one memory slot"):
        Seq2Seq(5, 9, source="vector", attention="dot")
    with pytest.raises(ValueError, match="dot attention needs"):
        Seq2Seq(5, 9, attention="dot", bidirectional=True)
    model = model_for()
    bad = seq2seq_pair(torch.tensor([3, 4]), torch.tensor([V_TGT + 3, Vocab.eos]))
    with pytest.raises(ValueError, match="target token ids must lie"):
        model(batch_of([bad]))
    too_big = seq2seq_pair(torch.tensor([V_SRC + 1]), torch.tensor([4, Vocab.eos]))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(batch_of([too_big]))
    with pytest.raises(ValueError, match="needs pairs built with"):
        model_for(vector=True)(batch_of(random_pairs(2)))


def test_bidirectional_mlp_attention_runs_and_repr():
    model = model_for("mlp", bidirectional=True)
    out = model(batch_of(random_pairs(3)))
    assert out.shape == (sum(p.tgt.numel() for p in random_pairs(3)), V_TGT)
    assert "attention='mlp'" in repr(model)
    before = model.output.weight.clone()
    model.reset_parameters()
    assert not torch.equal(before, model.output.weight)


def test_a_batch_carrying_its_encoder_plans_gives_the_same_loss():
    from graphrnn.data import DataLoader as Loader
    from graphrnn.models import Seq2Seq
    from graphrnn.models.seq2seq import seq2seq_pair

    pairs = [seq2seq_pair(torch.tensor([1, 2, 3]), torch.tensor([2, 3])),
             seq2seq_pair(torch.tensor([3, 1]), torch.tensor([1, 2, 3]))]
    torch.manual_seed(0)
    model = Seq2Seq(5, 5, hidden_channels=8, bidirectional=True)
    plain = next(iter(Loader(pairs, batch_size=2)))
    planned = next(iter(Loader(pairs, batch_size=2, plans=model.planners())))
    assert {"src_plan", "src_reverse_plan"} <= set(planned.keys())
    torch.testing.assert_close(model(planned), model(plain))


def test_pairs_refuse_float_token_ids_and_non_finite_context():
    # before: a 1-d float source was kept (and failed in the model), a NaN context made every state NaN
    with pytest.raises(ValueError, match="a 1-d source holds token ids and must be integer"):
        seq2seq_pair(torch.tensor([1.5, 2.0]), torch.tensor([4, 2]))
    with pytest.raises(ValueError, match="context has a NaN or inf value"):
        seq2seq_pair(None, torch.tensor([4, 2]), context=torch.tensor([float("nan"), 1.0]))


def test_a_target_outside_the_vocabulary_is_named_even_in_the_last_position():
    # before: the last token is a target only, never embedded, so forward returned logits and the loss failed in torch
    model = Seq2Seq(6, 7, hidden_channels=8)
    batch = next(iter(DataLoader([seq2seq_pair(torch.tensor([4, 5]), torch.tensor([4, 9]))], batch_size=1)))
    with pytest.raises(ValueError, match=r"target token ids must lie in \[0, 7\)"):
        model(batch)


def test_step_names_a_state_that_does_not_fit():
    model = Seq2Seq(6, 7, hidden_channels=8)
    batch = next(iter(DataLoader([seq2seq_pair(torch.tensor([4, 5]), torch.tensor([4, 2]))] * 2, batch_size=2)))
    state = model.encode(batch)
    with pytest.raises(ValueError, match=r"state has batch sizes \[2, 2, 2, 2\] but 1 inputs came"):
        model.step(torch.tensor([1]), state)
    with pytest.raises(ValueError, match=r"state must be the tuple \(h, c, memory, mask\)"):
        model.step(torch.tensor([1, 1]), state[:1])
