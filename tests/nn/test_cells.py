import pytest
import torch
from torch import nn

from graphrnn.nn import make_cell, set_forget_bias


def test_set_forget_bias_sets_only_the_forget_gate():
    cell = make_cell("lstm", 3, 4)
    before_ih, before_hh = cell.bias_ih.detach().clone(), cell.bias_hh.detach().clone()
    assert set_forget_bias(cell, 5.0) is cell
    assert torch.equal(cell.bias_ih[4:8], torch.full((4,), 5.0))
    assert torch.equal(cell.bias_hh[4:8], torch.zeros(4))
    for start in (0, 8, 12):  # input, cell and output gates untouched
        assert torch.equal(cell.bias_ih[start:start + 4], before_ih[start:start + 4])
        assert torch.equal(cell.bias_hh[start:start + 4], before_hh[start:start + 4])


def test_forget_bias_keeps_the_cell_content():
    cell = set_forget_bias(make_cell("lstm", 1, 2), 5.0)
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
    c = torch.ones(1, 2)
    with torch.no_grad():
        _, c_next = cell(torch.zeros(1, 1), (torch.zeros(1, 2), c))
        gates = cell.bias_ih + cell.bias_hh  # zero weights: the gates are their biases
        input_gate, forget_gate, candidate = gates[0:2].sigmoid(), gates[2:4].sigmoid(), gates[4:6].tanh()
    assert torch.allclose(forget_gate, torch.sigmoid(torch.tensor(5.0)).expand(2))
    assert torch.allclose(c_next, forget_gate * c + input_gate * candidate, atol=1e-6)


@pytest.mark.parametrize("module", [nn.GRUCell(2, 3), nn.RNNCell(2, 3), nn.LSTMCell(2, 3, bias=False)])
def test_set_forget_bias_rejects_other_cells(module):
    with pytest.raises(TypeError, match="nn.LSTMCell with biases"):
        set_forget_bias(module, 1.0)
