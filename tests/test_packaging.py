"""The README's two set-up commands, the CI script and the command line agree with each other."""
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from graphrnn import cli

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)?\n(.*?)\n```", quick_start, flags=re.S)


def test_readme_quick_start_has_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert all("\n" not in c for c in commands)
    assert "graphrnn reproduce --quick" in commands[0]
    assert "pytest" in commands[1]
    assert all("-c constraints.txt" in c for c in commands), "torch must be pinned by the constraints file"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_constraints_pin_torch():
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d", pins, flags=re.M)


def test_cli_help_lists_reproduce(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    assert "reproduce" in capsys.readouterr().out


def test_cli_reproduce_help_explains_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--help"])
    out = capsys.readouterr().out
    for option in ("--quick", "--out", "--seed", "--only"):
        assert option in out


def test_cli_rejects_unknown_experiment(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "--only", "nonsense"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "graphrnn", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "reproduce" in done.stdout


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    example = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["h"].shape == (4, 32)
    assert namespace["data"].edge_type_names == ["x", "y"]
    # the tree example is child-sum over the children (PARENT edges), node by node
    cell, x = namespace["up"].cell, namespace["x_tree"]
    children = {0: [1, 2], 1: [3], 2: [], 3: []}
    h, c = {}, {}
    for node in (3, 2, 1, 0):
        zeros = x.new_zeros(1, 32)
        h_in = sum((h[k] for k in children[node]), zeros)
        c_in = sum((c[k] for k in children[node]), zeros)
        h[node], c[node] = cell(x[node:node + 1], (h_in, c_in))
    torch.testing.assert_close(namespace["h"], torch.cat([h[v] for v in range(4)]), rtol=1e-5, atol=1e-6)
    assert namespace["h_batch"].shape == (16, 32)


def test_cli_train_help_lists_one_task_per_paper(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for task in ("rnn", "mixer", "drnn", "sim"):
        assert f"    {task} " in out


def test_cli_task_options_do_not_clobber_the_task_name():
    args = cli.build_parser().parse_args(["train", "mixer", "--task", "translation"])
    assert (args.train_task, args.task) == ("mixer", "translation")


@pytest.mark.parametrize("argv, expected", [
    (["mixer", "--task", "translation"], "must be the 'multi30k' folder itself"),
    (["drnn"], "is not a directory; pass a folder in the authors' layout"),
    (["sim"], "must be the 'volleyball' folder itself"),
])
def test_cli_train_with_a_missing_data_directory_says_what_to_pass(tmp_path, capsys, argv, expected):
    missing = tmp_path / "missing"
    code = cli.main(["train", *argv, "--quick", "--data", str(missing), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"graphrnn train {argv[0]}: error:" in err and expected in err


def test_test_files_have_unique_basenames():
    """tests/ has no __init__.py, so pytest imports each test file by its basename: two files with one name
    in different folders stop the whole suite at collection ('import file mismatch')."""
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
