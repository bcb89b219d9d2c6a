"""The reference rows of tree recovery: the flat and chain rules by hand, the Bayes-optimal row, and the
retrieval baselines (most frequent training tree, nearest neighbour by shared words) by hand."""
import pytest

from graphrnn.datasets.synthetic_trees import ROOT, TreeExample, dataset_grammar, generate_dataset, preorder
from graphrnn.experiments.tree_rules import (
    BAYES_OPTIMAL,
    MOST_FREQUENT,
    NEAREST_NEIGHBOUR,
    chain_tree,
    flat_tree,
    most_frequent_tree,
    nearest_neighbour_trees,
    reference_rows,
    retrieval_rows,
    score_predictions,
)


def test_rules_by_hand():
    assert flat_tree(["a", "b", "c"]) == ([ROOT, "a", "b", "c"], [-1, 0, 0, 0])
    assert chain_tree(["a", "b", "c"]) == ([ROOT, "a", "b", "c"], [-1, 0, 1, 2])
    for rule in (flat_tree, chain_tree):
        assert preorder(*rule(["a", "b", "c"]))[1:] == ["a", "b", "c"]  # both keep the source's pre-order


def test_rows_score_each_rule_on_hand_trees():
    flat = TreeExample(["a", "b"], [ROOT, "a", "b"], [-1, 0, 0])
    chain = TreeExample(["a", "b"], [ROOT, "a", "b"], [-1, 0, 1])
    rows = {r["model_name"]: r for r in reference_rows([flat, chain])}
    flat_row, chain_row = (rows[name] for name in rows)
    # flat rule: right on the flat tree (no edge below ROOT: 0/0 = 1), no edge at all on the chain (0)
    assert flat_row["edge_precision"] == pytest.approx(50.0) and flat_row["edge_recall"] == pytest.approx(50.0)
    # chain rule: predicts (a, b) on both; wrong on the flat tree, right on the chain
    assert chain_row["edge_f1"] == pytest.approx(50.0)
    assert flat_row["node_f1"] == chain_row["node_f1"] == pytest.approx(100.0)  # the letters are the source
    assert BAYES_OPTIMAL not in rows  # no grammar given


def test_bayes_optimal_beats_both_rules_on_the_deep_grammar():
    examples = generate_dataset(seed=1, sizes=(0, 0, 120), grammar="deep")["test"]
    rows = {r["model_name"]: r for r in reference_rows(examples, dataset_grammar(1, "deep"))}
    best = rows.pop(BAYES_OPTIMAL)
    assert best["kind"] == "bayes"
    for rule in rows.values():
        assert best["edge_f1"] > rule["edge_f1"] + 5
        assert best["edge_parent_f1"] > rule["edge_parent_f1"] + 5


def test_scores_cover_both_edge_definitions():
    example = TreeExample(["a", "c", "c"], [ROOT, "a", "c", "c"], [-1, 0, 1, 1])
    scores = score_predictions([([ROOT, "a", "b", "c"], [-1, 0, 1, 1])], [example])
    assert scores["edge_f1"] == pytest.approx(50.0)  # (a, b), (a, c) vs (a, c), (a, c)
    assert scores["edge_parent_f1"] == pytest.approx(100.0)  # a, a vs a, a


def test_bad_input():
    with pytest.raises(ValueError, match="at least one example"):
        reference_rows([])
    with pytest.raises(ValueError, match="not one of the grammar's 26 lowercase letters"):
        reference_rows([TreeExample(["A"], [ROOT, "A"], [-1, 0])], dataset_grammar(0))


def _line(words, labels, parents):
    return TreeExample(words.split(), labels, parents)


X = (["Assign", "x"], [-1, 0])
Y = (["Return", "y"], [-1, 0])
TRAIN = [_line("set x to one", *X), _line("return y", *Y), _line("assign x to two", *X)]


def test_most_frequent_tree_by_hand():
    assert most_frequent_tree(TRAIN) == (["Assign", "x"], [-1, 0])  # twice against once
    assert most_frequent_tree(TRAIN[1:2]) == (["Return", "y"], [-1, 0])
    tie = [_line("a", *Y), _line("b", *X)]
    assert most_frequent_tree(tie) == (["Return", "y"], [-1, 0])  # ties: the first met


def test_nearest_neighbour_by_hand():
    queries = [_line("return the y", *Y),  # {return,y} vs 3 words: Jaccard 2/3 with line 1, 0 elsewhere
               _line("set x", *X),  # 2/4 with line 0, 0 with 1, 1/5 with 2 ("x")
               _line("to", *X),  # 1/4 with lines 0 and 2: the first
               _line("nothing shared", *Y)]  # no shared word: the most frequent tree
    assert nearest_neighbour_trees(TRAIN, queries) == [(["Return", "y"], [-1, 0]), (["Assign", "x"], [-1, 0]),
                                                       (["Assign", "x"], [-1, 0]), (["Assign", "x"], [-1, 0])]
    # Jaccard, not the raw count: "return y now x" shares 2 words with line 1 (2/4) and 1 with line 0 (1/7)
    assert nearest_neighbour_trees(TRAIN, [_line("return y now x", *X)]) == [(["Return", "y"], [-1, 0])]


def test_retrieval_rows_score_both_baselines_by_hand():
    test = [_line("return y", *Y), _line("set x to three", *X)]
    rows = {r["model_name"]: r for r in retrieval_rows(TRAIN, test, lambda t, g: score_predictions(t, g, False))}
    assert list(rows) == [MOST_FREQUENT, NEAREST_NEIGHBOUR] and rows[MOST_FREQUENT]["kind"] == "retrieval"
    # most frequent (Assign x) on both: wrong on the first line (0 nodes, 0 edges), right on the second
    assert rows[MOST_FREQUENT]["node_f1"] == pytest.approx(50.0)
    assert rows[MOST_FREQUENT]["edge_f1"] == pytest.approx(50.0)
    # nearest neighbour finds both trees
    assert rows[NEAREST_NEIGHBOUR]["node_f1"] == pytest.approx(100.0)
    assert rows[NEAREST_NEIGHBOUR]["edge_f1"] == pytest.approx(100.0)
    # each rule carries its own prediction time
    assert all(row["seconds"] >= 0.0 for row in rows.values())


def test_retrieval_bad_input():
    with pytest.raises(ValueError, match="at least one training example"):
        most_frequent_tree([])
    with pytest.raises(ValueError, match="at least one training example"):
        nearest_neighbour_trees([], TRAIN)
