"""Honest numbers, experiment by experiment: the epoch/checkpoint is chosen on validation only, and the
test split is scored once per decoder, after the selection, never inside training.

Every test wraps the scorers an experiment uses and records, for each call, whether it scored the
test split and whether training (``Trainer.fit`` or the experiment's own loop) was running. A test
split scored while training runs, or more than once per model and decoder, fails the test; so does a
chosen epoch that moves when only the test split changes (selection that peeks at test).
"""
import random

import torch

from graphrnn.data import chain_graph
from graphrnn.data.vocab import Vocab
from graphrnn.training import Trainer


class TrainerProbe:
    """Records every ``Trainer`` evaluation as ``("eval", data, inside_fit)`` (``data``: the ``eval_data``
    it read) and every ``("fit", "start"/"end")``."""

    def __init__(self, monkeypatch):
        self.events, self.fitting = [], 0
        real_fit, real_eval = Trainer.fit, Trainer._eval_metrics
        probe = self

        def fit(trainer):
            probe.fitting += 1
            probe.events.append(("fit", "start"))
            try:
                return real_fit(trainer)
            finally:
                probe.fitting -= 1
                probe.events.append(("fit", "end"))

        def eval_metrics(trainer):
            probe.events.append(("eval", trainer.eval_data, probe.fitting > 0))
            return real_eval(trainer)

        monkeypatch.setattr(Trainer, "fit", fit)
        monkeypatch.setattr(Trainer, "_eval_metrics", eval_metrics)

    def read(self, inside_fit: bool):
        """The data of every evaluation inside (or outside) ``fit``."""
        return [e[1] for e in self.events if e[0] == "eval" and e[2] == inside_fit]

    def assert_held_out_after_fit(self):
        """Every evaluation outside ``fit`` comes right after a fit ended (or after another such evaluation)."""
        for index, event in enumerate(self.events):
            if event[0] == "eval" and not event[2]:
                before = self.events[index - 1]
                assert before == ("fit", "end") or (before[0] == "eval" and not before[2]), self.events


# ------------------------------------------------------------------ language model (Multi30k experiment)
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven"]


def _counting(count, seed):
    draw = random.Random(seed)
    lines = []
    for _ in range(count):
        start, length = draw.randint(0, 3), draw.randint(2, 4)
        lines.append(WORDS[start:start + length] + ["."])
    return lines


def _lm_corpus(test_seed=2):
    from graphrnn.experiments.language_model import Corpus

    train, validation, test = _counting(200, 0), _counting(30, 1), _counting(30, test_seed)
    vocab = Vocab.build(train)

    def graphs(sentences):
        return [chain_graph(vocab.encode(s, bos=True, eos=True)) for s in sentences]

    return Corpus(graphs(train), graphs(validation), graphs(test), vocab)


def test_language_model_scores_test_once_after_choosing_the_epoch_on_validation(monkeypatch):
    from graphrnn.experiments import language_model

    probe = TrainerProbe(monkeypatch)
    corpus = _lm_corpus()
    row = language_model.train_one("lstm", corpus, epochs=3, hidden=16, seed=0, device="cpu")
    inside, after = probe.read(inside_fit=True), probe.read(inside_fit=False)
    assert len(inside) == 3 and all(data is corpus.validation for data in inside)  # every epoch, on validation
    assert len(after) == 1 and after[0] is corpus.test  # test: once, after the selection
    probe.assert_held_out_after_fit()
    assert 1 <= row["best_epoch"] <= 3


def test_language_model_selection_does_not_move_with_the_test_split():
    from graphrnn.experiments import language_model

    rows = [language_model.train_one("rnn", _lm_corpus(test_seed), epochs=3, hidden=16, seed=0, device="cpu")
            for test_seed in (2, 3)]
    assert rows[0]["best_epoch"] == rows[1]["best_epoch"]
    assert rows[0]["validation_perplexity"] == rows[1]["validation_perplexity"]
    assert rows[0]["test_perplexity"] != rows[1]["test_perplexity"]  # the test split did change


