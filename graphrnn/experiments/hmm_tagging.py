"""Sequence labelling where the truth is known: data sampled from an HMM.

The Bayes-optimal tagger is the true model's posterior (forward-backward). Against it:
an HMM learned by EM from the symbols alone (its states matched to the true ones by
the Hungarian algorithm on the training set), an HMM fitted to the labelled training
sequences, and bidirectional Elman RNN and LSTM taggers trained on the labels. Two
taggers that ignore the context are the trivial baselines: the most frequent training
state everywhere, and the most frequent training state of each symbol.

Nothing is selected on test: EM keeps the restart with the best training likelihood,
the neural taggers are trained for the given epochs and kept at the last one, and the
test set is read once per tagger, at the end.
"""
from __future__ import annotations

import time
from typing import Dict, List, Sequence

import torch

from graphrnn.bench import markdown_table
from graphrnn.data import DataLoader
from graphrnn.datasets.hmm import sample_hmm_dataset, sequence_labelling_hmm
from graphrnn.experiments.objectives import classification_objectives
from graphrnn.models import SequenceTagger
from graphrnn.nn.hmm import HMM
from graphrnn.training import TrainConfig, Trainer

__all__ = ["run", "results_table", "hmm_accuracy", "match_states", "symbol_baselines", "tagger_accuracy"]


def _batches(data, batch_size: int = 256):
    return DataLoader(data, batch_size=batch_size)


def hmm_accuracy(hmm: HMM, data, permutation: torch.Tensor = None) -> float:
    """Accuracy (%) of posterior decoding, learned states mapped by ``permutation``."""
    correct = total = 0
    with torch.no_grad():
        for batch in _batches(data):
            states = hmm.posterior(batch).argmax(-1)
            if permutation is not None:
                states = permutation[states]
            correct += int((states == batch.y).sum())
            total += batch.y.numel()
    return 100.0 * correct / total


def match_states(hmm: HMM, data) -> torch.Tensor:
    """The learned-state -> true-state map maximising agreement on ``data`` (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    size = hmm.num_states
    confusion = torch.zeros(size, size, dtype=torch.long)
    with torch.no_grad():
        for batch in _batches(data):
            learned = hmm.posterior(batch).argmax(-1)
            confusion += torch.bincount(learned * size + batch.y, minlength=size * size).view(size, size)
    rows, cols = linear_sum_assignment(-confusion.numpy())
    permutation = torch.empty(size, dtype=torch.long)
    permutation[torch.as_tensor(rows)] = torch.as_tensor(cols)
    return permutation


_tagger_loss, _ = classification_objectives(lambda model, batch: model(batch.x, batch.edge_index))


def train_tagger(cell: str, train, test, epochs: int, hidden: int, seed: int, device: str = "auto",
                 progress: bool = False) -> float:
    """Trains a bidirectional tagger for ``epochs`` epochs (no selection: the last epoch) and
    returns its accuracy (%) on ``test``, read once at the end."""
    torch.manual_seed(seed)
    model = SequenceTagger(8, hidden, 4, cell=cell, bidirectional=True, tokens=True, embedding_dim=16)
    config = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, grad_clip=5.0, seed=seed, device=device,
                         progress=progress)
    trainer = Trainer(model, _tagger_loss, train, config)
    trainer.fit()
    return tagger_accuracy(model, test, trainer.device)


@torch.no_grad()
def tagger_accuracy(model: SequenceTagger, data, device="cpu") -> float:
    """Accuracy (%) of ``model``'s most probable state at every position of ``data``."""
    model.eval()
    correct = total = 0
    for batch in _batches(data):
        batch = batch.to(device)
        correct += int((model(batch.x, batch.edge_index).argmax(-1) == batch.y).sum())
        total += batch.y.numel()
    return 100.0 * correct / total


