"""Held-out-style audit of the dataset readers: files in the published formats as other tools write them.

Each test feeds one kind of input that used to be read silently wrong (or lost data without a word)
and checks the one-line error that now names the file, the line and what to do.
"""
from __future__ import annotations

import pytest

from graphrnn.datasets.text import DataFormatError
from graphrnn.datasets.translation import read_parallel


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
