"""Bracketed trees and the sentence<TAB>tree file of the DRNN."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.datasets.synthetic_trees import preorder
from graphrnn.datasets.text import DataFormatError
from graphrnn.datasets.tree_tsv import format_bracketed, load_tree_data, parse_bracketed, read_tree_tsv


def test_parse_the_example_of_the_docs():
    labels, parents = parse_bracketed("ROOT ( a ( b c ) d )")
    assert labels == ["ROOT", "a", "b", "c", "d"] and parents == [-1, 0, 1, 1, 0]
    assert format_bracketed(labels, parents) == "ROOT ( a ( b c ) d )"
    assert parse_bracketed("x") == (["x"], [-1])


@st.composite
def trees(draw):
    """A random tree with parents before children (any order of siblings' subtrees)."""
    size = draw(st.integers(1, 12))
    parents = [-1] + [draw(st.integers(0, node - 1)) for node in range(1, size)]
    labels = [draw(st.sampled_from("abcxyz")) for _ in range(size)]
    return labels, parents


@settings(max_examples=100, deadline=None)
@given(trees())
def test_format_then_parse_is_the_same_tree(tree):
    labels, parents = tree
    line = format_bracketed(labels, parents)
    parsed = parse_bracketed(line)
    assert format_bracketed(*parsed) == line
    assert preorder(*parsed) == preorder(labels, parents)  # same labels in the same depth-first order
    # one node per label token, one bracket pair per inner node
    inner = len({p for p in parents if p >= 0})
    assert len(line.split()) == len(labels) + 2 * inner


@pytest.mark.parametrize("text, message", [
    ("", "the tree is empty"),
    ("( a )", "'\\(' without a label"),
    ("a ( ( b ) )", "'\\(' without a label"),
    ("a ( b ) )", "closes nothing"),
    ("a ( )", "without children"),
    ("a ( b", "left open"),
    ("a b", "starts a second tree"),
])
def test_malformed_trees(text, message):
    with pytest.raises(ValueError, match=message):
        parse_bracketed(text)


def test_read_tree_tsv(tmp_path):
    path = tmp_path / "trees.tsv"
    path.write_text("a b c d\tROOT ( a ( b c ) d )\textra\nq\tROOT ( q )\tmore\n", encoding="utf-8")
    examples = read_tree_tsv(path)  # a third column on every line is ignored
    assert examples[0].source == ["a", "b", "c", "d"] and examples[0].parents == [-1, 0, 1, 1, 0]
    assert examples[1].labels == ["ROOT", "q"]


@pytest.mark.parametrize("text, message", [
    ("a\tROOT ( a )\n\nb\tROOT ( b )\n", r"trees.tsv:2: empty line"),
    ("a ROOT ( a )\n", r"trees.tsv:1: expected 'sentence<TAB>bracketed tree'.*found no tab"),
    ("a\tROOT ( a )\nb\tROOT ( b\n", r"trees.tsv:2: bad tree in column 2: 1 '\(' left open"),
    ("a\tS ( a )\n", r"trees.tsv:1: the tree's root is 'S'; expected 'ROOT'"),
    ("a\tROOT ( a )\textra\nb\tROOT ( b )\n", r"trees.tsv:1: 3 tab-separated columns, but line 2 has 2"),
    ("  \tROOT ( a )\n", r"trees.tsv:1: the sentence \(column 1\) is empty"),
])
def test_tree_tsv_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "trees.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as error:
        read_tree_tsv(path)
    assert "\n" not in str(error.value)


def test_load_tree_data_cuts_dev_and_test_and_says_so(tmp_path):
    path = tmp_path / "trees.tsv"
    path.write_text("".join(f"w{i}\tROOT ( w{i} )\n" for i in range(30)), encoding="utf-8")
    said = []
    splits = load_tree_data(path, seed=2, log=said.append)
    assert {k: len(v) for k, v in splits.items()} == {"train": 24, "dev": 3, "test": 3}
    assert len(said) == 1 and "cut 3 (test, seed 2) and 3 (dev, seed 3)" in said[0]
    (tmp_path / "trees.txt").write_text("a\tROOT ( a )\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not .tsv"):
        load_tree_data(tmp_path / "trees.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_tree_data(tmp_path / "missing.tsv")


def test_authors_layout_problems_are_one_line_naming_the_line(tmp_path):
    from graphrnn.datasets.synthetic_trees import generate_dataset, write_dataset

    write_dataset(tmp_path, generate_dataset(0, sizes=(4, 2, 2)))
    assert {k: len(v) for k, v in load_tree_data(tmp_path).items()} == {"train": 4, "dev": 2, "test": 2}
    parents = tmp_path / "dev" / "t.parents"
    parents.write_text(parents.read_text().splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"dev/t.parents:2: the file ends here but s.toks has 2 lines"):
        load_tree_data(tmp_path)
    parents.write_text("1\n0 0\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"dev, line 1: t.toks has \d+ labels but t.parents 1 indices"):
        load_tree_data(tmp_path)
    parents.write_bytes(b"0\n\xff\n")
    with pytest.raises(DataFormatError, match=r"dev/t.parents:2: byte 0xff is not UTF-8"):
        load_tree_data(tmp_path)


def test_harmless_variants_give_the_plain_trees(tmp_path):
    plain = tmp_path / "trees.tsv"
    plain.write_text("".join(f"w{i} é\tROOT ( w{i} é )\n" for i in range(30)), encoding="utf-8")
    variant = tmp_path / "My Trees.TSV"
    variant.write_bytes(("\ufeff" + "".join(f"w{i} é \tROOT  ( w{i} é ) \tnote\r\n" for i in range(30)) + "\r\n")
                        .encode("utf-8"))
    assert read_tree_tsv(variant) == read_tree_tsv(plain)
    assert load_tree_data(variant, seed=1) == load_tree_data(plain, seed=1)
