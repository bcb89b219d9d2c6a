"""Sequence classification on scikit-learn's digits read row by row (8 steps of 8 pixels).

FeedForward (all 64 pixels at once, no recurrence) against Elman RNN, GRU and LSTM
classifiers over chain graphs, each trained by :class:`graphrnn.training.Trainer`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.data import DataLoader
from graphrnn.datasets.digits import split_digit_sequences_with_validation
from graphrnn.experiments.common import run_directory
from graphrnn.experiments.objectives import classification_objectives
from graphrnn.models import FeedForward, SequenceClassifier
from graphrnn.training import TrainConfig, Trainer

__all__ = ["MODELS", "build_model", "train_one", "run", "results_table", "accuracy", "majority_row"]

MODELS = ("feedforward", "rnn", "gru", "lstm")


def build_model(name: str, hidden: int) -> nn.Module:
    if name == "feedforward":
        return FeedForward(8, hidden, 10, window=8)
    if name in ("rnn", "gru", "lstm"):
        return SequenceClassifier(8, hidden, 10, cell=name)
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def logits(model: nn.Module, batch) -> torch.Tensor:
    if isinstance(model, FeedForward):
        return model(batch.x, batch.edge_index, batch.batch, readout="last")
    return model(batch.x, batch.edge_index, batch.batch)


loss_fn, metrics_fn = classification_objectives(logits)


def train_one(name: str, train, validation, test, epochs: int, hidden: int, seed: int, out: Optional[Path] = None,
              progress: bool = False, device: str = "auto", resume: bool = False) -> Dict[str, float]:
    """Trains one model with :class:`~graphrnn.training.Trainer`; returns its result row.

    The epoch (and ``best.pt``) is chosen on ``validation`` accuracy; ``test`` is read once,
    with the chosen epoch's weights. Its files (``checkpoint.pt``, ``best.pt``,
    ``metrics.jsonl``) go into ``out`` itself (a temporary folder when ``out`` is ``None``)."""
    with run_directory(out) as folder:
        torch.manual_seed(seed)
        model = build_model(name, hidden)
        config = TrainConfig(epochs=epochs, batch_size=64, lr=5e-3, optimizer="adam", lr_schedule="cosine",
                             grad_clip=5.0, monitor="accuracy", mode="max", seed=seed, device=device,
                             out=folder, progress=progress, resume=resume)
        trainer = Trainer(model, loss_fn, train, config, metrics_fn=metrics_fn, eval_data=validation,
                          extra_state={"task": "digits", "model": name, "hidden": hidden,
                                       "inference": {"kind": "digits", "model": name, "hidden": hidden}})
        history = trainer.fit()
        trainer.load_best()
        test_accuracy = accuracy(trainer.model, test, trainer.device)
    chosen = trainer.early_stopping  # the epoch whose weights best.pt holds
    return {"model": name, "test_accuracy": test_accuracy, "best_epoch": chosen.best_epoch,
            "validation_accuracy": 100.0 * chosen.best,
            "parameters": sum(p.numel() for p in model.parameters()),
            # each epoch's own time: a resumed run's history holds the earlier process's epochs too
            "epochs": len(history), "seconds_per_epoch": sum(record["seconds"] for record in history) / len(history)}


@torch.no_grad()
def accuracy(model: nn.Module, data, device) -> float:
    """Accuracy (%) of ``model`` on ``data`` (read once)."""
    model.eval()
    batch = next(iter(DataLoader(list(data), batch_size=len(data)))).to(device)
    return 100.0 * float((logits(model, batch).argmax(-1) == batch.y).float().mean())


def majority_row(train, test) -> Dict[str, float]:
    """The trivial baseline: always the most frequent training class."""
    labels = torch.cat([g.y.view(-1) for g in train])
    majority = int(torch.bincount(labels).argmax())
    test_labels = torch.cat([g.y.view(-1) for g in test])
    return {"model": f"majority class ({majority})", "test_accuracy": 100.0 * float((test_labels == majority)
                                                                                    .float().mean())}


def run(epochs: int = 30, hidden: int = 64, seed: int = 0, models=MODELS, out: Optional[Path] = None,
        progress: bool = False, device: str = "auto") -> List[Dict[str, float]]:
    """Trains every model on the same seeded split (files in ``out/<model>``); returns one result row per model."""
    train, validation, test = split_digit_sequences_with_validation(seed)
    rows = [majority_row(train, test)]
    return rows + [train_one(name, train, validation, test, epochs, hidden, seed,
                             None if out is None else out / name, progress, device) for name in models]


def results_table(rows: List[Dict[str, float]]) -> str:
    """The rows of :func:`run` as a markdown table."""
    def cells(r):
        if "validation_accuracy" not in r:  # a rule, not trained
            return [r["model"], f"{r['test_accuracy']:.1f}", "-", "-", "-", "-"]
        return [r["model"], f"{r['test_accuracy']:.1f}", f"{r['validation_accuracy']:.1f}", r["best_epoch"],
                r["parameters"], f"{r['seconds_per_epoch']:.2f}"]

    return markdown_table(["model", "test accuracy % (epoch chosen on validation)", "validation accuracy %",
                           "chosen epoch", "parameters", "s / epoch"], [cells(r) for r in rows])
