"""Long-range memory over growing delays: where the Elman RNN fails and the LSTM still learns.

For each delay, an Elman RNN, a GRU and two LSTM classifiers are trained on
:func:`graphrnn.datasets.memory.remember_first_dataset`; test accuracy is reported
beside two references computed on the same test set: the majority class of the
training labels (chance, about 25%) and the Bayes-optimal rule, which reads the first
symbol off the input (100%: the label is a function of it). There is no model selection:
each model is trained for the given epochs, and test is read once, after the last.

The two LSTMs differ only in the forget gate's initial bias: torch's default (about 0,
so the cell keeps :math:`\\approx 0.5^{k}` of its content over ``k`` steps at the start)
and 5 (:math:`\\approx 0.993^{k}`, see :func:`graphrnn.nn.set_forget_bias`); the additive
cell path only carries a signal across a long delay when the forget gate starts open. The
gradient norm :math:`\\|\\partial L_T / \\partial x_t\\|` against the
lag shows why (vanishing for the Elman RNN).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.data import DataLoader
from graphrnn.datasets.memory import remember_first_dataset
from graphrnn.diagnostics import gradient_norms_through_time
from graphrnn.experiments.objectives import classification_objectives
from graphrnn.models import SequenceClassifier
from graphrnn.nn import set_forget_bias
from graphrnn.training import TrainConfig, Trainer

__all__ = ["run", "reference_rows", "accuracy", "gradient_vs_lag", "plot_gradient_vs_lag", "accuracy_table",
           "gradient_table"]

#: The models compared: name -> (cell, forget-gate bias; ``None`` keeps torch's initialisation).
MODELS: Dict[str, Tuple[str, Optional[float]]] = {
    "rnn": ("rnn", None),
    "gru": ("gru", None),
    "lstm": ("lstm", None),
    "lstm-fb5": ("lstm", 5.0),
}
CELLS = tuple(MODELS)
#: Names of the two reference rows of every delay (see :func:`reference_rows`).
MAJORITY, BAYES_OPTIMAL = "majority class", "Bayes-optimal (reads the first symbol)"


_loss, _ = classification_objectives(lambda model, batch: model(batch.x, batch.edge_index, batch.batch))


def build_model(name: str, in_channels: int, hidden: int, num_classes: int = 4) -> SequenceClassifier:
    """The classifier called ``name`` in :data:`MODELS` (its forget bias set, if any)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}, got {name!r}")
    cell, forget_bias = MODELS[name]
    model = SequenceClassifier(in_channels, hidden, num_classes, cell=cell)
    if forget_bias is not None:
        for layer in model.encoder.forward_layers:
            set_forget_bias(layer.cell, forget_bias)
    return model


def train_cell(cell: str, delay: int, train, test, epochs: int, hidden: int, seed: int,
               device: str = "auto", progress: bool = False) -> Dict[str, float]:
    """Trains the model ``cell`` (a name of :data:`MODELS`) at one delay for ``epochs`` epochs (no
    selection: the last epoch) and reads ``test`` once, at the end; returns its row."""
    torch.manual_seed(seed)
    model = build_model(cell, train[0].x.size(1), hidden)
    config = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3, grad_clip=1.0, seed=seed, device=device,
                         progress=progress)
    start = time.perf_counter()
    trainer = Trainer(model, _loss, train, config)
    trainer.fit()
    seconds = time.perf_counter() - start
    return {"cell": cell, "delay": delay, "test_accuracy": accuracy(model, test, trainer.device),
            "seconds": seconds, "model": model}


@torch.no_grad()
def accuracy(model: SequenceClassifier, data, device) -> float:
    """Accuracy (%) of ``model`` on ``data``."""
    model.eval()
    correct = total = 0
    for batch in DataLoader(list(data), batch_size=500):
        batch = batch.to(device)
        correct += int((model(batch.x, batch.edge_index, batch.batch).argmax(-1) == batch.y).sum())
        total += batch.y.numel()
    return 100.0 * correct / total


