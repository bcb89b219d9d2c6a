"""Reference rows for tree recovery: two rules that do not learn, and the Bayes-optimal tree.

The source of a synthetic tree is its letters in pre-order, so copying them gives every
node; what is left to recover is where each letter hangs. Every DRNN results table shows
these rows beside the models:

* **flat** (:func:`flat_tree`): every letter directly under ``ROOT``;
* **chain** (:func:`chain_tree`): each letter under the previous one;
* **Bayes-optimal** (:func:`graphrnn.datasets.tree_grammar.map_tree`): the most probable
  tree given the source under the generating grammar, exactly, when the grammar is known
  (the synthetic data); it is the ceiling of the task and the gap to it is what a
  decoder leaves.

For trees whose source does not spell out the nodes (Django's English lines), two
retrieval baselines that do not learn stand beside the models instead
(:func:`retrieval_rows`):

* **most frequent training tree** (:func:`most_frequent_tree`): the same tree for every input;
* **nearest neighbour** (:func:`nearest_neighbour_trees`): the tree of the training example
  whose source words overlap most with the input's (Jaccard similarity of the word sets).
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from graphrnn.datasets.synthetic_trees import ROOT, TreeExample, TreeGrammar
from graphrnn.datasets.tree_grammar import map_tree
from graphrnn.metrics.trees import RETRIEVAL_KINDS, tree_retrieval

__all__ = ["RULES", "BAYES_OPTIMAL", "MOST_FREQUENT", "NEAREST_NEIGHBOUR", "flat_tree", "chain_tree", "rule_trees",
           "score_predictions", "reference_rows", "most_frequent_tree", "nearest_neighbour_trees", "retrieval_rows"]

Tree = Tuple[List[str], List[int]]

#: The row name of the Bayes-optimal reference.
BAYES_OPTIMAL = "Bayes-optimal (MAP tree under the grammar)"
#: Row names of the retrieval baselines.
MOST_FREQUENT = "most frequent training tree (same for every input)"
NEAREST_NEIGHBOUR = "nearest neighbour (tree of the training line with most words in common)"


def flat_tree(source: Sequence[str]) -> Tree:
    """``ROOT`` with every letter of ``source`` as a child, in order."""
    return [ROOT, *source], [-1] + [0] * len(source)


def chain_tree(source: Sequence[str]) -> Tree:
    """``ROOT`` -> first letter -> second letter -> ...: each letter the only child of the previous one."""
    return [ROOT, *source], [-1] + list(range(len(source)))


#: The rules that do not learn, by row name.
RULES: Dict[str, Callable[[Sequence[str]], Tree]] = {"flat rule (all under ROOT)": flat_tree,
                                                      "chain rule (each under the previous)": chain_tree}


def rule_trees(rule: Callable[[Sequence[str]], Tree], examples: Sequence[TreeExample]) -> List[Tree]:
    """The tree ``rule`` builds from every example's source."""
    return [rule(e.source) for e in examples]


def score_predictions(predicted: Sequence[Tree], examples: Sequence[TreeExample],
                      skip_root: bool = True) -> Dict[str, float]:
    """Precision, recall and F1 (%) of nodes, (parent, child) edges and parent-label-only edges."""
    result = tree_retrieval(predicted, [(e.labels, e.parents) for e in examples], skip_root=skip_root)
    return {f"{kind}_{measure}": 100.0 * result[f"{kind}_{measure}"]
            for kind in RETRIEVAL_KINDS for measure in ("precision", "recall", "f1")}


def reference_rows(examples: Sequence[TreeExample], grammar: Optional[TreeGrammar] = None) -> List[Dict[str, object]]:
    """One scored row per rule on ``examples`` (``model_name``, ``kind="rule"`` and the scores of
    :func:`score_predictions`), and the Bayes-optimal row when the generating ``grammar`` is known.

    Raises:
        ValueError: if ``examples`` is empty, or a source cannot come from ``grammar``.
    """
    if not examples:
        raise ValueError("reference_rows needs at least one example (got an empty split)")
    rows = [{"model_name": name, "kind": "rule", **score_predictions(rule_trees(rule, examples), examples)}
            for name, rule in RULES.items()]
    if grammar is not None:
        best = [tuple(map_tree(grammar, e.source)[:2]) for e in examples]
        rows.append({"model_name": BAYES_OPTIMAL, "kind": "bayes", **score_predictions(best, examples)})
    return rows


def most_frequent_tree(train: Sequence[TreeExample]) -> Tree:
    """The ``(labels, parents)`` tree that occurs most often in ``train`` (the first one met among ties).

    Raises:
        ValueError: if ``train`` is empty.
    """
    if not train:
        raise ValueError("most_frequent_tree needs at least one training example (got an empty split)")
    counts = Counter((tuple(e.labels), tuple(e.parents)) for e in train)
    labels, parents = counts.most_common(1)[0][0]  # most_common keeps first-met order among ties
    return list(labels), list(parents)


def nearest_neighbour_trees(train: Sequence[TreeExample], queries: Sequence[TreeExample]) -> List[Tree]:
    """For every query, the tree of the training example whose source has the highest Jaccard
    similarity :math:`|A \\cap B| / |A \\cup B|` of word sets with the query's (the first such
    training example among ties; the most frequent tree when no word is shared).

    Raises:
        ValueError: if ``train`` is empty.
    """
    fallback = most_frequent_tree(train)
    words = [frozenset(e.source) for e in train]
    by_word: Dict[str, List[int]] = {}
    for index, bag in enumerate(words):
        for word in bag:
            by_word.setdefault(word, []).append(index)
    trees = []
    for query in queries:
        bag = frozenset(query.source)
        shared = Counter(index for word in bag for index in by_word.get(word, ()))
        if not shared:
            trees.append(fallback)
            continue
        best = max(shared, key=lambda i: (shared[i] / len(bag | words[i]), -i))
        trees.append((list(train[best].labels), list(train[best].parents)))
    return trees


def retrieval_rows(train: Sequence[TreeExample], test: Sequence[TreeExample],
                   score: Callable[[Sequence[Tree], Sequence[TreeExample]], Dict[str, float]]
                   = score_predictions) -> List[Dict[str, object]]:
    """The most-frequent-tree and nearest-neighbour baselines on ``test``, scored by ``score``
    (``model_name``, ``kind="retrieval"``, the scores, and ``seconds``: each rule's own prediction time)."""
    rules = {MOST_FREQUENT: lambda: [most_frequent_tree(train)] * len(test),
             NEAREST_NEIGHBOUR: lambda: nearest_neighbour_trees(train, test)}
    rows = []
    for name, predict in rules.items():
        start = time.perf_counter()
        trees = predict()
        seconds = time.perf_counter() - start
        rows.append({"model_name": name, "kind": "retrieval", **score(trees, test), "seconds": seconds})
    return rows
