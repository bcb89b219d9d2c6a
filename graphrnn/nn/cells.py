"""Recurrent cells by name, and torch's fused kernels that run the same cells along chains."""
from __future__ import annotations

import warnings
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

from graphrnn.counts import is_int

__all__ = ["CELLS", "make_cell", "cell_name", "cell_state_size", "fused_chain_kernel", "set_forget_bias",
           "input_gates", "hidden_step"]

CELLS = ("lstm", "gru", "rnn")
_CELL_CLASSES = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}
_TORCH_RNN_TO_CELL = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}


def make_cell(cell: str, input_size: int, hidden_size: int, bias: bool = True,
              nonlinearity: str = "tanh") -> nn.RNNCellBase:
    """Builds ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell`` from its name."""
    if cell not in _CELL_CLASSES:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    for name, size in (("input size", input_size), ("hidden size", hidden_size)):
        if not is_int(size) or size < 1:
            raise ValueError(f"the {name} must be a positive integer, got {size!r}")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu' (as torch.nn.RNNCell), got {nonlinearity!r}")
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


def input_gates(cell_module: nn.RNNCellBase, x: Tensor) -> Tensor:
    r"""The input half of a cell's gates for every row at once: :math:`W_{ih} \mathbf{x} + b_{ih}`
    (plus :math:`b_{hh}` for LSTM and Elman cells, whose biases only ever appear summed).

    A level-by-level pass computes this once for all nodes (one large matrix product, as cuDNN
    does) and runs only :func:`hidden_step` per level.
    """
    bias = None
    if cell_module.bias:
        bias = cell_module.bias_ih if isinstance(cell_module, nn.GRUCell) else cell_module.bias_ih + cell_module.bias_hh
    return nn.functional.linear(x, cell_module.weight_ih, bias)


def hidden_step(cell_module: nn.RNNCellBase, gates_x: Tensor, state: Tuple[Tensor, ...],
                weight_hh_t: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
    r"""One step of ``cell_module`` given :func:`input_gates` of its input: the same math as
    ``cell_module(x, state)`` (``torch.nn.LSTMCell`` / ``GRUCell`` / ``RNNCell``), in fewer operators.
    ``weight_hh_t`` is ``cell_module.weight_hh.t()``, to transpose once per pass rather than per step.

    The gates are taken apart with ``split_with_sizes`` rather than slices: the backward of a slice
    fills a zero tensor of the whole gate width for each slice, the backward of a split is one ``cat``."""
    h = state[0]
    if weight_hh_t is None:
        weight_hh_t = cell_module.weight_hh.t()
    hidden = h.size(1)
    if isinstance(cell_module, nn.GRUCell):
        gates_h = h @ weight_hh_t if cell_module.bias_hh is None else torch.addmm(cell_module.bias_hh, h, weight_hh_t)
        x_reset_update, x_new = gates_x.split_with_sizes([2 * hidden, hidden], 1)
        h_reset_update, h_new = gates_h.split_with_sizes([2 * hidden, hidden], 1)
        reset, update = torch.sigmoid(x_reset_update + h_reset_update).split_with_sizes([hidden, hidden], 1)
        return (torch.lerp(torch.tanh(torch.addcmul(x_new, reset, h_new)), h, update),)
    gates = torch.addmm(gates_x, h, weight_hh_t)
    if isinstance(cell_module, nn.RNNCell):
        return (torch.tanh(gates) if cell_module.nonlinearity == "tanh" else torch.relu(gates),)
    in_forget, candidate, out = gates.split_with_sizes([2 * hidden, hidden, hidden], 1)
    in_gate, forget = torch.sigmoid(in_forget).split_with_sizes([hidden, hidden], 1)
    c = torch.addcmul(forget * state[1], in_gate, torch.tanh(candidate))
    return torch.sigmoid(out) * torch.tanh(c), c


def fused_chain_kernel(cell_module: nn.RNNCellBase, packed_input: Tensor, batch_sizes: Tensor,
                       initial: Tuple[Tensor, ...], training: bool, equal_lengths: Optional[bool] = None
                       ) -> List[Tensor]:
    """Runs ``cell_module`` along packed sequences with torch's fused RNN kernel.

    Args:
        packed_input: ``[N, D]`` time-major packed input (as in ``PackedSequence.data``).
        batch_sizes: ``[T]`` CPU LongTensor, sequences alive at each step.
        initial: state tensors ``[B, H]`` (``(h, c)`` for LSTM).
        equal_lengths (bool, optional): every sequence has ``T`` steps (read off ``batch_sizes`` if
            not given; a plan knows it, which spares reading the tensor).

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
    if equal_lengths is None:
        equal_lengths = batch_sizes.numel() > 0 and int(batch_sizes[0]) == int(batch_sizes[-1])
    if not packed_input.is_cuda:
        return _run_kernel(kernel, packed_input, batch_sizes, hx, settings, equal_lengths)
    with warnings.catch_warnings():
        # cuDNN copies a cell's separate weight tensors into one buffer on every call and warns
        # each time; the copy is O(parameters), small next to the recurrence, and intended here.
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        return _run_kernel(kernel, packed_input, batch_sizes, hx, settings, equal_lengths)


def _run_kernel(kernel, packed_input: Tensor, batch_sizes: Tensor, hx, settings: tuple,
                equal_lengths: bool) -> List[Tensor]:
    steps = batch_sizes.numel()
    if equal_lengths:
        # Equal lengths: the padded kernel on a [T, B, D] view is the same math, and faster.
        output, *final = kernel(packed_input.view(steps, -1, packed_input.size(-1)), hx, *settings, False)
        return (output.reshape(-1, output.size(-1)), *final)
    return kernel(packed_input, batch_sizes, hx, *settings)


_KERNELS = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh, "rnn_relu": torch.rnn_relu}
