r"""``graphrnn train rnn --data FILE``: a classifier or a language model on your own sequences.

The file's name picks the model (:mod:`graphrnn.datasets.sequence_files`): a ``.csv``/``.tsv``
of ``sequence,label`` records trains a :class:`~graphrnn.models.SequenceClassifier`, a text
file of sentences a :class:`~graphrnn.models.NextStepPredictor` language model. The records
are split at random with a seeded generator into train / validation / test
(:data:`~graphrnn.datasets.text.HELD_OUT_FRACTION` each for test, then validation); the epoch
with the best validation score is kept (``<out>/best.pt``) and scored once on the test part,
beside a trivial baseline: the most frequent training label (classifier) or add-one smoothed
unigram frequencies over the model's own classes (language model;
:func:`~graphrnn.experiments.common.unigram_perplexity`, shared with the Multi30k experiment).
Perplexity is :math:`\exp` of the mean cross-entropy per predicted token (the words and ``<eos>``).

Everything fitted comes from the training part only: the vocabulary, the language model's length
cap, the baselines, and the classifier's labels. A validation or test record whose label never
occurs in training keeps its place: its target is
:data:`~graphrnn.experiments.objectives.UNSEEN_LABEL`, an index the model never outputs, so it is
scored as wrong (by the model and by the baseline) and left out of the cross-entropy.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from graphrnn.data import chain_graph
from graphrnn.data.vocab import Vocab
from graphrnn.datasets.sequence_files import is_labelled_file, read_labelled_sequences, read_sentences
from graphrnn.datasets.text import HELD_OUT_FRACTION, TextOptions, check_enough_to_cut, hold_out
from graphrnn.experiments.common import run_directory, unigram_perplexity
from graphrnn.experiments.objectives import UNSEEN_LABEL, classification_objectives
from graphrnn.models import NextStepPredictor, SequenceClassifier
from graphrnn.training import TrainConfig, Trainer

__all__ = ["CELLS", "train_on_file", "split_three", "training_labels", "label_targets", "train_classifier",
           "train_language_model", "unigram_perplexity"]

CELLS = ("rnn", "gru", "lstm")


def split_three(items: Sequence, seed: int, fraction: float = HELD_OUT_FRACTION,
                source: str = "") -> Tuple[list, list, list]:
    """``(train, val, test)``: ``fraction`` of the items cut at random as test (``seed``), then as val
    (``seed + 1``); ``source`` (the file) is named if there are too few."""
    check_enough_to_cut(len(items), ("test", "val"), source)
    rest, test = hold_out(items, fraction, seed, source)
    train, val = hold_out(rest, fraction, seed + 1, source)
    return train, val, test


def _config(epochs: int, seed: int, out: Path, device: str, resume: bool, progress: bool, monitor: str,
            mode: str) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=32, lr=5e-3, optimizer="adam", grad_clip=5.0, monitor=monitor,
                       mode=mode, seed=seed, device=device, out=out, resume=resume, progress=progress)


def _evaluate(trainer: Trainer, data: list) -> Dict[str, float]:
    trainer.eval_data = data
    return trainer.evaluate()


def training_labels(train: Sequence[Tuple[str, str]]) -> List[str]:
    """The classes a classifier trained on the ``(sequence, label)`` records ``train`` can predict:
    their labels, sorted (validation and test labels never enter)."""
    return sorted({label for _, label in train})


def label_targets(records: Sequence[Tuple[str, str]], labels: Sequence[str]) -> List[int]:
    """The target of each record: the index of its label in ``labels``, or
    :data:`~graphrnn.experiments.objectives.UNSEEN_LABEL` for a label not among them (scored as wrong,
    left out of the cross-entropy)."""
    index = {label: i for i, label in enumerate(labels)}
    return [index.get(label, UNSEEN_LABEL) for _, label in records]


def train_classifier(path: Path, cell: str = "lstm", hidden: int = 64, epochs: int = 10, seed: int = 0,
                     out: Optional[Path] = None, device: str = "auto", resume: bool = False,
                     text: TextOptions = TextOptions(), progress: bool = False) -> Dict[str, object]:
    """Trains a :class:`SequenceClassifier` on a ``sequence,label`` file; returns the result row.

    The labels (the model's classes) and the vocabulary come from the training part only; a
    validation or test record with a label unseen in training is scored as wrong (see the module
    docstring), and ``row["unseen_labels"]`` counts them per part.
    """
    train, val, test = split_three(read_labelled_sequences(path), seed, source=str(path))
    labels = training_labels(train)
    vocab = Vocab.build(text(sequence) for sequence, _ in train)

    def graphs(records):
        return [chain_graph(vocab.encode(text(s)), y=target)
                for (s, _), target in zip(records, label_targets(records, labels))]

    torch.manual_seed(seed)
    settings = dict(in_channels=len(vocab), hidden_channels=hidden, out_channels=len(labels), cell=cell, tokens=True)
    model = SequenceClassifier(**settings)
    loss_fn, metrics_fn = classification_objectives(lambda m, b: m(b.x, b.edge_index, b.batch))
    inference = {"kind": "sequence_classifier", "model_settings": settings, "vocab": vocab.to_list(),
                 "labels": labels, "text": text.to_dict()}
    with run_directory(out) as folder:
        trainer = Trainer(model, loss_fn, graphs(train), _config(epochs, seed, folder, device, resume, progress,
                                                                 "accuracy", "max"),
                          metrics_fn=metrics_fn, eval_data=graphs(val),
                          extra_state={"task": "rnn", "inference": inference})
        start = time.perf_counter()
        history = trainer.fit()
        trainer.load_best()
        test_scores = _evaluate(trainer, graphs(test))
    majority = Counter(label for _, label in train).most_common(1)[0][0]
    return {"kind": "classifier", "model": cell, "labels": len(labels), "vocab": len(vocab),
            "sizes": (len(train), len(val), len(test)), "epochs": len(history),
            "best_epoch": trainer.early_stopping.best_epoch, "seconds": time.perf_counter() - start,
            "val_accuracy": 100.0 * trainer.early_stopping.best, "test_accuracy": 100.0 * test_scores["accuracy"],
            "majority_label": majority,
            "majority_accuracy": 100.0 * sum(label == majority for _, label in test) / len(test),
            "unseen_labels": {name: label_targets(part, labels).count(UNSEEN_LABEL)
                              for name, part in (("val", val), ("test", test))}}


IGNORE = -100


def _lm_loss(model, batch, reduction: str):
    targets = NextStepPredictor.next_targets(batch.x, batch.edge_index, IGNORE)
    return nn.functional.cross_entropy(model(batch.x, batch.edge_index), targets, ignore_index=IGNORE,
                                       reduction=reduction), targets


def _lm_metrics(model, batch):
    loss, targets = _lm_loss(model, batch, "sum")
    return {"nll": loss, "count": (targets != IGNORE).sum().float()}


def train_language_model(path: Path, cell: str = "lstm", hidden: int = 64, epochs: int = 10, seed: int = 0,
                         out: Optional[Path] = None, device: str = "auto", resume: bool = False,
                         text: TextOptions = TextOptions(), progress: bool = False,
                         min_count: int = 1) -> Dict[str, object]:
    """Trains a :class:`NextStepPredictor` language model on a text file; returns the result row."""
    sentences = [text(line) for line in read_sentences(path)]
    train, val, test = split_three(sentences, seed, source=str(path))
    vocab = Vocab.build(train, min_count=min_count)

    train_graphs, val_graphs, test_graphs = ([chain_graph(vocab.encode(s, bos=True, eos=True)) for s in part]
                                             for part in (train, val, test))

    torch.manual_seed(seed)
    settings = dict(in_channels=len(vocab), hidden_channels=hidden, out_channels=len(vocab), cell=cell, tokens=True,
                    embedding_dim=max(hidden // 2, 1))
    model = NextStepPredictor(**settings)
    inference = {"kind": "language_model", "model_settings": settings, "vocab": vocab.to_list(),
                 "text": text.to_dict(), "max_len": max(len(s) for s in train) + 1}
    with run_directory(out) as folder:
        trainer = Trainer(model, lambda m, b: _lm_loss(m, b, "mean")[0], train_graphs,
                          _config(epochs, seed, folder, device, resume, progress, "nll", "min"),
                          metrics_fn=_lm_metrics, eval_data=val_graphs,
                          extra_state={"task": "rnn", "inference": inference})
        start = time.perf_counter()
        history = trainer.fit()
        trainer.load_best()
        test_scores = _evaluate(trainer, test_graphs)
    unigram = unigram_perplexity(train_graphs, test_graphs, len(vocab))  # the same classes as the model
    return {"kind": "language model", "model": cell, "vocab": len(vocab), "sizes": (len(train), len(val), len(test)),
            "epochs": len(history), "best_epoch": trainer.early_stopping.best_epoch,
            "seconds": time.perf_counter() - start, "val_perplexity": math.exp(trainer.early_stopping.best),
            "test_perplexity": math.exp(test_scores["nll"]), "unigram_perplexity": unigram}


def train_on_file(path: Path, cell: str = "lstm", **settings) -> Dict[str, object]:
    """A classifier for a ``.csv``/``.tsv`` file, a language model for any other file."""
    if cell not in CELLS:
        raise ValueError(f"--model {cell} reads fixed windows of real-valued rows; with --data FILE choose one of "
                         f"{CELLS}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not a file; --data for rnn is a .csv/.tsv of sequence,label records "
                                "(classification) or a text file of sentences (language model)")
    if is_labelled_file(path):
        return train_classifier(path, cell, **settings)
    return train_language_model(path, cell, **settings)


def summary(path: Path, row: Dict[str, object]) -> str:
    """The lines ``graphrnn train rnn --data`` prints."""
    train, val, test = row["sizes"]
    head = (f"{row['model']} {row['kind']} on {path}: {train} train / {val} val / {test} test (cut at random, "
            f"seeded), {row['vocab']} tokens; best validation epoch {row['best_epoch']} of {row['epochs']}")
    if row["kind"] == "classifier":
        unseen = row.get("unseen_labels", {}).get("test", 0)
        note = (f"; {unseen} test record(s) have a label never seen in training, scored as wrong" if unseen else "")
        return (f"{head}\ntest accuracy {row['test_accuracy']:.1f}% (validation {row['val_accuracy']:.1f}%); "
                f"baseline, always '{row['majority_label']}' (most frequent training label): "
                f"{row['majority_accuracy']:.1f}%{note}")
    return (f"{head}\ntest perplexity {row['test_perplexity']:.2f} (validation {row['val_perplexity']:.2f}); "
            f"baseline, add-one unigram frequencies: {row['unigram_perplexity']:.2f}")
