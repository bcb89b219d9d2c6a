"""Own sequences for graphrnn train rnn: sequence,label CSV/TSV and text files."""
import csv
import gzip

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
    ("r.csv", "a,b\n\nc,d\n", r"r.csv:2: empty line"),
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


PLAIN_CSV = 'sequence,label\n"good, really",pos\nbad movie,neg\n'
PLAIN_RECORDS = [("good, really", "pos"), ("bad movie", "neg")]


@pytest.mark.parametrize("name, content", [
    ("crlf_bom.csv", ("\ufeff" + PLAIN_CSV.replace("\n", "\r\n")).encode("utf-8")),
    ("trailing.csv", PLAIN_CSV.replace(",pos\n", ",pos \t\n").encode("utf-8") + b"\n \n"),
    ("other_header.csv", PLAIN_CSV.replace("sequence,label", "text,Label").encode("utf-8")),
    ("quoted_after_space.csv", PLAIN_CSV.replace(",pos", ', "pos"').replace(",neg", ', "neg"').encode("utf-8")),
    ("UPPER.CSV.GZ", gzip.compress(PLAIN_CSV.encode("utf-8"))),
    ("excel.tsv", "Text\tLabel\r\ngood, really\tpos\r\nbad movie\tneg\r\n".encode("utf-16")),
])
def test_harmless_variants_give_the_plain_records(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    assert is_labelled_file(tmp_path / name)
    assert read_labelled_sequences(tmp_path / name) == PLAIN_RECORDS


def test_a_first_record_labelled_label_is_kept_when_label_is_a_class(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("x,label\ny,label\nz,other\n", encoding="utf-8")
    assert read_labelled_sequences(path) == [("x", "label"), ("y", "label"), ("z", "other")]


def test_a_field_longer_than_the_csv_module_limit_is_read_and_the_limit_restored(tmp_path):
    limit = csv.field_size_limit()
    long_text = "word " * (limit // 5 + 10)
    path = tmp_path / "long.csv"
    path.write_text(f'"{long_text}",pos\n{long_text},neg\n', encoding="utf-8")
    assert read_labelled_sequences(path) == [(long_text.strip(), "pos"), (long_text.strip(), "neg")]
    assert csv.field_size_limit() == limit


def test_sentences_variants_give_the_plain_sentences(tmp_path):
    (tmp_path / "lm.txt").write_bytes("\ufeffone two . \r\nthree .\t\r\n\r\n".encode("utf-8"))
    (tmp_path / "mac.txt").write_bytes(b"one two .\rthree .\r")
    assert read_sentences(tmp_path / "lm.txt") == read_sentences(tmp_path / "mac.txt") == ["one two .", "three ."]


@pytest.mark.parametrize("suffix, separator", [(".csv", ","), (".tsv", "\t")])
def test_a_pandas_index_column_is_read_past(tmp_path, suffix, separator):
    # pandas' DataFrame.to_csv(path) writes its index as an unnamed first column: ',text,label' then '0,good,pos'
    # (before: 'the sequence is empty' for the header, as its first field has no name)
    path = tmp_path / f"reviews{suffix}"
    rows = [["", "text", "label"], ["0", "good film", "pos"], ["1", "bad, really", "neg"], ["2", "fine", "pos"]]
    quote = (lambda f: f'"{f}"' if "," in f else f) if separator == "," else (lambda f: f)
    path.write_text("".join(separator.join(quote(f) for f in row) + "\n" for row in rows), encoding="utf-8")
    assert read_labelled_sequences(path) == [("good film", "pos"), ("bad, really", "neg"), ("fine", "pos")]
    path.write_text(",text,label\n0,good film,pos\nx,bad,neg\n", encoding="utf-8")
    if suffix == ".csv":
        with pytest.raises(DataFormatError, match=r"reviews.csv:3: the header's first column has no name, as pandas "
                                                  r"writes its index, but this record's first field 'x'"):
            read_labelled_sequences(path)


def test_the_label_of_a_pandas_file_is_its_third_header_column(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(",text,label,source\n0,good film,pos,imdb\n1,bad,neg,imdb\n", encoding="utf-8")
    assert read_labelled_sequences(path) == [("good film", "pos"), ("bad", "neg")]
    path.write_text(",text,extra,label\n0,good film,x,pos\n1,bad,y,neg\n", encoding="utf-8")
    with pytest.raises(DataFormatError):  # the label is not in the third column: not read as the pandas layout
        read_labelled_sequences(path)
