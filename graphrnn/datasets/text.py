r"""Reading your own text files: line-numbered errors, tokenisation, seeded held-out splits.

Every reader of user data in graphrnn goes through :func:`read_lines`, so every problem is
reported the same way, as one line that names the file, the line and what was expected::

    pairs.tsv:17: expected 'source<TAB>target', found no tab

Tokenisation follows sacrebleu's conventions (Post, 2018, https://aclanthology.org/W18-6319):
the default ``"13a"`` tokenizer is mteval-v13a's (WMT's; punctuation split off, a period or
comma kept inside numbers), ``"whitespace"`` splits on spaces only (for pre-tokenised text),
``"words"`` keeps runs of letters/digits (with one inner apostrophe) and single punctuation
marks (:func:`graphrnn.data.vocab.tokenize`, used by the built-in Multi30k and AESLC presets).
Text is case-sensitive unless ``lowercase=True`` (sacrebleu's ``-lc``), which lower-cases the
line before tokenising it. The tokens are what the model reads and writes; predictions are
the predicted tokens joined by single spaces.
"""
from __future__ import annotations

import codecs
import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, TypeVar

import torch

from graphrnn.data.vocab import tokenize

__all__ = ["DataFormatError", "read_lines", "decode_lines", "where", "has_suffix", "TOKENIZERS", "tokenize_13a",
           "TextOptions", "hold_out", "HELD_OUT_FRACTION", "ColumnCount", "plain_or_gz"]

TOKENIZERS = ("13a", "whitespace", "words")
#: Fraction of the training items cut off as a missing validation or test split.
HELD_OUT_FRACTION = 0.1
T = TypeVar("T")


class DataFormatError(ValueError):
    """A data file does not have the expected format; the message is one line naming the file and line."""


def where(path: os.PathLike | str, line: int) -> str:
    """``"<path>:<line>"``, the prefix of every :class:`DataFormatError`."""
    return f"{path}:{line}"


def has_suffix(path: os.PathLike | str, *suffixes: str) -> bool:
    """Whether the name of ``path`` ends with one of ``suffixes``, in any case, with or without ``.gz``
    (``has_suffix("Pairs.TSV.gz", ".tsv")`` is true)."""
    name = Path(path).name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    return name.endswith(tuple(suffix.lower() for suffix in suffixes))


def plain_or_gz(path: os.PathLike | str) -> Path | None:
    """``<path>.gz`` or ``<path>``, whichever exists (``None`` when neither does).

    Raises:
        DataFormatError: if both exist with different contents: one of them would be read and the other
            ignored without a word (both may stay when they hold the same text, as ``gunzip -k`` leaves them).
    """
    plain = Path(path)
    packed = plain.with_name(plain.name + ".gz")
    if packed.is_file() and plain.is_file():
        if not _same_text(packed, plain):
            raise DataFormatError(f"{plain} and {packed.name} both exist and differ; one would be read and the other "
                                  "ignored: keep one of them")
        return packed
    return packed if packed.is_file() else plain if plain.is_file() else None


def _same_text(packed: Path, plain: Path) -> bool:
    """The two files hold the same bytes, or the same lines once read (line ends, byte-order marks and
    trailing blank lines are what a copy made on another system changes)."""
    packed_bytes, plain_bytes = _read_bytes(packed), plain.read_bytes()
    if packed_bytes == plain_bytes:
        return True
    try:
        return decode_lines(packed_bytes, str(packed), "text") == decode_lines(plain_bytes, str(plain), "text")
    except DataFormatError:
        return False


def read_lines(path: os.PathLike | str, what: str) -> List[str]:
    r"""The lines of a UTF-8 text file (``.gz`` compressed when the name ends with ``.gz``), without newlines.

    Harmless differences between editors and systems are undone here, for every reader: a byte-order
    mark (a UTF-16 file with its mark is decoded as UTF-16), Windows (``\r\n``) and old Mac (``\r``)
    line ends, and blank lines at the end of the file (dropped). Blank lines before the last text line
    are kept, for the readers to refuse or skip.

    Args:
        path: the file.
        what: what one line should hold, for the error messages (e.g. ``"one sentence"``).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: naming the line, for bytes that are not UTF-8, a NUL byte (UTF-16 without its
            mark), a compressed file or archive whose name does not say so, or a ``.gz`` file that is
            not gzip.
    """
    path = Path(path)
    if path.is_dir():
        raise DataFormatError(f"{path} is a directory; expected a text file with {what} per line")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (expected a text file with {what} per line)")
    return decode_lines(_read_bytes(path), str(path), what)


