"""Node inputs of sequence models: real-valued features, or token ids through an embedding."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphrnn.counts import is_positive_int

__all__ = ["SequenceInput"]


class SequenceInput(nn.Module):
    """Passes real features ``[N, D]`` through, or embeds token ids ``[N]``.

    Args:
        in_channels (int): features per node, or the vocabulary size when ``tokens=True``.
        tokens (bool): inputs are token ids.
        embedding_dim (int, optional): embedding size for tokens (required with ``tokens``).
    """

    def __init__(self, in_channels: int, tokens: bool = False, embedding_dim: Optional[int] = None) -> None:
        super().__init__()
        if tokens and not embedding_dim:
            raise ValueError("token inputs need an embedding_dim")
        if not is_positive_int(in_channels):
            what = "the vocabulary size, as tokens=True" if tokens else "the features per element"
            raise ValueError(f"in_channels must be a positive integer ({what}), got {in_channels!r}")
        in_channels = int(in_channels)
        self.in_channels = in_channels
        self.tokens = tokens
        self.embedding = nn.Embedding(in_channels, embedding_dim) if tokens else None
        self.out_channels = embedding_dim if tokens else in_channels

    def reset_parameters(self) -> None:
        if self.embedding is not None:
            self.embedding.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        if not self.tokens:
            if x.dim() != 2 or x.size(1) != self.in_channels or not x.is_floating_point():
                raise ValueError(f"x must be a float tensor [N, in_channels={self.in_channels}], got "
                                 f"{x.dtype} {list(x.shape)}; pass tokens=True for token ids")
            return x
        if x.dim() != 1 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"token inputs must be a LongTensor [N] of ids, got {x.dtype} {list(x.shape)}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.in_channels):
            bad = int(x.min()) if int(x.min()) < 0 else int(x.max())
            raise ValueError(f"token id {bad} is outside the vocabulary of {self.in_channels} tokens "
                             "(map unknown words to <unk> first)")
        return self.embedding(x)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, tokens={self.tokens}"
