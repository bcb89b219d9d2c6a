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
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

from graphrnn.datasets.synthetic_trees import ROOT, TreeExample, TreeGrammar
from graphrnn.datasets.tree_grammar import map_tree
from graphrnn.metrics.trees import RETRIEVAL_KINDS, tree_retrieval

__all__ = ["RULES", "BAYES_OPTIMAL", "flat_tree", "chain_tree", "rule_trees", "score_predictions", "reference_rows"]

Tree = Tuple[List[str], List[int]]

#: The row name of the Bayes-optimal reference.
BAYES_OPTIMAL = "Bayes-optimal (MAP tree under the grammar)"


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
