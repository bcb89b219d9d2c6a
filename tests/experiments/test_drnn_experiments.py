"""The DRNN experiment end to end on tiny data: CLI task (train, resume) with the reference rows, the
DRNN against the flat rule, scoring, tables, Django with dev selection for both models."""
import argparse
import gzip
import json

import pytest

from graphrnn.datasets.django import DjangoExample, ast_to_tree, parse_code
from graphrnn.datasets.synthetic_trees import generate_dataset, write_dataset
from graphrnn.experiments import drnn
from graphrnn.experiments.tree_rules import BAYES_OPTIMAL, MOST_FREQUENT, NEAREST_NEIGHBOUR, reference_rows


def args_for(tmp_path, **overrides):
    values = dict(quick=False, epochs=1, data=str(tmp_path / "data"), out=str(tmp_path / "out"), resume=False,
                  device="cpu", seed=0, hidden=16, train_size=None, batch_size=16, lr=2e-3)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_cli_task_trains_on_a_directory_and_resumes(tmp_path):
    write_dataset(tmp_path / "data", generate_dataset(seed=0, sizes=(40, 10, 10)))
    parser = argparse.ArgumentParser()
    drnn.add_arguments(parser)
    assert parser.parse_args(["--hidden", "8"]).hidden == 8
    message = drnn.run_task(args_for(tmp_path))
    assert "test node F1" in message and "after 1 epochs on 40 trees" in message
    assert "| flat rule (all under ROOT) | 100.0 |" in message and "| chain rule" in message
    assert BAYES_OPTIMAL not in message  # data from a directory: the grammar is unknown
    assert "edge F1 % (parent label only, authors' eval)" in message
    with pytest.warns(UserWarning, match="cosine schedule over 1 epochs; it now spans 2"):
        message = drnn.run_task(args_for(tmp_path, epochs=2, resume=True))
    assert "after 2 epochs" in message
    history = [json.loads(line) for line in (tmp_path / "out" / "model" / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]


def test_cli_task_with_attention(tmp_path):
    write_dataset(tmp_path / "data", generate_dataset(seed=0, sizes=(40, 10, 10)))
    parser = argparse.ArgumentParser()
    drnn.add_arguments(parser)
    assert parser.parse_args(["--attention", "mlp"]).attention == "mlp"
    message = drnn.run_task(args_for(tmp_path, attention="mlp"))
    assert "test node F1" in message
    row = drnn.run(tmp_path / "data", epochs=2, hidden=8, device="cpu", attention="mlp")
    assert row["model_name"] == "DRNN + mlp attention" and row["attention"] == "mlp"
    dev = row["dev_edge_f1_by_epoch"]  # tested at the epoch of best dev edge F1
    assert len(dev) == 2 and row["best_epoch"] == 1 + dev.index(max(dev))
    with pytest.raises(ValueError, match="bidirectional encoders double the width"):  # dot needs width H
        drnn.run(tmp_path / "data", epochs=1, hidden=8, device="cpu", attention="dot")


@pytest.mark.slow  # generates the full 5,000-tree synthetic set and the MAP trees of its 500 test trees
@pytest.mark.parametrize("grammar", ["released", "deep"])
def test_cli_task_generates_data_without_data_dir(tmp_path, grammar):
    message = drnn.run_task(args_for(tmp_path, data=None, train_size=30, quick=True, grammar=grammar))
    assert (tmp_path / "out" / "data" / "test" / "t.parents").is_file()
    assert (tmp_path / "out" / "data" / "GRAMMAR").read_text() == f"{grammar} 0\n"
    assert "on 30 trees" in message and f"'{grammar}' grammar" in message
    for name in ("| flat rule (all under ROOT) |", "| chain rule (each under the previous) |", f"| {BAYES_OPTIMAL} |"):
        assert name in message


@pytest.mark.slow  # ~20 s on one quiet core: 10 epochs over 300 trees
def test_drnn_beats_the_flat_rule_on_a_small_seeded_run():
    splits = generate_dataset(seed=0, sizes=(300, 40, 80), grammar="deep")
    flat = reference_rows(splits["test"])[0]
    assert flat["model_name"].startswith("flat rule")
    row = drnn.train_seq2tree(splits, epochs=10, hidden=32, seed=0, device="cpu", batch_size=16, lr=1e-2)
    assert row["edge_f1"] > flat["edge_f1"] + 5  # measured: 40.1 against 30.0
    assert row["node_f1"] < 100.0  # unlike the rules, the decoder must still learn to emit the letters


def test_score_trees_with_exact_match():
    gold = [DjangoExample(["return"], *ast_to_tree(parse_code("return x")), "return x"),
            DjangoExample(["return"], *ast_to_tree(parse_code("return y")), "return y")]
    predicted = [ast_to_tree(parse_code("return x")), (["Return", "value", "<unk>"], [-1, 0, 1])]
    scores = drnn.score_trees(predicted, gold, skip_root=False)
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["node_precision"] == pytest.approx((100 + 100 * 2 / 3) / 2)


def test_tables_and_plot(tmp_path):
    row = dict(model_name="DRNN", node_precision=80.0, node_recall=70.0, node_f1=74.7, edge_precision=60.0,
               edge_recall=50.0, edge_f1=54.5, edge_parent_f1=58.0, train_trees=100, epochs=3, seconds=1.0,
               best_epoch=2)
    rule = {**row, "model_name": "flat rule (all under ROOT)", "best_epoch": "-"}
    table = drnn.results_table([row, rule])
    assert "| DRNN | 74.7 | 60.0 | 50.0 | 54.5 | 58.0 | 2 |" in table
    assert "| flat rule (all under ROOT) | 74.7 | 60.0 | 50.0 | 54.5 | 58.0 | - |" in table
    assert "epoch (chosen on dev)" in table and drnn.results_table(row) in table
    assert "| 100 | 74.7 | 54.5 | 3 | 1 |" in drnn.size_table([row])
    path = drnn.plot_f1_vs_size([row, {**row, "train_trees": 200}], tmp_path / "f1.png")
    assert path.stat().st_size > 1000


def test_seeds_table_lists_every_run_and_the_mean_per_model():
    rows = [{"model_name": "DRNN", "seed": s, "node_f1": 80.0 + s, "edge_f1": 70.0 + 2 * s, "edge_parent_f1": 75.0,
             "best_epoch": 3} for s in (0, 1, 2)]
    rows.append({"model_name": "DRNN + mlp attention", "seed": 0, "node_f1": 90.0, "edge_f1": 80.0,
                 "edge_parent_f1": 81.0, "best_epoch": 5})
    table = drnn.seeds_table(rows)
    assert "| **DRNN, mean of 3** | 0-2 | **81.0** (80.0-82.0) | **72.0** (70.0-74.0) | **75.0** (75.0-75.0) |" in table
    assert "| DRNN + mlp attention | 0 | 90.0 | 80.0 | 81.0 | 5 |" in table


def test_over_seeds_runs_once_per_seed_with_the_rules(tmp_path):
    write_dataset(tmp_path / "data", generate_dataset(seed=0, sizes=(30, 10, 10)))
    rows = drnn.over_seeds([0, 1], tmp_path / "data", epochs=1, hidden=8, device="cpu")
    models = [r for r in rows if r["model_name"] == "DRNN"]
    assert [r["seed"] for r in models] == [0, 1] and all(r["train_trees"] == 30 for r in models)
    assert [r["model_name"][:10] for r in rows if r["seed"] == 0] == ["DRNN", "flat rule ", "chain rule"]


def test_decoding_caps_read_off_the_training_trees():
    examples = generate_dataset(seed=0, sizes=(50, 0, 0))["train"]
    caps = drnn.decoding_caps(examples)
    depths = [0] * max(len(e.labels) for e in examples)
    deepest = 0
    for e in examples:
        for node, parent in enumerate(e.parents):
            depths[node] = 0 if parent < 0 else depths[parent] + 1
        deepest = max(deepest, max(depths[:len(e.parents)]))
    assert caps.max_depth == deepest
    assert caps.max_children == max(e.parents.count(v) for e in examples for v in range(len(e.parents)))
    assert caps.max_nodes == 2 * max(len(e.labels) for e in examples)


@pytest.mark.parametrize("attention", [None, "mlp"])
def test_django_comparison_on_a_tiny_sample(tmp_path, attention):
    code = ["x = 1", "return x", "y = x", "return y", "f ( x )", "x = 2", "return 1", "y = 1", "else :", "f ( y )"]
    anno = [f"line {i} ." for i in range(len(code))]
    folder = tmp_path / "django"
    folder.mkdir()
    for name, lines in (("all.anno.gz", anno), ("all.code.gz", code)):
        with gzip.open(folder / name, "wt") as stream:
            stream.write("".join(line + "\n" for line in lines))
    result = drnn.run_django(folder, sizes=(6, 2, 2), epochs=2, hidden=8, device="cpu", min_count=1,
                             attention=attention)
    suffix = "" if attention is None else " + mlp attention"
    assert [r["model_name"] for r in result["rows"]] == ["DRNN" + suffix, "Seq2Seq, linearised tree" + suffix,
                                                          MOST_FREQUENT, NEAREST_NEIGHBOUR, drnn.DJANGO_CEILING]
    oracle = result["rows"][-1]  # min_count 1: every label of the test line is in the vocabulary
    assert oracle["node_f1"] == oracle["edge_f1"] == oracle["exact_match"] == pytest.approx(100.0)
    assert result["dropped_lines"] == 1 and result["test_examples"] == 1  # "else :" was a test line
    # every training source is "line i .", so Jaccard ties at 2/4 and both baselines give the first
    # training tree, "x = 1" (9 nodes, 8 edges), for the test line "f ( y )" (11 nodes, 10 edges).
    # Shared: the nodes Name, id, value (3); the (parent, child) edge (Name, id) (1); the parent
    # labels Name, id, value (3)
    for row in result["rows"][2:4]:
        assert (row["node_precision"], row["node_recall"]) == pytest.approx((300 / 9, 300 / 11))
        assert (row["edge_precision"], row["edge_recall"]) == pytest.approx((100 / 8, 100 / 10))
        assert (row["edge_parent_precision"], row["edge_parent_recall"]) == pytest.approx((300 / 8, 300 / 10))
        assert row["exact_match"] == 0.0 and row["best_epoch"] == "-"
    for row in result["rows"][:2]:  # both models are tested at their best dev epoch
        dev = row["dev_edge_f1_by_epoch"]
        assert len(dev) == 2 and row["best_epoch"] == 1 + dev.index(max(dev))
    table = drnn.django_table(result)
    assert "exact match %" in table and "1 lines dropped" in table and "epoch (chosen on dev)" in table
    assert f"| {NEAREST_NEIGHBOUR} | 30.0 |" in table  # node F1 of 1/3 and 3/11


def test_a_label_seen_only_in_test_is_not_in_the_vocabulary_and_its_node_is_missed():
    """Labels, words and caps come from the training trees: a letter that only a test tree has gets no class,
    and its node is scored as a miss (the tree is kept), without crashing training or dev scoring."""
    from graphrnn.datasets.synthetic_trees import TreeExample

    def tree(letters):
        return TreeExample(list(letters), ["ROOT", *letters], [-1] + [0] * len(letters))

    train = [tree("ab"), tree("ba"), tree("a"), tree("b")] * 4
    splits = {"train": train, "dev": [tree("az")], "test": [tree("z"), tree("ab")]}
    source_vocab, label_vocab = drnn.vocabularies(train)
    assert "z" not in label_vocab.stoi and "z" not in source_vocab.stoi
    row = drnn.train_seq2tree(splits, epochs=1, hidden=8, device="cpu")
    assert row["labels"] == len(label_vocab) == 4 + 3  # the specials, ROOT, a, b
    assert row["test_trees"] == 2 and row["caps"] == list(drnn.decoding_caps(train))
    # the 'z' tree's one node can never be predicted: node recall is at most 2 of the 3 test nodes
    assert row["node_recall"] <= 100.0 * 2 / 3 + 1e-9
