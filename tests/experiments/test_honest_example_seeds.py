"""Examples honour --seed: the same seed prints the same numbers, another seed other numbers."""
import argparse
import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMES = re.compile(r"\| [0-9.]+ \|$")  # the last column of these tables is seconds


def _example(name):
    spec = importlib.util.spec_from_file_location(f"{name}_seed_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _printed(capsys, main, args):
    main(args)
    return [TIMES.sub("|", line) for line in capsys.readouterr().out.splitlines()]


CASES = {
    "networkx_dag": lambda seed: argparse.Namespace(seed=seed),
    "sequence_hmm_tagging": lambda seed: argparse.Namespace(
        train_size=40, test_size=20, min_length=5, max_length=8, em_iterations=2, em_restarts=2, epochs=1, hidden=8,
        seed=seed, device="cpu", no_progress=True),
    "sequence_memory": lambda seed: argparse.Namespace(
        delays=[3], cells=["rnn", "lstm"], train_size=48, test_size=24, epochs=1, hidden=8, seed=seed, device="cpu",
        no_progress=True, plot=None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_seed_prints_the_same_numbers(name, capsys):
    main = _example(name).main
    first, again, other = (_printed(capsys, main, CASES[name](seed)) for seed in (3, 3, 4))
    assert first == again
    assert first != other
