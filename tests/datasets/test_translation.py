"""The parallel-corpus reader on tiny corpora written in the Multi30k layout."""
import gzip
import os

import pytest

from graphrnn.datasets import read_parallel

GERMAN = ["Ein Hund rennt im Park.", "Zwei Männer reden.", "Ein Hund und ein Mann."]
ENGLISH = ["A dog runs in the park.", "Two men are talking.", "A dog and a man."]


def write(path, lines, compress=False):
    text = "\n".join(lines) + "\n"
    if compress:
        with gzip.open(path.with_name(path.name + ".gz"), "wt", encoding="utf-8") as stream:
            stream.write(text)
    else:
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "multi30k"
    folder.mkdir()
    write(folder / "train.de", GERMAN, compress=True)
    write(folder / "train.en", ENGLISH, compress=True)
    write(folder / "val.de", GERMAN[:2])  # plain text works too, and gz and plain can be mixed
    write(folder / "val.en", ENGLISH[:2], compress=True)
    write(folder / "bad.de", GERMAN)
    write(folder / "bad.en", ENGLISH[:2])
    return folder


def test_pairs_are_line_aligned(corpus):
    assert read_parallel(corpus, "train") == list(zip(GERMAN, ENGLISH))
    assert read_parallel(corpus, "val") == list(zip(GERMAN[:2], ENGLISH[:2]))
    assert read_parallel(corpus, "train", source="en", target="de") == list(zip(ENGLISH, GERMAN))
    assert read_parallel(corpus, "train", limit=2) == list(zip(GERMAN[:2], ENGLISH[:2]))


def test_default_directory_is_graphrnn_data(corpus, monkeypatch):
    monkeypatch.setenv("GRAPHRNN_DATA", str(corpus.parent))
    assert read_parallel(None, "train") == list(zip(GERMAN, ENGLISH))


def test_errors(corpus, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="bad.de has 3 lines but bad.en has 2"):
        read_parallel(corpus, "bad")
    with pytest.raises(FileNotFoundError, match=r"expected .*test\.de\.gz or .*test\.de"):
        read_parallel(corpus, "test")
    with pytest.raises(ValueError, match="limit must be None or a positive integer"):
        read_parallel(corpus, "train", limit=0)
    with pytest.raises(ValueError, match="source and target must be different"):
        read_parallel(corpus, "train", source="en", target="en")
    monkeypatch.delenv("GRAPHRNN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="set GRAPHRNN_DATA"):
        read_parallel(None, "train")


@pytest.mark.skipif(not os.path.isdir(os.path.join(os.environ.get("GRAPHRNN_DATA", "/nonexistent"), "multi30k")),
                    reason="the real Multi30k files are not under $GRAPHRNN_DATA")
def test_real_multi30k_validation_split():
    pairs = read_parallel(None, "val")
    assert len(pairs) == 1014 and all(de and en for de, en in pairs)  # the published size
