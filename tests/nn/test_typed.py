"""TypedLinear: one weight matrix per edge type."""
import pytest
import torch

from graphrnn.nn import TypedLinear


def reference(layer, x, types):
    rows = [layer.weight[t] @ x[i] + (layer.bias[t] if layer.bias is not None else 0)
            for i, t in enumerate(types.tolist())]
    return torch.stack(rows) if rows else x.new_zeros(0, layer.out_channels)


@pytest.mark.parametrize("bias", [True, False])
def test_equals_per_row_reference(bias):
    torch.manual_seed(0)
    layer = TypedLinear(4, 3, num_types=3, bias=bias).double()
    x = torch.randn(11, 4, dtype=torch.float64)
    types = torch.tensor([0, 2, 2, 1, 0, 0, 2, 1, 1, 0, 2])
    torch.testing.assert_close(layer(x, types), reference(layer, x, types), rtol=0, atol=1e-12)


def test_missing_types_and_empty_input():
    layer = TypedLinear(4, 3, num_types=5)
    x = torch.randn(3, 4)
    types = torch.tensor([4, 4, 1])
    torch.testing.assert_close(layer(x, types), reference(layer, x, types))
    assert layer(torch.randn(0, 4), torch.zeros(0, dtype=torch.long)).shape == (0, 3)


def test_gradcheck():
    torch.manual_seed(0)
    layer = TypedLinear(3, 2, num_types=2).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    types = torch.tensor([1, 0, 1, 1, 0])
    assert torch.autograd.gradcheck(lambda x, w, b: torch.func.functional_call(
        layer, {"weight": w, "bias": b}, (x, types)), (x, layer.weight, layer.bias))


def test_bad_input():
    layer = TypedLinear(4, 3, num_types=2)
    with pytest.raises(ValueError, match="in_channels=4"):
        layer(torch.randn(2, 5), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"types must have shape \[rows\]"):
        layer(torch.randn(2, 4), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"types must lie in \[0, 2\)"):
        layer(torch.randn(2, 4), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="num_types must be >= 1"):
        TypedLinear(4, 3, num_types=0)


def test_repr_and_reset():
    layer = TypedLinear(4, 3, num_types=2)
    assert "num_types=2" in repr(layer)
    before = layer.weight.detach().clone()
    layer.reset_parameters()
    assert not torch.equal(before, layer.weight)


def test_float_types_and_other_dtypes_raise():
    layer = TypedLinear(3, 2, num_types=2)
    x = torch.randn(2, 3)
    # a type 0.5 matched no weight and left its row uninitialised
    with pytest.raises(ValueError, match="types must hold integer type ids"):
        layer(x, torch.tensor([0.0, 0.5]))
    with pytest.raises(TypeError, match="x is torch.float64 but TypedLinear's parameters are torch.float32"):
        layer(x.double(), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="x is on meta but TypedLinear's parameters are on cpu"):
        layer(x.to("meta"), torch.tensor([0, 1]))
