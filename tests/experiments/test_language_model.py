"""The Multi30k language-model experiment on a tiny corpus in the same file layout."""
import gzip
import json
import math

import pytest
import torch

from graphrnn.data.vocab import Vocab
from graphrnn.experiments import language_model as lm

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven"]


def _counting_sentences(count: int, generator: torch.Generator):
    """'two three four .': runs of consecutive numbers; the next word is a function of the previous."""
    lines = []
    for _ in range(count):
        start = int(torch.randint(0, 4, (1,), generator=generator))
        length = int(torch.randint(2, 5, (1,), generator=generator))
        lines.append(" ".join(WORDS[start:start + length]) + " .")
    return lines


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi30k")
    generator = torch.Generator().manual_seed(0)
    splits = {"train": _counting_sentences(300, generator), "val": _counting_sentences(40, generator),
              "test_2016_flickr": _counting_sentences(40, generator)}
    splits["val"].append("zebra one two .")  # a word never seen in training
    splits["test_2016_flickr"].append("quokka two three .")
    for split, lines in splits.items():
        with gzip.open(root / f"{split}.en.gz", "wt", encoding="utf-8") as stream:
            stream.write("\n".join(lines) + "\n")
    return root


def test_the_vocabulary_comes_from_the_training_split_only(corpus_dir):
    corpus = lm.load_corpus(corpus_dir, min_count=1)
    assert "zebra" not in corpus.vocab.stoi and "quokka" not in corpus.vocab.stoi
    assert set(corpus.vocab.itos[4:]) == set(WORDS[:7]) | {"."}
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (300, 41, 41)
    last_test = corpus.test[-1].x.view(-1).tolist()
    assert last_test[:3] == [Vocab.bos, Vocab.unk, corpus.vocab.stoi["two"]]


def test_unigram_perplexity_equals_a_hand_count():
    vocab_size = 6  # <pad> <bos> <eos> <unk> a b
    from torch_geometric.data import Data
    train = [Data(x=torch.tensor([[1], [4], [4], [5], [2]]))]  # <bos> a a b <eos>
    test = [Data(x=torch.tensor([[1], [5], [3], [2]]))]  # <bos> b <unk> <eos>
    # add-one counts over <eos> <unk> a b: 2, 1, 3, 2 -> total 8
    expected = math.exp(-(math.log(2 / 8) + math.log(1 / 8) + math.log(2 / 8)) / 3)
    assert lm.unigram_perplexity(train, test, vocab_size) == pytest.approx(expected)


def test_the_epoch_is_chosen_on_validation_and_test_is_read_with_its_weights(corpus_dir, tmp_path):
    corpus = lm.load_corpus(corpus_dir, min_count=1)
    row = lm.train_one("lstm", corpus, epochs=4, hidden=16, seed=0, device="cpu", out=tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    validation_nll = [r["nll"] for r in records]
    assert row["best_epoch"] == 1 + min(range(len(validation_nll)), key=validation_nll.__getitem__)
    assert row["validation_perplexity"] == pytest.approx(math.exp(min(validation_nll)))
    model = lm.build_model("lstm", len(corpus.vocab), 16)
    model.load_state_dict(torch.load(tmp_path / "best.pt", weights_only=False)["model"])
    model.eval()
    from graphrnn.data import DataLoader
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in DataLoader(corpus.test, batch_size=64):
            metrics = lm._metrics(model, batch)
            total, count = total + float(metrics["nll"]), count + float(metrics["count"])
    assert row["test_perplexity"] == pytest.approx(math.exp(total / count), rel=1e-5)


def test_the_lstm_beats_the_unigram_baseline_on_a_small_seeded_run(corpus_dir):
    result = lm.run(corpus_dir, models=("lstm",), epochs=15, hidden=32, seed=0, device="cpu", samples=2)
    unigram, lstm = result["rows"]
    assert unigram["model"] == "unigram" and lstm["model"] == "lstm"
    # the next word is the next number: an LSTM should predict far better than word frequencies
    assert lstm["test_perplexity"] < 0.6 * unigram["test_perplexity"]
    table = lm.results_table(result)
    assert "epoch chosen on validation" in table and "unigram frequencies" in table
    assert len(result["samples"]["lstm"]) == 2


def test_every_held_out_line_is_scored_even_an_empty_one(tmp_path):
    lines = {"train": ["one two .", "", "two three ."], "val": ["one .", "", "two ."],
             "test_2016_flickr": ["", "one ."]}
    for split, part in lines.items():
        (tmp_path / f"{split}.en").write_text("\n".join(part) + "\n", encoding="utf-8")
    corpus = lm.load_corpus(tmp_path, min_count=1)
    assert (len(corpus.train), len(corpus.validation), len(corpus.test)) == (2, 3, 2)  # the empty training line only
    assert corpus.test[0].x.view(-1).tolist() == [Vocab.bos, Vocab.eos]
    # the baseline scores the empty line's <eos> too: add-one counts <eos> 3, <unk> 1, one 2, two 3, three 2, . 3
    expected = math.exp(-(math.log(3 / 14) + math.log(2 / 14) + math.log(3 / 14) + math.log(3 / 14)) / 4)
    assert lm.unigram_perplexity(corpus.train, corpus.test, len(corpus.vocab)) == pytest.approx(expected)
