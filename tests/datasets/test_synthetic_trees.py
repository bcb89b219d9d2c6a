"""Synthetic trees: seeded determinism, documented statistics, the authors' file layout."""
import pytest
import torch

from graphrnn.data import tree_graph
from graphrnn.datasets.synthetic_trees import (
    LETTERS,
    ROOT,
    TreeExample,
    generate_dataset,
    make_grammar,
    preorder,
    read_dataset,
    read_split,
    sample_tree,
    tree_statistics,
    write_dataset,
)


def test_seeded_generation_is_deterministic_and_seed_dependent():
    first = generate_dataset(seed=3, sizes=(30, 5, 5))
    assert first == generate_dataset(seed=3, sizes=(30, 5, 5))
    assert first != generate_dataset(seed=4, sizes=(30, 5, 5))
    assert [len(first[s]) for s in ("train", "dev", "test")] == [30, 5, 5]


def test_statistics_within_documented_ranges():
    examples = generate_dataset(seed=0, sizes=(800, 0, 0))["train"]
    stats = tree_statistics(examples)
    assert 3.0 <= stats["mean_letters"] <= 5.0  # the released data: about 4 letters per tree
    assert stats["max_depth"] <= 5
    assert stats["max_children"] <= 12
    for e in examples:
        assert e.labels[0] == ROOT and e.parents[0] == -1 and len(e.labels) >= 2  # ROOT always has children
        assert set(e.labels[1:]) <= set(LETTERS)
        assert e.source == preorder(e.labels, e.parents)[1:]
        tree_graph(list(range(len(e.labels))), e.parents, ordered=True)  # one tree, parents first


def test_caps_of_the_grammar_hold():
    generator = torch.Generator().manual_seed(0)
    grammar = make_grammar(generator, child_range=(1.0, 1.0), sibling_range=(1.0, 1.0), decay=1.0,
                           max_depth=2, max_children=3)
    tree = sample_tree(grammar, generator)
    assert len(tree.labels) == 1 + 3 + 9  # always growing: full up to depth 2 and 3 children


def test_preorder_hand_example():
    #        R
    #      a   b
    #     c d
    assert preorder(["R", "a", "b", "c", "d"], [-1, 0, 0, 1, 1]) == ["R", "a", "c", "d", "b"]


def test_round_trip_through_the_file_layout(tmp_path):
    data = generate_dataset(seed=1, sizes=(20, 4, 4))
    write_dataset(tmp_path, data)
    assert (tmp_path / "train" / "t.parents").read_text().splitlines()[0].split()[0] == "0"
    assert read_dataset(tmp_path) == data


def test_reads_hand_written_files(tmp_path):
    folder = tmp_path / "test"
    folder.mkdir()
    (folder / "s.toks").write_text("a c b\n")
    (folder / "t.toks").write_text("ROOT a b c\n")
    (folder / "t.parents").write_text("0 1 1 2\n")
    assert read_split(tmp_path, "test") == [TreeExample(["a", "c", "b"], ["ROOT", "a", "b", "c"], [-1, 0, 0, 1])]


@pytest.mark.parametrize("labels, parents, match", [
    ("ROOT a b\n", "0 1\n", "3 labels but t.parents 2"),
    ("ROOT a b\n", "0 3 1\n", "node 2 has parent 3"),  # a parent after its child
    ("ROOT a b\n", "0 1 0\n", "node 3 has parent 0"),  # a second root: a forest
    ("ROOT a\n", "0 x\n", "must hold integers"),
])
def test_bad_files(tmp_path, labels, parents, match):
    folder = tmp_path / "train"
    folder.mkdir()
    (folder / "s.toks").write_text("a b\n")
    (folder / "t.toks").write_text(labels)
    (folder / "t.parents").write_text(parents)
    with pytest.raises(ValueError, match=match):
        read_split(tmp_path, "train")


def test_missing_and_misaligned_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks"):
        read_split(tmp_path, "dev")
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "s.toks").write_text("a\nb\n")
    (folder / "t.toks").write_text("ROOT a\n")
    (folder / "t.parents").write_text("0 1\n")
    with pytest.raises(ValueError, match="one line per example"):
        read_split(tmp_path, "dev")
