r"""Tree retrieval: how many nodes and parent-child edges of the gold trees a decoder recovers.

As in Alvarez-Melis & Jaakkola (2017), Sec. 5.1: for every tree, *node* retrieval
compares the multisets of labels of prediction :math:`P` and gold :math:`G`, and edge
retrieval the multisets of their edges, under two definitions of an edge:

* ``edge``: the ``(parent label, child label)`` pair (ours; the stricter one);
* ``edge_parent``: the parent label alone, as the authors' released evaluation does
  (``Tree:edges_table_lexical_order`` in github.com/dmelis/drnn builds
  ``parent_label .. "->"`` with the child label commented out), so an edge counts as found
  when a node with the same label has a child in both trees, whatever that child is;

then

.. math::
    \mathrm{precision} = \frac{|P \cap G|}{|P|}, \qquad \mathrm{recall} = \frac{|P \cap G|}{|G|},

(multiset intersection; 0/0 counts as 1, so two empty sets agree and an empty
prediction of a non-empty gold scores 0). Precision and recall are averaged over the
trees, and F1 is the harmonic mean of the two averages.
"""
from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np
from torch import Tensor

from graphrnn.metrics.ngrams import scalar_token

__all__ = ["RETRIEVAL_KINDS", "edge_multiset", "parent_edge_multiset", "node_multiset", "tree_retrieval"]

#: The retrieval kinds :func:`tree_retrieval` reports: nodes, (parent, child) edges, parent-label-only edges.
RETRIEVAL_KINDS = ("node", "edge", "edge_parent")

Tree = tuple[Sequence[Hashable], Sequence[int]]


def node_multiset(tree: Tree, skip_root: bool = False) -> Counter:
    """The multiset of labels of ``(labels, parents)`` (without the root's with ``skip_root``)."""
    labels, parents = _checked(tree)
    return Counter(label for label, parent in zip(labels, parents) if not (skip_root and parent < 0))


def edge_multiset(tree: Tree, skip_root: bool = False) -> Counter:
    """The multiset of ``(parent label, child label)`` pairs (without the root's edges with ``skip_root``)."""
    labels, parents = _checked(tree)
    return Counter((labels[p], label) for label, p in zip(labels, parents)
                   if p >= 0 and not (skip_root and parents[p] < 0))


def parent_edge_multiset(tree: Tree, skip_root: bool = False) -> Counter:
    """The multiset of parent labels, one per edge (the authors' released evaluation; without the
    root's edges with ``skip_root``)."""
    return Counter(parent for parent, _ in edge_multiset(tree, skip_root).elements())


def _checked(tree: Tree) -> tuple[Sequence[Hashable], Sequence[int]]:
    if not isinstance(tree, (tuple, list)) or len(tree) != 2:
        raise ValueError(f"a tree is a pair (labels, parents), got {type(tree).__name__}")
    labels, parents = tree
    labels = _labels(labels)
    parents = _parents(parents)
    if len(labels) != len(parents):
        raise ValueError(f"a tree needs one parent per label, got {len(labels)} labels and {len(parents)} parents")
    bad = [p for p in parents if not -1 <= p < len(parents)]
    if bad:
        raise ValueError(f"parent index {bad[0]} is out of range for a tree of {len(parents)} nodes "
                         "(use -1 for the root)")
    _check_one_tree(parents)
    return labels, parents


def _labels(labels) -> list:
    """The labels as a list of hashable values: a tensor's elements (and 0-d tensor labels) as Python values, since
    tensors hash by identity and two equal labels would never match."""
    if isinstance(labels, Tensor):
        return labels.tolist()
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"the labels of a tree must be a list, got the string {labels[:30]!r}; split it first")
    labels = list(labels)
    for index, label in enumerate(labels):
        if isinstance(label, Tensor):
            labels[index] = scalar_token(label, "tree's labels")
        elif not isinstance(label, Hashable):
            raise TypeError(f"tree labels must be hashable (strings or ids), got a {type(label).__name__} at node "
                            f"{index}")
    return labels


def _parents(parents) -> list[int]:
    """The parent indices as ints; a float that is not whole (``0.7``) used to be truncated to a parent silently."""
    values = parents.tolist() if isinstance(parents, Tensor) else list(parents)
    result = []
    for node, parent in enumerate(values):
        if isinstance(parent, Tensor):
            parent = parent.item()
        if isinstance(parent, (bool, np.bool_)) or not isinstance(parent, numbers.Real) or parent != int(parent):
            raise ValueError(f"parent of node {node} is {parent!r}; parents are integer node indices (-1 for the root)")
        result.append(int(parent))
    return result


