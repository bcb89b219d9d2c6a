"""Synthetic trees: seeded determinism, the released data's statistics on every seed, the presets,
the authors' file layout."""
import pytest
import torch

from graphrnn.data import tree_graph
from graphrnn.datasets.synthetic_trees import (
    LETTERS,
    ROOT,
    TreeExample,
    dataset_grammar,
    generate_dataset,
    make_grammar,
    preorder,
    read_dataset,
    read_split,
    sample_tree,
    tree_statistics,
    write_dataset,
)
from graphrnn.datasets.tree_grammar import expected_statistics


def test_seeded_generation_is_deterministic_and_seed_dependent():
    first = generate_dataset(seed=3, sizes=(30, 5, 5))
    assert first == generate_dataset(seed=3, sizes=(30, 5, 5))
    assert first != generate_dataset(seed=4, sizes=(30, 5, 5))
    assert [len(first[s]) for s in ("train", "dev", "test")] == [30, 5, 5]


#: The authors' released synthetic data (github.com/dmelis/drnn, data/synth/test): letters per tree,
#: and the share of trees with no edge below ROOT's children.
RELEASED_LETTERS, RELEASED_FLAT = 3.64, 74.6


def flat_percent(examples):
    return 100.0 * sum(all(p <= 0 for p in e.parents) for e in examples) / len(examples)


@pytest.mark.parametrize("seed", range(10))
def test_default_grammar_matches_the_released_statistics_exactly(seed):
    stats = expected_statistics(dataset_grammar(seed))
    assert stats["mean_letters"] == pytest.approx(RELEASED_LETTERS, abs=0.3)
    assert 100 * stats["flat_fraction"] == pytest.approx(RELEASED_FLAT, abs=5.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_trees_match_the_released_statistics(seed):
    examples = generate_dataset(seed=seed, sizes=(1000, 0, 0))["train"]
    stats = tree_statistics(examples)
    assert stats["mean_letters"] == pytest.approx(RELEASED_LETTERS, abs=0.3)
    assert flat_percent(examples) == pytest.approx(RELEASED_FLAT, abs=5.0)
    assert stats["max_depth"] <= 5 and stats["max_children"] <= 12
    for e in examples:
        assert e.labels[0] == ROOT and e.parents[0] == -1 and len(e.labels) >= 2  # ROOT always has children
        assert set(e.labels[1:]) <= set(LETTERS)
        assert e.source == preorder(e.labels, e.parents)[1:]
        tree_graph(list(range(len(e.labels))), e.parents, ordered=True)  # one tree, parents first


def test_deep_preset_is_the_earlier_deeper_grammar():
    examples = generate_dataset(seed=0, sizes=(600, 0, 0), grammar="deep")["train"]
    assert 20.0 <= flat_percent(examples) <= 40.0  # 28-39% flat over seeds 0-2, far from the released 74.6
    assert 3.0 <= tree_statistics(examples)["mean_letters"] <= 5.0
    assert 100 * expected_statistics(dataset_grammar(0, "deep"))["flat_fraction"] < RELEASED_FLAT - 30


def test_dataset_grammar_is_the_one_sampled_from():
    grammar = dataset_grammar(4, "deep")
    generator = torch.Generator().manual_seed(4)
    make_grammar(generator, "deep")  # generate_dataset draws the grammar first, then the trees
    assert generate_dataset(4, (5, 0, 0), grammar="deep")["train"] == [sample_tree(grammar, generator)
                                                                      for _ in range(5)]


def test_unknown_grammar_and_setting():
    with pytest.raises(ValueError, match="unknown grammar 'shallow'"):
        generate_dataset(0, (1, 0, 0), grammar="shallow")
    with pytest.raises(ValueError, match=r"unknown grammar settings \['depth'\]"):
        make_grammar(torch.Generator(), depth=3)


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


@pytest.mark.parametrize("sizes", [(-1, 1, 1), (10, 2), (10, 2.5, 2)])
def test_generate_dataset_refuses_bad_sizes(sizes):
    # before: a negative size gave an empty split, and a missing one was dropped by zip, silently
    with pytest.raises(ValueError, match="sizes must be 3 integers >= 0"):
        generate_dataset(seed=0, sizes=sizes)


@pytest.mark.parametrize("variant", ["crlf", "bom", "trailing blank line", "extra files"])
def test_authors_layout_variants_read_as_the_plain_files(tmp_path, variant):
    data = generate_dataset(seed=1, sizes=(6, 2, 2))
    write_dataset(tmp_path, data)
    for path in tmp_path.glob("*/*"):
        text = path.read_text(encoding="utf-8")
        changed = {"crlf": text.replace("\n", "\r\n"), "bom": "\ufeff" + text, "trailing blank line": text + "\n"}
        path.write_text(changed.get(variant, text), encoding="utf-8", newline="")
    (tmp_path / "README.md").write_text("unrelated")
    (tmp_path / "train" / "notes.txt").write_text("unrelated")
    assert read_dataset(tmp_path) == data


def test_a_blank_line_in_the_authors_layout_is_refused_not_an_empty_tree(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    for name, text in (("s.toks", "a b\n\nc\n"), ("t.toks", "ROOT a\n\nROOT c\n"), ("t.parents", "0 1\n\n0 1\n")):
        (folder / name).write_text(text)
    with pytest.raises(ValueError, match=r"train, line 2: empty line in t.toks"):
        read_split(tmp_path, "train")
