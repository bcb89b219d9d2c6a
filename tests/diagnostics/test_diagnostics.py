"""Gradient norms through time and recurrent spectra against closed forms."""
import pytest
import torch

from graphrnn.diagnostics import gradient_norms_through_time, recurrent_eigenvalues, spectral_radius
from graphrnn.nn import ChainRNN


def test_linear_rnn_gradient_norm_is_power_of_w():
    # With relu on positive states the Elman RNN is linear: dL/dh_t = (W^T)^(T-t) 1.
    cell = ChainRNN(1, 2, cell="rnn", nonlinearity="relu").double().cell
    with torch.no_grad():
        cell.weight_hh.copy_(torch.tensor([[0.5, 0.0], [0.0, 0.8]], dtype=torch.float64))
        cell.weight_ih.fill_(1.0)
        cell.bias_ih.fill_(1.0)
        cell.bias_hh.zero_()
    x = torch.ones(6, 1, dtype=torch.float64)
    norms = gradient_norms_through_time(cell, x)
    lags = torch.arange(5, -1, -1, dtype=torch.float64)
    expected = torch.sqrt(0.5 ** (2 * lags) + 0.8 ** (2 * lags))
    torch.testing.assert_close(norms, expected, rtol=1e-12, atol=0)


def test_gradient_norms_equal_autograd_through_chain_rnn():
    torch.manual_seed(0)
    layer = ChainRNN(3, 4, cell="lstm").double()
    x = torch.randn(5, 3, dtype=torch.float64)
    norms = gradient_norms_through_time(layer.cell, x)
    # Reference: perturb h_t additively inside a hand loop, differentiate the final loss.
    reference = []
    for t in range(5):
        delta = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
        h = c = torch.zeros(1, 4, dtype=torch.float64)
        for s in range(5):
            h, c = layer.cell(x[s:s + 1], (h, c))
            if s == t:
                h = h + delta
        h.sum().backward()
        reference.append(delta.grad.norm())
    torch.testing.assert_close(norms, torch.stack(reference), rtol=1e-10, atol=1e-12)


def test_spectral_radius_and_gate_blocks():
    assert spectral_radius(torch.tensor([[0.0, 2.0], [-2.0, 0.0]])) == pytest.approx(2.0)
    cell = ChainRNN(2, 3, cell="lstm").cell
    eigenvalues = recurrent_eigenvalues(cell)
    assert list(eigenvalues) == ["input", "forget", "cell", "output"]
    forget = cell.weight_hh.detach()[3:6].double()
    assert max(abs(e) for e in eigenvalues["forget"]) == pytest.approx(spectral_radius(forget))


def test_bad_input():
    with pytest.raises(ValueError, match="square matrix"):
        spectral_radius(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"one sequence \[T >= 1, D\]"):
        gradient_norms_through_time(ChainRNN(2, 3).cell, torch.zeros(0, 2))


def test_input_gradient_norms_equal_autograd_through_torch_lstm():
    torch.manual_seed(0)
    layer = ChainRNN(3, 4, cell="lstm").double()
    reference = torch.nn.LSTM(3, 4).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(reference, f"{name}_l0").copy_(getattr(layer.cell, name))
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    out, _ = reference(x.unsqueeze(1))
    (grad,) = torch.autograd.grad(out[-1, 0].pow(2).sum(), x)
    norms = gradient_norms_through_time(layer.cell, x.detach(), lambda h: h.pow(2).sum(), wrt="input")
    torch.testing.assert_close(norms, grad.norm(dim=1), rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="wrt must be"):
        gradient_norms_through_time(layer.cell, x.detach(), wrt="weights")


def test_non_finite_matrices_have_no_spectral_radius():
    # before: LAPACK printed an MKL error to stderr and the radius came back as nan
    with pytest.raises(ValueError, match="the matrix has a NaN or inf entry"):
        spectral_radius(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    cell = ChainRNN(2, 3, cell="gru").cell
    with torch.no_grad():
        cell.weight_hh[0, 0] = float("inf")
    with pytest.raises(ValueError, match="the cell's weight_hh has a NaN or inf entry"):
        recurrent_eigenvalues(cell)


def test_gradient_norms_name_a_wrong_width_and_non_finite_input():
    cell = ChainRNN(2, 3, cell="gru").cell
    with pytest.raises(ValueError, match=r"x must be one sequence \[T >= 1, D\] with D=2"):
        gradient_norms_through_time(cell, torch.randn(5, 3))  # a raw torch error before
    with pytest.raises(ValueError, match="x has a NaN or inf value"):
        gradient_norms_through_time(cell, torch.full((5, 2), float("nan")))  # NaN norms before
