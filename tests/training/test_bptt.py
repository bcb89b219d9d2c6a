"""Truncated BPTT against full BPTT and hand-written detached segments."""
import copy

import pytest
import torch

from graphrnn.nn import ChainRNN
from graphrnn.training import NonFiniteError
from graphrnn.training.bptt import ChainRNNStep, truncated_bptt


def make_model(cell="lstm", seed=0):
    torch.manual_seed(seed)
    layer = ChainRNN(3, 4, cell=cell).double()
    head = torch.nn.Linear(4, 2).double()
    return layer, head


def data(steps=6, batch=2):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(steps, batch, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(steps, batch, 2, generator=generator, dtype=torch.float64)
    return x, y


def mse(outputs, targets):
    return ((outputs - targets) ** 2).mean()


def params(*modules):
    return [p for m in modules for p in m.parameters()]


def reference_torch_step(layer, head, x_segment, state):
    """The same segment through torch.nn.LSTM with the layer's weights (an independent path)."""
    lstm = torch.nn.LSTM(3, 4).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(lstm, f"{name}_l0").copy_(getattr(layer.cell, name))
    hx = None if state is None else tuple(s.unsqueeze(0) for s in state)
    out, (h, c) = torch.func.functional_call(
        lstm, {f"{n}_l0": getattr(layer.cell, n) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
        (x_segment, hx))
    return head(out), (h[0], c[0])


def test_step_matches_torch_lstm_with_initial_state():
    layer, head = make_model()
    x, _ = data()
    state = (torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64))
    ours = ChainRNNStep(layer, head)(x, state)
    expected = reference_torch_step(layer, head, x, state)
    torch.testing.assert_close(ours[0], expected[0], rtol=0, atol=1e-10)
    for a, b in zip(ours[1], expected[1]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_k_equal_to_length_is_full_bptt():
    layer, head = make_model()
    reference = copy.deepcopy((layer, head))
    x, y = data()
    optimizer = torch.optim.SGD(params(layer, head), lr=0.1)
    truncated_bptt(ChainRNNStep(layer, head), x, y, mse, optimizer, k1=6, k2=6)

    ref_layer, ref_head = reference
    ref_optimizer = torch.optim.SGD(params(ref_layer, ref_head), lr=0.1)
    outputs, _ = reference_torch_step(ref_layer, ref_head, x, None)
    mse(outputs, y).backward()
    ref_optimizer.step()
    for a, b in zip(params(layer, head), params(ref_layer, ref_head)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k1, k2", [(2, 2), (2, 4), (4, 4), (3, 3)])
def test_truncated_equals_hand_written_windows(k1, k2):
    layer, head = make_model()
    ref_layer, ref_head = copy.deepcopy((layer, head))
    x, y = data(steps=7)
    losses = truncated_bptt(ChainRNNStep(layer, head), x, y, mse,
                            torch.optim.SGD(params(layer, head), lr=0.1), k1=k1, k2=k2)

    optimizer = torch.optim.SGD(params(ref_layer, ref_head), lr=0.1)
    states = {0: None}
    expected_losses = []
    for boundary in range(0, 7, k1):  # windows written out by hand
        end = min(boundary + k1, 7)
        start = max(0, boundary - (k2 - k1))
        outputs, final = reference_torch_step(ref_layer, ref_head, x[start:end], states[start])
        loss = mse(outputs[boundary - start:], y[boundary:end])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        states[end] = tuple(s.detach() for s in final)
        expected_losses.append(float(loss.detach()))
    assert losses == pytest.approx(expected_losses, rel=1e-10)
    for a, b in zip(params(layer, head), params(ref_layer, ref_head)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_gradient_is_truncated():
    """With k1 = k2 = 1 the first input never affects the second update's gradient."""
    layer, head = make_model(cell="rnn")
    x, y = data(steps=2, batch=1)
    seen = []
    step = ChainRNNStep(layer, head)

    def spy(x_segment, state):
        x_segment = x_segment.clone().requires_grad_()
        seen.append(x_segment)
        return step(x_segment, state)

    truncated_bptt(spy, x, y, mse, torch.optim.SGD(params(layer, head), lr=0.0), k1=1, k2=1)
    assert len(seen) == 2 and all(s.shape[0] == 1 for s in seen)


def test_bad_arguments():
    layer, head = make_model()
    x, y = data()
    optimizer = torch.optim.SGD(params(layer, head), lr=0.1)
    step = ChainRNNStep(layer, head)
    with pytest.raises(ValueError, match="k2 a multiple of k1"):
        truncated_bptt(step, x, y, mse, optimizer, k1=2, k2=3)
    with pytest.raises(ValueError, match="k1 <= k2"):
        truncated_bptt(step, x, y, mse, optimizer, k1=0)
    with pytest.raises(ValueError, match="targets have 5 steps but x has 6"):
        truncated_bptt(step, x, y[:5], mse, optimizer, k1=2)


def test_a_non_finite_loss_stops_before_the_update():
    # before: the NaN loss was stepped on, every weight became NaN, and the next window failed on a NaN state
    layer, head = make_model()
    x, y = data()
    y[3, 0, 1] = float("nan")
    optimizer = torch.optim.SGD(params(layer, head), lr=0.1)
    with pytest.raises(NonFiniteError, match="the loss of the window at steps 2..3 is nan; nothing was updated"):
        truncated_bptt(ChainRNNStep(layer, head), x, y, mse, optimizer, k1=2)
    assert all(bool(torch.isfinite(p).all()) for p in params(layer, head))


@pytest.mark.parametrize("max_grad_norm", [-1.0, 0.0, float("nan")])
def test_max_grad_norm_must_be_positive(max_grad_norm):
    # before: a negative norm flipped every gradient's sign (gradient ascent), silently
    layer, head = make_model()
    x, y = data()
    with pytest.raises(ValueError, match="max_grad_norm must be a finite number > 0"):
        truncated_bptt(ChainRNNStep(layer, head), x, y, mse, torch.optim.SGD(params(layer, head), lr=0.1), k1=2,
                       max_grad_norm=max_grad_norm)


def test_float_windows_and_bad_states_are_named():
    layer, head = make_model()
    x, y = data()
    optimizer = torch.optim.SGD(params(layer, head), lr=0.1)
    with pytest.raises(ValueError, match="k1 and k2 must be integers"):
        truncated_bptt(ChainRNNStep(layer, head), x, y, mse, optimizer, k1=2.5)
    with pytest.raises(ValueError, match=r"state must be a tuple \(h,\) or \(h, c\) of \[B=2, H\] tensors"):
        ChainRNNStep(layer, head)(x[:2], (torch.zeros(3, 4, dtype=torch.float64),) * 2)
