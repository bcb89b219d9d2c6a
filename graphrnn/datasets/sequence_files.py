r"""Your own sequences for ``graphrnn train rnn --data FILE``.

Two formats, told apart by the file name:

- **labelled sequences** (``*.csv``, ``*.tsv``, optionally ``.gz``): one ``sequence,label``
  record per line (a tab instead of the comma in ``.tsv``); the sequence is text, tokenised
  like every text input (:class:`~graphrnn.datasets.text.TextOptions`), the label any string.
  CSV fields may be quoted (``"good, really",pos``, also after a space: ``x, "pos"``) and have any length,
  but a record may not span lines. A first line ``sequence,label`` (any case) is a header and skipped, as
  is a first line whose label column is named ``label`` (``text,label``, ``review<TAB>Label``) when no
  other record has that label; columns after the second are ignored, but a record without quotes may
  not have more columns than the first (an unquoted comma in a sentence would otherwise shift its end
  into the label). A classifier is trained.
- **text** (any other name, e.g. ``*.txt``): one sentence per line. A language model is trained.

Empty lines, a missing separator, an empty sequence or label, and bytes that are not UTF-8
raise a one-line :class:`~graphrnn.datasets.text.DataFormatError` naming the file and line.
"""
from __future__ import annotations

import csv
import os
from typing import List, Tuple

from graphrnn.datasets.text import ColumnCount, DataFormatError, has_suffix, read_lines, where

__all__ = ["is_labelled_file", "read_labelled_sequences", "read_sentences"]

_HEADER = ["sequence", "label"]


def is_labelled_file(path: os.PathLike | str) -> bool:
    """Whether ``path`` names a labelled-sequence file (``.csv``/``.tsv``, optionally ``.gz``)."""
    return has_suffix(path, ".csv", ".tsv")


def read_labelled_sequences(path: os.PathLike | str) -> List[Tuple[str, str]]:
    """The ``(sequence, label)`` records of a ``.csv`` or ``.tsv`` file (see the module docstring).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: naming the line, for a malformed record.
    """
    tab = has_suffix(path, ".tsv")
    separator, name = ("\t", "tab") if tab else (",", "comma")
    expected = f"'sequence{'<TAB>' if tab else ','}label'"
    records = []
    columns = ColumnCount(path, name, "Quote the sequence (\"good, really\",pos)" if not tab else
                          "Remove tabs from the text, or write it as a quoted .csv")
    index_column = False  # pandas' to_csv writes its index as a first column, named '' in the header
    for number, line in enumerate(read_lines(path, f"one {expected} record"), start=1):
        at = where(path, number)
        if not line.strip():
            raise DataFormatError(f"{at}: empty line; expected {expected} (remove blank lines)")
        fields = line.split("\t") if tab else _csv_fields(line, at)
        columns.check(fields, number, quoted=not tab and '"' in line)
        if number == 1:
            index_column = _is_index_header(fields)
        if index_column:
            fields = _without_index(fields, number, at)
        if number == 1 and [f.strip().lower() for f in fields[:2]] == _HEADER:
            continue
        if number == 1 and len(fields) > 1 and fields[0].strip().lower() == _HEADER[1]:
            raise DataFormatError(f"{at}: the header names the first column {fields[0].strip()!r}; the sequence comes "
                                  f"first: {expected}. Swap the two columns (every record would be read with its "
                                  "label as the sequence)")
        if len(fields) < 2:
            raise DataFormatError(f"{at}: expected {expected}, found no {name}{_other_separator(line, tab)}")
        sequence, label = fields[0].strip(), fields[1].strip()
        for what, value in (("sequence", sequence), ("label", label)):
            if not value:
                raise DataFormatError(f"{at}: the {what} is empty; expected {expected} with both filled")
        records.append((sequence, label))
    return _without_named_header(records)


def _is_index_header(fields: List[str]) -> bool:
    """A header whose first column has no name and whose third names the label: ``,text,label`` (later columns
    are ignored), as pandas' ``DataFrame.to_csv`` writes it with its index."""
    return len(fields) >= 3 and not fields[0].strip() and fields[2].strip().lower() == _HEADER[1]


def _without_index(fields: List[str], number: int, at: str) -> List[str]:
    if number > 1 and not fields[0].strip().lstrip("-").isdigit():
        raise DataFormatError(f"{at}: the header's first column has no name, as pandas writes its index, but this "
                              f"record's first field {fields[0]!r} is not an index; write the file with "
                              "to_csv(..., index=False), or name the first column")
    return fields[1:]


def _other_separator(line: str, tab: bool) -> str:
    """A hint when ``line`` is separated by something else: a tab in a ``.csv``, a comma in a ``.tsv``, a ``;``."""
    if not tab and "\t" in line:
        return "; the line holds tabs: name a tab-separated file .tsv"
    if tab and "," in line:
        return "; the line holds commas: name a comma-separated file .csv"
    if ";" in line:
        return "; the line holds ';': separate the sequence and its label by a comma (.csv) or a tab (.tsv)"
    return ""


def _without_named_header(records: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """``records`` without a first record that is a header naming its columns ``<anything>,label``: its label
    ``label`` (any case) is taken as a column name only when no other record has it."""
    if records and records[0][1].lower() == _HEADER[1] and all(label != records[0][1] for _, label in records[1:]):
        return records[1:]
    return records


def _csv_fields(line: str, at: str) -> List[str]:
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(line) + 1))  # a record is one line: its fields cannot be longer
    try:
        return next(csv.reader([line], strict=True, skipinitialspace=True))
    except csv.Error as error:
        raise DataFormatError(f"{at}: not one CSV record ({error}); quote fields that hold commas, and keep "
                              "each record on one line") from None
    finally:
        csv.field_size_limit(limit)


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
