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
