r"""Eigenvalues of the recurrent matrices: the spectral radius governs vanishing and exploding.

For an Elman RNN :math:`\mathbf{h}_t = \tanh(W \mathbf{h}_{t-1} + U \mathbf{x}_t)`, the
Jacobian :math:`\partial \mathbf{h}_t / \partial \mathbf{h}_{t-1} = \mathrm{diag}(1 - \mathbf{h}_t^2) W`
has norm at most :math:`\|W\|`; with spectral radius :math:`\rho(W) < 1` gradients vanish
geometrically in the lag.
"""
from __future__ import annotations

from typing import Dict

import torch
from torch import Tensor, nn

from graphrnn.nn.cells import cell_name

__all__ = ["spectral_radius", "recurrent_eigenvalues"]

_GATES = {"lstm": ("input", "forget", "cell", "output"), "gru": ("reset", "update", "new"), "rnn": ("hidden",)}


def spectral_radius(matrix: Tensor) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    if matrix.dim() != 2 or matrix.size(0) != matrix.size(1):
        raise ValueError(f"spectral_radius needs a square matrix, got {list(matrix.shape)}")
    _check_finite(matrix, "the matrix")
    return float(torch.linalg.eigvals(matrix.detach().double()).abs().max())


def _check_finite(matrix: Tensor, name: str) -> None:
    """LAPACK's eigvals on NaN/inf prints an MKL error and returns NaN eigenvalues: refuse it instead."""
    if not bool(torch.isfinite(matrix.detach()).all()):
        raise ValueError(f"{name} has a NaN or inf entry, so it has no eigenvalues (diverged training?); check the "
                         "weights with torch.isfinite first")


def recurrent_eigenvalues(cell: nn.RNNCellBase) -> Dict[str, Tensor]:
    """Complex eigenvalues of the hidden-to-hidden block of every gate of ``cell``.

    Returns:
        ``{gate name: eigenvalues [H]}``, gates as in torch's weight layout
        (LSTM: input, forget, cell, output; GRU: reset, update, new; RNN: hidden).
    """
    gates = _GATES[cell_name(cell)]
    _check_finite(cell.weight_hh, "the cell's weight_hh")
    blocks = cell.weight_hh.detach().double().chunk(len(gates), dim=0)
    return {gate: torch.linalg.eigvals(block) for gate, block in zip(gates, blocks)}
