"""Exact inference under the synthetic tree grammar: tree probabilities against the sampler and
against a sum over every tree, expected statistics against samples, the MAP tree against brute force."""
import math
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.datasets.synthetic_trees import (
    LETTERS,
    ROOT,
    TreeGrammar,
    dataset_grammar,
    make_grammar,
    preorder,
    sample_tree,
)
from graphrnn.datasets.tree_grammar import expected_statistics, map_tree, tree_log_prob


def two_letter_grammar(max_depth=2, max_children=2, decay=0.7) -> TreeGrammar:
    """Only ``a`` and ``b`` ever appear (hand-set, non-uniform), so every tree can be listed."""
    probs = torch.zeros(27, 27, 26)
    probs[..., 0], probs[..., 1] = 0.7, 0.3
    probs[1, 0, 0], probs[1, 0, 1] = 0.2, 0.8  # a's first child is mostly b
    child, sibling = torch.zeros(26), torch.zeros(26)
    child[:2] = torch.tensor([0.6, 0.3])
    sibling[:2] = torch.tensor([0.5, 0.8])
    return TreeGrammar(probs, child, sibling, decay, max_depth, max_children)


def sequences(length):
    """Every children sequence of ``length`` letters from {a, b}."""
    if length == 0:
        yield []
        return
    for rest in sequences(length - 1):
        for letter in "ab":
            yield [letter, *rest]


def all_trees(max_depth, max_children):
    """Every tree over {a, b} within the caps, as (labels, parents)."""
    def subtrees(label, depth):
        if depth >= max_depth:
            yield [label], [-1]
            return
        yield [label], [-1]
        for width in range(1, max_children + 1):
            for kids in sequences(width):
                yield from _attach(label, [subtrees(k, depth + 1) for k in kids])

    def _attach(label, kid_options):
        if not kid_options:
            yield [label], [-1]
            return
        for head_labels, head_parents in _attach(label, kid_options[:-1]):
            for sub_labels, sub_parents in kid_options[-1]:
                offset = len(head_labels)
                yield (head_labels + sub_labels,
                       head_parents + [0 if p < 0 else p + offset for p in sub_parents])

    for width in range(1, max_children + 1):
        for kids in sequences(width):
            yield from _attach(ROOT, [list(subtrees(k, 1)) for k in kids])


def canonical(labels, parents):
    """A tree's identity: nested (label, children) tuples, children in order."""
    def node(i):
        return labels[i], tuple(node(j) for j in range(len(parents)) if parents[j] == i)
    return node(0)


def test_probabilities_of_every_tree_sum_to_one():
    grammar = two_letter_grammar()
    total = sum(math.exp(tree_log_prob(grammar, *tree)) for tree in all_trees(2, 2))
    assert total == pytest.approx(1.0, abs=1e-6)  # float32 label probabilities


def test_log_prob_matches_sampling_frequencies():
    grammar = two_letter_grammar()
    generator = torch.Generator().manual_seed(0)
    draws = 5000
    counts = Counter(canonical(*sample_tree(grammar, generator)[1:]) for _ in range(draws))
    for tree in all_trees(2, 2):
        p = math.exp(tree_log_prob(grammar, *tree))
        seen = counts[canonical(*tree)] / draws
        assert seen == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws) + 1e-3)


def test_hand_computed_tree():
    grammar = two_letter_grammar(decay=0.5)
    # ROOT -> a -> b: ROOT's one child a (theta[ROOT, none](a) = 0.7, then stop 1 - 0.5),
    # a has children at depth 1 (0.6), its one child b (theta[a, none](b) = 0.8, stop 1 - 0.8 * 0.5),
    # b at depth 2 = max_depth is a leaf (probability 1).
    expected = 0.7 * 0.5 * 0.6 * 0.8 * (1 - 0.8 * 0.5)
    assert tree_log_prob(grammar, [ROOT, "a", "b"], [-1, 0, 1]) == pytest.approx(math.log(expected))
    assert tree_log_prob(grammar, [ROOT], [-1]) == -math.inf  # ROOT always has children
    assert tree_log_prob(grammar, [ROOT, "a", "b", "a"], [-1, 0, 1, 2]) == -math.inf  # deeper than max_depth


def test_expected_statistics_match_the_sum_over_trees():
    grammar = two_letter_grammar()
    trees = list(all_trees(2, 2))
    weights = [math.exp(tree_log_prob(grammar, *t)) for t in trees]
    letters = sum(w * (len(t[0]) - 1) for w, t in zip(weights, trees))
    flat = sum(w for w, t in zip(weights, trees) if all(p <= 0 for p in t[1]))
    stats = expected_statistics(grammar)
    assert stats["mean_letters"] == pytest.approx(letters)
    assert stats["flat_fraction"] == pytest.approx(flat)


