"""Captioned strips of scikit-learn digits: shapes, captions matching the images, disjoint splits, seeding."""
import pytest
import torch
from sklearn.datasets import load_digits

from graphrnn.datasets import digit_caption_dataset
from graphrnn.datasets.digit_captions import NUMBER_WORDS


@pytest.fixture(scope="module")
def sklearn_digits():
    """Each flattened sklearn image (all 1,797 are distinct) -> its index and label."""
    digits = load_digits()
    images = torch.as_tensor(digits.images, dtype=torch.float32) / 16.0
    return {tuple(image.flatten().tolist()): (i, int(label)) for i, (image, label) in enumerate(zip(images,
                                                                                                  digits.target))}


def source_images(examples, sklearn_digits):
    """The sklearn indices used by a list of strips, checking each caption word against its image's label."""
    used = set()
    for image, caption in examples:
        for j, word in enumerate(caption):
            index, label = sklearn_digits[tuple(image[:, 8 * j:8 * j + 8].flatten().tolist())]
            assert word == NUMBER_WORDS[label]
            used.add(index)
    return used


def test_shapes_values_and_captions(sklearn_digits):
    examples = digit_caption_dataset(50, min_digits=2, max_digits=4, seed=3)
    assert len(examples) == 50
    assert {len(caption) for _, caption in examples} == {2, 3, 4}
    for image, caption in examples:
        assert image.dtype == torch.float32 and image.shape == (8, 8 * len(caption))
        assert 0.0 <= image.min() and image.max() <= 1.0
    source_images(examples, sklearn_digits)


def test_train_val_and_test_strips_never_share_a_digit_image(sklearn_digits):
    train = source_images(digit_caption_dataset(600, seed=0, split="train"), sklearn_digits)
    val = source_images(digit_caption_dataset(200, seed=0, split="val"), sklearn_digits)
    test = source_images(digit_caption_dataset(300, seed=0, split="test"), sklearn_digits)
    assert not train & val and not train & test and not val & test
    assert len(train) > 500 and len(val) > 200 and len(test) > 300  # every pool is well covered
    assert len(train | val | test) <= 1797 and len(val) <= 270 and len(test) <= 449  # pool sizes 1,078 / 270 / 449


def test_padding_to_a_fixed_width(sklearn_digits):
    padded = digit_caption_dataset(20, min_digits=1, max_digits=3, seed=1, pad=True)
    plain = digit_caption_dataset(20, min_digits=1, max_digits=3, seed=1)
    for (image, caption), (raw, same) in zip(padded, plain):
        assert caption == same and image.shape == (8, 24)
        assert torch.equal(image[:, :raw.size(1)], raw) and not image[:, raw.size(1):].any()


def test_seeded_and_global_state_untouched():
    before = torch.get_rng_state()
    first = digit_caption_dataset(10, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    again = digit_caption_dataset(10, seed=5)
    other = digit_caption_dataset(10, seed=6)
    assert all(torch.equal(a, b) and c == d for (a, c), (b, d) in zip(first, again))
    assert [c for _, c in first] != [c for _, c in other]


def test_errors():
    with pytest.raises(ValueError, match="num_examples must be >= 1"):
        digit_caption_dataset(0)
    with pytest.raises(ValueError, match="need 1 <= min_digits <= max_digits"):
        digit_caption_dataset(5, min_digits=3, max_digits=2)
    with pytest.raises(ValueError, match="split must be one of"):
        digit_caption_dataset(5, split="dev")
    with pytest.raises(TypeError, match="max_digits must be an integer"):
        digit_caption_dataset(5, max_digits=2.5)
