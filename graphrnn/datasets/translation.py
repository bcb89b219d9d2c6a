"""Parallel corpora for translation: line-aligned ``<split>.<lang>[.gz]`` files in one directory.

Multi30k (Elliott et al. 2016; ``$GRAPHRNN_DATA/multi30k``, splits ``train``, ``val``,
``test_2016_flickr``) is the default; any parallel corpus in the same layout works. Lines are
returned as they are (no tokenisation, no lower-casing): pair ``i`` is line ``i`` of the
source file and line ``i`` of the target file.
"""
from __future__ import annotations

import os
from pathlib import Path

from graphrnn.counts import is_int
from graphrnn.datasets.multi30k import data_directory, read_lines
from graphrnn.datasets.text import DataFormatError

__all__ = ["read_parallel"]


def read_parallel(directory: os.PathLike | None, split: str, source: str = "de", target: str = "en",
                  limit: int | None = None) -> list[tuple[str, str]]:
    """The ``(source sentence, target sentence)`` pairs of one split.

    Args:
        directory: folder holding ``<split>.<source>[.gz]`` and ``<split>.<target>[.gz]``;
            ``None`` means ``$GRAPHRNN_DATA/multi30k``.
        split: file stem, e.g. ``"train"``, ``"val"`` or ``"test_2016_flickr"``.
        source, target: language suffixes of the two files.
        limit: read at most this many pairs (the first ones).

    Raises:
        FileNotFoundError: a file or the directory is missing.
        ValueError: ``limit < 1`` or equal languages; a :class:`~graphrnn.datasets.text.DataFormatError` naming
            the file and line for files of different lengths (compared whole, whatever ``limit``) or an
            empty line.
    """
    if limit is not None and (not is_int(limit) or limit < 1):
        raise ValueError(f"limit must be None or a positive integer, got {limit!r}")
    if source == target:
        raise ValueError(f"source and target must be different languages, got {source!r} twice")
    folder = data_directory("multi30k", directory)
    sources = _sentences(folder, split, source)
    targets = _sentences(folder, split, target)
    if len(sources) != len(targets):  # checked on the whole files: a limit would hide a line missing further on
        (short, short_lines), (long_, long_lines) = sorted(((source, sources), (target, targets)),
                                                            key=lambda side: len(side[1]))
        raise DataFormatError(f"{folder / f'{split}.{short}'}:{len(short_lines) + 1}: the file ends here, but "
                              f"{split}.{long_} goes on ({split}.{long_} has {len(long_lines)} lines but "
                              f"{split}.{short} has {len(short_lines)}); a parallel corpus needs line-aligned "
                              "files (one sentence pair per line number): find the line missing from the shorter "
                              "file")
    if not sources:
        raise DataFormatError(f"{folder / f'{split}.{source}'}:1: the file is empty (and so is {split}.{target}); "
                              f"expected one sentence per line: the {split} split would have no pairs")
    return list(zip(sources, targets))[:limit]


def _sentences(folder: Path, split: str, language: str) -> list[str]:
    """The lines of ``<split>.<language>[.gz]``; an empty line (which would pair an empty sentence with its
    counterpart, or hide a line missing from one file) is refused, naming the file and line."""
    lines = read_lines(folder, split, language)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataFormatError(f"{folder / f'{split}.{language}'}:{number}: empty line; expected one sentence per "
                                  "line (an empty line would pair an empty sentence with its counterpart; remove it "
                                  "from both files, or fill it in)")
    return lines
