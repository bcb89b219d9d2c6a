"""Next-word prediction on the English side of Multi30k: n-gram window vs Elman RNN vs LSTM.

Each sentence is a chain ``<bos> w_1 ... w_n <eos>``; every node predicts the token
of its successor. Perplexity is :math:`\\exp` of the mean cross-entropy over the
predicted tokens (``w_1 ... w_n <eos>``) of the test split (test_2016_flickr).
"""
from __future__ import annotations

import math
import time
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from graphrnn.bench import markdown_table
from graphrnn.data import chain_graph
from graphrnn.data.vocab import Vocab, tokenize
from graphrnn.datasets.multi30k import data_directory, read_lines
from graphrnn.models import FeedForward, NextStepPredictor
from graphrnn.training import TrainConfig, Trainer

__all__ = ["MODELS", "load_corpus", "run", "sample_sentences", "results_table"]

MODELS = ("ngram", "rnn", "lstm")
IGNORE = -100


def load_corpus(directory=None, train_limit: Optional[int] = None, test_limit: Optional[int] = None,
                min_count: int = 2):
    """(train graphs, test graphs, vocabulary) from ``<dir>/{train,test_2016_flickr}.en[.gz]``."""
    root = data_directory("multi30k", directory)
    train_text = [tokenize(line) for line in read_lines(root, "train", "en", train_limit)]
    test_text = [tokenize(line) for line in read_lines(root, "test_2016_flickr", "en", test_limit)]
    vocab = Vocab.build(train_text, min_count=min_count)

    def graphs(sentences):
        return [chain_graph(vocab.encode(s, bos=True, eos=True)) for s in sentences if s]

    return graphs(train_text), graphs(test_text), vocab


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


def run(directory=None, models: Sequence[str] = MODELS, train_limit: Optional[int] = None,
        test_limit: Optional[int] = None, epochs: int = 5, hidden: int = 256, seed: int = 0,
        device: str = "auto", samples: int = 3, progress: bool = False) -> Dict[str, object]:
    """Test perplexity of every model, and sentences sampled from the recurrent ones."""
    train, test, vocab = load_corpus(directory, train_limit, test_limit)
    rows, texts = [], {}
    for name in models:
        torch.manual_seed(seed)
        model = build_model(name, len(vocab), hidden)
        config = TrainConfig(epochs=epochs, batch_size=64, lr=2e-3, grad_clip=1.0, monitor="nll", mode="min",
                             seed=seed, device=device, progress=progress)
        start = time.perf_counter()
        history = Trainer(model, _loss, train, config, metrics_fn=_metrics, eval_data=test,
                          extra_state={"vocab": vocab.to_list()}).fit()
        seconds = (time.perf_counter() - start) / len(history)
        rows.append({"model": name, "perplexity": math.exp(history[-1]["nll"]),
                     "best_perplexity": math.exp(min(h["nll"] for h in history)),
                     "parameters": sum(p.numel() for p in model.parameters()), "seconds_per_epoch": seconds})
        if isinstance(model, NextStepPredictor):
            texts[name] = sample_sentences(model.cpu(), vocab, samples, torch.Generator().manual_seed(seed))
    return {"rows": rows, "samples": texts, "vocab_size": len(vocab), "train_sentences": len(train),
            "test_sentences": len(test)}


def results_table(result: Dict[str, object]) -> str:
    names = {"ngram": "FeedForward 4-gram window", "rnn": "Elman RNN", "lstm": "LSTM"}
    table = markdown_table(["model", "test perplexity", "best epoch", "parameters", "s / epoch"],
                           [[names[r["model"]], f"{r['perplexity']:.1f}", f"{r['best_perplexity']:.1f}",
                             r["parameters"], f"{r['seconds_per_epoch']:.1f}"] for r in result["rows"]])
    lines = [table, ""]
    for name, sentences in result["samples"].items():
        lines.append(f"Sampled from the {names[name]}:")
        lines += [f"- {s}" for s in sentences]
    return "\n".join(lines)