def _check_one_tree(parents: list[int]) -> None:
    """A non-empty tree has one root and every node reaches it: a forest, a self-parent or a cycle would
    otherwise be scored as if it were a tree (``skip_root`` would drop every root, a cycle none)."""
    roots = [i for i, p in enumerate(parents) if p < 0]
    if parents and len(roots) != 1:
        raise ValueError(f"a tree has exactly one root (parent -1), got {len(roots)} ({roots[:5]}); "
                         "a forest is not one tree")
    reaches_root = [p < 0 for p in parents]
    for start in range(len(parents)):
        path, on_path, node = [], set(), start
        while not reaches_root[node]:
            if node in on_path:
                cycle = path[path.index(node):]
                raise ValueError(f"the parents form a cycle through nodes {cycle[:6]}; each node needs a chain "
                                 "of parents up to the root")
            path.append(node)
            on_path.add(node)
            node = parents[node]
        for node in path:
            reaches_root[node] = True


def _tree_list(trees, name: str) -> list:
    """``trees`` (any iterable, e.g. a generator) as a list; one tree ``(labels, parents)`` in place of a list of
    trees is refused (its two halves would be read as two malformed trees)."""
    if isinstance(trees, (str, bytes)) or not hasattr(trees, "__iter__"):
        raise TypeError(f"{name} must be a list of trees (labels, parents), got {type(trees).__name__}")
    trees = list(trees)
    if len(trees) == 2 and isinstance(trees[1], (list, tuple, Tensor)) and trees[1] and \
            all(isinstance(p, (int, np.integer)) or (isinstance(p, Tensor) and p.dim() == 0) for p in trees[1]):
        raise TypeError(f"{name} looks like one tree (labels, parents), not a list of trees; pass [tree]")
    return trees


def _precision_recall(predicted: Counter, gold: Counter) -> tuple[float, float]:
    common = sum((predicted & gold).values())
    size_p, size_g = sum(predicted.values()), sum(gold.values())
    precision = common / size_p if size_p else float(size_g == 0)
    recall = common / size_g if size_g else float(size_p == 0)
    return precision, recall


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def tree_retrieval(preds: Sequence[Tree], golds: Sequence[Tree], skip_root: bool = False) -> dict[str, float]:
    """Node and edge retrieval of predicted trees against gold trees (see the module docstring).

    Args:
        preds: predicted trees ``(labels, parents)``, ``parents[i] = -1`` for the root.
        golds: the gold trees, in the same order.
        skip_root (bool): leave out the root node and its edges (for trees whose root is a
            fixed symbol such as ``ROOT``, which would otherwise always count as found).

    Returns:
        ``node_precision``, ``node_recall``, ``node_f1``; ``edge_precision``, ``edge_recall``,
        ``edge_f1`` for (parent, child) edges; ``edge_parent_precision``, ``edge_parent_recall``,
        ``edge_parent_f1`` for parent-label-only edges (fractions in [0, 1]); and ``count``
        (the number of trees).

    Raises:
        ValueError: if the lists differ in length or are empty, or a tree is malformed (a parent out of
            range, not exactly one root, or a cycle).
    """
    preds, golds = _tree_list(preds, "preds"), _tree_list(golds, "golds")
    if len(preds) != len(golds):
        raise ValueError(f"need one prediction per gold tree, got {len(preds)} predictions and {len(golds)} golds")
    if not golds:
        raise ValueError("tree_retrieval needs at least one tree")
    result: dict[str, float] = {}
    for name, multiset in zip(RETRIEVAL_KINDS, (node_multiset, edge_multiset, parent_edge_multiset)):
        scores: list[tuple[float, float]] = [_precision_recall(multiset(p, skip_root), multiset(g, skip_root))
                                             for p, g in zip(preds, golds)]
        precision = sum(s[0] for s in scores) / len(scores)
        recall = sum(s[1] for s in scores) / len(scores)
        result.update({f"{name}_precision": precision, f"{name}_recall": recall, f"{name}_f1": _f1(precision, recall)})
    result["count"] = float(len(golds))
    return result
