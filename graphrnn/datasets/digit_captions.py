"""Captioning on real images: strips of scikit-learn digits captioned with their number words.

An example puts :math:`k` (``min_digits`` to ``max_digits``) of scikit-learn's 1,797 real 8x8
handwritten digits side by side, giving an image of 8 rows and :math:`8k` columns with
intensities in [0, 1], and the caption is the digits' English words left to right, e.g.
``["three", "one", "four"]``. The images are split once, by a fixed seeded permutation that
does not depend on ``seed``, into a train pool (60%), a validation pool (15%) and a test pool
(25%): strips of two different splits never share a digit image. ``seed`` only drives which
images and lengths are drawn.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphrnn.counts import is_int

__all__ = ["NUMBER_WORDS", "SPLITS", "digit_caption_dataset"]

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPLITS = ("train", "val", "test")
POOL_SEED, VAL_FRACTION, TEST_FRACTION = 1234, 0.15, 0.25


def _digit_pool(split: str) -> tuple[Tensor, Tensor]:
    """The images ``[M, 8, 8]`` in [0, 1] and labels ``[M]`` of one split's pool."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.as_tensor(digits.images, dtype=torch.float32) / 16.0
    labels = torch.as_tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(POOL_SEED))
    val_start = round(len(labels) * (1.0 - TEST_FRACTION - VAL_FRACTION))
    test_start = round(len(labels) * (1.0 - TEST_FRACTION))
    bounds = {"train": (0, val_start), "val": (val_start, test_start), "test": (test_start, len(labels))}
    start, stop = bounds[split]
    pool = order[start:stop]
    return images[pool], labels[pool]


def _check(num_examples: int, min_digits: int, max_digits: int, split: str) -> None:
    for name, value in (("num_examples", num_examples), ("min_digits", min_digits), ("max_digits", max_digits)):
        if not is_int(value):
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if num_examples < 1:
        raise ValueError(f"num_examples must be >= 1, got {num_examples}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got min_digits={min_digits}, max_digits={max_digits}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def digit_caption_dataset(num_examples: int, min_digits: int = 2, max_digits: int = 4, seed: int = 0,
                          split: str = "train", pad: bool = False) -> list[tuple[Tensor, list[str]]]:
    """``num_examples`` captioned digit strips.

    Args:
        num_examples: how many strips to draw.
        min_digits, max_digits: the number of digits per strip is uniform in this range.
        seed: seeds a private ``torch.Generator`` (the global random state is not touched).
        split: ``"train"``, ``"val"`` or ``"test"``: which of three disjoint pools of digit images
            (1,078 / 270 / 449 images) to draw from.
        pad: if ``True``, every image is padded on the right with zeros to ``8 * max_digits``
            columns (fixed-size inputs); otherwise it is exactly ``8 * k`` columns wide.

    Returns:
        ``(image, caption)`` pairs: image float ``[8, 8 k]`` (or ``[8, 8 max_digits]``) in [0, 1],
        caption the ``k`` number words.
    """
    _check(num_examples, min_digits, max_digits, split)
    images, labels = _digit_pool(split)
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_digits, max_digits + 1, (num_examples,), generator=generator)
    picks = torch.randint(0, len(labels), (int(lengths.sum()),), generator=generator).split(lengths.tolist())
    examples = []
    for pick in picks:
        strip = torch.cat(list(images[pick]), dim=1)
        if pad:
            strip = torch.nn.functional.pad(strip, (0, 8 * max_digits - strip.size(1)))
        examples.append((strip, [NUMBER_WORDS[d] for d in labels[pick].tolist()]))
    return examples
