r"""Your own sequences for ``graphrnn train rnn --data FILE``.

Two formats, told apart by the file name:

- **labelled sequences** (``*.csv``, ``*.tsv``, optionally ``.gz``): one ``sequence,label``
  record per line (a tab instead of the comma in ``.tsv``); the sequence is text, tokenised
  like every text input (:class:`~graphrnn.datasets.text.TextOptions`), the label any string.
  CSV fields may be quoted (``"good, really",pos``) but a record may not span lines. A first
  line ``sequence,label`` (any case) is a header and skipped; columns after the second are ignored.
  A classifier is trained.
- **text** (any other name, e.g. ``*.txt``): one sentence per line. A language model is trained.

Empty lines, a missing separator, an empty sequence or label, and bytes that are not UTF-8
raise a one-line :class:`~graphrnn.datasets.text.DataFormatError` naming the file and line.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import List, Tuple

from graphrnn.datasets.text import DataFormatError, read_lines, where

__all__ = ["is_labelled_file", "read_labelled_sequences", "read_sentences"]

_HEADER = ["sequence", "label"]


def is_labelled_file(path: os.PathLike | str) -> bool:
    """Whether ``path`` names a labelled-sequence file (``.csv``/``.tsv``, optionally ``.gz``)."""
    return Path(path).name.lower().removesuffix(".gz").endswith((".csv", ".tsv"))


def read_labelled_sequences(path: os.PathLike | str) -> List[Tuple[str, str]]:
    """The ``(sequence, label)`` records of a ``.csv`` or ``.tsv`` file (see the module docstring).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: naming the line, for a malformed record.
    """
    tab = Path(path).name.lower().removesuffix(".gz").endswith(".tsv")
    separator, name = ("\t", "tab") if tab else (",", "comma")
    expected = f"'sequence{'<TAB>' if tab else ','}label'"
    records = []
    for number, line in enumerate(read_lines(path, f"one {expected} record"), start=1):
        at = where(path, number)
        if not line.strip():
            raise DataFormatError(f"{at}: empty line; expected {expected} (remove blank lines)")
        fields = line.split("\t") if tab else _csv_fields(line, at)
        if number == 1 and [f.strip().lower() for f in fields[:2]] == _HEADER:
            continue
        if len(fields) < 2:
            raise DataFormatError(f"{at}: expected {expected}, found no {name}")
        sequence, label = fields[0].strip(), fields[1].strip()
        for what, value in (("sequence", sequence), ("label", label)):
            if not value:
                raise DataFormatError(f"{at}: the {what} is empty; expected {expected} with both filled")
        records.append((sequence, label))
    return records


def _csv_fields(line: str, at: str) -> List[str]:
    try:
        return next(csv.reader([line], strict=True))
    except csv.Error as error:
        raise DataFormatError(f"{at}: not one CSV record ({error}); quote fields that hold commas, and keep "
                              "each record on one line") from None


def read_sentences(path: os.PathLike | str) -> List[str]:
    """The lines of a text file, one sentence each (a language model's corpus).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: naming the line, for an empty line or bytes that are not UTF-8.
    """
    sentences = []
    for number, line in enumerate(read_lines(path, "one sentence"), start=1):
        if not line.strip():
            raise DataFormatError(f"{where(path, number)}: empty line; expected one sentence per line (remove "
                                  "blank lines)")
        sentences.append(line.strip())
    return sentences
