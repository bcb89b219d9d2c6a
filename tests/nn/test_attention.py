import pytest
import torch

from graphrnn.nn.attention import Attention


def test_dot_attention_equals_the_formula_and_ignores_masked_slots():
    torch.manual_seed(0)
    h, memory = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    context = Attention("dot", 3, 3)(h, memory, mask)
    for b in range(2):
        slots = memory[b, mask[b]]
        weights = torch.softmax(slots @ h[b], 0)
        assert torch.allclose(context[b], weights @ slots)
    assert torch.allclose(context[1], memory[1, 0])  # one real slot: all weight on it


def test_mlp_attention_equals_the_formula_and_has_gradients():
    torch.manual_seed(1)
    layer = Attention("mlp", 3, 5).double()
    h, memory = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, 5, dtype=torch.float64)
    mask = torch.ones(2, 4, dtype=torch.bool)
    hidden = torch.tanh((h @ layer.query.weight.T)[:, None] + memory @ layer.key.weight.T + layer.key.bias)
    scores = hidden @ layer.score.weight.T
    expected = (torch.softmax(scores.squeeze(-1), -1)[..., None] * memory).sum(1)
    assert torch.allclose(layer(h, memory, mask), expected)
    h.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q: layer(q, memory, mask), (h,))
    assert repr(layer) == f"Attention('mlp', {layer.hidden}, {layer.memory})"


@pytest.mark.parametrize("kind", ["dot", "mlp"])
def test_index_equals_the_gathered_memory(kind):
    torch.manual_seed(1)
    layer = Attention(kind, 3, 3).double()
    h, memory = torch.randn(5, 3, dtype=torch.float64), torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    index = torch.tensor([1, 0, 0, 1, 1])
    torch.testing.assert_close(layer(h, memory, mask, index=index),
                               layer(h, memory[index], mask[index]))


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="attention must be one of"):
        Attention("cosine", 3, 3)
    with pytest.raises(ValueError, match="dot attention needs memory width == decoder hidden size"):
        Attention("dot", 3, 6)


def test_the_models_package_re_exports_the_layer():
    import graphrnn.models
    import graphrnn.nn

    assert graphrnn.models.Attention is graphrnn.nn.Attention


@pytest.mark.parametrize("kind", ["dot", "mlp"])
def test_bad_inputs_raise_instead_of_nan_or_broadcasting(kind):
    layer = Attention(kind, 4, 4)
    h, memory, mask = torch.randn(2, 4), torch.randn(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)
    # a row with no real slot gave NaN weights, and an empty memory zeros
    with pytest.raises(ValueError, match="a row of mask is all False"):
        layer(h, memory, torch.tensor([[True, True, True], [False, False, False]]))
    with pytest.raises(ValueError, match="a row of mask is all False"):
        layer(h, torch.randn(2, 0, 4), torch.ones(2, 0, dtype=torch.bool))
    # one memory row for two queries (or an index of the wrong length) was broadcast silently
    with pytest.raises(ValueError, match="memory has 1 rows but h has 2"):
        layer(h, memory[:1], mask[:1])
    with pytest.raises(ValueError, match=r"index must be an integer tensor \[B\]=\[2\]"):
        layer(h, memory, mask, index=torch.tensor([0]))
    with pytest.raises(ValueError, match=r"index must be an integer tensor"):
        layer(h, memory, mask, index=torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"index holds a memory row outside 0..1"):
        layer(h, memory, mask, index=torch.tensor([0, 2]))
    # raw torch errors before
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        layer(h, memory, mask.long())
    with pytest.raises(ValueError, match="got h of width 5"):
        layer(torch.randn(2, 5), memory, mask)
    with pytest.raises(ValueError, match="memory must be a 3-d tensor"):
        layer(h, memory[0], mask[0])
    with pytest.raises(ValueError, match="hidden and memory must be integers >= 1"):
        Attention(kind, 0, 4)


def test_mlp_attention_refuses_another_dtype():
    with pytest.raises(TypeError, match="h is torch.float64 but Attention's parameters are torch.float32"):
        Attention("mlp", 4, 4)(torch.randn(2, 4).double(), torch.randn(2, 3, 4).double(),
                               torch.ones(2, 3, dtype=torch.bool))
