"""scikit-learn's handwritten digits read row by row: 8 steps of 8 pixels per image.

The 1,797 8x8 images ship with scikit-learn (no download). Each image becomes a
:func:`~graphrnn.data.chain_graph` with 8 nodes (rows, top to bottom), node features the
8 pixel intensities scaled to [0, 1], and ``y`` the digit (0-9).
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch_geometric.data import Data

from graphrnn.data import chain_graph

__all__ = ["digit_sequences", "split_digit_sequences", "split_digit_sequences_with_validation"]


def digit_sequences() -> List[Data]:
    """All 1,797 digits as chain graphs of 8 rows (``x`` [8, 8] float, ``y`` scalar label)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.as_tensor(digits.images, dtype=torch.float32) / 16.0
    labels = torch.as_tensor(digits.target, dtype=torch.long)
    return [chain_graph(image, y=label) for image, label in zip(images, labels)]


def split_digit_sequences(seed: int = 0, test_fraction: float = 0.25) -> Tuple[List[Data], List[Data]]:
    """A seeded random train/test split of :func:`digit_sequences`."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    graphs = digit_sequences()
    order = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(seed)).tolist()
    cut = int(round(len(graphs) * (1.0 - test_fraction)))
    return [graphs[i] for i in order[:cut]], [graphs[i] for i in order[cut:]]


def split_digit_sequences_with_validation(seed: int = 0, test_fraction: float = 0.25,
                                          validation_fraction: float = 0.15
                                          ) -> Tuple[List[Data], List[Data], List[Data]]:
    """``(train, validation, test)``: the test split of :func:`split_digit_sequences` (the same
    images for the same seed), and a seeded ``validation_fraction`` of its training part held out
    to choose epochs and checkpoints, so that test is read once."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must lie in (0, 1), got {validation_fraction}")
    train, test = split_digit_sequences(seed, test_fraction)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + 1)).tolist()
    cut = int(round(len(train) * validation_fraction))
    return [train[i] for i in order[cut:]], [train[i] for i in order[:cut]], test
