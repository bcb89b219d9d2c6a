"""The method-name corpus: subtoken splitting, the masked AST, reading a folder, the split by module."""
import ast
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphrnn.datasets.python_ast import (
    NAME_TOKEN,
    function_to_example,
    read_python_functions,
    split_by_module,
    split_subtokens,
    stdlib_directory,
)


@pytest.mark.parametrize("name, expected", [
    ("read_config_file", ["read", "config", "file"]),
    ("getHTTPResponse2", ["get", "http", "response", "2"]),
    ("_private", ["private"]),
    ("XMLParser", ["xml", "parser"]),
    ("__init__", ["init"]),
    ("_", []),
])
def test_split_subtokens(name, expected):
    assert split_subtokens(name) == expected


@given(st.from_regex(r"[a-z]{1,6}(_[a-z]{1,6}){0,3}", fullmatch=True))
def test_snake_case_splits_on_underscores(name):
    assert split_subtokens(name) == name.split("_")


def first_function(source: str):
    return next(n for n in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(n, ast.FunctionDef))


def test_the_name_is_masked_and_the_docstring_dropped():
    example = function_to_example(first_function('''
        def count_leaves(self, node):
            """Count the leaves below node."""
            if not node.children:
                return 1
            return sum(self.count_leaves(c) for c in node.children) + 0
    '''), module="m.py")
    assert example.target == ["count", "leaves"] and example.name == "count_leaves" and example.module == "m.py"
    assert example.node_types[0] == "FunctionDef" and example.node_tokens[0] == []
    assert "Constant:str" not in example.node_types  # the docstring
    assert [NAME_TOKEN] in example.node_tokens  # the recursive call self.count_leaves
    assert not any("count" in tokens and "leaves" in tokens for tokens in example.node_tokens)
    assert "BinOp:Add" in example.node_types and "UnaryOp:Not" in example.node_types
    assert "Load" not in example.node_types and "Add" not in example.node_types
    assert ["children"] in example.node_tokens and ["self"] in example.node_tokens


def test_nodes_are_in_pre_order_with_the_root_first():
    example = function_to_example(first_function("def f(a, b):\n    return a + b * 2\n"))
    assert example.parents[0] == -1
    assert all(0 <= p < i for i, p in enumerate(example.parents) if i > 0)
    # FunctionDef, arguments, arg a, arg b, Return, BinOp +, Name a, BinOp *, Name b, Constant
    assert example.node_types == ["FunctionDef", "arguments", "arg", "arg", "Return", "BinOp:Add", "Name",
                                  "BinOp:Mult", "Name", "Constant:int"]
    assert example.parents == [-1, 0, 1, 1, 0, 4, 5, 5, 7, 7]
    assert example.node_tokens[2] == ["a"] and example.node_tokens[8] == ["b"]


def test_function_to_example_rejects_other_nodes():
    with pytest.raises(TypeError, match="FunctionDef"):
        function_to_example(ast.parse("x = 1").body[0])


def write(folder, relative, text):
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_read_a_folder_counts_what_it_leaves_out(tmp_path):
    write(tmp_path, "pkg/a.py", """
        def load_table(path):
            return open(path).read()

        class Table:
            def __init__(self):
                self.rows = []

            async def fetch_rows(self):
                def helper():
                    return 1
                return self.rows
    """)
    write(tmp_path, "pkg/tests/test_a.py", "def test_load():\n    pass\n")
    write(tmp_path, "broken.py", "def f(:\n")
    write(tmp_path, "big.py", "def big_one():\n" + "".join(f"    x{i} = {i}\n" for i in range(40)))
    write(tmp_path, "site-packages/other.py", "def never_read():\n    pass\n")
    examples, report = read_python_functions(tmp_path)
    assert sorted(e.name for e in examples) == ["big_one", "fetch_rows", "helper", "load_table"]
    assert {e.module for e in examples} == {"pkg/a.py", "big.py"}
    assert len(next(e for e in examples if e.name == "big_one").node_types) == 2 + 3 * 40  # kept, whatever its size
    assert report.files == 2 and report.functions == 4
    assert report.skipped == {"dunder": 1, "test_file": 1, "unparsable_file": 1}
    with pytest.raises(FileNotFoundError, match="no source folder"):
        read_python_functions(tmp_path / "missing")


def test_split_by_module_keeps_modules_whole_and_is_seeded(tmp_path):
    for m in range(20):
        write(tmp_path, f"mod{m}.py", "".join(f"def fn_{m}_{k}():\n    return {k}\n" for k in range(3)))
    examples, _ = read_python_functions(tmp_path)
    train, val, test = split_by_module(examples, seed=1)
    modules = [{e.module for e in part} for part in (train, val, test)]
    assert len(train) + len(val) + len(test) == 60
    assert [len(m) for m in modules] == [16, 2, 2]
    assert not (modules[0] & modules[1] or modules[0] & modules[2] or modules[1] & modules[2])
    assert split_by_module(examples, seed=1) == (train, val, test)
    assert split_by_module(examples, seed=2) != (train, val, test)
    with pytest.raises(ValueError, match="summing to 1"):
        split_by_module(examples, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="at least 3 modules"):
        split_by_module(examples[:3])


# FunctionDef, arguments, arg, then 6 nodes a line: 3 + 6 * 60 = 363 nodes
BIG_BODY = "".join(f"    print(self.rows, {i})\n" for i in range(60))


def test_the_size_cap_applies_to_training_only(tmp_path):
    for m in range(20):
        write(tmp_path, f"mod{m}.py", "".join(f"def fn_{m}_{k}():\n    return {k}\n" for k in range(3)))
    small = split_by_module(read_python_functions(tmp_path)[0], seed=0)
    train_module, test_module = small[0][0].module, small[2][0].module
    for module, name in ((train_module, "train_big"), (test_module, "test_big")):
        with open(tmp_path / module, "a") as file:
            file.write(f"def {name}(self):\n{BIG_BODY}")
    examples, _ = read_python_functions(tmp_path)
    assert {e.name: len(e.node_types) for e in examples if "big" in e.name} == {"train_big": 363, "test_big": 363}
    train, val, test = split_by_module(examples, seed=0, max_train_nodes=150)
    assert "test_big" in [e.name for e in test] and len(test) == len(small[2]) + 1
    assert "train_big" not in [e.name for e in train] and len(train) == len(small[0])
    assert val == small[1]
    uncapped = split_by_module(examples, seed=0)
    assert "train_big" in [e.name for e in uncapped[0]]
    assert (uncapped[1], uncapped[2]) == (val, test)  # the cap never touches validation or test
    for cap in (1, 362, 363):  # nor which modules land where
        capped = split_by_module(examples, seed=0, max_train_nodes=cap)
        assert capped[1:] == (val, test) and {e.module for e in capped[0]} <= {e.module for e in train}
    assert len(split_by_module(examples, seed=0, max_train_nodes=363)[0]) == len(train) + 1
    assert split_by_module(examples, seed=0, max_train_nodes=1)[0] == []
    with pytest.raises(ValueError, match="max_train_nodes must be >= 1"):
        split_by_module(examples, max_train_nodes=0)


def test_the_standard_library_is_found():
    assert (stdlib_directory() / "ast.py").is_file()
