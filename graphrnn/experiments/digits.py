"""Sequence classification on scikit-learn's digits read row by row (8 steps of 8 pixels).

FeedForward (all 64 pixels at once, no recurrence) against Elman RNN, GRU and LSTM
classifiers over chain graphs, each trained by :class:`graphrnn.training.Trainer`.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.datasets.digits import split_digit_sequences
from graphrnn.experiments.objectives import classification_objectives
from graphrnn.models import FeedForward, SequenceClassifier
from graphrnn.training import TrainConfig, Trainer

__all__ = ["MODELS", "build_model", "train_one", "run", "results_table"]

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


def train_one(name: str, train, test, epochs: int, hidden: int, seed: int, out: Optional[Path] = None,
              progress: bool = False, device: str = "auto", resume: bool = False) -> Dict[str, float]:
    """Trains one model with :class:`~graphrnn.training.Trainer`; returns its result row.

    Its files (``checkpoint.pt``, ``best.pt``, ``metrics.jsonl``) go into ``out`` itself."""
    torch.manual_seed(seed)
    model = build_model(name, hidden)
    config = TrainConfig(epochs=epochs, batch_size=64, lr=5e-3, optimizer="adam", lr_schedule="cosine",
                         grad_clip=5.0, monitor="accuracy", mode="max", seed=seed, device=device,
                         out=out, progress=progress, resume=resume)
    trainer = Trainer(model, loss_fn, train, config, metrics_fn=metrics_fn, eval_data=test,
                      extra_state={"task": "digits", "model": name, "hidden": hidden,
                                   "inference": {"kind": "digits", "model": name, "hidden": hidden}})
    start = time.perf_counter()
    history = trainer.fit()
    seconds = time.perf_counter() - start
    last = history[-1]
    return {"model": name, "test_accuracy": 100.0 * last["accuracy"],
            "best_test_accuracy": 100.0 * max(h["accuracy"] for h in history),
            "parameters": sum(p.numel() for p in model.parameters()),
            "epochs": len(history), "seconds_per_epoch": seconds / len(history)}


def run(epochs: int = 30, hidden: int = 64, seed: int = 0, models=MODELS, out: Optional[Path] = None,
        progress: bool = False, device: str = "auto") -> List[Dict[str, float]]:
    """Trains every model on the same seeded split (files in ``out/<model>``); returns one result row per model."""
    train, test = split_digit_sequences(seed)
    return [train_one(name, train, test, epochs, hidden, seed, None if out is None else out / name, progress, device)
            for name in models]


def results_table(rows: List[Dict[str, float]]) -> str:
    """The rows of :func:`run` as a markdown table."""
    return markdown_table(["model", "test accuracy %", "best epoch %", "parameters", "s / epoch"],
                          [[r["model"], f"{r['test_accuracy']:.1f}", f"{r['best_test_accuracy']:.1f}",
                            r["parameters"], f"{r['seconds_per_epoch']:.2f}"] for r in rows])
