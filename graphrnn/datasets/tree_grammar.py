r"""Exact inference under the synthetic tree grammar of :mod:`graphrnn.datasets.synthetic_trees`.

The grammar's probabilities are known, so three things can be computed exactly:

* :func:`tree_log_prob`, the probability of one labelled ordered tree,

  .. math::
      \log P(T) = \sum_{v} \log P(\alpha_v \mid y_v, d_v)
                + \sum_{v \ne \mathrm{ROOT}} \big[\log \theta_{y_{p(v)}, y_{s(v)}}(y_v)
                + \log P(\varphi_v \mid y_v, d_v)\big];

* :func:`expected_statistics`, the expected letters per tree and the probability that a
  tree is *flat* (no edge below ``ROOT``'s children), by a recursion over depths;
* :func:`map_tree`, the Bayes-optimal reference of the tree-recovery task: the most
  probable tree given its source (the pre-order letter string :math:`x`),

  .. math::
      \hat T = \arg\max_{T:\ \mathrm{preorder}(T) = x} P(T),

  by dynamic programming over the spans of the pre-order: a node's subtree is a
  contiguous span, so :math:`S(i, k, d)`, the best subtree of letter :math:`i` at depth
  :math:`d` covering :math:`x_{i:k}`, and :math:`H(m, k, d, a, n)`, the best remaining
  children sequence of a parent labelled :math:`a` from its :math:`n`-th child :math:`m`
  to :math:`k`, call each other (:math:`O(L^3)` states and choices per parent label).
  It is the mode of the posterior over trees (the Bayes decision for exact match); a
  decoder can score a little above it on F1, which rewards partly right trees.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Dict, List, NamedTuple, Sequence

import numpy as np

from graphrnn.datasets.synthetic_trees import LETTERS, ROOT, TreeGrammar

__all__ = ["MapTree", "tree_log_prob", "expected_statistics", "map_tree"]

_INDEX = {letter: i for i, letter in enumerate(LETTERS)}


class MapTree(NamedTuple):
    """The most probable tree (labels in pre-order, ``ROOT`` first) and its log-probability."""

    labels: List[str]
    parents: List[int]
    log_prob: float


class _Tables(NamedTuple):
    log_label: np.ndarray  # [27, 27, 26] log theta
    child: np.ndarray  # [max_depth + 1, 26] P(has children | letter, depth), depth 0 unused
    sibling: np.ndarray  # [max_depth + 1, 26] P(next sibling | letter, depth)
    max_children: int


def _tables(grammar: TreeGrammar) -> _Tables:
    if not isinstance(grammar, TreeGrammar):
        raise TypeError(f"grammar must be a TreeGrammar, got {type(grammar).__name__}")
    depths = np.arange(grammar.max_depth + 1, dtype=np.float64)
    scale = float(grammar.decay) ** np.maximum(depths - 1, 0)[:, None]
    child = grammar.child_prob.double().numpy()[None, :] * scale
    child[grammar.max_depth:] = 0.0  # nodes at the depth cap are leaves
    sibling = np.clip(grammar.sibling_prob.double().numpy()[None, :] * scale, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        log_label = np.log(grammar.label_probs.double().numpy())
    return _Tables(log_label, np.clip(child, 0.0, 1.0), sibling, int(grammar.max_children))


def _log(p: float) -> float:
    return math.log(p) if p > 0 else -math.inf


def _letters(labels: Sequence[str], what: str) -> List[int]:
    bad = [label for label in labels if label not in _INDEX]
    if bad:
        raise ValueError(f"{what} holds {bad[0]!r}, which is not one of the grammar's 26 lowercase letters")
    return [_INDEX[label] for label in labels]


# ------------------------------------------------------------------ probability of one tree
def tree_log_prob(grammar: TreeGrammar, labels: Sequence[str], parents: Sequence[int]) -> float:
    """:math:`\\log P(T)` of the tree ``(labels, parents)`` (``ROOT`` at node 0 with parent -1) under
    ``grammar``'s generating process; ``-inf`` for a tree it never generates.

    Raises:
        ValueError: if the tree is malformed (not rooted at ``ROOT``, a parent out of range or after
            its child, a label that is not a letter).
    """
    tables = _tables(grammar)
    children, depths = _structure(labels, parents)
    letters = [-1] + _letters(labels[1:], "the tree")
    total = 0.0
    for node, kids in enumerate(children):
        if node > 0:
            p_child = tables.child[min(depths[node], len(tables.child) - 1), letters[node]]
            total += _log(p_child) if kids else _log(1.0 - p_child)
        elif not kids:
            return -math.inf  # ROOT always has children
        total += _children_log_prob(tables, letters[node] + 1, [letters[k] for k in kids], depths[node] + 1)
    return total


def _children_log_prob(tables: _Tables, parent: int, kids: Sequence[int], depth: int) -> float:
    if len(kids) > tables.max_children:
        return -math.inf
    total, previous = 0.0, 0
    for position, kid in enumerate(kids, start=1):
        total += tables.log_label[parent, previous, kid]
        p_next = tables.sibling[min(depth, len(tables.sibling) - 1), kid]
        if position < len(kids):
            total += _log(p_next)
        elif position < tables.max_children:
            total += _log(1.0 - p_next)
        previous = kid + 1
    return total


def _structure(labels: Sequence[str], parents: Sequence[int]):
    if len(labels) != len(parents):
        raise ValueError(f"a tree needs one parent per label, got {len(labels)} labels and {len(parents)} parents")
    if not labels or labels[0] != ROOT or parents[0] != -1:
        raise ValueError(f"the tree must start with {ROOT!r} (parent -1), got {list(labels[:1])} / {list(parents[:1])}")
    children: List[List[int]] = [[] for _ in labels]
    depths = [0] * len(labels)
    for node in range(1, len(labels)):
        parent = int(parents[node])
        if not 0 <= parent < node:
            raise ValueError(f"node {node} has parent {parent}; every node needs an earlier node as parent")
        children[parent].append(node)
        depths[node] = depths[parent] + 1
    return children, depths


# ------------------------------------------------------------------ expected statistics
def expected_statistics(grammar: TreeGrammar) -> Dict[str, float]:
    """Exact expected letters per tree (``mean_letters``) and probability of a flat tree, one whose
    letters all hang from ``ROOT`` (``flat_fraction``), under ``grammar``."""
    tables = _tables(grammar)
    depth_cap = grammar.max_depth
    descendants = np.zeros((depth_cap + 2, len(LETTERS)))  # expected letters below a letter at each depth
    for depth in range(depth_cap - 1, 0, -1):
        per_child = 1.0 + descendants[depth + 1]
        below = np.array([_sequence_expectation(tables, parent + 1, depth + 1, per_child)
                          for parent in range(len(LETTERS))])
        descendants[depth] = tables.child[depth] * below
    mean_letters = _sequence_expectation(tables, 0, 1, 1.0 + descendants[1])
    return {"mean_letters": float(mean_letters), "flat_fraction": float(_flat_probability(tables))}


def _sequence_expectation(tables: _Tables, parent: int, depth: int, per_child: np.ndarray) -> float:
    """E[sum of ``per_child`` over the children of a ``parent`` whose children sit at ``depth``]."""
    probs = np.exp(tables.log_label[parent])  # [previous sibling, letter]
    follow = np.zeros(len(probs))  # expectation of the rest, per previous sibling (index 0: none)
    for position in range(tables.max_children, 0, -1):
        go_on = tables.sibling[depth] if position < tables.max_children else np.zeros(len(LETTERS))
        follow = probs @ (per_child + go_on * follow[1:])
    return float(follow[0])


def _flat_probability(tables: _Tables) -> float:
    probs = np.exp(tables.log_label[0])
    leaf = 1.0 - tables.child[1]
    rest = np.ones(len(probs))
    for position in range(tables.max_children, 0, -1):
        go_on = tables.sibling[1] if position < tables.max_children else np.zeros(len(LETTERS))
        rest = probs @ (leaf * ((1.0 - go_on) + go_on * rest[1:]))
    return float(rest[0])


# ------------------------------------------------------------------ Bayes-optimal tree
def map_tree(grammar: TreeGrammar, source: Sequence[str]) -> MapTree:
    """The most probable tree whose pre-order letter string is ``source``, exactly (see the module
    docstring). Ties go to the earliest-closing subtree.

    Raises:
        ValueError: if ``source`` is empty (``ROOT`` always has children) or holds a non-letter, or
            no tree of the grammar has this pre-order.
    """
    if len(source) == 0:
        raise ValueError("the source is empty, but the grammar's ROOT always has children; "
                         "pass the tree's letters in pre-order")
    program = _SpanProgram(_tables(grammar), _letters(source, "the source"))
    score = program.root_score()
    if score == -math.inf:
        raise ValueError(f"no tree of this grammar has the pre-order {' '.join(source)} "
                         f"(depth <= {grammar.max_depth}, <= {grammar.max_children} children)")
    return MapTree([ROOT, *source], [-1, *program.parents()], score)


class _SpanProgram:
    """The memoised recursions S (``subtree``) and H (``sequence``) over spans of the letters ``x``."""

    def __init__(self, tables: _Tables, x: List[int]):
        self.tables, self.x, self.cap = tables, x, tables.max_children
        self.subtree = lru_cache(maxsize=None)(self._subtree)
        self.sequence = lru_cache(maxsize=None)(self._sequence)
        self.best_end: Dict[tuple, int] = {}

    def root_score(self) -> float:
        return self.tables.log_label[0, 0, self.x[0]] + self.sequence(0, len(self.x), 1, 0, 1)

    def _count(self, m: int, k: int, count: int) -> int:
        """0 once no child from here on can reach the cap (whose stop is forced), so such states are shared."""
        return 0 if count and (count - 1) + (k - m) < self.cap else count

    def _subtree(self, i: int, k: int, depth: int) -> float:
        tables, x = self.tables, self.x
        p_child = tables.child[min(depth, len(tables.child) - 1), x[i]]
        if k == i + 1:
            return _log(1.0 - p_child)
        return (_log(p_child) + tables.log_label[x[i] + 1, 0, x[i + 1]]
                + self.sequence(i + 1, k, depth + 1, x[i] + 1, 1))

    def _sequence(self, m: int, k: int, depth: int, parent: int, count: int) -> float:
        if self._count(m, k, count) != count:
            return self.sequence(m, k, depth, parent, 0)
        tables, x = self.tables, self.x
        p_next = tables.sibling[min(depth, len(tables.sibling) - 1), x[m]]
        best, best_end = -math.inf, k
        for end in range(m + 1, k + 1):
            inside = self.subtree(m, end, depth)
            if inside == -math.inf or (end < k and count == self.cap):
                continue
            if end == k:
                score = inside + (0.0 if count == self.cap else _log(1.0 - p_next))
            else:
                score = (inside + _log(p_next) + tables.log_label[parent, x[m] + 1, x[end]]
                         + self.sequence(end, k, depth, parent, count + 1 if count else 0))
            if score > best:
                best, best_end = score, end
        self.best_end[(m, k, depth, parent, count)] = best_end
        return best

    def parents(self) -> List[int]:
        """Node id of every letter's parent in the best tree (``ROOT`` is node 0, letter i node i + 1)."""
        out = [0] * len(self.x)
        self._read(0, len(self.x), 1, 0, 1, 0, out)
        return out

    def _read(self, m: int, k: int, depth: int, parent: int, count: int, parent_node: int, out: List[int]):
        while m < k:  # the children of parent_node from its child m on
            count = self._count(m, k, count)
            end = self.best_end[(m, k, depth, parent, count)]
            out[m] = parent_node
            if end > m + 1:  # m's own children span m+1 .. end-1
                self._read(m + 1, end, depth + 1, self.x[m] + 1, 1, m + 1, out)
            m, count = end, count + 1 if count else 0
