"""tree_retrieval on hand-computed examples and a brute-force property check."""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.metrics import tree_retrieval
from graphrnn.metrics.trees import edge_multiset, node_multiset, parent_edge_multiset

#   gold:  a -> (b, c), b -> d          pred: a -> (b, b), b -> c
GOLD = (["a", "b", "c", "d"], [-1, 0, 0, 1])
PRED = (["a", "b", "b", "c"], [-1, 0, 0, 1])


def test_hand_example():
    result = tree_retrieval([PRED], [GOLD])
    # nodes: pred {a, b, b, c}, gold {a, b, c, d}: common {a, b, c} = 3 of 4 each way
    assert result["node_precision"] == pytest.approx(3 / 4)
    assert result["node_recall"] == pytest.approx(3 / 4)
    # edges: pred {ab, ab, bc}, gold {ab, ac, bd}: common {ab} = 1 of 3 each way
    assert result["edge_precision"] == pytest.approx(1 / 3)
    assert result["edge_f1"] == pytest.approx(1 / 3)
    # parent label only (the authors' evaluation): pred {a, a, b}, gold {a, a, b}: all 3 match
    assert result["edge_parent_precision"] == pytest.approx(1.0)
    assert result["edge_parent_f1"] == pytest.approx(1.0)
    assert result["count"] == 1


def test_parent_label_edges_ignore_the_child():
    gold = (["ROOT", "a", "b", "c"], [-1, 0, 1, 1])  # a -> (b, c)
    pred = (["ROOT", "a", "c", "c"], [-1, 0, 1, 1])  # a -> (c, c)
    assert parent_edge_multiset(gold, skip_root=True) == {"a": 2}
    assert parent_edge_multiset(pred) == {"ROOT": 1, "a": 2}
    result = tree_retrieval([pred], [gold], skip_root=True)
    assert result["edge_precision"] == pytest.approx(1 / 2)  # (a, c) twice vs (a, b), (a, c)
    assert result["edge_parent_precision"] == pytest.approx(1.0)  # a twice vs a twice
    assert result["edge_parent_recall"] == pytest.approx(1.0)


def test_averages_over_trees_then_harmonic_mean():
    perfect = (["x", "y"], [-1, 0])
    small = (["x"], [-1])  # predicts only the root of `perfect`
    result = tree_retrieval([perfect, small], [perfect, perfect])
    assert result["node_precision"] == pytest.approx((1 + 1) / 2)
    assert result["node_recall"] == pytest.approx((1 + 0.5) / 2)
    assert result["node_f1"] == pytest.approx(2 * 1 * 0.75 / 1.75)
    assert result["edge_precision"] == pytest.approx((1 + 0) / 2)  # no predicted edge, one gold edge
    assert result["edge_recall"] == pytest.approx((1 + 0) / 2)


def test_skip_root_ignores_the_fixed_root_symbol():
    gold = (["ROOT", "a", "b"], [-1, 0, 1])
    pred = (["ROOT", "a", "c"], [-1, 0, 0])
    result = tree_retrieval([pred], [gold], skip_root=True)
    assert result["node_precision"] == pytest.approx(1 / 2)  # {a, c} vs {a, b}
    assert result["edge_precision"] == 0.0  # pred has no non-root edge, gold has (a, b)
    assert result["edge_recall"] == 0.0
    both_empty = tree_retrieval([(["ROOT"], [-1])], [(["ROOT"], [-1])], skip_root=True)
    assert both_empty["node_f1"] == 1.0 and both_empty["edge_f1"] == 1.0


def _brute_common(a, b):
    """Largest matching between two lists by trying every assignment (tiny inputs)."""
    if len(a) > len(b):
        a, b = b, a
    best = 0
    for perm in itertools.permutations(range(len(b)), min(len(a), len(b))):
        best = max(best, sum(a[i] == b[j] for i, j in enumerate(perm)))
    return best


@st.composite
def small_trees(draw):
    n = draw(st.integers(1, 5))
    parents = [-1] + [draw(st.integers(0, i - 1)) for i in range(1, n)]
    return draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)), parents


@settings(max_examples=30, deadline=None)
@given(small_trees(), small_trees())
def test_matches_brute_force_matching(pred, gold):
    result = tree_retrieval([pred], [gold])
    nodes = _brute_common(pred[0], gold[0])
    assert result["node_precision"] == pytest.approx(nodes / len(pred[0]))
    assert result["node_recall"] == pytest.approx(nodes / len(gold[0]))
    pe, ge = list(edge_multiset(pred).elements()), list(edge_multiset(gold).elements())
    edges = _brute_common(pe, ge)
    assert result["edge_precision"] == pytest.approx(edges / len(pe) if pe else float(not ge))
    assert sum(node_multiset(pred).values()) == len(pred[0])
    pp, gp = list(parent_edge_multiset(pred).elements()), list(parent_edge_multiset(gold).elements())
    assert sorted(pp) == sorted(label for label, _ in pe)
    parents = _brute_common(pp, gp)
    assert result["edge_parent_recall"] == pytest.approx(parents / len(gp) if gp else float(not pp))


def test_bad_input():
    with pytest.raises(ValueError, match="one prediction per gold tree"):
        tree_retrieval([GOLD], [GOLD, GOLD])
    with pytest.raises(ValueError, match="at least one tree"):
        tree_retrieval([], [])
    with pytest.raises(ValueError, match="one parent per label"):
        tree_retrieval([(["a"], [-1, 0])], [GOLD])
    with pytest.raises(ValueError, match="parent index 5 is out of range"):
        tree_retrieval([(["a", "b"], [-1, 5])], [GOLD])
    with pytest.raises(ValueError, match="a pair"):
        tree_retrieval(["abc"], [GOLD])


@pytest.mark.parametrize("pred, message", [
    (([0, 1], [1, 0]), "exactly one root"),  # a cycle and no root
    (([0, 1, 2], [-1, 2, 1]), r"cycle through nodes \[1, 2\]"),
    (([0, 1], [-1, 1]), r"cycle through nodes \[1\]"),  # its own parent
    (([0, 1], [-1, -1]), r"exactly one root \(parent -1\), got 2"),  # a forest
])
def test_malformed_trees_raise_instead_of_being_scored(pred, message):
    # before: scored as if they were trees (edge precision 0.5 for the cycle, skip_root dropping both roots)
    with pytest.raises(ValueError, match=message):
        tree_retrieval([pred], [([0, 1], [-1, 0])])
    with pytest.raises(ValueError, match=message):
        tree_retrieval([([0, 1], [-1, 0])], [pred])


def test_empty_and_deep_trees_are_still_scored():
    assert tree_retrieval([([], [])], [([0], [-1])])["node_recall"] == 0.0
    chain = (list(range(3000)), [-1] + list(range(2999)))
    assert tree_retrieval([chain], [chain])["edge_f1"] == 1.0
