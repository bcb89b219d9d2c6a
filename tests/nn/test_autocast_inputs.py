"""Inputs in autocast's precision: a layer run under ``torch.autocast`` takes the lower-precision output of the
layers before it (as torch's own modules do), and still refuses a silent cast outside autocast."""
import pytest
import torch
from torch import nn

from graphrnn.nn import DAGNN, ChainRNN, ChildSumTreeLSTM, DAGNNConv, NaryTreeLSTM, RecurrentMessagePassing

EDGES = torch.tensor([[0, 0, 1], [1, 2, 3]])
LAYERS = {"ChainRNN": lambda: ChainRNN(3, 4), "ChainRNN gru": lambda: ChainRNN(3, 4, cell="gru"),
          "ChildSumTreeLSTM": lambda: ChildSumTreeLSTM(3, 4), "NaryTreeLSTM": lambda: NaryTreeLSTM(3, 4, 2),
          "DAGNNConv": lambda: DAGNNConv(3, 4), "DAGNN": lambda: DAGNN(3, 4)}


def first(output):
    return output[0] if isinstance(output, tuple) else output


@pytest.mark.parametrize("name", LAYERS)
def test_a_bfloat16_input_under_autocast_is_taken_and_close_to_float32(name):
    # before: 'x is torch.bfloat16 but ChainRNN's parameters are torch.float32' for the output of a linear layer
    # that ran under the same autocast
    torch.manual_seed(0)
    layer, x = LAYERS[name](), torch.randn(4, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = x.to(torch.bfloat16).requires_grad_()
        out = first(layer(low, EDGES))
    out.float().sum().backward()
    assert low.grad is not None and low.grad.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), first(layer(x, EDGES)), atol=2e-2, rtol=2e-2)
    with pytest.raises(TypeError, match="bfloat16 but .* parameters are torch.float32"):  # no autocast: no cast
        layer(x.to(torch.bfloat16), EDGES)


class GGNN(RecurrentMessagePassing):
    def __init__(self, h):
        super().__init__(schedule="synchronous", num_steps=2)
        self.lin, self.gru = nn.Linear(h, h, bias=False), nn.GRUCell(h, h)

    def message(self, state_j):
        return self.lin(state_j[0])

    def update(self, aggr, state, x0):
        return self.gru(aggr[0] + x0, state[0])


def test_the_synchronous_schedule_takes_node_inputs_in_autocast_precision():
    # before: node_inputs were dtype-checked even under autocast (states were not)
    torch.manual_seed(0)
    layer, edges = GGNN(3), torch.tensor([[0, 1, 2], [1, 2, 0]])
    h = torch.randn(3, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = nn.functional.linear(h, torch.eye(3))  # bfloat16 under autocast
        out = layer.propagate_synchronous(edges, low, node_inputs={"x0": low})[-1].state[0]
    torch.testing.assert_close(out.float(), layer.propagate_synchronous(edges, h, node_inputs={"x0": h})[-1].state[0],
                               atol=3e-2, rtol=3e-2)
    with pytest.raises(TypeError, match="x0 is torch.bfloat16"):
        layer.propagate_synchronous(edges, h, node_inputs={"x0": h.to(torch.bfloat16)})


def test_a_float64_layer_under_autocast_still_names_the_dtype():
    # autocast lowers float32 products only: a float64 layer given bfloat16 x failed inside torch's matmul
    layer = ChainRNN(3, 4).double()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(TypeError, match="x is torch.bfloat16 but ChainRNN's parameters are torch.float64"):
            layer(torch.randn(4, 3, dtype=torch.bfloat16), EDGES)
