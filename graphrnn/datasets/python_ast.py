r"""Method-name prediction from Python ASTs (the code2vec / code2seq task) on the Python standard library.

Every function (``def`` and ``async def``, methods and nested functions included) of the
``.py`` files under a source folder, by default the standard library of the running Python
(``sysconfig.get_paths()["stdlib"]``), becomes one example:

* the **target** is the function's name split into subtokens (snake_case and camelCase,
  digits apart, lowercased): ``getHTTPResponse2`` -> ``get http response 2``;
* the **input** is the function's AST with the name masked: the root ``FunctionDef`` keeps no
  name, every use of the name inside the body (a recursive call, ``self.name``) becomes the
  token ``<name>``, and the docstring is dropped (it often states the name in words).

The tree is compact: one node per AST node, labelled with its class (operators folded into
their parent: ``BinOp:Add``, ``Compare:Lt``; constants by value type: ``Constant:str``;
expression contexts ``Load``/``Store`` left out), children in field order, nodes numbered in
pre-order (the root is node 0, a parent comes before its children). A node that names
something (``Name.id``, ``Attribute.attr``, ``arg.arg``, ``keyword.arg``, ``alias.name``, a
nested ``def``/``class`` name, ``Global``/``Nonlocal`` names, ``ImportFrom.module``) carries
that name's subtokens.

Left out, and counted by :func:`read_python_functions`: files in test folders (``test``,
``tests``, ``idle_test``; their functions are named ``test_*``), files that do not parse,
dunder methods (``__init__``, ``__eq__``: the language fixes their names) and names without a
letter. Every other function is read, whatever its size.

The split is by module (file), never by function, so that no file's helpers are in two
splits: the sorted module paths of all read functions are shuffled with a seeded generator and
cut 80/10/10. A size cap (:func:`split_by_module`'s ``max_train_nodes``) is applied after the
split and to the training split only: validation and test keep every function of their modules,
so the split does not depend on the cap and every held-out function is scored.
"""
from __future__ import annotations

import ast
import os
import random
import re
import sys
import sysconfig
import warnings
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

__all__ = ["FunctionExample", "ReadReport", "split_subtokens", "function_to_example", "read_python_functions",
           "split_by_module", "stdlib_directory", "NAME_TOKEN", "TEST_FOLDERS"]

NAME_TOKEN = "<name>"
TEST_FOLDERS = frozenset({"test", "tests", "idle_test"})
_SUBTOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SKIPPED = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


class FunctionExample(NamedTuple):
    """One masked function: its tree (pre-order), its name's subtokens and where it came from."""

    node_types: List[str]
    node_tokens: List[List[str]]
    parents: List[int]
    target: List[str]
    name: str
    module: str


class ReadReport(NamedTuple):
    """What :func:`read_python_functions` read and what it left out, by reason."""

    files: int
    functions: int
    skipped: Dict[str, int]


def split_subtokens(name: str) -> List[str]:
    """Subtokens of an identifier, lowercased: ``"parse_HTTPHeader2"`` -> ``["parse", "http", "header", "2"]``."""
    return [token.lower() for part in name.split("_") for token in _SUBTOKEN.findall(part)]


def stdlib_directory() -> Path:
    """The standard library of the running Python (``sysconfig.get_paths()["stdlib"]``)."""
    return Path(sysconfig.get_paths()["stdlib"])


def python_version() -> str:
    return sys.version.split()[0]


# ------------------------------------------------------------------ AST -> tree
def _label(node: ast.AST) -> str:
    name = type(node).__name__
    if isinstance(node, ast.Constant):
        return f"Constant:{type(node.value).__name__}"
    operator = getattr(node, "op", None)
    if isinstance(node, ast.Compare):
        operator = node.ops[0]
    return f"{name}:{type(operator).__name__}" if isinstance(operator, ast.AST) else name


def _identifiers(node: ast.AST) -> List[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, (ast.arg, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.arg if isinstance(node, ast.arg) else node.name]
    if isinstance(node, ast.keyword):
        return [node.arg] if node.arg else []
    if isinstance(node, ast.alias):
        return [node.name] + ([node.asname] if node.asname else [])
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.module else []
    return []


def _tokens(identifiers: Sequence[str], masked: str) -> List[str]:
    tokens: List[str] = []
    for identifier in identifiers:
        for part in identifier.split("."):
            tokens += [NAME_TOKEN] if part == masked else split_subtokens(part)
    return tokens


def _without_docstring(body: List[ast.stmt]) -> List[ast.stmt]:
    first = body[0] if body else None
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                   str)
    return body[1:] if is_doc else body


