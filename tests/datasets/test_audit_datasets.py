"""Held-out-style audit of the dataset readers: files in the published formats as other tools write them.

Each test feeds one kind of input that used to be read silently wrong (or lost data without a word)
and checks the one-line error that now names the file, the line and what to do.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile

import numpy as np
import pytest
import torch

from graphrnn.datasets.aeslc import parse_subject_file, read_aeslc
from graphrnn.datasets.django import load_django
from graphrnn.datasets.hmm import sample_hmm_dataset
from graphrnn.datasets.parallel import load_parallel, read_tsv_pairs
from graphrnn.datasets.sequence_files import read_labelled_sequences
from graphrnn.datasets.text import DataFormatError, TextOptions
from graphrnn.datasets.translation import read_parallel
from graphrnn.datasets.tree_tsv import load_tree_data, parse_bracketed, read_tree_tsv
from graphrnn.datasets.volleyball import read_annotations


def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------- Multi30k layout (read_parallel)
def test_read_parallel_refuses_an_empty_line_instead_of_an_empty_sentence(tmp_path):
    _write(tmp_path / "train.de", "ein hund\n\nzwei katzen\n")
    _write(tmp_path / "train.en", "a dog\na cat\ntwo cats\n")
    with pytest.raises(DataFormatError, match=r"train\.de:2: empty line; expected one sentence per line"):
        read_parallel(tmp_path, "train")


def test_read_parallel_compares_line_counts_before_the_limit(tmp_path):
    # line 2 of the English file is missing: pair 2 on would be misaligned, and limit=2 used to hide it
    _write(tmp_path / "train.de", "eins\nzwei\ndrei\nvier\n")
    _write(tmp_path / "train.en", "one\nthree\nfour\n")
    with pytest.raises(DataFormatError, match=r"train\.en:4: the file ends here, but train\.de goes on"):
        read_parallel(tmp_path, "train", limit=2)
    _write(tmp_path / "train.en", "one\ntwo\nthree\nfour\n")
    assert read_parallel(tmp_path, "train", limit=2) == [("eins", "one"), ("zwei", "two")]


# ----------------------------------------------------------------- AESLC (*.subject files, tar archives)
def _aeslc_folder(tmp_path, files: dict):
    folder = tmp_path / "aeslc" / "enron_subject_line" / "train"
    folder.mkdir(parents=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    return tmp_path / "aeslc"


def _aeslc_tar(path, texts: dict, compression: str = "gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}" if compression else "w") as archive:
        for name, text in texts.items():
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(f"enron_subject_line/train/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_aeslc_latin1_bytes_are_refused_not_replaced(tmp_path):
    root = _aeslc_folder(tmp_path, {"a.subject": "Caf\xe9 at noon\n\n@subject\nlunch\n".encode("latin-1")})
    with pytest.raises(DataFormatError, match=r"train/a\.subject:1: byte 0xe9 is not UTF-8.*iconv"):
        read_aeslc(root, "train")  # it used to read 'Caf\ufffd' without a word


@pytest.mark.parametrize("text, problem", [
    ("the budget is attached\n\n@subject\n\n", r"a\.subject: the subject is empty"),
    ("\n@subject\nbudget\n", r"a\.subject: the body is empty"),
    ("the budget\n@subject\nfirst\n@subject\nsecond\n", r"a\.subject:4: a second '@subject' line"),
])
def test_aeslc_empty_sections_and_repeated_markers_name_the_file(tmp_path, text, problem):
    root = _aeslc_folder(tmp_path, {"a.subject": text.encode()})
    with pytest.raises(DataFormatError, match=problem):
        read_aeslc(root, "train")
    with pytest.raises(DataFormatError, match=problem):
        parse_subject_file(text, "a.subject")


def _emails(count: int) -> dict:
    return {f"{i:03d}.subject": f"body {i} " * 300 + f"\n@subject\nsubject {i}\n" for i in range(count)}


def test_aeslc_archive_damaged_in_the_middle_is_refused_not_cut_short(tmp_path):
    raw = _aeslc_tar(tmp_path / "good.tar", _emails(30), compression="")
    assert len(read_aeslc(tmp_path / "good.tar", "train")) == 30
    damaged = bytearray(raw)
    second_half = raw.index(b"enron_subject_line/train/020.subject")  # a header in the middle
    damaged[second_half:second_half + 8] = b"\xff" * 8
    (tmp_path / "bad.tar").write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=r"bad\.tar is not a readable tar archive .*damaged header .*after 20 "
                                         r"members"):
        read_aeslc(tmp_path / "bad.tar", "train")  # tarfile used to stop listing there: 20 of 30 emails


def test_aeslc_gzip_with_a_flipped_byte_is_refused(tmp_path):
    raw = bytearray(_aeslc_tar(tmp_path / "good.tar.gz", _emails(30)))
    assert len(read_aeslc(tmp_path / "good.tar.gz", "train")) == 30
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "bad.tar.gz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"bad\.tar\.gz is not a readable tar archive"):
        read_aeslc(tmp_path / "bad.tar.gz", "train")


# ----------------------------------------------------------------- Django (all.anno / all.code)
def test_django_sizes_must_cover_the_corpus(tmp_path):
    folder = tmp_path / "django"
    _write(folder / "all.anno", "assign y to x .\n" * 12)
    _write(folder / "all.code", "x = y\n" * 12)
    with pytest.raises(ValueError, match=r"holds 12 aligned lines but sizes=\[6, 2, 2\] add up to 10"):
        load_django(folder, sizes=(6, 2, 2))  # the last 2 lines used to be left out of every split
    with pytest.raises(ValueError, match=r"holds 12 aligned lines but sizes=\[8, 2, 4\] add up to 14"):
        load_django(folder, sizes=(8, 2, 4))  # the test split used to be 2 lines, not 4
    splits, dropped = load_django(folder, sizes=(8, 2, 2))
    assert [len(splits[name]) for name in ("train", "dev", "test")] == [8, 2, 2] and dropped == 0



def test_django_files_of_different_lengths_name_the_line(tmp_path):
    folder = tmp_path / "django"
    _write(folder / "all.anno", "assign y to x .\nreturn x .\n")
    (folder / "all.code.gz").write_bytes(gzip.compress(b"x = y\n"))
    with pytest.raises(DataFormatError, match=r"all\.code\.gz:2: the file ends here but all\.anno goes on"):
        load_django(folder, sizes=(1, 0, 0))

# ----------------------------------------------------------------- delimited files: a separator inside the text
def test_csv_unquoted_comma_in_a_sequence_is_refused_not_read_as_the_label(tmp_path):
    path = _write(tmp_path / "reviews.csv", "sequence,label\ngood movie,pos\ngood, really,pos\n")
    with pytest.raises(DataFormatError, match=r"reviews\.csv:3: 3 comma-separated columns, but line 1 has 2.*Quote"):
        read_labelled_sequences(path)  # it used to give ('good', 'really')
    _write(path, 'sequence,label\ngood movie,pos\n"good, really",pos\n')
    assert read_labelled_sequences(path)[1] == ("good, really", "pos")
    _write(path, "sequence,label,source\ngood movie,pos,imdb\nbad,neg,imdb\n")  # a third column on every line
    assert read_labelled_sequences(path) == [("good movie", "pos"), ("bad", "neg")]


@pytest.mark.parametrize("reader", [read_tsv_pairs, read_tree_tsv, read_labelled_sequences])
def test_tab_inside_the_text_of_a_tsv_is_refused(tmp_path, reader):
    second = {read_tsv_pairs: "c d\tC\tD", read_tree_tsv: "c\td\tROOT ( c d )", read_labelled_sequences: "c\td\tneg"}
    first = {read_tsv_pairs: "a b\tA B", read_tree_tsv: "a b\tROOT ( a b )", read_labelled_sequences: "a b\tpos"}
    path = _write(tmp_path / "data.tsv", f"{first[reader]}\n{second[reader]}\n")
    with pytest.raises(DataFormatError, match=r"data\.tsv:2: 3 tab-separated columns, but line 1 has 2"):
        reader(path)


def test_trailing_tabs_and_a_constant_third_column_still_read(tmp_path):
    path = _write(tmp_path / "pairs.tsv", "a b\tA B\t\nc d\tC D\n")  # a trailing tab is not a column
    assert read_tsv_pairs(path) == [("a b", "A B"), ("c d", "C D")]
    _write(path, "a b\tA B\tCC-BY #1\nc d\tC D\tCC-BY #2\n")  # Tatoeba's attribution column
    assert read_tsv_pairs(path) == [("a b", "A B"), ("c d", "C D")]


# ----------------------------------------------------------------- encodings and packing every reader shares
def test_utf16_without_a_byte_order_mark_is_refused_not_read_with_nul_bytes(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("a b\tA B\nc d\tC D\n".encode("utf-16-le"))  # valid UTF-8: 'a\x00 \x00b\x00...'
    with pytest.raises(DataFormatError, match=r"pairs\.tsv:1: a NUL byte.*UTF-16 without a byte-order mark.*iconv"):
        read_tsv_pairs(path)
    path.write_bytes("a b\tA B\nc d\tC D\n".encode("utf-16"))  # with its mark: decoded
    assert read_tsv_pairs(path) == [("a b", "A B"), ("c d", "C D")]


@pytest.mark.parametrize("pack, kind", [(gzip.compress, "gzip-compressed.*name it <file>.gz"),
                                        (bz2.compress, "bzip2-compressed.*bunzip2 it"),
                                        (lzma.compress, "xz-compressed.*unxz it")])
def test_a_compressed_file_without_its_suffix_says_so(tmp_path, pack, kind):
    path = tmp_path / "reviews.csv"
    path.write_bytes(pack(b"good movie,pos\nbad,neg\n"))
    with pytest.raises(DataFormatError, match=rf"reviews\.csv:1: the file is {kind}"):
        read_labelled_sequences(path)  # it used to say 'byte 0x8b is not UTF-8 ... iconv -f latin1'
    gz = tmp_path / "reviews.csv.gz"
    gz.write_bytes(gzip.compress(b"good movie,pos\nbad,neg\n"))
    assert read_labelled_sequences(gz) == [("good movie", "pos"), ("bad", "neg")]


# ----------------------------------------------------------------- bracketed trees from other tools
@pytest.mark.parametrize("tree, message", [
    ("(ROOT (a) (b))", r"token 1 \('\(ROOT'\) glues '\(' to a label.*Penn Treebank"),
    ("ROOT(a b)", r"token 2 \('b\)'\) starts a second tree.*'b\)' holds a bracket: separate brackets from labels"),
])
def test_brackets_glued_to_labels_are_named_as_such(tmp_path, tree, message):
    path = _write(tmp_path / "trees.tsv", f"a b\t{tree}\n")
    with pytest.raises(DataFormatError, match=rf"trees\.tsv:1: bad tree in column 2: {message}"):
        read_tree_tsv(path)
    assert parse_bracketed("ROOT ( a b )") == (["ROOT", "a", "b"], [-1, 0, 0])


# ----------------------------------------------------------------- a file next to its own .gz
def test_a_file_and_a_different_gz_of_the_same_name_are_refused(tmp_path):
    _write(tmp_path / "train.xx", "one\ntwo\n")
    _write(tmp_path / "train.yy", "ONE\nTWO\n")
    (tmp_path / "train.xx.gz").write_bytes(gzip.compress(b"old\nlines\n"))
    with pytest.raises(DataFormatError, match=r"train\.xx and train\.xx\.gz both exist and differ"):
        load_parallel(tmp_path, "xx", "yy")  # the .gz used to win silently: ('old', 'ONE'), ('lines', 'TWO')
    with pytest.raises(DataFormatError, match=r"train\.xx and train\.xx\.gz both exist and differ"):
        read_parallel(tmp_path, "train", "xx", "yy")
    (tmp_path / "train.xx.gz").write_bytes(gzip.compress(b"one\ntwo\n"))  # gunzip -k leaves both: same text
    assert read_parallel(tmp_path, "train", "xx", "yy") == [("one", "ONE"), ("two", "TWO")]
    (tmp_path / "train.xx.gz").write_bytes(gzip.compress(b"\xef\xbb\xbfone\r\ntwo\r\n\r\n"))  # a Windows copy
    assert read_parallel(tmp_path, "train", "xx", "yy") == [("one", "ONE"), ("two", "TWO")]



@pytest.mark.parametrize("name, text, hint", [
    ("reviews.csv", "good movie\tpos\n", "the line holds tabs: name a tab-separated file .tsv"),
    ("reviews.tsv", "good movie,pos\n", "the line holds commas: name a comma-separated file .csv"),
    ("reviews.csv", "good movie;pos\n", "the line holds ';'"),
])
def test_a_file_separated_by_another_character_says_which(tmp_path, name, text, hint):
    path = _write(tmp_path / name, text)
    with pytest.raises(DataFormatError, match=rf"{name.replace('.', '[.]')}:1: expected .*, found no .*; {hint}"):
        read_labelled_sequences(path)


# ----------------------------------------------------------------- saved text options (checkpoints)
def test_text_options_from_a_foreign_checkpoint_say_what_is_missing():
    assert TextOptions.from_dict(TextOptions("words", True).to_dict()) == TextOptions("words", True)
    with pytest.raises(ValueError, match=r"must be a dict with 'tokenizer' and 'lowercase'.*got \['tokenizer'\]"):
        TextOptions.from_dict({"tokenizer": "13a"})  # was KeyError: 'lowercase'
    with pytest.raises(ValueError, match=r"'lowercase' must be True or False, got 'False'"):
        TextOptions.from_dict({"tokenizer": "13a", "lowercase": "False"})  # bool('False') read as True


# ----------------------------------------------------------------- HMM data sizes from numpy
def test_hmm_dataset_sizes_may_be_numpy_integers():
    probs = ([0.5, 0.5], [[0.9, 0.1], [0.1, 0.9]], [[0.7, 0.3], [0.2, 0.8]])
    graphs = sample_hmm_dataset(probs, np.int64(3), np.int32(2), np.int64(4), torch.Generator().manual_seed(0))
    assert len(graphs) == 3 and all(2 <= g.num_nodes <= 4 for g in graphs)  # np.int64(3) was refused
    with pytest.raises(ValueError, match=r"num_sequences must be an int, got 3\.0"):
        sample_hmm_dataset(probs, 3.0, 2, 4, torch.Generator())


# ----------------------------------------------------------------- empty files
def test_empty_split_files_are_refused_not_read_as_an_empty_split(tmp_path):
    _write(tmp_path / "train.de", "")
    _write(tmp_path / "train.en", "\n\n")  # blank lines only: empty too
    with pytest.raises(DataFormatError, match=r"train\.de:1: the file is empty \(and so is train\.en\)"):
        read_parallel(tmp_path, "train")  # returned [] without a word
    annotations = _write(tmp_path / "volleyball" / "videos" / "10" / "annotations.txt", "\n")
    with pytest.raises(DataFormatError, match=r"annotations\.txt:1: the file holds no annotated frame"):
        read_annotations(annotations)


def test_an_empty_split_in_the_authors_layout_is_refused(tmp_path):
    for split in ("train", "dev", "test"):
        for name, line in (("s.toks", "a b"), ("t.toks", "ROOT a b"), ("t.parents", "0 1 1")):
            _write(tmp_path / split / name, "" if split == "dev" else line + "\n")
    with pytest.raises(DataFormatError, match=r"dev/s\.toks:1: the dev split is empty"):
        load_tree_data(tmp_path)  # dev used to be read as [] without a word


def test_empty_split_files_of_a_parallel_folder_are_refused(tmp_path):
    _write(tmp_path / "train.xx", "a\nb\nc\n")
    _write(tmp_path / "train.yy", "A\nB\nC\n")
    _write(tmp_path / "val.xx", "")
    _write(tmp_path / "val.yy", "")
    with pytest.raises(DataFormatError, match=r"val\.xx:1: the file is empty \(and so is val\.yy\).*leave the val "
                                              "files out"):
        load_parallel(tmp_path, "xx", "yy")  # val used to be [] without a word


@pytest.mark.parametrize("name, text", [("reviews.csv", "label,text\npos,good movie\nneg,bad\n"),
                                        ("reviews.tsv", "Label\tReview\npos\tgood movie\n")])
def test_a_header_with_the_label_column_first_is_refused(tmp_path, name, text):
    path = _write(tmp_path / name, text)
    with pytest.raises(DataFormatError, match=r":1: the header names the first column '[Ll]abel'; the sequence comes "
                                              r"first.*Swap the two columns"):
        read_labelled_sequences(path)  # read as ('label', 'text'), ('pos', 'good movie'): texts became labels


def test_a_source_target_header_of_a_pair_file_is_not_a_pair(tmp_path):
    path = _write(tmp_path / "pairs.tsv", "Source\tTarget\na b\tA B\n")
    assert read_tsv_pairs(path) == [("a b", "A B")]  # ('Source', 'Target') used to be a training pair
    _write(path, "\tsource\ttarget\n0\ta b\tA B\n")  # pandas' index column: refused at line 1
    with pytest.raises(DataFormatError, match=r"pairs\.tsv:1: the source \(column 1\) is empty"):
        read_tsv_pairs(path)


def test_a_volleyball_frame_annotated_twice_is_refused(tmp_path):
    line = "{frame}.jpg r_set 10 20 30 40 setting 50 60 30 40 waiting\n"
    path = _write(tmp_path / "7" / "annotations.txt", line.format(frame=5) + line.format(frame=9) +
                  line.format(frame=5))
    with pytest.raises(DataFormatError, match=r"annotations\.txt:3: frame 5 is annotated again \(first on line 1\)"):
        read_annotations(path)  # both copies used to be kept: one could train while the other validated
    _write(path, line.format(frame=5) + line.format(frame=9))
    assert [frame.frame for frame in read_annotations(path)] == [5, 9]
