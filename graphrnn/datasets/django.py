r"""The Django corpus (Oda et al., ASE 2015): English pseudo-code -> one line of Python, as an AST.

Reads ``$GRAPHRNN_DATA/django/all.{anno,code}.gz`` (line-aligned). Each code line is
parsed with Python's :mod:`ast` (a block header such as ``def f ( x ) :`` parses once a
body ``pass`` is appended; lines that still do not parse, e.g. ``else :``, are dropped and
counted) and turned into a labelled ordered tree:

* an AST node is a node labelled with its class name (``Assign``, ``Call``, ``Name``...);
* each non-empty field is a child labelled with the field's name (``targets``, ``value``...),
  whose children are the field's values in order (lists keep their order);
* identifiers and literals are leaves labelled with their ``repr`` (``'settings'``, ``2``);
* ``ctx``, ``kind`` and ``type_comment`` are left out (``ast.unparse`` does not need them).

:func:`tree_to_code` inverts the mapping (list-valued fields are read off the ASDL
signatures in the AST classes' docstrings), so a predicted tree can be turned back into
source and compared with the gold line (exact match of ``ast.unparse`` output).
Rare labels become ``<unk>`` through the vocabulary cut-off of the experiment; a tree
with ``<unk>`` cannot be turned back into code.
"""
from __future__ import annotations

import ast
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from graphrnn.counts import is_int
from graphrnn.data.vocab import tokenize
from graphrnn.datasets.multi30k import data_directory

__all__ = ["DjangoExample", "SPLIT_SIZES", "parse_code", "ast_to_tree", "tree_to_ast", "tree_to_code",
           "normalise_code", "linearise", "delinearise", "read_django", "load_django"]

#: The usual split of the 18,805 lines: the first 16,000 train, the next 1,000 dev, the rest test.
SPLIT_SIZES = (16000, 1000, 1805)
SKIPPED_FIELDS = frozenset({"ctx", "kind", "type_comment", "type_ignores", "type_params"})
OPEN, CLOSE = "(", ")"
_SIGNATURE = re.compile(r"(\w+)([*?]?) (\w+)")


class DjangoExample(NamedTuple):
    """One aligned line: the English tokens, the code's tree and its normalised source."""

    source: List[str]
    labels: List[str]
    parents: List[int]
    code: str


# ------------------------------------------------------------------ code <-> tree
def parse_code(code: str) -> Optional[ast.stmt]:
    """The one statement of a code line, or ``None`` when it does not parse (a body ``pass`` is
    appended to block headers such as ``def f ( x ) :``)."""
    text = code.strip()
    for candidate in (text, text + " pass"):
        try:
            body = ast.parse(candidate).body
        except (SyntaxError, ValueError):
            continue
        return body[0] if len(body) == 1 else None
    return None


def ast_to_tree(node: ast.AST) -> Tuple[List[str], List[int]]:
    """``(labels, parents)`` of an AST, parents listed before children (pre-order)."""
    labels: List[str] = []
    parents: List[int] = []

    def add(label: str, parent: int) -> int:
        labels.append(label)
        parents.append(parent)
        return len(labels) - 1

    def visit(value, parent: int) -> None:
        if not isinstance(value, ast.AST):
            add(repr(value), parent)
            return
        index = add(type(value).__name__, parent)
        for name in value._fields:
            field = getattr(value, name, None)
            if name in SKIPPED_FIELDS or field is None or (isinstance(field, list) and not field):
                continue
            slot = add(name, index)
            for item in field if isinstance(field, list) else [field]:
                visit(item, slot)

    visit(node, -1)
    return labels, parents


@lru_cache(maxsize=None)
def _list_fields(cls: type) -> frozenset:
    """Fields of an AST class that hold lists (``expr* args`` in its ASDL signature)."""
    return frozenset(name for _, star, name in _SIGNATURE.findall(cls.__doc__ or "") if star == "*")


