"""Digits read row by row and the remember-the-first-symbol memory task."""
import pytest
import torch

from graphrnn.data import DataLoader
from graphrnn.datasets.digits import digit_sequences, split_digit_sequences
from graphrnn.datasets.memory import remember_first_dataset


def test_digits_are_chains_of_rows():
    from sklearn.datasets import load_digits

    graphs = digit_sequences()
    images = load_digits().images
    assert len(graphs) == 1797
    first = graphs[0]
    assert first.x.shape == (8, 8) and first.edge_index.tolist() == [list(range(7)), list(range(1, 8))]
    torch.testing.assert_close(first.x, torch.as_tensor(images[0], dtype=torch.float32) / 16)
    assert all(0.0 <= float(g.x.min()) and float(g.x.max()) <= 1.0 for g in graphs[:50])


def test_digit_split_is_seeded_and_disjoint():
    a_train, a_test = split_digit_sequences(seed=3)
    b_train, _ = split_digit_sequences(seed=3)
    c_train, _ = split_digit_sequences(seed=4)
    assert len(a_train) + len(a_test) == 1797 and len(a_test) == 449
    assert all(torch.equal(a.x, b.x) for a, b in zip(a_train, b_train))
    assert not all(torch.equal(a.x, c.x) for a, c in zip(a_train, c_train))
    batch = next(iter(DataLoader(a_train, batch_size=5)))
    assert batch.y.shape == (5,)
    with pytest.raises(ValueError, match="test_fraction"):
        split_digit_sequences(test_fraction=1.0)


def test_memory_task_layout():
    graphs = remember_first_dataset(20, delay=6, generator=torch.Generator().manual_seed(0))
    for g in graphs:
        assert g.x.shape == (7, 8)
        assert torch.equal(g.x.sum(1), torch.ones(7))  # one-hot rows
        assert int(g.x[0].argmax()) == int(g.y) < 4  # the symbol to remember
        assert bool((g.x[1:, :4] == 0).all())  # distractors come from the other symbols
    again = remember_first_dataset(20, delay=6, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a.x, b.x) for a, b in zip(graphs, again))
    with pytest.raises(ValueError, match="delay >= 1"):
        remember_first_dataset(5, delay=0, generator=torch.Generator())