def reference_rows(train, test, delay: int) -> List[Dict[str, float]]:
    """The two rows that do not learn, on ``test``: the most frequent training label (chance), and
    the Bayes-optimal rule, the symbol at step 0 of each sequence (the label is that symbol)."""
    labels = torch.stack([g.y.view(()) for g in train])
    majority = int(torch.bincount(labels).argmax())
    gold = torch.stack([g.y.view(()) for g in test])
    first_symbol = torch.stack([g.x[0].argmax() for g in test])
    return [{"cell": name, "delay": delay, "test_accuracy": 100.0 * float((gold == predicted).double().mean())}
            for name, predicted in ((MAJORITY, torch.full_like(gold, majority)), (BAYES_OPTIMAL, first_symbol))]


def run(delays: Sequence[int] = (5, 20, 50, 100), cells: Sequence[str] = CELLS, train_size: int = 1000,
        test_size: int = 500, epochs: int = 10, hidden: int = 32, seed: int = 0,
        device: str = "auto", progress: bool = False) -> List[Dict[str, float]]:
    """Test accuracy of every cell at every delay, and the :func:`reference_rows` of each delay;
    ``progress`` shows tqdm bars."""
    rows = []
    for delay in delays:
        generator = torch.Generator().manual_seed(seed * 1000 + delay)
        train = remember_first_dataset(train_size, delay, generator)
        test = remember_first_dataset(test_size, delay, generator)
        rows += reference_rows(train, test, delay)
        rows += [train_cell(cell, delay, train, test, epochs, hidden, seed, device, progress) for cell in cells]
    return rows


def gradient_vs_lag(models: Dict[str, SequenceClassifier], length: int = 100, seed: int = 0) -> Dict[str, torch.Tensor]:
    """:math:`\\|\\partial L_T / \\partial x_t\\|` against the lag ``T - t`` for each trained model.

    :math:`L_T` is the model's cross-entropy on one test sequence of ``length`` steps (a
    single-layer, forward-only classifier): how strongly the input ``t`` steps back, the
    symbol to remember included, can still move the prediction.
    """
    generator = torch.Generator().manual_seed(seed)
    sequence = remember_first_dataset(1, length - 1, generator)[0]
    norms = {}
    for name, model in models.items():
        cell = model.encoder.forward_layers[0].cell
        device = cell.weight_hh.device
        target = sequence.y.view(1).to(device)

        def loss(h_last, model=model, target=target):
            return nn.functional.cross_entropy(model.head(h_last), target)

        norms[name] = gradient_norms_through_time(cell, sequence.x.to(device), loss, wrt="input").flip(0).cpu()
    return norms


def plot_gradient_vs_lag(norms: Dict[str, torch.Tensor], path: Path) -> Optional[Path]:
    """Saves a log-scale plot of gradient norm against lag; returns ``None`` without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, values in norms.items():
        axis.semilogy(range(len(values)), values.clamp(min=1e-30).numpy(), label=name)
    axis.set_xlabel("lag T - t")
    axis.set_ylabel("||dL_T / dx_t||")
    axis.set_title("Gradient norm through time (trained models)")
    axis.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def accuracy_table(rows: List[Dict[str, float]]) -> str:
    """Test accuracy of :func:`run`'s rows, one line per delay, one column per cell, between the
    majority-class and Bayes-optimal columns (those present)."""
    columns = [c for c in (MAJORITY, *CELLS, BAYES_OPTIMAL) if any(r["cell"] == c for r in rows)]
    by_delay: Dict[int, Dict[str, float]] = {}
    for r in rows:
        by_delay.setdefault(r["delay"], {})[r["cell"]] = r["test_accuracy"]
    header = [f"{c} accuracy %" if c in CELLS else f"{c} %" for c in columns]
    return markdown_table(["delay", *header],
                          [[d] + [f"{v[c]:.1f}" if c in v else "-" for c in columns] for d, v in by_delay.items()])


def gradient_table(norms: Dict[str, torch.Tensor]) -> str:
    """Gradient norms of :func:`gradient_vs_lag` at a few lags."""
    longest = min(len(v) for v in norms.values()) - 1
    lags = [lag for lag in (0, 1, 5, 10, 20, 50, 100) if lag <= longest]
    return markdown_table(["cell"] + [f"lag {lag}" for lag in lags],
                          [[n] + [f"{float(v[lag]):.1e}" for lag in lags] for n, v in norms.items()])
