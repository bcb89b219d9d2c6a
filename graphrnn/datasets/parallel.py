r"""Your own parallel corpus (translation, summarization): a folder of aligned files, or one TSV file.

Two layouts are read:

- **a folder** of line-aligned ``<split>.<lang>`` files, each optionally gzip-compressed
  (``<split>.<lang>.gz``): line ``i`` of ``train.xx`` and line ``i`` of ``train.yy`` are one
  pair. This is Multi30k's layout (and WMT's, once extracted).
- **one file** ``*.tsv`` (or ``*.tsv.gz``) of ``source<TAB>target`` lines. Columns after the
  second are ignored, so the Tatoeba / ManyThings exports
  (``English<TAB>French<TAB>attribution``) work as they are; a line with more columns than the
  first (a tab inside a sentence) is refused, and a first line ``source<TAB>target`` (any case) is a
  header, skipped.

Split names default to ``train`` / ``val`` / ``test`` and can be set. A split that is missing
(always, for a single TSV file) is cut from the training pairs at random with a seeded
generator (a tenth, :data:`~graphrnn.datasets.text.HELD_OUT_FRACTION`, as test, then a tenth
of the rest as validation), and :attr:`ParallelCorpus.notes` says so. Lines are returned untokenised; a
malformed file raises a one-line :class:`~graphrnn.datasets.text.DataFormatError` naming the
file and line (an empty line, a line without a tab, a side left empty, bytes that are not
UTF-8, or two files of one split with different line counts).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from graphrnn.datasets.text import (
    HELD_OUT_FRACTION,
    ColumnCount,
    DataFormatError,
    check_enough_to_cut,
    has_suffix,
    hold_out,
    plain_or_gz,
    read_lines,
    where,
)

__all__ = ["ParallelCorpus", "read_tsv_pairs", "read_aligned_split", "find_split_file", "load_parallel",
           "DEFAULT_SPLITS"]

DEFAULT_SPLITS = ("train", "val", "test")
Pair = Tuple[str, str]


class ParallelCorpus(NamedTuple):
    """``splits``: ``{"train", "val", "test"}`` -> (source, target) pairs; ``notes``: what was cut or read."""

    splits: Dict[str, List[Pair]]
    notes: List[str]


def read_tsv_pairs(path: os.PathLike | str) -> List[Pair]:
    """The ``(source, target)`` pairs of a ``source<TAB>target`` file (``.tsv`` or ``.tsv.gz``).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: naming the line, for an empty line, a line without a tab, more columns
            than the first line, an empty source or target, or bytes that are not UTF-8.
    """
    expected = "'source<TAB>target'"
    pairs = []
    columns = ColumnCount(path, "tab", "Remove the tab from the sentence (or replace it by a space)")
    for number, line in enumerate(read_lines(path, f"one {expected} pair"), start=1):
        if not line.strip():
            raise DataFormatError(f"{where(path, number)}: empty line; expected {expected} (remove blank lines)")
        fields = line.split("\t")
        columns.check(fields, number)
        if len(fields) < 2:
            raise DataFormatError(f"{where(path, number)}: expected {expected}, found no tab in {_shown(line)}")
        source, target = fields[0].strip(), fields[1].strip()
        if number == 1 and (source.lower(), target.lower()) == ("source", "target"):
            continue  # a header line naming the columns (as pandas writes one), not a pair
        for side, text in (("source", source), ("target", target)):
            if not text:
                raise DataFormatError(f"{where(path, number)}: the {side} (column {1 if side == 'source' else 2}) "
                                      f"is empty; expected {expected} with text on both sides")
        pairs.append((source, target))
    return pairs


def find_split_file(folder: Path, split: str, language: str) -> Optional[Path]:
    """``<folder>/<split>.<language>.gz`` or ``<folder>/<split>.<language>``, or ``None`` when neither exists
    (:func:`~graphrnn.datasets.text.plain_or_gz`: both, with different contents, are refused)."""
    return plain_or_gz(folder / f"{split}.{language}")


def read_aligned_split(folder: os.PathLike | str, split: str, source: str, target: str) -> List[Pair]:
    """The pairs of ``<split>.<source>[.gz]`` and ``<split>.<target>[.gz]`` in ``folder``.

    Raises:
        FileNotFoundError: if one of the two files is missing.
        DataFormatError: naming the line, for an empty line, bytes that are not UTF-8, files
            of different lengths (at the first line one of them lacks), or two empty files.
    """
    folder = Path(folder)
    paths = []
    for language in (source, target):
        path = find_split_file(folder, split, language)
        if path is None:
            raise FileNotFoundError(f"expected {folder / f'{split}.{language}'} or its .gz (one sentence per line, "
                                    f"line-aligned with {split}.{target if language == source else source})")
        paths.append(path)
    sides = [_read_sentences(path) for path in paths]
    if len(sides[0]) != len(sides[1]):
        short, long_ = sorted(range(2), key=lambda i: len(sides[i]))
        raise DataFormatError(f"{where(paths[short], len(sides[short]) + 1)}: the file ends here but "
                              f"{paths[long_].name} has {len(sides[long_])} lines; expected line-aligned files "
                              f"(line i of one is the translation of line i of the other)")
    if not sides[0]:  # an empty validation or test split would choose epochs on nothing, or score nothing
        raise DataFormatError(f"{where(paths[0], 1)}: the file is empty (and so is {paths[1].name}); expected one "
                              f"sentence per line, or leave the {split} files out to have the split cut from train")
    return list(zip(*sides))


def _read_sentences(path: Path) -> List[str]:
    lines = read_lines(path, "one sentence")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataFormatError(f"{where(path, number)}: empty line; expected one sentence per line (an empty "
                                  "line would pair with its counterpart in the other file)")
    return [line.strip() for line in lines]


def load_parallel(path: os.PathLike | str, source: Optional[str] = None, target: Optional[str] = None,
                  splits: Sequence[str] = DEFAULT_SPLITS, seed: int = 0,
                  held_out: float = HELD_OUT_FRACTION) -> ParallelCorpus:
    """Reads a parallel corpus (a folder or a TSV file, see the module docstring).

    Args:
        path: a folder of ``<split>.<lang>[.gz]`` files, or a ``.tsv[.gz]`` file.
        source, target: the language suffixes (required for a folder; for a TSV file they are names only).
        splits: the file stems of the training, validation and test splits.
        seed: seed of the random cut of missing splits.
        held_out: fraction of the training pairs cut for each missing split.

    Returns:
        :class:`ParallelCorpus` with ``splits["train"]``, ``["val"]`` and ``["test"]``.

    Raises:
        FileNotFoundError: if ``path`` or the training files do not exist.
        ValueError: for a folder without ``source``/``target``, equal languages, or not three split names.
        DataFormatError: for a malformed file (one line, naming the file and line).
    """
    path = Path(path)
    if len(splits) != 3 or len(set(splits)) != 3:
        raise ValueError(f"give three different split names (train, validation, test), got {list(splits)}")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; pass a folder of <split>.<lang>[.gz] files or a "
                                "source<TAB>target .tsv[.gz] file")
    found, notes = (_read_tsv_corpus(path) if path.is_file() else
                    _read_folder_corpus(path, source, target, splits))
    return ParallelCorpus(_complete(found, path, splits, seed, held_out, notes), notes)


def _read_tsv_corpus(path: Path) -> Tuple[Dict[str, List[Pair]], List[str]]:
    if not has_suffix(path, ".tsv"):
        raise ValueError(f"{path} is a file but not .tsv or .tsv.gz; pass a source<TAB>target .tsv file or a "
                         "folder of line-aligned <split>.<lang> files")
    pairs = read_tsv_pairs(path)
    return {"train": pairs}, [f"read {len(pairs)} pairs from {path}"]


def _read_folder_corpus(path: Path, source: Optional[str], target: Optional[str],
                        splits: Sequence[str]) -> Tuple[Dict[str, List[Pair]], List[str]]:
    if not source or not target:
        raise ValueError(f"{path} is a folder of <split>.<lang> files: give the language suffixes with "
                         "--source XX --target YY (source=..., target=...)")
    if source == target:
        raise ValueError(f"source and target must be different languages, got {source!r} twice")
    found, notes = {}, []
    for key, split in zip(("train", "val", "test"), splits):
        if key == "train" or find_split_file(path, split, source) or find_split_file(path, split, target):
            found[key] = read_aligned_split(path, split, source, target)
            notes.append(f"read {len(found[key])} {key} pairs from {path}/{split}.{{{source},{target}}}")
    return found, notes


def _complete(found: Dict[str, List[Pair]], path: Path, splits: Sequence[str], seed: int, held_out: float,
              notes: List[str]) -> Dict[str, List[Pair]]:
    """Cuts the missing test, then validation split from the training pairs (and says so in ``notes``)."""
    train = found["train"]
    check_enough_to_cut(len(train), [key for key in ("test", "val") if key not in found], source=str(path))
    for offset, key in enumerate(("test", "val")):
        if key in found:
            continue
        before = len(train)
        train, found[key] = hold_out(train, held_out, seed + offset, source=str(path))
        name = splits[1] if key == "val" else splits[2]
        notes.append(f"no {name} split in {path}: cut {len(found[key])} of the {before} training pairs at random "
                     f"(seed {seed + offset}) as the {'validation' if key == 'val' else 'test'} split")
    return {"train": train, "val": found["val"], "test": found["test"]}


def _shown(line: str, width: int = 40) -> str:
    return repr(line if len(line) <= width else line[:width] + "...")
