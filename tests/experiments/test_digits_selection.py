"""Digits: the epoch is chosen on validation, test is read once, and a majority-class row stands beside."""
import torch

from graphrnn.datasets.digits import split_digit_sequences, split_digit_sequences_with_validation
from graphrnn.experiments import digits


def test_validation_is_cut_from_train_and_test_is_unchanged():
    train, validation, test = split_digit_sequences_with_validation(0)
    old_train, old_test = split_digit_sequences(0)
    assert test == old_test or all(torch.equal(a.x, b.x) for a, b in zip(test, old_test))
    assert len(train) + len(validation) == len(old_train) and len(validation) == 202
    ids = {id(g) for g in train}
    assert not any(id(g) in ids for g in validation)


def test_the_row_reports_test_at_the_epoch_chosen_on_validation(monkeypatch, tmp_path):
    train, validation, test = split_digit_sequences_with_validation(0)
    seen = []
    real_accuracy = digits.accuracy

    def recording_accuracy(model, data, device):
        seen.append(len(data))
        return real_accuracy(model, data, device)

    monkeypatch.setattr(digits, "accuracy", recording_accuracy)
    row = digits.train_one("gru", train[:600], validation[:80], test[:100], 8, 32, 0, out=tmp_path, device="cpu")
    assert seen == [100]  # test read once, after training
    history = [__import__("json").loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    val = [h["accuracy"] for h in history if "accuracy" in h]
    assert row["best_epoch"] == 1 + max(range(len(val)), key=val.__getitem__)
    assert abs(row["validation_accuracy"] - 100 * max(val)) < 1e-6
    majority = digits.majority_row(train, test)
    assert row["test_accuracy"] > majority["test_accuracy"] + 20  # learns: far above the majority class
    assert "chosen epoch" in digits.results_table([majority, row])
