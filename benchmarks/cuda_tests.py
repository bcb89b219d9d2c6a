"""Lists the pytest node ids of the tests that need CUDA (they skip without it), for gpu_check.sh.

    python benchmarks/cuda_tests.py [tests/]

A test counts as needing CUDA when a decorator of it or of its class mentions CUDA or a GPU
(``@pytest.mark.skipif(not torch.cuda.is_available(), ...)``, ``@needs_cuda``, a parametrize
with ``pytest.param("cuda", marks=...)``), when the module's ``pytestmark`` does (then the
whole file), or when its body calls ``pytest.skip`` and mentions CUDA; not a test that skips
*with* CUDA (``skipif(torch.cuda.is_available(), ...)``). The list is read from
the source (no import, no collection), so it is the same on a machine without a GPU, where
all of these tests skip.
"""
from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path
from typing import Iterator, List

MENTIONS_DEVICE = re.compile(r"cuda|gpu", re.IGNORECASE)


def _mentions_device(node: ast.AST, source: str) -> bool:
    return bool(MENTIONS_DEVICE.search(ast.get_source_segment(source, node) or ""))


def _skips_with_device(decorator: ast.AST, source: str) -> bool:
    """``skipif(torch.cuda.is_available(), ...)``: a test of the machines *without* CUDA."""
    return (isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", None) == "skipif"
            and bool(decorator.args) and not isinstance(decorator.args[0], ast.UnaryOp)
            and _mentions_device(decorator.args[0], source))


def _needs_device(node: ast.AST, source: str) -> bool:
    decorators = getattr(node, "decorator_list", [])
    if any(_skips_with_device(decorator, source) for decorator in decorators):
        return False
    if any(_mentions_device(decorator, source) for decorator in decorators):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body = ast.get_source_segment(source, node) or ""
        return "pytest.skip(" in body and bool(MENTIONS_DEVICE.search(body))
    return False


def _module_marked(tree: ast.Module, source: str) -> bool:
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)
               and _mentions_device(node.value, source) for node in tree.body)


def _is_test(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")


def cuda_tests_in_file(path: Path) -> Iterator[str]:
    """Node ids (``path::test``, ``path::Class::test``, or ``path`` for a whole module) of one test file."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    if _module_marked(tree, source):
        yield str(path)
        return
    for node in tree.body:
        if _is_test(node) and _needs_device(node, source):
            yield f"{path}::{node.name}"
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            if _needs_device(node, source):
                yield f"{path}::{node.name}"
                continue
            for method in node.body:
                if _is_test(method) and _needs_device(method, source):
                    yield f"{path}::{node.name}::{method.name}"


def cuda_tests(root: Path) -> List[str]:
    """Node ids of every test under ``root`` (a folder or one file) that needs CUDA, sorted."""
    files = [root] if root.is_file() else sorted(root.rglob("test_*.py"))
    return [node_id for path in files for node_id in cuda_tests_in_file(path)]


def main(args: argparse.Namespace) -> List[str]:
    node_ids = cuda_tests(Path(args.root))
    print("\n".join(node_ids))
    return node_ids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", nargs="?", default="tests", help="a test folder or file (default: tests)")
    return parser


if __name__ == "__main__":
    main(build_parser().parse_args())
