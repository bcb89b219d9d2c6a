"""Recurrent cells by name, and torch's fused kernels that run the same cells along chains."""
from __future__ import annotations

import warnings
from typing import List, Tuple

import torch
from torch import Tensor, nn

__all__ = ["CELLS", "make_cell", "cell_name", "cell_state_size", "fused_chain_kernel", "set_forget_bias"]

CELLS = ("lstm", "gru", "rnn")
_CELL_CLASSES = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}
_TORCH_RNN_TO_CELL = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}


def make_cell(cell: str, input_size: int, hidden_size: int, bias: bool = True,
              nonlinearity: str = "tanh") -> nn.RNNCellBase:
    """Builds ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell`` from its name."""
    if cell not in _CELL_CLASSES:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    if input_size < 1 or hidden_size < 1:
        raise ValueError(f"input and hidden sizes must be >= 1, got {input_size} and {hidden_size}")
    if cell == "rnn":
        return nn.RNNCell(input_size, hidden_size, bias=bias, nonlinearity=nonlinearity)
    if nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to cell='rnn' only, got {nonlinearity!r} for cell={cell!r}")
    return _CELL_CLASSES[cell](input_size, hidden_size, bias=bias)


def set_forget_bias(cell: nn.LSTMCell, value: float) -> nn.LSTMCell:
    r"""Sets the forget gate's bias of an LSTM cell to ``value`` (in place).

    The forget gate is :math:`f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})`;
    this sets :math:`b_{if} = \text{value}` and :math:`b_{hf} = 0`. At initialisation the
    cell then keeps about :math:`\sigma(\text{value})^{k}` of its content over ``k`` steps
    (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1): with ``value=5``,
    :math:`0.993^{100} \approx 0.5`, so a gradient reaches 100 steps back from the start of
    training. torch's default (uniform biases around 0) keeps :math:`0.5^{100}`.

    Args:
        cell: a ``torch.nn.LSTMCell`` (gates ordered input, forget, cell, output).
        value: the bias of the forget gate.

    Returns:
        ``cell``.

    Raises:
        TypeError: if ``cell`` is not an ``nn.LSTMCell`` with biases.
    """
    if not isinstance(cell, nn.LSTMCell) or cell.bias_ih is None:
        raise TypeError(f"set_forget_bias needs an nn.LSTMCell with biases, got {type(cell).__name__}")
    hidden = cell.hidden_size
    with torch.no_grad():
        cell.bias_ih[hidden:2 * hidden].fill_(value)
        cell.bias_hh[hidden:2 * hidden].zero_()
    return cell


def cell_name(module: nn.Module) -> str:
    """``"lstm"``, ``"gru"`` or ``"rnn"`` for a torch RNN module or cell."""
    for cls, name in _TORCH_RNN_TO_CELL.items():
        if type(module) is cls or type(module) is _CELL_CLASSES[name]:
            return name
    raise TypeError(f"expected torch.nn.LSTM/GRU/RNN (or their cells), got {type(module).__name__}")


def cell_state_size(cell: str) -> int:
    """Number of state tensors of a cell: 2 for LSTM (h, c), else 1."""
    return 2 if cell == "lstm" else 1


def fused_chain_kernel(cell_module: nn.RNNCellBase, packed_input: Tensor, batch_sizes: Tensor,
                       initial: Tuple[Tensor, ...], training: bool) -> List[Tensor]:
    """Runs ``cell_module`` along packed sequences with torch's fused RNN kernel.

    Args:
        packed_input: ``[N, D]`` time-major packed input (as in ``PackedSequence.data``).
        batch_sizes: ``[T]`` CPU LongTensor, sequences alive at each step.
        initial: state tensors ``[B, H]`` (``(h, c)`` for LSTM).

    Returns:
        torch's tuple ``(output [N, H], h_n [1, B, H])``, plus ``c_n`` for LSTM; per-node
        LSTM cell states are not returned by the fused kernel.
    """
    name = cell_name(cell_module)
    params = [cell_module.weight_ih, cell_module.weight_hh]
    if cell_module.bias:
        params += [cell_module.bias_ih, cell_module.bias_hh]
    hx = [s.unsqueeze(0) for s in initial]
    if name != "lstm":
        hx = hx[0]
    kernel = _KERNELS[name] if name != "rnn" else _KERNELS[f"rnn_{cell_module.nonlinearity}"]
    settings = (params, cell_module.bias, 1, 0.0, training, False)
    if not packed_input.is_cuda:
        return _run_kernel(kernel, packed_input, batch_sizes, hx, settings)
    with warnings.catch_warnings():
        # cuDNN copies a cell's separate weight tensors into one buffer on every call and warns
        # each time; the copy is O(parameters), small next to the recurrence, and intended here.
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        return _run_kernel(kernel, packed_input, batch_sizes, hx, settings)


def _run_kernel(kernel, packed_input: Tensor, batch_sizes: Tensor, hx, settings: tuple) -> List[Tensor]:
    steps = batch_sizes.numel()
    if steps > 0 and int(batch_sizes[0]) == int(batch_sizes[-1]):
        # Equal lengths: the padded kernel on a [T, B, D] view is the same math, and faster.
        output, *final = kernel(packed_input.view(steps, -1, packed_input.size(-1)), hx, *settings, False)
        return (output.reshape(-1, output.size(-1)), *final)
    return kernel(packed_input, batch_sizes, hx, *settings)


_KERNELS = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh, "rnn_relu": torch.rnn_relu}