# ------------------------------------------------------------------ graphrnn train rnn --data FILE
def _review_file(path, count=150, seed=0):
    draw = random.Random(seed)
    lines = []
    for _ in range(count):
        label = draw.choice(["pos", "neg"])
        words = [draw.choice(["the", "movie", "was"]) for _ in range(draw.randint(1, 3))]
        words.insert(draw.randint(0, len(words)), draw.choice(["good", "great"] if label == "pos" else ["bad", "poor"]))
        lines.append(f"{' '.join(words)},{label}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_own_file_classifier_and_language_model_score_test_once_after_fit(monkeypatch, tmp_path):
    from graphrnn.experiments import sequence_data

    text = tmp_path / "sentences.txt"
    text.write_text("\n".join(" ".join(s) for s in _counting(150, 5)) + "\n", encoding="utf-8")
    for train in (sequence_data.train_classifier, sequence_data.train_language_model):
        probe = TrainerProbe(monkeypatch)
        path = _review_file(tmp_path / "reviews.csv") if train is sequence_data.train_classifier else text
        row = train(path, "gru", hidden=8, epochs=2, seed=0, device="cpu")
        _, validation, test = row["sizes"]
        assert validation != test  # so the sizes tell the two apart
        inside, after = probe.read(inside_fit=True), probe.read(inside_fit=False)
        assert [len(data) for data in inside] == [validation, validation]  # each epoch, on validation
        assert [len(data) for data in after] == [test]  # test: once, after the selection
        probe.assert_held_out_after_fit()


# ------------------------------------------------------------------ DRNN tree recovery and Django's baseline
def _tree_splits(test_seed=None):
    from graphrnn.datasets.synthetic_trees import generate_dataset

    splits = generate_dataset(0, sizes=(80, 20, 20))
    if test_seed is not None:
        splits["test"] = generate_dataset(test_seed, sizes=(0, 0, 20), grammar=None)["test"]
    return splits


def _record_scorer(monkeypatch, module, name, test_examples, fitting):
    """Wraps ``module.name(..., examples, ...)``: records whether it scored ``test_examples`` and whether a fit ran."""
    calls = []
    real = getattr(module, name)

    def scorer(*args, **kwargs):
        examples = args[2] if name == "retrieval" else args[1]
        calls.append((examples is test_examples, fitting[0] > 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, scorer)
    return calls


def _fit_counter(monkeypatch):
    fitting = [0]
    real_fit = Trainer.fit

    def fit(trainer):
        fitting[0] += 1
        try:
            return real_fit(trainer)
        finally:
            fitting[0] -= 1

    monkeypatch.setattr(Trainer, "fit", fit)
    return fitting


def test_drnn_decodes_test_once_after_choosing_the_epoch_on_dev(monkeypatch):
    from graphrnn.experiments import drnn

    splits = _tree_splits()
    fitting = _fit_counter(monkeypatch)
    calls = _record_scorer(monkeypatch, drnn, "retrieval", splits["test"], fitting)
    row = drnn.train_seq2tree(splits, epochs=2, hidden=8, seed=0, device="cpu")
    assert calls.count((False, True)) == 2  # dev, after each epoch, inside fit
    assert calls[-1] == (True, False) and calls.count((True, False)) == 1  # test once, after fit
    assert (True, True) not in calls
    assert row["best_epoch"] == 1 + max(range(2), key=row["dev_edge_f1_by_epoch"].__getitem__)


def test_drnn_selection_does_not_move_with_the_test_split():
    from graphrnn.experiments import drnn

    rows = [drnn.train_seq2tree(_tree_splits(seed), epochs=3, hidden=8, seed=0, device="cpu") for seed in (None, 7)]
    assert rows[0]["best_epoch"] == rows[1]["best_epoch"]
    assert rows[0]["dev_edge_f1_by_epoch"] == rows[1]["dev_edge_f1_by_epoch"]


def test_linearised_baseline_scores_test_once_after_fit(monkeypatch):
    from graphrnn.datasets.django import DjangoExample
    from graphrnn.experiments import drnn

    def example(words, labels, parents):
        return DjangoExample(words, labels, parents, "x")

    tree = (["Assign", "Name", "Const"], [-1, 0, 0])
    call = (["Expr", "Call", "Name"], [-1, 0, 1])
    draw = random.Random(0)
    make = lambda: example(["set", "x"], *tree) if draw.random() < 0.5 else example(["call", "f"], *call)  # noqa: E731
    splits = {"train": [make() for _ in range(40)], "dev": [make() for _ in range(10)],
              "test": [make() for _ in range(10)]}
    fitting = _fit_counter(monkeypatch)
    calls = _record_scorer(monkeypatch, drnn, "score_trees", splits["test"], fitting)
    drnn.train_linearised_baseline(splits, epochs=2, hidden=8, seed=0, device="cpu", min_count=1)
    assert (True, True) not in calls and calls.count((True, False)) == 1 and calls[-1] == (True, False)
    assert calls.count((False, True)) == 2


# ------------------------------------------------------------------ SIM group activity
def test_sim_scores_test_once_after_choosing_the_epoch_on_validation(monkeypatch):
    from graphrnn.experiments import sim

    data = sim.synthetic_data(40, 20, seed=0)
    probe = TrainerProbe(monkeypatch)
    fitting = _fit_counter(monkeypatch)  # wraps the probe's fit
    reads, real_evaluate = [], sim.evaluate
    monkeypatch.setattr(sim, "evaluate", lambda model, scenes, *a, **k: (
        reads.append((scenes is data.test, fitting[0] > 0)), real_evaluate(model, scenes, *a, **k))[1])
    row = sim.train_one(sim.Variant("sim", 2, gated=True), data, epochs=2, hidden=8, seed=0, device="cpu")
    assert reads == [(True, False)]  # test: once, after fit
    inside = probe.read(inside_fit=True)
    assert len(inside) == 2 and all(scenes is data.validation for scenes in inside)
    assert not probe.read(inside_fit=False)
    assert 1 <= row["best_epoch"] <= 2


# ------------------------------------------------------------------ MIXER
def _copy_task():
    """Copy a one-hot class into a 2-word caption; train / val / test are three different draws."""
    from graphrnn.experiments import mixer
    from graphrnn.models.seq2seq import seq2seq_pair

    vocab = Vocab(["a", "b", "c"])
    g = torch.Generator().manual_seed(0)

    def draw(count):
        pairs = []
        for _ in range(count):
            k = int(torch.randint(0, 3, (1,), generator=g))
            pairs.append(seq2seq_pair(None, torch.tensor([4 + k, 4 + (k + 1) % 3, Vocab.eos]),
                                      context=torch.eye(3)[k]))
        return pairs

    train, val, test = draw(48), draw(8), draw(9)

    def texts(pairs):
        return [" ".join(vocab.decode(p.tgt.tolist())) for p in pairs]

    def metric(hyps, refs):
        return 100.0 * sum(h == r for h, r in zip(hyps, refs)) / len(refs)

    reward = lambda hyps, refs: torch.tensor([float(h == r) for h, r in zip(hyps, refs)])  # noqa: E731
    return mixer.TaskData("captioning", train, val, test, vocab, 3, "vector", None, reward, metric, 3,
                          {"val": texts(val), "test": texts(test)}, "copy")


def test_mixer_scores_test_only_after_every_method_is_trained(monkeypatch, tmp_path):
    from graphrnn.experiments import mixer

    fitting = _fit_counter(monkeypatch)
    calls, real = [], mixer.score_outputs
    monkeypatch.setattr(mixer, "score_outputs", lambda task, outputs, split: (
        calls.append((split, fitting[0] > 0)), real(task, outputs, split))[1])
    settings = mixer.Settings(hidden=8, xent_epochs=1, mixed_epochs=1, delta=1, batch_size=8, beams=(1, 2),
                              lr=2e-2, methods=("xent", "mixer"))
    result = mixer.run(_copy_task(), settings, seed=0, out=tmp_path)
    assert ("test", True) not in calls  # never inside training
    # the shared XENT start's epochs, then each method's own, all scored on validation
    xent = settings.xent_epochs
    assert calls.count(("val", True)) == xent + sum(r["epochs"] - xent for r in result["rows"])
    # greedy and each beam for each of the two methods, each read once, and the oracle row
    assert calls.count(("test", False)) == 2 * (1 + len(settings.beams)) + 1
    scores = {r["method"]: r["val_score"] for r in result["rows"]}
    assert result["best_method"] == max(scores, key=scores.get)


# ------------------------------------------------------------------ method names
def test_method_names_chooses_the_epoch_on_validation_names_only(monkeypatch, tmp_path):
    from graphrnn.experiments import method_names

    rng = random.Random(0)
    for m in range(12):
        body = []
        for _ in range(8):
            word = rng.choice(["name", "size", "path"])
            kind = rng.choice([("get_{w}", "(self)", "    return self._{w}\n"),
                               ("set_{w}", "(self, v)", "    self._{w} = v\n")])
            body.append(f"def {kind[0].format(w=word)}{kind[1]}:\n{kind[2].format(w=word)}\n")
        (tmp_path / f"module_{m}.py").write_text("".join(body))
    from graphrnn.datasets.python_ast import read_python_functions, split_by_module

    _, val, test = split_by_module(read_python_functions(tmp_path)[0], seed=0, max_train_nodes=150)
    val_names, test_names = [e.target for e in val], [e.target for e in test]
    assert val_names != test_names
    training, calls = [0], []
    real_train, real_scores = method_names.train_and_select, method_names.subtoken_scores

    def train_and_select(*args, **kwargs):
        training[0] += 1
        try:
            return real_train(*args, **kwargs)
        finally:
            training[0] -= 1

    def subtoken_scores(predictions, golds):
        calls.append(("val" if golds == val_names else "test" if golds == test_names else "other", training[0] > 0))
        return real_scores(predictions, golds)

    monkeypatch.setattr(method_names, "train_and_select", train_and_select)
    monkeypatch.setattr(method_names, "subtoken_scores", subtoken_scores)
    models = method_names.MODELS[2:4]
    method_names.run(seed=0, root=tmp_path, epochs=2, hidden=8, models=models, log=lambda message: None)
    assert [c for c in calls if c[1]] == [("val", True)] * 4  # each model: validation F1 after each epoch
    # after training: the frequency baseline's k (chosen on val), test once per model, and the ceiling
    assert [c for c in calls if not c[1]] == [("val", False)] * 3 + [("test", False)] * 4


# ------------------------------------------------------------------ memory and HMM tagging (no selection)
def test_memory_reads_test_once_after_the_last_epoch(monkeypatch):
    from graphrnn.datasets.memory import remember_first_dataset
    from graphrnn.experiments import memory

    generator = torch.Generator().manual_seed(0)
    train, test = remember_first_dataset(64, 3, generator), remember_first_dataset(32, 3, generator)
    fitting = _fit_counter(monkeypatch)
    reads, real = [], memory.accuracy
    monkeypatch.setattr(memory, "accuracy", lambda model, data, device: (
        reads.append((data is test, fitting[0] > 0)), real(model, data, device))[1])
    memory.train_cell("lstm", 3, train, test, epochs=2, hidden=8, seed=0, device="cpu")
    assert reads == [(True, False)]


def test_hmm_taggers_map_states_on_train_and_read_test_once_each_after_fitting(monkeypatch):
    from graphrnn.experiments import hmm_tagging

    fitting, events = _fit_counter(monkeypatch), []
    real_sample, real_match = hmm_tagging.sample_hmm_dataset, hmm_tagging.match_states
    drawn = []

    def sample(*args, **kwargs):
        drawn.append(real_sample(*args, **kwargs))  # train first, then test
        return drawn[-1]

    def scorer(name, real):
        def wrapped(model, data, *args, **kwargs):
            events.append((name, "train" if data is drawn[0] else "test", fitting[0] > 0))
            return real(model, data, *args, **kwargs)
        return wrapped

    monkeypatch.setattr(hmm_tagging, "sample_hmm_dataset", sample)
    monkeypatch.setattr(hmm_tagging, "match_states", scorer("match", real_match))
    monkeypatch.setattr(hmm_tagging, "hmm_accuracy", scorer("hmm", hmm_tagging.hmm_accuracy))
    monkeypatch.setattr(hmm_tagging, "tagger_accuracy", scorer("tagger", hmm_tagging.tagger_accuracy))
    hmm_tagging.run(train_size=40, test_size=20, lengths=(5, 8), em_iterations=2, em_restarts=2, epochs=1, hidden=8,
                    device="cpu")
    assert events == [("hmm", "test", False), ("match", "train", False), ("hmm", "test", False),
                      ("hmm", "test", False), ("tagger", "test", False), ("tagger", "test", False)]