def decode_lines(raw: bytes, name: str, what: str) -> List[str]:
    r"""The lines of UTF-8 ``raw`` bytes read from ``name`` (a file, or ``<stdin>``), without newlines (see
    :func:`read_lines` for what is undone: byte-order marks, ``\r\n`` and ``\r`` line ends, trailing blank lines).

    Raises:
        DataFormatError: naming the line of the first byte that is not UTF-8.
    """
    text = _decode(raw, name, what)
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is not part of the first line
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # old Mac line ends: \r alone ends every line
    lines = text.split("\n")  # not splitlines(): other separators (\x1c, \u2028) would shift line numbers
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    while lines and not lines[-1].strip():
        lines.pop()  # the final newline, and blank lines after the last text line
    return lines


#: The first bytes of compressed files and archives, which decode as nonsense (or fail as "not UTF-8").
_PACKED = {b"\x1f\x8b": ("gzip-compressed", "name it <file>.gz (it is read as gzip then), or gunzip it"),
           b"PK\x03\x04": ("a zip archive", "unzip it and pass the text file inside"),
           b"\xfd7zXZ\x00": ("xz-compressed", "unxz it"),
           **{b"BZh" + bytes([digit]): ("bzip2-compressed", "bunzip2 it") for digit in b"123456789"}}


def _decode(raw: bytes, name: str, what: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not raw.startswith(codecs.BOM_UTF32_LE):
        try:
            return raw.decode("utf-16")  # e.g. Windows "Unicode text"; the mark gives the byte order
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: reported as bytes that are not UTF-8
    _check_not_packed(raw, name, what)
    if b"\x00" in raw:  # valid UTF-8, but no text file holds NUL: UTF-16 without its mark decodes as 'h\x00i\x00'
        at = raw.index(b"\x00")
        line = raw.count(b"\n", 0, at) + 1
        raise DataFormatError(f"{where(name, line)}: a NUL byte (0x00); expected UTF-8 text with {what} per line. The "
                              "file looks like UTF-16 without a byte-order mark, or binary: convert it (e.g. iconv -f "
                              "utf-16le -t utf-8)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataFormatError(f"{where(name, line)}: byte 0x{raw[error.start]:02x} is not UTF-8; expected UTF-8 "
                              f"text with {what} per line (convert it, e.g. iconv -f latin1 -t utf-8)") from None


def _check_not_packed(raw: bytes, name: str, what: str) -> None:
    for magic, (kind, fix) in _PACKED.items():
        if raw.startswith(magic):
            raise DataFormatError(f"{where(name, 1)}: the file is {kind}, not text; expected UTF-8 text with {what} "
                                  f"per line: {fix}")


def _read_bytes(path: Path) -> bytes:
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as stream:
                return stream.read()
        except (OSError, EOFError) as error:
            raise DataFormatError(f"{where(path, 1)}: not a readable gzip file ({error}); expected gzip-compressed "
                                  "UTF-8 text (or drop the .gz suffix for plain text)") from None
    return path.read_bytes()


class ColumnCount:
    r"""Checks that every record of a delimited file has as many columns as the first one.

    Readers keep the first two columns and ignore the rest (the attribution column of Tatoeba
    exports, on every line), so a record with an extra column is almost always text holding the
    separator (an unquoted comma in a CSV sentence, a tab inside a TSV sentence): its text would be
    cut there and the rest read as the label or target, silently. When the first record is the one
    with the extra column, the later records have fewer, and that is refused too (naming the first
    line). Trailing empty columns (``a\tb\t``) do not count.

    Args:
        path: the file, for the messages.
        separator: how the columns are separated, e.g. ``"comma"`` or ``"tab"``.
        hint: what to do about it, appended to the message.
    """

    def __init__(self, path: os.PathLike | str, separator: str, hint: str) -> None:
        self.path, self.separator, self.hint = path, separator, hint
        self.first: Tuple[int, int, int] | None = None  # (line, columns, columns with trailing empty ones)
        self.first_quoted = False

    def check(self, fields: Sequence[str], line: int, quoted: bool = False) -> None:
        """Records ``fields`` (one record, read from ``line``) or raises :class:`DataFormatError` if it has more
        or fewer columns than the first record. ``quoted``: the record quotes its fields (CSV), so its writer
        knew how to keep a separator inside a field, and a column count that differs from the first record's
        is meant (it is then not refused).

        An optional last column left empty on some records (``good,pos,`` beside ``bad,neg,seen twice``, as
        pandas and spreadsheets write an empty cell) is not a difference: a record may have more filled
        columns than the first only up to the first's width with its empty ones, and fewer only when it has
        fewer columns even counting its empty ones."""
        present = len(fields)
        columns = present
        while columns > 1 and not fields[columns - 1].strip():
            columns -= 1
        if self.first is None:
            self.first, self.first_quoted = (line, columns, present), quoted
            return
        first_line, first_columns, first_present = self.first
        wider = columns > max(first_columns, first_present) or (present > first_present and columns > first_columns)
        if wider and not quoted:
            raise DataFormatError(f"{where(self.path, line)}: {columns} {self.separator}-separated columns, but line "
                                  f"{first_line} has {first_columns}; a {self.separator} inside the text would "
                                  f"cut it there and shift the rest into the next column. {self.hint}")
        if 2 <= present < first_columns and not (quoted or self.first_quoted):  # one column: the reader's error
            raise DataFormatError(f"{where(self.path, first_line)}: {first_columns} {self.separator}-separated "
                                  f"columns, but line {line} has {present}; a {self.separator} inside the first "
                                  f"record's text would cut it there and shift the rest into the next column. "
                                  f"{self.hint}")


_13A_RULES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period and comma unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash after a digit
)


