"""Django: code -> AST tree -> code round trips, linearisation, and the reader on a tiny sample."""
import gzip

import pytest

from graphrnn.datasets.django import (
    ast_to_tree,
    delinearise,
    linearise,
    load_django,
    normalise_code,
    parse_code,
    read_django,
    tree_to_code,
)

LINES = [
    ("define the function get_cache with arguments backend and kwargs .",
     "def get_cache ( backend , ** kwargs ) :"),
    ("substitute 'default' for DEFAULT_CACHE_ALIAS .", "DEFAULT_CACHE_ALIAS = 'default'"),
    ("from django . conf import settings into default name space .", " from django . conf import settings"),
    ("if not , do nothing .", "  else :"),
    ("call the method warnings . warn with 2 arguments .", "warnings . warn ( 'x' , stacklevel = 2 )"),
    ("return cache .", "return cache"),
]


def write_sample(folder, lines=LINES):
    folder.mkdir(parents=True, exist_ok=True)
    for name, column in (("all.anno.gz", 0), ("all.code.gz", 1)):
        with gzip.open(folder / name, "wt", encoding="utf-8") as stream:
            stream.write("".join(line[column] + "\n" for line in lines))
    return folder


def test_hand_tree():
    labels, parents = ast_to_tree(parse_code("return cache"))
    assert labels == ["Return", "value", "Name", "id", "'cache'"]
    assert parents == [-1, 0, 1, 2, 3]


@pytest.mark.parametrize("code", [line[1] for line in LINES if "else" not in line[1]] + [
    "x = [ a for a in b if a ]", "f ( * args , key = None , ** kw )", "lambda x , y = 1 : x", "del a [ 0 ] , b"])
def test_round_trip_code_tree_code(code):
    normal = normalise_code(code)
    tree = ast_to_tree(parse_code(code))
    assert tree_to_code(*tree) == normal
    assert delinearise(linearise(*tree)) == tree


def test_block_headers_get_a_body_and_unparseable_lines_are_none():
    assert normalise_code("def f ( x ) :") == "def f(x):\n    pass"
    assert parse_code("else :") is None


def test_tree_to_code_rejects_non_ast_trees():
    with pytest.raises(ValueError, match="neither an AST class nor a literal"):
        tree_to_code(["Return", "value", "<unk>"], [-1, 0, 1])
    with pytest.raises(ValueError, match="has no field 'bogus'"):
        tree_to_code(["Return", "bogus", "1"], [-1, 0, 1])
    with pytest.raises(ValueError, match="holds one value, got 2"):
        tree_to_code(["Return", "value", "1", "2"], [-1, 0, 1, 1])
    with pytest.raises(ValueError, match="one root"):
        tree_to_code([], [])


def test_delinearise_tolerates_bad_brackets():
    assert delinearise(["a", "(", "b", ")", ")", "c"]) == (["a", "b"], [-1, 0])
    assert delinearise(["a", "(", "b", "(", "c"]) == (["a", "b", "c"], [-1, 0, 1])
    assert delinearise([")", "("]) == ([], [])
    assert delinearise(["a", "b"]) == (["a"], [-1])


def test_reader_and_splits(tmp_path):
    folder = write_sample(tmp_path / "django")
    assert read_django(folder)[1] == LINES[1]
    splits, dropped = load_django(folder, sizes=(3, 1, 2))
    assert dropped == 1  # "else :" does not parse alone
    assert [len(splits[s]) for s in ("train", "dev", "test")] == [3, 0, 2]
    assert splits["train"][1].code == "DEFAULT_CACHE_ALIAS = 'default'"
    assert splits["train"][1].source[:3] == ["substitute", "'", "default"]
    limited, _ = load_django(folder, sizes=(3, 1, 2), limits=(1, None, None))
    assert len(limited["train"]) == 1


def test_reader_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHRNN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="set GRAPHRNN_DATA"):
        read_django()
    (tmp_path / "django").mkdir()
    with pytest.raises(FileNotFoundError, match="lacks all.anno.gz"):
        read_django(tmp_path / "django")
    folder = write_sample(tmp_path / "bad")
    with gzip.open(folder / "all.code.gz", "wt") as stream:
        stream.write("x = 1\n")
    with pytest.raises(ValueError, match="must be aligned"):
        read_django(folder)


def test_read_django_drops_byte_order_marks_and_windows_line_ends(tmp_path):
    plain = read_django(write_sample(tmp_path / "plain"))
    folder = tmp_path / "windows"
    folder.mkdir()
    for name, column in (("all.anno", 0), ("all.code", 1)):
        text = "\ufeff" + "".join(line[column] + "\r\n" for line in LINES)
        (folder / name).write_bytes(gzip.compress(text.encode("utf-8")) if name == "all.code" else text.encode("utf-8"))
    (folder / "all.code").rename(folder / "all.code.gz")
    assert read_django(folder) == plain == LINES