def _ast_class(label: str) -> Optional[type]:
    cls = getattr(ast, label, None)
    return cls if isinstance(cls, type) and issubclass(cls, ast.AST) else None


def tree_to_ast(labels: Sequence[str], parents: Sequence[int]) -> ast.AST:
    """Inverts :func:`ast_to_tree`.

    Raises:
        ValueError: if the tree is not the image of an AST (unknown class or field,
            ``<unk>``, a scalar field with several values, ...).
    """
    children: Dict[int, List[int]] = {}
    for node, parent in enumerate(parents):
        children.setdefault(parent, []).append(node)
    roots = children.get(-1, [])
    if len(roots) != 1:
        raise ValueError(f"a tree needs one root, got {len(roots)}")
    return _build(roots[0], labels, children)


def _build(node: int, labels: Sequence[str], children: Dict[int, List[int]]):
    label = labels[node]
    cls = _ast_class(label)
    if cls is None:
        if children.get(node):
            raise ValueError(f"the leaf {label!r} has children")
        try:
            return ast.literal_eval(label)
        except (ValueError, SyntaxError) as error:
            raise ValueError(f"{label!r} is neither an AST class nor a literal") from error
    lists = _list_fields(cls)
    values = {name: ([] if name in lists else None) for name in cls._fields}
    for slot in children.get(node, []):
        name = labels[slot]
        if name not in values:
            raise ValueError(f"{cls.__name__} has no field {name!r}")
        items = [_build(child, labels, children) for child in children.get(slot, [])]
        if name not in lists and len(items) != 1:
            raise ValueError(f"{cls.__name__}.{name} holds one value, got {len(items)}")
        values[name] = items if name in lists else items[0]
    return cls(**values)


def tree_to_code(labels: Sequence[str], parents: Sequence[int]) -> str:
    """Python source of a tree made by :func:`ast_to_tree`; ``ValueError`` if it is not one."""
    node = tree_to_ast(labels, parents)
    module = ast.Module(body=[node], type_ignores=[])
    try:
        return ast.unparse(ast.fix_missing_locations(module))
    except Exception as error:  # ast.unparse fails in many ways on ill-formed trees
        raise ValueError(f"the tree does not unparse: {error!r}") from error


def normalise_code(code: str) -> Optional[str]:
    """``ast.unparse`` of a code line (``None`` if it does not parse): the form exact match compares."""
    node = parse_code(code)
    return None if node is None else tree_to_code(*ast_to_tree(node))


# ------------------------------------------------------------------ linearised trees
def linearise(labels: Sequence[str], parents: Sequence[int]) -> List[str]:
    """The bracketed pre-order ``label ( child ( ... ) child ) ...`` of a tree (the sequence baseline's target)."""
    children: Dict[int, List[int]] = {}
    for node, parent in enumerate(parents):
        children.setdefault(parent, []).append(node)
    out: List[str] = []

    def visit(node: int) -> None:
        out.append(labels[node])
        if children.get(node):
            out.append(OPEN)
            for child in children[node]:
                visit(child)
            out.append(CLOSE)

    for root in children.get(-1, []):
        visit(root)
    return out


def delinearise(tokens: Sequence[str]) -> Tuple[List[str], List[int]]:
    """A tree from bracketed tokens, tolerating errors: unmatched ``)`` are dropped, open ``(`` closed at
    the end, and anything after the root's subtree ignored (an empty sequence gives an empty tree)."""
    labels: List[str] = []
    parents: List[int] = []
    stack: List[int] = []
    for token in tokens:
        if token == OPEN:
            if labels and (not stack or stack[-1] != len(labels) - 1):
                stack.append(len(labels) - 1)
        elif token == CLOSE:
            if stack:
                stack.pop()
            if not stack and labels:
                break
        else:
            if labels and not stack:
                break
            labels.append(token)
            parents.append(stack[-1] if stack else -1)
    return labels, parents


