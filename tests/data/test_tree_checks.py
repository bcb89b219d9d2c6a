"""tree_graph's opt-in checks: labels inside a vocabulary, parents listed before children."""
import pytest

from graphrnn.data import tree_graph


@pytest.mark.parametrize("labels, parents, kwargs, match", [
    ([0, 5], [-1, 0], {"num_labels": 5}, r"labels\[1\] = 5 is outside the vocabulary of 5 labels"),
    ([-1, 0], [-1, 0], {"num_labels": 5}, r"labels\[0\] = -1 is outside"),
    ([0, 1, 2], [-1, 2, 0], {"ordered": True}, r"parents\[1\] = 2 is not an earlier node"),
    ([0, 1], [1, -1], {"ordered": True}, r"parents\[0\] = 1 is not an earlier node"),
    ([0, 1, 2], [-1, 0, -1], {"ordered": True}, "exactly one root"),  # a forest
])
def test_rejects_bad_trees(labels, parents, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tree_graph(labels, parents, **kwargs)


def test_accepts_good_trees_and_keeps_defaults():
    data = tree_graph([0, 4, 1], [-1, 0, 0], num_labels=5, ordered=True)
    assert data.y.tolist() == [0, 4, 1]
    tree_graph([7, 1], [1, -1])  # without the checks, any order and label ids are fine
