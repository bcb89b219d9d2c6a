"""Own sequences for graphrnn train rnn: sequence,label CSV/TSV and text files."""
import pytest

from graphrnn.datasets.sequence_files import is_labelled_file, read_labelled_sequences, read_sentences
from graphrnn.datasets.text import DataFormatError


def test_csv_with_header_quotes_and_extra_columns(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('Sequence,Label\n"good, really",pos,ignored\nbad,neg\n', encoding="utf-8")
    assert read_labelled_sequences(path) == [("good, really", "pos"), ("bad", "neg")]


def test_tsv(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text("good, really\tpos\nbad\tneg\n", encoding="utf-8")
    assert read_labelled_sequences(path) == [("good, really", "pos"), ("bad", "neg")]


@pytest.mark.parametrize("name, text, message", [
    ("r.csv", "a,b\n\n", r"r.csv:2: empty line"),
    ("r.csv", "a,b\nno comma\n", r"r.csv:2: expected 'sequence,label', found no comma"),
    ("r.tsv", "a\tb\nno tab\n", r"r.tsv:2: expected 'sequence<TAB>label', found no tab"),
    ("r.csv", "a,\n", r"r.csv:1: the label is empty"),
    ("r.csv", '"open,x\n', r"r.csv:1: not one CSV record"),
])
def test_errors_name_the_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read_labelled_sequences(tmp_path / name)


def test_sentences_and_file_kinds(tmp_path):
    (tmp_path / "lm.txt").write_text("one two .\nthree .\n", encoding="utf-8")
    assert read_sentences(tmp_path / "lm.txt") == ["one two .", "three ."]
    (tmp_path / "gap.txt").write_text("one\n \ntwo\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"gap.txt:2: empty line"):
        read_sentences(tmp_path / "gap.txt")
    assert is_labelled_file("a.csv") and is_labelled_file("a.TSV.gz") and not is_labelled_file("a.txt")
