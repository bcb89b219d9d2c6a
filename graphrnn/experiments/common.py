"""Helpers shared by the experiment modules."""
from __future__ import annotations

import contextlib
import math
import tempfile
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import torch

from graphrnn.data.vocab import Vocab

__all__ = ["run_directory", "predicted_tokens", "unigram_perplexity"]


@contextlib.contextmanager
def run_directory(out: Optional[Union[str, Path]]) -> Iterator[Path]:
    """``out`` as a ``Path``, or, when it is ``None``, a temporary directory removed on exit
    (for runs whose checkpoints are only needed until their best epoch is read back)."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def predicted_tokens(sentences: Sequence) -> torch.Tensor:
    """Every token a language model predicts in chain graphs ``<bos> w_1 ... w_n <eos>`` (``x`` the
    token ids): all but each chain's leading ``<bos>``."""
    return torch.cat([g.x.view(-1)[1:] for g in sentences])


def unigram_perplexity(train: Sequence, test: Sequence, vocab_size: int) -> float:
    r"""Perplexity on ``test`` of add-one smoothed unigram frequencies of ``train``: the trivial
    baseline of every language model here (Multi30k and ``graphrnn train rnn --data FILE``).

    Both are chain graphs ``<bos> w_1 ... w_n <eos>`` encoded with the training vocabulary of
    ``vocab_size`` ids, so the baseline predicts over the same classes as the models, the tokens a
    model can predict: the vocabulary's words, ``<unk>`` (every word outside the vocabulary, rare
    training words included) and ``<eos>``; ``<pad>`` and ``<bos>`` get no mass. With :math:`c_v`
    the count of :math:`v` among the predicted training tokens and :math:`V` those classes,

    .. math::
        p(v) = \frac{c_v + 1}{\sum_{u \in V} c_u + |V|}, \qquad
        \mathrm{PPL} = \exp\Big(-\frac{1}{N} \sum_{t=1}^{N} \log p(v_t)\Big)

    over the :math:`N` predicted test tokens (words and one ``<eos>`` per sentence).
    """
    counts = torch.bincount(predicted_tokens(train), minlength=vocab_size).double() + 1.0
    counts[[Vocab.pad, Vocab.bos]] = 0.0
    log_probs = (counts / counts.sum()).log()
    return math.exp(-float(log_probs[predicted_tokens(test)].mean()))
