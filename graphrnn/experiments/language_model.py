"""Next-word prediction on the English side of Multi30k: unigram vs n-gram window vs Elman RNN vs LSTM.

Each sentence is a chain ``<bos> w_1 ... w_n <eos>``; every node predicts the token
of its successor. Perplexity is :math:`\\exp` of the mean cross-entropy over the
predicted tokens (``w_1 ... w_n <eos>``). The vocabulary (training words seen at least
``min_count`` times; other words are ``<unk>``) comes from the training split only. Each
model's epoch (and ``best.pt``) is chosen on the validation split (``val``); the test split
(``test_2016_flickr``) is read once, with the chosen epoch's weights. The unigram row is the
trivial baseline: add-one smoothed training frequencies over the same vocabulary.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.data import chain_graph
from graphrnn.data.vocab import Vocab, tokenize
from graphrnn.datasets.multi30k import data_directory, read_lines
from graphrnn.experiments.common import run_directory, unigram_perplexity
from graphrnn.models import FeedForward, NextStepPredictor
from graphrnn.training import TrainConfig, Trainer

__all__ = ["MODELS", "Corpus", "load_corpus", "unigram_perplexity", "train_one", "run", "sample_sentences",
           "results_table"]

MODELS = ("ngram", "rnn", "lstm")
IGNORE = -100
NAMES = {"unigram": "unigram frequencies (add-one)", "ngram": "FeedForward 4-gram window", "rnn": "Elman RNN",
         "lstm": "LSTM"}


class Corpus(NamedTuple):
    """Chain graphs of the three splits and the training vocabulary."""

    train: list
    validation: list
    test: list
    vocab: Vocab


def load_corpus(directory=None, train_limit: Optional[int] = None, test_limit: Optional[int] = None,
                min_count: int = 2, validation_limit: Optional[int] = None) -> Corpus:
    """The splits ``<dir>/{train,val,test_2016_flickr}.en[.gz]`` as chain graphs, with a vocabulary
    of the training words seen at least ``min_count`` times (validation and test words never enter it).
    Empty training lines are left out; every validation and test line is kept (an empty one is
    ``<bos> <eos>``, its ``<eos>`` predicted and scored), so no held-out sentence is dropped."""
    root = data_directory("multi30k", directory)
    text = {split: [tokenize(line) for line in read_lines(root, split, "en", limit)]
            for split, limit in (("train", train_limit), ("val", validation_limit), ("test_2016_flickr", test_limit))}
    vocab = Vocab.build(text["train"], min_count=min_count)

    def graphs(sentences):
        return [chain_graph(vocab.encode(s, bos=True, eos=True)) for s in sentences]

    return Corpus(graphs([s for s in text["train"] if s]), graphs(text["val"]), graphs(text["test_2016_flickr"]),
                  vocab)


def build_model(name: str, vocab_size: int, hidden: int, window: int = 4) -> nn.Module:
    if name == "ngram":
        return FeedForward(vocab_size, hidden, vocab_size, window=window, tokens=True, embedding_dim=hidden // 2)
    if name in ("rnn", "lstm"):
        return NextStepPredictor(vocab_size, hidden, vocab_size, cell=name, tokens=True, embedding_dim=hidden // 2)
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def _token_loss(model, batch, reduction: str):
    logits = model(batch.x, batch.edge_index)
    targets = NextStepPredictor.next_targets(batch.x, batch.edge_index, IGNORE)
    return nn.functional.cross_entropy(logits, targets, ignore_index=IGNORE, reduction=reduction), targets


def _loss(model, batch):
    return _token_loss(model, batch, "mean")[0]


def _metrics(model, batch):
    loss, targets = _token_loss(model, batch, "sum")
    return {"nll": loss, "count": (targets != IGNORE).sum().float()}


def sample_sentences(model: NextStepPredictor, vocab: Vocab, count: int, generator: torch.Generator,
                     max_len: int = 30, temperature: float = 1.0) -> List[str]:
    """``count`` sentences sampled token by token from an RNN language model."""
    model.eval()
    tokens = torch.full((count,), vocab.bos, dtype=torch.long)
    state, rows = None, []
    with torch.no_grad():
        for _ in range(max_len):
            log_probs, state = model.step(tokens, state)
            probs = torch.softmax(log_probs / temperature, dim=-1)
            tokens = torch.multinomial(probs, 1, generator=generator).view(-1)
            rows.append(tokens)
    ids = torch.stack(rows, 1)
    return [" ".join(vocab.decode(row)) for row in ids]


def train_one(name: str, corpus: Corpus, epochs: int, hidden: int, seed: int, device: str = "auto",
              out: Optional[Path] = None, progress: bool = False) -> Dict[str, object]:
    """Trains one model (epoch chosen on validation perplexity) and tests it once; returns its row
    and the trained model (``"model"``, on the CPU)."""
    torch.manual_seed(seed)
    model = build_model(name, len(corpus.vocab), hidden)
    with run_directory(out) as folder:
        config = TrainConfig(epochs=epochs, batch_size=64, lr=2e-3, grad_clip=1.0, monitor="nll", mode="min",
                             seed=seed, device=device, out=folder, progress=progress)
        trainer = Trainer(model, _loss, corpus.train, config, metrics_fn=_metrics, eval_data=corpus.validation,
                          extra_state={"vocab": corpus.vocab.to_list()})
        start = time.perf_counter()
        history = trainer.fit()
        seconds = (time.perf_counter() - start) / len(history)
        trainer.load_best()
        trainer.eval_data = corpus.test
        test_nll = trainer.evaluate()["nll"]
    best = trainer.early_stopping.best_epoch
    return {"model": name, "test_perplexity": math.exp(test_nll),
            "validation_perplexity": math.exp(trainer.early_stopping.best), "best_epoch": best,
            "epochs": len(history), "parameters": sum(p.numel() for p in model.parameters()),
            "seconds_per_epoch": seconds, "trained": trainer.model.cpu()}


def run(directory=None, models: Sequence[str] = MODELS, train_limit: Optional[int] = None,
        test_limit: Optional[int] = None, epochs: int = 5, hidden: int = 256, seed: int = 0,
        device: str = "auto", samples: int = 3, progress: bool = False,
        validation_limit: Optional[int] = None) -> Dict[str, object]:
    """Test perplexity of the unigram baseline and of every model (epoch chosen on validation),
    and sentences sampled from the recurrent ones."""
    corpus = load_corpus(directory, train_limit, test_limit, validation_limit=validation_limit)
    vocab = corpus.vocab
    rows: List[Dict[str, object]] = [{
        "model": "unigram", "test_perplexity": unigram_perplexity(corpus.train, corpus.test, len(vocab)),
        "validation_perplexity": unigram_perplexity(corpus.train, corpus.validation, len(vocab))}]
    texts = {}
    for name in models:
        row = train_one(name, corpus, epochs, hidden, seed, device, progress=progress)
        model = row.pop("trained")
        rows.append(row)
        if isinstance(model, NextStepPredictor):
            texts[name] = sample_sentences(model, vocab, samples, torch.Generator().manual_seed(seed))
    return {"rows": rows, "samples": texts, "vocab_size": len(vocab), "train_sentences": len(corpus.train),
            "validation_sentences": len(corpus.validation), "test_sentences": len(corpus.test)}


def results_table(result: Dict[str, object]) -> str:
    """The rows of :func:`run` as a markdown table, then the sampled sentences."""
    def cells(r):
        trained = "best_epoch" in r
        return [NAMES[r["model"]], f"{r['test_perplexity']:.1f}", f"{r['validation_perplexity']:.1f}",
                f"{r['best_epoch']} of {r['epochs']}" if trained else "-",
                r["parameters"] if trained else "-", f"{r['seconds_per_epoch']:.1f}" if trained else "-"]

    table = markdown_table(["model", "test perplexity (epoch chosen on validation)", "validation perplexity",
                            "chosen epoch", "parameters", "s / epoch"], [cells(r) for r in result["rows"]])
    lines = [table, ""]
    for name, sentences in result["samples"].items():
        lines.append(f"Sampled from the {NAMES[name]}:")
        lines += [f"- {s}" for s in sentences]
    return "\n".join(lines)
