"""Method-name experiment: code2seq's metric, the baselines, and a small seeded run on a corpus we write."""
import random

import pytest

from graphrnn.data.vocab import Vocab
from graphrnn.datasets.python_ast import read_python_functions, split_by_module
from graphrnn.experiments.method_names import (
    MODELS,
    describe,
    frequency_baseline,
    results_table,
    run,
    subtoken_scores,
    vocabulary_ceiling,
)
from graphrnn.reproduce import EXPERIMENTS

WORDS = ["name", "size", "color", "path", "value", "count", "owner", "title"]
KINDS = [("get_{w}", "(self)", "    return self._{w}\n"),
         ("set_{w}", "(self, {w})", "    self._{w} = {w}\n"),
         ("reset_{w}", "(self)", "    self._{w} = None\n    self.changed = True\n"),
         ("print_{w}", "(self)", "    for line in self._{w}:\n        print(line)\n")]


def write_corpus(folder, modules=20, per_module=15, seed=0):
    """Modules of accessor-like functions: the name is the kind of body plus the attribute it touches."""
    rng = random.Random(seed)
    for m in range(modules):
        functions = []
        for _ in range(per_module):
            word = rng.choice(WORDS)
            name, arguments, body = rng.choice(KINDS)
            functions.append(f"def {name.format(w=word)}{arguments.format(w=word)}:\n{body.format(w=word)}\n")
        (folder / f"module_{m}.py").write_text("".join(functions))


def test_subtoken_scores_is_code2seqs_micro_metric():
    predictions = [["get", "name"], ["set", "size", "size"], []]
    golds = [["get", "file", "name"], ["set", "value"], ["close"]]
    # tp: get, name, set = 3; fp: size, size = 2; fn: file, value, close = 3
    scores = subtoken_scores(predictions, golds)
    assert scores.precision == pytest.approx(3 / 5) and scores.recall == pytest.approx(3 / 6)
    assert scores.f1 == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert subtoken_scores([[]], [["x"]]).f1 == 0.0
    with pytest.raises(ValueError, match="one prediction per gold name"):
        subtoken_scores([["a"]], [])


def test_frequency_baseline_and_vocabulary_ceiling():
    from graphrnn.datasets.python_ast import FunctionExample

    train = [FunctionExample([], [], [], target, "", "") for target in (["get", "x"], ["get", "y"], ["set", "x"])]
    scores, k = frequency_baseline(train, [["get", "z"]], [["get", "x"], ["close"]])
    assert k == 1 and scores.precision == pytest.approx(0.5) and scores.recall == pytest.approx(1 / 3)
    ceiling = vocabulary_ceiling([["get", "x"], ["close"]], Vocab(["get", "x"]))
    assert ceiling.precision == 1.0 and ceiling.recall == pytest.approx(2 / 3)


def test_tree_model_learns_and_beats_the_baselines_on_a_small_seeded_run(tmp_path):
    write_corpus(tmp_path)
    result = run(root=tmp_path, seed=0, epochs=8, hidden=32, lr=1e-2, dropout=0.0,
                 models=[MODELS[0], MODELS[3]], log=lambda message: None)
    assert result["counts"] == [240, 30, 30]
    frequency, tree, types_only, ceiling = result["rows"]
    assert tree["model"].startswith("tree") and types_only["model"] == "bag of node types"
    losses = [h["train_loss"] for h in tree["history"]]
    assert losses[-1] < 0.5 * losses[0]
    assert tree["f1"] > frequency["f1"] + 0.2
    assert tree["f1"] > types_only["f1"]  # the types alone cannot tell which attribute is touched
    assert ceiling["f1"] == 1.0 and tree["parameters"] > 0 and tree["train_seconds"] > 0
    table = results_table(result)
    assert table.count("\n") == 5 and "| tree (Child-Sum Tree-LSTM) |" in table


def test_a_big_test_function_is_scored_and_a_big_training_function_left_out(tmp_path):
    write_corpus(tmp_path)
    examples, _ = read_python_functions(tmp_path)
    train, val, test = split_by_module(examples, seed=0)
    big_body = "".join(f"    print(self._name, {i})\n" for i in range(60))  # 3 + 6 * 60 = 363 AST nodes
    for module, name in ((train[0].module, "tabulate_rows"), (test[0].module, "summarize_everything")):
        with open(tmp_path / module, "a") as file:
            file.write(f"def {name}(self):\n{big_body}")
    result = run(root=tmp_path, seed=0, epochs=1, hidden=8, models=[MODELS[2]], max_train_nodes=150,
                 log=lambda message: None)
    assert result["counts"] == [240, 30, 31] and result["train_over_cap"] == 1
    assert result["largest_tree"] == [max(len(e.node_types) for e in part) for part in (train, val)] + [363]
    frequency, bag, ceiling = result["rows"]
    # 30 small test names of 2 subtokens, all in the vocabulary, and the big one's 2 unseen subtokens
    assert ceiling["recall"] == pytest.approx(60 / 62) and ceiling["precision"] == 1.0
    assert 0 < bag["recall"] <= 60 / 62 and bag["val_f1"] >= 0
    assert "training functions over 150 AST nodes left out (1)" in describe(result)
    assert "largest test tree 363 nodes" in describe(result)


def test_registered_in_reproduce():
    assert "method_names" in EXPERIMENTS