# ------------------------------------------------------------------ files
def read_django(directory: Optional[os.PathLike] = None) -> List[Tuple[str, str]]:
    """The aligned ``(pseudo-code, code)`` lines of ``<directory>/all.{anno,code}[.gz]``
    (``directory`` defaults to ``$GRAPHRNN_DATA/django``).

    Raises:
        FileNotFoundError: if the folder or a file is missing.
        ValueError: if the two files differ in length.
    """
    from graphrnn.datasets.text import DataFormatError, plain_or_gz, where

    root = data_directory("django", directory)
    anno, code = (_read(root, name) for name in ("all.anno", "all.code"))
    if len(anno) != len(code):
        (short, short_lines), (long_, long_lines) = sorted((("all.anno", anno), ("all.code", code)),
                                                            key=lambda side: len(side[1]))
        raise DataFormatError(f"{where(plain_or_gz(root / short), len(short_lines) + 1)}: the file ends here but "
                              f"{long_} goes on: all.anno has {len(anno)} lines but all.code {len(code)}; they must "
                              "be aligned (line i of all.anno describes line i of all.code)")
    return list(zip(anno, code))


def _read(root: Path, name: str) -> List[str]:
    from graphrnn.datasets.text import plain_or_gz, read_lines

    path = plain_or_gz(root / name)
    if path is not None:
        return read_lines(path, "one line of the corpus")
    raise FileNotFoundError(f"{root} lacks {name}.gz (or {name}); expected the Django corpus files "
                            "all.anno.gz and all.code.gz")


def load_django(directory: Optional[os.PathLike] = None, sizes: Sequence[int] = SPLIT_SIZES,
                limits: Optional[Sequence[Optional[int]]] = None) -> Tuple[Dict[str, List[DjangoExample]], int]:
    """``({"train", "dev", "test"}: examples, number of dropped lines)``.

    Lines are split by position (``sizes``: first 16,000 train, next 1,000 dev, rest test),
    then lines whose code does not parse as one statement are dropped. ``limits`` keeps
    only the first examples of each split (e.g. for a quick run).

    Raises:
        ValueError: if ``sizes`` do not add up to the number of lines of the corpus (the
            lines beyond them would be left out, or the last splits cut short, without a word).
    """
    lines = read_django(directory)
    _check_sizes(sizes, len(lines), directory)
    splits, dropped, start = {}, 0, 0
    for index, (name, size) in enumerate(zip(("train", "dev", "test"), sizes)):
        examples = []
        for anno, code in lines[start:start + size]:
            example = _example(anno, code)
            if example is None:
                dropped += 1
                continue
            examples.append(example)
            if limits is not None and limits[index] is not None and len(examples) >= limits[index]:
                break
        splits[name] = examples
        start += size
    return splits, dropped


def _check_sizes(sizes: Sequence[int], count: int, directory: Optional[os.PathLike]) -> None:
    """The splits are cut by position, so ``sizes`` must add up to the corpus: more lines would be left out of
    every split without a word, fewer would leave the last splits short or empty."""
    if len(sizes) != 3 or any(not is_int(size) or size < 0 for size in sizes):
        raise ValueError(f"sizes must be three integers >= 0 (train, dev, test lines), got {list(sizes)}")
    if sum(sizes) != count:
        where = directory if directory is not None else "$GRAPHRNN_DATA/django"
        raise ValueError(f"{where} holds {count} aligned lines but sizes={list(sizes)} add up to {sum(sizes)}; the "
                         f"splits are cut by position (train, dev, test), so pass sizes that add up to {count} "
                         f"(the published corpus: {list(SPLIT_SIZES)}); use limits= to read fewer examples")


def _example(anno: str, code: str) -> Optional[DjangoExample]:
    node = parse_code(code)
    source = tokenize(anno)
    if node is None or not source:
        return None
    labels, parents = ast_to_tree(node)
    try:
        normal = tree_to_code(labels, parents)
    except ValueError:
        return None
    return DjangoExample(source, labels, parents, normal)
