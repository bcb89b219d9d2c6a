"""Long-range memory task: remember the first symbol of a sequence across a delay.

Each sequence has ``delay + 1`` steps of one-hot symbols over ``num_symbols`` channels.
Step 0 holds the symbol to remember, drawn from the first ``num_classes`` symbols; the
following steps hold distractors drawn from the remaining symbols; the label is the
first symbol. A model must carry it for ``delay`` steps: chance is ``1 / num_classes``.
"""
from __future__ import annotations

from typing import List

import torch
from torch_geometric.data import Data

from graphrnn.data import chain_graph

__all__ = ["remember_first_dataset"]


def remember_first_dataset(num_sequences: int, delay: int, generator: torch.Generator, num_classes: int = 4,
                           num_distractors: int = 4) -> List[Data]:
    """``num_sequences`` chain graphs (``x`` [delay + 1, num_classes + num_distractors], ``y`` scalar)."""
    if delay < 1 or num_sequences < 1 or num_classes < 2 or num_distractors < 1:
        raise ValueError("need delay >= 1, num_sequences >= 1, num_classes >= 2 and num_distractors >= 1, got "
                         f"{delay}, {num_sequences}, {num_classes}, {num_distractors}")
    width = num_classes + num_distractors
    labels = torch.randint(0, num_classes, (num_sequences,), generator=generator)
    distractors = torch.randint(num_classes, width, (num_sequences, delay), generator=generator)
    symbols = torch.cat([labels[:, None], distractors], dim=1)
    x = torch.nn.functional.one_hot(symbols, width).float()
    return [chain_graph(x[i], y=labels[i]) for i in range(num_sequences)]
