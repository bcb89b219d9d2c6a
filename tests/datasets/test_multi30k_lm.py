"""The Multi30k reader and the language-model experiment on a tiny corpus in the same layout."""
import gzip

import pytest

from graphrnn.datasets.multi30k import data_directory, read_lines
from graphrnn.experiments.language_model import load_corpus, results_table, run

SENTENCES = ["A dog runs in the park.", "Two men are talking.", "A dog and a man.", "The man runs."]


def write_corpus(root):
    folder = root / "multi30k"
    folder.mkdir()
    for split in ("train", "test_2016_flickr"):
        with gzip.open(folder / f"{split}.en.gz", "wt", encoding="utf-8") as stream:
            stream.write("\n".join(SENTENCES * 3) + "\n")
    (folder / "val.en").write_text("plain text works too\n")
    return folder


def test_read_lines_gz_and_plain(tmp_path):
    folder = write_corpus(tmp_path)
    assert read_lines(folder, "train", "en")[:2] == SENTENCES[:2]
    assert read_lines(folder, "train", "en", limit=3) == SENTENCES[:3]
    assert read_lines(folder, "val", "en") == ["plain text works too"]
    with pytest.raises(FileNotFoundError, match=r"expected .*test\.de\.gz or .*test\.de"):
        read_lines(folder, "test", "de")


def test_data_directory_errors_say_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHRNN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="set GRAPHRNN_DATA"):
        data_directory("multi30k")
    monkeypatch.setenv("GRAPHRNN_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="must point at the folder that holds 'multi30k/'"):
        data_directory("multi30k")
    write_corpus(tmp_path)
    assert data_directory("multi30k") == tmp_path / "multi30k"


def test_corpus_chains_are_framed_sentences(tmp_path):
    corpus = load_corpus(write_corpus(tmp_path))
    first = corpus.train[0]
    assert corpus.vocab.decode(first.x, strip_specials=False) == ["<bos>", "a", "dog", "runs", "in", "the", "park",
                                                                  ".", "<eos>"]
    assert first.edge_index.size(1) == first.num_nodes - 1 and len(corpus.test) == 12
    # validation words never enter the vocabulary: "plain text works too" is all <unk>
    assert corpus.vocab.decode(corpus.validation[0].x, strip_specials=False) == ["<bos>"] + ["<unk>"] * 4 + ["<eos>"]


def test_language_model_experiment_runs_end_to_end(tmp_path):
    result = run(write_corpus(tmp_path), epochs=2, hidden=16, samples=2)
    assert [r["model"] for r in result["rows"]] == ["unigram", "ngram", "rnn", "lstm"]
    assert all(1.0 < r["test_perplexity"] < result["vocab_size"] * 2 for r in result["rows"])
    assert all(1 <= r["best_epoch"] <= 2 for r in result["rows"][1:])
    assert (result["train_sentences"], result["validation_sentences"], result["test_sentences"]) == (12, 1, 12)
    assert set(result["samples"]) == {"rnn", "lstm"} and len(result["samples"]["lstm"]) == 2
    assert "Elman RNN" in results_table(result)


def test_read_lines_drops_byte_order_marks_and_windows_line_ends(tmp_path):
    (tmp_path / "train.en").write_bytes(("\ufeff" + "\r\n".join(SENTENCES) + "\r\n\r\n").encode("utf-8"))
    (tmp_path / "train.de").write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    assert read_lines(tmp_path, "train", "en") == read_lines(tmp_path, "train", "de") == SENTENCES
    assert read_lines(tmp_path, "train", "en", limit=2) == SENTENCES[:2]