def function_to_example(function: Union[ast.FunctionDef, ast.AsyncFunctionDef], module: str = "") -> FunctionExample:
    """The masked pre-order tree of one function (see the module docstring)."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TypeError(f"function_to_example takes an ast.FunctionDef or AsyncFunctionDef, got "
                        f"{type(function).__name__}")
    masked = function.name
    types: List[str] = [type(function).__name__]
    tokens: List[List[str]] = [[]]
    parents: List[int] = [-1]

    def visit(node: ast.AST, parent: int) -> None:
        index = len(types)
        types.append(_label(node))
        tokens.append(_tokens(_identifiers(node), masked))
        parents.append(parent)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _SKIPPED):
                visit(child, index)

    for field in ("args", "decorator_list", "returns"):
        value = getattr(function, field)
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                visit(child, 0)
    for statement in _without_docstring(function.body):
        visit(statement, 0)
    return FunctionExample(types, tokens, parents, split_subtokens(masked), masked, module)


# ------------------------------------------------------------------ corpus
def _is_test_file(relative: Path) -> bool:
    return any(part in TEST_FOLDERS for part in relative.parts[:-1])


def _module_functions(tree: ast.AST):
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _skip_reason(function, example: Optional[FunctionExample]) -> Optional[str]:
    name = function.name
    if name.startswith("__") and name.endswith("__"):
        return "dunder"
    if example is None or not example.target:
        return "no_subtokens"
    return None


def read_python_functions(root: Optional[Union[str, Path]] = None) -> Tuple[List[FunctionExample], ReadReport]:
    """Every kept function under ``root`` (default: this Python's standard library), whatever
    its size (cap training trees with :func:`split_by_module`'s ``max_train_nodes``).

    Files are read in sorted path order; ``site-packages`` is never entered.

    Raises:
        FileNotFoundError: if ``root`` is not a folder.
    """
    root = stdlib_directory() if root is None else Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no source folder at {root}; pass the folder of .py files to read")
    examples: List[FunctionExample] = []
    skipped: Counter = Counter()
    files = 0
    for path in _source_files(root):
        relative = path.relative_to(root)
        if _is_test_file(relative):
            skipped["test_file"] += 1
            continue
        tree = _parse(path)
        if tree is None:
            skipped["unparsable_file"] += 1
            continue
        files += 1
        for function in _module_functions(tree):
            example = None if function.name.startswith("__") and function.name.endswith("__") else \
                function_to_example(function, relative.as_posix())
            reason = _skip_reason(function, example)
            if reason:
                skipped[reason] += 1
            else:
                examples.append(example)
    return examples, ReadReport(files, len(examples), dict(sorted(skipped.items())))


def _source_files(root: Path) -> List[Path]:
    """The ``.py`` files under ``root`` in sorted order, without entering ``site-packages``."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in ("site-packages", "__pycache__")]
        found += [Path(folder) / n for n in names if n.endswith(".py")]
    return sorted(found)


def _parse(path: Path) -> Optional[ast.AST]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None


def split_by_module(examples: Sequence[FunctionExample], seed: int = 0,
                    fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1), max_train_nodes: Optional[int] = None,
                    ) -> Tuple[List[FunctionExample], List[FunctionExample], List[FunctionExample]]:
    """Train / validation / test by module: the sorted module paths of ``examples`` shuffled
    with ``seed`` and cut by ``fractions`` of the module count; every function of a module lands
    in one split.

    ``max_train_nodes`` caps the training split only, after the split: training functions with
    more AST nodes are left out, while validation and test keep every function of their modules.
    The modules of each split are therefore the same for any cap.

    Raises:
        ValueError: if the fractions are negative or do not sum to 1, there are fewer than 3
            modules, or ``max_train_nodes`` < 1.
    """
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    if max_train_nodes is not None and max_train_nodes < 1:
        raise ValueError(f"max_train_nodes must be >= 1 (or None for no cap), got {max_train_nodes}")
    modules = sorted({e.module for e in examples})
    if len(modules) < 3:
        raise ValueError(f"a split by module needs at least 3 modules, got {len(modules)}")
    random.Random(seed).shuffle(modules)
    n_train = max(1, round(fractions[0] * len(modules)))
    n_val = max(1, round(fractions[1] * len(modules)))
    n_train = min(n_train, len(modules) - 2)
    part = {m: 0 for m in modules[:n_train]}
    part.update({m: 1 for m in modules[n_train:n_train + n_val]})
    part.update({m: 2 for m in modules[n_train + n_val:]})
    splits: Tuple[List[FunctionExample], ...] = ([], [], [])
    for example in examples:
        splits[part[example.module]].append(example)
    if max_train_nodes is not None:
        splits[0][:] = [e for e in splits[0] if len(e.node_types) <= max_train_nodes]
    return splits
