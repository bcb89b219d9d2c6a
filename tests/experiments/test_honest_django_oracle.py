"""The Django table's oracle row: the gold test trees as the decoders' label vocabulary can write them."""
import pytest

from graphrnn.datasets import django as django_data
from graphrnn.datasets.django import _example
from graphrnn.experiments import drnn


def _splits():
    train = [_example("set x to 1", "x = 1"), _example("set x to 1", "x = 1"), _example("set y to 2", "y = 2")]
    test = [_example("set x to 1", "x = 1"), _example("set y to 1", "y = 1")]
    return {"train": train, "dev": test[:1], "test": test}


def test_the_ceiling_writes_labels_seen_too_rarely_in_training_as_unk_that_never_match():
    row = drnn.django_ceiling(_splits(), min_count=2)  # 'y' (and 2) seen once in training: <unk>
    # 'x = 1' is all known: right. 'y = 1' loses the node 'y' (8 of 9 nodes) and the edge (id, 'y') (7 of 8
    # edges); by parent label only every edge is found; its code holds <unk>, so it never matches.
    assert row["node_f1"] == pytest.approx(100 * (1 + 8 / 9) / 2)
    assert row["edge_f1"] == pytest.approx(100 * (1 + 7 / 8) / 2)
    assert row["edge_parent_f1"] == pytest.approx(100.0)
    assert row["exact_match"] == pytest.approx(50.0)
    assert drnn.django_ceiling(_splits(), min_count=1)["exact_match"] == pytest.approx(100.0)  # all known


def test_run_django_reports_the_oracle_row_beside_the_models_and_baselines(monkeypatch):
    splits = _splits()
    monkeypatch.setattr(django_data, "load_django", lambda directory, sizes, limits: ({**splits}, 0))

    def fake_model(name):
        return lambda splits, **settings: {"model_name": name, "model": None, "node_f1": 1.0, "edge_f1": 1.0,
                                           "edge_parent_f1": 1.0, "exact_match": 0.0, "train_trees": 3,
                                           "epochs": 1, "best_epoch": 1, "seconds": 0.0}

    monkeypatch.setattr(drnn, "train_seq2tree", fake_model("DRNN"))
    monkeypatch.setattr(drnn, "train_linearised_baseline", fake_model("Seq2Seq, linearised tree"))
    result = drnn.run_django(min_count=2)
    names = [row["model_name"] for row in result["rows"]]
    assert names[-1] == drnn.DJANGO_CEILING and names.count(drnn.DJANGO_CEILING) == 1
    assert result["rows"][-1]["exact_match"] == pytest.approx(50.0)
    assert drnn.DJANGO_CEILING in drnn.django_table(result) and "oracle" in drnn.django_table(result)
