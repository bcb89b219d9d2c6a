"""bag_sum over EdgeBags: against a per-edge loop, gradients (gradcheck and against autograd of the loop), errors."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.nn.bags import bag_sum, edge_bags


def sorted_edges(sources, targets):
    order = sorted(range(len(targets)), key=lambda e: targets[e])
    return torch.tensor([sources[e] for e in order], dtype=torch.long), \
        torch.tensor([targets[e] for e in order], dtype=torch.long)


def loop_reference(table, sources, targets, weights, num_targets):
    rows = [torch.zeros(table.size(1), dtype=table.dtype) for _ in range(num_targets)]
    for e, (s, t) in enumerate(zip(sources.tolist(), targets.tolist())):
        rows[t] = rows[t] + weights[e] * table[s]
    return torch.stack(rows)


@st.composite
def relations(draw):
    num_sources = draw(st.integers(1, 6))
    num_targets = draw(st.integers(1, 6))
    edges = draw(st.lists(st.tuples(st.integers(0, num_sources - 1), st.integers(0, num_targets - 1)),
                          max_size=20))
    sources, targets = sorted_edges([s for s, _ in edges], [t for _, t in edges])
    return num_sources, num_targets, sources, targets


@settings(max_examples=40, deadline=None)
@given(relations(), st.integers(0, 2**31 - 1))
def test_equals_the_per_edge_loop_with_its_gradients(relation, seed):
    num_sources, num_targets, sources, targets = relation
    generator = torch.Generator().manual_seed(seed)
    table = torch.randn(num_sources, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    weights = torch.rand(sources.numel(), dtype=torch.float64, generator=generator, requires_grad=True)
    bags = edge_bags(sources, targets, num_sources, num_targets)
    out = bag_sum(table, bags, weights)
    expected = loop_reference(table, sources, targets, weights, num_targets)
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
    upstream = torch.randn(num_targets, 3, dtype=torch.float64, generator=generator)
    got = torch.autograd.grad((out * upstream).sum(), (table, weights), allow_unused=True)
    if sources.numel() == 0:  # the reference is a constant zero: so must the gradients be
        want = (None, None)
    else:
        want = torch.autograd.grad((expected * upstream).sum(), (table, weights), allow_unused=True)
    for g, w, like in zip(got, want, (table, weights)):
        torch.testing.assert_close(g if g is not None else torch.zeros_like(like),
                                   w if w is not None else torch.zeros_like(like), atol=1e-12, rtol=0)


def test_gradcheck_and_the_bag_structure():
    sources, targets = sorted_edges([0, 2, 1, 0, 2], [1, 1, 0, 3, 3])  # target 2 has no edges
    bags = edge_bags(sources, targets, 3, 4)
    assert bags.offsets.tolist() == [0, 1, 3, 3]
    assert bags.degrees.tolist() == [1, 2, 2, 2, 2]
    assert bags.source_offsets.tolist() == [0, 2, 3]
    assert bags.source_targets.tolist() == targets[bags.by_source].tolist()
    table = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, w: bag_sum(t, bags, w), (table, weights))
    assert bag_sum(table, bags, weights)[2].abs().sum() == 0  # an empty bag is zero


def test_no_edges_gives_zeros_and_zero_gradients():
    bags = edge_bags(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 2, 3)
    table = torch.randn(2, 4, requires_grad=True)
    out = bag_sum(table, bags, torch.zeros(0))
    assert out.shape == (3, 4) and out.abs().sum() == 0
    out.sum().backward()
    assert table.grad.abs().sum() == 0


def test_unsorted_targets_raise():
    with pytest.raises(ValueError, match="sorted by target row"):
        edge_bags(torch.tensor([0, 1]), torch.tensor([1, 0]), 2, 2)


def test_to_moves_every_tensor():
    bags = edge_bags(torch.tensor([0, 1]), torch.tensor([0, 0]), 2, 1).to("meta")
    assert all(t.device.type == "meta" for t in bags)


def test_second_derivatives():
    sources, targets = sorted_edges([0, 2, 1, 0, 2], [1, 1, 0, 3, 3])
    bags = edge_bags(sources, targets, 3, 4)
    table = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t, w: bag_sum(t, bags, w), (table, weights))


def test_bad_sizes_and_rows_raise():
    bags = edge_bags(torch.tensor([0, 1]), torch.tensor([0, 0]), 2, 1)
    with pytest.raises(ValueError, match=r"table must have shape \[num_sources=2, F\], got \[3, 4\]"):
        bag_sum(torch.zeros(3, 4), bags, torch.ones(2))
    with pytest.raises(ValueError, match=r"weights must have shape \[E\]=\[2\], got \[3\]"):
        bag_sum(torch.zeros(2, 4), bags, torch.ones(3))
    with pytest.raises(ValueError, match=r"source_rows must lie in \[0, 3\), got values in \[0, 5\]"):
        edge_bags(torch.tensor([0, 5]), torch.tensor([0, 0]), 3, 1)
    with pytest.raises(ValueError, match="target_rows must be a 1-d integer tensor"):
        edge_bags(torch.tensor([0, 1]), torch.tensor([0.0, 0.0]), 2, 1)
    with pytest.raises(ValueError, match="one entry per edge"):
        edge_bags(torch.tensor([0, 1]), torch.tensor([0]), 2, 1)
    int32 = edge_bags(torch.tensor([0, 1], dtype=torch.int32), torch.tensor([0, 0], dtype=torch.int32), 2, 1)
    table = torch.randn(2, 3, requires_grad=True)
    bag_sum(table, int32, torch.ones(2)).sum().backward()  # int32 rows are taken as long
    torch.testing.assert_close(table.grad, torch.ones(2, 3))