@pytest.mark.parametrize("preset", ["released", "deep"])
def test_expected_statistics_match_samples(preset):
    grammar = dataset_grammar(1, preset)
    generator = torch.Generator().manual_seed(5)
    trees = [sample_tree(grammar, generator) for _ in range(1500)]
    letters = [len(t.labels) - 1 for t in trees]
    mean = sum(letters) / len(letters)
    spread = math.sqrt(sum((n - mean) ** 2 for n in letters) / len(letters) / len(letters))
    flat = sum(all(p <= 0 for p in t.parents) for t in trees) / len(trees)
    stats = expected_statistics(grammar)
    assert mean == pytest.approx(stats["mean_letters"], abs=4 * spread)
    assert flat == pytest.approx(stats["flat_fraction"], abs=4 * math.sqrt(0.25 / len(trees)))


def preorder_trees(length):
    """Every tree whose pre-order has ``length`` letters, as parent lists (node 0 is ROOT)."""
    def depth_sequences(prefix):
        if len(prefix) == length:
            yield prefix
            return
        for depth in range(1, (prefix[-1] if prefix else 0) + 2):
            yield from depth_sequences(prefix + [depth])

    for depths in depth_sequences([]):
        parents, path = [-1], [0]
        for node, depth in enumerate(depths, start=1):
            path = path[:depth]
            parents.append(path[-1])
            path.append(node)
        yield parents


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), preset=st.sampled_from(["released", "deep"]),
       caps=st.sampled_from([(5, 12), (3, 2), (2, 3)]),
       source=st.lists(st.sampled_from(LETTERS[:5]), min_size=1, max_size=6))
def test_map_tree_is_the_best_of_every_tree(seed, preset, caps, source):
    max_depth, max_children = caps  # small caps make the children count and the depth bind
    grammar = make_grammar(torch.Generator().manual_seed(seed), preset, max_depth=max_depth,
                           max_children=max_children)
    labels = [ROOT, *source]
    best = max(tree_log_prob(grammar, labels, parents) for parents in preorder_trees(len(source)))
    if best == -math.inf:
        with pytest.raises(ValueError, match="no tree of this grammar"):
            map_tree(grammar, source)
        return
    found = map_tree(grammar, source)
    assert found.log_prob == pytest.approx(best, abs=1e-9)
    assert tree_log_prob(grammar, found.labels, found.parents) == pytest.approx(best, abs=1e-9)
    assert found.labels == labels and preorder(found.labels, found.parents)[1:] == source


def test_map_tree_respects_the_caps():
    grammar = two_letter_grammar(max_depth=1, max_children=2)  # only ROOT's children, at most two
    with pytest.raises(ValueError, match="no tree of this grammar"):
        map_tree(grammar, ["a", "b", "a"])
    assert map_tree(grammar, ["a", "b"]).parents == [-1, 0, 0]
    deep = two_letter_grammar(max_depth=3, max_children=1)  # a chain is the only shape
    assert map_tree(deep, ["a", "b", "a"]).parents == [-1, 0, 1, 2]


def test_map_tree_prefers_likely_parents():
    grammar = two_letter_grammar(decay=1.0)
    grammar = grammar._replace(child_prob=torch.tensor([0.95, 0.01] + [0.0] * 24))
    assert map_tree(grammar, ["a", "b"]).parents == [-1, 0, 1]  # a almost always has children
    assert map_tree(grammar, ["b", "a"]).parents == [-1, 0, 0]  # b almost never does


def test_bad_input():
    grammar = two_letter_grammar()
    with pytest.raises(ValueError, match="the source is empty"):
        map_tree(grammar, [])
    with pytest.raises(ValueError, match="not one of the grammar's 26 lowercase letters"):
        map_tree(grammar, ["A"])
    with pytest.raises(TypeError, match="must be a TreeGrammar"):
        map_tree("released", ["a"])
    with pytest.raises(ValueError, match="must start with 'ROOT'"):
        tree_log_prob(grammar, ["a"], [-1])
    with pytest.raises(ValueError, match="node 2 has parent 2"):
        tree_log_prob(grammar, [ROOT, "a", "b"], [-1, 0, 2])
    with pytest.raises(ValueError, match="one parent per label"):
        tree_log_prob(grammar, [ROOT, "a"], [-1])