def tokenize_13a(line: str) -> List[str]:
    """mteval-v13a tokenisation, as sacrebleu's default ``Tokenizer13a`` (``"Hello, world!"`` ->
    ``Hello , world !``; ``"3.5"`` stays one token)."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


@dataclass(frozen=True)
class TextOptions:
    """How a line of text becomes tokens: ``tokenizer`` (one of :data:`TOKENIZERS`) and ``lowercase``
    (applied first, as sacrebleu does). Saved in checkpoints (:meth:`to_dict`), so prediction reads new
    text exactly as training did."""

    tokenizer: str = "13a"
    lowercase: bool = False

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")

    def __call__(self, line: str) -> List[str]:
        line = line.lower() if self.lowercase else line
        if self.tokenizer == "13a":
            return tokenize_13a(line)
        if self.tokenizer == "words":
            return tokenize(line, lowercase=False)
        return line.split()

    def to_dict(self) -> Dict[str, object]:
        return {"tokenizer": self.tokenizer, "lowercase": self.lowercase}

    @classmethod
    def from_dict(cls, values: Dict[str, object]) -> "TextOptions":
        """The options :meth:`to_dict` saved.

        Raises:
            ValueError: if ``values`` is not such a dict (a key missing, or ``lowercase`` not a bool), e.g. a
                checkpoint written by another program.
        """
        if not isinstance(values, dict) or not {"tokenizer", "lowercase"} <= values.keys():
            shown = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ValueError(f"saved text options must be a dict with 'tokenizer' and 'lowercase' (as "
                             f"TextOptions.to_dict writes), got {shown}; was the checkpoint written by graphrnn?")
        if not isinstance(values["lowercase"], bool):  # bool("False") would be True
            raise ValueError(f"saved text option 'lowercase' must be True or False, got {values['lowercase']!r}")
        return cls(str(values["tokenizer"]), values["lowercase"])


def check_enough_to_cut(count: int, splits: Sequence[str], source: str = "") -> None:
    """Refuses ``count`` items too few to cut every split in ``splits`` (one item each at least) from them
    and keep one for training, before the first cut, so that the error counts the items of the file.

    Raises:
        DataFormatError: if ``count < len(splits) + 1``.
    """
    needed = len(splits) + 1
    if splits and count < needed:
        where = f" in {source}" if source else ""
        raise DataFormatError(f"cannot cut the {' and '.join(splits)} split{'s' if len(splits) > 1 else ''} from "
                              f"{count} item(s){where}: each takes at least one and one must stay for training; give "
                              f"at least {needed}, or give the split{'s' if len(splits) > 1 else ''} as own files")


def hold_out(items: Sequence[T], fraction: float, seed: int, source: str = "") -> Tuple[List[T], List[T]]:
    """``(kept, held_out)``: ``round(fraction * n)`` items (at least one, and at least one kept) drawn at
    random with a generator seeded by ``seed``; both parts keep the input order.

    Args:
        source: where the items were read (a file), named in the error.

    Raises:
        ValueError: if ``fraction`` is not in ``(0, 1)``.
        DataFormatError: if there are fewer than two items (an empty or one-line data file).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the held-out fraction must lie in (0, 1), got {fraction}")
    if len(items) < 2:
        where = f" in {source}" if source else ""
        raise DataFormatError(f"cannot cut a held-out split from {len(items)} item(s){where}; give at least 2, "
                              "or give the split as its own file")
    count = min(max(1, round(fraction * len(items))), len(items) - 1)
    order = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))
    chosen = set(order[:count].tolist())
    return ([item for i, item in enumerate(items) if i not in chosen],
            [item for i, item in enumerate(items) if i in chosen])
