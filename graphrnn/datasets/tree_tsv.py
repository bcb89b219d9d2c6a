r"""Trees written as one bracketed line, and a TSV file of ``sentence<TAB>bracketed tree`` lines.

A bracketed tree lists a node's label, then its children between ``(`` and ``)``, all
separated by spaces (the pre-order of :func:`graphrnn.datasets.django.linearise`)::

    ROOT ( a ( b c ) d )        # ROOT has children a and d; a has children b and c

A TSV line pairs a sentence (tokens separated by spaces, the DRNN's source) with its
tree, whose root is ``ROOT`` as in the authors' layout (:mod:`graphrnn.datasets.synthetic_trees`).
Columns after the second are ignored. :func:`load_tree_data` reads such a file (or a
folder in the authors' layout) and cuts the missing dev and test splits from the
training trees at random with a seeded generator, saying so.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from graphrnn.datasets.synthetic_trees import ROOT, SPLITS, TreeExample, read_dataset
from graphrnn.datasets.text import (
    HELD_OUT_FRACTION,
    ColumnCount,
    DataFormatError,
    check_enough_to_cut,
    has_suffix,
    hold_out,
    read_lines,
    where,
)

__all__ = ["OPEN", "CLOSE", "parse_bracketed", "format_bracketed", "read_tree_tsv", "load_tree_data"]

OPEN, CLOSE = "(", ")"


def parse_bracketed(text: str) -> Tuple[List[str], List[int]]:
    """``(labels, parents)`` of one bracketed tree, nodes in pre-order (``parents[0] = -1``).

    Raises:
        ValueError: for an empty text, a bracket without a label before it, ``( )`` without
            children, unbalanced brackets, or more than one tree.
    """
    tokens = text.split()
    if not tokens:
        raise ValueError("the tree is empty; expected 'label ( child child ... )', e.g. 'ROOT ( a ( b c ) d )'")
    labels: List[str] = []
    parents: List[int] = []
    stack: List[int] = []
    for position, token in enumerate(tokens, start=1):
        if token == OPEN:
            _open(labels, stack, tokens, position)
        elif token == CLOSE:
            _close(labels, stack, position)
        else:
            if len(token) > 1 and token.startswith(OPEN):
                raise ValueError(f"token {position} ({token!r}) glues '(' to a label; brackets are tokens of their "
                                 "own, after the label and separated by spaces: 'ROOT ( a ( b c ) d )' (a Penn "
                                 "Treebank tree such as '(ROOT (a b))' puts the label after the bracket: rewrite it)")
            if labels and not stack:
                glued = f"; {token!r} holds a bracket: separate brackets from labels by spaces" \
                    if OPEN in token or CLOSE in token else ""
                raise ValueError(f"token {position} ({token!r}) starts a second tree; one line holds one tree, "
                                 f"so the root's children go inside its brackets{glued}")
            labels.append(token)
            parents.append(stack[-1] if stack else -1)
    if stack:
        raise ValueError(f"{len(stack)} '(' left open at the end; close every '(' with ')'")
    return labels, parents


def _open(labels: List[str], stack: List[int], tokens: Sequence[str], position: int) -> None:
    if position == 1 or tokens[position - 2] in (OPEN, CLOSE):
        raise ValueError(f"token {position} is '(' without a label before it; write 'label ( children )'")
    stack.append(len(labels) - 1)


def _close(labels: List[str], stack: List[int], position: int) -> None:
    if not stack:
        raise ValueError(f"token {position} is a ')' that closes nothing")
    if stack[-1] == len(labels) - 1:
        raise ValueError(f"token {position} closes '( )' without children; leave a leaf without brackets")
    stack.pop()


def format_bracketed(labels: Sequence[str], parents: Sequence[int]) -> str:
    """The bracketed line of a tree (children in index order), the inverse of :func:`parse_bracketed`."""
    from graphrnn.datasets.django import linearise

    return " ".join(linearise(labels, parents))


def read_tree_tsv(path: os.PathLike | str) -> List[TreeExample]:
    """The examples of a ``sentence<TAB>bracketed tree`` file (``.tsv`` or ``.tsv.gz``).

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: one line naming the file and line, for an empty line, a missing tab,
            an empty sentence, a malformed tree, a root other than ``ROOT``, or bytes that are not UTF-8.
    """
    expected = "'sentence<TAB>bracketed tree'"
    examples = []
    columns = ColumnCount(path, "tab", "Remove the tab from the sentence or tree (or replace it by a space)")
    for number, line in enumerate(read_lines(path, f"one {expected}"), start=1):
        at = where(path, number)
        if not line.strip():
            raise DataFormatError(f"{at}: empty line; expected {expected} (remove blank lines)")
        fields = line.split("\t")
        columns.check(fields, number)
        if len(fields) < 2:
            raise DataFormatError(f"{at}: expected {expected}, e.g. 'a b c d<TAB>ROOT ( a ( b c ) d )', found no tab")
        source = fields[0].split()
        if not source:
            raise DataFormatError(f"{at}: the sentence (column 1) is empty; expected {expected}")
        try:
            labels, parents = parse_bracketed(fields[1])
        except ValueError as error:
            raise DataFormatError(f"{at}: bad tree in column 2: {error}") from None
        if labels[0] != ROOT:
            raise DataFormatError(f"{at}: the tree's root is {labels[0]!r}; expected {ROOT!r} (the DRNN fixes the "
                                  f"root label: write '{ROOT} ( {fields[1].strip()} )')")
        examples.append(TreeExample(source, labels, parents))
    return examples


def _read_authors_layout(path: Path) -> Dict[str, List[TreeExample]]:
    """:func:`~graphrnn.datasets.synthetic_trees.read_dataset`, after checking that every file is UTF-8 and the
    three files of a split have as many lines (each problem as one :class:`DataFormatError` naming the line)."""
    for split in SPLITS:
        files = [path / split / name for name in ("s.toks", "t.toks", "t.parents")]
        counts = {file: len(read_lines(file, "one example")) for file in files if file.is_file()}
        if len(set(counts.values())) > 1:
            short, long_ = min(counts, key=counts.get), max(counts, key=counts.get)
            raise DataFormatError(f"{where(short, counts[short] + 1)}: the file ends here but {long_.name} has "
                                  f"{counts[long_]} lines; expected one line per example in s.toks, t.toks and "
                                  "t.parents")
        if counts and not any(counts.values()):  # an empty dev or test split: nothing to choose epochs on, or score
            raise DataFormatError(f"{where(files[0], 1)}: the {split} split is empty (so are its t.toks and "
                                  "t.parents); expected one example per line")
    try:
        return read_dataset(path)
    except ValueError as error:  # a line that is not one tree, named by read_split
        raise DataFormatError(str(error)) from None


def load_tree_data(path: os.PathLike | str, seed: int = 0, fraction: float = HELD_OUT_FRACTION,
                   log: Callable[[str], None] = lambda message: None) -> Dict[str, List[TreeExample]]:
    """``{"train", "dev", "test"}`` examples of a folder in the authors' layout or of a TSV file.

    A TSV file holds one split: ``fraction`` of its trees are cut at random (``seed``) as test, then
    as dev; ``log`` receives a line saying so.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: for a file that is not ``.tsv``/``.tsv.gz``; :class:`DataFormatError` for a malformed line.
    """
    path = Path(path)
    if path.is_dir():
        return _read_authors_layout(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist, so it is not a directory; pass a folder in the authors' "
                                "layout (<dir>/{train,dev,test}/{s.toks,t.toks,t.parents}) or a sentence<TAB>tree .tsv "
                                "file")
    if not has_suffix(path, ".tsv"):
        raise DataFormatError(f"{path} is a file but not .tsv or .tsv.gz; pass a sentence<TAB>bracketed tree .tsv "
                              "file or a folder in the authors' layout")
    examples = read_tree_tsv(path)
    check_enough_to_cut(len(examples), ("test", "dev"), source=str(path))
    train, test = hold_out(examples, fraction, seed, source=str(path))
    train, dev = hold_out(train, fraction, seed + 1, source=str(path))
    log(f"{path} holds one split of {len(examples)} trees: cut {len(test)} (test, seed {seed}) and {len(dev)} "
        f"(dev, seed {seed + 1}) at random, {len(train)} left for training")
    return {"train": train, "dev": dev, "test": test}
