"""``graphrnn train rnn --data FILE``: labels, vocabulary and baselines come from the training part only."""
import math
import random
from collections import Counter

import pytest
import torch

import graphrnn
from graphrnn.datasets.sequence_files import read_labelled_sequences
from graphrnn.datasets.text import TextOptions
from graphrnn.experiments import sequence_data
from graphrnn.experiments.objectives import UNSEEN_LABEL, classification_objectives

POSITIVE, NEGATIVE, FILLER = ["good", "great", "fine"], ["bad", "awful", "poor"], ["the", "movie", "was", "plot"]


def _reviews(count: int, seed: int):
    draw = random.Random(seed)
    records = []
    for _ in range(count):
        label = draw.choice(["pos", "neg"])
        words = [draw.choice(FILLER) for _ in range(draw.randint(1, 3))]
        words.insert(draw.randint(0, len(words)), draw.choice(POSITIVE if label == "pos" else NEGATIVE))
        records.append([" ".join(words), label])
    return records


def _write(path, records):
    path.write_text("".join(f"{s},{label}\n" for s, label in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def unseen_label_file(tmp_path_factory):
    """240 pos/neg reviews; one test record is relabelled 'rare' and one validation record 'odd': labels
    that no training record has (the split is by position, so relabelling does not move a record)."""
    folder = tmp_path_factory.mktemp("unseen")
    records = _reviews(240, seed=1)
    path = _write(folder / "reviews.csv", records)
    train, val, test = sequence_data.split_three(read_labelled_sequences(path), seed=0, source=str(path))
    test_at = next(i for i, r in enumerate(records) if tuple(r) == test[0])
    val_at = next(i for i, r in enumerate(records) if tuple(r) == val[0])
    records[test_at][1], records[val_at][1] = "rare", "odd"
    return _write(path, records)


@pytest.fixture(scope="module")
def trained(unseen_label_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    row = sequence_data.train_classifier(unseen_label_file, "gru", hidden=16, epochs=8, seed=0, out=out,
                                         device="cpu")
    return row, out / "best.pt"


def test_the_labels_are_those_of_the_training_part(unseen_label_file, trained):
    train, val, test = sequence_data.split_three(read_labelled_sequences(unseen_label_file), 0)
    assert "rare" in {label for _, label in test} and "odd" in {label for _, label in val}
    assert sequence_data.training_labels(train) == ["neg", "pos"]
    row, best = trained
    assert row["labels"] == 2  # was 4: val's 'odd' and test's 'rare' were classes the model could never learn
    saved = torch.load(best, weights_only=False)["extra_state"]["inference"]
    assert saved["labels"] == ["neg", "pos"] and saved["model_settings"]["out_channels"] == 2
    assert row["unseen_labels"] == {"val": 1, "test": 1}


def test_label_targets_mark_labels_missing_from_training():
    records = [("a", "pos"), ("b", "rare"), ("c", "neg")]
    assert sequence_data.label_targets(records, ["neg", "pos"]) == [1, UNSEEN_LABEL, 0]


def test_a_test_record_with_an_unseen_label_is_scored_as_wrong(unseen_label_file, trained):
    row, best = trained
    _, _, test = sequence_data.split_three(read_labelled_sequences(unseen_label_file), 0)
    model = graphrnn.load(best, device="cpu")
    predicted = model.predict([sequence for sequence, _ in test])
    gold = [label for _, label in test]
    assert "rare" in gold and "rare" not in predicted
    # every test record counts, the unseen one as a miss: not dropped from the denominator
    assert row["test_accuracy"] == pytest.approx(100.0 * sum(p == g for p, g in zip(predicted, gold)) / len(test))
    assert row["majority_accuracy"] == pytest.approx(100.0 * gold.count(row["majority_label"]) / len(test))
    assert "1 test record(s) have a label never seen in training" in sequence_data.summary(unseen_label_file, row)


def test_the_loss_leaves_unseen_labels_out_and_accuracy_counts_them_wrong():
    logits = torch.tensor([[2.0, 0.0], [0.0, 3.0], [5.0, 0.0]])
    batch = type("Batch", (), {"y": torch.tensor([0, UNSEEN_LABEL, 1])})()
    loss_fn, metrics_fn = classification_objectives(lambda model, b: logits)
    seen = -(torch.log_softmax(logits[0], 0)[0] + torch.log_softmax(logits[2], 0)[1])
    assert float(loss_fn(None, batch)) == pytest.approx(float(seen) / 2)
    metrics = metrics_fn(None, batch)
    assert float(metrics["loss"]) == pytest.approx(float(seen))
    assert float(metrics["accuracy"]) == 1.0 and float(metrics["count"]) == 3.0
    assert math.isfinite(float(metrics["loss"]))


def test_the_classifier_beats_its_majority_baseline_on_a_small_seeded_run(trained):
    row, _ = trained
    assert row["test_accuracy"] > row["majority_accuracy"] + 15


def test_text_options_reach_the_vocabulary(tmp_path):
    """The vocabulary is built from the training sequences as the tokenizer reads them."""
    path = _write(tmp_path / "cased.csv", [[f"Good{i % 2} movie", "pos" if i % 2 else "neg"] for i in range(30)])
    row = sequence_data.train_classifier(path, "rnn", hidden=4, epochs=1, seed=0, device="cpu",
                                         text=TextOptions("whitespace", lowercase=True))
    assert row["vocab"] == 4 + 3  # the specials, good0, good1, movie


def _vocabulary_unigram_perplexity(train, test, min_count):
    """Add-one unigram perplexity over the classes a language model with this vocabulary predicts: training
    words seen ``min_count`` times, ``<unk>`` for every other word, ``<eos>``."""
    kept = {w for w, c in Counter(w for s in train for w in s).items() if c >= min_count}

    def classes(sentence):
        return [w if w in kept else "<unk>" for w in sentence] + ["<eos>"]

    counts = Counter(c for s in train for c in classes(s))
    total = sum(counts.values()) + len(kept) + 2
    nll = [-math.log((counts[c] + 1) / total) for s in test for c in classes(s)]
    return math.exp(sum(nll) / len(nll))


def test_the_language_models_unigram_baseline_predicts_over_its_vocabulary(tmp_path):
    draw = random.Random(0)
    words = ["one", "two", "three", "four"]
    lines = [" ".join(words[:draw.randint(1, 4)] + [f"rare{i}"] * (i % 3 == 0)) for i in range(60)]
    path = tmp_path / "counting.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    row = sequence_data.train_language_model(path, "rnn", hidden=4, epochs=1, seed=0, device="cpu",
                                             text=TextOptions("whitespace"), min_count=2)
    train, _, test = (list(map(str.split, part)) for part in sequence_data.split_three(lines, 0))
    assert row["vocab"] == 4 + 4  # each rare<i> is seen once: <unk> for the model and for the baseline
    assert row["unigram_perplexity"] == pytest.approx(_vocabulary_unigram_perplexity(train, test, 2), rel=1e-12)