def symbol_baselines(train, test, num_states: int, num_symbols: int) -> List[Dict[str, object]]:
    """The two taggers that ignore the context, as rows: the most frequent training state at every
    position, and the most frequent training state of each symbol (the majority state for a
    symbol never seen in training)."""
    symbols, states = (torch.cat([getattr(g, key).view(-1) for g in train]) for key in ("x", "y"))
    majority = int(torch.bincount(states, minlength=num_states).argmax())
    counts = torch.bincount(symbols * num_states + states, minlength=num_symbols * num_states)
    counts = counts.view(num_symbols, num_states)
    per_symbol = torch.where(counts.sum(1) > 0, counts.argmax(1), torch.tensor(majority))
    test_symbols, test_states = (torch.cat([getattr(g, key).view(-1) for g in test]) for key in ("x", "y"))
    taggers = {f"majority state ({majority}) everywhere": torch.full_like(test_states, majority),
               "most frequent state of each symbol (training counts)": per_symbol[test_symbols]}
    return [{"model": name, "accuracy": 100.0 * float((tags == test_states).double().mean()), "seconds": 0.0}
            for name, tags in taggers.items()]


def fit_em_restarts(num_states: int, num_symbols: int, train, iterations: int, restarts: int, seed: int,
                    progress: bool = False):
    """Baum-Welch from ``restarts`` seeded random starts, ``iterations`` each (no early stop: EM on HMMs
    crawls across long plateaus); the fit with the best likelihood wins."""
    best, best_history = None, None
    for restart in range(restarts):
        model = HMM(num_states, num_symbols, generator=torch.Generator().manual_seed(seed * 100 + restart)).double()
        history = model.fit_em(_batches(train, 2000), num_iterations=iterations, tol=None, progress=progress)
        if best is None or history[-1] > best_history[-1]:
            best, best_history = model, history
    return best, best_history


def run(train_size: int = 2000, test_size: int = 500, lengths: Sequence[int] = (20, 60), em_iterations: int = 300,
        epochs: int = 10, hidden: int = 32, seed: int = 0, device: str = "auto",
        em_restarts: int = 3, progress: bool = False) -> List[Dict[str, object]]:
    """Accuracy (%) on the test set of every tagger; returns one row per tagger."""
    truth = sequence_labelling_hmm()
    generator = torch.Generator().manual_seed(seed)
    train = sample_hmm_dataset(truth, train_size, lengths[0], lengths[1], generator)
    test = sample_hmm_dataset(truth, test_size, lengths[0], lengths[1], generator)
    rows = [{"model": "Bayes-optimal (true HMM posterior)", "accuracy": hmm_accuracy(truth, test), "seconds": 0.0},
            *symbol_baselines(train, test, truth.num_states, truth.num_symbols)]

    start = time.perf_counter()
    learned, history = fit_em_restarts(truth.num_states, truth.num_symbols, train, em_iterations, em_restarts, seed,
                                       progress)
    permutation = match_states(learned, train)
    rows.append({"model": f"HMM learned by EM (best of {em_restarts} starts, {len(history) - 1} iterations, "
                          "symbols only)",
                 "accuracy": hmm_accuracy(learned, test, permutation), "seconds": time.perf_counter() - start})

    start = time.perf_counter()
    supervised = HMM(truth.num_states, truth.num_symbols).double().fit_supervised(train, smoothing=1.0)
    rows.append({"model": "HMM fitted to labelled sequences", "accuracy": hmm_accuracy(supervised, test),
                 "seconds": time.perf_counter() - start})

    for cell, name in (("rnn", "Elman RNN tagger (bidirectional)"), ("lstm", "LSTM tagger (bidirectional)")):
        start = time.perf_counter()
        accuracy = train_tagger(cell, train, test, epochs, hidden, seed, device, progress)
        rows.append({"model": name, "accuracy": accuracy, "seconds": time.perf_counter() - start})
    bayes = rows[0]["accuracy"]
    for row in rows:
        row["gap_to_bayes"] = bayes - row["accuracy"]
    return rows


def results_table(rows: List[Dict[str, object]]) -> str:
    """The rows of :func:`run` (no selection on test: each tagger is read once on test, at the end)."""
    return markdown_table(["tagger", "test accuracy % (no selection: last epoch / iteration)",
                           "points below Bayes-optimal", "training s"],
                          [[r["model"], f"{r['accuracy']:.1f}", f"{r['gap_to_bayes']:.1f}", f"{r['seconds']:.1f}"]
                           for r in rows])
