"""Text reading: UTF-8 errors naming the line, sacrebleu's 13a tokenisation, seeded held-out splits."""
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.datasets.text import (
    DataFormatError,
    TextOptions,
    check_enough_to_cut,
    decode_lines,
    has_suffix,
    hold_out,
    read_lines,
    tokenize_13a,
)

sacrebleu_13a = pytest.importorskip("sacrebleu.tokenizers.tokenizer_13a")


def test_read_lines_plain_gzip_crlf_and_bom(tmp_path):
    (tmp_path / "a.txt").write_bytes("\ufeffone\r\ntwo\n\nthree".encode("utf-8"))
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as stream:
        stream.write("x\ny\n")
    assert read_lines(tmp_path / "a.txt", "a word") == ["one", "two", "", "three"]
    assert read_lines(tmp_path / "b.txt.gz", "a word") == ["x", "y"]
    assert decode_lines(b"", "<stdin>", "x") == []
    assert decode_lines("a\u2028b\n".encode("utf-8"), "<stdin>", "x") == ["a\u2028b"]  # only \n ends a line


PLAIN_LINES = ["première ligne\tcol 2", "中文 😀 3.5", "", "last, line"]


@pytest.mark.parametrize("variant, encode", [
    ("crlf", lambda text: text.replace("\n", "\r\n").encode("utf-8")),
    ("bom", lambda text: ("\ufeff" + text).encode("utf-8")),
    ("bom and crlf", lambda text: ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")),
    ("old Mac cr", lambda text: text.replace("\n", "\r").encode("utf-8")),
    ("no final newline", lambda text: text[:-1].encode("utf-8")),
    ("trailing blank lines", lambda text: (text + "\n  \n\t\r\n").encode("utf-8")),
    ("utf-16 little-endian with its mark", lambda text: b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")),
    ("utf-16 big-endian with its mark", lambda text: b"\xfe\xff" + text.encode("utf-16-be")),
])
def test_harmless_variants_read_as_the_plain_file(tmp_path, variant, encode):
    plain = "".join(line + "\n" for line in PLAIN_LINES)
    (tmp_path / "plain.txt").write_bytes(plain.encode("utf-8"))
    (tmp_path / "variant.txt").write_bytes(encode(plain))
    assert read_lines(tmp_path / "plain.txt", "a line") == PLAIN_LINES
    assert read_lines(tmp_path / "variant.txt", "a line") == PLAIN_LINES
    assert decode_lines(encode(plain), "<stdin>", "a line") == PLAIN_LINES  # predict's stdin


def test_gzip_suffix_in_any_case_and_has_suffix(tmp_path):
    with gzip.open(tmp_path / "B.TXT.GZ", "wt", encoding="utf-8") as stream:
        stream.write("x\r\ny\r\n")
    assert read_lines(tmp_path / "B.TXT.GZ", "a word") == ["x", "y"]
    assert has_suffix("Pairs.TSV", ".tsv") and has_suffix("a/b.tsv.Gz", ".tsv") and has_suffix("r.CSV", ".csv", ".tsv")
    assert not has_suffix("pairs.tsv.txt", ".tsv") and not has_suffix("tsv", ".tsv") and not has_suffix("a.gz", ".tsv")


def test_wrong_encoding_names_the_line(tmp_path):
    (tmp_path / "latin.txt").write_bytes("ok\nstill ok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin.txt:3: byte 0xe9 is not UTF-8") as error:
        read_lines(tmp_path / "latin.txt", "one sentence")
    assert "\n" not in str(error.value)


def test_missing_file_and_broken_gzip(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_lines(tmp_path / "nope.txt", "one sentence")
    (tmp_path / "bad.txt.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match=r"bad.txt.gz:1: not a readable gzip file"):
        read_lines(tmp_path / "bad.txt.gz", "one sentence")


@pytest.mark.parametrize("line", ["Hello, world!", "It costs $3.50 (or 4,000 yen).", "a-b 1-2 x.y",
                                  "&quot;quoted&quot; &amp; <skipped> done", "  spaced\tout  ", "", "Ça va? Oui."])
def test_13a_matches_sacrebleu(line):
    assert tokenize_13a(line) == sacrebleu_13a.Tokenizer13a()(line).split()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZ09 .,-&;:!?'\"()[]{}/$éß\t")), max_size=40))
def test_13a_matches_sacrebleu_on_random_text(line):
    assert tokenize_13a(line) == sacrebleu_13a.Tokenizer13a()(line).split()


def test_text_options_lowercase_first_and_round_trip():
    options = TextOptions("13a", lowercase=True)
    assert options("Hello, World!") == ["hello", ",", "world", "!"]
    assert TextOptions()("Hello, World!") == ["Hello", ",", "World", "!"]  # case kept by default, as sacrebleu
    assert TextOptions("whitespace")("a,b  c") == ["a,b", "c"]
    assert TextOptions("words", True)("Two young, White") == ["two", "young", ",", "white"]
    assert TextOptions.from_dict(options.to_dict()) == options
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        TextOptions("moses")


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 60), st.floats(0.01, 0.99), st.integers(0, 5))
def test_hold_out_is_a_seeded_partition(n, fraction, seed):
    items = list(range(n))
    kept, held = hold_out(items, fraction, seed)
    assert sorted(kept + held) == items and kept == sorted(kept) and held == sorted(held)
    assert len(held) == min(max(1, round(fraction * n)), n - 1) and kept
    assert hold_out(items, fraction, seed) == (kept, held)


def test_hold_out_bad_input():
    with pytest.raises(ValueError, match="fraction must lie in"):
        hold_out([1, 2, 3], 1.0, 0)
    with pytest.raises(ValueError, match="cannot cut a held-out split from 1 item"):
        hold_out([1], 0.5, 0)


def test_a_directory_is_not_reported_as_missing(tmp_path):
    # before: "does not exist" for a folder given where a file was expected
    with pytest.raises(DataFormatError, match="is a directory; expected a text file with one sentence per line"):
        read_lines(tmp_path, "one sentence")


@pytest.mark.parametrize("count", [0, 1])
def test_too_few_items_to_hold_out_name_the_file_and_are_a_data_error(count):
    # a DataFormatError, so that the command line prints one line instead of a traceback
    with pytest.raises(DataFormatError, match=f"cannot cut a held-out split from {count} item\\(s\\) in pairs.tsv"):
        hold_out(list(range(count)), 0.1, 0, source="pairs.tsv")


@pytest.mark.parametrize("count, splits, refused", [(2, ("test", "val"), True), (3, ("test", "val"), False),
                                                    (1, ("test",), True), (2, ("test",), False), (0, (), False)])
def test_enough_to_cut_counts_every_split_before_the_first_cut(count, splits, refused):
    if not refused:
        check_enough_to_cut(count, splits, source="pairs.tsv")
        return
    needed = len(splits) + 1
    with pytest.raises(DataFormatError, match=f"from {count} item\\(s\\) in pairs.tsv: .* give at least {needed}"):
        check_enough_to_cut(count, splits, source="pairs.tsv")


def test_a_first_record_with_an_extra_unquoted_column_is_refused_naming_it(tmp_path):
    # before: only later records with more columns than the first were refused, so 'good, really,pos' on the first
    # line was read as the text 'good' with the label ' really'
    from graphrnn.datasets.sequence_files import read_labelled_sequences

    path = tmp_path / "labelled.csv"
    path.write_text("good, really,pos\nbad,neg\nfine,pos\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"labelled.csv:1: 3 comma-separated columns, but line 2 has 2"):
        read_labelled_sequences(path)
    path.write_text('"good, really",pos\nbad,neg\nfine,pos\n', encoding="utf-8")  # quoted: what its writer meant
    assert [label for _, label in read_labelled_sequences(path)] == ["pos", "neg", "pos"]


@pytest.mark.parametrize("text", ["great film,pos,\nawful,neg,seen twice\nfine,pos,\n",
                                  "great film,pos,seen\nawful,neg,\n"])
def test_an_optional_last_column_left_empty_on_some_records_still_reads(tmp_path, text):
    # pandas and spreadsheets write an empty cell as a trailing separator: not a separator inside the text
    from graphrnn.datasets.sequence_files import read_labelled_sequences

    path = tmp_path / "labelled.csv"
    path.write_text(text, encoding="utf-8")
    assert [label for _, label in read_labelled_sequences(path)][:2] == ["pos", "neg"]


def test_pairs_with_an_attribution_missing_on_some_lines_still_read(tmp_path):
    from graphrnn.datasets.parallel import read_tsv_pairs

    path = tmp_path / "pairs.tsv"
    path.write_text("Go.\tVa !\tCC-BY\nHi.\tSalut !\t\nRun!\tCours !\tCC-BY\n", encoding="utf-8")
    assert [target for _, target in read_tsv_pairs(path)] == ["Va !", "Salut !", "Cours !"]


def test_a_padded_first_record_does_not_hide_a_comma_inside_a_later_text(tmp_path):
    from graphrnn.datasets.sequence_files import read_labelled_sequences

    path = tmp_path / "labelled.csv"
    path.write_text("good,pos,\ngood, really,pos,\n", encoding="utf-8")  # 4 fields against the first's 3
    with pytest.raises(DataFormatError, match=r"labelled.csv:2: 3 comma-separated columns, but line 1 has 2"):
        read_labelled_sequences(path)
