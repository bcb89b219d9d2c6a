"""The DRNN's F1-vs-training-size table carries the flat and chain rules and the Bayes-optimal tree."""
import argparse
import importlib.util
from pathlib import Path

from graphrnn.experiments import drnn
from graphrnn.experiments.tree_rules import BAYES_OPTIMAL, RULES


def _row(trees, node, edge):
    return {"train_trees": trees, "node_f1": node, "edge_f1": edge, "epochs": 3, "seconds": 1.0}


def test_size_table_lists_the_reference_rows_after_the_sizes():
    reference = [{"model_name": name, "node_f1": 100.0, "edge_f1": edge}
                 for name, edge in zip([*RULES, BAYES_OPTIMAL], (28.0, 74.5, 89.0))]
    lines = drnn.size_table([_row(250, 68.4, 44.4), _row(500, 80.8, 58.2)], reference).splitlines()
    assert lines[2].startswith("| 250 | 68.4 | 44.4 | 3 |")
    assert [line.split(" | ")[0].lstrip("| ") for line in lines[4:]] == [*RULES, BAYES_OPTIMAL]
    assert lines[-1] == f"| {BAYES_OPTIMAL} | 100.0 | 89.0 | - | - |"


def test_the_example_prints_the_reference_rows_under_the_size_table(capsys):
    path = Path(__file__).resolve().parents[2] / "examples" / "tree_synthetic.py"
    spec = importlib.util.spec_from_file_location("tree_synthetic_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    args = argparse.Namespace(data=None, grammar="released", train_size=40, epochs=1, hidden=8, attention=None,
                              sizes=[20], seeds=[], plot=None, seed=0, device="cpu", no_progress=True)
    example.main(args)
    size_part = capsys.readouterr().out.split("F1 against training-set size")[1]
    assert "| 20 |" in size_part and BAYES_OPTIMAL in size_part and all(name in size_part for name in RULES)
